"""Vectorised SGD chains, their random streams and the problems."""

import numpy as np
import pytest
import torch

from dlclaims.methods import chains


@pytest.fixture(scope="module")
def ls():
    return chains.least_squares("ls", 2000, 5, np.ones(5), noise=1.0, seed=0)


def test_index_streams_are_per_chain_and_uniform():
    a = chains.chain_indices([7, 8, 9], 100, 50, 2, 1000)
    b = chains.chain_indices([8], 100, 50, 2, 1000)
    np.testing.assert_array_equal(a[1], b[0])
    split = np.concatenate([chains.chain_indices([8], 100, 20, 2, 1000), chains.chain_indices([8], 120, 30, 2, 1000)], 1)
    np.testing.assert_array_equal(split[0], b[0])
    counts = np.bincount(chains.chain_indices(np.arange(100), 0, 1000, 1, 10).ravel(), minlength=10)
    assert counts.min() > 9_500 and counts.max() < 10_500  # 10⁵ draws per cell, sd ≈ 95


@pytest.mark.parametrize("batch", [1, 3])
def test_vectorised_chains_match_a_chain_run_alone(ls, batch):
    schedule = chains.Schedule(np.array([0.01, 0.05, 0.02]), np.array([1.0, 1.0, 5.0]), np.array([0.0, 0.0, 0.5]))
    many = chains.run_chains(ls, torch.zeros(5), schedule, [11, 12, 13], 700, batch=batch, log_at=[0, 350, 700],
                             chunk=128)
    alone = chains.run_chains(ls, torch.zeros(5), chains.Schedule(*(v[1:2] for v in (schedule.a, schedule.k0,
                                                                                       schedule.p))),
                              [12], 700, batch=batch, log_at=[0, 350, 700], chunk=512)
    torch.testing.assert_close(many.x_last[1], alone.x_last[0], rtol=0, atol=1e-13)
    np.testing.assert_allclose(many.gap_last[:, 1], alone.gap_last[:, 0], rtol=1e-12)


def test_zero_noise_sgd_converges_to_the_optimum():
    p = chains.least_squares("clean", 500, 4, np.ones(4), noise=0.0, seed=1)
    trace = chains.run_chains(p, torch.zeros(4), chains.Schedule.constant(0.1), np.arange(8), 3000)
    assert float((trace.x_last - p.x_star).abs().max()) < 1e-8
    assert trace.gap_last.max() < 1e-15


def test_logistic_optimum_is_stationary():
    p = chains.logistic("lg", 3000, 6, weight_norm=2.0, l2=0.01, seed=0)
    assert float(chains.full_gradient(p, p.x_star[None]).abs().max()) < 1e-10
    assert float(chains.excess(p, p.x_star[None] + 0.01).min()) > 0


def test_running_average_and_gradient_logging(ls):
    trace = chains.run_chains(ls, torch.zeros(5), chains.Schedule.constant(0.0), [1, 2], 10, log_at=[0, 10])
    np.testing.assert_allclose(trace.gap_last, trace.gap_avg)  # zero step: nothing moves
    assert trace.grad_sq.shape == (2, 2) and np.all(trace.grad_sq > 0)


def test_gd_on_least_squares_converges(ls):
    k, gaps = chains.run_gd(ls, torch.zeros(5), 1 / chains.smoothness(ls), 200, [0, 200])
    assert gaps[-1] < 1e-12 * gaps[0]


def test_average_is_step_weighted_for_a_decaying_schedule(ls):
    """x̂_k = Σ α_i x_i / Σ α_i, replayed by hand from the chain's own index stream."""
    schedule = chains.Schedule(np.array([0.05]), np.array([3.0]), np.array([1.0]))
    steps, seed = 40, 21
    trace = chains.run_chains(ls, torch.zeros(5), schedule, [seed], steps, log_at=[steps])
    idx = chains.chain_indices([seed], 0, steps, 1, ls.n)[0, :, 0]
    alphas = schedule.steps(0, steps + 1)[:, 0]
    x, xs = torch.zeros(5, dtype=torch.float64), []
    for k in range(steps + 1):
        xs.append(x.clone())
        if k < steps:
            a = ls.A[idx[k]]
            x = x - alphas[k] * a * (a @ x - ls.y[idx[k]])
    weighted = sum(w * xi for w, xi in zip(alphas, xs)) / alphas.sum()
    uniform = sum(xs) / len(xs)
    torch.testing.assert_close(trace.x_last[0], x, rtol=0, atol=1e-12)
    expected = float(chains.excess(ls, weighted[None])[0])
    assert trace.gap_avg[-1, 0] == pytest.approx(expected, rel=1e-9)
    assert abs(float(chains.excess(ls, uniform[None])[0]) - expected) > 1e-3 * expected  # the weights matter


def test_average_is_evaluated_only_where_asked(ls):
    trace = chains.run_chains(ls, torch.zeros(5), chains.Schedule.constant(0.01), [1, 2], 20, log_at=[0, 10, 20],
                              average_at=[20])
    assert np.isnan(trace.gap_avg[:2]).all() and np.isfinite(trace.gap_avg[2]).all()
    assert np.isfinite(trace.gap_last).all()


def test_logistic_loss_matches_its_definition():
    p = chains.logistic("lg", 500, 4, weight_norm=2.0, l2=0.01, seed=2)
    X = torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    A, t = p.A.numpy(), p.y.numpy()
    z = X.numpy() @ A.T
    direct = np.mean(np.log1p(np.exp(z)) - t * z, axis=1) + 0.005 * (X.numpy() ** 2).sum(1)
    np.testing.assert_allclose(chains.loss(p, X).numpy(), direct, rtol=1e-13)


def test_gd_stops_at_round_off_when_asked(ls):
    grid = [0, 10, 100, 1000, 5000]
    k, gaps = chains.run_gd(ls, torch.zeros(5), 1 / chains.smoothness(ls), 5000, grid, stop_below=1e-20)
    assert list(k) == grid[: len(gaps)] and len(gaps) < len(grid) and gaps[-1] <= 1e-20 < gaps[-2]


@pytest.mark.parametrize("kind, batch", [("least_squares", 1), ("least_squares", 3), ("logistic", 1), ("logistic", 4)])
def test_grad_sq_is_the_squared_norm_of_the_drawn_minibatch_gradient(kind, batch):
    """grad_sq at x_k is ‖(1/b) Σ_{i in batch k} ∇f_i(x_k) + λ x_k‖², replayed in numpy on a tiny problem
    with explicit per-example gradients along the chain's own index stream and step sizes."""
    if kind == "least_squares":
        p = chains.least_squares("tiny", 30, 3, np.array([1.0, 0.5, 0.2]), noise=0.5, seed=4)
    else:
        p = chains.logistic("tiny", 40, 3, weight_norm=1.5, l2=0.05, seed=4)
    a, k0, power = 0.3, 2.0, 0.5  # α_k = a / (k + k0)^power
    seeds, steps, log_at = [5, 9], 12, [0, 1, 5, 12]
    x0 = torch.tensor([0.3, -0.2, 0.1], dtype=torch.float64)
    trace = chains.run_chains(p, x0, chains.Schedule(np.array([a]), np.array([k0]), np.array([power])), seeds, steps,
                              batch=batch, log_at=log_at)
    A, y = p.A.numpy(), p.y.numpy()
    idx = chains.chain_indices(seeds, 0, steps + 1, batch, p.n)  # (C, steps + 1, b)
    expected = np.empty((len(log_at), len(seeds)))
    for c in range(len(seeds)):
        x = x0.numpy().copy()
        for k in range(steps + 1):
            per_example = []
            for i in idx[c, k]:
                z = float(A[i] @ x)
                dz = z - y[i] if kind == "least_squares" else 1.0 / (1.0 + np.exp(-z)) - y[i]
                per_example.append(dz * A[i] + p.l2 * x)
            g = np.mean(per_example, axis=0)
            if k in log_at:
                expected[log_at.index(k), c] = float(g @ g)
            x = x - a / (k + k0) ** power * g
    np.testing.assert_allclose(trace.grad_sq, expected, rtol=1e-12)
    assert np.all(np.diff(expected[:, 0]) != 0)  # the replay moves: a stale gradient would not match
