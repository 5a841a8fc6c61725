"""F1, F3: AdaGrad's and RMSProp's effective rate α/(√S + ε) on least squares (minibatch and full
batch) and on a stream of Gaussian gradients whose scale drops ×100 (RMSProp's short memory)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from dlclaims.methods import optim
from dlclaims.rng import stream
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

from .common import F64, record_steps

STOCHASTIC, FULL_BATCH = "stochastic least squares", "full-batch least squares"
RATES = {"adagrad": 0.1, "rmsprop": 0.01}  # α of each rule on least squares and on the stream
RHO = 0.9  # RMSProp's decay (the lectures' and Hinton's value; torch's default is 0.99)


# --- measurement --------------------------------------------------------------------------------

def least_squares(seed: int = 0, n: int = 2000, d: int = 20, noise: float = 0.5):
    """Seed ``seed``'s least-squares problem (its own named stream; F1b's full-batch runs use seed 0's)."""
    g = stream(seed, "least-squares", "problem")
    x = torch.randn(n, d, generator=g, dtype=F64)
    w_star = torch.randn(d, generator=g, dtype=F64)
    y = x @ w_star + noise * torch.randn(n, generator=g, dtype=F64)
    return x, y


def adagrad_stochastic_ls(x, y, w0, lr, steps, batch, g, record, chunk: int = 1000) -> list[dict]:
    """AdaGrad on minibatch least squares, chains along axis 0, problems (x: P × n × d) split evenly
    over the chains (chain c runs on problem c // (chains / P)); the effective rate at ``record``."""
    state, rows, wanted, t = optim.start_accumulator(w0), [], set(record), 0
    n = x.shape[1]
    owner = torch.arange(w0.shape[0]) // (w0.shape[0] // x.shape[0])
    while t < steps:
        k = min(chunk, steps - t)
        idx = torch.randint(n, (k, w0.shape[0], batch), generator=g)
        xb, yb = x[owner[None, :, None], idx], y[owner[None, :, None], idx]
        for j in range(k):
            xj, yj = xb[j], yb[j]
            state = optim.adagrad_step(state, lambda w: ((xj @ w[:, :, None]).squeeze(-1) - yj)[:, None, :]
                                       .matmul(xj).squeeze(1) / batch, lr)
            t += 1
            if t in wanted:
                rows.append(dict(step=t, eff_lr=optim.effective_lr(state.s, lr).mean(-1)))
    return rows


def deterministic_ls(x, y, w0, lr, steps, record, rule: str) -> list[dict]:
    h, c = x.T @ x / x.shape[0], x.T @ y / x.shape[0]
    state, rows, wanted = optim.start_accumulator(w0), [], set(record)
    for t in range(1, steps + 1):
        if rule == "adagrad":
            state = optim.adagrad_step(state, lambda w: w @ h - c, lr)
        else:
            state = optim.rmsprop_step(state, lambda w: w @ h - c, lr, rho=RHO)
        if t in wanted:
            rows.append(dict(step=t, eff_lr=optim.effective_lr(state.s, lr).mean(-1)))
    return rows


def per_seed_rows(rows: list[dict], cfg) -> list[dict]:
    """Rows whose ``eff_lr`` is a per-chain tensor → one row per seed (mean over its chains)."""
    out = []
    for r in rows:
        per_seed = r["eff_lr"].reshape(cfg.seeds, -1).mean(1)
        out += [dict(seed=s, step=r["step"], eff_lr=float(v)) for s, v in enumerate(per_seed)]
    return sorted(out, key=lambda r: (r["seed"], r["step"]))


def gradient_stream(cfg, coords: int = 50, mean: float = 0.5, chunk: int = 1000) -> list[dict]:
    """AdaGrad and RMSProp on N(0.5, 1) gradients (no dependence on θ); row 0 stationary, row 1
    drops ×100 at ``drop_at``. Records the effective rate (row 0) and the update size (row 1) per
    seed (seed s owns chains [s·C, (s+1)·C))."""
    g = stream(0, "gradient-stream")
    steps = cfg.drop_at + cfg.after_drop
    lrs = RATES
    chains = cfg.seeds * cfg.chains
    states = {k: optim.start_accumulator(torch.zeros(2, chains, coords, dtype=F64)) for k in lrs}
    scale_after = torch.tensor([1.0, 0.01], dtype=F64)[:, None, None]
    record = set(record_steps(steps)) | {100, 10_000}
    rows, t = [], 0
    while t < steps:
        k = min(chunk, steps - t)
        noise = mean + torch.randn(k, 2, chains, coords, generator=g, dtype=F64)
        for j in range(k):
            t += 1
            grad = noise[j] * scale_after if t > cfg.drop_at else noise[j]
            for name, lr in lrs.items():
                old = states[name]
                new = (optim.adagrad_step(old, lambda _x: grad, lr) if name == "adagrad"
                       else optim.rmsprop_step(old, lambda _x: grad, lr, rho=RHO))
                states[name] = new
                keep = t in record or cfg.drop_at - 1000 < t <= cfg.drop_at + 500 or t > steps - 100
                if keep:
                    eff = optim.effective_lr(new.s[0], lr).reshape(cfg.seeds, -1).mean(1)
                    update = (new.x[1] - old.x[1]).abs().reshape(cfg.seeds, -1).mean(1)
                    rows += [dict(seed=s, optimiser=name, drop_at=cfg.drop_at, step=t, eff_lr=float(e),
                                  update_size=float(u)) for s, (e, u) in enumerate(zip(eff, update))]
    return sorted(rows, key=lambda r: (r["seed"], r["optimiser"], r["step"]))


def least_squares_unit(cfg) -> dict[str, pd.DataFrame]:
    """F1a, F1c: AdaGrad on minibatch least squares; seed s draws its own problem and owns chains
    [s·C, (s+1)·C)."""
    problems = [least_squares(s) for s in range(cfg.seeds)]
    x, y = torch.stack([p[0] for p in problems]), torch.stack([p[1] for p in problems])
    w0 = torch.randn(cfg.seeds * cfg.chains, x.shape[2], generator=stream(0, "least-squares", "stochastic-starts"),
                     dtype=F64)
    g = stream(0, "least-squares", "batches")
    rows = per_seed_rows(adagrad_stochastic_ls(x, y, w0, RATES["adagrad"], cfg.noise_steps, 8, g,
                                               record_steps(cfg.noise_steps)), cfg)
    return {"effective_lr": pd.DataFrame([dict(problem=STOCHASTIC, optimiser="adagrad", **r) for r in rows])}


def noise_unit(cfg) -> dict[str, pd.DataFrame]:
    """F1b, F3: full-batch least squares (AdaGrad, RMSProp) and the gradient streams."""
    x, y = least_squares()
    w0 = torch.randn(cfg.seeds * cfg.chains, x.shape[1], generator=stream(0, "least-squares", "full-batch-starts"),
                     dtype=F64)
    rows = []
    for rule, lr in RATES.items():
        rows += [dict(problem=FULL_BATCH, optimiser=rule, **r)
                 for r in per_seed_rows(deterministic_ls(x, y, w0, lr, cfg.det_steps, record_steps(cfg.det_steps), rule),
                                        cfg)]
    return {"effective_lr": pd.DataFrame(rows), "stream": pd.DataFrame(gradient_stream(cfg))}


# --- statistics -----------------------------------------------------------------------------------

def rate_ratio(eff: pd.DataFrame, problem: str, optimiser: str, late: int, early: int) -> Estimate:
    """Per seed, mean effective rate at ``late`` / at ``early``; t interval over seeds."""
    part = stats.select(eff, problem=problem, optimiser=optimiser)
    return stats.mean_ci(stats.per_seed(part, "eff_lr", step=late) / stats.per_seed(part, "eff_lr", step=early))


def last_decade_slope(eff: pd.DataFrame, problem: str, optimiser: str, last: int) -> Estimate:
    part = stats.select(eff, problem=problem, optimiser=optimiser)
    part = part[(part.step >= last // 10) & (part.step <= last)]
    wide = stats.per_seed(part, "eff_lr", by="step")
    return stats.loglog_slope_ci(np.sort(part.step.unique()), wide)


def fitted_exponents(eff: pd.DataFrame, problem: str, optimiser: str, lr: float, first: int = 100) -> np.ndarray:
    """Per seed: −p/2 from a least-squares fit of log S_t = log(a + b·t^p) over the recorded t ≥ ``first``,
    with S_t = (α / mean effective rate)² (AdaGrad's accumulated Σg²; the transient is the a)."""
    import warnings

    from scipy.optimize import OptimizeWarning, curve_fit

    part = stats.select(eff, problem=problem, optimiser=optimiser)
    part = part[part.step >= first]
    t = np.sort(part.step.unique()).astype(float)
    out = []
    for row in stats.per_seed(part, "eff_lr", by="step"):
        log_s = 2 * np.log(lr / row)
        b0 = math.exp(log_s[-1]) / t[-1]

        def model(tt, a, log_b, p):
            return np.log(np.maximum(a + np.exp(log_b) * tt ** p, 1e-300))

        with warnings.catch_warnings():  # an exact power law (a = 0) leaves the covariance undefined, not the fit
            warnings.simplefilter("ignore", OptimizeWarning)
            (a, log_b, p), _ = curve_fit(model, t, log_s, p0=(math.exp(log_s[0]) - b0 * t[0], math.log(b0), 1.0),
                                         maxfev=20_000)
        out.append(-p / 2)
    return np.array(out)


def fitted_exponent(eff: pd.DataFrame, problem: str, optimiser: str, lr: float, first: int) -> Estimate:
    """The fit over the last two decades of the run (t ≥ T/100: past the initial descent)."""
    return stats.mean_ci(fitted_exponents(eff, problem, optimiser, lr, first))


def stream_ratio(stream: pd.DataFrame, optimiser: str, late: int, early: int) -> Estimate:
    part = stats.select(stream, optimiser=optimiser)
    return stats.mean_ci(stats.per_seed(part, "eff_lr", step=late) / stats.per_seed(part, "eff_lr", step=early))


def recovery(stream: pd.DataFrame, optimiser: str, drop_at: int) -> tuple[np.ndarray, np.ndarray]:
    """Per seed: (steps after the drop until the update is ≥ half its mean over the 1000 steps before,
    NaN if never; mean update over the last 100 steps / that old mean)."""
    steps, after = [], []
    for _, part in stats.select(stream, optimiser=optimiser).groupby("seed", sort=True):
        part = part.sort_values("step")
        old = part[(part.step > drop_at - 1000) & (part.step <= drop_at)].update_size.mean()
        post = part[part.step > drop_at]
        back = post[post.update_size >= old / 2]
        steps.append(float(back.step.iloc[0] - drop_at) if len(back) else math.nan)
        after.append(post.update_size.iloc[-100:].mean() / old)
    return np.array(steps), np.array(after)


def recovery_time(stream: pd.DataFrame, drop_at: int, rho: float = RHO) -> Estimate:
    steps, _ = recovery(stream, "rmsprop", drop_at)
    if np.isnan(steps).any():
        return Estimate(math.inf, math.inf, math.inf)  # some seed never recovered: wholly above any bound
    return stats.mean_ci(steps * (1 - rho))


def stalled_fraction(stream: pd.DataFrame, drop_at: int) -> Estimate:
    _, after = recovery(stream, "adagrad", drop_at)
    return stats.mean_ci(after)


def recovery_steps(stream: pd.DataFrame, drop_at: int) -> float:
    """Mean over seeds of RMSProp's steps to recover after the drop (for the method text)."""
    return float(np.nanmean(recovery(stream, "rmsprop", drop_at)[0]))
