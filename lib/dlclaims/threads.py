"""Thread counts for small tensor work.

Most analyses here run many small ops (a 20-dim SGD chain, a 256-unit MLP, an HVP on a
small net). With torch's default of one intra-op thread per core, the thread hand-offs
cost more than the arithmetic, and on a shared machine they thrash: the analyses measured
5-50x (SGD chains, HVPs) and up to 1000x (a batched mat-vec under load) slower with two
threads than with one. One thread also makes the numbers independent of the core count.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from threadpoolctl import threadpool_limits


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads and ``n`` BLAS threads under numpy/scipy."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(n):
            yield
    finally:
        torch.set_num_threads(before)


def one_thread() -> contextlib.AbstractContextManager[None]:
    """The setting for small tensor work; restores the previous counts afterwards."""
    return threads(1)
