"""Progress on long work: a bar in a terminal; outside one (make, CI logs, a pipe), a line on
stderr every :data:`EVERY` seconds with units done / total, the time so far and the time left
at the rate so far. Work shorter than that prints nothing."""

from __future__ import annotations

import os
import sys
import time
from typing import Iterable, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")
EVERY = 10.0  # seconds between lines outside a terminal: a 10-minute `make all` shows ~60 lines


def interactive() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


class Ticker:
    """``tick()`` once per finished unit; prints ``desc: 12/154 units, 40 s, about 3 min left``
    at most every ``every`` seconds (never in a terminal, where the bar shows it)."""

    def __init__(self, total: int, desc: str = "", every: float = EVERY, enabled: bool | None = None) -> None:
        self.total, self.desc, self.every = total, desc, every
        self.enabled = (not interactive()) if enabled is None else enabled
        self.done = 0
        self.started = self.last = time.monotonic()

    def tick(self, n: int = 1) -> str | None:
        self.done += n
        now = time.monotonic()
        if not self.enabled or now - self.last < self.every:
            return None
        self.last = now
        line = f"{self.desc}: {self.done}/{self.total} units, {_span(now - self.started)}"
        if 0 < self.done < self.total:
            line += f", about {_span((now - self.started) / self.done * (self.total - self.done))} left"
        print(line, file=sys.stderr, flush=True)
        return line


def _span(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def progress(iterable: Iterable[T], desc: str = "", total: int | None = None) -> Iterable[T]:
    if interactive():
        yield from tqdm(iterable, desc=desc, total=total, leave=False, dynamic_ncols=True)
        return
    ticker = Ticker(total or 0, desc)
    for item in iterable:
        yield item
        ticker.tick()
