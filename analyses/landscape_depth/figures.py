"""Family I's figures, one function each (a slide per claim group)."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from dlclaims.suite import plots, stats

from .depth import depth_ratio
from .mlps import accuracy_spread
from .teacher_student import PCA_BAND, REACHED, ae_worst
from .toys import ESCAPE, THETA, escape_slope, goe_resamples, goe_slope, linear_escape_time, share_of

@plots.figure("I1a", "I1b")
def figure_goe_minima(tables, cfg):
    goe = tables["goe"].sort_values("n")
    n, logp, boot = goe_resamples(goe, cfg)
    low, high = np.nanquantile(np.where(np.isfinite(boot), boot, np.nan), [0.025, 0.975], axis=0)
    fig, ax = plt.subplots(figsize=(8, 5.5))
    ax.errorbar(n**2, logp, yerr=[logp - low, high - logp], fmt="o", color=plots.PALETTE[0],
                label=f"GOE Monte Carlo ({cfg.goe_draws:,} matrices per n)")
    ax.plot(n**2, np.log([0.5, (2 - math.sqrt(2)) / 4, *[np.nan] * (len(n) - 2)]), "x", ms=10, color="black",
            label="exact: P₁ = ½, P₂ = (2 − √2)/4")
    slope = goe_slope(goe, cfg)
    xs = np.linspace(1, n.max() ** 2, 50)
    anchor = logp[list(n).index(2)] + THETA * 4
    ax.plot(xs, anchor - THETA * xs, "--", color=plots.PALETTE[1], label="Dean & Majumdar: slope −ln3/4 = −0.275")
    ax.set(xlabel="n² (n = Hessian dimension)", ylabel="ln P(all eigenvalues > 0)",
           title=f"Minima among random critical points: ln P falls like n²\nfitted slope {slope.value:.3f} "
                 f"[{slope.ci_low:.3f}, {slope.ci_high:.3f}] (I1a)")
    ax.legend(loc="lower left")
    return fig


@plots.figure("I3a", "I3b", "I3c")
def figure_saddle_escape(tables, cfg):
    escape = tables["saddle_escape"]
    fig, ax = plt.subplots(figsize=(8, 5.5))
    part = escape[np.isfinite(escape.escape_step)]
    summary = stats.summary(part.assign(log_inv=np.log(1 / part.sigma)), ["log_inv"], "escape_step")
    ax.errorbar(summary.log_inv, summary["mean"], yerr=[summary["mean"] - summary.ci_low, summary.ci_high - summary["mean"]],
                fmt="o", color=plots.PALETTE[0], label=f"noisy GD, mean of {cfg.saddle_draws} draws per σ")
    xs = np.sort(summary.log_inv.to_numpy())
    theory = np.array([linear_escape_time(math.exp(-v), cfg.eta_saddle) for v in xs])
    ax.plot(xs, theory, "--", color=plots.PALETTE[1], label="linearised: ln(1/σ)/ln(1+η) + const")
    slope = escape_slope(escape, cfg)
    ax.set(xlabel="ln(1/σ)  (σ = gradient-noise scale)", ylabel=f"steps until |y| > {ESCAPE}",
           title=f"f = ½x² − ½y² + ¼y⁴ from the saddle's axis: noise escapes, GD does not\n"
                 f"slope × ln(1+η) = {slope.value:.3f} (I3c; theory 1)")
    ax.legend(loc="upper left", title=f"plain GD (σ = 0): |y| = 0 for all {cfg.saddle_steps} steps (I3a)")
    return fig


@plots.figure("I4a", "I4p", "I4b")
def figure_momentum(tables, cfg):
    well = stats.select(tables["well"], eta=cfg.eta_well)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.5))
    xs = np.linspace(-1.6, 3.1, 300)
    ax1.plot(xs, (xs**2 - 1) ** 2 + 0.3 * xs, color="0.3", lw=1, label="f = (x² − 1)² + 0.3x")
    for method, label, color, y in (("gd", "GD", plots.PALETTE[0], -1.5), ("heavy_ball", f"heavy ball β = {cfg.beta}",
                                                                                     plots.PALETTE[1], -3.0)):
        part = stats.select(well, method=method)
        ax1.scatter(part.x0, np.full(len(part), y), c=[color if g else "white" for g in part.global_well],
                    edgecolors=[color] * len(part), s=18,
                    label=f"{label}: start x₀ (filled: ends in the global well, {part.global_well.mean():.0%})")
    ax1.set(xlabel="x", ylabel="f(x)", ylim=(-4, 12),
            title=f"Tilted double well, η = {cfg.eta_well}: momentum crosses the barrier (I4b)")
    ax1.legend(loc="upper center", fontsize=8)
    p = tables["plateau"].iloc[0]
    ax2.plot(x := np.linspace(-3, 4.5, 300), 0.5 * np.maximum(np.abs(x) - 2, 0) ** 2, color="0.3", lw=1, label="½(|x| − 2)², flat on [−2, 2]")
    ax2.axvline(p.gd_lowest_from_4, color=plots.PALETTE[0], label=f"GD from x = 4 stops at {p.gd_lowest_from_4:.2f}")
    ax2.axvline(p.hb_lowest_from_4, color=plots.PALETTE[1],
                label=f"heavy ball from x = 4 coasts to {p.hb_lowest_from_4:.2f}")
    ax2.set(xlabel="x", ylabel="f(x)", title=f"Plateau: GD started on it moves {p.max_move_on_plateau:g} (I4a)")
    ax2.legend(loc="upper center", fontsize=8)
    return fig


@plots.figure("I5")
def figure_autoencoder(tables, cfg):
    ae = tables["autoencoder"]
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for seed, part in ae.groupby("seed"):
        ax.plot(part.step, part.excess_over_gap.clip(lower=1e-8), color=plots.PALETTE[0], alpha=0.5, lw=1)
    ax.axhline(1.0, color=plots.PALETTE[3], ls="--", label="nearest saddle (eigenvector 8 ↔ 9)")
    ax.axhline(PCA_BAND, color=plots.PALETTE[2], ls=":", label=f"I5's band: {PCA_BAND} of the way to the saddle")
    worst = ae_worst(ae, max(cfg.ae_steps)).value
    ax.set(xscale="log", yscale="log", xlabel="heavy-ball step", ylabel="(L − L*) / (L_saddle − L*)",
           title=f"Linear autoencoder 64→{cfg.ae_bottleneck}→64 on digits: every seed reaches PCA\n"
                 f"worst of {cfg.ae_seeds} seeds at {max(cfg.ae_steps)} steps: {worst:.1e} (I5)")
    ax.legend(loc="lower left")
    return fig


@plots.figure("I6p", "I6")
def figure_teacher_student(tables, cfg):
    ts = tables["teacher_student"]
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for i, k in enumerate(cfg.ts_sizes):
        part = stats.select(ts, k=k)
        ratio = np.sort(part.loss_ratio.clip(lower=1e-16).to_numpy())
        share = share_of(part, "stuck")
        ax.plot(ratio, np.arange(1, len(ratio) + 1) / len(ratio), color=plots.PALETTE[i],
                label=f"k = d = {k}: stuck at a local minimum {share.value:.0%} [{share.ci_low:.0%}, {share.ci_high:.0%}]")
    ax.axvline(REACHED, color="0.4", ls=":", label=f"reached zero loss below {REACHED:g} × initial")
    ax.set(xscale="log", xlabel="final population loss / initial loss", ylabel="share of inits (cumulative)",
           title="ReLU teacher–student net (Safran & Shamir): GD stops at bad minima\n"
                 "every run right of the line has ‖∇L‖ ≈ 0 and a PSD Hessian (I6)")
    ax.legend(loc="center", fontsize=9)
    return fig


@plots.figure("I8")
def figure_init_seeds(tables, cfg):
    runs = tables["init_seeds"]
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for i, w in enumerate(cfg.init_widths):
        part, spread = stats.select(runs, width=w), accuracy_spread(runs, w)
        ax.scatter(np.full(len(part), i) + np.linspace(-0.15, 0.15, len(part)), part.test_accuracy, color=plots.PALETTE[i],
                   label=f"w = {w}: std {spread.value:.3f} [{spread.ci_low:.3f}, {spread.ci_high:.3f}]")
    ax.set(xticks=range(len(cfg.init_widths)), xticklabels=[f"40-{w}-{w}-10" for w in cfg.init_widths],
           ylabel="final test accuracy (1000 examples)",
           title=f"mnist1d, {cfg.init_seeds} inits per width, same batches: the init alone moves the result (I8)")
    ax.legend(loc="center")
    return fig


@plots.figure("I11a", "I11b")
def figure_clipping(tables, cfg):
    clip = tables["clipping"]
    fig, ax, bins = *plt.subplots(figsize=(8, 5.5)), np.linspace(0, 1, 61)
    ax.hist(stats.select(clip, rule="norm").cosine, bins=bins, color="0.3", label="norm clipping (all at 1)")
    for i, q in enumerate(cfg.clip_shares):
        part = stats.select(clip, rule="value")
        ax.hist(part[np.isclose(part.share, q)].cosine, bins=bins, alpha=0.6, color=plots.PALETTE[i],
                label=f"value clipping, largest {q:.0%} of |g| clipped")
    ax.set(xlabel="cosine(clipped gradient, raw gradient)", ylabel="gradients",
           title="Value clipping turns a heavy-tailed gradient; norm clipping does not (I11)")
    ax.legend(loc="upper left")
    return fig


@plots.figure("I9p", "I9a", "I9b")
def figure_depth(tables, cfg):
    runs = tables["depth"]
    final = runs[runs.step == runs.step.max()]
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for i, kind in enumerate(("plain", "residual")):
        plots.band_from(ax, final, "depth", "train_loss", f"{kind} (mean over {cfg.depth_seeds} seeds, 95% band)",
                        color=plots.PALETTE[i], kind=kind)
        part = stats.select(final, kind=kind)
        ax.scatter(part.depth + (i - 0.5) * 0.6, part.train_loss, s=10, color=plots.PALETTE[i], alpha=0.5)
    top = max(cfg.depths)
    plain, res = (depth_ratio(runs, k, top, cfg.depth_base) for k in ("plain", "residual"))
    ax.set(xlabel="hidden layers (width 64)", ylabel=f"training loss after {cfg.depth_steps} SGD steps",
           xticks=sorted({*cfg.depths, cfg.depth_base}),
           title=f"mnist1d, equal budgets: loss at depth {top} / depth {cfg.depth_base}\n"
                 f"plain {plain.value:.2f} [{plain.ci_low:.2f}, {plain.ci_high:.2f}] (I9a), "
                 f"residual {res.value:.2f} [{res.ci_low:.2f}, {res.ci_high:.2f}] (I9b)")
    ax.legend(loc="upper left")
    return fig


@plots.figure("I7p", "I7a", "I7b")
def figure_width(tables, cfg):
    from . import CLAIMS, estimate

    runs = stats.select(tables["width"], steps=max(cfg.width_steps))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.5))
    widths = (cfg.width_small, cfg.width_large)
    for i, w in enumerate(widths):
        part = stats.select(runs, width=w)
        jitter = np.linspace(-0.15, 0.15, len(part))
        ax1.scatter(np.full(len(part), i) + jitter, part.train_loss, color=plots.PALETTE[i],
                    label=f"w = {w}: sd {part.train_loss.std():.2g}")
        ax2.scatter(np.full(len(part), i) + jitter, part.test_accuracy, color=plots.PALETTE[i],
                    label=f"w = {w}: sd {part.test_accuracy.std():.3f}")
    for ax in (ax1, ax2):
        ax.set(xticks=range(len(widths)), xticklabels=[f"40-{w}-{w}-10" for w in widths])
        ax.legend(loc="best")
    ax1.set(yscale="log", ylabel=f"final training loss (full batch, {max(cfg.width_steps)} Adam steps)",
            title="final training loss per init (log scale)")
    ax2.set(ylabel="final test accuracy (1000 examples)", title="final test accuracy per init")
    fig.suptitle(f"mnist1d, {cfg.width_seeds} inits per width, same data: "
                 + plots.result_line(CLAIMS, estimate, tables, cfg, "I7a", "I7b"))
    return fig


@plots.figure("I12p", "I12a", "I12b")
def figure_rnn(tables, cfg):
    from . import CLAIMS, estimate

    runs = tables["rnn"]
    lrs = sorted(cfg.rnn_lrs)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.5))
    for i, clipped in enumerate((False, True)):
        label = f"norm-clipped at {cfg.rnn_clip:g}" if clipped else "unclipped"
        spike = [runs[np.isclose(runs.lr, lr) & (runs.clipped == clipped)].spike.mean() for lr in lrs]
        ax1.plot(range(len(lrs)), spike, "o-", color=plots.PALETTE[i], label=label)
        part = runs[runs.clipped == clipped]
        ax2.scatter(np.searchsorted(lrs, part.lr) + (i - 0.5) * 0.2, part.final_loss, s=14, color=plots.PALETTE[i],
                    label=label)
    ax2.axhline(math.log(10), color="0.5", ls=":", label="chance, ln 10")
    for ax in (ax1, ax2):
        ax.set(xticks=range(len(lrs)), xticklabels=[f"lr {lr:g}" for lr in lrs], xlim=(-0.5, len(lrs) - 0.5))
        ax.legend(loc="upper left")
    ax1.set(ylim=(-0.05, 1.05), ylabel=f"share of runs with a loss spike (of {cfg.rnn_seeds})",
            title=f"{WINDOW_TEXT}")
    ax2.set(ylabel="final training loss (mean of the last 10 mini-batches)",
            title=f"after {cfg.rnn_steps} SGD steps")
    fig.suptitle(f"tanh RNN (hidden {cfg.rnn_hidden}, ρ = {cfg.rnn_rho:g}) on mnist1d as a sequence: "
                 + plots.result_line(CLAIMS, estimate, tables, cfg, "I12p", "I12a", "I12b"))
    return fig


WINDOW_TEXT = "a spike: a 10-step mean loss above 2 × the lowest before it"

FIGURES = [figure_goe_minima, figure_saddle_escape, figure_momentum, figure_autoencoder, figure_teacher_student,
           figure_init_seeds, figure_width, figure_depth, figure_clipping, figure_rnn]

