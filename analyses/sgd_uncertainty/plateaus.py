"""Constant steps: the plateau against h, its exact stationary value, and the steps it takes
to reach it (claims C1a–e, C3)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from dlclaims.methods import sgd_theory
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

from .problems import (C1_PROBLEMS, D, LEAST_SQUARES, SMALL_H, chain_matrix, describe, group_rows, log_grid,
                       loglog_fit, plateau_window, problem, run_groups, scaled, schedules, slope_of_means)


# --- the units -------------------------------------------------------------------------------

def constant_unit(cfg, name: str) -> dict[str, pd.DataFrame]:
    """One problem's constant steps: curves, per-chain plateaus, steps to plateau (C1-C3)."""
    all_groups = schedules(cfg, name)
    index = [i for i, g in enumerate(all_groups) if g[0] == "constant"]
    groups = [all_groups[i] for i in index]
    grid = log_grid(cfg, cfg.steps)
    log_at = np.union1d(grid, plateau_window(cfg.steps))
    combined, trace = run_groups(cfg, name, groups, index, torch.zeros(D), log_at, average_at=grid)
    curves, per_chain = group_rows(cfg, name, groups, combined, trace)
    # C3: steps to plateau per h on all chains, and the slope over h with a bootstrap over chains
    window = np.isin(trace.k, plateau_window(cfg.steps))
    steps_h = np.array([s for _, s, _ in groups])
    curves_chains = trace.gap_last.reshape(len(trace.k), len(groups), cfg.chains)  # (T, H, C)
    plateaus = curves_chains[window].mean(0)  # (H, C)
    sample = np.concatenate([plateaus.T, curves_chains.transpose(2, 1, 0).reshape(cfg.chains, -1)], axis=1)
    stat = reach_slope_statistic(trace.k, steps_h)
    k_reach = reach_steps(trace.k, sample, len(groups))
    reach = [dict(problem=name, step=h, k_reach=kr) for h, kr in zip(steps_h, k_reach)]
    slope = stats.bootstrap_ci(sample, stat, n_boot=cfg.boot)
    slopes = [dict(problem=name, slope=slope.value, ci_low=slope.ci_low, ci_high=slope.ci_high)]
    return {"curves": pd.DataFrame(curves), "chains": pd.DataFrame(per_chain), "reach": pd.DataFrame(reach),
            "reach_slopes": pd.DataFrame(slopes)}


def exact_plateaus(cfg, name: str) -> dict[str, pd.DataFrame]:
    """The exact stationary plateau of every constant step (and, on ls_iso, every batch size)."""
    p, info = problem(name, cfg.seed), describe(name, cfg.seed)
    th = sgd_theory.StationaryTheory(p.A, p.y)
    rows = []
    for f in cfg.step_factors:
        h = f * info["h_max"]
        rows.append(dict(problem=name, step=h, batch=1, exact_plateau=th.excess(h, 1),
                         small_step_plateau=small_step_plateau(th, h, 1)))
    if name == "ls_iso":
        h = info["h_max"] / 4
        rows += [dict(problem=name, step=h, batch=b, exact_plateau=th.excess(h, b),
                      small_step_plateau=small_step_plateau(th, h, b)) for b in cfg.batch_sizes if b > 1]
    return {"theory": pd.DataFrame(rows)}


def small_step_plateau(th, h: float, b: int) -> float:
    """First order in h: HΣ + ΣH = hQ/b, so ½ tr(HΣ) = h tr(Q) / (4b): the linear law C1 tests."""
    return h * float(np.trace(th.Q)) / (4 * b)


# --- steps to the plateau --------------------------------------------------------------------

def reach_steps(k: np.ndarray, sample: np.ndarray, groups: int) -> np.ndarray:
    """Steps to plateau per h from a (chains, H + H·T) sample: plateaus, then each h's curve."""
    mean = sample.mean(0)
    plateau, curves = mean[:groups], mean[groups:].reshape(groups, len(k))
    return np.array([steps_to_plateau(k, curves[i], plateau[i]) for i in range(groups)])


def reach_slope_statistic(k: np.ndarray, steps_h: np.ndarray):
    fit = loglog_fit(steps_h)

    def slope(sample: np.ndarray) -> float:
        reach = reach_steps(k, sample, len(steps_h))
        return fit(reach) if np.all(np.isfinite(reach)) else math.nan

    return slope


def steps_to_plateau(k: np.ndarray, gap: np.ndarray, plateau: float) -> float:
    """First k where gap ≤ 2·plateau, interpolated log-log between logged steps (k ≥ 1)."""
    target = 2 * plateau
    below = np.flatnonzero(gap <= target)
    if below.size == 0:
        return np.nan
    i = below[0]
    if i == 0 or k[i - 1] < 1:
        return float(max(k[i], 1))
    lk, lg = np.log(k[i - 1 : i + 1]), np.log(gap[i - 1 : i + 1])
    return float(np.exp(lk[0] + (np.log(target) - lg[0]) * (lk[1] - lk[0]) / (lg[1] - lg[0])))


# --- the claims ------------------------------------------------------------------------------

def constant_plateaus(tables, name: str, largest: float) -> tuple[np.ndarray, np.ndarray]:
    """(steps h ≤ largest·h_max, (chains, steps) plateaus) of one problem."""
    problems = tables["problems"]
    h_max = dict(zip(problems.problem, problems.h_max))[name]
    part = stats.select(tables["chains"], problem=name, schedule="constant", batch=1)
    # 1e-6: the tables round-trip through CSV at 8 significant digits (the grid steps by factors of 2)
    return chain_matrix(part[part.step <= largest * h_max * (1 + 1e-6)], "plateau", "step")


def slope_vs_h(tables, name: str, largest: float, boot: int) -> Estimate:
    """Log-log slope of the plateau against h ≤ largest·h_max, BCa over chains (C1a–c, C1e)."""
    h, q = constant_plateaus(tables, name, largest)
    return stats.bootstrap_ci(q, slope_of_means(h), n_boot=boot)


def smallest_slope_vs_h(tables, boot: int) -> Estimate:
    """C1e: the slope over the whole grid, the smallest over the C1 problems."""
    return stats.worst([slope_vs_h(tables, name, 1.0, boot) for name in C1_PROBLEMS], largest=False)


def measured_over_exact(tables) -> list[Estimate]:
    """C1d's groups: measured / exact plateau at every (least-squares design, h)."""
    per_chain, ratios = tables["chains"], []
    for row in tables["theory"][tables["theory"].batch == 1].itertuples():
        part = stats.select(per_chain, problem=row.problem, schedule="constant", batch=1)
        ratios.append(scaled(stats.mean_ci(part[np.isclose(part.step, row.step)].plateau), row.exact_plateau))
    return ratios


def least_negative_reach_slope(tables) -> Estimate:
    """C3: the slope of steps-to-plateau against h, the least negative over the problems."""
    return stats.worst([Estimate(r.slope, r.ci_low, r.ci_high) for r in tables["reach_slopes"].itertuples()])


def facts(tables) -> dict[str, float]:
    """The numbers the method text cites about C1: the exact theory's curvature and slopes."""
    theory, out = tables["theory"], {}
    problems = tables["problems"]
    h_max = dict(zip(problems.problem, problems.h_max))
    for name in LEAST_SQUARES:
        th = theory[(theory.problem == name) & (theory.batch == 1)].sort_values("step")
        small = th[th.step <= SMALL_H * h_max[name] * (1 + 1e-6)]
        out[f"exact_over_first_order_{name}"] = float(th.exact_plateau.iloc[-1] / th.small_step_plateau.iloc[-1])
        out[f"exact_slope_small_{name}"] = loglog_fit(small.step.to_numpy())(small.exact_plateau.to_numpy())
        out[f"exact_slope_{name}"] = loglog_fit(th.step.to_numpy())(th.exact_plateau.to_numpy())
    for name in C1_PROBLEMS:
        h, q = constant_plateaus(tables, name, 1.0)
        out[f"slope_{name}"] = slope_of_means(h)(q)
    return out
