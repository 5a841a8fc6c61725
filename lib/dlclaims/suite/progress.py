"""Progress bars for long loops: shown in a terminal, silent in pipes and under CI."""

from __future__ import annotations

import os
import sys
from typing import Iterable, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def interactive() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


def progress(iterable: Iterable[T], desc: str = "", total: int | None = None) -> Iterable[T]:
    return tqdm(iterable, desc=desc, total=total, disable=not interactive(), leave=False, dynamic_ncols=True)
