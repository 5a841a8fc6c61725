"""The figures: one function each, ``figure_<name>(tables, cfg)``, marked with the claims it supports."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from dlclaims.suite import plots, stats
from dlclaims.suite.claims import rule_of_region

from .deep_net import GAINS
from .trainings import BASE_LR, NORM_LABELS, REFERENCE_BATCH, SWEEP_NORMS, WORKS


@plots.figure("G7", "G7b")
def figure_batch_size(tables, cfg):
    """BN vs GN / LN / none: test accuracy against batch size (G7)."""
    sweep = tables["sweep"]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for i, norm in enumerate(SWEEP_NORMS):
        plots.band_from(ax, sweep, "batch", "test_acc", NORM_LABELS[norm], color=plots.PALETTE[i],
                        line_kw=dict(marker="o"), norm=norm)
    plots.band_from(ax, sweep, "batch", "train_mode_acc", "BatchNorm, batch statistics at test",
                    color=plots.PALETTE[0], line_kw=dict(ls="--"), norm="bn")
    batches = sorted(sweep.batch.unique())
    ax.set_xscale("log", base=2)
    ax.set_xticks(batches)
    ax.set_xticklabels([str(b) for b in batches])
    ax.set(xlabel=f"batch size B (lr = {BASE_LR}·B/{REFERENCE_BATCH}, {cfg.sweep_epochs} epochs)",
           ylabel="test accuracy (eval mode)",
           title=f"{cfg.data} MLP: BN's drop minus GN's at B = 4 is {_text(tables, 'G7')} (G7)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


@plots.figure("G6", "G6b", "G6c")
def figure_batch_dependence(tables, cfg):
    """One sample's output against its batch companions: BN vs LN / GN / IN (G6)."""
    comp, samples = tables["companions"], tables["companion_samples"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.3))
    spread = comp.groupby(["norm", "m"])["std"].mean().reset_index()
    bn = spread[spread.norm == "bn"]
    ax1.loglog(bn.m, bn["std"], "o-", label=NORM_LABELS["bn"], color=plots.PALETTE[0])
    ref = bn[bn.m == 32]["std"].iloc[0] * np.sqrt(32 / bn.m)
    ax1.loglog(bn.m, ref, ":", color="grey", label="∝ 1/√m")
    others = spread[spread.norm != "bn"]["std"].max()
    ax1.text(0.97, 0.95, f"LayerNorm, GroupNorm, InstanceNorm:\nstd = {others:.0e} (batch-independent)",
             transform=ax1.transAxes, fontsize=8, ha="right", va="top")
    ax1.set(xlabel="batch size m", ylabel="std of the sample's output over companion sets",
            title=f"Train-mode output of one fixed sample, {samples.draw.nunique()} companion sets")
    ax1.legend(fontsize=8, loc="lower left")
    for i, m in enumerate(sorted(samples.m.unique())):
        part = samples[(samples.norm == "bn") & (samples.m == m)]
        ax2.hist(part.output, bins=25, alpha=0.55, color=plots.PALETTE[i], label=f"BatchNorm, m = {m}")
    ln = samples[samples.norm == "ln"].output.iloc[0]
    ax2.axvline(ln, color="k", lw=2, label="LayerNorm (every batch)")
    ax2.set(xlabel="output of feature 0 for the fixed sample", ylabel="companion sets",
            title="Same sample, different batches")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


@plots.figure("G11", "G11b", "G11c", "G11d")
def figure_gradient_by_layer(tables, cfg):
    """Weight-gradient norm by layer at init with and without BN, Yang et al.'s rate over the BN
    stack (G11); the BN stack after SGD steps (G11c); the gradient size across init gains (G11d)."""
    deep = tables["deep_gradients"].assign(log_grad=lambda t: np.log(t.grad_norm))
    deepest = int(deep.depth.max())
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw=dict(width_ratios=(3, 2)))
    curves = [("Linear + BatchNorm + ReLU, init", dict(study="depth", norm="bn", depth=deepest), 0, "-"),
              ("Linear + ReLU (He init), init", dict(study="depth", norm="none", depth=deepest), 1, "-"),
              (f"BatchNorm after {cfg.deep_steps} SGD steps", dict(study="training", step=int(deep.step.max())), 0,
               "--")]
    for label, where, colour, ls in curves:
        x, mean, low, high = stats.band(deep, "layer", "log_grad", **where)  # geometric: band of the logs
        plots.band(ax, x, np.exp(mean), np.exp(low), np.exp(high), label=label, color=plots.PALETTE[colour], ls=ls)
        if where.get("study") == "depth" and where["norm"] == "bn":
            rate = math.pi / (math.pi - 1)  # Yang et al. 2019: squared-norm growth per layer, ReLU
            ax.plot(x, np.exp(mean[-1]) * rate ** ((x[-1] - x) / 2), ":", color="k", lw=2,
                    label="theory (Yang et al.): ×√(π/(π−1)) per layer")
    ax.set_yscale("log")
    ax.set(xlabel="layer (1 = nearest the input)", ylabel="‖∂L/∂W_l‖ (geometric mean over seeds)",
           title=f"{deepest}-layer MLP: at init W_1's gradient is {_value(tables, 'G11'):.0f}× W_{deepest}'s (G11)")
    ax.legend(fontsize=8, loc="upper right")
    gains = deep[(deep.study == "gain") & (deep.layer == deepest)]
    for i, norm in enumerate(("bn", "none")):
        x, mean, low, high = stats.band(gains, "gain", "log_grad", norm=norm)
        plots.band(ax2, x, np.exp(mean), np.exp(low), np.exp(high), label=NORM_LABELS[norm], color=plots.PALETTE[i],
                   marker="o")
    ax2.set_yscale("log")
    ax2.set_xticks(GAINS)
    ax2.set(xlabel="init gain (× He)", ylabel=f"‖∂L/∂W_{deepest}‖ at init",
            title="Gradient size across init gains (G11b, G11d)")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _value(tables, claim: str, column: str = "value"):
    """A column of the claim's row in ``claims.csv`` (NaN where the table or row is missing)."""
    claims = tables.get("claims")
    if claims is None or claim not in set(claims.claim):
        return float("nan")
    value = claims[claims.claim == claim][column].iloc[0]
    return value if column == "rule" else float(value)


def _text(tables, claim: str) -> str:
    return f"{_value(tables, claim):.3f}"


@plots.figure("G12", "G12b", "G12c")
def figure_covariate_shift(tables, cfg):
    """Santurkar's internal covariate shift with and without BN (G12)."""
    ics = tables["ics"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.3))
    for i, norm in enumerate(("bn", "none")):
        per_step = ics[ics.norm == norm].groupby(["seed", "step"]).ics.mean().reset_index()
        plots.band_from(ax1, per_step, "step", "ics", NORM_LABELS[norm], color=plots.PALETTE[i],
                        line_kw=dict(marker="o"))
        per_layer = ics[ics.norm == norm].groupby(["seed", "layer"]).ics.mean().reset_index()
        plots.band_from(ax2, per_layer, "layer", "ics", NORM_LABELS[norm], color=plots.PALETTE[i],
                        line_kw=dict(marker="o"))
    line = _value(tables, "G12", "rule")
    if isinstance(line, str):
        ax1.axhline(rule_of_region(line).lo, color="grey", ls=":", label="G12: 'not eliminated' from here")
    ax1.set(xlabel="SGD step", ylabel="relative ICS ‖G − G′‖ / ‖G‖ (mean over layers)",
            title=f"Relative ICS: BN's own {_text(tables, 'G12')} (G12), BN / none {_text(tables, 'G12c')} (G12c)")
    ax2.set(xlabel="weight layer k", ylabel="‖G − G′‖ / ‖G‖ (mean over checkpoints)", title="By layer")
    ax2.set_xticks(sorted(ics.layer.unique()))
    ax1.legend(fontsize=8)
    fig.tight_layout()
    return fig


@plots.figure("G10", "G10b", "G10c")
def figure_init_scale(tables, cfg):
    """Test accuracy against the init scale, with and without BN (G10)."""
    scale = tables["init_scale"]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for i, norm in enumerate(("bn", "none")):
        plots.band_from(ax, scale, "scale", "test_acc", NORM_LABELS[norm], color=plots.PALETTE[i],
                        line_kw=dict(marker="o"), norm=norm)
    ax.axhline(WORKS, color="grey", ls=":", label="'training works' threshold")
    ax.set_xscale("log")
    ax.set(xlabel="init scale (× He)", ylabel="test accuracy", ylim=(0, 1.02),
           title=f"{cfg.init_layers}-hidden-layer MLP on {cfg.data}, {cfg.init_epochs} epochs: BN − none {_text(tables, 'G10')} (G10)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


FIGURES = [figure_batch_size, figure_batch_dependence, figure_gradient_by_layer, figure_covariate_shift,
           figure_init_scale]
