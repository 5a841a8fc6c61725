"""E4: the lecture's change-of-variables Nesterov against the look-ahead forms (000's velocity,
003's iterates) and torch.optim.SGD(nesterov=True), iterate by iterate, on rotated quadratics."""

from __future__ import annotations

import math

import pandas as pd
import torch

from dlclaims.methods import optim
from dlclaims.rng import stream

from .objectives import F64, matvec, quadratic

DIMENSION = 20
SPECTRUM = (0.01, 1.0)  # μ and L of the rotated quadratics: κ = 100 sets the constant β


def rotated_quadratic(g: torch.Generator, batch: int, d: int, mu: float, L: float):
    """H = Q diag(λ) Qᵀ per row, λ log-uniform in [μ, L] with both ends included."""
    q, _ = torch.linalg.qr(torch.randn(batch, d, d, generator=g, dtype=F64))
    lam = torch.exp(torch.empty(batch, d, dtype=F64).uniform_(math.log(mu), math.log(L), generator=g))
    lam[:, 0], lam[:, 1] = mu, L
    return q @ torch.diag_embed(lam) @ q.transpose(1, 2)


def e4_forms(cfg, schedule: str) -> pd.DataFrame:
    """Every form of one schedule (constant β, with torch; or the convex β_t, lecture forms only)."""
    g = stream(0, "forms-problems")  # fixed: the same problems for both schedules
    seeds, d = max(cfg.seeds // 2, 2), DIMENSION
    mu, L = SPECTRUM
    H = rotated_quadratic(g, seeds, d, mu, L)
    x_star = torch.randn(seeds, d, generator=g, dtype=F64)
    x0 = torch.randn(seeds, d, generator=g, dtype=F64)
    f = quadratic(lambda e: matvec(H, e), x_star)
    lr, beta = 1.0, optim.strongly_convex_momentum(L / mu)
    b = (lambda t: beta) if schedule == "constant" else optim.convex_momentum
    look, vel, cov = optim.start(x0), optim.start_velocity(x0), optim.start_velocity(x0)
    p = torch.nn.Parameter(x0.clone())
    opt = torch.optim.SGD([p], lr=lr, momentum=beta, nesterov=True) if schedule == "constant" else None
    diffs = {"look_ahead_003": [], "velocity_000": [], "torch_sgd": []}
    for t in range(cfg.torch_steps):
        with torch.no_grad():
            look = optim.nesterov_step(look, f.grad, lr, b(t))
            vel = optim.nesterov_velocity_step(vel, f.grad, lr, b(t))
            cov = optim.nesterov_change_of_variables_step(cov, f.grad, lr, b(t), b(t + 1))
            # every form mapped to the look-ahead point W̃_{t+1} = W_{t+1} + β_{t+1} v_{t+1}
            diffs["look_ahead_003"].append((look.x + b(t + 1) * (look.x - look.x_prev) - cov.w).abs().max())
            diffs["velocity_000"].append((vel.w + b(t + 1) * vel.v - cov.w).abs().max())
        if opt is not None:
            opt.zero_grad()
            p.grad = f.grad(p.detach())
            opt.step()
            diffs["torch_sgd"].append((p.detach() - cov.w).abs().max())
    return pd.DataFrame([dict(schedule=schedule, compared_with=other, steps=cfg.torch_steps, seeds=seeds,
                              max_abs_diff=float(torch.stack(values).max()),
                              final_distance_to_optimum=float((cov.w - x_star).norm(dim=1).max()))
                         for other, values in diffs.items() if values])
