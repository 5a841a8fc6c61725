"""The figures: one function each, ``figure_<name>(tables, cfg)``, marked with the claims it supports."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from dlclaims.suite import plots, stats

from .trainings import BASE_LR, NORM_LABELS, NORMS, REFERENCE_BATCH, TRAIN_BATCH, WORKS


@plots.figure("G7", "G7b")
def figure_batch_size(tables, cfg):
    """BN vs GN / LN / none: test accuracy against batch size (G7)."""
    sweep = tables["sweep"]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for i, norm in enumerate(NORMS):
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
           title="Digits MLP: batch norm degrades at small batch, GroupNorm does not")
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


@plots.figure("G11", "G11b")
def figure_gradient_by_layer(tables, cfg):
    """Weight-gradient norm by layer at init, with and without BN (G11, Yang et al. 2019)."""
    deep = tables["deep_gradients"].assign(log_grad=lambda t: np.log(t.grad_norm))
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for i, norm in enumerate(("bn", "none")):
        x, mean, low, high = stats.band(deep, "layer", "log_grad", norm=norm)  # geometric: band of the logs
        label = "Linear + BatchNorm + ReLU" if norm == "bn" else "Linear + ReLU (He init)"
        plots.band(ax, x, np.exp(mean), np.exp(low), np.exp(high), label=label, color=plots.PALETTE[i])
        if norm == "bn":
            rate = math.pi / (math.pi - 1)  # Yang et al. 2019: squared-norm growth per layer, ReLU
            ax.plot(x, np.exp(mean[-1]) * rate ** ((x[-1] - x) / 2), ":", color="grey",
                    label="Yang et al.: ×√(π/(π−1)) per layer")
    ax.set_yscale("log")
    ax.set(xlabel="layer (1 = nearest the input)", ylabel="‖∂L/∂W_l‖ at init (geometric mean over seeds)",
           title=f"{cfg.deep_layers}-layer MLP at init: BN makes early-layer gradients explode")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@plots.figure("G12", "G12b")
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
    ax1.set(xlabel="SGD step", ylabel="‖G − G′‖ / ‖G‖ (mean over layers)",
            title="Internal covariate shift (Santurkar et al. 2018)")
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
           title=f"Digits MLP, {cfg.epochs} epochs at B = {TRAIN_BATCH}: dependence on the init scale")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


FIGURES = [figure_batch_size, figure_batch_dependence, figure_gradient_by_layer, figure_covariate_shift,
           figure_init_scale]
