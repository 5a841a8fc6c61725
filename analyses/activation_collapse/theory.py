"""A4's theory for exactly the measured ratio: the spread of log(M_L / M_1) for He + ReLU at
init over many inputs, to first order in 1/width, and so the value exp E log that A4's geometric
mean estimates (He et al.'s E ratio = 1 is the arithmetic mean's)."""

from __future__ import annotations

import functools
import math

from scipy import integrate
from scipy.special import ndtr


def relu_cosine(rho: float) -> float:
    """Cosine between relu(u) and relu(v) for standard Gaussians of correlation rho (uncentred;
    Cho & Saul's arc-cosine kernel of degree 1 over its value at rho = 1): the next layer's
    pre-activation correlation between two inputs, in the wide limit."""
    rho = min(max(rho, -1.0), 1.0)
    return (math.sqrt(1 - rho * rho) + (math.pi - math.acos(rho)) * rho) / math.pi


def signed_square_covariance(rho: float) -> float:
    """E[u|u| v|v|] for standard Gaussians of correlation rho: 0 at rho = 0, E u⁴ = 3 at rho = 1."""
    if rho >= 1:
        return 3.0
    s = math.sqrt(1 - rho * rho)

    def density(t: float) -> float:
        return math.exp(-t * t / 2) / math.sqrt(2 * math.pi)

    def given_u(u: float) -> float:  # E[v|v|] for v ~ N(rho u, s²)
        mu = rho * u
        return (mu * mu + s * s) * (2 * ndtr(mu / s) - 1) + 2 * mu * s * density(mu / s)

    return integrate.quad(lambda u: u * abs(u) * given_u(u) * density(u), -12, 12, limit=200)[0]


@functools.cache
def he_log_ratio_variance(width: int, depth: int, inputs: int) -> float:
    """Var of log(M_L / M_1) for He + ReLU at init, M_l the mean of z² over `inputs` iid inputs
    and `width` channels (A4's per-seed ratio), to first order in 1/width.

    Each layer adds two independent relative fluctuations of size 1/width: the weight rows
    (M_{l+1} given h_l is a mean of `width` iid quadratic forms u·G u with G the inputs' Gram
    matrix of h_l: relative variance 2 tr G² / (tr G)²) and the ReLU (the share of z_l's energy
    it keeps: relative variance E[z|z| z'|z'|] / q² over pairs of inputs). Both depend on the
    inputs' correlation, which the arc-cosine map carries from 0 at layer 1 towards 1 (the
    collapse); pairs of the same input contribute 1/inputs of the sum. One input: 5/width
    per layer. The uniform draw's kurtosis enters only through Σ G_kk² / (tr G)² ≈ 6/width: dropped.
    """
    rho, total = 0.0, 0.0  # rho: pre-activation correlation between two inputs at layer l
    for _ in range(depth - 1):
        cosine, signed = relu_cosine(rho), signed_square_covariance(rho)
        weights = 2 * (cosine ** 2 + (1 - cosine ** 2) / inputs)
        relu = signed + (3 - signed) / inputs
        total += (weights + relu) / width
        rho = cosine
    return total
