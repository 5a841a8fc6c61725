"""The five problems, their step schedules, the chains' seeds and logged steps, and the rows
every group of chains writes; the small statistics the claims share."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import torch

from dlclaims import rng
from dlclaims.methods import chains
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

N, D = 10_000, 20  # the lecture's example: logistic regression, d = 20, n = 10⁴
PROBLEMS = ("ls_iso", "ls_ill", "logistic", "logistic_l2", "ls_flat")
CONSTANT_PROBLEMS = ("ls_iso", "ls_ill", "logistic", "logistic_l2")  # ls_flat: rates only
LEAST_SQUARES = ("ls_iso", "ls_ill")  # where the exact stationary theory applies
C1_PROBLEMS = ("ls_iso", "ls_ill", "logistic")  # C1a, C1b, C1c (and C1e over all three)
DIMINISHING = ("inv_sqrt", "inv")  # h_max/√(k+1) and α₀/(k+k₀)
# where the noise part is measured (chains from x*), and the exact recursion run
NOISE = {"ls_flat": ("inv_sqrt",), "logistic_l2": ("inv_sqrt", "inv")}
DATA = {"logistic_l2": "logistic"}  # a problem that shares another's draw (the same data, an L2 term)
WINDOW_POINTS = 11  # logged steps over the second half whose mean is a chain's plateau
DECADE_POINTS = 11  # logged steps over the last decade [K/10, K], where the noise exponents are fitted
SMALL_H = 0.25  # C1's first-order range: h ≤ h_max/4
LABELS = {"ls_iso": "least squares, isotropic", "ls_ill": "least squares, κ = 10", "logistic": "logistic",
          "logistic_l2": "logistic + L2", "ls_flat": "least squares, spectrum 1 → 1e-5"}
SCHEDULE_LABELS = {"inv_sqrt": "h_max/√(k+1)", "inv": "α₀/(k+k₀)"}


# --- the problems ----------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def problem(name: str, seed: int) -> chains.Problem:
    """One draw per problem from the stream ("problem", data set) of ``seed``, built once per process;
    logistic_l2 is the logistic data set with an L2 term, so the two share their draw."""
    data = rng.fold_in(seed, "problem", DATA.get(name, name))
    return {
        "ls_iso": lambda: chains.least_squares("ls_iso", N, D, np.ones(D), noise=1.0, seed=data),
        "ls_ill": lambda: chains.least_squares("ls_ill", N, D, np.logspace(0, -1, D), noise=1.0, seed=data),
        "logistic": lambda: chains.logistic("logistic", N, D, weight_norm=2.0, l2=0.0, seed=data),
        "logistic_l2": lambda: chains.logistic("logistic_l2", N, D, weight_norm=2.0, l2=0.01, seed=data),
        "ls_flat": lambda: chains.least_squares("ls_flat", N, D, np.logspace(0, -5, D), noise=1.0, seed=data),
    }[name]()


@functools.lru_cache(maxsize=None)
def describe(name: str, seed: int) -> dict:
    p = problem(name, seed)
    eig = torch.linalg.eigvalsh(p.hessian)
    return dict(problem=p.name, kind=p.kind, n=p.n, d=p.d, noise=p.noise, l2=p.l2, mu=float(eig[0]),
                L=chains.smoothness(p), h_max=1 / chains.mean_sample_smoothness(p),
                R=float(p.x_star.norm()), F_star=p.F_star)


def schedules(cfg, name: str, seed: int | None = None) -> list[tuple[str, float, chains.Schedule]]:
    """(name, step parameter, schedule) of every group of chains from x₀ on one problem (the
    draw of ``seed``, default the root seed); a group's index in this list names its chains' streams."""
    info = describe(name, cfg.seed if seed is None else seed)
    h_max = info["h_max"]
    groups = []
    if name in CONSTANT_PROBLEMS:
        groups += [("constant", f * h_max, chains.Schedule.constant(f * h_max)) for f in cfg.step_factors]
    groups.append(("inv_sqrt", h_max, chains.Schedule(np.array([h_max]), np.array([1.0]), np.array([0.5]))))
    if name in CONSTANT_PROBLEMS:
        a0 = 2 / info["mu"]
        groups.append(("inv", a0, chains.Schedule(np.array([a0]), np.array([a0 / h_max]), np.array([1.0]))))
    return groups


def chain_seeds(cfg, name: str, group: int | str) -> np.ndarray:
    """The 63-bit keys of a group's chains: the streams ("chains", problem, group, chain)."""
    return np.array([rng.fold_in(cfg.seed, "chains", name, group, c) for c in range(cfg.chains)], dtype=np.int64)


# --- the logged steps ------------------------------------------------------------------------

def log_grid(cfg, steps: int) -> np.ndarray:
    """Log-spaced steps from 0, and K/10 (where C2c compares)."""
    coarse = np.round(np.geomspace(1, steps, cfg.log_points)).astype(int)
    return np.unique(np.r_[0, coarse, round(steps / 10)])


def decade_grid(steps: int) -> np.ndarray:
    """The last decade [K/10, K], logged densely: where the noise exponents are fitted."""
    return np.unique(np.round(np.geomspace(steps / 10, steps, DECADE_POINTS)).astype(int))


def plateau_window(steps: int) -> np.ndarray:
    """Evenly spaced steps over the second half: a chain's plateau is its mean there."""
    return np.unique(np.round(np.linspace(steps / 2, steps, WINDOW_POINTS)).astype(int))


def step_sums(schedule: chains.Schedule, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Σ_{i≤k} α_i and Σ_{i≤k} α_i² at the steps k, for a one-chain schedule."""
    alphas = schedule.steps(0, int(k.max()) + 1)[:, 0]
    return np.cumsum(alphas)[k], np.cumsum(alphas**2)[k]


# --- groups of chains and their rows ---------------------------------------------------------

def run_groups(cfg, name: str, groups, keys, x0: torch.Tensor, log_at, average_at=None):
    """Every group's chains (``keys``: each group's stream name) as one batched run; the combined
    schedule and the trace."""
    seeds = np.concatenate([chain_seeds(cfg, name, key) for key in keys])
    combined = chains.Schedule(*(np.repeat(np.concatenate([getattr(s, f) for _, _, s in groups]), cfg.chains)
                                 for f in ("a", "k0", "p")))
    trace = chains.run_chains(problem(name, cfg.seed), x0, combined, seeds, cfg.steps, log_at=log_at,
                              average_at=average_at)
    return combined, trace


def group_rows(cfg, name: str, groups, combined: chains.Schedule, trace: chains.Trace):
    """The curve rows and the per-chain rows of every group of a batched run."""
    curves, per_chain = [], []
    for gi, (sched, step, _) in enumerate(groups):
        cols = slice(gi * cfg.chains, (gi + 1) * cfg.chains)
        curves += curve_rows(name, sched, step, trace, cols, chains.Schedule(*(v[cols] for v in (
            combined.a, combined.k0, combined.p))))
        per_chain += chain_rows(name, sched, step, trace, cols, cfg.steps)
    return curves, per_chain


def curve_rows(name: str, sched: str, step: float, trace: chains.Trace, cols: slice,
               schedule: chains.Schedule) -> list[dict]:
    """Chain means with t intervals per logged step, and the step sums of the lecture's bound."""
    last, avg, gsq = trace.gap_last[:, cols], trace.gap_avg[:, cols], trace.grad_sq[:, cols]
    m, lo, hi = stats.mean_ci_columns(last.T)
    ma, loa, hia = stats.mean_ci_columns(avg.T)
    s1, s2 = step_sums(chains.Schedule(*(v[:1] for v in (schedule.a, schedule.k0, schedule.p))), trace.k)
    return [dict(problem=name, schedule=sched, step=step, k=int(k), gap_last=m[t], gap_last_ci_low=lo[t],
                 gap_last_ci_high=hi[t], gap_avg=ma[t], gap_avg_ci_low=loa[t], gap_avg_ci_high=hia[t],
                 grad_sq=gsq[t].mean(), sum_alpha=s1[t], sum_alpha2=s2[t])
            for t, k in enumerate(trace.k)]


def chain_rows(name: str, sched: str, step: float, trace: chains.Trace, cols: slice, steps: int,
               batch: int = 1, grad_variance=None) -> list[dict]:
    """Per chain: plateau, and the last and averaged gaps at K and at K/10."""
    k = trace.k
    window = np.isin(k, plateau_window(steps))
    tenth = int(np.flatnonzero(k >= np.round(steps / 10))[0])
    last, avg = trace.gap_last[:, cols], trace.gap_avg[:, cols]
    plateau = last[window].mean(0) if window.any() else np.full(last.shape[1], np.nan)
    variance = np.full(last.shape[1], np.nan) if grad_variance is None else grad_variance
    return [dict(problem=name, schedule=sched, step=step, batch=batch, chain=c, plateau=plateau[c],
                 final_last=last[-1, c], final_avg=avg[-1, c], tenth_last=last[tenth, c], tenth_avg=avg[tenth, c],
                 grad_variance=variance[c])
            for c in range(last.shape[1])]


# --- statistics the claims share -------------------------------------------------------------

def chain_matrix(table: pd.DataFrame, column: str, by: str, **where) -> tuple[np.ndarray, np.ndarray]:
    """(levels of ``by``, (chains, levels) array of ``column``)."""
    part = stats.select(table, **where)
    return np.sort(part[by].unique()).astype(float), stats.per_seed(part, column, by=by, seed="chain")


def loglog_fit(x: np.ndarray):
    """The least-squares slope of log y on log x, as a function of y (x fixed: a bootstrap
    evaluates it thousands of times, so the closed form rather than a general fit)."""
    centred = np.log(np.asarray(x, dtype=float))
    centred = centred - centred.mean()
    scale = float(centred @ centred)
    return lambda y: float(centred @ np.log(y) / scale)


def slope_of_means(x: np.ndarray):
    """The statistic: log-log slope of the chain means against x (bootstrapped over chains)."""
    fit = loglog_fit(x)
    return lambda sample: fit(sample.mean(0))


def mean_of_means(sample: np.ndarray) -> float:
    return float(sample.mean(0).mean())


def ratio_of_means(sample: np.ndarray) -> float:
    return float(sample[:, 0].mean() / sample[:, 1].mean())


def scaled(est: Estimate, by: float) -> Estimate:
    return Estimate(est.value / by, est.ci_low / by, est.ci_high / by)


def positive_k(frame: pd.DataFrame, column: str | None = None) -> pd.DataFrame:
    """Rows with k ≥ 1 (and ``column`` evaluated), in k order."""
    keep = frame.k >= 1
    if column is not None:
        keep &= frame[column].notna()
    return frame[keep].sort_values("k")
