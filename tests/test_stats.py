import numpy as np
import pytest

from dlclaims import stats


def test_mean_ci_covers_the_true_mean_about_95_percent():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(2000):
        est = stats.mean_ci(rng.normal(3.0, 2.0, size=5))
        hits += est.ci_low <= 3.0 <= est.ci_high
    assert 0.93 < hits / 2000 < 0.97


def test_mean_ci_respects_bounds_and_columns_agree():
    est = stats.mean_ci([1.0, 1.0, 0.4], bounds=(0, 1))
    assert est.ci_high == 1.0 and est.ci_low < est.value
    x = np.random.default_rng(1).normal(size=(6, 3))
    mean, low, high = stats.mean_ci_columns(x)
    for j in range(3):
        e = stats.mean_ci(x[:, j])
        assert (mean[j], low[j], high[j]) == pytest.approx((e.value, e.ci_low, e.ci_high))


def test_proportion_ci_is_wilson():
    est = stats.proportion_ci(0, 20)
    assert est.value == 0 and est.ci_low == 0 and 0.15 < est.ci_high < 0.17  # Wilson: 0.161
    for n in (1, 7, 80, 200, 1000):
        assert stats.proportion_ci(n, n).ci_high == 1.0


def test_slopes_recover_a_power_law():
    x = np.array([1, 2, 4, 8, 16.0])
    est = stats.loglog_slope_ci(x, 3 * x**-0.5 * np.exp([0.01, -0.01, 0.02, 0.0, -0.02]))
    assert est.ci_low < -0.5 < est.ci_high
    reps = np.stack([2 * x**1.0 * (1 + 0.01 * k) for k in range(4)])
    assert stats.loglog_slope_ci(x, reps).value == pytest.approx(1.0)


def test_bootstrap_ci_brackets_the_statistic():
    x = np.random.default_rng(2).exponential(size=200)
    est = stats.bootstrap_ci(x, np.median, n_boot=500)
    assert est.ci_low < est.value < est.ci_high
    assert est.ci_low < np.log(2) < est.ci_high
