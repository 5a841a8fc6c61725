"""The problems: digits least squares under four preprocessings, L2-logistic regression on digits
(value, gradient, Hessian in float64), the separable non-convex toy of J13, random quadratics."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import expit

from dlclaims.methods import data

PREPROCESSINGS = ("raw", "centred", "standardised", "whitened")


@lru_cache(maxsize=None)
def digits() -> tuple[np.ndarray, np.ndarray]:
    """Digits in float64 (pixels / 16), the constant pixels dropped: 1797 × 61."""
    x, y = data.arrays("digits")
    x = x.astype(np.float64)
    return np.ascontiguousarray(x[:, x.std(0) > 0]), y


def preprocess(x: np.ndarray, how: str) -> np.ndarray:
    """The features, preprocessed, with a bias column of ones appended."""
    if how != "raw":
        x = x - x.mean(0)
    if how == "standardised":
        x = x / x.std(0)
    if how == "whitened":
        lam, Q = np.linalg.eigh(x.T @ x / len(x))
        x = x @ Q / np.sqrt(lam)
    return np.hstack([x, np.ones((len(x), 1))])


def least_squares(x: np.ndarray, y: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    """Least squares to one-hot, f(W) = ‖XW − Y‖²/(2n), from W₀ = 0: the Hessian's eigenvalues
    and the squared initial error per eigen-direction (summed over the 10 outputs)."""
    X = preprocess(x, how)
    Y = np.eye(10)[y]
    H = X.T @ X / len(X)
    lam, Q = np.linalg.eigh(H)
    W_star = np.linalg.lstsq(X, Y, rcond=None)[0]
    c2 = ((Q.T @ (0 - W_star)) ** 2).sum(1)
    return lam, c2


@dataclass(frozen=True)
class Logistic:
    """Binary logistic regression, f(w) = mean log(1 + exp(−y xᵀw)) + α‖w‖², y ∈ {−1, 1}."""

    X: np.ndarray
    y: np.ndarray
    alpha: float

    def f(self, w: np.ndarray) -> float:
        return float(np.logaddexp(0, -self.y * (self.X @ w)).mean() + self.alpha * w @ w)

    def grad(self, w: np.ndarray) -> np.ndarray:
        s = -self.y * expit(-self.y * (self.X @ w))
        return self.X.T @ s / len(self.y) + 2 * self.alpha * w

    def hess(self, w: np.ndarray) -> np.ndarray:
        p = expit(self.X @ w)
        return (self.X.T * (p * (1 - p))) @ self.X / len(self.y) + 2 * self.alpha * np.eye(len(w))

    @property
    def L(self) -> float:
        """The smoothness constant λ_max(XᵀX)/(4n) + 2α."""
        return float(np.linalg.eigvalsh(self.X.T @ self.X / len(self.y)).max() / 4 + 2 * self.alpha)


def logistic(n: int, alpha: float) -> Logistic:
    """Digits 'small (0–4) vs large (5–9)', standardised, with a bias: the first n rows."""
    x, y = digits()
    X = preprocess(x, "standardised")[:n]
    return Logistic(np.ascontiguousarray(X), np.where(y[:n] < 5, -1.0, 1.0), alpha)


def minimise(p: Logistic, steps: int = 60) -> tuple[np.ndarray, float]:
    """w* and f* by Newton with backtracking from 0 (float64 rounding)."""
    from dlclaims.methods.line_search import damped_newton

    path = damped_newton(p.f, p.grad, p.hess, np.zeros(p.X.shape[1]), max_iter=steps, tol=1e-30)
    return path.x, p.f(path.x)


# --- J13's non-convex toy: f(x) = Σ xᵢ²/2 + 1.5 cos xᵢ, f'' = 1 − 1.5 cos x ∈ [−0.5, 2.5] ---

TOY_L = 2.5


def toy_f(x: np.ndarray) -> np.ndarray:
    return (x**2 / 2 + 1.5 * np.cos(x)).sum(-1)


def toy_grad(x: np.ndarray) -> np.ndarray:
    return x - 1.5 * np.sin(x)


def toy_min_1d() -> float:
    """min over x of x²/2 + 1.5 cos x, at the nonzero root of x = 1.5 sin x."""
    from scipy.optimize import brentq

    r = brentq(lambda x: x - 1.5 * np.sin(x), 0.5, 2.0)
    return float(r**2 / 2 + 1.5 * np.cos(r))


def random_spectrum(gen: np.random.Generator, kappa: float, dim: int) -> np.ndarray:
    """Eigenvalues log-uniform in [1/κ, 1], both ends included: L = 1, μ = 1/κ."""
    lam = np.exp(gen.uniform(np.log(1 / kappa), 0.0, dim))
    lam[0], lam[1] = 1 / kappa, 1.0
    return lam
