"""L-BFGS (torch.optim.LBFGS) with and without strong Wolfe, on mini-batches and full batch (J8,
J11), and GD on separable logistic regression with and without L2 (J14b–c). Float64."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy.special import expit

from dlclaims import rng

from . import problems


def _torch_logistic(p: problems.Logistic):
    X, y = torch.from_numpy(p.X), torch.from_numpy(p.y)

    def loss(w, idx=None):
        Xb, yb = (X, y) if idx is None else (X[idx], y[idx])
        return torch.nn.functional.softplus(-yb * (Xb @ w)).mean() + p.alpha * (w @ w)
    return loss


def _lbfgs_run(loss, w0, full, order, batch, wolfe, budget, memory):
    """Mini-batch L-BFGS as a practitioner writes it: one `step` per batch (max_iter = 20 on that
    batch), until `budget` samples have passed through the gradient. Returns the full loss at the end."""
    w = w0.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([w], lr=1, max_iter=20, history_size=memory,
                            line_search_fn="strong_wolfe" if wolfe else None)
    used = [0]
    n = len(order)
    pos = 0
    while used[0] < budget:
        idx = None if batch >= n else order[pos:pos + batch]
        pos = pos + batch if pos + 2 * batch <= n else 0

        def closure():
            opt.zero_grad()
            value = loss(w, idx)
            value.backward()
            used[0] += batch if batch < n else n
            return value
        opt.step(closure)
        if not torch.isfinite(w).all():
            return float("inf")
    with torch.no_grad():
        return float(full(w))


def _adam_run(loss, w0, full, order, batch, lr, budget):
    w = w0.clone().requires_grad_(True)
    opt = torch.optim.Adam([w], lr=lr)
    n = len(order)
    b = min(batch, n)
    pos = 0
    for _ in range(budget // b):
        idx = None if batch >= n else order[pos:pos + batch]
        pos = pos + batch if pos + 2 * batch <= n else 0
        opt.zero_grad()
        loss(w, idx).backward()
        opt.step()
    with torch.no_grad():
        return float(full(w))


def lbfgs_batches(cfg, batch: int) -> pd.DataFrame:
    """J11: relative full-train gap (f − f*)/(f₀ − f*) after `lbfgs_epochs` passes of samples through
    the gradient, L-BFGS (strong Wolfe / fixed step) and Adam at each batch size, per seed."""
    p = problems.logistic(cfg.logistic_n, cfg.newton_alpha)
    _, f_star = problems.minimise(p)
    loss = _torch_logistic(p)
    n = len(p.y)
    budget = cfg.lbfgs_epochs * n
    rows = []
    for seed in range(cfg.lbfgs_seeds):
        w0 = torch.randn(p.X.shape[1], generator=rng.stream(seed, "init"), dtype=torch.float64)
        order = torch.randperm(n, generator=rng.stream(seed, "batches"))
        f0 = float(loss(w0))
        for b in (int(batch) if batch else n,):
            runs = {"lbfgs_wolfe": _lbfgs_run(loss, w0, loss, order, b, True, budget, cfg.lbfgs_memory),
                    "lbfgs_fixed": _lbfgs_run(loss, w0, loss, order, b, False, budget, cfg.lbfgs_memory)}
            for lr in cfg.adam_lrs:
                runs[f"adam_{lr:g}"] = _adam_run(loss, w0, loss, order, b, lr, budget)
            for method, f in runs.items():
                rows.append(dict(seed=seed, batch=int(batch), method=method,
                                 rel_gap=max((f - f_star) / (f0 - f_star), 1e-16) if np.isfinite(f) else np.inf))
    return pd.DataFrame(rows)


def lbfgs_wolfe(cfg, data: str) -> pd.DataFrame:
    """J8: full-batch L-BFGS from random starts, one `step` with max_iter = N; the loss at every
    closure call is counted. Converged: finite, relative gap ≤ wolfe_gap at the end."""
    rows = []
    for data in (data,):
        p = problems.logistic(cfg.logistic_n, cfg.newton_alpha)
        if data == "raw":  # the digits pixels on their 0–16 scale, not standardised
            x, y = problems.digits()
            X = problems.preprocess(16 * x, "raw")[:cfg.logistic_n]
            p = problems.Logistic(np.ascontiguousarray(X), p.y, p.alpha)
        _, f_star = problems.minimise(p)
        loss = _torch_logistic(p)
        for seed in range(cfg.wolfe_starts):
            w0 = torch.randn(p.X.shape[1], generator=rng.stream(seed, "init"), dtype=torch.float64)
            f0 = float(loss(w0))
            for wolfe in (True, False):
                w = w0.clone().requires_grad_(True)
                opt = torch.optim.LBFGS([w], lr=1, max_iter=cfg.wolfe_iters, max_eval=2 * cfg.wolfe_iters,
                                        history_size=cfg.lbfgs_memory, tolerance_grad=0, tolerance_change=0,
                                        line_search_fn="strong_wolfe" if wolfe else None)
                seen = []

                def closure():
                    opt.zero_grad()
                    value = loss(w)
                    value.backward()
                    seen.append(float(value.detach()))
                    return value
                opt.step(closure)
                with torch.no_grad():
                    f = float(loss(w))
                finite = np.isfinite(f) and bool(torch.isfinite(w).all())
                gap = (f - f_star) / (f0 - f_star) if finite else np.inf
                rows.append(dict(data=data, seed=seed, rule="strong_wolfe" if wolfe else "fixed_step",
                                 rel_gap=max(gap, 1e-16),
                                 converged=bool(finite and gap <= cfg.wolfe_gap), evaluations=len(seen)))
    return pd.DataFrame(rows)


def separable(cfg) -> pd.DataFrame:
    """J14b–c: GD (η = 1/L) on digits 0 vs 1 logistic regression: without L2 (separable, f* = 0) the
    gap, ‖w_t‖ and the smallest margin at log-spaced steps; with L2 the gap at every step to 1e-12."""
    x, y = problems.digits()
    keep = y < 2
    x = x[keep][:, x[keep].std(0) > 0]
    X = problems.preprocess(x, "standardised")
    t = np.where(y[keep] == 0, -1.0, 1.0)
    checkpoints = set(np.unique(np.logspace(0, np.log10(max(cfg.sep_windows)), 61).astype(int)).tolist())
    rows = []
    for alpha in (0.0, *cfg.sep_alphas):
        p = problems.Logistic(np.ascontiguousarray(X), t, alpha)
        f_star = 0.0 if alpha == 0 else problems.minimise(p)[1]
        eta = 1 / p.L
        w = np.zeros(X.shape[1])
        f0 = p.f(w)
        yX = t[:, None] * X
        for step in range(1, max(cfg.sep_windows) + 1):
            s = expit(-(yX @ w))
            w = w - eta * (-(yX.T @ s) / len(t) + 2 * alpha * w)
            if alpha == 0 and step not in checkpoints:
                continue
            gap = (p.f(w) - f_star) / (f0 - f_star)
            rows.append(dict(alpha=alpha, step=step, rel_gap=gap, norm=float(np.linalg.norm(w)),
                             margin=float((yX @ w).min())))
            if alpha > 0 and gap < 1e-12:  # with L2 every step is kept, until rounding is near
                break
    return pd.DataFrame(rows)
