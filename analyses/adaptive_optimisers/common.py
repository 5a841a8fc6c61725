"""What several sub-experiments share: the lr grid, the record steps, digits logistic regression in
float64 with its closed-form gradient, and running a pure step function (ours or torch.optim's)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

from dlclaims.methods import data, optim
from dlclaims.suite.claims import Estimate

F64 = torch.float64
LR_GRID = tuple(float(10 ** e) for e in np.arange(-4, 0.51, 0.25))  # 19 rates, quarter decades
GRID_OPTIMISERS = ("sgd", "momentum", "adagrad", "adam")  # the lr grids (methods/replicas.py names)
OPTIMISER_LABELS = {"sgd": "SGD", "momentum": "SGD + momentum 0.9", "adagrad": "AdaGrad", "rmsprop": "RMSProp 0.9",
                    "adam": "Adam (0.9, 0.999)"}
BETA2S = (0.999, 0.9999)  # Adam's default β₂ and the "close to 1" one of Kingma & Ba §6.4
GAP = 1e-6  # relative gap f(x_t)/f(x_0) that counts as solved (F2, F9d–g)


def record_steps(last: int, points: int = 60) -> list[int]:
    """Log-spaced steps 1..last, with every power of ten and last/10."""
    steps = set(np.unique(np.round(np.logspace(0, math.log10(last), points)).astype(int)).tolist())
    steps |= {10 ** k for k in range(int(math.log10(last)) + 1)} | {max(1, last // 10), last}
    return sorted(s for s in steps if 1 <= s <= last)


@lru_cache(maxsize=None)
def digits_design(n_train: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n_train`` stratified digits training images as (X with a bias column, one-hot Y, X_test with
    bias, y_test), float64."""
    split = data.split("digits", n_train=n_train).to(dtype=F64)
    x = torch.cat([split.x_train, torch.ones(len(split.x_train), 1, dtype=F64)], 1)
    x_test = torch.cat([split.x_test, torch.ones(len(split.x_test), 1, dtype=F64)], 1)
    y = torch.nn.functional.one_hot(split.y_train, 10).to(F64)
    return x, y, x_test, split.y_test


def logistic_loss(theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean multinomial cross-entropy; θ: [..., features, classes] (a leading axis = replicates)."""
    logits = x @ theta
    return (torch.logsumexp(logits, -1) - (logits * y).sum(-1)).mean(-1)


def logistic_grad(theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """∇ of ``scale`` × mean cross-entropy in closed form: scale · Xᵀ(softmax(Xθ) − Y)/n."""
    p = torch.softmax(x @ theta, -1)
    return scale * (x.transpose(-1, -2) @ (p - y)) / x.shape[-2]


def smoothness_bound(x: torch.Tensor) -> float:
    """L ≤ ½ λ_max(XᵀX/n) for the softmax cross-entropy (its Hessian's per-sample factor ≤ ½)."""
    return 0.5 * float(torch.linalg.eigvalsh(x.T @ x / x.shape[0]).max())


def run_rule(step, state, steps: int):
    """Fold a pure step function ``state → state`` ``steps`` times."""
    for _ in range(steps):
        state = step(state)
    return state


run_torch = optim.run_torch_optimizer


def exact_max(values) -> Estimate:
    """The largest of deterministic values: a point estimate (the interval is the value)."""
    return Estimate.exact(float(np.max(np.asarray(values, dtype=float))))
