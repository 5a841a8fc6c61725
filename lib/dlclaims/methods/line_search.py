"""Line searches in float64 numpy: Armijo backtracking (and the naive "any decrease" rule as its
γ = 0 case), the (strong) Wolfe conditions, and Newton's method damped by backtracking.

Armijo: accept η when f(x + η d) ≤ f(x) + γ η ∇f(x)ᵀd, halving η from η₀ (Nocedal & Wright
§3.1, Boyd & Vandenberghe §9.2). Strong Wolfe adds |∇f(x + η d)ᵀd| ≤ c₂ |∇f(x)ᵀd|.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

Fn = Callable[[np.ndarray], float]
Grad = Callable[[np.ndarray], np.ndarray]


def sufficient_decrease(f_new: float, f0: float, eta: float, slope: float, gamma: float) -> bool:
    """Armijo's test with constant γ; γ = 0 is the naive rule, a strict decrease f_new < f0."""
    if gamma == 0:
        return f_new < f0
    return f_new <= f0 + gamma * eta * slope


def wolfe(phi0: float, dphi0: float, phi: float, dphi: float, eta: float, c1: float = 1e-4, c2: float = 0.9,
          strong: bool = True) -> bool:
    """The (strong) Wolfe conditions of step η along a descent direction (dphi0 < 0)."""
    armijo = phi <= phi0 + c1 * eta * dphi0
    curvature = abs(dphi) <= c2 * abs(dphi0) if strong else dphi >= c2 * dphi0
    return bool(armijo and curvature)


def backtrack(f: Fn, x: np.ndarray, fx: float, g: np.ndarray, d: np.ndarray, eta0: float, gamma: float,
              beta: float = 0.5, max_halvings: int = 200) -> tuple[float, np.ndarray, float]:
    """Shrink η from η₀ by β until the (Armijo or naive) test passes: (η, x + η d, f there)."""
    slope = float(g @ d)
    eta = float(eta0)
    for _ in range(max_halvings):
        x_new = x + eta * d
        f_new = f(x_new)
        if sufficient_decrease(f_new, fx, eta, slope, gamma):
            return eta, x_new, f_new
        eta *= beta
    return 0.0, x, fx


@dataclass
class Path:
    """A run of a descent method: the values f_k, the accepted steps η_k, the gradient norms."""

    values: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    grad_norms: list = field(default_factory=list)
    x: np.ndarray | None = None


def backtracking_gd(f: Fn, grad: Grad, x0: np.ndarray, eta0: float, gamma: float, f_star: float, eps: float,
                    max_iter: int, beta: float = 0.5) -> Path:
    """GD with Armijo (or naive) backtracking from η₀ at every step, until (f − f*) ≤ ε (f₀ − f*)."""
    x = np.array(x0, dtype=np.float64)
    fx = f(x)
    path = Path(values=[fx])
    target = f_star + eps * (fx - f_star)
    for _ in range(max_iter):
        if fx <= target:
            break
        g = grad(x)
        eta, x, fx = backtrack(f, x, fx, g, -g, eta0, gamma, beta)
        path.steps.append(eta)
        path.values.append(fx)
        path.grad_norms.append(float(np.linalg.norm(g)))
        if eta == 0.0:
            break
    path.x = x
    return path


def newton_direction(g: np.ndarray, H: np.ndarray) -> np.ndarray:
    """−H⁻¹ g (a solve, never an inverse)."""
    return -np.linalg.solve(H, g)


def damped_newton(f: Fn, grad: Grad, hess: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, c1: float = 1e-4,
                  beta: float = 0.5, max_iter: int = 100, tol: float = 1e-14, damped: bool = True) -> Path:
    """Newton's method from η = 1, backtracking with Armijo's c₁ (``damped``) or always the full
    step; stops when the Newton decrement λ² = −gᵀd falls below ``tol``."""
    x = np.array(x0, dtype=np.float64)
    fx = f(x)
    path = Path(values=[fx])
    for _ in range(max_iter):
        g = grad(x)
        d = newton_direction(g, hess(x))
        if -float(g @ d) <= tol:
            break
        if damped:
            eta, x, fx = backtrack(f, x, fx, g, d, 1.0, c1, beta)
        else:
            eta, x = 1.0, x + d
            fx = f(x)
        path.steps.append(eta)
        path.values.append(fx)
        path.grad_norms.append(float(np.linalg.norm(g)))
    path.x = x
    return path


def gd_iterations_quadratic(lam: np.ndarray, c2: np.ndarray, eta, eps: float, most: int = 10**9) -> np.ndarray:
    """Iterations of GD with step η until the gap falls to ε × its start, on a quadratic with
    eigenvalues ``lam`` (≥ 0) and squared initial error ``c2`` in its eigenbasis, in closed form:
    gap_k = ½ Σ λᵢ (1 − ηλᵢ)^{2k} cᵢ², a bisection on k (the gap falls monotonically for η < 2/L).
    ``eta`` may be an array: one count each (``most`` if never)."""
    eta = np.atleast_1d(np.asarray(eta, dtype=np.float64))
    lam, c2 = np.asarray(lam, dtype=np.float64), np.asarray(c2, dtype=np.float64)
    keep = lam > 0
    lam, c2 = lam[keep], c2[keep]
    w = lam * c2
    start = w.sum()
    log_r = np.log(np.abs(1 - eta[:, None] * lam[None, :]) + 1e-300)

    def ratio(k: np.ndarray) -> np.ndarray:
        return (w[None, :] * np.exp(2 * k[:, None] * log_r)).sum(1) / start

    lo, hi = np.zeros(len(eta)), np.full(len(eta), float(most))
    done = ratio(hi) <= eps
    for _ in range(64):
        mid = np.floor((lo + hi) / 2)
        ok = ratio(mid) <= eps
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
        if np.all(hi - lo <= 1):
            break
    out = np.where(ratio(lo) <= eps, lo, hi)
    return np.where(done, out, most).astype(np.int64)
