"""Plain vs residual ReLU MLPs against depth on mnist1d (I9), every seed of one net in one batched
forward pass (weights stacked along a seed axis, ``torch.baddbmm``); the residual trunk at zero
branches as the identity (I10)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from dlclaims import rng
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

if TYPE_CHECKING:
    from . import Config


def init_params(n_in: int, width: int, n_out: int, depth: int, residual: bool, seeds) -> list[torch.Tensor]:
    """He-normal weights (fan-in, ReLU gain), zero biases, one stack per layer over ``seeds``; the
    plain and the residual net of one seed share every weight drawn (the same named streams), the
    residual net's second layer of each two-layer block is zero (the branch starts at 0)."""
    def he(fan_in, fan_out, name, gain=2.0):
        return torch.stack([torch.randn(fan_in, fan_out, generator=rng.stream(s, "depth", "init", name))
                            * math.sqrt(gain / fan_in) for s in seeds])

    params = [he(n_in, width, "in"), torch.zeros(len(seeds), 1, width)]
    for layer in range(depth):
        w = he(width, width, layer)
        params += [torch.zeros_like(w) if residual and layer % 2 == 1 else w, torch.zeros(len(seeds), 1, width)]
    params += [he(width, n_out, "out", gain=1.0), torch.zeros(len(seeds), 1, n_out)]
    return [p.requires_grad_() for p in params]


def trunk(params: list[torch.Tensor], h: torch.Tensor, depth: int, residual: bool) -> torch.Tensor:
    """The hidden layers: plain h ← relu(hW + b); residual h ← h + relu(hW₁ + b₁)W₂ + b₂ (blocks of two)."""
    for layer in range(0, depth, 2 if residual else 1):
        w, b = params[2 + 2 * layer], params[3 + 2 * layer]
        if residual:
            h = h + torch.baddbmm(params[5 + 2 * layer], torch.relu(torch.baddbmm(b, h, w)), params[4 + 2 * layer])
        else:
            h = torch.relu(torch.baddbmm(b, h, w))
    return h


def forward(params: list[torch.Tensor], x: torch.Tensor, depth: int, residual: bool) -> torch.Tensor:
    """(seeds, batch, features) → (seeds, batch, classes): input layer, ``depth`` hidden layers, head."""
    h = trunk(params, torch.relu(torch.baddbmm(params[1], x, params[0])), depth, residual)
    return torch.baddbmm(params[-1], h, params[-2])


def per_seed_loss(params, x, y, depth, residual) -> torch.Tensor:
    out = forward(params, x, depth, residual)
    return F.cross_entropy(out.flatten(0, 1), y.flatten(), reduction="none").view(y.shape).mean(1)


def depth_table(cfg: Config, depth: int, residual: bool) -> pd.DataFrame:
    """Every seed's net of one depth and kind trained by SGD + momentum on its own batch stream
    (shared by both kinds and every depth: common random numbers); full training-set loss at
    step 0, half way and the end."""
    from dlclaims.methods import data, training

    split = data.split("mnist1d", test_fraction=0.2, seed=0)
    x, y = split.x_train.float(), split.y_train
    seeds = range(cfg.depth_seeds)
    params = init_params(x.shape[1], cfg.depth_width, split.n_classes, depth, residual, seeds)
    velocity = [torch.zeros_like(p) for p in params]
    gens = [rng.stream(s, "depth", "batches") for s in seeds]
    rows = []

    def record(step):
        with torch.no_grad():
            loss = per_seed_loss(params, x.expand(len(seeds), *x.shape), y.expand(len(seeds), len(y)), depth, residual)
        rows.extend(dict(depth=depth, kind="residual" if residual else "plain", seed=s, step=step, train_loss=float(v))
                    for s, v in zip(seeds, loss))

    record(0)
    for step in range(1, cfg.depth_steps + 1):
        idx = torch.stack([torch.randint(len(y), (cfg.depth_batch,), generator=g) for g in gens])
        loss = per_seed_loss(params, x[idx], y[idx], depth, residual)
        grads = torch.autograd.grad(torch.nan_to_num(loss, nan=0.0).sum(), params)
        training.sgd_step_(params, grads, velocity, cfg.depth_lr, momentum=0.9)
        if step in (cfg.depth_steps // 2, cfg.depth_steps):
            record(step)
    return pd.DataFrame(rows)


def identity_table(cfg: Config) -> pd.DataFrame:
    """I10 in float64: the residual trunk (depth = the largest of the sweep) at zero branches maps h to
    h and passes a gradient through unchanged; the plain trunk's input/output gradient-norm ratio beside."""
    depth, width = max(cfg.depths), cfg.depth_width
    h = torch.randn(2, 256, width, generator=rng.stream(0, "depth", "identity", "h"), dtype=torch.float64)
    u = torch.randn(2, 256, width, generator=rng.stream(0, "depth", "identity", "u"), dtype=torch.float64)
    out = {}
    for kind, residual in (("residual", True), ("plain", False)):
        params = [p.detach().double() for p in init_params(width, width, 10, depth, residual, range(2))]
        x = h.clone().requires_grad_()
        y = trunk(params, x, depth, residual)
        (grad,) = torch.autograd.grad((y * u).sum(), x)
        out[kind] = dict(max_abs_change=float((y.detach() - h).abs().max()),
                         max_abs_grad_change=float((grad - u).abs().max()), grad_norm_ratio=float(grad.norm() / u.norm()))
    return pd.DataFrame([dict(kind=k, depth=depth, **v) for k, v in out.items()])


# --- statistics -------------------------------------------------------------------------------

def final_losses(runs: pd.DataFrame, kind: str, depth: int, step: int | None = None) -> np.ndarray:
    part = stats.select(runs, kind=kind, depth=depth)
    return stats.per_seed(part, "train_loss", step=part.step.max() if step is None else step)


def depth_ratio(runs: pd.DataFrame, kind: str, depth: int, base: int, step: int | None = None) -> Estimate:
    """Geometric mean over seeds of final training loss at ``depth`` / at ``base`` (same seed: paired)."""
    return stats.paired_ratio(final_losses(runs, kind, depth, step), final_losses(runs, kind, base, step))


def trained_share(runs: pd.DataFrame, kind: str, depth: int) -> Estimate:
    """Geometric mean over seeds of final / initial training loss."""
    return stats.paired_ratio(final_losses(runs, kind, depth), final_losses(runs, kind, depth, step=0))
