"""Small network builders shared by the analyses."""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "softplus": lambda: nn.Softplus(beta=10),
    "identity": nn.Identity,
}


def mlp(
    sizes: Sequence[int],
    activation: str = "relu",
    batch_norm: bool = False,
    bias: bool = True,
    generator: torch.Generator | None = None,
) -> nn.Sequential:
    """Linear [-> BatchNorm1d] -> activation blocks, and a final Linear (the logits).

    With a ``generator`` the default (Kaiming-uniform) init is redrawn from it, so the
    same seed gives the same network whatever else touched the global RNG.
    """
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        layers.append(nn.Linear(n_in, n_out, bias=bias and (last or not batch_norm)))
        if not last:
            if batch_norm:
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(ACTIVATIONS[activation]())
    net = nn.Sequential(*layers)
    if generator is not None:
        reseed_(net, generator)
    return net


def reseed_(net: nn.Module, generator: torch.Generator) -> nn.Module:
    """Redraw every Linear/Conv weight and bias with PyTorch's default scheme from ``generator``."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d)):
                fan_in = m.weight[0].numel()
                bound = 1.0 / fan_in**0.5
                # kaiming_uniform_(a=sqrt(5)) is U(±1/sqrt(fan_in)), PyTorch's default
                m.weight.uniform_(-bound, bound, generator=generator)
                if m.bias is not None:
                    m.bias.uniform_(-bound, bound, generator=generator)
    return net


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
