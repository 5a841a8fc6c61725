"""Uncertainty: the estimates toolkit every analysis uses.

Replicates are along axis 0 (seeds, chains). Every statistic that enters a verdict comes
with an interval from one of these:

- :func:`mean_ci`             Student-t interval over independent replicates;
- :func:`paired_difference`   per-seed contrast a − b of two variants trained from the same seed;
- :func:`paired_ratio`        per-seed a / b on the log scale (geometric mean of the ratios);
- :func:`geometric_mean_ci`   t interval of log values, mapped back;
- :func:`bootstrap_ci`        ``scipy.stats.bootstrap`` (BCa by default) for any statistic;
- :func:`proportion_ci`       Wilson interval (``scipy.stats.binomtest``);
- :func:`slope_ci`, :func:`loglog_slope_ci`   least-squares slopes;
- :func:`median_ci`           median with the order-statistic interval; +inf marks a censored replicate;
- :func:`worst`               the worst group, for a one-sided rule that must hold in every group;
- :func:`every_group`         the same for any rule, two-sided included.

Estimates built from replicates carry them (``Estimate.samples``), so the runner can write
``claim_seeds.csv`` and the report say how many seeds would decide an inconclusive row.

And the shapes they take: :func:`per_seed` pivots a tidy table into (seeds, points);
:func:`band` gives a figure's mean line and 95% band from a tidy table; :func:`summary`
one row per group with its mean and interval.
"""

from __future__ import annotations

import math
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from dlclaims.suite.claims import Claim, Estimate, Rule, headline

LEVEL = 0.95
SEED_COLUMNS = ["claim", "seeds", "summary", "per_seed_mean", "per_seed_sd", "seeds_to_decide"]
NAN = Estimate(math.nan, math.nan, math.nan)


# --- shapes ----------------------------------------------------------------------------------

def select(table: pd.DataFrame, **where) -> pd.DataFrame:
    """Rows of ``table`` whose columns equal the given values (``variant="bn", layer=3``)."""
    mask = np.ones(len(table), dtype=bool)
    for column, value in where.items():
        mask &= (table[column] == value).to_numpy()
    return table[mask]


def per_seed(table: pd.DataFrame, column: str, by: str | None = None, seed: str = "seed", **where) -> np.ndarray:
    """One statistic per seed: shape (seeds,) or, with ``by``, (seeds, levels of by) sorted.

    Raises if a (seed, level) appears twice: a per-seed array must not silently average.
    """
    part = select(table, **where)
    if by is None:
        if part[seed].duplicated().any():
            raise ValueError(f"'{column}' has several rows per {seed} for {where}; select more narrowly")
        return part.sort_values(seed)[column].to_numpy(dtype=float)
    wide = part.pivot(index=seed, columns=by, values=column)
    return wide.sort_index().sort_index(axis=1).to_numpy(dtype=float)


def band(table: pd.DataFrame, x: str, y: str, seed: str = "seed", level: float = LEVEL, **where):
    """(x values, mean, low, high) over seeds: a figure's line with its 95% band."""
    wide = select(table, **where).pivot(index=seed, columns=x, values=y).sort_index(axis=1)
    mean, low, high = mean_ci_columns(wide.to_numpy(dtype=float), level)
    return wide.columns.to_numpy(), mean, low, high


# --- intervals -------------------------------------------------------------------------------

def mean_ci(samples, level: float = LEVEL, bounds: tuple[float, float] | None = None) -> Estimate:
    """Mean of independent replicates with a Student-t interval.

    ``bounds`` is the statistic's support (e.g. (0, 1) for a fraction): the interval is
    cut to it, since no value outside can be the mean.
    """
    x = np.asarray(samples, dtype=float).ravel()
    x = x[~np.isnan(x)]
    if x.size == 0:
        return NAN
    m = float(x.mean())
    if x.size == 1:
        return Estimate(m, math.nan, math.nan, samples=tuple(x))
    half = float(sps.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    low, high = m - half, m + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return Estimate(m, low, high, samples=tuple(x))


def mean_ci_columns(samples, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise :func:`mean_ci` of a (replicates, points) array: (mean, low, high)."""
    x = np.asarray(samples, dtype=float)
    n = x.shape[0]
    m = x.mean(axis=0)
    if n < 2:
        nan = np.full_like(m, np.nan)
        return m, nan, nan
    half = sps.t.ppf(0.5 + level / 2, n - 1) * x.std(axis=0, ddof=1) / np.sqrt(n)
    return m, m - half, m + half


def _exp(est: Estimate) -> Estimate:
    """exp of an estimate on the log scale; its samples stay logs (scale "log")."""
    low, high = (math.exp(est.ci_low), math.exp(est.ci_high)) if np.isfinite(est.ci_low) else (math.nan, math.nan)
    return Estimate(math.exp(est.value), low, high, samples=est.samples, scale="log")


def geometric_mean_ci(values, level: float = LEVEL) -> Estimate:
    """Geometric mean of positive replicates with the t interval of their logs."""
    x = np.asarray(values, dtype=float)
    if np.any(x <= 0):
        raise ValueError("geometric mean of non-positive values")
    est = mean_ci(np.log(x), level)
    return NAN if math.isnan(est.value) else _exp(est)


def paired_difference(a, b, level: float = LEVEL) -> Estimate:
    """Mean of the per-seed differences a − b (same seed, same batches: a paired design)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in shape: {a.shape} vs {b.shape}")
    return mean_ci(a - b, level)


def paired_ratio(a, b, level: float = LEVEL) -> Estimate:
    """Geometric mean of the per-seed ratios a / b, t interval of the log ratio."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in shape: {a.shape} vs {b.shape}")
    return geometric_mean_ci(a / b, level)


def seeds_to_decide(values, threshold: float, level: float = LEVEL, most: int = 10_000) -> float:
    """The smallest seed count at which the t interval of the mean, with the measured mean
    and spread, would lie wholly on one side of ``threshold`` (inf if the mean sits on it or
    more than ``most`` seeds are needed): what an inconclusive row would take to decide."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2 or not np.all(np.isfinite(x)):
        return math.nan
    gap, sd = abs(float(x.mean()) - threshold), float(x.std(ddof=1))
    if sd == 0:
        return float(len(x))
    if gap == 0:
        return math.inf
    for n in range(2, most + 1):
        if sps.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n) < gap:
            return float(n)
    return math.inf


def bootstrap_ci(
    samples,
    statistic: Callable[[np.ndarray], float] = np.mean,
    level: float = LEVEL,
    n_boot: int = 2000,
    seed: int = 0,
    method: str = "BCa",
) -> Estimate:
    """``scipy.stats.bootstrap`` over replicates (rows of ``samples``) for any statistic.

    BCa corrects the skew of ratios and slopes; where it cannot (a degenerate sample), the
    percentile interval is used.
    """
    x = np.asarray(samples, dtype=float)
    value = float(statistic(x))
    rows = np.arange(x.shape[0])

    def on_rows(index, axis=-1):
        return np.apply_along_axis(lambda i: statistic(x[i.astype(int)]), axis, index)

    for how in (method, "percentile"):
        with np.errstate(all="ignore"):
            res = sps.bootstrap((rows,), on_rows, n_resamples=n_boot, confidence_level=level,
                                method=how, rng=np.random.default_rng(seed), vectorized=True)
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if np.isfinite(lo) and np.isfinite(hi):
            break
    return Estimate(value, min(lo, value), max(hi, value), n=int(x.shape[0]))


def proportion_ci(successes: int, trials: int, level: float = LEVEL) -> Estimate:
    """Wilson score interval for a binomial proportion (``scipy.stats.binomtest``)."""
    if trials <= 0:
        return NAN
    p = successes / trials
    ci = sps.binomtest(int(successes), int(trials)).proportion_ci(confidence_level=level, method="wilson")
    # rounding can put Wilson's end a hair inside p at p = 0 or 1; the interval contains p
    return Estimate(p, min(p, float(ci.low)), max(p, float(ci.high)), n=int(trials))


def slope_ci(x, y, level: float = LEVEL) -> Estimate:
    """Ordinary least-squares slope of y on x with its t interval (one series)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    fit = sps.linregress(x, y)
    half = float(sps.t.ppf(0.5 + level / 2, x.size - 2) * fit.stderr) if x.size > 2 else math.nan
    return Estimate(float(fit.slope), fit.slope - half, fit.slope + half)


def loglog_slope_ci(x, y, level: float = LEVEL) -> Estimate:
    """Slope of log y against log x.

    ``y`` of shape (points,) gives the OLS interval; ``y`` of shape (replicates, points)
    fits each replicate and gives the t interval over replicates (the honest one when
    points within a replicate are correlated, as along a trajectory).
    """
    lx = np.log(np.asarray(x, dtype=float))
    ly = np.log(np.asarray(y, dtype=float))
    if ly.ndim == 1:
        return slope_ci(lx, ly, level)
    slopes = [sps.linregress(lx, row).slope for row in ly]
    return mean_ci(slopes, level)


def worst(estimates: Sequence[Estimate], largest: bool = True) -> Estimate:
    """The worst group, for a claim that must hold in every group (problem, step, model…).

    ``largest=True``: the group with the largest value; its interval runs from the largest
    lower bound to the largest upper bound over groups (the interval of the maximum), so the
    verdict fails as soon as one group fails wholly, and holds only if every group holds.
    """
    pick = max if largest else min
    chosen = pick(estimates, key=lambda e: e.value)
    low = pick(e.ci_low for e in estimates)
    high = pick(e.ci_high for e in estimates)
    return Estimate(chosen.value, min(low, chosen.value), max(high, chosen.value),
                    samples=chosen.samples, scale=chosen.scale, n=chosen.n)


def every_group(estimates: Sequence[Estimate], rule: Rule) -> Estimate:
    """One estimate for a claim whose rule (two-sided or not) must hold in every group.

    Its verdict under ``rule`` is the conjunction of the groups' verdicts: it *fails* as soon
    as one group's interval lies wholly outside the region (that group is returned, the one
    farthest out), *holds* only if every group's interval lies inside (the hull of the
    intervals is returned, with the value farthest from the region's centre), and is
    *inconclusive* otherwise (the hull then straddles a boundary)."""
    if not estimates:
        return NAN
    verdicts = [rule.verdict(e) for e in estimates]
    centre = _centre(rule, estimates)

    def distance(e: Estimate) -> float:
        return abs(e.value - centre)

    failing = [e for e, v in zip(estimates, verdicts) if v == "fails"]
    if failing:
        return max(failing, key=distance)
    if any(v == "inconclusive" and any(math.isnan(x) for x in (e.value, e.ci_low, e.ci_high))
           for e, v in zip(estimates, verdicts)):
        return NAN
    pick = max(estimates, key=distance)
    return Estimate(pick.value, min(e.ci_low for e in estimates), max(e.ci_high for e in estimates),
                    samples=pick.samples, scale=pick.scale, n=pick.n)


def _centre(rule: Rule, estimates: Sequence[Estimate]) -> float:
    if math.isfinite(rule.lo) and math.isfinite(rule.hi):
        return (rule.lo + rule.hi) / 2
    if math.isfinite(rule.lo):  # the worst group is the smallest
        return max(e.value for e in estimates) + 1
    if math.isfinite(rule.hi):
        return min(e.value for e in estimates) - 1
    return 0.0


def median_ci(values, level: float = LEVEL) -> Estimate:
    """Median of replicates, some possibly +inf (censored: the event never happened within the
    budget), with the distribution-free interval of ``scipy.stats.quantile_test`` (order
    statistics, valid under censoring from above; NaN where n is too small for ``level``)."""
    x = np.asarray(values, dtype=float)
    m = float(np.median(x))
    ci = sps.quantile_test(x, q=0.0, p=0.5).confidence_interval(confidence_level=level)
    low, high = float(ci.low), float(ci.high)
    if math.isnan(low) or math.isnan(high):
        return Estimate(m, math.nan, math.nan)
    return Estimate(m, min(low, m), max(high, m))


def summary(table: pd.DataFrame, by: Sequence[str], column: str, level: float = LEVEL) -> pd.DataFrame:
    """One row per group of ``by``: n, mean and the t interval of ``column`` over its rows."""
    rows = []
    for key, part in table.groupby(list(by), sort=True):
        est = mean_ci(part[column], level)
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key)), "n": int(part[column].notna().sum()),
                     "mean": est.value, "ci_low": est.ci_low, "ci_high": est.ci_high})
    return pd.DataFrame(rows, columns=[*by, "n", "mean", "ci_low", "ci_high"])


def seed_table(claims: Sequence[Claim], estimates: Mapping[str, Estimate]) -> pd.DataFrame:
    """``claim_seeds.csv``: for every claim whose (headline) estimate carries per-seed samples,
    their count, mean and spread on the interval's scale, and the seed count at which that
    spread would put the t interval wholly on one side of the rule's nearest boundary
    (:func:`seeds_to_decide`). An interval from n replicates without samples (a bootstrap, a
    proportion) is scaled instead: its half-width on the boundary's side shrinks as 1/√n
    (summary "scaled")."""
    rows = []
    for claim in claims:
        est = headline(claim, estimates[claim.id])
        x = np.asarray(est.samples, dtype=float)
        boundary = claim.rule.nearest_boundary(est.value)
        if x.size >= 2:
            on_scale = boundary
            if est.scale == "log":
                on_scale = math.log(boundary) if boundary > 0 else math.nan
            rows.append(dict(claim=claim.id, seeds=x.size, summary=est.scale, per_seed_mean=float(x.mean()),
                             per_seed_sd=float(x.std(ddof=1)),
                             seeds_to_decide=seeds_to_decide(x, on_scale) if math.isfinite(on_scale) else math.nan))
        elif est.n >= 2 and math.isfinite(boundary):
            rows.append(dict(claim=claim.id, seeds=est.n, summary="scaled", per_seed_mean=math.nan,
                             per_seed_sd=math.nan, seeds_to_decide=scaled_seeds_to_decide(est, boundary)))
    return pd.DataFrame(rows, columns=SEED_COLUMNS)


SAMPLE_COLUMNS = ["claim", "sample", "scale", "value"]


def sample_table(claims: Sequence[Claim], estimates: Mapping[str, Estimate]) -> pd.DataFrame:
    """``claim_samples.csv``: the per-seed values behind every headline interval that has them,
    on the statistic's own scale (a "log" estimate's samples are shown as exp(sample))."""
    rows = []
    for claim in claims:
        est = headline(claim, estimates[claim.id])
        for i, x in enumerate(est.samples):
            rows.append(dict(claim=claim.id, sample=i, scale=est.scale,
                             value=math.exp(x) if est.scale == "log" else float(x)))
    return pd.DataFrame(rows, columns=SAMPLE_COLUMNS)


def scaled_seeds_to_decide(est: Estimate, boundary: float) -> float:
    """n · (half-width / gap)², rounded up: the replicates at which an interval of the measured
    width, shrinking as 1/√n, would clear ``boundary`` (inf if the value sits on it)."""
    gap = abs(est.value - boundary)
    half = (est.value - est.ci_low) if boundary < est.value else (est.ci_high - est.value)
    if not (math.isfinite(gap) and math.isfinite(half)):
        return math.nan
    if gap == 0:
        return math.inf
    return float(max(est.n, math.ceil(est.n * (half / gap) ** 2)))
