"""Mean-field theory of a deep random net at init (Poole et al. 2016; Schoenholz et al. 2017).

For a fully connected net with weights of variance σ_w²/n_in and biases of variance σ_b², the
pre-activation second moment of a unit follows the length map q_{l+1} = σ_w² E[φ(√q_l z)²] + σ_b²,
z ~ N(0, 1), with fixed point q*; the squared back-propagated signal changes per layer by
χ(q) = σ_w² E[φ'(√q z)²]. Expectations by adaptive quadrature in float64.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1.0 - _sigmoid(z))),
    "linear": (lambda z: z, np.ones_like),
}


def gaussian_mean(f: Callable[[np.ndarray], np.ndarray], q: float) -> float:
    """E[f(√q z)], z ~ N(0, 1), by adaptive quadrature (scipy.integrate.quad) on each half-line, so a
    kink at 0 (ReLU's derivative) and the near-kinks of saturating maps at large q are resolved."""
    from scipy import integrate

    root = np.sqrt(q)

    def g(z: float) -> float:
        return float(f(np.asarray([root * z]))[0]) * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)

    return float(sum(integrate.quad(g, a, b, limit=200, epsabs=1e-14, epsrel=1e-12)[0]
                     for a, b in ((-np.inf, 0.0), (0.0, np.inf))))


def second_moment(activation: str, q: float) -> float:
    """E[φ(u)²] for u ~ N(0, q): the post-activation second moment."""
    phi, _ = ACTIVATIONS[activation]
    return gaussian_mean(lambda u: phi(u) ** 2, q)


def length_map(activation: str, q: float, sigma_w2: float, sigma_b2: float = 0.0) -> float:
    """q_{l+1} = σ_w² E[φ(√q z)²] + σ_b²."""
    return sigma_w2 * second_moment(activation, q) + sigma_b2


def trajectory(activation: str, q0: float, sigma_w2: float, layers: int, sigma_b2: float = 0.0) -> np.ndarray:
    """q_1, …, q_layers from q_1 = q0 by the length map."""
    out = [float(q0)]
    for _ in range(layers - 1):
        out.append(length_map(activation, out[-1], sigma_w2, sigma_b2))
    return np.asarray(out)


def fixed_point(activation: str, sigma_w2: float, sigma_b2: float = 0.0, q0: float = 1.0) -> float:
    """The length map's fixed point q* > 0 (Brent's root of map(q) − q on a bracket the bounded
    activations guarantee: q ≤ σ_w² sup φ² + σ_b²). ReLU and linear maps are linear in q: their
    fixed point is q0 at criticality, else 0 (contracting) or inf (expanding), with σ_b² = 0."""
    from scipy.optimize import brentq

    if activation in ("relu", "linear"):
        slope = sigma_w2 * (0.5 if activation == "relu" else 1.0)
        if sigma_b2 == 0.0:
            return float(q0) if slope == 1.0 else (0.0 if slope < 1.0 else float("inf"))
        return sigma_b2 / (1.0 - slope) if slope < 1.0 else float("inf")
    top = sigma_w2 + sigma_b2 + 1.0
    gap = lambda q: length_map(activation, q, sigma_w2, sigma_b2) - q  # noqa: E731
    low = 1e-12
    if gap(low) <= 0:  # the map contracts to q* = 0 (tanh with σ_w² ≤ 1, σ_b² = 0)
        return 0.0
    return float(brentq(gap, low, top, xtol=1e-14, rtol=1e-13))


def chi(activation: str, q: float, sigma_w2: float) -> float:
    """χ(q) = σ_w² E[φ'(√q z)²]: the per-layer factor of the squared back-propagated signal."""
    _, dphi = ACTIVATIONS[activation]
    return sigma_w2 * gaussian_mean(lambda u: dphi(u) ** 2, q)


def tail_share(q: float, threshold: float) -> float:
    """P(|u| > threshold), u ~ N(0, q): the share of units past a saturation threshold."""
    from scipy.stats import norm

    return float(2.0 * norm.sf(threshold / np.sqrt(q))) if q > 0 else 0.0
