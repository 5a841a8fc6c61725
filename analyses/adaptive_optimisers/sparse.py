"""F14: AdaGrad against SGD on sparse logistic regression with Zipf-like binary features
(p_j = 0.5/j), both over an lr grid at once; AdaGrad's per-feature rate against the feature's
count, and each rule's error on the rarest features at its best rate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from dlclaims.methods import optim
from dlclaims.rng import stream
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

from .common import F64

BATCH = 10


def sparse_unit(cfg, seed: int) -> dict[str, pd.DataFrame]:
    d, n = cfg.sparse_features, cfg.sparse_samples
    g = stream(seed, "sparse", "data")
    p = 0.5 / torch.arange(1, d + 1, dtype=F64)
    x = (torch.rand(n, d, generator=g, dtype=F64) < p).to(F64)
    w_star = torch.randn(d, generator=g, dtype=F64)
    y = (torch.rand(n, generator=g, dtype=F64) < torch.sigmoid(x @ w_star)).to(F64)
    counts = x.sum(0)
    lrs = torch.logspace(-2, 1.5, 15, dtype=F64)
    batch, steps = BATCH, cfg.sparse_epochs * n // BATCH
    shuffle = stream(seed, "sparse", "order")
    order = torch.cat([torch.randperm(n, generator=shuffle) for _ in range(cfg.sparse_epochs)])
    states = {"adagrad": optim.start_accumulator(torch.zeros(len(lrs), d, dtype=F64)),
              "sgd": torch.zeros(len(lrs), d, dtype=F64)}
    for t in range(steps):
        idx = order[t * batch:(t + 1) * batch]
        xb, yb = x[idx], y[idx]
        grad = lambda w: (torch.sigmoid(w @ xb.T) - yb) @ xb / batch
        states["adagrad"] = optim.adagrad_step(states["adagrad"], grad, lrs[:, None])
        states["sgd"] = optim.gd_step(states["sgd"], grad, lrs[:, None])
    rare = torch.arange(d) >= d - d // 10
    errors, best = [], {}
    for name in ("adagrad", "sgd"):
        w = states[name].x if name == "adagrad" else states[name]
        err_all = (w - w_star).norm(dim=1)
        err_rare = (w - w_star)[:, rare].abs().mean(1)
        best[name] = int(err_all.argmin())
        errors += [dict(seed=seed, optimiser=name, lr=float(lr), err_all=float(a), err_rare=float(r))
                   for lr, a, r in zip(lrs, err_all, err_rare)]
    i = best["adagrad"]
    eff = optim.effective_lr(states["adagrad"].s[i], float(lrs[i]))
    features = pd.DataFrame(dict(seed=seed, feature=np.arange(d), count=counts.numpy(), eff_lr=eff.numpy()))
    return {"sparse_errors": pd.DataFrame(errors), "sparse_features": features}


def sparse_slope(features: pd.DataFrame) -> Estimate:
    slopes = [stats.loglog_slope_ci(part["count"][part["count"] > 0], part.eff_lr[part["count"] > 0]).value
              for _, part in features.groupby("seed", sort=True)]
    return stats.mean_ci(slopes)


def sparse_error_ratio(errors: pd.DataFrame) -> Estimate:
    best = {}
    for name in ("adagrad", "sgd"):
        part = stats.select(errors, optimiser=name)
        best[name] = part.loc[part.groupby("seed", sort=True).err_all.idxmin()].sort_values("seed").err_rare.to_numpy()
    return stats.paired_ratio(best["adagrad"], best["sgd"])


def rarest_mean_count(features: pd.DataFrame) -> float:
    """How often a feature of the rarest decile occurs, on average over features and seeds."""
    d = int(features.feature.max()) + 1
    return float(features[features.feature >= d - d // 10]["count"].mean())
