"""Uncertainty: confidence intervals over replicates, bootstrap, proportions, slope fits.

Every statistic that enters a verdict comes with an interval from one of these.
Replicates are along axis 0 (seeds, chains).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import stats as sps

from dlclaims.claims import Estimate

LEVEL = 0.95


def mean_ci(samples, level: float = LEVEL, bounds: tuple[float, float] | None = None) -> Estimate:
    """Mean of independent replicates with a Student-t interval.

    ``bounds`` is the statistic's support (e.g. (0, 1) for a fraction): the interval is
    cut to it, since no value outside can be the mean.
    """
    x = np.asarray(samples, dtype=float).ravel()
    x = x[~np.isnan(x)]
    if x.size == 0:
        return Estimate(np.nan, np.nan, np.nan)
    m = float(x.mean())
    if x.size == 1:
        return Estimate(m, np.nan, np.nan)
    half = float(sps.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    low, high = m - half, m + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return Estimate(m, low, high)


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


def bootstrap_ci(
    samples,
    statistic: Callable[[np.ndarray], float] = np.mean,
    level: float = LEVEL,
    n_boot: int = 2000,
    seed: int = 0,
) -> Estimate:
    """Percentile bootstrap over replicates (rows of ``samples``) for any statistic."""
    x = np.asarray(samples, dtype=float)
    value = float(statistic(x))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.shape[0], size=(n_boot, x.shape[0]))
    boots = np.array([statistic(x[i]) for i in idx], dtype=float)
    lo, hi = np.nanquantile(boots, [0.5 - level / 2, 0.5 + level / 2])
    return Estimate(value, min(float(lo), value), max(float(hi), value))


def proportion_ci(successes: int, trials: int, level: float = LEVEL) -> Estimate:
    """Wilson score interval for a binomial proportion."""
    if trials <= 0:
        return Estimate(np.nan, np.nan, np.nan)
    z = sps.norm.ppf(0.5 + level / 2)
    p = successes / trials
    denom = 1 + z**2 / trials
    centre = (p + z**2 / (2 * trials)) / denom
    half = z * np.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2)) / denom
    # rounding can put Wilson's end a hair inside p at p = 0 or 1; the interval contains p
    return Estimate(p, min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half)))


def slope_ci(x, y, level: float = LEVEL) -> Estimate:
    """Ordinary least-squares slope of y on x with its t interval (one series)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    fit = sps.linregress(x, y)
    half = float(sps.t.ppf(0.5 + level / 2, x.size - 2) * fit.stderr) if x.size > 2 else np.nan
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
