"""F13: weight decay against an L2 term in the loss on digits logistic regression (float64).
SGD: torch's weight_decay vs the L2 gradient. Adam: AdamW(λ) vs Adam + λ'/2‖θ‖² for every λ' of a
grid at once (a replicate axis), and the paths of the closest ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from dlclaims.methods import optim
from dlclaims.rng import stream
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

from .common import F64, digits_design, exact_max, logistic_grad, logistic_loss, record_steps, run_rule, run_torch

L2_GRID = (0.0,) + tuple(float(v) for v in np.logspace(-4, 1, 41))  # λ' = 0 is plain Adam, the λ' → 0 limit
DECAYS = (0.01, 0.1)  # the weight decays λ compared
SGD_LR, ADAM_LR = 0.5, 0.01


def decay_tables(cfg) -> dict[str, pd.DataFrame]:
    x, y, _, _ = digits_design(cfg.logistic_train)
    g = stream(0, "weight-decay", "init")
    theta0 = 0.1 * torch.randn(x.shape[1], 10, generator=g, dtype=F64)
    grad = lambda th: logistic_grad(th, x, y)
    steps, rows, paths = cfg.exact_steps, [], []
    # SGD: torch's weight_decay vs the L2 term in the loss, and plain SGD
    for lam in DECAYS:
        wd = run_torch(torch.optim.SGD, theta0, grad, steps, lr=SGD_LR, weight_decay=lam)
        l2 = run_torch(torch.optim.SGD, theta0, lambda th: grad(th) + lam * th, steps, lr=SGD_LR)
        plain = run_torch(torch.optim.SGD, theta0, grad, steps, lr=SGD_LR)
        rows.append(dict(optimiser="sgd", lam=lam, best_l2=lam,
                         rel_diff=float((wd - l2).norm() / (wd - plain).norm())))
    # Adam: torch's AdamW(λ) vs Adam + λ'/2‖θ‖² for every λ' of a grid (a replicate axis)
    lr = ADAM_LR
    lams = torch.tensor(L2_GRID, dtype=F64)[:, None, None]
    record = set(record_steps(steps, 40))

    def path(label, lam, states_fn, state):
        for t in range(1, steps + 1):
            state = states_fn(state)
            if t in record:
                th = state.x
                paths.append(dict(method=label, lam=lam, step=t, norm=float(th.norm()),
                                  loss=float(logistic_loss(th, x, y))))
        return state.x

    adam = path("Adam", 0.0, lambda s: optim.adam_step(s, grad, lr), optim.start_moments(theta0))
    l2_all = run_rule(lambda s: optim.adam_step(s, lambda th: grad(th) + lams * th, lr),
                      optim.start_moments(theta0.expand(len(L2_GRID), -1, -1).clone()), steps).x
    for lam in DECAYS:
        adamw = path("AdamW", lam, lambda s: optim.adamw_step(s, grad, lr, lam), optim.start_moments(theta0))
        theirs = run_torch(torch.optim.AdamW, theta0, grad, steps, lr=lr, weight_decay=lam)
        dist = (l2_all - adamw).flatten(1).norm(dim=1) / (adamw - adam).norm()
        i = int(dist.argmin())
        rows.append(dict(optimiser="adam", lam=lam, best_l2=L2_GRID[i], rel_diff=float(dist[i]),
                         adamw_vs_torch=float((adamw - theirs).abs().max())))
        for label, lam2 in (("Adam + L2 (best λ')", L2_GRID[i]), ("Adam + L2 (λ' = λ)", lam)):
            path(label, lam, lambda s, l2=lam2: optim.adam_step(s, lambda th: grad(th) + l2 * th, lr),
                 optim.start_moments(theta0))
    return {"weight_decay": pd.DataFrame(rows), "decay_paths": pd.DataFrame(paths)}


def decay_estimate(wd: pd.DataFrame, optimiser: str) -> Estimate:
    """The worse (larger) relative distance over the weight decays λ: for "decay is L2" (SGD)."""
    return exact_max(stats.select(wd, optimiser=optimiser).rel_diff)


def closest_estimate(wd: pd.DataFrame, optimiser: str) -> Estimate:
    """The worse (smaller) relative distance over the weight decays λ: for "decay is not L2" (Adam)."""
    return Estimate.exact(float(stats.select(wd, optimiser=optimiser).rel_diff.min()))
