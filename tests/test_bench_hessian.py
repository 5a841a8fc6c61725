"""Speed targets of the Hessian module (``make bench``): HVP/gradient ratios and HVP counts.

The benchmark MLP of the issue, 784-256-256-256-10 with Softplus(β=10) and He init, on a
batch of 512 real MNIST digits, one thread (on the shared 2-core machine a second thread
only adds contention). Ratios are taken within one test, so machine load cancels.
"""

from __future__ import annotations

import functools
import time
from collections import Counter, defaultdict
from typing import Callable

import pytest
import torch
from torch import nn

from dlclaims.methods import data, nets
import references
from dlclaims.suite import contract
from dlclaims.methods.hessian import loss_and_gradient, model_hessian, top_eigenpairs
from dlclaims.threads import one_thread

LOSS = nn.CrossEntropyLoss()
RATIO_LIMIT = {False: 1.7, True: 2.0}


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():
        yield


def benchmark_mlp(batch_norm: bool) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    net = nets.mlp([784, 256, 256, 256, 10], activation="softplus", batch_norm=batch_norm, generator=g)
    nets.he_uniform_(net, g)
    split = data.split("mnist", seed=0)
    return net, split.x_train[:512], split.y_train[:512]


def best_time(fn, repeats: int = 15) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


@pytest.mark.bench
@pytest.mark.parametrize("batch_norm", [False, True], ids=["plain", "bn-train"])
def test_hvp_costs_at_most_a_small_multiple_of_a_gradient(benchmark, batch_norm):
    net, x, y = benchmark_mlp(batch_norm)
    op = model_hessian(net, LOSS, x, y, mode="train")
    v = torch.randn(op.dim, generator=torch.Generator().manual_seed(1))
    gradient = best_time(lambda: loss_and_gradient(net, LOSS, x, y, "train"))
    benchmark.pedantic(op.matvec, args=(v,), rounds=15, warmup_rounds=1)
    hvp = benchmark.stats.stats.min
    ratio = hvp / gradient
    benchmark.extra_info.update(gradient_s=gradient, hvp_s=hvp, ratio=ratio)
    print(f"\nHVP/gradient ({'BN train' if batch_norm else 'no BN'}): {hvp * 1e3:.2f} ms / {gradient * 1e3:.2f} ms"
          f" = {ratio:.2f} (target <= {RATIO_LIMIT[batch_norm]})")
    assert ratio <= RATIO_LIMIT[batch_norm]


@pytest.mark.bench
def test_top10_by_lanczos_within_70_hvps_and_power_iteration_count(benchmark):
    net, x, y = benchmark_mlp(False)
    op = model_hessian(net, LOSS, x, y)
    res = benchmark.pedantic(lambda: top_eigenpairs(op.matvec, op.dim, 10, tol=1e-4, seed=0), rounds=1, iterations=1)
    power = top_eigenpairs(op.matvec, op.dim, 10, method="power", tol=1e-4, seed=0, max_iter=2000)
    benchmark.extra_info.update(lanczos_hvps=res.matvecs, power_hvps=power.matvecs, power_converged=power.converged)
    print(f"\ntop-10 to 1e-4: Lanczos {res.matvecs} HVPs (converged {res.converged}); "
          f"power iteration {power.matvecs} HVPs (converged {power.converged}); "
          f"eigenvalues {res.values.numpy().round(4)}")
    assert res.converged
    assert torch.allclose(power.values, res.values, rtol=1e-3)
    assert res.matvecs <= 70


@pytest.mark.bench
def test_lanczos_is_at_least_as_fast_and_accurate_as_eigsh_on_the_same_operator():
    """Issue 11, item 8: the hand-written Lanczos against ``scipy.sparse.linalg.eigsh`` on the
    benchmark MLP's Hessian operator, top 10 to relative Ritz residual 1e-4 (ARPACK's stopping
    criterion is the same), timed alternately in one run; then both solvers' eigenvalue errors
    against a machine-precision eigsh reference, ours at eigsh's product count."""
    net, x, y = benchmark_mlp(False)
    op = model_hessian(net, LOSS, x, y)
    times = {"ours": [], "eigsh": []}
    for _ in range(2):
        start = time.perf_counter()
        ours = top_eigenpairs(op.matvec, op.dim, 10, tol=1e-4, seed=0)
        times["ours"].append(time.perf_counter() - start)
        start = time.perf_counter()
        ref = references.eigsh_top(op.matvec, op.dim, 10, tol=1e-4, seed=0)
        times["eigsh"].append(time.perf_counter() - start)
    ratio = min(times["ours"]) / min(times["eigsh"])
    truth = references.eigsh_top(op.matvec, op.dim, 10, tol=0.0, seed=1).values
    same = top_eigenpairs(op.matvec, op.dim, 10, tol=0.0, seed=0, max_iter=ref.matvecs)
    err = {name: float(((r.values - truth).abs() / truth.abs()).max()) for name, r in
           (("ours at tol 1e-4", ours), ("eigsh at tol 1e-4", ref), (f"ours at {ref.matvecs} products", same))}
    print(f"\ntop-10 to 1e-4: ours {ours.matvecs} HVPs in {min(times['ours']):.2f} s, eigsh {ref.matvecs} HVPs in "
          f"{min(times['eigsh']):.2f} s: wall-time ratio ours / eigsh = {ratio:.2f} (target <= 1); relative "
          f"eigenvalue errors vs eigsh at machine precision: " + ", ".join(f"{k} {v:.1e}" for k, v in err.items()))
    assert ratio <= 1.0
    # both reach the float32 operator's noise floor (measured 1-2e-8 relative): compare above it
    assert err[f"ours at {ref.matvecs} products"] <= max(err["eigsh at tol 1e-4"], 1e-7)


def phase_timer() -> tuple[dict[str, float], Callable]:
    """(seconds by phase, ``timed(name, fn)``): ``fn`` wrapped to add its wall time to ``name``,
    less the time of timed calls nested inside it (each second counts once, to the innermost)."""
    seconds: dict[str, float] = defaultdict(float)
    nested: list[float] = []

    def timed(name: str, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            nested.append(0.0)
            try:
                return fn(*args, **kwargs)
            finally:
                spent = time.perf_counter() - start
                seconds[name] += spent - nested.pop()
                if nested:
                    nested[-1] += spent

        return wrapper

    return seconds, timed


@pytest.mark.bench
def test_bn_hessian_cost_split_and_default_run_estimate(monkeypatch):
    """Where a default bn-hessian run spends its time: one unit of each kind (seed 0's Hessian
    units, which also draw the init spectra and projections, apart from the other seeds'),
    timed by phase from the outside (the analysis's own functions wrapped with a timer:
    training, Lanczos with its Hessian graph, power iteration, projections, ...) and scaled by
    the number of such units (the wide conv nets of B5 and the MLP trained on for B1b-mlp among
    them); the estimated wall time on 2 workers must fit the family's 180 s."""
    bh = contract.load("bn-hessian")
    cfg = bh.Config()
    seconds, timed = phase_timer()
    phases = {(bh.models, "trained"): "training (partial, B1-B5)",
              (bh.measure, "top_eigenpairs"): "Lanczos (with its Hessian graph)",
              (bh.measure, "mean_gradient_overlap"): "class-mean gradients and overlaps",
              (bh.measure, "projected_lambda_max"): "projections",
              (bh.measure, "power_eigenpairs"): "power iteration",
              (bh.measure, "perturbation_study"): "perturbations",
              (bh.measure, "lr_stress"): "lr_stress",
              (bh.measure, "santurkar"): "santurkar",
              (nets, "refresh_bn_statistics_"): "frozen statistics"}
    for (module, name), phase in phases.items():
        monkeypatch.setattr(module, name, timed(phase, getattr(module, name)))

    def kind(unit: dict) -> tuple:
        return unit["part"], unit.get("model"), unit.get("variant"), unit["part"] == "hessian" and unit["seed"] == 0

    count = Counter(kind(unit) for unit in bh.units(cfg))
    split: dict[str, float] = defaultdict(float)
    total, timed_kinds = 0.0, set()
    for unit in bh.units(cfg):
        if kind(unit) in timed_kinds:
            continue
        timed_kinds.add(kind(unit))
        seconds.clear()
        start = time.perf_counter()
        bh.run_unit(cfg, unit)
        total += count[kind(unit)] * (time.perf_counter() - start)
        for name, value in seconds.items():
            split[name] += count[kind(unit)] * value
    split["other (data, building nets, tables)"] = total - sum(split.values())
    print(f"\nbn-hessian default run, estimated from one unit of each kind: {total:.0f} core-seconds, "
          f"{total / 2:.0f} s on 2 workers (target <= 180 s). Split: "
          + ", ".join(f"{k} {v / total:.0%}" for k, v in sorted(split.items(), key=lambda kv: -kv[1])))
    assert total / 2 <= 180
