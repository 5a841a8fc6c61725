"""Rates where the theorems speak: GD against its bound, and the noise part of SGD (chains
started at x*) against 1/√k, 1/k and its exact recursion (claims C6a–c, C6e, C6f)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from dlclaims.methods import chains, sgd_theory
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

from .problems import (D, NOISE, chain_matrix, decade_grid, describe, log_grid, loglog_fit,
                       mean_of_means, problem, run_groups, slope_of_means)


# --- the runs --------------------------------------------------------------------------------

def from_the_optimum(cfg, name: str, index: list[int], groups, grid: np.ndarray) -> dict[str, pd.DataFrame]:
    """The noise part: the decaying schedules of NOISE[name] run from x*, logged densely over
    the last decade (no tables where the problem has none)."""
    noise = [(i, g) for i, g in zip(index, groups) if g[0] in NOISE.get(name, ())]
    if not noise:
        return {}
    _, ntrace = run_groups(cfg, name, [g for _, g in noise], [f"noise-{g[0]}" for _, g in noise],
                           problem(name, cfg.seed).x_star, np.union1d(grid, decade_grid(cfg.steps)), average_at=[])
    rows, per = [], []
    decade = np.isin(ntrace.k, decade_grid(cfg.steps))
    for gi, (_, (sched, step, _)) in enumerate(noise):
        gaps = ntrace.gap_last[:, gi * cfg.chains:(gi + 1) * cfg.chains]
        m, lo, hi = stats.mean_ci_columns(gaps.T)
        rows += [dict(problem=name, schedule=sched, step=step, k=int(k), gap=m[t], gap_ci_low=lo[t],
                      gap_ci_high=hi[t]) for t, k in enumerate(ntrace.k)]
        per += [dict(problem=name, schedule=sched, chain=c, k=int(k), gap=gaps[t, c])
                for t in np.flatnonzero(decade) for c, k in [(c, ntrace.k[t]) for c in range(cfg.chains)]]
    return {"noise": pd.DataFrame(rows), "noise_chains": pd.DataFrame(per)}


def gd_rows(cfg, name: str, grid: np.ndarray) -> list[dict]:
    """Full-batch GD with step 1/L beside the chains, stopped at round-off: curve rows."""
    info = describe(name, cfg.seed)
    k, gaps = chains.run_gd(problem(name, cfg.seed), torch.zeros(D), 1 / info["L"], cfg.steps, grid,
                            stop_below=1e-15 * max(1.0, abs(info["F_star"])))
    return [dict(problem=name, schedule="gd", step=1 / info["L"], k=int(kk), gap_last=gap, gap_last_ci_low=gap,
                 gap_last_ci_high=gap, gap_avg=np.nan, gap_avg_ci_low=np.nan, gap_avg_ci_high=np.nan,
                 grad_sq=np.nan, sum_alpha=np.nan, sum_alpha2=np.nan) for kk, gap in zip(k, gaps)]


def exact_noise(cfg, name: str) -> dict[str, pd.DataFrame]:
    """The exact noise part along h_max/√(k+1) (least squares): the moment recursion C6f compares."""
    p, info = problem(name, cfg.seed), describe(name, cfg.seed)
    th = sgd_theory.StationaryTheory(p.A, p.y)
    grid = np.union1d(log_grid(cfg, cfg.steps), decade_grid(cfg.steps))
    sched = chains.Schedule(np.array([info["h_max"]]), np.array([1.0]), np.array([0.5]))
    exact = th.noise_path(sched.steps(0, cfg.steps)[:, 0], grid)
    return {"noise_theory": pd.DataFrame(dict(problem=name, schedule="inv_sqrt", k=grid, exact_noise=exact))}


# --- the claims ------------------------------------------------------------------------------

def gd_bound(curves: pd.DataFrame, problems: pd.DataFrame) -> pd.DataFrame:
    """GD's gap over its theorem's bound L R²/(2k) at every logged k ≥ 1."""
    gd = curves[(curves.schedule == "gd") & (curves.k >= 1)].merge(problems[["problem", "L", "R"]], on="problem")
    return gd.assign(bound=gd.L * gd.R**2 / (2 * gd.k), ratio=lambda t: t.gap_last / t.bound)


def gd_over_bound(tables) -> Estimate:
    """C6a: GD is deterministic, so the largest ratio is exact."""
    return Estimate.exact(gd_bound(tables["curves"], tables["problems"]).ratio.max())


def noise_slope(tables, name: str, schedule: str, boot: int) -> Estimate:
    """Log-log slope of the chain-mean noise part over the last decade, BCa over chains."""
    k, gaps = chain_matrix(tables["noise_chains"], "gap", "k", problem=name, schedule=schedule)
    return stats.bootstrap_ci(gaps, slope_of_means(k), n_boot=boot)


def noise_over_exact(tables, name: str, schedule: str, boot: int) -> Estimate:
    """C6f: measured / exact noise part, mean over the last decade, BCa over chains."""
    k, gaps = chain_matrix(tables["noise_chains"], "gap", "k", problem=name, schedule=schedule)
    exact = stats.select(tables["noise_theory"], problem=name, schedule=schedule).set_index("k").exact_noise
    return stats.bootstrap_ci(gaps / exact.loc[k.astype(int)].to_numpy(), mean_of_means, n_boot=boot)


def facts(tables, cfg) -> dict[str, float]:
    """The numbers the method text cites about C6: GD's drifting local slope, the exact noise
    exponent, and what a fit to the total gap would give instead of the noise part."""
    curves = tables["curves"]
    gd = curves[(curves.problem == "ls_flat") & (curves.schedule == "gd") & (curves.k >= 1)].sort_values("k")
    local = np.diff(np.log(gd.gap_last.to_numpy())) / np.diff(np.log(gd.k.to_numpy(dtype=float)))
    exact = stats.select(tables["noise_theory"], problem="ls_flat", schedule="inv_sqrt")
    exact = exact[exact.k.isin(decade_grid(cfg.steps))].sort_values("k")
    total = curves[(curves.problem == "ls_flat") & (curves.schedule == "inv_sqrt")
                   & (curves.k >= cfg.steps / 100)].sort_values("k")
    return {"gd_local_slope_flattest": float(local.max()), "gd_local_slope_steepest": float(local.min()),
            "exact_noise_slope": loglog_fit(exact.k.to_numpy())(exact.exact_noise.to_numpy()),
            "total_gap_slope": loglog_fit(total.k.to_numpy())(total.gap_last.to_numpy())}
