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
    bn_affine: bool = True,
) -> nn.Sequential:
    """Linear [-> BatchNorm1d] -> activation blocks, and a final Linear (the logits).

    With a ``generator`` the default (Kaiming-uniform) init is redrawn from it, so the
    same seed gives the same network whatever else touched the global RNG.
    ``bn_affine=False`` gives BatchNorm without its γ, β (Page: "omit β and γ").
    """
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        layers.append(nn.Linear(n_in, n_out, bias=bias and (last or not batch_norm)))
        if not last:
            if batch_norm:
                layers.append(nn.BatchNorm1d(n_out, affine=bn_affine))
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


def he_uniform_(net: nn.Module, generator: torch.Generator, skip_last: bool = True) -> nn.Module:
    """He init U(±√(6/fan_in)) for every Linear/Conv weight (biases zero), from ``generator``.

    ``skip_last`` leaves the final classifier at PyTorch's default U(±1/√fan_in).
    """
    layers = [m for m in net.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d))]
    with torch.no_grad():
        for m in layers[:-1] if skip_last else layers:
            bound = (6.0 / m.weight[0].numel()) ** 0.5
            m.weight.uniform_(-bound, bound, generator=generator)
            if m.bias is not None:
                m.bias.zero_()
    return net


class GlobalMaxPool(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax(dim=(-2, -1))


class Scale(nn.Module):
    """Multiply by a constant (Page's final ``Mul(0.125)`` on the logits)."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


def conv_net(
    channels: Sequence[int] = (8, 16, 16, 32),
    in_channels: int = 1,
    image_size: int = 28,
    classes: int = 10,
    activation: str = "softplus",
    batch_norm: bool = False,
    generator: torch.Generator | None = None,
    logit_scale: float = 0.125,
    bn_affine: bool = True,
) -> nn.Sequential:
    """A small plain conv net in the spirit of Page's 8-layer ResNet-7 baseline, without shortcuts.

    Bias-free 3×3 conv [→ BatchNorm2d] → activation blocks, each followed by a 2×2
    max-pool while the image is at least 2 pixels wide (cheaper than Page's unpooled first
    blocks); a global max-pool, a bias-free linear classifier and Page's fixed logit scale
    (0.125). Inputs are (N, in_channels, image_size, image_size).
    With a ``generator`` the convs get He-uniform weights and the classifier PyTorch's
    default, drawn from it. ``bn_affine=False``: BatchNorm without γ, β (Page's choice).
    """
    layers: list[nn.Module] = []
    size, c_in = image_size, in_channels
    for c_out in channels:
        layers.append(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False))
        if batch_norm:
            layers.append(nn.BatchNorm2d(c_out, affine=bn_affine))
        layers.append(ACTIVATIONS[activation]())
        if size >= 2:
            layers.append(nn.MaxPool2d(2))
            size //= 2
        c_in = c_out
    layers += [GlobalMaxPool(), nn.Linear(c_in, classes, bias=False)]
    if logit_scale != 1.0:
        layers.append(Scale(logit_scale))
    net = nn.Sequential(*layers)
    if generator is not None:
        reseed_(net, generator)
        he_uniform_(net, generator)
    return net


def refresh_bn_statistics_(net: nn.Module, x: torch.Tensor, chunk: int = 500) -> nn.Module:
    """Recompute every BatchNorm's running statistics from ``x``; return ``net`` in eval mode
    ("frozen BN"). In place: copy the net first to keep the original.

    The statistics are reset and ``x`` goes through in train mode, ``chunk`` rows at a time,
    with PyTorch's cumulative average (``momentum=None``): each running mean is the
    equal-weighted mean of the chunks' batch means and each running variance the mean of their
    unbiased batch variances. With equal chunks the mean is the mean over ``x``; with one chunk
    (``chunk >= len(x)``) the variance is its unbiased variance too. Each layer's momentum is
    restored afterwards.
    """
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average
    net.train()
    with torch.no_grad():
        for start in range(0, len(x), chunk):
            net(x[start: start + chunk])
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    return net.eval()
