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
