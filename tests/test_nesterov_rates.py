"""nesterov-rates: the worst cases, the counterexample and the helpers, plus one smoke run at --quick."""

from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd
import pytest
import torch

from dlclaims import analysis

nr = analysis.load("nesterov-rates")
F64 = torch.float64


def quick_cfg(**kw):
    args = argparse.Namespace(quick=True, seeds=None, max_horizon=None, kappa_max=None, device="cpu")
    for k, v in kw.items():
        setattr(args, k, v)
    return nr.configure(args)


def test_nesterov_worst_case_matches_its_dense_form():
    k = 9
    q = nr.nesterov_worst_case(k, L=2.0)
    A = (2.0 / 4) * (2 * torch.eye(k, dtype=F64) - torch.diag(torch.ones(k - 1, dtype=F64), 1)
                     - torch.diag(torch.ones(k - 1, dtype=F64), -1))
    x = torch.randn(k, dtype=F64, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(q.apply(x), A @ x)
    # x* solves A x = (L/4) e1, and ‖A‖ ≤ L
    e1 = torch.zeros(k, dtype=F64)
    e1[0] = 2.0 / 4
    assert torch.allclose(A @ q.x_star, e1)
    assert torch.linalg.eigvalsh(A).max() <= 2.0


def test_krylov_lower_bound_holds_for_nag_on_the_worst_case():
    """Any first-order method from 0: f(x_T) − f* ≥ 3 L R²/(32 (T+1)²) on dimension 2T+1."""
    for T in (4, 16, 50):
        q = nr.nesterov_worst_case(2 * T + 1)
        R2 = float((q.x_star**2).sum())
        (_, gap), = nr.run_convex(q, torch.zeros(2 * T + 1, dtype=F64), "nag", T, [T], 1.0)
        assert float(gap) >= 3 * R2 / (32 * (T + 1) ** 2)
        assert float(gap) <= 2 * R2 / (T + 1) ** 2


def test_gd_worst_1d_grid_reaches_the_closed_form():
    cfg = quick_cfg()
    table = nr.e1_worst_cases(cfg)
    gd = table[(table.instance == "worst_1d_quadratic") & (table.method == "gd")]
    ratio = gd.gap_over_LR2 / gd.closed_form_gd_1d
    assert (ratio <= 1 + 1e-12).all() and (ratio > 0.999).all()


def test_lessard_function_is_smooth_and_strongly_convex():
    x = torch.linspace(-4, 5, 2001, dtype=F64)
    g = nr.lessard_grad(x)
    slopes = torch.diff(g) / torch.diff(x)
    assert slopes.min() >= 1 - 1e-9 and slopes.max() <= 25 + 1e-9
    # f is the integral of the gradient: continuous at the breakpoints
    for b in (1.0, 2.0):
        left, right = nr.lessard_f(torch.tensor(b - 1e-9, dtype=F64)), nr.lessard_f(torch.tensor(b, dtype=F64))
        assert abs(float(left - right)) < 1e-6


def test_heavy_ball_cycles_on_lessard_while_nag_converges():
    paths = nr.lessard_runs(torch.tensor([3.2], dtype=F64), 600)
    hb_tail = paths["heavy_ball"][-60:, 0].numpy()
    assert nr.detect_cycle(hb_tail) == 3
    assert np.ptp(hb_tail) > 1
    assert abs(float(paths["nag"][-1, 0])) < 1e-12


def test_detect_cycle():
    assert nr.detect_cycle(np.tile([1.0, 2.0, 3.0], 20)) == 3
    assert nr.detect_cycle(np.zeros(30)) == 1
    assert nr.detect_cycle(np.linspace(0, 1, 40)) == 0


def test_iterations_to_counts_the_first_hit():
    # GD on λx²/2 with λ = 0.5, η = 1: gap ratio 0.25^k ≤ 1e-3 first at k = 5
    state = torch.ones(1, 1, dtype=F64)
    its = nr.iterations_to(lambda s, k: (s[0] * 0.5,), (state,), lambda x: 0.25 * (x * x).sum(-1), 1e-3, 100)
    assert its.tolist() == [5.0]
    never = nr.iterations_to(lambda s, k: s, (state,), lambda x: (x * x).sum(-1), 1e-3, 10)
    assert math.isnan(never[0])


def test_logistic_gradient_matches_autograd():
    X, y, lam, L, null = nr.logistic_problem(0, 100.0, 8, 16)
    w = np.random.default_rng(0).standard_normal(16)
    wt = torch.tensor(w, requires_grad=True)
    loss = torch.nn.functional.softplus(-torch.tensor(y) * (torch.tensor(X) @ wt)).mean() + lam / 2 * (wt * wt).sum()
    loss.backward()
    f, g, _ = nr.logistic_loss_np(w, X, y, lam)
    assert f == pytest.approx(loss.detach().item(), rel=1e-12)
    assert np.allclose(g, wt.grad.numpy(), atol=1e-12)
    assert L / lam == pytest.approx(100.0)
    assert np.allclose(X @ null, 0, atol=1e-12)  # the projector really is onto the null space


def test_configure_rejects_too_few_seeds():
    with pytest.raises(ValueError):
        quick_cfg(seeds=1)


def test_quick_run_writes_every_claim(tmp_path):
    out = analysis.run(nr, ["--quick", "--out", str(tmp_path)], quiet=True)
    claims = pd.read_csv(out / "claims.csv")
    assert list(claims.claim) == [c.id for c in nr.CLAIMS]
    assert set(claims.verdict) <= {"holds", "fails", "inconclusive"}
    for png in ("gap_vs_horizon", "iterations_vs_kappa", "lessard_cycle", "zigzag", "step_sizes"):
        assert (out / f"{png}.png").exists()
    forms = pd.read_csv(out / "nesterov_forms.csv")
    assert (forms.max_abs_diff <= 1e-12).all()


@pytest.mark.bench
def test_bench_quick_compute(benchmark):
    cfg = quick_cfg()
    benchmark.pedantic(nr.compute, args=(cfg,), rounds=1, iterations=1)


@pytest.mark.bench
@pytest.mark.parametrize("threads", [1, 0])
@pytest.mark.parametrize("how", ["mul_sum", "einsum"])
def test_bench_batched_matvec(benchmark, how, threads):
    """Why compute() runs single-threaded and matvec() multiplies and sums: the logistic
    batch shape, one torch thread vs torch's default (threads = 0)."""
    X = torch.randn(70, 16, 32, dtype=F64)
    w = torch.randn(70, 32, dtype=F64)
    f = (lambda: nr.matvec(X, w)) if how == "mul_sum" else (lambda: torch.einsum("bnd,bd->bn", X, w))
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        benchmark(f)
    finally:
        torch.set_num_threads(before)
