"""K2, K3, K13 in float64: dropout against its closed-form and approximate penalties on synthetic
regressions, and the bias–variance decomposition of ridge polynomial fits by Monte Carlo."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.stats import spearmanr

from dlclaims.methods import regularisation as reg
from dlclaims.rng import np_stream

SCALES = (0.3, 3.0)  # feature standard deviations, log-spaced: Γ and Wager's scaling differ from plain L2


def design(seed: int, n: int, d: int, logistic: bool) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian features of log-spaced scales, true weights ∝ 1/scale (every feature matters
    equally), a linear target with unit noise or Bernoulli labels of a logistic model."""
    rng = np_stream(seed, "logistic" if logistic else "linear", "design")
    s = np.geomspace(*SCALES, d)
    x = rng.standard_normal((n, d)) * s
    w = rng.standard_normal(d) / s
    if logistic:
        return x, (rng.random(n) < 1 / (1 + np.exp(-x @ w))).astype(float)
    return x, x @ w + rng.standard_normal(n)


def rel(a: np.ndarray, b: np.ndarray) -> float:
    """‖a − b‖ / ‖b‖."""
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def closest_ridge(x: np.ndarray, y: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """(min over λ of ‖ridge(λ) − target‖/‖target‖, the λ attaining it): bounded search on log λ."""
    res = optimize.minimize_scalar(lambda ll: rel(reg.ridge_logistic(x, y, float(np.exp(ll))), target),
                                   bounds=(-14.0, 4.0), method="bounded", options=dict(xatol=1e-3))
    return float(res.fun), float(np.exp(res.x))


def k2_k3(cfg, seed: int) -> pd.DataFrame:
    """One synthetic problem per task and seed, every keep probability on the same draws."""
    rows = []
    x, y = design(seed, cfg.linear_n, cfg.linear_d, logistic=False)
    ols = np.linalg.lstsq(x, y, rcond=None)[0]
    for keep in cfg.keep:
        closed = reg.srivastava_ridge(x, y, keep)
        sampled = reg.dropout_least_squares(x, y, keep, cfg.k2_masks, np_stream(seed, "linear", "masks"))
        rows.append(dict(task="linear", seed=seed, keep=keep, to_closed_form=rel(sampled, closed),
                         ols_to_closed_form=rel(ols / keep, closed)))
    x, y = design(seed, cfg.logistic_n, cfg.logistic_d, logistic=True)
    mle = reg.ridge_logistic(x, y, 0.0)
    for keep in cfg.keep:
        dropped = reg.dropout_logistic(x, y, keep, cfg.k3_masks, np_stream(seed, "logistic", "masks"))
        best, lam = closest_ridge(x, y, dropped)
        rows.append(dict(task="logistic", seed=seed, keep=keep, to_wager=rel(reg.wager_logistic(x, y, keep), dropped),
                         to_best_ridge=best, best_lambda=lam, to_mle=rel(mle, dropped)))
    return pd.DataFrame(rows)


def truth(x: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * x)


def k13(cfg, n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``bv_sets`` training sets of n points (x ~ U[0, 1], y = sin 2πx + N(0, σ²)), a Legendre
    ridge fit of degree ``bv_degree`` at every λ of the grid, scored on fixed test points with
    ``bv_noise_draws`` fresh noisy targets each. Returns per-(λ, set) squared errors, per-λ
    (bias², variance), and ``bv_bootstrap`` resamples of the training sets with the Spearman
    correlations of λ with variance and with bias² on each."""
    rng = np_stream(n, "bias_variance")
    x_test = np.linspace(0, 1, cfg.bv_test_points)
    f_test, phi_test = truth(x_test), reg.legendre_features(x_test, cfg.bv_degree)
    lambdas = np.geomspace(cfg.bv_lambda_min, cfg.bv_lambda_max, cfg.bv_lambdas)
    preds = np.empty((len(lambdas), cfg.bv_sets, len(x_test)))
    errors = np.empty((len(lambdas), cfg.bv_sets))
    noise = cfg.bv_noise * rng.standard_normal((cfg.bv_sets, cfg.bv_noise_draws, len(x_test)))
    for s in range(cfg.bv_sets):
        x = rng.random(n)
        y = truth(x) + cfg.bv_noise * rng.standard_normal(n)
        phi = reg.legendre_features(x, cfg.bv_degree)
        for i, lam in enumerate(lambdas):
            preds[i, s] = phi_test @ reg.ridge(phi, y, lam * n)
            errors[i, s] = np.mean((preds[i, s][None] - (f_test[None] + noise[s])) ** 2)
    per_set = pd.DataFrame([dict(n=n, lam=lam, set=s, error=errors[i, s], fit_error=float(np.mean((preds[i, s] - f_test) ** 2)))
                            for i, lam in enumerate(lambdas) for s in range(cfg.bv_sets)])
    decomposition = pd.DataFrame([dict(n=n, lam=lam, **dict(zip(("bias2", "variance"), reg.bias_variance(preds[i], f_test))))
                                  for i, lam in enumerate(lambdas)])
    boot = []
    for b in range(cfg.bv_bootstrap):
        pick = rng.integers(cfg.bv_sets, size=cfg.bv_sets)
        bias2, var = zip(*(reg.bias_variance(preds[i, pick], f_test) for i in range(len(lambdas))))
        boot.append(dict(n=n, replicate=b, rho_variance=spearmanr(lambdas, var)[0], rho_bias2=spearmanr(lambdas, bias2)[0]))
    return per_set, decomposition, pd.DataFrame(boot)
