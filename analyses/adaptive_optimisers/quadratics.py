"""F2: GD and AdaGrad on ½(a x² + y²), axis-aligned and rotated 45°, each at the best rate of a
41-point log grid; iterations to a relative gap of 1e-6 (the budget if never reached)."""

from __future__ import annotations

import math

import pandas as pd
import torch

from dlclaims.methods import optim
from dlclaims.rng import stream
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

from .common import F64, GAP

QUAD_RATIOS = (10, 100, 1000)  # curvature ratios a (the shallow direction has curvature 1)
LR_GRIDS = {"gd": (-4, 1), "adagrad": (-3, 2)}  # log10 ends of each rule's 41-point grid


def quadratic_hessians(rotated: bool) -> torch.Tensor:
    c = math.cos(math.pi / 4) if rotated else 1.0
    s = math.sin(math.pi / 4) if rotated else 0.0
    rot = torch.tensor([[c, -s], [s, c]], dtype=F64)
    return torch.stack([rot @ torch.diag(torch.tensor([float(a), 1.0], dtype=F64)) @ rot.T for a in QUAD_RATIOS])


def hitting_times(h: torch.Tensor, x0: torch.Tensor, lrs: torch.Tensor, rule: str, steps: int) -> torch.Tensor:
    """First step at which f(x_t)/f(x_0) ≤ 1e-6; ``steps`` + 1 if never. x: [P, L, S, 2], h: [P, 2, 2]."""
    x = x0[None, None].expand(h.shape[0], lrs.shape[0], -1, -1).clone()
    hb = h[:, None]  # [P, 1, 2, 2], symmetric
    grad = lambda z: z @ hb
    f0 = 0.5 * (x * grad(x)).sum(-1)
    lr = lrs[None, :, None, None]
    hit = torch.full(f0.shape, steps + 1, dtype=torch.long)
    state = x if rule == "gd" else optim.start_accumulator(x)
    for t in range(1, steps + 1):
        state = optim.gd_step(state, grad, lr) if rule == "gd" else optim.adagrad_step(state, grad, lr)
        cur = state if rule == "gd" else state.x
        done = (0.5 * (cur * grad(cur)).sum(-1) <= GAP * f0) & (hit > steps)
        hit.masked_fill_(done, t)
        if t % 500 == 0 and bool((hit <= steps).all()):
            break
    return hit


def quadratic_unit(cfg) -> dict[str, pd.DataFrame]:
    """All seeds at once: seed s starts at angle φ_s on the unit circle."""
    angles = torch.tensor([float(torch.rand(1, generator=stream(s, "quadratic", "start-angle"))) * 2 * math.pi
                           for s in range(cfg.seeds)], dtype=F64)
    x0 = torch.stack([torch.cos(angles), torch.sin(angles)], 1)
    grids = {rule: torch.logspace(lo, hi, 41, dtype=F64) for rule, (lo, hi) in LR_GRIDS.items()}
    h = torch.cat([quadratic_hessians(False), quadratic_hessians(True)])
    problems = [(r, rotated) for rotated in (False, True) for r in QUAD_RATIOS]
    rows = []
    for rule, lrs in grids.items():
        best, where = hitting_times(h, x0, lrs, rule, cfg.quad_steps).min(1)
        for p, (ratio, rotated) in enumerate(problems):
            for s in range(cfg.seeds):
                rows.append(dict(seed=s, ratio=ratio, rotated=rotated, optimiser=rule,
                                 best_lr=float(lrs[where[p, s]]), iterations=int(best[p, s]),
                                 reached=bool(best[p, s] <= cfg.quad_steps)))
    return {"quadratic": pd.DataFrame(rows).sort_values(["rotated", "optimiser", "ratio", "seed"], kind="stable")
            .reset_index(drop=True)}


def quadratic_ratio(quad: pd.DataFrame, rotated: bool, ratios=(100, 1000)) -> Estimate:
    """AdaGrad / GD best iterations, paired per seed; the worst (largest, or smallest if rotated) of ``ratios``."""
    ests = [stats.paired_ratio(stats.per_seed(quad, "iterations", ratio=r, rotated=rotated, optimiser="adagrad"),
                               stats.per_seed(quad, "iterations", ratio=r, rotated=rotated, optimiser="gd"))
            for r in ratios]
    return stats.worst(ests, largest=not rotated)


def mean_iterations(quad: pd.DataFrame, optimiser: str, ratio: int, rotated: bool) -> float:
    """Mean over seeds of the best iterations to the gap (for the method text)."""
    return float(stats.select(quad, optimiser=optimiser, ratio=ratio, rotated=rotated).iterations.mean())
