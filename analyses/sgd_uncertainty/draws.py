"""The rows measured over problem draws: every draw its own design, noise and optimum, a few
chains on each (all draws of a problem in one batched run), a statistic per draw from its chains'
means, so the interval covers the problem as well as the chains: the last point against the
average (C2b, C2d: the lecture's aside at decaying schedules and at the constant step of its
example), the plateau against h and b, steps to plateau, schedules and the noise exponents."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from dlclaims import rng
from dlclaims.methods import chains, sgd_theory
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate
from dlclaims.threads import one_thread

from .plateaus import steps_to_plateau
from .problems import (C1_PROBLEMS, CONSTANT_PROBLEMS, D, DIMINISHING, LEAST_SQUARES, NOISE, SCHEDULE_LABELS,
                       decade_grid, describe, log_grid, loglog_fit, plateau_window, problem, schedules)


def draw_seed(cfg, draw: int) -> int:
    """The root of draw ``draw``: its problem (design, noise, optimum) and its chains."""
    return rng.fold_in(cfg.seed, "draw", draw)


def horizon_steps(cfg) -> np.ndarray:
    """The logged horizons: fractions ``cfg.horizons`` of K."""
    return np.array([max(1, round(f * cfg.steps)) for f in cfg.horizons])


def draw_problems(cfg, name: str) -> list:
    """Every draw's instance of one problem."""
    return [problem(name, draw_seed(cfg, d)) for d in range(cfg.problem_draws)]


def stacked_run(cfg, name: str, groups_by_draw, tag, x0s, steps: int, log_at, average_at=None, batch: int = 1):
    """All draws' groups of chains as one batched run (chains.run_chains_stacked): draw d's group g
    has the chains ("chains", problem, tag(g), c) of the draw's stream; columns run draw, group, chain."""
    owner, keys, fields = [], [], ([], [], [])
    for d, groups in enumerate(groups_by_draw):
        seed = draw_seed(cfg, d)
        for gi, (_, _, sched) in enumerate(groups):
            keys += [rng.fold_in(seed, "chains", name, tag(gi, groups[gi]), c) for c in range(cfg.draw_chains)]
            owner += [d] * cfg.draw_chains
            for out, f in zip(fields, ("a", "k0", "p")):
                out.append(np.repeat(getattr(sched, f), cfg.draw_chains))
    combined = chains.Schedule(*(np.concatenate(f) for f in fields))
    x0 = torch.stack([x0s[d] for d in owner]) if x0s is not None else torch.zeros(D)
    return chains.run_chains_stacked(draw_problems(cfg, name), np.array(owner), x0, combined,
                                     np.array(keys, dtype=np.int64), steps, batch=batch, log_at=log_at,
                                     average_at=average_at)


def draws_unit(cfg, name: str) -> dict[str, pd.DataFrame]:
    """Per draw of one problem, from x₀ = 0: chain means of the last and the averaged gap at each
    horizon (decaying schedules and, on the constant-step problems, every constant step), each
    constant step's plateau and its curve (steps to plateau); from x* the noise part of NOISE's
    schedules; on least squares the exact theory of the draw (all draws in one batched run)."""
    at = horizon_steps(cfg)
    seeds = [draw_seed(cfg, d) for d in range(cfg.problem_draws)]
    groups_by_draw = [[g for g in schedules(cfg, name, seed) if g[0] in DIMINISHING or name in CONSTANT_PROBLEMS]
                      for seed in seeds]
    grid, window = log_grid(cfg, cfg.steps), plateau_window(cfg.steps)
    log_at = np.union1d(np.union1d(at, grid), window)
    trace = stacked_run(cfg, name, groups_by_draw, lambda gi, g: gi, None, cfg.steps, log_at, average_at=at)
    rows, plateaus, curves = [], [], []
    in_window, on_grid = np.isin(trace.k, window), np.isin(trace.k, grid)
    width = len(groups_by_draw[0]) * cfg.draw_chains
    for draw, (seed, groups) in enumerate(zip(seeds, groups_by_draw)):
        h_max = describe(name, seed)["h_max"]
        for gi, (sched, step, _) in enumerate(groups):
            cols = slice(draw * width + gi * cfg.draw_chains, draw * width + (gi + 1) * cfg.draw_chains)
            # a constant step's fraction of h_max (rounded: one group across draws); 1 for a schedule
            factor = round(step / h_max, 9) if sched == "constant" else 1.0
            last = trace.gap_last[:, cols].mean(1)
            for t, fraction in zip(np.searchsorted(trace.k, at), cfg.horizons):
                rows.append(dict(problem=name, draw=draw, schedule=sched, factor=factor, step=step,
                                 horizon=fraction, k=int(trace.k[t]), last=last[t],
                                 average=trace.gap_avg[t, cols].mean()))
            if sched == "constant":
                plateaus.append(dict(problem=name, draw=draw, factor=factor, step=step,
                                     plateau=trace.gap_last[in_window, cols].mean(0).mean()))
                curves += [dict(problem=name, draw=draw, factor=factor, k=int(k), gap=g)
                           for k, g in zip(trace.k[on_grid], last[on_grid])]
    tables = {"draws": pd.DataFrame(rows)}
    if plateaus:
        tables |= {"draw_plateaus": pd.DataFrame(plateaus), "draw_curves": pd.DataFrame(curves)}
    return tables | draw_noise(cfg, name, seeds) | draw_theory(cfg, name, seeds)


def draw_noise(cfg, name: str, seeds) -> dict[str, pd.DataFrame]:
    """The noise part per draw: NOISE[name]'s schedules from the draw's x*, over the last decade."""
    if name not in NOISE:
        return {}
    groups_by_draw = [[g for g in schedules(cfg, name, seed) if g[0] in NOISE[name]] for seed in seeds]
    x_stars = [problem(name, seed).x_star for seed in seeds]
    grid = decade_grid(cfg.steps)
    trace = stacked_run(cfg, name, groups_by_draw, lambda gi, g: f"noise-{g[0]}", x_stars, cfg.steps, grid,
                        average_at=[])
    width, rows = len(groups_by_draw[0]) * cfg.draw_chains, []
    for draw, groups in enumerate(groups_by_draw):
        for gi, (sched, _, _) in enumerate(groups):
            gap = trace.gap_last[:, draw * width + gi * cfg.draw_chains:draw * width + (gi + 1) * cfg.draw_chains]
            rows += [dict(problem=name, draw=draw, schedule=sched, k=int(k), gap=g) for k, g in
                     zip(trace.k, gap.mean(1))]
    return {"draw_noise": pd.DataFrame(rows)}


def draw_theory(cfg, name: str, seeds) -> dict[str, pd.DataFrame]:
    """Least squares: the exact stationary plateau of every constant step (ls_iso, ls_ill) or the
    exact noise part along h_max/√(k+1) (ls_flat), per draw."""
    if name not in (*LEAST_SQUARES, "ls_flat"):
        return {}
    rows = []
    for draw, seed in enumerate(seeds):
        p, h_max = problem(name, seed), describe(name, seed)["h_max"]
        with one_thread():
            th = sgd_theory.StationaryTheory(p.A, p.y)
        if name == "ls_flat":
            grid = decade_grid(cfg.steps)
            sched = chains.Schedule(np.array([h_max]), np.array([1.0]), np.array([0.5]))
            with one_thread():
                exact = th.noise_path(sched.steps(0, cfg.steps)[:, 0], grid)
            rows += [dict(problem=name, draw=draw, schedule="inv_sqrt", k=int(k), exact_noise=e)
                     for k, e in zip(grid, exact)]
        else:
            rows += [dict(problem=name, draw=draw, factor=round(f, 9), exact_plateau=th.excess(f * h_max, 1))
                     for f in cfg.step_factors]
    return {"draw_noise_theory" if name == "ls_flat" else "draw_theory": pd.DataFrame(rows)}


def batch_draws_unit(cfg, b: int) -> dict[str, pd.DataFrame]:
    """C5 per draw of ls_iso at h = h_max/4 and batch b: the chain-mean plateau, and the chain-mean
    variance of the mini-batch gradient at the draw's x* (fresh indices from each chain's stream)."""
    seeds = [draw_seed(cfg, d) for d in range(cfg.problem_draws)]
    steps_h = [describe("ls_iso", seed)["h_max"] / 4 for seed in seeds]
    groups_by_draw = [[("batch_sweep", h, chains.Schedule.constant(h))] for h in steps_h]
    window = plateau_window(cfg.batch_steps)
    trace = stacked_run(cfg, "ls_iso", groups_by_draw, lambda gi, g: f"batch-{b}", None, cfg.batch_steps, window,
                        average_at=[], batch=b)
    rows = []
    for draw, seed in enumerate(seeds):
        p, cols = problem("ls_iso", seed), slice(draw * cfg.draw_chains, (draw + 1) * cfg.draw_chains)
        keys = [rng.fold_in(rng.fold_in(seed, "chains", "ls_iso", f"batch-{b}", c), "variance-draws")
                for c in range(cfg.draw_chains)]
        idx = torch.from_numpy(chains.chain_indices(keys, 0, cfg.variance_draws, b, p.n))
        rows_x = p.A[idx]  # (C, draws, b, d)
        g = (rows_x * ((rows_x @ p.x_star) - p.y[idx]).unsqueeze(-1)).mean(2)  # (C, draws, d); ∇F(x*) = 0
        rows.append(dict(problem="ls_iso", draw=draw, batch=b, step=steps_h[draw],
                         plateau=float(trace.gap_last[:, cols].mean()),
                         grad_variance=float((g * g).sum(-1).mean())))
    return {"draw_batches": pd.DataFrame(rows)}


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


# --- the rows measured over draws: one value per draw, the interval over draws ---------------

def over_draws(values) -> Estimate:
    """The mean of per-draw values with its t interval over draws (each draw's value from its own chains)."""
    return stats.mean_ci(np.asarray(values, dtype=float))


def draw_matrix(table: pd.DataFrame, column: str, by: str, **where) -> tuple[np.ndarray, np.ndarray]:
    """(levels of ``by``, (draws, levels) array of ``column``)."""
    part = stats.select(table, **where)
    return np.sort(part[by].unique()).astype(float), stats.per_seed(part, column, by=by, seed="draw")


def draw_plateaus(tables, name: str, largest: float) -> tuple[np.ndarray, np.ndarray]:
    """(factors ≤ largest, (draws, factors) chain-mean plateaus) of one problem; 1e-6: CSV round-trip."""
    part = stats.select(tables["draw_plateaus"], problem=name)
    return draw_matrix(part[part.factor <= largest * (1 + 1e-6)], "plateau", "factor")


def slope_vs_h(tables, name: str, largest: float) -> Estimate:
    """C1a–c: per draw the log-log slope of the chain-mean plateau against h (= factor · the draw's
    h_max) over h ≤ largest·h_max; the mean over draws."""
    f, q = draw_plateaus(tables, name, largest)
    fit = loglog_fit(f)
    return over_draws([fit(row) for row in q])


def smallest_slope_vs_h(tables) -> Estimate:
    """C1e: the slope over the whole grid, the smallest over the C1 problems."""
    return stats.worst([slope_vs_h(tables, name, 1.0) for name in C1_PROBLEMS], largest=False)


def measured_over_exact(tables) -> list[Estimate]:
    """C1d's groups: per (least-squares design, h) the geometric mean over draws of the draw's
    chain-mean plateau over its own exact stationary plateau."""
    both = tables["draw_plateaus"].merge(tables["draw_theory"], on=["problem", "draw", "factor"])
    return [stats.geometric_mean_ci(part.sort_values("draw").eval("plateau / exact_plateau"))
            for _, part in both.groupby(["problem", "factor"])]


def growth_of_advantage(tables) -> Estimate:
    """C2c: per draw (last / average at K) / (the same at K/10), constant steps on least squares;
    geometric mean over draws, the smallest over (problem, h)."""
    ratios = []
    for _, part in ratio_groups(tables["draws"], True, 1.0):
        at_k = per_draw_ratios(part)
        name, factor = part.problem.iloc[0], part.factor.iloc[0]
        if name not in LEAST_SQUARES:
            continue
        tenth = tables["draws"][(tables["draws"].problem == name) & (tables["draws"].schedule == "constant")
                                & (tables["draws"].factor == factor) & np.isclose(tables["draws"].horizon, 0.1)]
        ratios.append(stats.geometric_mean_ci(at_k / per_draw_ratios(tenth)))
    return stats.worst(ratios, largest=False)


def reach_slopes(tables, name: str) -> np.ndarray:
    """Per draw: the log-log slope of steps-to-plateau (the chain-mean curve falling to twice the
    chain-mean plateau) against h."""
    f, q = draw_plateaus(tables, name, 1.0)
    curves = stats.select(tables["draw_curves"], problem=name)
    fit, out = loglog_fit(f), []
    for d, plateau in zip(np.sort(curves.draw.unique()), q):
        reach = []
        for factor, level in zip(f, plateau):
            c = curves[(curves.draw == d) & np.isclose(curves.factor, factor)].sort_values("k")
            reach.append(steps_to_plateau(c.k.to_numpy(dtype=float), c.gap.to_numpy(), level))
        out.append(fit(np.array(reach)) if np.all(np.isfinite(reach)) else np.nan)
    return np.array(out)


def least_negative_reach_slope(tables) -> Estimate:
    """C3: the mean over draws of the reach slope, the least negative over the constant-step problems."""
    return stats.worst([over_draws(reach_slopes(tables, name)) for name in CONSTANT_PROBLEMS])


def decaying_over_lowest_plateau(tables) -> Estimate:
    """C4: per draw the chain-mean last gap at K of a decaying schedule over the draw's lowest
    constant-step plateau; geometric mean over draws, the worst (problem, schedule)."""
    table, out = tables["draws"], []
    for name in CONSTANT_PROBLEMS:
        f, q = draw_plateaus(tables, name, 1.0)
        lowest = q[:, np.argmin(f)]
        for sched in DIMINISHING:
            final = stats.select(table, problem=name, schedule=sched)
            final = final[np.isclose(final.horizon, 1.0)].sort_values("draw")["last"].to_numpy()
            out.append(stats.geometric_mean_ci(final / lowest))
    return stats.worst(out)


def slope_vs_b(tables, column: str) -> Estimate:
    """C5a (gradient variance at x*), C5b (plateau): per draw the log-log slope against b; mean over draws."""
    b, values = draw_matrix(tables["draw_batches"], column, "batch")
    fit = loglog_fit(b)
    return over_draws([fit(row) for row in values])


def noise_slope(tables, name: str, schedule: str) -> Estimate:
    """C6b, C6c, C6e: per draw the log-log slope of the chain-mean noise part over the last decade."""
    k, gaps = draw_matrix(tables["draw_noise"], "gap", "k", problem=name, schedule=schedule)
    fit = loglog_fit(k)
    return over_draws([fit(row) for row in gaps])


def noise_over_exact(tables, name: str, schedule: str) -> Estimate:
    """C6f: per draw the chain-mean noise part over the draw's exact recursion, mean over the last
    decade; geometric mean over draws."""
    both = stats.select(tables["draw_noise"], problem=name, schedule=schedule).merge(
        tables["draw_noise_theory"], on=["problem", "draw", "schedule", "k"])
    per_draw = both.assign(r=both.gap / both.exact_noise).groupby("draw").r.mean()
    return stats.geometric_mean_ci(per_draw.to_numpy())


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
