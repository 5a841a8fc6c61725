"""G11: weight-gradient norms by layer of deep (Linear, [BatchNorm1d], ReLU) stacks, in torch: at
init across depths and init gains, and along plain SGD on MNIST-1D (a fixed random embedding
to the stack's width)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from torch import nn

from dlclaims.rng import stream

if TYPE_CHECKING:
    from . import Config

BATCH = 128  # Yang et al.'s large-batch regime, where their π/(π−1) applies
GAINS = (0.7, 1.0, 1.4)  # init gains × He: vanishing, He, exploding for the plain net
DEEP_LR = 0.01  # G11c's plain SGD
CHECKPOINTS = (0, 10)  # steps at which the training run also records the gradients (plus the last)


def stack(draws, width: int, norm: str, gain: float) -> nn.Sequential:
    blocks = []
    for w in draws:
        lin = nn.Linear(width, width, bias=False)
        with torch.no_grad():
            lin.weight.copy_(w * gain * math.sqrt(2 / width))  # He normal × gain
        blocks += [lin, nn.BatchNorm1d(width), nn.ReLU()] if norm == "bn" else [lin, nn.ReLU()]
    return nn.Sequential(*blocks)


def layer_gradients(net: nn.Sequential, head: torch.Tensor, x, labels) -> list[float]:
    loss = nn.functional.cross_entropy(net(x) @ head.T, labels)
    weights = [m.weight for m in net if isinstance(m, nn.Linear)]
    return [float(g.norm()) for g in torch.autograd.grad(loss, weights)]


def deep_gradients(cfg: Config, seed: int, x: np.ndarray, y: np.ndarray) -> dict[str, pd.DataFrame]:
    """‖∂L/∂W_l‖ for every layer: at init at each depth (BN and plain, gain 1), at each gain
    (depth = the deepest), and along deep_steps SGD steps of the deepest BN stack."""
    g = stream(seed, "deep-net")  # the embedding, weights and batches every variant shares
    width, deepest = cfg.deep_width, max(cfg.deep_depths)
    embed = torch.randn(x.shape[1], width, generator=g) / math.sqrt(x.shape[1])
    xs, ys = torch.from_numpy(x) @ embed, torch.from_numpy(y)
    draws = [torch.randn(width, width, generator=g) for _ in range(deepest)]
    head = torch.randn(10, width, generator=g) / math.sqrt(width)
    batches = [torch.randint(len(ys), (BATCH,), generator=g) for _ in range(cfg.deep_steps + 1)]
    x0, y0 = xs[batches[0]], ys[batches[0]]
    rows = []

    def record(study, norm, depth, gain, step, grads):
        rows.extend(dict(seed=seed, study=study, norm=norm, depth=depth, gain=gain, step=step, layer=i + 1,
                         grad_norm=gr) for i, gr in enumerate(grads))

    for norm in ("bn", "none"):
        for depth in cfg.deep_depths:
            record("depth", norm, depth, 1.0, 0, layer_gradients(stack(draws[:depth], width, norm, 1.0), head, x0, y0))
        for gain in GAINS:
            record("gain", norm, deepest, gain, 0, layer_gradients(stack(draws, width, norm, gain), head, x0, y0))
    net = stack(draws, width, "bn", 1.0)
    opt = torch.optim.SGD(net.parameters(), lr=DEEP_LR)
    for step, idx in enumerate(batches):
        if step in CHECKPOINTS or step == cfg.deep_steps:
            record("training", "bn", deepest, 1.0, step, layer_gradients(net, head, xs[idx], ys[idx]))
        if step == cfg.deep_steps:
            break
        opt.zero_grad()
        nn.functional.cross_entropy(net(xs[idx]) @ head.T, ys[idx]).backward()
        opt.step()
    return {"deep_gradients": pd.DataFrame(rows)}
