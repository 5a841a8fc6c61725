"""E2: iterations to a relative gap ε against κ on strongly convex quadratics and L2-regularised
logistic regression (GD, NAG, heavy ball), and the zig-zag picture on a 2-D quadratic."""

from __future__ import annotations

import functools
import math
from typing import Callable

import numpy as np
import pandas as pd
import torch
from scipy import optimize

from dlclaims.methods import optim
from dlclaims.rng import np_stream
from dlclaims.suite import stats

from .objectives import Objective, matvec, quadratic, tensor

ZIGZAG = dict(L=1.0, mu=0.05, steps=40, x0=(-10.0, 2.0))  # the picture's valley: κ = 20, 40 steps


def kappa_grid(cfg) -> np.ndarray:
    return np.geomspace(10, cfg.kappa_max, cfg.kappas)


def iterations_to(step: Callable, state, gap: Callable, eps: float, max_iter: int) -> np.ndarray:
    """First k with gap(x_k) ≤ ε·gap(x_0), per row; NaN where it never happened within max_iter."""
    threshold = eps * gap(state[0])
    hit = torch.full(threshold.shape, -1, dtype=torch.long)
    for k in range(1, max_iter + 1):
        state = step(state, k - 1)
        hit = torch.where((gap(state[0]) <= threshold) & (hit < 0), k, hit)
        if k % 64 == 0 and bool((hit >= 0).all()):
            break
    out = hit.numpy().astype(float)
    out[out < 0] = np.nan
    return out


def run_methods(f: Objective, x0: torch.Tensor, L: torch.Tensor, mu: torch.Tensor, eps: float,
                kappa_max: float, methods: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Iterations to relative gap ε for GD, NAG and/or heavy ball; per-row L and μ (shape (rows, 1))."""
    kappa = L / mu
    beta_nag = (kappa.sqrt() - 1) / (kappa.sqrt() + 1)
    lr_hb, beta_hb = 4 / (L.sqrt() + mu.sqrt()) ** 2, beta_nag**2
    log_eps = math.log(1 / eps)
    slow, fast = int(2 * kappa_max * log_eps) + 100, int(20 * math.sqrt(kappa_max) * log_eps) + 100
    rules = {
        "gd": (lambda s, k: optim.start(optim.gd_step(s.x, f.grad, 1 / L)), slow),
        "nag": (lambda s, k: optim.nesterov_step(s, f.grad, 1 / L, beta_nag), fast),
        "heavy_ball": (lambda s, k: optim.heavy_ball_step(s, f.grad, lr_hb, beta_hb), fast),
    }
    return {m: iterations_to(rules[m][0], optim.start(x0), f.gap, eps, rules[m][1]) for m in methods}


def tidy_iterations(problem: str, keys, its: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame([dict(problem=problem, start=start, method=m, seed=seed, kappa=kappa, iterations=its[m][i])
                         for m in its for i, (start, seed, kappa) in enumerate(keys)])


# --- quadratics ------------------------------------------------------------------------------

def e2_quadratics(cfg, methods: tuple[str, ...], seeds: range) -> pd.DataFrame:
    """Random diagonal quadratics, L = 1, μ = 1/κ, one per (seed, κ); every κ and both starts run
    as rows of one batch (one loop: its length is the slowest row's).

    A seed draws u ~ U(0, 1)^(d−2) and z ~ N(0, I) once: its inner eigenvalues are κ^(−u) at
    every κ, so the seed's slope over κ compares the same spectrum shape."""
    h, x0, keys = [], [], []
    for seed in seeds:
        rng = np_stream(seed, "quadratic-problem")  # its spectrum shape and start
        u, z = rng.uniform(0, 1, cfg.quad_dim - 2), rng.standard_normal(cfg.quad_dim)
        for kappa in kappa_grid(cfg):
            lam = np.concatenate([[1 / kappa, 1.0], kappa ** (-u)])
            # balanced: every eigen-mode starts with gap z_i²/2, whatever its curvature
            for start, x in (("balanced", z / np.sqrt(lam)), ("isotropic", z)):
                h.append(lam)
                x0.append(x)
                keys.append((start, seed, kappa))
    h, x0 = tensor(np.array(h)), tensor(np.array(x0))
    f = quadratic(lambda e: h * e, torch.zeros_like(x0))
    L, mu = h.max(1, keepdim=True).values, h.min(1, keepdim=True).values
    return tidy_iterations("quadratic", keys, run_methods(f, x0, L, mu, cfg.eps, cfg.kappa_max, methods))


# --- logistic regression ---------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def logistic_data(seed: int, n: int, d: int):
    """One data set per seed (the same for every κ): X with rows ~ N(0, I/d), labels from a
    random teacher with 10% flips, and the orthogonal projector onto X's null space."""
    rng = np_stream(seed, "logistic-data")
    X = rng.standard_normal((n, d)) / math.sqrt(d)
    y = np.sign(X @ rng.standard_normal(d) + 1e-12)
    y[rng.random(n) < 0.1] *= -1
    _, _, vt = np.linalg.svd(X)
    return X, y, vt[n:].T @ vt[n:]


def logistic_problem(seed: int, kappa: float, n: int, d: int):
    """Data (X, y), ridge λ, smoothness bound L = σ_max(X)²/(4n) + λ (so L/λ = κ) and the
    orthogonal projector onto X's null space (where the curvature is exactly λ)."""
    X, y, null = logistic_data(seed, n, d)
    L_data = np.linalg.norm(X, 2) ** 2 / (4 * n)
    lam = L_data / (kappa - 1)
    return X, y, lam, L_data + lam, null


def logistic_loss_np(w, X, y, lam):
    z = y * (X @ w)
    p = 1 / (1 + np.exp(z))  # σ(−z)
    loss = np.mean(np.logaddexp(0, -z)) + lam / 2 * w @ w
    grad = -(X.T @ (y * p)) / len(y) + lam * w
    hess = (X.T * (p * (1 - p))) @ X / len(y) + lam * np.eye(len(w))
    return loss, grad, hess


def logistic_minimum(X, y, lam) -> float:
    res = optimize.minimize(lambda w: logistic_loss_np(w, X, y, lam)[0], np.zeros(X.shape[1]),
                            jac=lambda w: logistic_loss_np(w, X, y, lam)[1],
                            hess=lambda w: logistic_loss_np(w, X, y, lam)[2],
                            method="trust-exact", options=dict(gtol=1e-10, maxiter=500))
    return float(res.fun)


def e2_logistic(cfg, methods: tuple[str, ...], seeds: range) -> pd.DataFrame:
    """Balanced starts only: w₀ = P_row z + √κ P_null z gives the null space (curvature λ)
    a gap λκ‖P_null z‖²/2 = L‖P_null z‖²/2 of the same order for every κ."""
    Xs, ys, lams, Ls, fstars, w0, keys = [], [], [], [], [], [], []
    for seed in seeds:
        z = np_stream(seed, "logistic-start").standard_normal(cfg.logistic_d)
        for kappa in kappa_grid(cfg):
            X, y, lam, L, null = logistic_problem(seed, kappa, cfg.logistic_n, cfg.logistic_d)
            Xs.append(X), ys.append(y), lams.append(lam), Ls.append(L)
            w0.append(z + (math.sqrt(kappa) - 1) * null @ z)
            fstars.append(logistic_minimum(X, y, lam))
            keys.append(("balanced", seed, kappa))
    X, y = tensor(np.array(Xs)), tensor(np.array(ys))
    lam, L, fstar = tensor(lams)[:, None], tensor(Ls)[:, None], tensor(fstars)
    n = X.shape[1]
    cache: dict = {}

    def margins(w):
        """y ⊙ Xw, remembered for the last w: GD's gap and next gradient share one product."""
        if cache.get("w") is not w:
            cache["w"], cache["z"] = w, y * matvec(X, w)
        return cache["z"]

    def gap(w):
        return torch.nn.functional.softplus(-margins(w)).mean(1) + 0.5 * lam[:, 0] * (w * w).sum(1) - fstar

    def grad(w):
        r = y * torch.sigmoid(-margins(w))
        return -(X * r[..., None]).sum(1) / n + lam * w

    its = run_methods(Objective(grad, gap), tensor(np.array(w0)), L, lam, cfg.eps, cfg.kappa_max, methods)
    return tidy_iterations("logistic", keys, its)


def e2_slopes(iterations: pd.DataFrame) -> pd.DataFrame:
    """Per (problem, start, method, seed): the OLS slope of log iterations on log κ."""
    rows = []
    for (problem, start, method), g in iterations.groupby(["problem", "start", "method"], sort=False):
        wide = stats.per_seed(g, "iterations", by="kappa")
        kappas = np.array(sorted(g.kappa.unique()))
        for seed, row in zip(sorted(g.seed.unique()), wide):
            slope = stats.slope_ci(np.log(kappas), np.log(row)).value if np.isfinite(row).all() else np.nan
            rows.append(dict(problem=problem, start=start, method=method, seed=seed, iterations_slope=slope))
    return pd.DataFrame(rows)


# --- the zig-zag picture ---------------------------------------------------------------------

def zigzag_paths() -> pd.DataFrame:
    """GD (η = 2/(L + μ)), heavy ball (Polyak's parameters) and NAG (η = 1/L) on ½(μx₁² + Lx₂²)."""
    L, mu = ZIGZAG["L"], ZIGZAG["mu"]
    h = tensor([mu, L])
    grad = lambda x: h * x  # noqa: E731
    x0 = tensor(ZIGZAG["x0"])
    lr_hb, beta_hb = optim.heavy_ball_quadratic_parameters(L, mu)
    beta = optim.strongly_convex_momentum(L / mu)
    rules = {
        "gd": lambda s: optim.Iterates(optim.gd_step(s.x, grad, 2 / (L + mu)), s.x),
        "heavy_ball": lambda s: optim.heavy_ball_step(s, grad, lr_hb, beta_hb),
        "nag": lambda s: optim.nesterov_step(s, grad, 1 / L, beta),
    }
    rows = []
    for method, rule in rules.items():
        s = optim.start(x0)
        for k in range(ZIGZAG["steps"] + 1):
            rows.append(dict(method=method, step=k, x1=float(s.x[0]), x2=float(s.x[1]),
                             f=float(0.5 * (h * s.x * s.x).sum())))
            s = rule(s)
    return pd.DataFrame(rows)
