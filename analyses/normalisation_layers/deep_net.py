"""G11: weight-gradient norms by layer of a deep (Linear, [BatchNorm1d], ReLU) stack at init, in torch."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import nn

from dlclaims.rng import stream

if TYPE_CHECKING:
    from . import Config


def deep_gradients(cfg: Config, seed: int) -> list[dict]:
    """G11: ‖∂L/∂W_l‖ for every layer of deep (Linear, [BatchNorm1d], ReLU) stacks at init."""
    rows = []
    g = stream(seed, "deep-net")  # the inputs, labels and weights both variants share
    x = torch.randn(128, cfg.deep_width, generator=g)
    labels = torch.randint(10, (128,), generator=g)
    draws = [torch.randn(cfg.deep_width, cfg.deep_width, generator=g) for _ in range(cfg.deep_layers)]
    head = torch.randn(10, cfg.deep_width, generator=g) / math.sqrt(cfg.deep_width)
    for norm in ("bn", "none"):
        blocks = []
        for w in draws:
            lin = nn.Linear(cfg.deep_width, cfg.deep_width, bias=False)
            with torch.no_grad():
                lin.weight.copy_(w * math.sqrt(2 / cfg.deep_width))  # He normal
            blocks += [lin, nn.BatchNorm1d(cfg.deep_width), nn.ReLU()] if norm == "bn" else [lin, nn.ReLU()]
        net = nn.Sequential(*blocks)
        loss = nn.functional.cross_entropy(net(x) @ head.T, labels)
        weights = [m.weight for m in net if isinstance(m, nn.Linear)]
        grads = torch.autograd.grad(loss, weights)
        rows += [dict(seed=seed, norm=norm, layer=i + 1, grad_norm=float(gr.norm())) for i, gr in enumerate(grads)]
    return rows

