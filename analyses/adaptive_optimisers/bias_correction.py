"""F4, F4m, F5, F7c: Adam's bias correction. The uncorrected/corrected step on a constant gradient
against its closed form, the moments' bias by Monte Carlo, a burst after a zero stretch, and the
early loss spike of uncorrected Adam on an MLP's lr grid (replicate axis)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from dlclaims.methods import data, optim, replicas
from dlclaims.rng import stream
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

from .common import BETA2S, F64, LR_GRID


# --- measurement --------------------------------------------------------------------------------

def bias_ratio_table(steps: int = 1000) -> pd.DataFrame:
    """Measured uncorrected/corrected Adam step on a constant gradient, ε = 0, vs the formula."""
    rows = []
    for rho2 in BETA2S:
        grad = lambda x: torch.ones_like(x)
        a = c = optim.start_moments(torch.zeros(3, dtype=F64))
        for t in range(1, steps + 1):
            a2 = optim.adam_step(a, grad, 1.0, 0.9, rho2, eps=0.0, bias_correction=False)
            c2 = optim.adam_step(c, grad, 1.0, 0.9, rho2, eps=0.0)
            ratio = float((a2.x - a.x)[0] / (c2.x - c.x)[0])
            rows.append(dict(rho2=rho2, t=t, ratio=ratio, formula=optim.bias_correction_ratio(t, 0.9, rho2)))
            a, c = a2, c2
    return pd.DataFrame(rows)


def burst_check(zeros: int = 5000, burst: int = 40) -> dict:
    """Adam (defaults, ε = 0) after ``zeros`` zero gradients then a burst of equal ones: the largest
    step/α, measured and in closed form (1 − β₁ᵏ)/(1 − β₁ᵗ) / √((1 − β₂ᵏ)/(1 − β₂ᵗ)), t = zeros + k."""
    state, measured = optim.start_moments(torch.zeros(1, dtype=F64)), []
    for t in range(1, zeros + burst + 1):
        old = state.x
        state = optim.adam_step(state, (lambda x: torch.zeros_like(x)) if t <= zeros else (lambda x: torch.ones_like(x)),
                                1.0, eps=1e-300)  # ε > 0 only so that 0/0 is 0 during the zero stretch
        if t > zeros:
            measured.append(float((old - state.x)[0]))
    k = np.arange(1, burst + 1)
    t = zeros + k
    formula = (1 - 0.9**k) / (1 - 0.9**t) / np.sqrt((1 - 0.999**k) / (1 - 0.999**t))
    return dict(burst_max_step=max(measured), burst_max_formula=float(formula.max()),
                burst_error=float(np.max(np.abs(np.array(measured) - formula))), burst_argmax=int(k[formula.argmax()]))


def moment_bias(seed: int, samples: int = 100_000, steps: int = 10) -> list[dict]:
    """Monte Carlo E[m̂_t] and E[v̂_t] for stationary g ~ N(1, 1) (Adam defaults)."""
    g = stream(seed, "moment-bias")
    state = optim.start_moments(torch.zeros(samples, dtype=F64))
    rows = []
    for t in range(1, steps + 1):
        grad = 1.0 + torch.randn(samples, generator=g, dtype=F64)
        state = optim.adam_step(state, lambda _x: grad, 1e-3)
        m_hat, v_hat = state.m / (1 - 0.9**t), state.s / (1 - 0.999**t)
        rows.append(dict(seed=seed, t=t, bias_m_hat=float(m_hat.mean()) - 1, bias_m=float(state.m.mean()) - 1,
                         bias_v_hat=float(v_hat.mean()) / 2 - 1))
    return rows


def moment_bias_table(cfg) -> pd.DataFrame:
    return pd.DataFrame([r for s in range(cfg.seeds) for r in moment_bias(s)])


def spike_unit(cfg, seed: int) -> dict[str, pd.DataFrame]:
    """F5: corrected and uncorrected Adam, β₂ ∈ {0.999, 0.9999}, first 50 steps, the same init and batches;
    the loss curve on 400 of the training images."""
    split = data.split("digits")
    sizes = (split.n_features, cfg.grid_hidden, split.n_classes)
    rows = []
    for rho2 in BETA2S:
        for corrected in (True, False):
            # the grid's streams: the same init and batches for both corrections, both β₂ and every lr
            params = replicas.init_mlp(len(LR_GRID), sizes, stream(seed, "grid", "init"))
            _, curve = replicas.train("adam" if corrected else "adam_uncorrected", params,
                                      replicas.Replicates(torch.tensor(LR_GRID)), split.x_train, split.y_train,
                                      cfg.spike_steps, cfg.grid_batch, stream(seed, "grid", "batches"),
                                      full_loss_steps=cfg.spike_steps,
                                      loss_rows=400, rho2=rho2)
            ratio = (curve[1:].max(0).values / curve[0]).nan_to_num(nan=math.inf).clamp(max=100.0)
            rows += [dict(seed=seed, rho2=rho2, corrected=corrected, lr=lr, max_loss_ratio=float(r))
                     for lr, r in zip(LR_GRID, ratio)]
    return {"spike": pd.DataFrame(rows)}


# --- statistics -----------------------------------------------------------------------------------

def ratio_max(bias: pd.DataFrame, rho2: float = 0.999) -> Estimate:
    return Estimate.exact(stats.select(bias, rho2=rho2).ratio.max())


def formula_error(bias: pd.DataFrame) -> Estimate:
    return Estimate.exact((bias.ratio - bias.formula).abs().max())


def moment_bias_estimate(mb: pd.DataFrame, column: str = "bias_m_hat") -> Estimate:
    return stats.mean_ci(mb.groupby("seed", sort=True)[column].mean())


def burst_error(exact: pd.DataFrame) -> Estimate:
    return Estimate.exact(float(exact[exact.quantity == "burst"].iloc[0].burst_error))


def stability_shift(spike: pd.DataFrame, rho2: float) -> Estimate:
    return stats.mean_ci(stability_shifts(spike, rho2))


def stability_shifts(spike: pd.DataFrame, rho2: float) -> np.ndarray:
    """Per seed: log10(largest lr with corrected max loss ratio ≤ 1 / the same for uncorrected)."""
    shifts = []
    for _, part in stats.select(spike, rho2=rho2).groupby("seed", sort=True):
        largest = [part[(part.corrected == c) & (part.max_loss_ratio <= 1.0)].lr.max() for c in (True, False)]
        shifts.append(math.log10(largest[0] / largest[1]) if all(np.isfinite(largest)) else math.nan)
    return np.array(shifts, dtype=float)


def _peaks(part: pd.DataFrame, corrected: bool) -> pd.Series:
    return part[part.corrected == corrected].set_index("lr").max_loss_ratio


def edge_log_ratios(spike: pd.DataFrame, rho2: float) -> np.ndarray:
    """Per seed: at the largest lr where corrected Adam never exceeds its initial loss,
    ln(uncorrected peak / corrected peak) (peaks: max loss over the window / initial loss)."""
    out = []
    for _, part in stats.select(spike, rho2=rho2).groupby("seed", sort=True):
        cor, unc = _peaks(part, True), _peaks(part, False)
        stable = cor[cor <= 1.0]
        out.append(math.log(unc[stable.index.max()] / cor[stable.index.max()]) if len(stable) else math.nan)
    return np.array(out, dtype=float)


def edge_log_ratio(spike: pd.DataFrame, rho2: float) -> Estimate:
    return stats.mean_ci(edge_log_ratios(spike, rho2))


def log_ratio_at(spike: pd.DataFrame, rho2: float, lr: float) -> Estimate:
    """Per seed: ln(uncorrected peak / corrected peak) at the grid rate nearest ``lr``."""
    out = []
    for _, part in stats.select(spike, rho2=rho2).groupby("seed", sort=True):
        cor, unc = _peaks(part, True), _peaks(part, False)
        at = cor.index[int(np.argmin(np.abs(np.log(cor.index.to_numpy()) - math.log(lr))))]
        out.append(math.log(unc[at] / cor[at]))
    return stats.mean_ci(out)


def stated_shift(rho2: float, rho1: float = 0.9) -> float:
    """Decades by which the stability boundary moves down without correction: the first step is
    the corrected one × (1 − β₁)/√(1 − β₂) (3.16 at β₂ = 0.999, 10 at 0.9999)."""
    return math.log10((1 - rho1) / math.sqrt(1 - rho2))


def shift_error(spike: pd.DataFrame) -> Estimate:
    """Per seed |measured stability shift − the stated factor's| in decades; the larger mean over β₂."""
    return stats.worst([stats.mean_ci(np.abs(stability_shifts(spike, r) - stated_shift(r))) for r in BETA2S])


def smaller_over_beta2(statistic, spike: pd.DataFrame) -> Estimate:
    """The claim must hold at both β₂: the smaller of the two estimates (worst group)."""
    return stats.worst([statistic(spike, r) for r in BETA2S], largest=False)


def peak(bias: pd.DataFrame, rho2: float) -> tuple[int, float]:
    """(t, ratio) where the uncorrected/corrected step ratio is largest."""
    part = stats.select(bias, rho2=rho2)
    top = part.loc[part.ratio.idxmax()]
    return int(top.t), float(top.ratio)
