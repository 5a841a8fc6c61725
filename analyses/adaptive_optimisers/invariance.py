"""F6, F7: Adam on digits logistic regression (full batch, float64). Its invariance to a diagonal
rescaling of the gradients (SGD the control, ε varied), and how equal its per-coordinate steps are
against SGD's at a matched loss."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from dlclaims.methods import optim
from dlclaims.rng import stream
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

from .common import F64, digits_design, exact_max, logistic_grad, logistic_loss, run_rule, smoothness_bound

EPSILONS = (1e-8, 1e-6, 1e-4, 1e-2)  # Adam's ε: the default first, then where D|g| nears ε
ADAM_LR = 0.01


# --- measurement --------------------------------------------------------------------------------

def logistic_unit(cfg, seed: int) -> dict[str, pd.DataFrame]:
    x, y, _, _ = digits_design(cfg.logistic_train)
    theta0 = 0.01 * torch.randn(x.shape[1], 10, generator=stream(seed, "logistic", "init"), dtype=F64)
    order = torch.randperm(theta0.numel(), generator=stream(seed, "logistic", "scaling"))
    d = torch.logspace(-2, 2, theta0.numel(), dtype=F64)[order].reshape(theta0.shape)
    grad = lambda th: logistic_grad(th, x, y)
    steps, lr_adam = cfg.logistic_steps, ADAM_LR
    lr_sgd = 1 / (float(d.max()) * smoothness_bound(x))
    rows = []
    for eps in EPSILONS:
        plain = run_rule(lambda s: optim.adam_step(s, grad, lr_adam, eps=eps), optim.start_moments(theta0), steps).x
        scaled = run_rule(lambda s: optim.adam_step(s, lambda th: d * grad(th), lr_adam, eps=eps),
                          optim.start_moments(theta0), steps).x
        rows.append(dict(seed=seed, optimiser="adam", eps=eps,
                         rel_diff=float((scaled - plain).norm() / (plain - theta0).norm())))
    plain = run_rule(lambda s: optim.gd_step(s, grad, lr_sgd), theta0, steps)
    scaled = run_rule(lambda s: optim.gd_step(s, lambda th: d * grad(th), lr_sgd), theta0, steps)
    rows.append(dict(seed=seed, optimiser="sgd", eps=0.0, rel_diff=float((scaled - plain).norm() / (plain - theta0).norm())))
    return {"invariance": pd.DataFrame(rows), "equal_steps": pd.DataFrame([equal_steps(cfg, seed, x, y, theta0)])}


def step_spread(steps: torch.Tensor, active: torch.Tensor) -> float:
    """log10(q90/q10) over active coordinates of the mean |Δθ_i| over steps ([steps, coords])."""
    per_coord = steps.abs().mean(0)[active].numpy()
    q10, q90 = np.quantile(per_coord, [0.1, 0.9])
    return float(np.log10(q90 / q10))


def equal_steps(cfg, seed: int, x, y, theta0) -> dict:
    """F7: Adam (α = 0.01) for 200 steps and SGD (1/L) for up to 2000; per-coordinate steps up to the
    step at which both first reach the same loss (the higher of their final losses)."""
    grad = lambda th: logistic_grad(th, x, y)
    active = (grad(theta0).abs() > 0).flatten()
    lr_adam, lr_sgd = ADAM_LR, 1 / smoothness_bound(x)

    def trajectory(step, state, get, n):
        losses, deltas = [float(logistic_loss(get(state), x, y))], []
        for _ in range(n):
            new = step(state)
            deltas.append((get(new) - get(state)).flatten())
            losses.append(float(logistic_loss(get(new), x, y)))
            state = new
        return np.array(losses), torch.stack(deltas)

    adam_loss, adam_steps = trajectory(lambda s: optim.adam_step(s, grad, lr_adam), optim.start_moments(theta0),
                                       lambda s: s.x, cfg.logistic_steps)
    sgd_loss, sgd_steps = trajectory(lambda s: optim.gd_step(s, grad, lr_sgd), theta0, lambda s: s,
                                     10 * cfg.logistic_steps)
    level = max(adam_loss[-1], sgd_loss[-1])
    t_adam = int(np.argmax(adam_loss <= level))
    t_sgd = int(np.argmax(sgd_loss <= level))
    return dict(seed=seed, matched_loss=level, adam_steps_to_match=t_adam, sgd_steps_to_match=t_sgd,
                adam_spread=step_spread(adam_steps[:max(t_adam, 1)], active),
                sgd_spread=step_spread(sgd_steps[:max(t_sgd, 1)], active),
                max_step_over_lr=float(adam_steps.abs().max()) / lr_adam)


# --- statistics -----------------------------------------------------------------------------------

def invariance(inv: pd.DataFrame, optimiser: str, eps: float) -> Estimate:
    return stats.mean_ci(stats.per_seed(inv, "rel_diff", optimiser=optimiser, eps=eps))


def spread_difference(eq: pd.DataFrame) -> Estimate:
    eq = eq.sort_values("seed")
    return stats.paired_difference(eq.adam_spread, eq.sgd_spread)


def largest_step(eq: pd.DataFrame) -> Estimate:
    return exact_max(eq.max_step_over_lr)
