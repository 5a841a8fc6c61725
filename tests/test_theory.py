"""The exact stationary theory of mini-batch SGD on least squares."""

import numpy as np
import pytest
import torch

from dlclaims.methods import chains, sgd_theory
import references


def small_problem(n=40, d=3, noise=0.5, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d)) * np.array([1.0, 0.7, 0.4])[:d]
    y = A @ rng.standard_normal(d) + noise * rng.standard_normal(n)
    return A, y


@pytest.mark.parametrize("batch", [1, 3])
def test_one_dimensional_closed_form(batch):
    A, y = small_problem(d=1)
    exact = references.sgd_stationary_excess(A, y, 0.2, batch)
    assert exact == pytest.approx(references.scalar_stationary_excess(A[:, 0], y, 0.2, batch), rel=1e-12)


def test_zero_noise_has_zero_plateau():
    A, _ = small_problem()
    y = A @ np.array([1.0, -2.0, 0.5])
    assert abs(references.sgd_stationary_excess(A, y, 0.1, 1)) < 1e-20


def test_unstable_step_is_refused():
    A, y = small_problem()
    with pytest.raises(ValueError, match="unstable"):
        references.sgd_stationary_excess(A, y, 5.0, 1)


def test_covariance_is_symmetric_positive():
    A, y = small_problem()
    sigma = references.sgd_stationary_covariance(A, y, 0.1, 2)
    np.testing.assert_allclose(sigma, sigma.T)
    assert np.linalg.eigvalsh(sigma).min() > 0


@pytest.mark.parametrize("batch", [1, 4])
def test_agrees_with_long_simulation(batch):
    """Time-averaged excess of 512 chains after burn-in, against the exact value, within the MC CI.

    A small problem, so b > 1 with replacement differs visibly from without replacement:
    the test would catch the wrong fourth-moment weighting.
    """
    A, y = small_problem(n=12)
    step = 0.3
    exact = references.sgd_stationary_excess(A, y, step, batch)
    p = chains.Problem("small", "least_squares", torch.as_tensor(A), torch.as_tensor(y))
    p = chains._solve(p)
    steps = 6000
    trace = chains.run_chains(p, torch.zeros(3), chains.Schedule.constant(step), np.arange(512), steps,
                              batch=batch, log_at=np.arange(1000, steps + 1, 10))
    per_chain = trace.gap_last.mean(0)
    mean, half = per_chain.mean(), 1.96 * per_chain.std(ddof=1) / np.sqrt(per_chain.size)
    assert abs(mean - exact) < max(half, 1e-3 * exact), (mean, half, exact)
    # and with-replacement sampling matters here: the b = 1 value is a different number
    if batch > 1:
        assert abs(references.sgd_stationary_excess(A, y, step, 1) / batch - exact) > 3 * half


def test_noise_path_settles_to_the_stationary_excess():
    A, y = small_problem()
    th = sgd_theory.StationaryTheory(A, y)
    path = th.noise_path(np.full(4000, 0.1), [0, 4000])
    assert path[0] == 0
    assert path[1] == pytest.approx(th.excess(0.1, 1), rel=1e-10)


def test_noise_path_agrees_with_chains_started_at_the_optimum():
    """A decaying schedule from x*: 1024 chains against the exact recursion, within the MC CI."""
    A, y = small_problem(n=12)
    p = chains._solve(chains.Problem("small", "least_squares", torch.as_tensor(A), torch.as_tensor(y)))
    schedule = chains.Schedule(np.array([0.3]), np.array([1.0]), np.array([0.5]))
    steps, log_at = 400, [50, 400]
    exact = sgd_theory.StationaryTheory(A, y).noise_path(schedule.steps(0, steps)[:, 0], log_at)
    trace = chains.run_chains(p, p.x_star, schedule, np.arange(1024), steps, log_at=log_at, average_at=[])
    for t, value in enumerate(exact):
        gaps = trace.gap_last[t]
        half = 1.96 * gaps.std(ddof=1) / np.sqrt(gaps.size)
        assert abs(gaps.mean() - value) < max(half, 1e-3 * value), (log_at[t], gaps.mean(), half, value)
