"""How to run hundreds of short training runs (adaptive-optimisers' lr grids), measured (make bench).

Three ways to train the same 23-point learning-rate grid of a 64-64-10 MLP with Adam for 200
steps on digits, one thread each: (1) one model per rate with torch.optim, one after another,
which is what each worker process does if runs are the units; (2) vmap of grad over stacked
per-replicate parameters (torch.func); (3) the replicate axis of lib/dlclaims/replicas.py (batched
matmul, per-replicate rate in the update rule). The analysis uses (3) because it is the fastest
per core; worker processes then take seeds × optimisers.
"""

import time

import pytest
import torch

from dlclaims.methods import data
import references
from dlclaims.threads import one_thread

SIZES, STEPS, BATCH = (64, 64, 10), 200, 32


@pytest.fixture(scope="module")
def digits():
    split = data.split("digits")
    return split.x_train, split.y_train


def timed(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


@pytest.mark.bench
def test_replicate_axis_beats_one_model_per_run_and_vmap(benchmark, digits):
    lrs = torch.logspace(-5, 0.5, 23)
    x, y = digits
    with one_thread():
        torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])  # pay torch.optim's one-time import outside the timing
        loop = min(timed(references.train_one_at_a_time, lrs, SIZES, x, y, STEPS, BATCH) for _ in range(2))
        vmap = min(timed(references.train_vmap, lrs, SIZES, x, y, STEPS, BATCH) for _ in range(2))
        benchmark.pedantic(references.train_replicated, args=(lrs, SIZES, x, y, STEPS, BATCH), rounds=3, iterations=1)
    replicated = benchmark.stats["min"]
    benchmark.extra_info.update(loop_seconds=loop, vmap_seconds=vmap, loop_ratio=loop / replicated,
                                vmap_ratio=vmap / replicated)
    print(f"\n23 lrs x {STEPS} steps: one model per run {loop:.2f} s, vmap {vmap:.2f} s, "
          f"replicate axis {replicated:.2f} s (x{loop / replicated:.1f}, x{vmap / replicated:.1f})")
    assert loop / replicated >= 2 and vmap / replicated >= 1.5
