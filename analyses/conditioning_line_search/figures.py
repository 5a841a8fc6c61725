"""The figures: κ and iterations per preprocessing, Armijo and the naive rule against GD(1/L), the
best constant step against 1/L and 2/(L+μ), stochastic Armijo with and without interpolation,
Newton's order, and the gradient jump of ReLU against ELU."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlclaims.suite import plots

from .problems import PREPROCESSINGS


@plots.figure("J1p", "J1a", "J1b", "J1c")
def figure_preprocessing(tables, cfg):
    full = tables["conditioning"].query("draw == -1").set_index("preprocessing").loc[list(PREPROCESSINGS)]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    x = np.arange(len(full))
    ax1.bar(x, full.kappa, color=plots.PALETTE[0])
    ax2.bar(x, full.iterations, color=plots.PALETTE[1])
    for ax, label in ((ax1, "κ of XᵀX/n"), (ax2, f"GD iterations (η = 1/L) to gap {cfg.eps:g}")):
        ax.set(yscale="log", xticks=x, xticklabels=full.index, ylabel=label)
    ax1.set_title("Digits least squares: conditioning per preprocessing")
    ax2.set_title(f"centring ×{full.iterations['centred'] / full.iterations['raw']:.3g}, "
                  f"scaling ×{full.iterations['standardised'] / full.iterations['centred']:.2g} the iterations")
    fig.tight_layout()
    return fig


@plots.figure("J6a", "J6b", "J7b")
def figure_line_search(tables, cfg):
    bt = tables["backtracking"]
    gd = int(bt[bt.rule == "gd_1_over_L"].iterations.iloc[0])
    fig, ax = plt.subplots(figsize=(8, 5))
    for (rule, gamma), color in zip((("armijo", 1e-4), ("armijo", 0.5), ("naive", 0.0)), plots.PALETTE):
        part = bt[(bt.rule == rule) & (bt.gamma == gamma)]
        label = f"Armijo, γ = {gamma:g}" if rule == "armijo" else "naive (any decrease)"
        ax.plot(part.eta0_L, part.iterations, "o-", color=color, label=label)
    ax.axhline(gd, color="black", lw=1, label="GD with η = 1/L (knows L)")
    ax.axhline(2 * gd, color="black", ls=":", lw=1, label="2 × GD(1/L): J6b's limit")
    ax.set(xscale="log", yscale="log", xlabel="initial step η₀ × L", ylabel=f"iterations to relative gap {cfg.eps:g}",
           title="Backtracking from a large η₀ on L2-logistic (digits):\nArmijo needs no L; the naive rule is slower")
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    return fig


@plots.figure("J12a", "J12b", "J12c")
def figure_best_step(tables, cfg):
    best = tables["best_step"]
    fig, ax = plt.subplots(figsize=(8, 5))
    kappas = np.array(sorted(best.kappa.unique()))
    for kappa in kappas:
        part = best[best.kappa == kappa]
        ax.scatter(np.full(len(part), kappa), part.argmin_eta_L, color=plots.PALETTE[0], alpha=0.5, s=18)
    grid = np.geomspace(kappas.min(), kappas.max(), 100)
    ax.plot(grid, 2 / (1 + 1 / grid), color=plots.PALETTE[1], label="2/(L+μ) (Polyak)")
    ax.axhline(1, color="black", lw=1, label="1/L ('optimal' in the lecture)")
    ax.fill_between(grid, 0.9, 1.1, color="grey", alpha=0.2, label="±10% of 1/L (J12a's band)")
    ax.scatter([], [], color=plots.PALETTE[0], label="argmin of GD iterations, one spectrum")
    ax.set(xscale="log", xlabel="κ = L/μ", ylabel="best constant step × L", ylim=(0.8, 2.05),
           title="The best constant step is 2/(L+μ), not 1/L")
    ax.legend(fontsize=9, loc="center right")
    fig.tight_layout()
    return fig


@plots.figure("J10p", "J10", "J10b")
def figure_stochastic_armijo(tables, cfg):
    sgd = tables["stochastic_armijo"]
    fig, ax = plt.subplots(figsize=(8, 5))
    for (problem, style) in (("interpolating", "-"), ("noisy", "--")):
        for batch, color in zip(sorted(sgd.batch.unique()), plots.PALETTE):
            part = sgd[(sgd.problem == problem) & (sgd.batch == batch)]
            g = part.groupby("steps").rel_gap.apply(lambda v: np.exp(np.log(v).mean()))
            ax.plot(g.index, g.values, style, marker="o", color=color, label=f"{problem}, batch {batch}")
    ax.axhline(1e-6, color="black", lw=1, ls=":", label="relative gap 1e-6")
    ax.set(xscale="log", yscale="log", xlabel="SGD steps", ylabel="relative full gap (geometric mean over chains)",
           title="Stochastic Armijo (Vaswani et al. 2019): converges under interpolation")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    return fig


@plots.figure("J3", "J15a", "J15b")
def figure_order_and_kink(tables, cfg):
    orders, jumps = tables["newton_order"], tables["kinks"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    for i, (alpha, part) in enumerate(orders.groupby("alpha")):
        ax1.scatter(np.full(len(part), i) + np.linspace(-0.15, 0.15, len(part)), part.order, color=plots.PALETTE[i])
    ax1.axhspan(1.7, 2.3, color="grey", alpha=0.2, label="order 2 ± 15%")
    ax1.axhline(1, color="black", lw=1, ls=":", label="linear")
    ax1.set(xticks=range(orders.alpha.nunique()), xticklabels=[f"α = {a:g}" for a in sorted(orders.alpha.unique())],
            ylabel="computational order", title="Newton on L2-logistic: quadratic order")
    ax1.legend(fontsize=9, loc="lower right")
    for act, color in (("relu", plots.PALETTE[3]), ("elu", plots.PALETTE[2])):
        m = jumps[jumps.activation == act].groupby("h").jump.apply(lambda v: np.exp(np.log(v).mean()))
        ax2.plot(m.index, m.values, "o-", color=color, label=f"{act.upper()} (geometric mean over lines)")
    ax2.set(xscale="log", yscale="log", xlabel="h", ylabel="‖∇L(t*+h) − ∇L(t*−h)‖",
            title="Across a kink: ReLU's gradient jumps, ELU's is Lipschitz")
    ax2.legend(fontsize=9)
    fig.tight_layout()
    return fig


@plots.figure("J11p", "J11", "J11b")
def figure_lbfgs_batches(tables, cfg):
    runs = tables["lbfgs_batches"]
    batches = sorted(runs.batch.unique(), key=lambda b: b if b else 10**9)
    adam = runs[runs.method.str.startswith("adam")]
    best = adam.groupby(["batch", "method"]).rel_gap.apply(lambda g: np.log(g).mean())
    fig, ax = plt.subplots(figsize=(8, 4.5))
    x = np.arange(len(batches))
    series = [("L-BFGS, strong Wolfe", "lbfgs_wolfe"), ("L-BFGS, fixed step", "lbfgs_fixed"), ("Adam, best lr", None)]
    for i, (label, method) in enumerate(series):
        gm = []
        for b in batches:
            m = method or best.loc[b].idxmin()
            gm.append(np.exp(np.log(runs[(runs.batch == b) & (runs.method == m)].rel_gap).mean()))
        ax.bar(x + (i - 1) * 0.27, gm, width=0.27, color=plots.PALETTE[i], label=label)
    ax.set(yscale="log", xticks=x, xticklabels=[str(b) if b else "full" for b in batches], xlabel="batch size",
           ylabel=f"full-train relative gap after {cfg.lbfgs_epochs} epochs (geo. mean)")
    ax.set_title("L-BFGS needs exact gradients: mini-batches leave it far behind Adam")
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    return fig


@plots.figure("J14p", "J14b", "J14d", "J14c", "J14e")
def figure_separable(tables, cfg):
    sep = tables["separable"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    for i, (alpha, part) in enumerate(sep.groupby("alpha")):
        label = "no L2" if alpha == 0 else f"α = {alpha:g}"
        ax1.plot(part.step, part.norm, color=plots.PALETTE[i], label=label)
        ax2.plot(part.step, part.rel_gap, color=plots.PALETTE[i], label=label)
    free = sep[sep.alpha == 0]
    ax2.plot(free.step, free.rel_gap.iloc[-1] * free.step.iloc[-1] / free.step, "k:", label="∝ 1/t")
    ax1.set(xscale="log", xlabel="GD step t", ylabel="‖w_t‖", title="Without L2 ‖w‖ grows like ln t; with L2 it stops")
    ax2.set(xscale="log", yscale="log", ylim=(1e-13, 2), xlabel="GD step t", ylabel="relative gap",
            title="Gap: 1/t without L2, geometric with L2")
    ax1.legend(fontsize=9, loc="upper left")
    ax2.legend(fontsize=9, loc="lower left")
    fig.tight_layout()
    return fig


FIGURES = [figure_preprocessing, figure_line_search, figure_best_step, figure_stochastic_armijo, figure_order_and_kink,
           figure_lbfgs_batches, figure_separable]
