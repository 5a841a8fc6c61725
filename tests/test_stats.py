import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from dlclaims.suite import stats
from dlclaims.suite.claims import Claim, Estimate, at_least, at_most, between


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


def test_wilson_matches_the_textbook_formula():
    z = 1.959963984540054
    for k, n in ((3, 10), (17, 40), (0, 5)):
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
        est = stats.proportion_ci(k, n)
        assert (est.ci_low, est.ci_high) == pytest.approx((max(0, centre - half), centre + half), abs=1e-12)


def test_bootstrap_is_scipys_bca():
    from scipy import stats as sps

    x = np.random.default_rng(3).lognormal(size=30)
    ref = sps.bootstrap((x,), np.mean, n_resamples=999, method="BCa", rng=np.random.default_rng(0))
    est = stats.bootstrap_ci(x, np.mean, n_boot=999, seed=0)
    assert (est.ci_low, est.ci_high) == pytest.approx((ref.confidence_interval.low, ref.confidence_interval.high),
                                                      rel=1e-9)


def test_bootstrap_over_rows_keeps_pairs_together():
    rng = np.random.default_rng(4)
    a = rng.normal(10, 1, size=40)
    pairs = np.c_[a, a + 0.5 + rng.normal(0, 0.01, size=40)]  # b − a is 0.5 with tiny noise
    est = stats.bootstrap_ci(pairs, lambda s: float((s[:, 1] - s[:, 0]).mean()), n_boot=500)
    assert 0.49 < est.ci_low < est.value < est.ci_high < 0.51


def test_paired_contrasts_are_t_intervals_of_the_per_seed_differences_and_log_ratios():
    from scipy import stats as sps

    a = np.array([2.0, 3.0, 4.0, 5.0])
    b = np.array([1.0, 1.5, 2.5, 2.0])
    diff = stats.paired_difference(a, b)
    ref = sps.ttest_rel(a, b).confidence_interval()
    assert (diff.ci_low, diff.ci_high) == pytest.approx((ref.low, ref.high))
    ratio = stats.paired_ratio(a, b)
    logs = sps.ttest_1samp(np.log(a / b), 0).confidence_interval()
    assert ratio.value == pytest.approx(np.exp(np.log(a / b).mean()))
    assert (ratio.ci_low, ratio.ci_high) == pytest.approx((np.exp(logs.low), np.exp(logs.high)))
    assert stats.geometric_mean_ci([1.0, 4.0]).value == pytest.approx(2.0)
    with pytest.raises(ValueError, match="shape"):
        stats.paired_difference(a, b[:3])
    with pytest.raises(ValueError, match="non-positive"):
        stats.geometric_mean_ci([1.0, 0.0])


def test_worst_fails_when_one_group_fails_and_holds_only_when_all_hold():
    from dlclaims.suite.claims import Estimate, at_most

    fine, bad = Estimate(0.5, 0.4, 0.6), Estimate(2.0, 1.8, 2.2)
    assert at_most(1).verdict(stats.worst([fine, fine])) == "holds"
    assert at_most(1).verdict(stats.worst([fine, bad])) == "fails"
    assert stats.worst([fine, bad], largest=False) == Estimate(0.5, 0.4, 0.6)


def test_per_seed_and_band_pivot_a_tidy_table():
    import pandas as pd

    table = pd.DataFrame(dict(seed=[1, 0, 1, 0, 0], layer=[2, 1, 1, 2, 1], v=["a", "a", "a", "a", "b"],
                              x=[4.0, 1.0, 3.0, 2.0, 9.0]))
    assert stats.per_seed(table, "x", by="layer", v="a").tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert stats.per_seed(table, "x", v="a", layer=1).tolist() == [1.0, 3.0]
    with pytest.raises(ValueError, match="several rows"):
        stats.per_seed(table, "x", layer=1)
    x, mean, low, high = stats.band(table, "layer", "x", v="a")
    assert x.tolist() == [1, 2] and mean.tolist() == [2.0, 3.0] and (low < mean).all() and (mean < high).all()


@pytest.mark.parametrize("mean, sd, threshold", [(0.6, 0.2, 0.5), (0.3, 0.05, 0.5), (1.2, 1.0, 0.0)])
def test_seeds_to_decide_is_where_the_t_interval_first_clears_the_threshold(mean, sd, threshold):
    # the reference: mean_ci on samples with exactly the measured mean and spread, at n and n - 1
    def interval(n):
        z = np.linspace(-1, 1, n)
        return stats.mean_ci(mean + (z - z.mean()) * sd / z.std(ddof=1))

    n = int(stats.seeds_to_decide(mean + np.array([-1.0, 1.0, 0.0]) * sd, threshold))
    assert not interval(n).ci_low <= threshold <= interval(n).ci_high
    assert interval(n - 1).ci_low <= threshold <= interval(n - 1).ci_high
    assert stats.seeds_to_decide([0.4, 0.6, 0.5], 0.5) == float("inf")


# --- every group, censored medians, summaries, per-seed samples ---------------------------------

def _est(v, lo, hi):
    return Estimate(v, lo, hi)


@pytest.mark.parametrize("groups, verdict", [
    ([(1.0, 0.95, 1.05), (1.1, 1.02, 1.18)], "holds"),       # every group inside [0.8, 1.25]
    ([(1.0, 0.95, 1.05), (1.5, 1.3, 1.7)], "fails"),         # one group wholly outside
    ([(1.0, 0.95, 1.05), (1.2, 1.1, 1.4), (0.5, 0.4, 0.6)], "fails"),  # one outside, one straddling
    ([(1.0, 0.95, 1.05), (1.2, 1.1, 1.4)], "inconclusive"),  # none outside, one straddling
])
def test_every_group_is_the_conjunction_of_the_groups_verdicts(groups, verdict):
    rule = between(0.8, 1.25)
    estimates = [_est(*g) for g in groups]
    expected = ("fails" if any(rule.verdict(e) == "fails" for e in estimates) else
                "holds" if all(rule.verdict(e) == "holds" for e in estimates) else "inconclusive")
    assert expected == verdict
    assert rule.verdict(stats.every_group(estimates, rule)) == verdict
    one_sided = at_least(0.9)
    assert one_sided.verdict(stats.every_group(estimates, one_sided)) == one_sided.verdict(
        stats.worst(estimates, largest=False))


def test_the_censored_median_uses_scipys_order_statistic_interval():
    values = np.array([3.0, 5, 7, 9, 11, 13, np.inf, np.inf, 2, 4, 6, 8])
    est = stats.median_ci(values)
    ci = sps.quantile_test(values, q=0, p=0.5).confidence_interval(0.95)
    assert est.value == np.median(values) and (est.ci_low, est.ci_high) == (ci.low, ci.high)
    assert np.isnan(stats.median_ci([1.0, 2.0, 3.0]).ci_low)  # too few replicates for 95%


def test_summary_gives_one_row_per_group_with_its_t_interval():
    table = pd.DataFrame(dict(g=["a"] * 4 + ["b"] * 3, y=[1.0, 2, 3, 4, 10, 10, 10]))
    out = stats.summary(table, ["g"], "y").set_index("g")
    ref = stats.mean_ci([1.0, 2, 3, 4])
    assert out.loc["a", "n"] == 4 and out.loc["a", "mean"] == 2.5 and out.loc["a", "ci_low"] == ref.ci_low
    assert out.loc["b", "ci_low"] == out.loc["b", "ci_high"] == 10


def test_estimates_carry_their_per_seed_samples_on_their_own_scale():
    a, b = np.array([2.0, 4.0, 8.0]), np.array([1.0, 1.0, 2.0])
    assert stats.mean_ci(a).samples == (2.0, 4.0, 8.0) and stats.mean_ci(a).scale == "mean"
    ratio = stats.paired_ratio(a, b)
    assert ratio.scale == "log" and np.allclose(ratio.samples, np.log(a / b))
    assert stats.paired_difference(a, b).samples == (1.0, 3.0, 6.0)


def test_the_seed_table_says_how_many_seeds_would_decide_each_row():
    claims = [Claim("X1", "lecture", "s", "mean", at_least(0.5)), Claim("X2", "derived", "s", "ratio", at_most(1.0)),
              Claim("X3", "check", "s", "exact", at_most(1e-6))]
    x1 = np.array([0.52, 0.61, 0.47, 0.58])
    estimates = {"X1": stats.mean_ci(x1), "X2": stats.geometric_mean_ci([0.5, 0.6, 0.55]),
                 "X3": Estimate.exact(0.0)}
    table = stats.seed_table(claims, estimates).set_index("claim")
    assert list(table.index) == ["X1", "X2"]  # an exact check has no seeds
    assert table.seeds_to_decide["X1"] == stats.seeds_to_decide(x1, 0.5)
    assert table.summary["X2"] == "log"
    assert table.seeds_to_decide["X2"] == stats.seeds_to_decide(np.log([0.5, 0.6, 0.55]), 0.0)


def test_an_interval_without_samples_is_scaled_as_one_over_root_n():
    est = Estimate(0.55, 0.45, 0.70, n=10)  # 0.1 below the value, where the rule's boundary 0.5 lies
    need = stats.scaled_seeds_to_decide(est, 0.5)
    assert need == 40  # 10 · (0.1 / 0.05)²: the half-width halves at four times the replicates
    assert 0.1 * (10 / need) ** 0.5 <= 0.05 < 0.1 * (10 / (need - 1)) ** 0.5
    claims = [Claim("X", "lecture", "s", "bootstrap statistic", at_least(0.5))]
    table = stats.seed_table(claims, {"X": est})
    assert table.summary.tolist() == ["scaled"] and table.seeds_to_decide.tolist() == [40.0]
    assert stats.bootstrap_ci(np.arange(12.0)).n == 12 and stats.proportion_ci(3, 20).n == 20
