"""The figures: dropout against its L2 forms, validation curves, augmentation and test-time
views, and the bias–variance trade along λ."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlclaims.suite import plots, stats


@plots.figure("K2", "K3a", "K3b")
def figure_dropout_as_l2(tables, cfg):
    """Distance of the dropout fit to each penalised fit, against keep p."""
    l2 = tables["dropout_l2"]
    fig, ax = plt.subplots(figsize=(9, 5.5))
    series = [("linear", "to_closed_form", "linear: Srivastava's closed form (K2)"),
              ("logistic", "to_wager", "logistic: Wager's adaptive L2 (K3b)"),
              ("logistic", "to_best_ridge", "logistic: best plain L2, any λ (K3a)"),
              ("logistic", "to_mle", "logistic: no penalty (K3-moves)")]
    for i, (task, column, label) in enumerate(series):
        part = l2[l2.task == task]
        keeps = np.sort(part.keep.unique())
        est = [stats.mean_ci(stats.per_seed(part, column, keep=k)) for k in keeps]
        mean = np.array([e.value for e in est])
        err = np.array([[e.value - e.ci_low for e in est], [e.ci_high - e.value for e in est]])
        ax.errorbar(keeps + 0.004 * (i - 1.5), mean, yerr=np.nan_to_num(err), marker="o", capsize=3, label=label,
                    color=plots.PALETTE[i])
    ax.axhline(0.1, color="0.4", ls="--", lw=1, label="K3 rule: ≤ 0.1")
    ax.set(yscale="log", xlabel="keep probability p", ylabel="‖β_fit − β_dropout‖ / ‖β_dropout‖",
           title="Dropout = Srivastava's L2 exactly (linear), ≈ Wager's adaptive L2 (logistic)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=9)
    return fig


@plots.figure("K6", "K6-fit", "K7")
def figure_validation_curves(tables, cfg):
    """Training and validation loss of the unaugmented nets, per training-set size."""
    curves = tables["curves"]
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for i, n in enumerate(sorted(curves.n_train.unique())):
        part = curves[(curves.augment == "none") & (curves.n_train == n)]
        plots.band_from(ax, part, "step", "val_loss", f"validation, {n} training digits", color=plots.PALETTE[i])
        plots.band_from(ax, part, "step", "train_loss", f"training, {n} training digits", color=plots.PALETTE[i],
                        line_kw=dict(ls="--"))
    ax.set(yscale="log", xlabel="SGD step", ylabel="cross-entropy (nats)",
           title="MNIST-1D MLP: validation loss falls, then rises (K6)")
    ax.legend(loc="lower left", fontsize=9)
    return fig


@plots.figure("K8a", "K8b", "K9a", "K9b")
def figure_augmentation(tables, cfg):
    """Held-out accuracy and shift invariance, augmented against unaugmented, per seed."""
    shifts = tables["shifts"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.5))
    for i, n in enumerate(sorted(shifts.n_train.unique())):
        for ax, column in ((ax1, "test_acc"), (ax2, "invariant_share")):
            a = stats.per_seed(shifts, column, n_train=n, augment="none")
            b = stats.per_seed(shifts, column, n_train=n, augment="shift")
            ax.plot([0, 1], np.vstack([a, b]), color=plots.PALETTE[i], alpha=0.5, marker="o", ms=3)
            ax.plot([], [], color=plots.PALETTE[i], label=f"{n} training digits")
    part = shifts[shifts.n_train == shifts.n_train.min()]
    tta = stats.mean_ci(part[part.augment == "shift"].tta_acc - part[part.augment == "shift"].single_acc)
    ax1.set(xticks=[0, 1], xticklabels=["no augmentation", f"shifts ≤ {cfg.max_shift}"], ylabel="held-out accuracy",
            title=f"K8a: augmentation helps; K9a: test-time views add {tta.value:+.3f}")
    ax2.set(xticks=[0, 1], xticklabels=["no augmentation", f"shifts ≤ {cfg.max_shift}"],
            ylabel=f"share of digits unchanged by every shift ≤ {cfg.max_shift}", title="K8b: invariance is learned")
    ax1.legend(loc="upper left", fontsize=9)
    return fig


@plots.figure("K13a", "K13b")
def figure_bias_variance(tables, cfg):
    """Bias², variance and their sum with the noise against λ, per n."""
    bv, per_set = tables["bias_variance"], tables["bv_sets"]
    ns = sorted(bv.n.unique())
    fig, axes = plt.subplots(1, len(ns), figsize=(6.5 * len(ns), 5.5), squeeze=False)
    for ax, n in zip(axes[0], ns):
        part = bv[bv.n == n].sort_values("lam")
        error = per_set[per_set.n == n].groupby("lam").error.mean()
        ax.plot(part.lam, part.bias2.clip(lower=1e-6), marker="o", label="bias²")
        ax.plot(part.lam, part.variance, marker="o", label="variance")
        ax.plot(part.lam, part.bias2 + part.variance + cfg.bv_noise**2, lw=4, alpha=0.35, color="k",
                label="bias² + variance + σ²")
        ax.plot(error.index, error.values, "k:", label="expected error (Monte Carlo)")
        ax.set(xscale="log", yscale="log", xlabel="ridge λ (per example)", title=f"n = {n}: regularisation trades "
               "variance for bias")
        ax.legend(loc="upper center", fontsize=9)
    return fig


@plots.figure("K10", "K10-transfers", "K11", "K12")
def figure_transfer(tables, cfg):
    """5–9 test accuracy against labels per class: probes on the 0–4 net's layers, on a random-init
    net and on a net pretrained on shuffled labels, the MLP from scratch, and fine-tuning at the
    fine-tuned label count; forgetting and target accuracy of fine-tuning at lr and lr/10 against
    steps."""
    from . import CLAIMS, FT_STEPS, estimate

    probes, ft = tables["transfer_probes"], tables["fine_tuning"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.5))
    series = [("probe_source_2", "linear probe, pretrained top layer (2)", 0, dict(marker="o")),
              ("probe_source_1", "linear probe, pretrained layer 1", 9, dict(marker="o", ls=":")),
              ("probe_random_2", "linear probe, random-init layer 2", 7, dict(marker="o")),
              ("probe_shuffled_2", "control: probe on a net pretrained on shuffled labels", 4,
               dict(marker=".", ls="--")),
              ("scratch", "whole MLP from scratch", 3, dict(marker="s", lw=2))]
    for column, label, color, kw in series:
        plots.band_from(ax1, probes, "labels", column, label, color=plots.PALETTE[color], line_kw=kw)
    head = FT_STEPS.lecture if FT_STEPS.lecture in set(ft.steps) else int(ft.steps.max())
    rates = {"lr": plots.PALETTE[1], "lr/10": plots.PALETTE[2]}
    for (rate, color), shift in zip(rates.items(), (0.85, 1.18)):
        e = stats.mean_ci(stats.per_seed(ft, "target_acc", steps=head, rate=rate))
        ax1.errorbar([cfg.tr_ft_labels * shift], [e.value], yerr=[[e.value - e.ci_low], [e.ci_high - e.value]],
                     marker="D", capsize=3, ls="none", color=color, label=f"fine-tuned whole net, {rate}, {head} steps")
    ax1.set(xscale="log", xlabel="labels per class of digits 5–9", ylabel="5–9 test accuracy (1000 digits)",
            title=plots.result_line(CLAIMS, estimate, tables, cfg, "K10", "K12"))
    ax1.legend(loc="lower right", fontsize=8)
    for rate, color in rates.items():
        part = ft[ft.rate == rate]
        plots.band_from(ax2, part, "steps", "forgetting", f"forgetting (0–4 accuracy lost), {rate}", color=color,
                        line_kw=dict(marker="o"))
        plots.band_from(ax2, part, "steps", "target_acc", f"5–9 accuracy, {rate}", color=color,
                        line_kw=dict(ls="--", marker="s"))
    ax2.set(xscale="log", xlabel=f"fine-tuning steps ({cfg.tr_ft_labels} labels per class)",
            ylabel="accuracy / accuracy lost", title=plots.result_line(CLAIMS, estimate, tables, cfg, "K11"))
    ax2.legend(loc="center right", fontsize=9)
    return fig


@plots.figure("K1a", "K1b", "K5-fragile", "K5", "K5r")
def figure_weight_decay_and_dropout(tables, cfg):
    """K1: the share of the overfitting gap removed and the weight-norm ratio against λ; K5:
    held-out accuracy lost when units are zeroed, dropout against plain nets."""
    from . import CLAIMS, estimate

    reg, abl = tables["regularised"], tables["ablation"]
    small = min(cfg.n_train)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.5))
    part = reg[reg.n_train == small]
    plain = part[part.regulariser == "none"].sort_values("seed")
    wd = part[part.regulariser == "weight_decay"]
    lams = np.sort(wd.strength.unique())
    for column, label, color in (("removed", "share of the λ = 0 gap removed (K1b)", plots.PALETTE[0]),
                                 ("norm", "weight norm / λ = 0 norm (K1a)", plots.PALETTE[1])):
        est = []
        for lam in lams:
            r = wd[wd.strength == lam].sort_values("seed")
            value = (1 - (r.train_acc - r.test_acc).to_numpy() / (plain.train_acc - plain.test_acc).to_numpy()
                     if column == "removed" else r.weight_norm.to_numpy() / plain.weight_norm.to_numpy())
            est.append(stats.mean_ci(value))
        mean = np.array([e.value for e in est])
        err = np.array([[e.value - e.ci_low for e in est], [e.ci_high - e.value for e in est]])
        ax1.errorbar(lams, mean, yerr=np.nan_to_num(err), marker="o", capsize=3, label=label, color=color)
    ax1.axhline(0.25, color="0.4", ls="--", lw=1, label="K1b margin: a quarter of the gap")
    ax1.set(xscale="log", xlabel="weight decay λ", ylabel="ratio",
            title=plots.result_line(CLAIMS, estimate, tables, cfg, "K1a", "K1b"))
    ax1.legend(loc="upper left", fontsize=9)
    for i, (r, label) in enumerate((("none", "no dropout"), ("dropout", f"dropout {cfg.k5_drop:g}"))):
        plots.band_from(ax2, abl, "share", "lost", f"{label}: units zeroed", color=plots.PALETTE[i],
                        line_kw=dict(marker="o"), regulariser=r)
        plots.band_from(ax2, abl, "share", "lost_rescaled", f"{label}: zeroed, survivors × 1/(1 − f)",
                        color=plots.PALETTE[i], line_kw=dict(marker="s", ls="--"), regulariser=r)
    ax2.set(xlabel="share f of each hidden layer's units removed", ylabel="held-out accuracy lost",
            title=plots.result_line(CLAIMS, estimate, tables, cfg, "K5", "K5r"))
    ax2.legend(loc="upper left", fontsize=9)
    return fig


FIGURES = [figure_dropout_as_l2, figure_validation_curves, figure_augmentation, figure_bias_variance,
           figure_transfer, figure_weight_decay_and_dropout]
