"""The ``dlclaims`` command's first lines: signals and the plotting backend set before any
heavy import, so an interrupt at any instant (even while torch loads) is one line.

SIGTERM (``timeout``, ``kill``, batch schedulers) is handled like Ctrl-C: the run stops, its
workers are killed, the previous results stay. The plotting backend is always Agg: the suite
draws files, never windows, and a backend inherited from a notebook (``MPLBACKEND``) must not
break it.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Sequence

INTERRUPTED = "dlclaims: interrupted; previous results left intact"


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    os.environ["MPLBACKEND"] = "Agg"
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        from dlclaims.suite import cli

        return cli.main(argv)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130


def console() -> None:
    """The console script: exit with :func:`main`'s status. After an interrupt the process
    leaves at once: an import cut short can leave the interpreter's shutdown to die of the same
    SIGINT (status -2 instead of 130), and nothing is left to clean up (scratch folders are
    removed, results swapped or not, as the run unwound)."""
    status = main()
    if status == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    raise SystemExit(status)


if __name__ == "__main__":
    console()
