"""E3: Lessard, Recht & Packard's strongly convex counterexample, on which heavy ball with
Polyak's quadratic-optimal parameters ends in a limit cycle while NAG and GD converge."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from dlclaims.methods import optim
from dlclaims.rng import np_stream

from .objectives import tensor

LESSARD = dict(L=25.0, mu=1.0, start_low=3.07, start_high=3.32)  # their function's constants and starts
TAIL = 100             # iterates after the burn-in on which a cycle is detected
MAX_PERIOD = 20        # the longest period looked for
CYCLE_TOL = 1e-9       # |x_{k+p} − x_k| along the tail: a repeat, not a slow approach
MIN_AMPLITUDE = 0.01   # a cycle must swing by more than this (half the tail's range) to count


def lessard_grad(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x < 1, 25 * x, torch.where(x < 2, x + 24, 25 * x - 24))


def lessard_f(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x < 1, 12.5 * x**2, torch.where(x < 2, 0.5 * x**2 + 24 * x - 12, 12.5 * x**2 - 24 * x + 36))


def lessard_runs(x0: torch.Tensor, steps: int) -> dict[str, torch.Tensor]:
    """Trajectories (steps + 1, starts) of heavy ball, NAG and GD on Lessard's function."""
    L, mu = LESSARD["L"], LESSARD["mu"]
    lr_hb, beta_hb = optim.heavy_ball_quadratic_parameters(L, mu)
    beta_nag = optim.strongly_convex_momentum(L / mu)
    rules = {
        "heavy_ball": lambda s: optim.heavy_ball_step(s, lessard_grad, lr_hb, beta_hb),
        "nag": lambda s: optim.nesterov_step(s, lessard_grad, 1 / L, beta_nag),
        "gd": lambda s: optim.Iterates(optim.gd_step(s.x, lessard_grad, 1 / L), s.x),
    }
    out = {}
    for name, rule in rules.items():
        state, path = optim.start(x0), [x0]
        for _ in range(steps):
            state = rule(state)
            path.append(state.x)
        out[name] = torch.stack(path)
    return out


def detect_cycle(tail: np.ndarray, max_period: int = MAX_PERIOD, tol: float = CYCLE_TOL) -> int:
    """Smallest p with |x_{k+p} − x_k| ≤ tol along the tail; 0 if none up to max_period."""
    for p in range(1, max_period + 1):
        if np.max(np.abs(tail[p:] - tail[:-p])) <= tol:
            return p
    return 0


def e3_lessard(cfg) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every method from the same random starts: period, amplitude and final gap of each run,
    and one start's trajectories for the figure."""
    rng = np_stream(0, "lessard-starts")  # fixed: one set of starts for every method
    starts = np.sort(rng.uniform(LESSARD["start_low"], LESSARD["start_high"], cfg.lessard_starts))
    paths = lessard_runs(tensor(starts), cfg.lessard_steps)
    rows = []
    for method, path in paths.items():
        tail = path[-TAIL:].cpu().numpy()
        final_gap = lessard_f(path[-TAIL:]).max(0).values.cpu().numpy()
        for j, x0 in enumerate(starts):
            period = detect_cycle(tail[:, j])
            amplitude = (tail[:, j].max() - tail[:, j].min()) / 2
            points = np.sort(tail[-period:, j]) if period >= 2 else np.array([])
            rows.append(dict(method=method, start=x0, period=period, amplitude=amplitude,
                             final_gap=final_gap[j], cycling=bool(period >= 2 and amplitude > MIN_AMPLITUDE),
                             cycle_points=" ".join(f"{p:.6f}" for p in points) or "none"))
    show = lessard_runs(tensor([starts[len(starts) // 2]]), 80)
    traj = pd.DataFrame([dict(method=m, start=float(p[0, 0]), step=k, x=float(p[k, 0]))
                         for m, p in show.items() for k in range(p.shape[0])])
    return pd.DataFrame(rows), traj
