"""bn-hessian's figures: one function each, marked with the claims it supports."""

from __future__ import annotations

import math

import numpy as np

from dlclaims.suite import plots, stats
from dlclaims.suite.claims import Estimate

from .measure import ETA_FACTORS
from .models import LABELS, MODELS, VARIANTS
from .per_seed import OVERLAP_TOP, frozen_overlap_at, judged, mean_top_overlap, trained_seeds

COLORS = dict(zip(VARIANTS, plots.PALETTE))


def net_label(model: str, cfg) -> str:
    """"conv net", or an MLP by its hidden layers ("6×256 MLP")."""
    if model == "conv":
        return "conv net"
    hidden = cfg.mlp_hidden if model == "mlp" else cfg.small_hidden
    return f"{len(hidden)}×{hidden[0]} MLP"


@plots.figure("B1a", "B1b", "B2", "B1a-mlp", "B1b-mlp", "B2-mlp")
def figure_overlap(tables, cfg):
    """Page's figure: overlap of each top eigenvector with the class-mean-gradient span, mean
    and 95% band over seeds per eigenvector, per model and variant (seed 0 at init dashed)."""
    import matplotlib.pyplot as plt

    spectrum = judged(tables)["spectrum"]
    fig, axes = plt.subplots(2, 3, figsize=(14, 7), sharey=True, sharex=True)
    for row, model in enumerate(MODELS):
        for col, variant in enumerate(VARIANTS):
            ax = axes[row, col]
            trained = stats.select(spectrum, model=model, variant=variant, state="trained")
            x, mean, low, high = stats.band(trained, "index", "overlap")
            # an overlap lies in [0, 1]: so does its band
            plots.band(ax, x, mean, np.clip(low, 0, 1), np.clip(high, 0, 1),
                       label=f"trained (mean, 95% CI, {trained.seed.nunique()} seeds)", color=COLORS[variant],
                       marker="o")
            init = stats.select(spectrum, model=model, variant=variant, state="init")
            if len(init):
                ax.plot(init["index"], init.overlap, ls="--", color="grey", marker=".", label="initialisation (seed 0)")
            ax.axvspan(0.5, OVERLAP_TOP + 0.5, color="0.93", zorder=0)
            ax.axhline(0.5, color="k", lw=0.8, ls=":")
            ax.set(ylim=(-0.02, 1.02), title=f"{net_label(model, cfg)}: {LABELS[variant]}")
            if row == 1:
                ax.set_xlabel("eigenvector v_i (by eigenvalue rank)")
            if col == 0:
                ax.set_ylabel("overlap ‖Qᵀv_i‖²")
    axes[0, 0].legend(fontsize=8, loc="upper right")
    fig.suptitle("How much of each top Hessian eigenvector lies in the span Q of the 10 class-mean-logit "
                 f"gradients\n(shaded: v1..v{OVERLAP_TOP}, which the claims use; dotted: 0.5)")
    fig.tight_layout()
    return fig


@plots.figure("B2", "B2-mlp")
def figure_overlap_paired(tables, cfg):
    """B2 per seed: the mean overlap of v1..v5 without and with BN, one line per seed, on a
    log scale so the per-seed ratio is the slope."""
    import matplotlib.pyplot as plt

    spectrum = judged(tables)["spectrum"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for ax, model in zip(axes, MODELS):
        plain, bn = mean_top_overlap(spectrum, model, "no_bn"), mean_top_overlap(spectrum, model, "bn")
        for a, b in zip(plain, bn):
            ax.plot([0, 1], [a, b], color="grey", alpha=0.6, marker="o")
        if len(plain):
            ax.plot([0, 1], [plain.mean(), bn.mean()], color="k", lw=3, marker="s", label="mean over seeds")
        est = stats.paired_ratio(bn, plain) if len(plain) > 1 else Estimate.exact(math.nan)
        ax.set(xticks=[0, 1], xticklabels=[LABELS["no_bn"], LABELS["bn"]], xlim=(-0.3, 1.3), yscale="log",
               ylim=(1e-3, 1.2), title=f"{net_label(model, cfg)}, {len(plain)} seeds: BN / no BN = {est.value:.3f} "
                                       f"[{est.ci_low:.3f}, {est.ci_high:.3f}]")
        ax.axhline(0.5, color="k", lw=0.8, ls=":")
    axes[0].set_ylabel(f"mean overlap of v1..v{OVERLAP_TOP} (trained, log scale)")
    if axes[0].get_legend_handles_labels()[0]:  # none where no seed trained (a --quick run)
        axes[0].legend(fontsize=8)
    fig.suptitle("B2, paired by seed: the same init and batches with and without BN (dotted: 0.5)")
    fig.tight_layout()
    return fig


@plots.figure("B3", "B3-mlp")
def figure_spectra(tables, cfg):
    """The top eigenvalues per model, variant and state (trained: mean and 95% band)."""
    import matplotlib.pyplot as plt

    spectrum = judged(tables)["spectrum"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
    for ax, model in zip(axes, MODELS):
        for variant in VARIANTS:
            plots.band_from(ax, spectrum, "index", "eigenvalue", f"{LABELS[variant]}, trained", color=COLORS[variant],
                            line_kw=dict(marker="o"), model=model, variant=variant, state="trained")
            init = stats.select(spectrum, model=model, variant=variant, state="init")
            if len(init):
                ax.plot(init["index"], init.eigenvalue, ls="--", color=COLORS[variant], alpha=0.7,
                        label=f"{LABELS[variant]}, init (seed 0)")
        ax.set(yscale="log", xlabel="rank", title=net_label(model, cfg))
    axes[0].set_ylabel("Hessian eigenvalue (mean-loss units)")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Top Hessian eigenvalues by Lanczos (batch of {cfg.hessian_batch} digits)")
    fig.tight_layout()
    return fig


@plots.figure("B5a", "B5b", "B5c", "B5d", "B5a-mlp", "B5b-mlp", "B5c-mlp", "B5d-mlp")
def figure_perturbations(tables, cfg):
    """Random vs targeted 1% perturbations side by side, per conv width and for the MLP:
    fraction predicted as the chosen class."""
    import matplotlib.pyplot as plt

    summary = tables["perturbation_summary"]
    nets = list(dict.fromkeys(summary.model))
    if not nets:  # no seed trained (B0 fails): nothing to draw
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.set_axis_off()
        ax.set_title("No trained nets: the premise of B5 does not hold")
        return fig
    fig, axes = plt.subplots(1, len(nets), figsize=(5 * len(nets), 4.4), sharey=True, squeeze=False)
    width = 0.36
    for ax, model in zip(axes[0], nets):
        for j, variant in enumerate(("no_bn", "bn")):
            part = stats.select(summary, model=model, variant=variant).set_index("kind")
            part = part.reindex(["random", "targeted"])
            x = np.arange(2) + (j - 0.5) * width
            err = [part.fraction_chosen - part.fraction_chosen_ci_low, part.fraction_chosen_ci_high - part.fraction_chosen]
            ax.bar(x, part.fraction_chosen, width, yerr=err, capsize=3, color=COLORS[variant], label=LABELS[variant])
        ax.axhline(0.1, color="grey", ls=":", label="chance (1/10)")
        ax.axhline(0.5, color="k", lw=0.8, ls="--", label="majority (B5b)")
        targeted = stats.select(summary, model=model, variant="no_bn", kind="targeted").fraction_chosen.iloc[0]
        name = model.replace("conv net ", "conv net, channels ") if model.startswith("conv") else net_label(model, cfg)
        ax.set(xticks=[0, 1], xticklabels=["random", "targeted (∇ mean logit k)"], ylim=(0, 1),
               title=f"{name}\nno BN, targeted: {targeted:.2f} of inputs")
    axes[0, 0].set_ylabel("fraction of inputs predicted as class k\n(mean over k and seeds, 95% CI)")
    axes[0, -1].legend(fontsize=8, loc="upper left")
    fig.suptitle("Weight perturbation of 1% of ‖θ‖ (Page's construction), per conv width and for the MLP "
                 "(B5 is judged at the widest conv net)")
    fig.tight_layout()
    return fig


@plots.figure("B6")
def figure_lr_stress(tables, cfg):
    """Final loss against the learning rate, with the stability threshold."""
    import matplotlib.pyplot as plt

    lr = tables["lr_stress"].copy()
    lr["capped"] = np.clip(np.nan_to_num(lr.final_loss.to_numpy(dtype=float), nan=10, posinf=10), None, 10)
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for variant in ("no_bn", "bn"):
        x, mean, low, high = stats.band(lr, "lr", "capped", variant=variant)
        # a log axis: the band's lower end stays positive
        plots.band(ax, x, mean, np.maximum(low, 1e-3), high, label=LABELS[variant], color=COLORS[variant], marker="o")
    ax.axhline(0.5 * float(lr.initial_loss.mean()), color="grey", ls=":", label="½ initial loss (stability rule)")
    ax.axhline(math.log(10), color="grey", ls="--", lw=0.8, label="chance (ln 10)")
    ax.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="mean loss of the last 10 steps (diverged: 10)",
           title=f"{net_label('small', cfg)}: learning-rate stress test ({lr.seed.nunique()} seeds)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@plots.figure("B7a", "B7b", "B7c")
def figure_santurkar(tables, cfg):
    """Santurkar's three panels: ranges over the steps η along the gradient during training."""
    import matplotlib.pyplot as plt

    sant = tables["santurkar"]
    per_step = sant.groupby(["seed", "variant", "step"]).agg(
        loss_min=("loss", "min"), loss_max=("loss", "max"), gradient_change=("gradient_change", "max"),
        beta=("beta", "max")).reset_index()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4))
    for variant in ("no_bn", "bn"):
        part = stats.select(per_step, variant=variant).groupby("step").mean(numeric_only=True)
        steps = part.index.to_numpy()
        axes[0].fill_between(steps, part.loss_min, part.loss_max, alpha=0.35, color=COLORS[variant],
                             label=LABELS[variant])
        axes[1].plot(steps, part.gradient_change, color=COLORS[variant], marker="o", label=LABELS[variant])
        axes[2].plot(steps, part.beta, color=COLORS[variant], marker="o", label=LABELS[variant])
    axes[0].set(xlabel="training step", ylabel="loss", title="loss landscape (range over η)")
    axes[1].set(xlabel="training step", ylabel="max ‖∇L(θ−ηg) − ∇L(θ)‖", title="gradient predictiveness")
    axes[2].set(xlabel="training step", ylabel="max ‖Δ∇L‖ / ‖ηg‖", title="effective β-smoothness")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.suptitle(f"Santurkar et al.: along the gradient step, η ∈ [{min(ETA_FACTORS):g}, {max(ETA_FACTORS):g}]·lr "
                 f"({net_label('small', cfg)}, mean over {sant.seed.nunique()} seeds)")
    fig.tight_layout()
    return fig


@plots.figure("B1b-mlp")
def figure_frozen_steps(tables, cfg):
    """B1b-mlp's scope: the frozen-BN MLP's overlap of v1..v5 with the class-mean-gradient span
    after each number of training steps, per seed and the mean with its 95% interval, against
    the lecture's threshold; the declared step count marked."""
    import matplotlib.pyplot as plt

    from . import CLAIMS, MOSTLY, estimate, frozen_overlap_across_steps

    seeds = sorted(set(trained_seeds(tables["training"], "mlp")))
    kept = judged(tables)
    per_seed = {cfg.train_steps: mean_top_overlap(kept["spectrum"], "mlp", "frozen_bn")}
    per_seed |= {steps: frozen_overlap_at(tables["frozen_steps"], steps, seeds) for steps in cfg.steps_sweep}
    est = frozen_overlap_across_steps(tables, kept, cfg)
    steps = sorted(est)
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for i in range(len(seeds)):
        ax.plot(steps, [per_seed[s][i] for s in steps], color=COLORS["frozen_bn"], alpha=0.25, lw=0.8,
                label="one seed" if i == 0 else None)
    plots.band(ax, np.array(steps), np.array([est[s].value for s in steps]), np.array([est[s].ci_low for s in steps]),
               np.array([est[s].ci_high for s in steps]), label=f"mean, 95% CI ({len(seeds)} seeds)",
               color=COLORS["frozen_bn"], marker="o")
    ax.axhline(MOSTLY, color="k", lw=0.8, ls=":", label=f"'mostly': {MOSTLY:g}")
    ax.axvline(cfg.train_steps, color="grey", ls="--", lw=0.8, label=f"declared: {cfg.train_steps} steps (headline)")
    ax.set(xlabel="SGD steps of the partial training", ylabel=f"mean overlap of v1..v{OVERLAP_TOP} with Q",
           ylim=(0, 1), xticks=steps)
    ax.legend(fontsize=8)
    ax.set_title(f"{net_label('mlp', cfg)}, frozen BN: do the top eigenvectors move into the span with training?\n"
                 + plots.result_line(CLAIMS, estimate, tables, cfg, "B1b-mlp"), fontsize=10)
    fig.tight_layout()
    return fig


FIGURES = [figure_overlap, figure_overlap_paired, figure_spectra, figure_perturbations, figure_lr_stress,
           figure_santurkar, figure_frozen_steps]
