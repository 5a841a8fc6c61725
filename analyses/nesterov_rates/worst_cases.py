"""E1: smooth convex rates on worst cases built anew for every horizon T (Nesterov's quadratic,
1-D quadratics, 1-D Huber functions), GD and NAG, with the bounds they are judged against."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pandas as pd
import torch

from dlclaims.methods import optim

from .objectives import F64, Objective, quadratic, tensor

INSTANCES = {"nesterov_worst": "Nesterov's quadratic (dim 2T+1)", "worst_1d_quadratic": "worst 1-D quadratic",
             "worst_1d_huber": "worst 1-D Huber"}


def horizon_grid(cfg) -> list[int]:
    return sorted({int(round(t)) for t in np.geomspace(4, cfg.max_horizon, cfg.horizons)})


# --- the instances ---------------------------------------------------------------------------

def nesterov_matrix(L: float = 1.0) -> Callable[[torch.Tensor], torch.Tensor]:
    """x ↦ A x for Nesterov's A = (L/4) tridiag(−1, 2, −1), of x's dimension."""

    def apply(x: torch.Tensor) -> torch.Tensor:
        padded = torch.nn.functional.pad(x, (1, 1))
        return (L / 4) * (2 * x - padded[..., :-2] - padded[..., 2:])

    return apply


def nesterov_minimiser(k: int) -> torch.Tensor:
    """x*_i = 1 − i/(k + 1): solves A x = (L/4) e₁."""
    return 1 - torch.arange(1, k + 1, dtype=F64) / (k + 1)


def huber(delta: torch.Tensor, L: float = 1.0) -> Objective:
    """f(x) = L δ|x| − L δ²/2 for |x| ≥ δ, L x²/2 inside (per row δ; one coordinate): L-smooth, convex, f* = 0."""

    def grad(x: torch.Tensor) -> torch.Tensor:
        return L * torch.clamp(x, -delta, delta)

    def gap(x: torch.Tensor) -> torch.Tensor:
        a = x.abs()
        return torch.where(a <= delta, 0.5 * L * x * x, L * delta * (a - 0.5 * delta)).sum(-1)

    return Objective(grad, gap)


def run_convex(f: Objective, x0: torch.Tensor, method: str, horizon: int, record: list[int], lr: float):
    """Run GD or NAG (β_t = (t−1)/(t+2)) for ``horizon`` steps; yield (T, gap) at the recorded T."""
    state = optim.start(x0)
    wanted = set(record)
    for t in range(horizon + 1):
        if t in wanted:
            yield t, f.gap(state.x)
        if t == horizon:
            break
        if method == "gd":
            state = optim.Iterates(optim.gd_step(state.x, f.grad, lr), state.x)
        else:
            state = optim.nesterov_step(state, f.grad, lr, optim.convex_momentum(t))


# --- the bounds ------------------------------------------------------------------------------

def gd_worst_1d_closed_form(T: int, L: float = 1.0, R2: float = 1.0) -> float:
    """sup over λ ∈ (0, L] of λ/2 (1 − λ/L)^{2T} R²: attained at λ = L/(2T + 1)."""
    u = 1 / (2 * T + 1)
    return L * R2 / 2 * u * (1 - u) ** (2 * T)


def gd_tight_bound(T, L: float = 1.0, R2: float = 1.0):
    """Drori & Teboulle (2014): GD with η = 1/L has the exact worst case L R²/(4T + 2)."""
    return L * R2 / (4 * np.asarray(T, dtype=float) + 2)


def exact_lower_bound(T: int, L: float = 1.0, R2: float = 1.0) -> float:
    """L R²/(2θ_T²): the best worst case any first-order method can have after T steps
    (Drori 2017), attained by Kim & Fessler's OGM; θ₀ = 1, θ_i = (1 + √(1 + 4θ²_{i−1}))/2,
    and the last step θ_T = (1 + √(1 + 8θ²_{T−1}))/2."""
    theta = 1.0
    for _ in range(T - 1):
        theta = (1 + math.sqrt(1 + 4 * theta**2)) / 2
    theta = (1 + math.sqrt(1 + 8 * theta**2)) / 2
    return L * R2 / (2 * theta**2)


# --- the runs --------------------------------------------------------------------------------

def e1_nesterov_quadratic(cfg) -> pd.DataFrame:
    """Nesterov's quadratic, one per horizon; both methods, each measured at its own T."""
    rows = []
    for T in horizon_grid(cfg):
        k = 2 * T + 1
        x_star = nesterov_minimiser(k)
        f = quadratic(nesterov_matrix(), x_star)
        R2 = float((x_star**2).sum())
        for method in ("gd", "nag"):
            (_, gap), = run_convex(f, torch.zeros(k, dtype=F64), method, T, [T], 1.0)
            rows.append(dict(instance="nesterov_worst", method=method, horizon=T, dimension=k,
                             parameter=math.nan, gap_over_LR2=float(gap) / R2))
    return pd.DataFrame(rows)


def huber_kinks(cfg) -> np.ndarray:
    """A log grid of kink widths δ (R = 1) plus Drori & Teboulle's δ = 1/(2T + 1) for every T."""
    grid = np.geomspace(0.1 / cfg.max_horizon**2, 1.0, cfg.grid_huber)
    tight = 1 / (2 * np.array(horizon_grid(cfg), dtype=float) + 1)
    return np.unique(np.concatenate([grid, tight]))


def e1_one_dimensional(cfg) -> pd.DataFrame:
    """λx²/2 over a log grid of λ ∈ (0, L] and Huber functions over a grid of δ, x₀ = R = 1:
    every member run at once (rows), the worst member at each recorded T."""
    grid = horizon_grid(cfg)
    families = {
        "worst_1d_quadratic": (np.geomspace(1e-7, 1.0, cfg.grid_1d),
                               lambda p: quadratic(lambda e: p * e, torch.zeros_like(p))),
        "worst_1d_huber": (huber_kinks(cfg), huber),
    }
    rows = []
    for instance, (values, build) in families.items():
        p = tensor(values)[:, None]
        f = build(p)
        for method in ("gd", "nag"):
            for T, gap in run_convex(f, torch.ones_like(p), method, grid[-1], grid, 1.0):
                i = int(gap.argmax())
                rows.append(dict(instance=instance, method=method, horizon=T, dimension=1,
                                 parameter=float(values[i]), gap_over_LR2=float(gap[i])))
    return pd.DataFrame(rows)


def with_bounds(table: pd.DataFrame) -> pd.DataFrame:
    """The bounds at each T (all over L R²) and the gap over the method's own bound."""
    T = table.horizon.to_numpy(float)
    table = table.assign(gd_bound_over_LR2=1 / (2 * T), nag_bound_over_LR2=2 / (T + 1) ** 2,
                         lower_bound_over_LR2=3 / (32 * (T + 1) ** 2), gd_tight_bound_over_LR2=gd_tight_bound(T),
                         exact_lower_bound_over_LR2=[exact_lower_bound(int(t)) for t in T],
                         closed_form_gd_1d=[gd_worst_1d_closed_form(int(t)) for t in T])
    own = np.where(table.method == "gd", table.gd_bound_over_LR2, table.nag_bound_over_LR2)
    return table.assign(gap_over_own_bound=table.gap_over_LR2 / own, T_gap_over_LR2=T * table.gap_over_LR2,
                        T2_gap_over_LR2=T**2 * table.gap_over_LR2)


def envelope(worst: pd.DataFrame) -> pd.DataFrame:
    """Per (method, T): the worst case over every instance, and which instance it was."""
    top = worst.loc[worst.groupby(["method", "horizon"], sort=True).gap_over_LR2.idxmax()]
    return top.rename(columns={"instance": "worst_instance"}).reset_index(drop=True)


def e1_fixed_instance(cfg) -> pd.DataFrame:
    """One fixed function (Nesterov's quadratic of a fixed dimension), gap vs T for both methods."""
    x_star = nesterov_minimiser(cfg.fixed_dimension)
    f = quadratic(nesterov_matrix(), x_star)
    R2 = float((x_star**2).sum())
    record = sorted(set(np.unique(np.geomspace(1, cfg.max_horizon, 60).astype(int))))
    rows = []
    for method in ("gd", "nag"):
        for T, gap in run_convex(f, torch.zeros(cfg.fixed_dimension, dtype=F64), method, cfg.max_horizon, record, 1.0):
            rows.append(dict(method=method, dimension=cfg.fixed_dimension, horizon=T, gap_over_LR2=float(gap) / R2))
    return pd.DataFrame(rows)
