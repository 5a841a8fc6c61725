"""The figures of activations-init, each marked with the claims it supports."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlclaims.methods import mean_field
from dlclaims.suite import plots, stats

from . import CLAIMS, DIES, KILLED, estimate, net


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


FIGURES = [figure_gradient_profiles, figure_second_moments, figure_dying_relu]
