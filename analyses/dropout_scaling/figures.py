"""dropout-scaling's figures: one function each, marked with the claims it supports."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlclaims.suite import plots, stats


from . import CLAIMS, DELTA_ONE_DIGIT, RUNS, VARIANTS, at_delta, estimate
from .studies import SCATTER_DIGITS


def hline_band(ax, values: np.ndarray, label: str, color) -> None:
    est = stats.mean_ci(values)
    ax.axhline(est.value, color=color, ls="--", label=label)
    ax.axhspan(est.ci_low, est.ci_high, color=color, alpha=0.15, linewidth=0)


def rule_of(claim_id: str):
    return next(c.rule for c in CLAIMS if c.id == claim_id)


def result(tables, cfg, *ids: str) -> str:
    """The claims' headline values and verdicts, for a title (:func:`plots.result_line`)."""
    return plots.result_line(CLAIMS, estimate, tables, cfg, *ids)


@plots.figure("D3a", "D3b", "D3d", "D3e")
def figure_mc_vs_k(tables, cfg):
    """D3: the Monte-Carlo ensemble vs k, against weight scaling and its δ band; k* per seed."""
    mc, scaling, ks = tables["mc"], tables["scaling"], at_delta(tables["k_star"], DELTA_ONE_DIGIT)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    for ax, metric, name in ((axes[0], "accuracy", "test accuracy"), (axes[1], "nll", "test NLL (nats)")):
        plots.band_from(ax, mc, "k", metric, "MC average of k masks", color=plots.PALETTE[0],
                        line_kw=dict(marker="o", ms=3))
        hline_band(ax, stats.per_seed(scaling, metric, mode="weight_scaled"), "weight scaling (× p)",
                   plots.PALETTE[1])
        ax.set(xscale="log", xlabel="k (stochastic passes averaged)", ylabel=name)
    target = stats.mean_ci(ks.target - ks.delta).value
    axes[0].axhline(target, color=plots.PALETTE[1], ls=":", label=f"weight scaling − δ (δ = {DELTA_ONE_DIGIT:g})")
    region = rule_of("D3b")
    axes[0].axvspan(region.lo, region.hi, color="grey", alpha=0.08, label="D3b's region for k*")
    reached = ks[~ks.censored]
    axes[0].plot(reached.k_star, reached.target - reached.delta, "v", color=plots.PALETTE[2], ms=7,
                 label=f"k* per seed ({int(ks.censored.sum())} of {len(ks)} censored)")
    axes[0].legend(fontsize=8, loc="lower right")
    axes[1].legend(fontsize=8)
    axes[0].set_title(f"Accuracy: MC ensemble reaches weight scaling − δ\n{result(tables, cfg, 'D3a', 'D3b')}")
    axes[1].set_title(f"NLL: the ensemble stays above weight scaling\n{result(tables, cfg, 'D3d')} (nats)")
    fig.tight_layout()
    return fig


@plots.figure("D1a", "D1c")
def figure_bias_vs_masks(tables, cfg):
    """D1: relative bias and mean z² against the number of masks M, per layer."""
    layers = tables["layers"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, layer in enumerate(sorted(layers.layer.unique())):
        name = "logits" if layer == layers.layer.max() else f"layer {layer}"
        for ax, column in ((ax1, "relative_bias"), (ax2, "mean_z2")):
            plots.band_from(ax, layers, "masks", column, name, color=plots.PALETTE[i], line_kw=dict(marker="o"),
                            layer=layer)
    bound = rule_of("D1c").hi
    ax1.axhline(bound, color="grey", ls=":", label=f"D1c's bound {bound:g}")
    ax2.axhline(1, color="grey", ls=":", label="1: no bias (exact)")
    ax1.set(xscale="log", xlabel="M (stochastic passes)", ylabel="relative bias of p × full (MC noise removed)",
            title=f"Relative bias: the same whatever M\n{result(tables, cfg, 'D1c')}")
    ax2.set(xscale="log", xlabel="M (stochastic passes)", ylabel="mean z² (bias / MC standard error)²",
            title=f"Mean z²: a fixed bias over a shrinking SE grows with M\nlayer 1 (exact): {result(tables, cfg, 'D1a')}")
    for ax in (ax1, ax2):
        ax.set_xticks(sorted(layers.masks.unique()), [str(m) for m in sorted(layers.masks.unique())])
        ax.minorticks_off()
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@plots.figure("D1a", "D1c")
def figure_expected_vs_full(tables, cfg):
    """D1: per layer, MC expected weighted input vs p × full (seed 0)."""
    points = tables["activations"]
    layers = stats.select(tables["layers"], seed=0, masks=tables["layers"].masks.max())
    ls = sorted(points.layer.unique())
    fig, axes = plt.subplots(1, len(ls), figsize=(4.2 * len(ls), 4.2), squeeze=False)
    for ax, layer in zip(axes[0], ls):
        part = points[points.layer == layer]
        ax.scatter(part.scaled, part.mc_mean, s=4, alpha=0.4, color=plots.PALETTE[0], label="unit × digit")
        lim = [min(part.scaled.min(), part.mc_mean.min()), max(part.scaled.max(), part.mc_mean.max())]
        ax.plot(lim, lim, color="grey", lw=1, ls=":", label="y = x")
        row = stats.select(layers, layer=layer).iloc[0]
        name = "logits" if layer == max(ls) else f"hidden layer {layer}"
        ax.set(xlabel="p × full weighted input (weight scaling)", ylabel=f"MC mean over {int(row.masks)} masks",
               title=f"layer {layer} ({name}), keep {row.keep:g}\nmean z² {row.mean_z2:.2f}, "
                     f"relative bias {row.relative_bias:.3f}")
        ax.legend(fontsize=8)
    fig.suptitle(f"Expected vs weight-scaled input per layer (seed 0, {SCATTER_DIGITS} test digits); "
                 f"{result(tables, cfg, 'D1a', 'D1c')}", y=1.02)
    fig.tight_layout()
    return fig


@plots.figure("D2a", "D2b", "D2c")
def figure_scaling(tables, cfg):
    """D2: with and without test-time scaling, and the inverted form."""
    scaling = tables["scaling"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    modes = ["weight_scaled", "inverted", "unscaled"]
    for ax, metric, name in ((axes[0], "accuracy", "test accuracy"), (axes[1], "nll", "test NLL (nats)")):
        for i, mode in enumerate(modes):
            values = stats.per_seed(scaling, metric, mode=mode)
            est = stats.mean_ci(values)
            ax.scatter(np.full(len(values), i) + np.linspace(-0.1, 0.1, len(values)), values, s=14,
                       color=plots.PALETTE[i], alpha=0.7)
            ax.errorbar([i + 0.25], [est.value], yerr=[[est.value - est.ci_low], [est.ci_high - est.value]],
                        fmt="o", color="black", capsize=4)
        ax.set_xticks(range(len(modes)), ["× p at test\n(classic)", "÷ p in training\n(inverted)", "no scaling"])
        ax.set(ylabel=name)
    axes[0].set_title(f"Accuracy barely notices a global scale ...\n{result(tables, cfg, 'D2a')}")
    axes[1].set_title(f"... the loss does (dots: seeds; bars: mean ± 95% CI)\n{result(tables, cfg, 'D2b')} (nats)")
    fig.tight_layout()
    return fig


@plots.figure("D4")
def figure_train_test_curves(tables, cfg):
    """D4: train and test accuracy and NLL during training, with and without dropout."""
    curves = tables["curves"]
    fig, axes = plt.subplots(2, len(RUNS), figsize=(6 * len(RUNS), 7.5), squeeze=False)
    for col, run in enumerate(RUNS):
        for row, metric in enumerate(("accuracy", "nll")):
            ax = axes[row, col]
            for i, variant in enumerate(VARIANTS):
                for part, style in (("train", "--"), ("test", "-")):
                    plots.band_from(ax, curves, "epoch", metric, f"{variant} {part}", color=plots.PALETTE[i],
                                    line_kw=dict(ls=style), run=run, variant=variant, split=part)
            n = f"small training subset of {cfg.small_train} (D4)" if run == "small" else "full training split"
            ax.set(xlabel="epoch", ylabel=metric if metric == "accuracy" else "NLL (nats), log scale",
                   title=f"{n}: {metric}")
            if metric == "nll":
                ax.set_yscale("log")
            ax.legend(fontsize=8)
    fig.suptitle("Train (dashed) vs test (solid), weight-scaled net; mean ± 95% CI over seeds\n"
                 f"dropout shrinks the small-set NLL gap: {result(tables, cfg, 'D4')} (nats)", y=1.02)
    fig.tight_layout()
    return fig
