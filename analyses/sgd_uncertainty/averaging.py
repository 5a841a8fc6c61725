"""Decaying schedules and the averaged iterate: the lecture's bound, the last point against the
average, and decaying against constant steps (claims C2a–c, C4, C6d)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

from . import rates
from .problems import (CONSTANT_PROBLEMS, D, DIMINISHING, LEAST_SQUARES, SCHEDULE_LABELS, describe, group_rows,
                       log_grid, ratio_of_means, run_groups, scaled, schedules)


def decaying_unit(cfg, name: str) -> dict[str, pd.DataFrame]:
    """One problem's decaying schedules from x₀ and from x* (the noise part), and GD."""
    info = describe(name, cfg.seed)
    all_groups = schedules(cfg, name)
    index = [i for i, g in enumerate(all_groups) if g[0] in DIMINISHING]
    groups = [all_groups[i] for i in index]
    grid = log_grid(cfg, cfg.steps)
    combined, trace = run_groups(cfg, name, groups, index, torch.zeros(D), grid)
    curves, per_chain = group_rows(cfg, name, groups, combined, trace)
    tables = {"problems": pd.DataFrame([info])} | rates.from_the_optimum(cfg, name, index, groups, grid)
    curves += rates.gd_rows(cfg, name, grid)
    return tables | {"curves": pd.DataFrame(curves), "chains": pd.DataFrame(per_chain)}


# --- the claims ------------------------------------------------------------------------------

def bound(curves: pd.DataFrame, problems: pd.DataFrame, schedule: str) -> pd.DataFrame:
    """The lecture's (R² + G² Σα_i²) / (2 Σα_i) at every curve point of ``schedule``
    (R²/(2h(k+1)) + G²h/2 for a constant step), G² the group's largest chain-mean ‖ĝ_k‖²."""
    part = curves[curves.schedule == schedule].merge(problems[["problem", "R"]], on="problem")
    g2 = part.groupby(["problem", "step"]).grad_sq.transform("max")
    return part.assign(G2=g2, bound=(part.R**2 + g2 * part.sum_alpha2) / (2 * part.sum_alpha))


def average_over_bound(tables, schedule: str) -> Estimate:
    """The averaged iterate's chain-mean gap over the lecture's bound, the largest over problems,
    steps and logged k (C2a: constant steps; C6d: h_max/√(k+1))."""
    b = bound(tables["curves"], tables["problems"], schedule).dropna(subset=["gap_avg"])
    return stats.worst([scaled(Estimate(r.gap_avg, r.gap_avg_ci_low, r.gap_avg_ci_high), r.bound)
                        for r in b.itertuples()])


def last_over_average(groups, boot: int) -> list[Estimate]:
    """Mean last-iterate gap / mean averaged gap at K of every group, BCa over chains."""
    return [stats.bootstrap_ci(part.sort_values("chain")[["final_last", "final_avg"]].to_numpy(), ratio_of_means,
                               n_boot=boot) for _, part in groups]


def decaying_groups(tables):
    per_chain = tables["chains"]
    return per_chain[per_chain.schedule.isin(DIMINISHING)].groupby(["problem", "schedule"])


def last_over_average_decaying(tables, boot: int) -> Estimate:
    """C2b: last / step-weighted average at K, the worst (problem, decaying schedule)."""
    return stats.worst(last_over_average(decaying_groups(tables), boot))


def growth_of_ratio(sample: np.ndarray) -> float:
    """(mean last / mean average at K) / (the same at K/10); columns last_K, avg_K, last_K/10, avg_K/10."""
    m = sample.mean(0)
    return float((m[0] / m[1]) / (m[2] / m[3]))


GROWTH_COLUMNS = ["final_last", "final_avg", "tenth_last", "tenth_avg"]


def constant_groups(tables, names):
    per_chain = tables["chains"]
    const = per_chain[(per_chain.schedule == "constant") & (per_chain.batch == 1) & per_chain.problem.isin(names)]
    return const.groupby(["problem", "step"])


def smallest_growth_of_advantage(tables, boot: int) -> Estimate:
    """C2c: at a constant step the ratio last / average grows from K/10 to K; the smallest over
    least-squares (problem, h)."""
    return stats.worst([stats.bootstrap_ci(part.sort_values("chain")[GROWTH_COLUMNS].to_numpy(), growth_of_ratio,
                                           n_boot=boot)
                        for _, part in constant_groups(tables, LEAST_SQUARES)], largest=False)


def decaying_over_lowest_plateau(tables, boot: int) -> Estimate:
    """C4: final gap of a decaying schedule / the lowest constant-step plateau, worst case."""
    per_chain, c4 = tables["chains"], []
    for name in CONSTANT_PROBLEMS:
        part = stats.select(per_chain, problem=name, batch=1)
        const_p = part[part.schedule == "constant"]
        lowest = const_p[const_p.step == const_p.step.min()].sort_values("chain").plateau.to_numpy()
        for sched in DIMINISHING:
            final = part[part.schedule == sched].sort_values("chain").final_last.to_numpy()
            c4.append(stats.bootstrap_ci(np.c_[final, lowest], ratio_of_means, n_boot=boot))
    return stats.worst(c4)


def facts(tables) -> dict[str, float | str]:
    """The numbers the method text cites about C2 and C6d: the ratios behind C2b and C2c, and where
    the averaged iterate comes closest to the lecture's bound."""
    out = {}
    growth = {key: growth_of_ratio(part.sort_values("chain")[GROWTH_COLUMNS].to_numpy())
              for key, part in constant_groups(tables, CONSTANT_PROBLEMS)}
    largest = {name: max(h for p, h in growth if p == name) for name in CONSTANT_PROBLEMS}
    means = constant_groups(tables, ["ls_ill"]).get_group(("ls_ill", largest["ls_ill"]))[GROWTH_COLUMNS].mean()
    out["ratio_at_K_ls_ill"] = float(means.final_last / means.final_avg)
    out["ratio_at_tenth_ls_ill"] = float(means.tenth_last / means.tenth_avg)
    out["largest_growth_least_squares"] = max(g for (p, _), g in growth.items() if p in LEAST_SQUARES)
    for name in ("logistic", "logistic_l2"):
        out[f"growth_{name}"] = growth[(name, largest[name])]
    ratios = {key: ratio_of_means(part[["final_last", "final_avg"]].to_numpy())
              for key, part in decaying_groups(tables)}
    for which, pick in (("smallest", min), ("largest", max)):
        (name, sched) = pick(ratios, key=ratios.get)
        out[f"decaying_{which}"] = ratios[(name, sched)]
        out[f"decaying_{which}_at"] = f"{name}, {SCHEDULE_LABELS[sched]}"
    sgd = bound(tables["curves"], tables["problems"], "inv_sqrt").dropna(subset=["gap_avg"])
    share = sgd.gap_avg / sgd.bound
    top = sgd.loc[share.idxmax()]
    at_horizon = share[sgd.k == sgd.k.max()]
    out |= {"bound_share_largest_at": str(top.problem), "bound_share_largest_k": int(top.k),
            "bound_share_at_K_low": float(at_horizon.min()), "bound_share_at_K_high": float(at_horizon.max())}
    return out
