"""F14: AdaGrad against SGD on sparse logistic regression with Zipf-like binary features
(p_j = 0.5/j), both over an lr grid at once; AdaGrad's per-feature rate against the feature's
count, and each rule's weight error per band of feature counts at the rate with the best held-out loss."""

from __future__ import annotations

import math

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
    held = stream(seed, "sparse", "held-out")  # n/5 fresh samples of the same model choose the rate
    x_val = (torch.rand(n // 5, d, generator=held, dtype=F64) < p).to(F64)
    y_val = (torch.rand(n // 5, generator=held, dtype=F64) < torch.sigmoid(x_val @ w_star)).to(F64)
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
    errors, best, weights = [], {}, []
    for name in ("adagrad", "sgd"):
        w = states[name].x if name == "adagrad" else states[name]
        err_all = (w - w_star).norm(dim=1)
        err_rare = (w - w_star)[:, rare].abs().mean(1)
        heldout = torch.nn.functional.binary_cross_entropy_with_logits(w @ x_val.T, y_val.expand(len(lrs), -1),
                                                                      reduction="none").mean(1)
        best[name] = int(torch.nan_to_num(heldout, nan=math.inf).argmin())
        errors += [dict(seed=seed, optimiser=name, lr=float(lr), err_all=float(a), err_rare=float(r),
                        heldout_loss=float(h)) for lr, a, r, h in zip(lrs, err_all, err_rare, heldout)]
        weights.append(pd.DataFrame(dict(seed=seed, optimiser=name, feature=np.arange(d), count=counts.numpy(),
                                         abs_err=(w[best[name]] - w_star).abs().numpy())))
    i = best["adagrad"]
    eff = optim.effective_lr(states["adagrad"].s[i], float(lrs[i]))
    features = pd.DataFrame(dict(seed=seed, feature=np.arange(d), count=counts.numpy(), eff_lr=eff.numpy()))
    return {"sparse_errors": pd.DataFrame(errors), "sparse_features": features,
            "sparse_weights": pd.concat(weights, ignore_index=True)}


def sparse_slope(features: pd.DataFrame) -> Estimate:
    slopes = [stats.loglog_slope_ci(part["count"][part["count"] > 0], part.eff_lr[part["count"] > 0]).value
              for _, part in features.groupby("seed", sort=True)]
    return stats.mean_ci(slopes)


def sparse_error_ratio(errors: pd.DataFrame) -> Estimate:
    """The rarest decile's error ratio, each rule at the lr with the best held-out loss."""
    best = {}
    for name in ("adagrad", "sgd"):
        part = stats.select(errors, optimiser=name)
        best[name] = part.loc[part.groupby("seed", sort=True).heldout_loss.idxmin()].sort_values("seed").err_rare.to_numpy()
    return stats.paired_ratio(best["adagrad"], best["sgd"])


def band_label(lo: int, hi: int) -> str:
    return f"{lo}-{hi}"


def band_error_ratio(weights: pd.DataFrame, bands) -> dict[str, Estimate]:
    """Per band of feature counts [lo, hi): per seed, mean |w_j − w*_j| of AdaGrad / of SGD (each at
    the rate with the best held-out loss); a paired ratio over seeds."""
    out = {}
    for lo, hi in zip(bands[:-1], bands[1:]):
        band = weights[(weights["count"] >= lo) & (weights["count"] < hi)]
        per_seed = band.groupby(["optimiser", "seed"]).abs_err.mean().unstack("optimiser").sort_index()
        if per_seed.empty or per_seed.isna().any().any():
            out[band_label(lo, hi)] = Estimate(math.nan, math.nan, math.nan)
            continue
        out[band_label(lo, hi)] = stats.paired_ratio(per_seed["adagrad"].to_numpy(), per_seed["sgd"].to_numpy())
    return out


def band_features(weights: pd.DataFrame, lo: int, hi: int) -> float:
    """Features per seed whose count lies in [lo, hi), on average."""
    per = weights[(weights.optimiser == "sgd") & (weights["count"] >= lo) & (weights["count"] < hi)]
    return float(per.groupby("seed").size().mean()) if len(per) else 0.0


def rarest_mean_count(features: pd.DataFrame) -> float:
    """How often a feature of the rarest decile occurs, on average over features and seeds."""
    d = int(features.feature.max()) + 1
    return float(features[features.feature >= d - d // 10]["count"].mean())
