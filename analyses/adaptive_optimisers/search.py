"""F12: a random search over SGD + momentum's hyperparameters (lr, batch, momentum, width, init
gain) on digits, all configurations of a chunk at once on a replicate axis; each hyperparameter's
main-effect share of the test-accuracy variance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.stats as sps
import torch

from dlclaims.methods import data, replicas
from dlclaims.rng import np_stream, stream
from dlclaims.suite.claims import Estimate

from .common import F64

SEARCH_BATCHES = (8, 16, 32, 64)
SEARCH_WIDTHS = (16, 32, 64, 128)
HYPERPARAMETERS = ("lr", "batch", "momentum", "width", "gain")


def search_configs(n: int) -> pd.DataFrame:
    g = stream(0, "search", "configs")
    u = torch.rand(n, 5, generator=g, dtype=F64).numpy()
    return pd.DataFrame(dict(config=np.arange(n), lr=10 ** (-4 + 4 * u[:, 0]),
                             batch=np.array(SEARCH_BATCHES)[(u[:, 1] * 4).astype(int)],
                             momentum=0.95 * u[:, 2], width=np.array(SEARCH_WIDTHS)[(u[:, 3] * 4).astype(int)],
                             gain=4 ** (2 * u[:, 4] - 1)))


def search_unit(cfg, chunk: int) -> dict[str, pd.DataFrame]:
    bounds = np.linspace(0, cfg.search_configs, cfg.search_chunks + 1).astype(int)
    configs = search_configs(cfg.search_configs).iloc[bounds[chunk]:bounds[chunk + 1]].reset_index(drop=True)
    split = data.split("digits")
    reps = replicas.Replicates(torch.tensor(configs.lr.to_numpy()), momentum=torch.tensor(configs.momentum.to_numpy()),
                               width=torch.tensor(configs.width.to_numpy()), batch=torch.tensor(configs.batch.to_numpy()))
    sizes = (split.n_features, max(SEARCH_WIDTHS), split.n_classes)
    params = replicas.init_mlp(reps.n, sizes, stream(chunk, "search-chunk", "init"),
                               gain=torch.tensor(configs.gain.to_numpy()), shared=False)
    final, _ = replicas.train("momentum", params, reps, split.x_train, split.y_train, cfg.search_steps,
                              max(SEARCH_BATCHES), stream(chunk, "search-chunk", "batches"))
    acc = replicas.accuracy(final, split.x_test, split.y_test, replicas.hidden_mask(reps, sizes[1]))
    return {"search": configs.assign(test_acc=acc.numpy())}


def main_effect_shares(table: np.ndarray, bins: int = 4) -> np.ndarray:
    """Columns: [acc, hyperparameters...]; the between-bin share of Var(acc) per hyperparameter.

    Continuous columns are cut at their quantiles (ties share a bin); discrete ones with ≤ ``bins``
    levels are their own bins. Binned one-way ANOVA's η², uncorrected (kept for the figures' record)."""
    acc = table[:, 0]
    total = ((acc - acc.mean()) ** 2).sum()
    shares = []
    for col in table[:, 1:].T:
        levels = np.unique(col)
        if len(levels) <= bins:
            labels = np.searchsorted(levels, col)
        else:
            edges = np.quantile(col, np.linspace(0, 1, bins + 1)[1:-1])
            labels = np.searchsorted(edges, col, side="right")
        between = sum(((acc[labels == b].mean() - acc.mean()) ** 2) * (labels == b).sum() for b in np.unique(labels))
        shares.append(between / total if total > 0 else 0.0)
    return np.array(shares)


N_BOOT = 1000  # bootstrap resamples of F12's interval, here and in its calibration
def lr_share_margin(table: np.ndarray) -> float:
    """The binned (uncorrected) shares' margin, lr − the largest other: the calibration's comparison."""
    s = main_effect_shares(table)
    return float(s[0] - s[1:].max())


DF = 4  # columns of each one-way fit: a cubic in a continuous hyperparameter, or one mean per discrete level


def designs(table: np.ndarray) -> np.ndarray:
    """One (n, DF) design per hyperparameter column of ``table`` (column 0 is the accuracy): level
    indicators for a discrete one (≤ DF levels), 1, z, z², z³ of the standardised value otherwise."""
    out = []
    for col in table[:, 1:].T:
        levels = np.unique(col)
        if len(levels) <= DF:
            x = np.zeros((len(col), DF))
            x[:, :len(levels)] = col[:, None] == levels[None, :]
        else:
            z = (col - col.mean()) / col.std()
            x = np.column_stack([np.ones_like(z), z, z ** 2, z ** 3])
        out.append(x)
    return np.stack(out)


def adjusted_margins(acc: np.ndarray, x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """lr's bias-corrected main-effect share − the largest other's, for each row set in ``rows`` (…, n).

    Each share is the adjusted R² of a one-way fit, 1 − (1 − R²)(n − 1)/(n − DF): a hyperparameter
    with no effect scores 0 on average, where the raw R² (or binned η²) scores (DF − 1)/(n − 1)."""
    y, xs = acc[rows], x[:, rows]  # (…, n), (h, …, n, DF)
    n = rows.shape[-1]
    gram = np.swapaxes(xs, -1, -2) @ xs + 1e-9 * np.eye(DF)  # a ridge of 1e-9 for a level missing from a resample
    beta = np.linalg.solve(gram, (np.swapaxes(xs, -1, -2) @ y[..., None]))
    resid = ((y[..., None] - xs @ beta)[..., 0] ** 2).sum(-1)
    total = ((y - y.mean(-1, keepdims=True)) ** 2).sum(-1)
    with np.errstate(all="ignore"):
        adjusted = np.where(total > 0, 1 - resid / total * (n - 1) / (n - DF), 0.0)
    return adjusted[0] - adjusted[1:].max(0)


def margin_ci(table: np.ndarray, n_boot: int = N_BOOT) -> Estimate:
    """The margin with a BCa bootstrap over configurations (scipy.stats.bootstrap, vectorised)."""
    acc, x = table[:, 0], designs(table)
    rows = np.arange(len(acc))

    def statistic(index, axis=-1):
        return adjusted_margins(acc, x, index.astype(int))

    value = float(statistic(rows))
    with np.errstate(all="ignore"):
        res = sps.bootstrap((rows,), statistic, n_resamples=n_boot, method="BCa", rng=np.random.default_rng(0),
                            vectorized=True)
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        lo = hi = value
    return Estimate(value, min(lo, value), max(hi, value), n=len(acc))


def search_table(search: pd.DataFrame) -> np.ndarray:
    table = search[["test_acc", *HYPERPARAMETERS]].to_numpy(dtype=float)
    table[:, 1] = np.log10(table[:, 1])
    table[:, 5] = np.log10(table[:, 5])
    return table


def search_estimate(search: pd.DataFrame) -> Estimate:
    """lr's bias-corrected main-effect share − the largest other's, BCa bootstrap over configurations."""
    return margin_ci(search_table(search))


# --- calibration: simulated searches whose true shares are known ----------------------------------

def simulated_search(g: np.random.Generator, n: int, width_effect: float, noise: float) -> tuple[np.ndarray, float]:
    """A search table like ours (same hyperparameter draws) with acc = a sigmoid in log lr (chance
    0.1 to 0.95, like the measured search) + ``width_effect`` × log2(width/16)/3 + N(0, noise²);
    batch, momentum and gain have no effect. Returns the table and the true margin, lr's
    Var(E[acc | lr])/Var(acc) − width's (the others' are 0)."""
    log_lr, batch = g.uniform(-4, 0, n), g.choice(SEARCH_BATCHES, n)
    momentum, width, log_gain = g.uniform(0, 0.95, n), g.choice(SEARCH_WIDTHS, n), g.uniform(-1, 1, n) * np.log10(4)
    curve = lambda u: 0.1 + 0.85 / (1 + np.exp(-(u + 2.3) / 0.35))  # noqa: E731
    levels = np.log2(np.array(SEARCH_WIDTHS) / 16) / 3
    acc = curve(log_lr) + width_effect * np.log2(width / 16) / 3 + noise * g.standard_normal(n)
    var_lr, var_width = curve(np.linspace(-4, 0, 100_001)).var(), width_effect ** 2 * levels.var()
    total = var_lr + var_width + noise ** 2
    return np.column_stack([acc, log_lr, batch, momentum, width, log_gain]), (var_lr - var_width) / total


def calibration_table(searches: int, configs: int, n_boot: int) -> pd.DataFrame:
    """``searches`` simulated searches, each with its own width effect (0–1) and noise (0.05–0.25),
    so the true margin spans a width-led search to an lr-led one; the estimate and interval of each."""
    g = np_stream(0, "search", "calibration")
    rows = []
    for i in range(searches):
        width_effect, noise = g.uniform(0, 1), g.uniform(0.05, 0.25)
        table, true = simulated_search(g, configs, width_effect, noise)
        est = margin_ci(table, n_boot)
        rows.append(dict(search=i, width_effect=width_effect, noise=noise, true_margin=true, value=est.value,
                         ci_low=est.ci_low, ci_high=est.ci_high, binned_value=lr_share_margin(table)))
    return pd.DataFrame(rows)


def calibration_summary(cal: pd.DataFrame, margin: float) -> dict[str, float]:
    """The estimator's mean error, its spread, its interval's coverage of the true margin, and how
    often the interval clears ``margin`` when the true margin is below it (a wrong 'holds')."""
    err = cal.value - cal.true_margin
    covered = (cal.ci_low <= cal.true_margin) & (cal.true_margin <= cal.ci_high)
    below = cal.true_margin < margin
    return dict(f12_cal_searches=len(cal), f12_cal_bias=float(err.mean()), f12_cal_error_sd=float(err.std()),
                f12_cal_coverage=float(covered.mean()),
                f12_cal_coverage_close=float(covered[(cal.true_margin - margin).abs() < 0.2].mean()),
                f12_cal_coverage_high=float(covered[cal.true_margin > 0.7].mean()),
                f12_cal_binned_bias=float((cal.binned_value - cal.true_margin).mean()),
                f12_cal_wrong_holds=float((below & (cal.ci_low > margin)).sum() / max(below.sum(), 1)),
                f12_cal_below=int(below.sum()))
