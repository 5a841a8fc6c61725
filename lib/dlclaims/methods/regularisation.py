r"""Regularisation in closed form, and the data-side tools around it.

- **Dropout as L2, linear regression** (Srivastava et al. 2014, §9.1). With a keep mask
  :math:`R_{ij} \sim \mathrm{Bernoulli}(p)` on the inputs (classic dropout),

  .. math:: \mathbb{E}_R\,\|y - (R \circ X) w\|^2 = \|y - pXw\|^2 + p(1-p)\,\|\Gamma w\|^2,
            \qquad \Gamma = \mathrm{diag}(X^\top X)^{1/2},

  minimised by :func:`srivastava_ridge`. :func:`dropout_least_squares` minimises the dropout
  loss itself, averaged over ``masks`` drawn masks per example (the sample-average problem that
  dropout SGD with iterate averaging solves).
- **Dropout as adaptive L2, logistic regression** (Wager, Wang & Liang 2013). Inverted input
  dropout :math:`\tilde x = r \circ x / p` adds, to second order, the penalty
  :math:`\tfrac12 \tfrac{1-p}{p} \sum_i \sigma_i(1-\sigma_i) \sum_j x_{ij}^2 \beta_j^2`
  (:func:`wager_logistic`); :func:`dropout_logistic` minimises the sampled dropout loss,
  :func:`ridge_logistic` plain L2. Losses are means over examples; no intercept.
- **Shifts** of 1-D signals (:func:`shift`, zero fill) for augmentation and test-time views.
- **Bias–variance** of a family of fits (:func:`bias_variance`), and Legendre ridge fits.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import optimize
from scipy.special import expit, log_expit


# --- linear regression ----------------------------------------------------------------------

def srivastava_ridge(x: np.ndarray, y: np.ndarray, keep: float) -> np.ndarray:
    """argmin_w ‖y − pXw‖² + p(1−p)‖Γw‖² (Srivastava et al. 2014, eq. in §9.1)."""
    gram = x.T @ x
    a = keep**2 * gram + keep * (1 - keep) * np.diag(np.diag(gram))
    return np.linalg.solve(a, keep * x.T @ y)


def dropout_least_squares(x: np.ndarray, y: np.ndarray, keep: float, masks: int,
                          rng: np.random.Generator) -> np.ndarray:
    """argmin_w of (1/M) Σ_m ‖y − (R_m ∘ X) w‖² over ``masks`` Bernoulli(keep) input masks."""
    n, d = x.shape
    r = rng.random((masks, n, d)) < keep
    xs = (r * x[None]).reshape(masks * n, d)
    return np.linalg.lstsq(xs, np.tile(y, masks), rcond=None)[0]


def ridge(x: np.ndarray, y: np.ndarray, lam: float | np.ndarray) -> np.ndarray:
    """argmin_w ‖y − Xw‖² + λ‖w‖² (λ a scalar or one per feature)."""
    d = x.shape[1]
    return np.linalg.solve(x.T @ x + np.eye(d) * lam, x.T @ y)


# --- logistic regression (labels in {0, 1}) ------------------------------------------------

def _logistic_loss(beta: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    z = x @ beta
    loss = -np.mean(y * log_expit(z) + (1 - y) * log_expit(-z))
    return float(loss), x.T @ (expit(z) - y) / len(y)


def _minimise(objective, d: int) -> np.ndarray:
    res = optimize.minimize(objective, np.zeros(d), jac=True, method="L-BFGS-B",
                            options=dict(maxiter=2000, gtol=1e-8, ftol=1e-12))
    return res.x


def _newton_logistic(x: np.ndarray, y: np.ndarray, lam: float, steps: int = 50) -> np.ndarray:
    """Newton's method with step halving on mean logistic loss + (λ/2)‖β‖²."""
    n, d = x.shape
    beta = np.zeros(d)

    def objective(b):
        loss, grad = _logistic_loss(b, x, y)
        return loss + 0.5 * lam * b @ b, grad + lam * b

    value, grad = objective(beta)
    for _ in range(steps):
        s = expit(x @ beta)
        hess = (x * (s * (1 - s))[:, None]).T @ x / n + lam * np.eye(d)
        step, t = np.linalg.solve(hess, grad), 1.0
        while t > 1e-6:
            new_value, new_grad = objective(beta - t * step)
            if new_value <= value:
                break
            t /= 2
        beta, value, grad = beta - t * step, new_value, new_grad
        if np.max(np.abs(grad)) < 1e-10:
            break
    return beta


def ridge_logistic(x: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """argmin_β mean logistic loss + (λ/2)‖β‖² (λ = 0: the maximum-likelihood fit)."""
    return _newton_logistic(x, y, lam)


def wager_logistic(x: np.ndarray, y: np.ndarray, keep: float) -> np.ndarray:
    """argmin_β mean logistic loss + ½ δ mean_i σ_i(1−σ_i) Σ_j x_ij² β_j², δ = (1−p)/p:
    the quadratic approximation of inverted input dropout (Wager et al. 2013, eq. 7)."""
    delta = (1 - keep) / keep
    x2 = x**2

    def objective(beta):
        loss, grad = _logistic_loss(beta, x, y)
        s = expit(x @ beta)
        a, q = s * (1 - s), x2 @ beta**2
        pen = 0.5 * delta * np.mean(a * q)
        gpen = 0.5 * delta * (x.T @ (a * (1 - 2 * s) * q) + 2 * beta * (x2.T @ a)) / len(y)
        return loss + pen, grad + gpen

    return _minimise(objective, x.shape[1])


def dropout_logistic(x: np.ndarray, y: np.ndarray, keep: float, masks: int, rng: np.random.Generator) -> np.ndarray:
    """argmin_β of the logistic loss averaged over ``masks`` inverted-dropout copies r ∘ x / p."""
    n, d = x.shape
    r = rng.random((masks, n, d)) < keep
    xs = (r * x[None] / keep).reshape(masks * n, d)
    return _newton_logistic(xs, np.tile(y, masks), 0.0)


# --- shifts ---------------------------------------------------------------------------------

def shift(x: torch.Tensor, by: int | torch.Tensor) -> torch.Tensor:
    """Signals [B, L] moved right by ``by`` samples (left if negative; one per row if a tensor
    [B]); the samples shifted in are zero (no wrap-around)."""
    n, length = x.shape
    by = torch.as_tensor(by).expand(n) if torch.as_tensor(by).dim() == 0 else torch.as_tensor(by)
    source = torch.arange(length)[None, :] - by[:, None]
    inside = (source >= 0) & (source < length)
    return torch.where(inside, x.gather(1, source.clamp(0, length - 1)), torch.zeros((), dtype=x.dtype))


# --- bias and variance ----------------------------------------------------------------------

def legendre_features(x: np.ndarray, degree: int) -> np.ndarray:
    """Legendre polynomials P_0..P_degree of x ∈ [0, 1] mapped to [−1, 1] (well conditioned)."""
    return np.polynomial.legendre.legvander(2 * x - 1, degree)


def bias_variance(predictions: np.ndarray, truth: np.ndarray, unbiased: bool = True) -> tuple[float, float]:
    """(bias², variance) averaged over test points, from predictions [S training sets, points]
    against the noise-free target [points]: E_x (E_D ŷ − f)² and E_x Var_D ŷ. The plain plug-in
    (mean over sets − f)² overstates bias² by Var/S; ``unbiased`` subtracts that (ddof 1), so
    a high-variance fit does not show a bias it does not have (the result can then be < 0)."""
    s = predictions.shape[0]
    mean = predictions.mean(0)
    var = predictions.var(0, ddof=1)
    bias2 = (mean - truth) ** 2 - (var / s if unbiased else 0.0)
    return float(np.mean(bias2)), float(np.mean(var))
