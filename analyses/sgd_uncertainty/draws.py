"""The last point against the average over problem draws (claims C2b, C2d): every draw its own
design, noise and optimum, a few chains on each, so the interval covers the problem as well as
the chains; the lecture's aside at decaying schedules and at the constant step of its example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from dlclaims import rng
from dlclaims.methods import chains
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

from .problems import CONSTANT_PROBLEMS, D, DIMINISHING, SCHEDULE_LABELS, describe, problem, schedules


def draw_seed(cfg, draw: int) -> int:
    """The root of draw ``draw``: its problem (design, noise, optimum) and its chains."""
    return rng.fold_in(cfg.seed, "draw", draw)


def horizon_steps(cfg) -> np.ndarray:
    """The logged horizons: fractions ``cfg.horizons`` of K."""
    return np.array([max(1, round(f * cfg.steps)) for f in cfg.horizons])


def draws_unit(cfg, name: str) -> dict[str, pd.DataFrame]:
    """Per draw of one problem: chain means of the last and the averaged gap at each horizon, for
    the decaying schedules and (on the constant-step problems) every constant step."""
    at, rows = horizon_steps(cfg), []
    for draw in range(cfg.problem_draws):
        seed = draw_seed(cfg, draw)
        h_max = describe(name, seed)["h_max"]
        groups = [g for g in schedules(cfg, name, seed) if g[0] in DIMINISHING or name in CONSTANT_PROBLEMS]
        keys = np.array([rng.fold_in(seed, "chains", name, gi, c) for gi in range(len(groups))
                         for c in range(cfg.draw_chains)], dtype=np.int64)
        combined = chains.Schedule(*(np.repeat(np.concatenate([getattr(s, f) for _, _, s in groups]),
                                               cfg.draw_chains) for f in ("a", "k0", "p")))
        trace = chains.run_chains(problem(name, seed), torch.zeros(D), combined, keys, cfg.steps, log_at=at,
                                  average_at=at)
        for gi, (sched, step, _) in enumerate(groups):
            cols = slice(gi * cfg.draw_chains, (gi + 1) * cfg.draw_chains)
            for t, fraction in zip(np.searchsorted(trace.k, at), cfg.horizons):
                # a constant step's fraction of h_max (rounded: one group across draws); 1 for a schedule
                factor = round(step / h_max, 9) if sched == "constant" else 1.0
                rows.append(dict(problem=name, draw=draw, schedule=sched, factor=factor, step=step,
                                 horizon=fraction, k=int(trace.k[t]), last=trace.gap_last[t, cols].mean(),
                                 average=trace.gap_avg[t, cols].mean()))
    return {"draws": pd.DataFrame(rows)}


# --- the claims ------------------------------------------------------------------------------

def ratio_groups(table: pd.DataFrame, constant: bool, horizon: float):
    """(problem, schedule, step factor) groups of one horizon: decaying or constant steps."""
    part = table[np.isclose(table.horizon, horizon)]
    part = part[(part.schedule == "constant") if constant else part.schedule.isin(DIMINISHING)]
    return part.groupby(["problem", "schedule", "factor"])


def per_draw_ratios(part: pd.DataFrame) -> np.ndarray:
    """Per draw, the mean last gap over the mean averaged gap (the draw's chains)."""
    part = part.sort_values("draw")
    return (part["last"] / part["average"]).to_numpy()


def worst_ratio(table: pd.DataFrame, constant: bool, horizon: float) -> Estimate:
    """The worst group's geometric mean over draws of last / average, with its t interval."""
    return stats.worst([stats.geometric_mean_ci(per_draw_ratios(part))
                        for _, part in ratio_groups(table, constant, horizon)])


def last_over_average(tables, cfg, constant: bool) -> dict[float, Estimate]:
    """C2b (decaying) or C2d (constant): the worst group at every horizon."""
    return {h: worst_ratio(tables["draws"], constant, h) for h in cfg.horizons}


def facts(tables, cfg) -> dict[str, float | str]:
    """Where the worst groups sit, at K."""
    out = {}
    for which, constant in (("decaying", False), ("constant", True)):
        means = {key: float(np.exp(np.log(per_draw_ratios(part)).mean()))
                 for key, part in ratio_groups(tables["draws"], constant, 1.0)}
        for label, pick in (("smallest", min), ("largest", max)):
            (name, sched, factor) = pick(means, key=means.get)
            out[f"draws_{which}_{label}"] = means[(name, sched, factor)]
            out[f"draws_{which}_{label}_at"] = (f"{name}, h = h_max/{1 / factor:g}" if constant
                                                else f"{name}, {SCHEDULE_LABELS[sched]}")
    return out
