"""The figures: worst-case gaps against their bounds, iterations against κ, Lessard's cycle,
the zig-zag and GD's step sizes around 2/L."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from dlclaims.suite import plots, stats

from .lessard import LESSARD, lessard_f
from .objectives import F64
from .rates import ZIGZAG
from .worst_cases import INSTANCES

METHODS = {"gd": "GD", "heavy_ball": "heavy ball", "nag": "NAG"}
COLORS = {"gd": plots.PALETTE[0], "heavy_ball": plots.PALETTE[2], "nag": plots.PALETTE[1]}
INSTANCE_STYLE = {"nesterov_worst": ":", "worst_1d_quadratic": "--", "worst_1d_huber": "-"}


def result(tables, cfg, *ids: str) -> str:
    """The claims' headline values and verdicts, for a title (:func:`plots.result_line`)."""
    from . import CLAIMS, estimate  # the package imports this module before it declares them

    return plots.result_line(CLAIMS, estimate, tables, cfg, *ids)


@plots.figure("E1a", "E1b", "E1c", "E1d", "E1f")
def figure_gap_vs_horizon(tables, cfg):
    """Worst-case gaps against their bounds, and the scaled gaps settling to constants."""
    worst, fixed = tables["worst_case"], tables["fixed_instance"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 7))
    for method in ("gd", "nag"):
        for instance, label in INSTANCES.items():
            part = stats.select(worst, instance=instance, method=method)
            ax1.plot(part.horizon, part.gap_over_LR2, INSTANCE_STYLE[instance], marker="o", ms=3,
                     color=COLORS[method], label=f"{METHODS[method]}, {label}")
            scale = part.horizon if method == "gd" else part.horizon**2
            ax2.plot(part.horizon, scale * part.gap_over_LR2, INSTANCE_STYLE[instance], marker="o", ms=3,
                     color=COLORS[method], label=f"{METHODS[method]}, {label}")
    bounds = stats.select(worst, instance="worst_1d_huber", method="gd")
    T = bounds.horizon
    ax1.plot(T, bounds.gd_bound_over_LR2, color=COLORS["gd"], lw=3, alpha=0.35, label="GD bound 1/(2T)")
    ax1.plot(T, bounds.nag_bound_over_LR2, color=COLORS["nag"], lw=3, alpha=0.35, label="NAG bound 2/(T+1)²")
    ax1.plot(T, bounds.exact_lower_bound_over_LR2, color="black", lw=1, label="exact lower bound 1/(2θ_T²)")
    ax1.plot(T, bounds.lower_bound_over_LR2, color="grey", lw=1, label="Nesterov's lower bound 3/(32(T+1)²)")
    for method in ("gd", "nag"):
        part = fixed[(fixed.method == method) & (fixed.gap_over_LR2 > 0)]
        ax1.plot(part.horizon, part.gap_over_LR2, "-", lw=0.8, alpha=0.5, color=COLORS[method],
                 label=f"{METHODS[method]}, one fixed quadratic (dim {cfg.fixed_dimension})")
    ax1.set(xscale="log", yscale="log", xlabel="horizon T", ylabel="(f(x_T) − f*) / (L R²)",
            title="Smooth convex: gap at horizon T, each worst case built for that T\n"
                  f"{result(tables, cfg, 'E1a')} (GD slope)\n{result(tables, cfg, 'E1b')} (NAG slope)",
            ylim=(1e-9, 1))
    ax1.legend(fontsize=8, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    ax2.axhline(0.5, color=COLORS["gd"], lw=3, alpha=0.35, label="GD bound: T·gap ≤ 1/2")
    ax2.axhline(0.25, color=COLORS["gd"], ls="-.", lw=1, label="GD exact worst case → 1/4 (Drori & Teboulle)")
    ax2.axhline(1 / (4 * math.e), color=COLORS["gd"], ls=":", lw=1, label="1/(4e), worst quadratic's limit")
    ax2.axhline(2, color=COLORS["nag"], lw=3, alpha=0.35, label="NAG bound: T²·gap ≤ 2")
    ax2.plot(T, T**2 * bounds.exact_lower_bound_over_LR2, color="black", lw=1,
             label="T²/(2θ_T²), exact lower bound (Drori 2017)")
    ax2.axhline(3 / 32, color="grey", lw=1, label="3/32, Nesterov's lower bound")
    ax2.set(xscale="log", yscale="log", xlabel="horizon T", ylabel="T·gap/(LR²) (GD), T²·gap/(LR²) (NAG)",
            title="Scaled gaps settle to constants:\nthe Huber function reaches ½ of GD's bound, all of NAG's\n"
                  f"{result(tables, cfg, 'E1c', 'E1d')} (gap / bound)")
    ax2.legend(fontsize=8, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    fig.tight_layout()
    return fig


@plots.figure("E2a", "E2b", "E2c", "E2d", "E2e")
def figure_iterations_vs_kappa(tables, cfg):
    """Iterations to ε against κ, per problem, every method, both starts (quadratics)."""
    its = tables["iterations"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    for ax, problem in zip(axes, ("quadratic", "logistic")):
        for method, label in METHODS.items():
            for start in sorted(stats.select(its, problem=problem).start.unique()):
                balanced = start == "balanced"
                plots.band_from(ax, its, "kappa", "iterations", label if balanced else f"{label}, x₀ ~ N(0, I)",
                                color=COLORS[method], line_kw=dict(marker="o" if balanced else None,
                                                                   ls="-" if balanced else "--"),
                                problem=problem, method=method, start=start)
        k = np.array(sorted(its.kappa.unique()))
        ax.plot(k, k * 20, ":", color="grey", label="∝ κ")
        ax.plot(k, np.sqrt(k) * 20, "-.", color="grey", label="∝ √κ")
        ax.set(xscale="log", yscale="log", xlabel="condition number κ = L/μ", title=problem.replace("_", " "))
    axes[0].set_ylabel(f"iterations to relative gap ε = {cfg.eps:g}")
    axes[0].legend(fontsize=8)
    fig.suptitle("Strongly convex: iterations to ε vs κ (mean over seeds, 95% CI); log-log slopes\n"
                 f"quadratic: {result(tables, cfg, 'E2a', 'E2b', 'E2c')}\n"
                 f"logistic: {result(tables, cfg, 'E2d', 'E2e')}", y=1.02)
    fig.tight_layout()
    return fig


@plots.figure("E3a", "E3b")
def figure_lessard_cycle(tables, cfg):
    """Heavy ball's limit cycle on Lessard et al.'s function; NAG and GD from the same start (GD
    drawn as open squares over NAG's dots: where their iterates coincide both stay visible)."""
    traj, lessard = tables["lessard_trajectory"], tables["lessard"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.8))
    marks = {"gd": dict(marker="s", ms=8, mfc="none", mew=1.5, lw=2.5, ls="--", zorder=3),
             "heavy_ball": dict(marker="o", ms=3, lw=1, zorder=2), "nag": dict(marker="o", ms=4, lw=1.2, zorder=4)}
    for method, label in METHODS.items():
        part = stats.select(traj, method=method)
        ax1.plot(part.step, part.x, color=COLORS[method], label=label, **marks[method])
    gd, nag = (stats.select(traj, method=m).sort_values("step").x.to_numpy() for m in ("gd", "nag"))
    if len(gd) == len(nag):
        settled = np.flatnonzero((np.abs(gd) < 1e-12) & (np.abs(nag) < 1e-12))
        if len(settled):
            ax1.annotate(f"GD (squares) and NAG (dots) both at x* = 0 from k = {settled[0]}",
                         (settled[0], 0), xytext=(12, -2.9), fontsize=9, arrowprops=dict(arrowstyle="->", color="black"))
    ax1.set(xlabel="iteration k", ylabel="x_k", ylim=(-3.6, 4.6),
            title=f"Lessard et al.'s function (L={LESSARD['L']:g}, μ={LESSARD['mu']:g}), x₀ = "
                  f"{traj.start.iloc[0]:.3f}\nGD and NAG converge: {result(tables, cfg, 'E3b')} (largest final gap)")
    ax1.legend(ncol=3, loc="upper center", fontsize=9)
    xs = torch.linspace(-3, 4, 400, dtype=F64)
    ax2.plot(xs, lessard_f(xs), color="grey", label="f")
    hb = lessard[(lessard.method == "heavy_ball") & (lessard.cycle_points != "none")]
    title = "Heavy ball on the function: no cycle found"
    if len(hb):
        pts = torch.tensor([float(v) for v in str(hb.cycle_points.iloc[0]).split()], dtype=F64)
        ax2.plot(pts, lessard_f(pts), "o", ms=9, color=COLORS["heavy_ball"],
                 label=f"heavy ball's limit cycle (period {len(pts)})")
        title = f"Heavy ball's period-{len(pts)} cycle on the function"
    ax2.plot([0], [0], "*", ms=14, color="black", label="minimum")
    ax2.set(xlabel="x", ylabel="f(x)", title=f"{title}\n{result(tables, cfg, 'E3a')} (share of starts cycling)")
    ax2.legend(loc="upper center", fontsize=9)
    fig.tight_layout()
    return fig


@plots.figure("E2a", "E2b", "E2c")
def figure_zigzag(tables, cfg):
    """GD, heavy ball and NAG on an ill-conditioned 2-D quadratic."""
    zz = tables["zigzag"]
    L, mu = ZIGZAG["L"], ZIGZAG["mu"]
    fig, ax = plt.subplots(figsize=(9, 4.2))
    g1, g2 = np.meshgrid(np.linspace(-11, 2, 300), np.linspace(-3, 3, 200))
    ax.contour(g1, g2, 0.5 * (mu * g1**2 + L * g2**2), levels=np.geomspace(0.01, 8, 12), colors="lightgrey",
               linewidths=0.8)
    for method, label in METHODS.items():
        part = stats.select(zz, method=method)
        ax.plot(part.x1, part.x2, "o-", ms=3, lw=1.2, color=COLORS[method], label=label)
    ax.plot([0], [0], "*", ms=12, color="black")
    ax.set(xlabel=f"x₁ (shallow, μ = {mu:g})", ylabel=f"x₂ (steep, L = {L:g})", aspect="equal",
           title=f"Ill-conditioned 2-D quadratic (κ = {L / mu:g}), {ZIGZAG['steps']} steps: GD η = 2/(L+μ);\n"
                 "heavy ball Polyak's η, β; NAG η = 1/L, β = (√κ−1)/(√κ+1); κ-scaling over seeds (log-log slopes):\n"
                 f"{result(tables, cfg, 'E2a', 'E2b', 'E2c')}")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


@plots.figure("E5a", "E5b")
def figure_step_sizes(tables, cfg):
    """GD's f(x_k)/f(x_0) on a grid of ηL around 2 (seed 0)."""
    curves = tables["step_size_curves"]
    fig, ax = plt.subplots(figsize=(8, 4.6))
    etas = sorted(curves.eta_times_L.unique())
    below, above = [e for e in etas if e < 2], [e for e in etas if e > 2]
    colors = {**dict(zip(below, plt.get_cmap("Blues")(np.linspace(0.35, 1, len(below))))),
              **dict(zip(above, plt.get_cmap("Reds")(np.linspace(0.35, 1, len(above)))))}
    for eta, part in curves.groupby("eta_times_L"):
        ax.plot(part.step, np.log10(part.f_over_f0), color=colors[eta], label=f"η = {eta:g}/L",
                ls="-" if eta < 2 else "--")
    ax.set(xlabel="iteration k", ylabel="log₁₀ f(x_k) / f(x_0)", ylim=(-40, 100),
           title="GD on a quadratic: monotone below η = 2/L, divergent above (seed 0)\n"
                 f"{result(tables, cfg, 'E5a', 'E5b')} (fractions of runs)")
    ax.legend(fontsize=7.5, ncol=2)
    fig.tight_layout()
    return fig


FIGURES = [figure_gap_vs_horizon, figure_iterations_vs_kappa, figure_lessard_cycle, figure_zigzag,
           figure_step_sizes]
