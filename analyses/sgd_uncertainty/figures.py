"""The figures of sgd-uncertainty, each marked with the claims it supports."""

from __future__ import annotations

import numpy as np

from dlclaims.suite import plots, stats

from . import NO_WORSE
from .averaging import bound
from .problems import (CONSTANT_PROBLEMS, DIMINISHING, LABELS, PROBLEMS, SCHEDULE_LABELS, SMALL_H, chain_matrix,
                       positive_k)
from .rates import gd_bound


@plots.figure("C2a", "C3")
def figure_gap_vs_k(tables, cfg):
    """Gap vs k for each constant h, with the running average and the lecture's bound."""
    import matplotlib.pyplot as plt

    b = bound(tables["curves"], tables["problems"], "constant")
    curves = tables["curves"]
    fig, axes = plt.subplots(2, 2, figsize=(13, 9), squeeze=False)
    for ax, name in zip(axes.ravel(), CONSTANT_PROBLEMS):
        steps = sorted(b[b.problem == name].step.unique())
        colours = plt.cm.viridis(np.linspace(0, 0.9, len(steps)))
        for h, colour in zip(steps, colours):
            part = positive_k(b[(b.problem == name) & (b.step == h)])
            plots.band(ax, part.k, part.gap_last, part.gap_last_ci_low, part.gap_last_ci_high,
                       label=f"h = {h:.3g}", color=colour)
            avg = positive_k(part, "gap_avg")
            ax.plot(avg.k, avg.gap_avg, color=colour, ls=":", lw=1)
            ax.plot(part.k, part.bound, color=colour, ls="--", lw=1)
            ax.axhline(part.G2.iloc[0] * h / 2, color=colour, lw=0.6, alpha=0.5)
        gd = positive_k(curves[(curves.problem == name) & (curves.schedule == "gd")])
        ax.plot(gd.k, gd.gap_last.clip(lower=1e-16), color="black", lw=1.2, label="GD, step 1/L")
        ax.set(xscale="log", yscale="log", xlabel="step k", ylabel="F(x_k) − F*", title=LABELS[name],
               ylim=(max(1e-7, float(b[b.problem == name].gap_avg.min()) / 3), None))
        ax.legend(fontsize=7, loc="lower left")
    fig.suptitle("Last iterate (solid, 95% band), running average (dotted), lecture bound (dashed), "
                 "G²h/2 (thin)", y=1.0)
    fig.tight_layout()
    return fig


@plots.figure("C1a", "C1b", "C1c", "C1d", "C1e")
def figure_plateau_vs_h(tables, cfg):
    """Plateau vs h (measured, exact, first order), and plateau / h: the curvature C1e reports."""
    import matplotlib.pyplot as plt

    per_chain, exact, problems = tables["chains"], tables["theory"], tables["problems"]
    h_max = dict(zip(problems.problem, problems.h_max))
    const = per_chain[(per_chain.schedule == "constant") & (per_chain.batch == 1)]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
    for colour, name in zip(plots.PALETTE, CONSTANT_PROBLEMS):
        h, q = chain_matrix(const, "plateau", "step", problem=name)
        m, lo, hi = stats.mean_ci_columns(q)
        f = h / h_max[name]
        ax1.errorbar(f, m, yerr=[m - lo, hi - m], fmt="o", color=colour, label=f"{LABELS[name]} (measured)")
        ax2.errorbar(f, m / h, yerr=[(m - lo) / h, (hi - m) / h], fmt="o", color=colour, label=LABELS[name])
        th = exact[(exact.problem == name) & (exact.batch == 1)].sort_values("step")
        if len(th):
            ax1.plot(th.step / h_max[name], th.exact_plateau, color=colour, lw=1.5,
                     label=f"{LABELS[name]}: exact theory")
            ax1.plot(th.step / h_max[name], th.small_step_plateau, color=colour, lw=1, ls=":",
                     label=f"{LABELS[name]}: first order h·tr(Q)/4")
            ax2.plot(th.step / h_max[name], th.exact_plateau / th.step, color=colour, lw=1.5)
            ax2.plot(th.step / h_max[name], th.small_step_plateau / th.step, color=colour, lw=1, ls=":")
    for ax in (ax1, ax2):
        ax.axvspan(SMALL_H * 1.02, 1.1, color="grey", alpha=0.1, lw=0)
        ax.axvline(SMALL_H, color="grey", ls="--", lw=0.8)
        ax.set(xscale="log", xlabel="step h / h_max")
    ax1.set(yscale="log", ylabel="plateau of F(x_k) − F*",
            title="The uncertainty region grows with the step (C1a–c fit left of the dashed line)")
    ax2.set(yscale="log", ylabel="plateau / h",
            title="plateau / h: flat to first order, rising near h_max (C1e)")
    ax1.legend(fontsize=7)
    ax2.legend(fontsize=7, title="lines: exact (solid), first order (dotted)", title_fontsize=7)
    fig.tight_layout()
    return fig


@plots.figure("C4")
def figure_schedules(tables, cfg):
    """Decaying against constant steps and GD on every problem."""
    import matplotlib.pyplot as plt

    curves = tables["curves"]
    fig, axes = plt.subplots(2, 3, figsize=(16, 9), squeeze=False)
    for ax, name in zip(axes.ravel(), PROBLEMS):
        part = curves[curves.problem == name]
        for sched, colour in zip(DIMINISHING, plots.PALETTE):
            s = positive_k(part[part.schedule == sched])
            if len(s):
                plots.band(ax, s.k, s.gap_last, s.gap_last_ci_low, s.gap_last_ci_high, label=SCHEDULE_LABELS[sched],
                           color=colour)
        const_steps = sorted(part[part.schedule == "constant"].step.unique())
        for h, ls in zip(const_steps[:: max(1, len(const_steps) - 1)], (":", "--")):
            s = positive_k(part[(part.schedule == "constant") & (part.step == h)])
            ax.plot(s.k, s.gap_last, color="grey", ls=ls, label=f"constant h = {h:.3g}")
        gd = positive_k(part[part.schedule == "gd"])
        ax.plot(gd.k, gd.gap_last.clip(lower=1e-16), color="black", label="GD, step 1/L")
        ax.set(xscale="log", yscale="log", xlabel="step k", ylabel="F(x_k) − F* (last iterate)", title=LABELS[name],
               ylim=(max(1e-9, float(part.gap_last[part.gap_last > 0].min())), None))
        ax.legend(fontsize=7, loc="lower left")
    axes[1, 2].axis("off")
    fig.suptitle("Diminishing steps keep converging below the constant-step plateaus (C4)", y=1.0)
    fig.tight_layout()
    return fig


@plots.figure("C5a", "C5b")
def figure_plateau_vs_b(tables, cfg):
    """Mini-batches: gradient variance and plateau vs b."""
    import matplotlib.pyplot as plt

    per_chain, exact = tables["chains"], tables["theory"]
    batch = stats.select(per_chain, problem="ls_iso", schedule="batch_sweep")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, column, title in ((ax1, "grad_variance", "E‖ĝ(x*)‖² (gradient variance at the optimum)"),
                              (ax2, "plateau", "plateau at h = h_max/4")):
        bs, q = chain_matrix(batch, column, "batch")
        m, lo, hi = stats.mean_ci_columns(q)
        ax.errorbar(bs, m, yerr=[m - lo, hi - m], fmt="o", label="measured")
        ax.plot(bs, m[0] / bs, color="grey", ls=":", label="∝ 1/b")
        ax.set(xscale="log", yscale="log", xlabel="mini-batch size b", title=title)
    h = float(batch.step.iloc[0])
    th = exact[(exact.problem == "ls_iso") & np.isclose(exact.step, h)].sort_values("batch")
    ax2.plot(th.batch, th.exact_plateau, color=plots.PALETTE[1], label="exact theory")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


@plots.figure("C2b", "C2c")
def figure_averaging(tables, cfg):
    """Last iterate / averaged iterate against k: constant steps (grows, C2c) and decaying (C2b)."""
    import matplotlib.pyplot as plt

    curves = tables["curves"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
    styles = {"ls_iso": "-", "ls_ill": "--"}
    for name, ls in styles.items():
        part = curves[(curves.problem == name) & (curves.schedule == "constant")]
        steps = sorted(part.step.unique())
        for h, colour in zip(steps, plt.cm.viridis(np.linspace(0, 0.9, len(steps)))):
            s = positive_k(part[part.step == h], "gap_avg")
            ax1.plot(s.k, s.gap_last / s.gap_avg, color=colour, ls=ls,
                     label=f"{name}, h/h_max = {h / steps[-1]:.3g}")
    kmax = cfg.steps
    ax1.axhline(1, color="black", lw=0.8)
    ax1.axvspan(kmax / 10, kmax, color="grey", alpha=0.1, lw=0, label="C2c: growth over [K/10, K]")
    ax1.set(xscale="log", yscale="log", xlabel="step k", ylabel="gap of last iterate / of average",
            title="Constant step: the average keeps converging (Bach & Moulines)")
    ax1.legend(fontsize=6, ncol=2)
    for (name, colour) in zip(PROBLEMS, plots.PALETTE):
        for sched, ls in (("inv_sqrt", "-"), ("inv", "--")):
            s = positive_k(curves[(curves.problem == name) & (curves.schedule == sched)], "gap_avg")
            if len(s):
                ax2.plot(s.k, s.gap_last / s.gap_avg, color=colour, ls=ls,
                         label=f"{LABELS[name]}, {SCHEDULE_LABELS[sched]}")
    ax2.axhline(NO_WORSE.hi, color="red", lw=0.8, ls=":", label=f"C2b rule: {NO_WORSE.region()} at K")
    ax2.axvline(kmax, color="grey", lw=0.8)
    ax2.set(xscale="log", yscale="log", xlabel="step k", ylabel="gap of last iterate / of step-weighted average",
            title="Decaying steps: the last point is no worse (the lecture's aside)")
    ax2.legend(fontsize=6)
    fig.tight_layout()
    return fig


@plots.figure("C6a", "C6b", "C6c", "C6d", "C6e", "C6f")
def figure_rates(tables, cfg):
    """C6: gaps over the theorems' bounds at every k, and the noise part's decay."""
    import matplotlib.pyplot as plt

    curves, problems = tables["curves"], tables["problems"]
    gd = gd_bound(curves, problems)
    sgd = bound(curves, problems, "inv_sqrt")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5.2))
    for name, colour in zip(PROBLEMS, plots.PALETTE):
        g = gd[gd.problem == name].sort_values("k")
        ax1.plot(g.k, g.ratio, color=colour, label=f"GD / (L R²/(2k)), {LABELS[name]}")
        s = positive_k(sgd[sgd.problem == name], "gap_avg")
        ax1.plot(s.k, s.gap_avg / s.bound, color=colour, ls="--", label="  SGD h_max/√(k+1), x̂ / lecture bound")
    ax1.axhline(1, color="red", lw=1, label="bound (C6a, C6d: ≤ 1)")
    ax1.set(xscale="log", yscale="log", xlabel="step k", ylabel="gap / theorem's bound",
            title="Gaps over the theorems' bounds at every k", ylim=(1e-6, 3))
    ax1.legend(fontsize=6, ncol=2, loc="lower left")
    noise, exact = tables["noise"], tables["noise_theory"]
    kmax = cfg.steps
    for (name, sched), colour in zip([("ls_flat", "inv_sqrt"), ("logistic_l2", "inv_sqrt"), ("logistic_l2", "inv")],
                                     plots.PALETTE):
        s = positive_k(noise[(noise.problem == name) & (noise.schedule == sched)])
        plots.band(ax2, s.k, s.gap, s.gap_ci_low, s.gap_ci_high, color=colour,
                   label=f"{LABELS[name]}, {SCHEDULE_LABELS[sched]} (measured)")
        kk = np.array([kmax / 10, kmax])
        end = float(s.gap.iloc[-1])
        rate = -0.5 if sched == "inv_sqrt" else -1.0
        ax2.plot(kk, end * (kk / kmax) ** rate, color=colour, lw=3, alpha=0.35)
    e = positive_k(exact)
    ax2.plot(e.k, e.exact_noise, color="black", ls=":", label="ls_flat exact recursion")
    ax2.axvspan(kmax / 10, kmax, color="grey", alpha=0.1, lw=0, label="fit range [K/10, K]")
    ax2.set(xscale="log", yscale="log", xlabel="step k", ylabel="noise part: F − F* of SGD started at x*",
            title="The term the rates are about (thick: slopes −½ and −1)")
    ax2.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig
