"""Weight initialisations, with their variance formulas.

Uniform schemes draw U(-a, a), whose variance is a²/3. ``fan_in``/``fan_out`` follow
``torch.nn.init``: a Linear weight of shape (out, in) has fan_in = in, fan_out = out.

| scheme          | Var w              | uniform bound a       |
|-----------------|--------------------|-----------------------|
| he              | 2 / fan_in         | sqrt(6 / fan_in)      |
| xavier          | 2 / (fan_in+out)   | sqrt(6 / (in + out))  |
| lecun (linear)  | 1 / fan_in         | sqrt(3 / fan_in)      |
| old             | 1 / (3 fan_in)     | 1 / sqrt(fan_in)      |
"""

from __future__ import annotations

import math
from typing import Literal

import torch

Scheme = Literal["he", "xavier", "lecun", "old"]
SCHEMES: tuple[Scheme, ...] = ("he", "xavier", "lecun", "old")


def variance(scheme: Scheme, fan_in: int, fan_out: int) -> float:
    """The weight variance a scheme targets."""
    if scheme == "he":
        return 2.0 / fan_in
    if scheme == "xavier":
        return 2.0 / (fan_in + fan_out)
    if scheme == "lecun":
        return 1.0 / fan_in
    if scheme == "old":
        return 1.0 / (3.0 * fan_in)
    raise ValueError(f"unknown init scheme '{scheme}'; choose from {SCHEMES}")


def uniform_bound(scheme: Scheme, fan_in: int, fan_out: int) -> float:
    """a such that U(-a, a) has the scheme's variance."""
    return math.sqrt(3.0 * variance(scheme, fan_in, fan_out))


def init_(
    weight: torch.Tensor,
    scheme: Scheme,
    distribution: Literal["uniform", "normal"] = "uniform",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fill a (…, out, in) weight in place; batched leading dimensions are allowed."""
    fan_out, fan_in = weight.shape[-2], weight.shape[-1]
    with torch.no_grad():
        if distribution == "uniform":
            a = uniform_bound(scheme, fan_in, fan_out)
            return weight.uniform_(-a, a, generator=generator)
        if distribution == "normal":
            return weight.normal_(0.0, math.sqrt(variance(scheme, fan_in, fan_out)), generator=generator)
    raise ValueError(f"unknown distribution '{distribution}'; choose uniform or normal")
