"""F8, F9, F15: the lectures' printed update rules. Momentum's steady states, our rules against
torch.optim on digits logistic regression (float64, closed-form gradients), each printed variant
on a 10-d quadratic at the best rate of a grid, and the optimisers' state memory."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from dlclaims.methods import optim
from dlclaims.rng import stream
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

from .common import F64, digits_design, exact_max, logistic_grad, run_rule, run_torch

MOMENTA = (0.5, 0.9, 0.99)  # ρ of the steady-state checks (F8a, F8b)
GRADIENT_SCALES = (1.0, 1e-3, 1e-5)  # F9b: ε matters once |g| nears it

PRINTED = {
    # name: (start(x0), step(state, grad, lr))
    "rmsprop_002_printed": (optim.start_accumulator, lambda s, g, lr: optim.rmsprop_numerator_g_step(s, g, lr)),
    "momentum_000_printed": (optim.start_velocity, lambda s, g, lr: optim.momentum_doubled_lr_step(s, g, lr, 0.9)),
    "adam_written_back": (optim.start_moments, lambda s, g, lr: optim.adam_written_back_step(s, g, lr)),
    "rmsprop": (optim.start_accumulator, lambda s, g, lr: optim.rmsprop_step(s, g, lr, 0.9)),
    "momentum": (optim.start_velocity, lambda s, g, lr: optim.momentum_step(s, g, lr, 0.9)),
    "adam": (optim.start_moments, lambda s, g, lr: optim.adam_step(s, g, lr)),
}


# --- measurement --------------------------------------------------------------------------------

def momentum_steady(rho: float, alternating: bool, lr: float = 0.1) -> tuple[float, float]:
    """(steady |step|/(α|g|), velocity/(α g) after a constant gradient) for momentum_step, after
    enough steps that ρᵗ < 1e-13."""
    steps = 2 * math.ceil(math.log(1e-13) / math.log(rho) / 2)
    state = optim.start_velocity(torch.zeros(1, dtype=F64))
    for t in range(steps):
        sign = -1.0 if alternating and t % 2 else 1.0
        old = state.w
        state = optim.momentum_step(state, lambda x: torch.full_like(x, sign), lr, rho)
    return float((state.w - old).abs()[0]) / lr, float(-state.v[0]) / lr


def momentum_rows() -> list[dict]:
    rows = []
    for rho in MOMENTA:
        steady, velocity = momentum_steady(rho, False)
        alternating, _ = momentum_steady(rho, True)
        rows.append(dict(quantity="momentum", rho=rho, steady=steady, steady_theory=1 / (1 - rho),
                         velocity=velocity, alternating=alternating, alternating_theory=1 / (1 + rho)))
    return rows


def torch_comparisons(cfg) -> list[dict]:
    x, y, _, _ = digits_design(cfg.logistic_train)
    steps = cfg.exact_steps
    theta0 = torch.zeros(x.shape[1], 10, dtype=F64)
    rows = []
    for scale in GRADIENT_SCALES:
        grad = lambda th, s=scale: logistic_grad(th, x, y, s)
        theirs = run_torch(torch.optim.RMSprop, theta0, grad, steps, lr=0.01, alpha=0.9, eps=1e-8)
        inside = run_rule(lambda s: optim.rmsprop_step(s, grad, 0.01, 0.9, 1e-8, eps_inside=True),
                          optim.start_accumulator(theta0), steps).x
        outside = run_rule(lambda s: optim.rmsprop_step(s, grad, 0.01, 0.9, 1e-8),
                           optim.start_accumulator(theta0), steps).x
        travelled = float((theirs - theta0).abs().max())
        rows += [dict(rule="rmsprop_eps_inside", scale=scale, max_abs_diff=float((inside - theirs).abs().max()),
                      travelled=travelled),
                 dict(rule="rmsprop_eps_outside", scale=scale, max_abs_diff=float((outside - theirs).abs().max()),
                      travelled=travelled)]
    grad = lambda th: logistic_grad(th, x, y)
    ours = run_rule(lambda s: optim.adagrad_step(s, grad, 0.1), optim.start_accumulator(theta0), steps).x
    theirs = run_torch(torch.optim.Adagrad, theta0, grad, steps, lr=0.1, eps=1e-8)
    rows.append(dict(rule="adagrad", scale=1.0, max_abs_diff=float((ours - theirs).abs().max()),
                     travelled=float((theirs - theta0).abs().max())))
    ours = run_rule(lambda s: optim.adam_step(s, grad, 0.01), optim.start_moments(theta0), steps).x
    theirs = run_torch(torch.optim.Adam, theta0, grad, steps, lr=0.01)
    rows.append(dict(rule="adam", scale=1.0, max_abs_diff=float((ours - theirs).abs().max()),
                     travelled=float((theirs - theta0).abs().max())))
    return rows


def printed_rules(steps: int) -> tuple[list[dict], float]:
    """Each printed rule on ½ xᵀHx, H = diag(logspace(0, 1, 10)), at every lr of a grid at once."""
    g = stream(0, "printed-rules", "start")
    hd = torch.logspace(0, 1, 10, dtype=F64)
    x0 = torch.randn(10, generator=g, dtype=F64)
    lrs = torch.logspace(-5, 1, 25, dtype=F64)
    f = lambda z: 0.5 * (hd * z * z).sum(-1)
    grad = lambda z: hd * z
    rows = []
    for name, (start, step) in PRINTED.items():
        state = start(x0.expand(len(lrs), -1).clone())
        with np.errstate(all="ignore"):
            state = run_rule(lambda s: step(s, grad, lrs[:, None]), state, steps)
        gap = (f(state[0]) / f(x0)).nan_to_num(nan=math.inf)
        i = int(gap.argmin())
        rows.append(dict(rule=name, best_lr=float(lrs[i]), final_gap=float(gap[i])))
    # 000's doubled α is momentum with α²
    a, b = optim.start_velocity(x0), optim.start_velocity(x0)
    worst = 0.0
    for _ in range(steps):
        a = optim.momentum_doubled_lr_step(a, grad, 0.3, 0.9)
        b = optim.momentum_step(b, grad, 0.09, 0.9)
        worst = max(worst, float((a.w - b.w).abs().max()))
    return rows, worst


def memory_rows() -> list[dict]:
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    n_params = sum(p.numel() for p in net.parameters())
    rows = []
    for name, cls, kw in (("SGD + momentum", torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
                          ("AdaGrad", torch.optim.Adagrad, {}), ("RMSProp", torch.optim.RMSprop, {}),
                          ("Adam", torch.optim.Adam, {})):
        opt = cls(net.parameters(), **kw)
        net(torch.ones(2, 64)).sum().backward()
        opt.step()
        rows.append(dict(optimiser=name, state_elements=optim.state_elements(opt), parameters=n_params,
                         ratio=optim.state_elements(opt) / n_params))
        opt.zero_grad()
    return rows


# --- statistics -----------------------------------------------------------------------------------

def momentum_checks(exact: pd.DataFrame) -> pd.DataFrame:
    return exact[exact.quantity == "momentum"]


def steady_error(exact: pd.DataFrame) -> Estimate:
    m = momentum_checks(exact)
    return exact_max(np.abs(m.steady / m.steady_theory - 1))


def alternating_error(exact: pd.DataFrame) -> Estimate:
    m = momentum_checks(exact)
    return exact_max(np.abs(m.alternating / m.alternating_theory - 1))


def velocity_over_gradient(exact: pd.DataFrame, rho: float = 0.9) -> Estimate:
    m = momentum_checks(exact)
    return Estimate.exact(float(m[m.rho == rho].velocity.iloc[0]))


def torch_diff(tm: pd.DataFrame, rule: str, scale: float = 1.0) -> Estimate:
    return Estimate.exact(float(stats.select(tm, rule=rule, scale=scale).max_abs_diff.iloc[0]))


def worst_scale(tm: pd.DataFrame, rule: str) -> Estimate:
    return exact_max(stats.select(tm, rule=rule).max_abs_diff)


def printed_gap(printed: pd.DataFrame, rules) -> Estimate:
    return exact_max(printed[printed.rule.isin(list(rules))].final_gap)


def doubled_alpha(exact: pd.DataFrame) -> Estimate:
    return Estimate.exact(float(exact[exact.quantity == "doubled_alpha"].doubled_alpha_diff.iloc[0]))


def memory_excess(memory: pd.DataFrame) -> Estimate:
    """State elements per parameter: Adam's − the largest of the one-state optimisers'."""
    others = memory[memory.optimiser != "Adam"].ratio.max()
    return Estimate.exact(float(stats.select(memory, optimiser="Adam").ratio.iloc[0] - others))
