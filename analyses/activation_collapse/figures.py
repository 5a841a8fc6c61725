"""activation-collapse's figures: one function each, marked with the claims it supports."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dlclaims.suite import plots, stats

from . import (DENSITY_CHANNELS, DENSITY_VARIANTS, INIT_STUDY_VARIANTS, NO_COLLAPSE, PAGE_VARIANTS, SCALE_BAND,
               VARIANTS, along_signal, by_layer, change_factor, end_to_end)


def band_by_layer(ax, table: pd.DataFrame, variant: str, column: str, label: str | None = None, color=None,
                  **line_kw) -> None:
    plots.band_from(ax, table, "layer", column, label or VARIANTS[variant].label, color=color, line_kw=line_kw,
                    variant=variant)


def layer_ratios(table: pd.DataFrame, column: str, backward: bool = False) -> pd.DataFrame:
    """Per seed and layer, column[l+1] / column[l] (forward) or column[l] / column[l+1]
    (backward: one layer closer to the input), at layer l + 1 or l respectively."""
    parts = []
    for _, part in table.sort_values("layer").groupby(["variant", "seed"], sort=False):
        values = part[column].to_numpy()
        ratio = values[:-1] / values[1:] if backward else values[1:] / values[:-1]
        layer = part.layer.to_numpy()[:-1] if backward else part.layer.to_numpy()[1:]
        parts.append(pd.DataFrame(dict(variant=part.variant.iloc[0], seed=part.seed.iloc[0], layer=layer,
                                       ratio=ratio)))
    return pd.concat(parts, ignore_index=True)


@plots.figure("A1", "A3", "A5")
def figure_channel_densities(tables, cfg):
    """The lecture's picture: per-channel densities at Page's depths, three networks."""
    import matplotlib.pyplot as plt

    dens = tables["densities"]
    depths = sorted(dens.layer.unique())
    fig, axes = plt.subplots(len(depths), len(DENSITY_VARIANTS), figsize=(12, 1.7 * len(depths)), squeeze=False)
    for col, variant in enumerate(DENSITY_VARIANTS):
        for row, layer in enumerate(depths):
            ax = axes[row, col]
            part = dens[(dens.variant == variant) & (dens.layer == layer)]
            for channel, ch in part.groupby("channel"):
                width = (ch.bin_high - ch.bin_low).to_numpy()
                density = ch["count"].to_numpy() / (ch["count"].sum() * width)
                ax.plot((ch.bin_low + ch.bin_high) / 2, density, lw=1)
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(f"layer {layer}")
            if row == 0:
                ax.set_title(VARIANTS[variant].label)
    fig.suptitle(f"Pre-ReLU distribution of {DENSITY_CHANNELS} channels over the inputs (seed 0)", y=1.0)
    fig.tight_layout()
    return fig


# one colour per variant in every panel and figure
COLORS = {variant: plots.PALETTE[i] for variant, i in
          (("he_relu", 0), ("linear", 1), ("bn_relu", 2), ("centred_relu", 4), ("xavier_tanh", 3), ("xavier_relu", 9))}
COLORS["old_tanh"] = "0.2"  # near black: apart from the palette's orange family and the grey guides


@plots.figure("A1", "A2", "A3", "A4", "A5", "A5b", "A5c")
def figure_collapse_vs_depth(tables, cfg):
    """Collapse vs depth: between-channel share (log scale, so the curves without collapse are
    seen), majority-class fraction, second moment; one colour per variant throughout."""
    import matplotlib.pyplot as plt

    layers, study = tables["layers"], tables["init_study"]
    study = study[study.depth == cfg.depth]
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(17, 5.2))
    for variant in PAGE_VARIANTS:
        band_by_layer(ax2, layers, variant, "majority_fraction", color=COLORS[variant])
        if variant != "bn_relu":  # BN's normalised output has share 0 by construction: BN is judged on its input
            band_by_layer(ax1, layers, variant, "share", color=COLORS[variant])
    band_by_layer(ax1, layers, "bn_relu", "linear_share", label="He U + BN + ReLU: linear output feeding BN (A5)",
                  ls=":", color=COLORS["bn_relu"])
    # the two tanh nets' shares nearly coincide: a wide dashed line under a thin dotted one
    for variant, style in (("xavier_tanh", dict(ls="--", lw=3)), ("old_tanh", dict(ls=":", lw=1.5))):
        band_by_layer(ax1, study, variant, "share", color=COLORS[variant], **style)
    ax1.axhline(NO_COLLAPSE, color="grey", ls=":", lw=1, label=f"'no collapse' ({NO_COLLAPSE:g})")
    he_last = by_layer(layers, "he_relu", "share")[:, -1].mean()
    ax1.set(yscale="log", xlabel="layer", ylabel="between-channel share of variance (log scale)", ylim=(1e-6, 2),
            title=f"He + ReLU's channels collapse (share {he_last:.2f} at layer {cfg.depth});\n"
                  "linear, centred ReLU stay low, BN's input does not grow (dashed: tanh)")
    ax2.axhline(1 / cfg.classes, color="grey", ls=":", label=f"chance (1/{cfg.classes})")
    majority = by_layer(layers, "he_relu", "majority_fraction")[:, -1].mean()
    ax2.set(xlabel="layer", ylabel="majority-class fraction", ylim=(0, 1.02),
            title=f"Random {cfg.classes}-way head: He + ReLU puts {majority:.0%}\nof the inputs in one class")
    relative = layers[layers.variant != "bn_relu"].copy()
    first = relative.groupby(["variant", "seed"]).mean_square.transform("first")
    relative["log_relative"] = np.log(relative.mean_square / first)
    for variant in ("he_relu", "linear", "centred_relu"):
        x, mean, low, high = stats.band(relative, "layer", "log_relative", variant=variant)
        plots.band(ax3, x, np.exp(mean), np.exp(low), np.exp(high), label=VARIANTS[variant].label,
                   color=COLORS[variant])
    ax3.axhspan(*SCALE_BAND, color="grey", alpha=0.15, label=f"A4's band [{SCALE_BAND[0]:g}, {SCALE_BAND[1]:g}]")
    ax3.axhline(1, color="grey", lw=0.8, ls=":")
    he = end_to_end(by_layer(layers, "he_relu", "mean_square"))
    ax3.set(yscale="log", xlabel="layer", ylabel="mean square / its layer-1 value (geom. mean)",
            title=f"Second moment: He keeps it ({he.value:.2f}× end to end, theory 1),\n"
                  "the centred ReLU ratchets it up (A5c)")
    ax1.legend(fontsize=7, loc="lower right", ncol=2)
    ax2.legend(fontsize=7, loc="center right", bbox_to_anchor=(1, 0.47))
    ax3.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


@plots.figure("A6a-50", "A6b-50", "A6c-50", "A6d")
def figure_variance_vs_depth(tables, cfg):
    """Glorot's figures 6-7: activation and gradient variance per layer, log scale."""
    import matplotlib.pyplot as plt

    study = tables["init_study"]
    study = study[study.depth == cfg.depth]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
    for variant in INIT_STUDY_VARIANTS:
        band_by_layer(ax1, study, variant, "activation_var", color=COLORS[variant])
        band_by_layer(ax2, study, variant, "gradient_var", color=COLORS[variant])
    ax1.set(yscale="log", xlabel="layer", ylabel="Var of activations", title="Forward: activation variance")
    ax2.set(yscale="log", xlabel="layer", ylabel="Var of ∂loss/∂pre-activation",
            title=f"Backward: gradient variance (head on layer {cfg.depth})")
    ax1.legend(fontsize=8)
    fig.tight_layout()
    return fig


@plots.figure("A6a", "A6b", "A6c", "A6d", "A6e", "A6f")
def figure_layer_ratios(tables, cfg):
    """Per-layer ratios for each init × activation, forward and backward, with the lecture's
    factors (1, ½, ⅓), and the change over Glorot & Bengio's 5 layers per seed (A6b, A6c)."""
    import matplotlib.pyplot as plt

    study = tables["init_study"]
    deep, shallow = study[study.depth == cfg.depth], study[study.depth == cfg.glorot_depth]
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.6), gridspec_kw=dict(width_ratios=[2, 2, 1.3]))
    for ax, column, backward, title in ((axes[0], "activation_var", False, "Forward: Var a(l+1) / Var a(l)"),
                                        (axes[1], "gradient_var", True, "Backward: Var g(l) / Var g(l+1)")):
        ratios = layer_ratios(deep, column, backward)
        for variant in INIT_STUDY_VARIANTS:
            band_by_layer(ax, ratios, variant, "ratio", color=COLORS[variant], marker=".", ms=3)
        for factor in (1, 0.5, 1 / 3):
            ax.axhline(factor, color="grey", ls=":", lw=1)
        ax.axvspan(0.5, cfg.glorot_depth + 0.5, color="gold", alpha=0.15,
                   label=f"Glorot & Bengio's depth ({cfg.glorot_depth})")
        ax.set(yscale="log", xlabel="layer", ylabel="per-layer ratio (log scale)", title=title + f" (depth {cfg.depth})")
        ax.set_yticks([1 / 3, 0.5, 1, 1.5], labels=["⅓ (old: n Var w)", "½ (Xavier + ReLU)", "1 (kept)", "1.5"])
        ax.minorticks_off()
    axes[0].legend(fontsize=7, loc="lower right")
    ax = axes[2]
    for i, column in enumerate(("activation_var", "gradient_var")):
        for j, variant in enumerate(("xavier_tanh", "old_tanh")):
            change = change_factor(along_signal(shallow, variant, column))
            ax.scatter(np.full(change.size, i + (j - 0.5) * 0.3), change, color=COLORS[variant], s=18,
                       label=VARIANTS[variant].label if i == 0 else None)
    ax.axhline(1, color="grey", ls=":", lw=1)
    ax.axhspan(1, SCALE_BAND[1], color="grey", alpha=0.15, label="'similar scale' (A6e, A6f)")
    d = cfg.glorot_depth
    xavier, old = (stats.geometric_mean_ci(change_factor(along_signal(shallow, v, "activation_var"))).value
                   for v in ("xavier_tanh", "old_tanh"))
    ax.set(yscale="log", xticks=[0, 1], xticklabels=[f"activations\nlayer 1 → {d}", f"gradients\nlayer {d} → 1"],
           ylabel="change factor of the variance (≥ 1)", xlim=(-0.6, 1.6),
           title=f"Over Glorot & Bengio's {d} layers, per seed: Xavier\nchanges it {xavier:.1f}×, the old init "
                 f"{old:.0f}× (A6b, A6e)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


FIGURES = [figure_channel_densities, figure_collapse_vs_depth, figure_variance_vs_depth, figure_layer_ratios]

