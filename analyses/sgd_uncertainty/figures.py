"""The figures of sgd-uncertainty, each marked with the claims it supports."""

from __future__ import annotations

import numpy as np

from matplotlib.lines import Line2D

from dlclaims.suite import plots, stats

from . import CLAIMS, NO_WORSE, estimate
from .averaging import bound
from .problems import (CONSTANT_PROBLEMS, DIMINISHING, LABELS, PROBLEMS, SCHEDULE_LABELS, SMALL_H, chain_matrix,
                       positive_k)
from .rates import gd_bound


def result(tables, cfg, *ids: str) -> str:
    """The claims' headline values and verdicts, for a title (:func:`plots.result_line`)."""
    return plots.result_line(CLAIMS, estimate, tables, cfg, *ids)


def style_key(fig, entries, y: float = 0.955) -> None:
    """A figure-level legend of line styles (label, linestyle, linewidth), under the title."""
    handles = [Line2D([], [], color="dimgrey", ls=ls, lw=lw) for _, ls, lw in entries]
    fig.legend(handles, [label for label, _, _ in entries], loc="upper center", ncol=len(entries), fontsize=9,
               frameon=False, bbox_to_anchor=(0.5, y))


def three_of(values):
    """The smallest, a middle and the largest of sorted values (at most three curves a panel)."""
    values = sorted(values)
    return [values[i] for i in sorted({0, len(values) // 2, len(values) - 1})]


@plots.figure("C2a", "C3")
def figure_gap_vs_k(tables, cfg):
    """Gap vs k for the smallest, a middle and the largest constant h, with the running average
    and the lecture's bound."""
    import matplotlib.pyplot as plt

    b = bound(tables["curves"], tables["problems"], "constant")
    curves = tables["curves"]
    fig, axes = plt.subplots(2, 2, figsize=(13, 9.6), squeeze=False)
    for ax, name in zip(axes.ravel(), CONSTANT_PROBLEMS):
        steps = three_of(b[b.problem == name].step.unique())
        colours = plots.PALETTE[:len(steps)]
        for h, colour in zip(steps, colours):
            part = positive_k(b[(b.problem == name) & (b.step == h)])
            plots.band(ax, part.k, part.gap_last, part.gap_last_ci_low, part.gap_last_ci_high,
                       label=f"h = {h:.3g}", color=colour)
            avg = positive_k(part, "gap_avg")
            ax.plot(avg.k, avg.gap_avg, color=colour, ls=":", lw=1)
            ax.plot(part.k, part.bound, color=colour, ls="--", lw=1)
            ax.axhline(part.G2.iloc[0] * h / 2, color=colour, lw=0.8, ls="-.", alpha=0.7)
        gd = positive_k(curves[(curves.problem == name) & (curves.schedule == "gd")])
        ax.plot(gd.k, gd.gap_last.clip(lower=1e-16), color="black", lw=1.2, label="GD, step 1/L")
        ax.set(xscale="log", yscale="log", xlabel="step k", ylabel="F(x_k) − F*", title=LABELS[name],
               ylim=(max(1e-7, float(b[b.problem == name].gap_avg.min()) / 3), None))
        ax.legend(fontsize=8, loc="lower left", title="colour: step h", title_fontsize=8)
    fig.suptitle("The averaged iterate stays under the lecture's bound; larger h reaches its plateau sooner\n"
                 f"{result(tables, cfg, 'C2a', 'C3')}", y=1.0)
    style_key(fig, [("last iterate (95% band)", "-", 1.5), ("running average", ":", 1.2),
                    ("lecture bound", "--", 1.0), ("G²h/2", "-.", 0.8)], y=0.935)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
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
            title="The uncertainty region grows with the step (C1a–c fit left of the dashed line)\n"
                  + result(tables, cfg, "C1a", "C1b") + "\n" + result(tables, cfg, "C1c", "C1d"))
    ax2.set(yscale="log", ylabel="plateau / h",
            title="plateau / h: flat to first order, rising near h_max\n" + result(tables, cfg, "C1e"))
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
    fig.suptitle("Diminishing steps keep converging below the constant-step plateaus: "
                 f"{result(tables, cfg, 'C4')}", y=1.0)
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
        ax.set(xscale="log", yscale="log", xlabel="mini-batch size b",
               title=f"{title}\n{result(tables, cfg, 'C5a' if column == 'grad_variance' else 'C5b')} (slope)")
    h = float(batch.step.iloc[0])
    th = exact[(exact.problem == "ls_iso") & np.isclose(exact.step, h)].sort_values("batch")
    ax2.plot(th.batch, th.exact_plateau, color=plots.PALETTE[1], label="exact theory")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


@plots.figure("C2b", "C2c", "C2d")
def figure_averaging(tables, cfg):
    """Last iterate / averaged iterate against k: constant steps (grows, C2c, C2d) and decaying (C2b)."""
    import matplotlib.pyplot as plt

    curves = tables["curves"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5.6))
    styles = {"ls_iso": "-", "ls_ill": "--"}
    for name, ls in styles.items():
        part = curves[(curves.problem == name) & (curves.schedule == "constant")]
        all_steps = sorted(part.step.unique())
        for h, colour in zip(three_of(all_steps), plots.PALETTE):
            s = positive_k(part[part.step == h], "gap_avg")
            ax1.plot(s.k, s.gap_last / s.gap_avg, color=colour, ls=ls,
                     label=f"h = h_max × {h / all_steps[-1]:.3g}" if name == "ls_iso" else None)
    kmax = cfg.steps
    ax1.axhline(1, color="black", lw=0.8)
    ax1.axhline(NO_WORSE.hi, color="red", lw=0.8, ls=":")
    ax1.axvspan(kmax / 10, kmax, color="grey", alpha=0.1, lw=0, label="C2c: growth over [K/10, K]")
    ax1.set(xscale="log", yscale="log", xlabel="step k", ylabel="gap of last iterate / of average",
            title="Constant step: the average keeps converging (Bach & Moulines)\n"
                  f"{result(tables, cfg, 'C2c')}; over draws {result(tables, cfg, 'C2d')}")
    first = ax1.legend(fontsize=8, loc="upper left", title="colour: step (one draw)", title_fontsize=8)
    ax1.add_artist(first)
    ax1.legend([Line2D([], [], color="dimgrey", ls=ls) for ls in styles.values()], [LABELS[n] for n in styles],
               fontsize=8, loc="lower right", title="line: problem", title_fontsize=8)
    scheds = {"inv_sqrt": "-", "inv": "--"}
    for name, colour in zip(PROBLEMS, plots.PALETTE):
        for sched, ls in scheds.items():
            s = positive_k(curves[(curves.problem == name) & (curves.schedule == sched)], "gap_avg")
            if len(s):
                ax2.plot(s.k, s.gap_last / s.gap_avg, color=colour, ls=ls,
                         label=LABELS[name] if sched == "inv_sqrt" else None)
    ax2.axhline(NO_WORSE.hi, color="red", lw=0.8, ls=":", label=f"rule of C2b, C2d: {NO_WORSE.region()} at K")
    ax2.axvline(kmax, color="grey", lw=0.8)
    ax2.set(xscale="log", yscale="log", xlabel="step k", ylabel="gap of last iterate / of step-weighted average",
            title="Decaying steps: the last point is no worse (the lecture's aside)\n"
                  f"over draws {result(tables, cfg, 'C2b')}")
    first = ax2.legend(fontsize=8, loc="lower left", title="colour: problem (one draw)", title_fontsize=8)
    ax2.add_artist(first)
    ax2.legend([Line2D([], [], color="dimgrey", ls=ls) for ls in scheds.values()],
               [SCHEDULE_LABELS[k] for k in scheds], fontsize=8, loc="upper right", title="line: schedule",
               title_fontsize=8)
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
        ax1.plot(g.k, g.ratio, color=colour, label=LABELS[name])
        s = positive_k(sgd[sgd.problem == name], "gap_avg")
        ax1.plot(s.k, s.gap_avg / s.bound, color=colour, ls="--")
    ax1.axhline(1, color="red", lw=1)
    ax1.set(xscale="log", yscale="log", xlabel="step k", ylabel="gap / theorem's bound (≤ 1: red line)",
            title=f"Gaps over the theorems' bounds at every k\n{result(tables, cfg, 'C6a', 'C6d')}", ylim=(1e-6, 3))
    first = ax1.legend(fontsize=8, loc="lower left", title="colour: problem", title_fontsize=8)
    ax1.add_artist(first)
    ax1.legend([Line2D([], [], color="dimgrey"), Line2D([], [], color="dimgrey", ls="--")],
               ["GD, step 1/L, over L R²/(2k)", "SGD h_max/√(k+1), x̂ over the lecture's bound"], fontsize=8,
               loc="lower right")
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
            title="The term the rates are about (thick: slopes −½ and −1)\n"
                  f"{result(tables, cfg, 'C6b', 'C6c')}\n{result(tables, cfg, 'C6e', 'C6f')}")
    ax2.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig
