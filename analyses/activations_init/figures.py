"""The figures of activations-init, each marked with the claims it supports."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from dlclaims.methods import mean_field
from dlclaims.suite import plots, stats

from . import CLAIMS, DIES, FAILS_TYPICALLY, KILLED, MAJORITY, TOP_SATURATED, centring, estimate, net


def result(tables, cfg, *ids: str) -> str:
    """The claims' headline values and verdicts, for a title (:func:`plots.result_line`)."""
    return plots.result_line(CLAIMS, estimate, tables, cfg, *ids)


@plots.figure("H1a", "H1b", "H1c", "H10a", "H10b")
def figure_gradient_profiles(tables, cfg):
    """‖∂L/∂W_l‖ relative to the last hidden layer, layer by layer, with the mean-field slope √χ."""
    layers = tables["layers"]
    fig, ax = plt.subplots(figsize=(9, 5.5))
    shown = [("sigmoid", "xavier", 1.0, "sigmoid + Xavier"), ("sigmoid", "xavier", cfg.sigmoid_gain,
             f"sigmoid + Xavier × {cfg.sigmoid_gain:g} (saturated)"), ("tanh", "xavier", 1.0, "tanh + Xavier"),
             ("tanh", "xavier", cfg.tanh_gain, f"tanh + Xavier × {cfg.tanh_gain:g} (saturated)"),
             ("relu", "he", 1.0, "ReLU + He")]
    for i, (act, init, gain, label) in enumerate(shown):
        part = net(layers, act, init, gain=gain, depth=cfg.depth, width=cfg.width)
        last = part[part.layer == cfg.depth].set_index("seed").grad
        part = part.assign(rel=part.grad / part.seed.map(last))
        plots.band_from(ax, part, "layer", "rel", label, color=plots.PALETTE[i])
        if act != "relu":  # mean-field: the squared signal changes by χ per layer
            q = mean_field.fixed_point(act, gain**2)
            chi = mean_field.chi(act, q, gain**2)
            ls = np.arange(1, cfg.depth + 1)
            ax.plot(ls, chi ** ((cfg.depth - ls) / 2), ":", color=plots.PALETTE[i], lw=1.5)
    ax.set_yscale("log")
    ax.axhline(KILLED, color="0.4", lw=0.8, ls="--")
    ax.set(xlabel="layer l", ylabel="‖∂L/∂W_l‖ / ‖∂L/∂W_L‖",
           title="Gradient per layer at init (dotted: mean-field √χ per layer)\n"
                 + result(tables, cfg, "H1a", "H1b", "H1c") + "\n" + result(tables, cfg, "H10a", "H10b"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=9)
    return fig


@plots.figure("H7", "H7-he", "H11a", "H11a-ctl")
def figure_second_moments(tables, cfg):
    """Mean squared activation per layer: He vs 002's 2/√n (ReLU), He + tanh from several input scales,
    with the mean-field length map."""
    layers = tables["layers"]
    fig, ax = plt.subplots(figsize=(9, 5.5))
    shown = [("relu", "he", 1.0, "ReLU + He"), ("relu", "two_over_root_n", 1.0, "ReLU + (2/√n)·N(0,1)")]
    shown += [("tanh", "he", m, f"tanh + He, inputs E[x²]={m:g}") for m in cfg.input_moments]
    for i, (act, init, m, label) in enumerate(shown):
        part = net(layers, act, init, depth=cfg.depth, width=cfg.width, input_moment=m)
        plots.band_from(ax, part, "layer", "moment", label, color=plots.PALETTE[i])
        if act == "tanh":
            q1 = float(part[part.layer == 1].pre_moment.mean())
            qs = mean_field.trajectory("tanh", q1, 2.0, cfg.depth)
            ax.plot(np.arange(1, cfg.depth + 1), [mean_field.second_moment("tanh", q) for q in qs], ":",
                    color=plots.PALETTE[i], lw=1.5)
    ax.set_yscale("log")
    ax.set(xlabel="layer l", ylabel="mean squared activation",
           title="Second moment per layer at init (dotted: mean-field length map)\n"
                 + result(tables, cfg, "H7", "H11a"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=9)
    return fig


@plots.figure("H3a", "H3c", "H3e")
def figure_dying_relu(tables, cfg):
    """Share of dead hidden units after training against the lr: ReLU (zero output on every training
    input), Leaky ReLU (units below zero on every input, and effectively dead ones), mean over seeds with
    its 95% band."""
    dy = stats.select(tables["dying"], optimiser="sgd")
    fig, ax = plt.subplots(figsize=(9, 5.5))
    shown = [("relu", "dead_end", "ReLU: zero output on every training input"),
             ("leaky", "dead_end", "Leaky ReLU: below 0 on every training input"),
             ("leaky", "effectively_dead", "Leaky ReLU: effectively dead (largest |δ| < 1e-3 × median)")]
    for i, (act, column, label) in enumerate(shown):
        plots.band_from(ax, dy[dy.act == act], "lr", column, label, color=plots.PALETTE[i])
    ax.axhline(DIES, color="0.4", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set(xlabel="learning rate (plain SGD, 40-256-256-10, MNIST-1D)", ylabel="share of the 512 hidden units",
           title="Dying ReLU after training\n" + result(tables, cfg, "H3a", "H3c", "H3e"))
    ax.legend(loc="upper left", fontsize=9)
    return fig


@plots.figure("H6b", "H6b-ctl")
def figure_too_large_init(tables, cfg):
    """Share of failed trainings (non-finite or not falling loss in fail_steps plain-SGD steps) against
    the init scale s of He's standard deviation, with Wilson 95% intervals; and the median number of
    steps the loss stayed finite."""
    failing = tables["failing"]
    scales = sorted(failing.scale.unique())
    share, low, high, finite_steps = [], [], [], []
    for s in scales:
        part = failing[failing.scale == s]
        est = stats.proportion_ci(int(part.failed.sum()), len(part))
        share.append(est.value)
        low.append(est.value - est.ci_low)
        high.append(est.ci_high - est.value)
        finite_steps.append(float(part.steps_finite.median()))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    ax.errorbar(scales, share, yerr=[low, high], marker="o", capsize=4, color=plots.PALETTE[0])
    ax.axhline(FAILS_TYPICALLY, color="0.4", lw=0.8, ls="--")
    ax.set(xlabel="init scale s (hidden weights He × s)", ylabel=f"share of the {cfg.fail_seeds} runs that fail",
           ylim=(-0.05, 1.05))
    ax2.plot(scales, finite_steps, marker="o", color=plots.PALETTE[1])
    ax2.set_yscale("log")
    ax2.set(xlabel="init scale s", ylabel="steps with a finite loss (median over seeds)")
    fig.suptitle(f"A too-large init: {cfg.deep}-layer width-{cfg.fail_width} ReLU nets, plain SGD at lr "
                 f"{cfg.fail_lr:g}, {cfg.fail_steps} steps\n" + result(tables, cfg, "H6b-ctl", "H6b"))
    fig.tight_layout()
    return fig


@plots.figure("H1d", "H1d-learns", "H1d-init")
def figure_top_saturation(tables, cfg):
    """Share of the top hidden layer's sigmoid outputs below 0.05 at every step (each step's batch), mean
    over seeds with its 95% band, one colour per lr (old init solid, Xavier dashed); the training loss
    beside it: saturation reads as "in training" only where the loss falls."""
    sat = tables["saturation"]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    labels = {"old": "old U(±1/√n)", "xavier": "Xavier"}
    for i, lr in enumerate(sorted(sat.lr.unique())):
        for init in sorted(sat.init.unique()):
            part = sat[(sat.lr == lr) & (sat.init == init)]
            kw = dict(color=plots.PALETTE[i], line_kw=dict(ls="-" if init == "old" else "--"))
            label = f"lr {lr:g}, {labels.get(init, init)}"
            plots.band_from(ax, part, "step", "top_saturated", label, **kw)
            plots.band_from(ax2, part, "step", "loss", label, **kw)
    ax.axhline(MAJORITY, color="0.4", lw=0.8, ls="--")
    ax.set(xlabel="SGD step", ylabel=f"share of top-layer outputs < {TOP_SATURATED:g}", ylim=(-0.05, 1.05))
    ax2.set(xlabel="SGD step", ylabel="training loss (the step's batch)")
    ax2.axhline(math.log(10), color="0.4", lw=0.8, ls=":")
    ax2.legend(loc="upper right", fontsize=8)
    fig.suptitle(f"Top hidden layer of a {cfg.sat_depth}-layer sigmoid net in training (headline lr {cfg.sat_lr:g}; "
                 "dotted: chance, ln 10)\n" + result(tables, cfg, "H1d-learns", "H1d"))
    fig.tight_layout()
    return fig


@plots.figure("H9c", "H9c-ctl")
def figure_normal_or_uniform(tables, cfg):
    """Test accuracy per seed after training from He normal, He uniform and the old U(±1/√n), per depth;
    lines join one seed's runs (the paired design)."""
    normal = tables["normal"]
    depths = sorted(normal.depth.unique())
    fig, axes = plt.subplots(1, len(depths), figsize=(5 * len(depths) + 1, 4.5), sharey=True, squeeze=False)
    order = list(cfg.normal_inits)
    for ax, depth in zip(axes[0], depths):
        wide = normal[normal.depth == depth].pivot(index="seed", columns="init", values="test_acc")[order]
        for _, row in wide.iterrows():
            ax.plot(range(len(order)), row.to_numpy(), color="0.7", lw=0.8)
        ax.plot(range(len(order)), wide.mean().to_numpy(), "o-", color=plots.PALETTE[0], lw=2, label="mean")
        ax.set_xticks(range(len(order)), ["He normal", "He uniform", "old U(±1/√n)"])
        ax.set(title=f"{depth} hidden layers", ylabel="test accuracy (1000 MNIST-1D examples)")
    fig.suptitle("Normal or uniform He: test accuracy after training, per seed\n"
                 + result(tables, cfg, "H9c-ctl", "H9c"))
    fig.tight_layout()
    return fig


@plots.figure("H2b", "H2b-ctl")
def figure_centring(tables, cfg):
    """Steps to training loss 0.3 against the lr (median over seeds, runs that never got there drawn at the
    cap), sigmoid and σ − ½ hidden units and the raw-input control, one panel per batch size; the
    filled marker is each arm's best lr, where the rows compare them."""
    cen = tables["centring"]
    batches = sorted(cen.batch.unique())
    fig, axes = plt.subplots(1, len(batches), figsize=(5.5 * len(batches) + 1, 4.5), squeeze=False)
    labels = {"sigmoid": "σ units, centred inputs", "centred": "σ − ½ units, centred inputs",
              "raw": "σ − ½ units, raw inputs (control)"}
    for ax, batch in zip(axes[0], batches):
        part = cen[cen.batch == batch]
        cap = cfg.centring_steps[cfg.centring_batches.index(batch)]
        for i, arm in enumerate(a for a in labels if a in set(part.arm)):
            medians = part[part.arm == arm].groupby("lr").steps_to_target.median().clip(upper=cap)
            ax.plot(medians.index, medians.to_numpy(), "o-", mfc="white", color=plots.PALETTE[i], label=labels[arm])
            best = centring.best_lr(part[part.arm == arm])
            ax.plot([best], [medians[best]], "o", color=plots.PALETTE[i], ms=9)
        ax.axhline(cap, color="0.4", lw=0.8, ls="--")
        ax.set_xscale("log")
        grid = sorted(part.lr.unique())
        ax.minorticks_off()
        ax.set_xticks(grid, [f"{lr:.2g}" for lr in grid])
        ax.set_ylim(0, cap * 1.05)
        ax.set(xlabel="learning rate (plain SGD)", ylabel="steps to training loss 0.3 (median)", title=f"batch {batch}")
    axes[0][0].legend(fontsize=9)
    fig.suptitle(f"Zero-centred units and inputs on the 8×8 digits ({cfg.train_seeds} seeds)\n"
                 + result(tables, cfg, "H2b-ctl", "H2b"))
    fig.tight_layout()
    return fig


FIGURES = [figure_gradient_profiles, figure_second_moments, figure_dying_relu, figure_too_large_init,
           figure_top_saturation, figure_normal_or_uniform, figure_centring]
