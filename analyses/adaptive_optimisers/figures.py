"""The figures, one function each, drawn from the CSV-read tables and the run's config."""

from __future__ import annotations

import numpy as np

from dlclaims.suite import plots, stats

from . import effective_rates, grids, weight_decay
from .common import BETA2S, OPTIMISER_LABELS, record_steps
from .effective_rates import FULL_BATCH, RHO, STOCHASTIC


@plots.figure("F1a", "F1b", "F1c", "F3a")
def figure_effective_lr(tables, cfg):
    """AdaGrad's rate decays under noise, settles on a deterministic problem; RMSProp's does not decay."""
    import matplotlib.pyplot as plt

    eff, stream = tables["effective_lr"], tables["stream"]
    fig, ax = plt.subplots(figsize=(8, 5))
    series = [(eff, dict(problem=STOCHASTIC, optimiser="adagrad"), "AdaGrad, noisy (minibatch LS)", "C0", "-"),
              (eff, dict(problem=FULL_BATCH, optimiser="adagrad"), "AdaGrad, deterministic (full-batch LS)", "C0", "--"),
              (stream, dict(optimiser="rmsprop"), "RMSProp, noisy (stationary N(0.5, 1) gradients)", "C3", "-"),
              (eff, dict(problem=FULL_BATCH, optimiser="rmsprop"), "RMSProp, deterministic (full-batch LS)", "C3", "--")]
    for table, where, label, color, ls in series:
        part = stats.select(table, **where)
        # from t = 10: the first steps' rate α/|g₁| is heavy-tailed over seeds (|g₁| near 0), a band with no message
        part = part[part.step.isin(record_steps(int(part.step.max()))) & (part.step >= 10)]
        plots.band_from(ax, part, "step", "eff_lr", label, color=color, line_kw=dict(ls=ls))
    top = stats.select(eff, problem=STOCHASTIC)
    last = int(top.step.max())
    t = np.array([last / 100, last])  # F1c's fit window, the theory line through the last point
    ref = float(stats.select(top, step=last).eff_lr.mean())
    ax.plot(t, ref * (t / last) ** -0.5, color="grey", ls=":", label="slope −½ (α/√t), F1c's window")
    f1a = effective_rates.rate_ratio(eff, STOCHASTIC, "adagrad", last, last // 10).value
    f1c = effective_rates.fitted_exponent(eff, STOCHASTIC, "adagrad", effective_rates.RATES["adagrad"], last // 100).value
    ax.set(xscale="log", yscale="log", xlabel="step t", ylabel="mean effective rate α/(√S + ε)",
           title=f"Under noise AdaGrad's rate falls to {f1a:.2f}× over the last decade (fitted exponent {f1c:.2f}, "
                 "theory −0.5);\n"
                 "without noise it settles; RMSProp's keeps its level")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


@plots.figure("F4", "F4x")
def figure_bias_correction(tables, cfg):
    """Adam's uncorrected/corrected step on a constant gradient, with the formula."""
    import matplotlib.pyplot as plt

    bias = tables["bias_ratio"]
    fig, ax = plt.subplots(figsize=(8, 5))
    for rho2, color in zip(BETA2S, ("C0", "C1")):
        part = stats.select(bias, rho2=rho2)
        ax.plot(part.t, part.formula, color=color, label=f"(1 − 0.9ᵗ)/√(1 − {rho2}ᵗ)")
        marks = part[part.t.isin(record_steps(int(part.t.max()), 30))]
        ax.plot(marks.t, marks.ratio, "o", color=color, ms=4, label=f"measured, β₂ = {rho2}")
        top = part.loc[part.ratio.idxmax()]
        ax.annotate(f"max {top.ratio:.2f} at t = {int(top.t)}", (top.t, top.ratio), textcoords="offset points",
                    xytext=(10, 5), fontsize=9, color=color)
    ax.axhline(1, color="grey", ls=":", label="corrected step (ratio 1)")
    largest = stats.select(bias, rho2=BETA2S[0]).ratio.max()
    ax.set(xscale="log", xlabel="step t", ylabel="uncorrected step / corrected step",
           title=f"Without bias correction Adam's early steps are up to {largest:.1f}× (β₂ = {BETA2S[0]}) larger")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@plots.figure("F10t", "F10a", "F10b", "F11")
def figure_tuning_windows(tables, cfg):
    """Validation accuracy vs learning rate per optimiser, at the shortest and the longest budget."""
    import matplotlib.pyplot as plt

    grid = tables["grid"]
    budgets = (int(grid.step.min()), int(grid.step.max()))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    for ax, step in zip(axes, budgets):
        for i, name in enumerate(grids.GRID_NAMES):
            plots.band_from(ax, stats.select(grid, step=step), "lr", "val_acc", OPTIMISER_LABELS[name],
                            color=f"C{i}", optimiser=name)
        ax.axvline(grids.ADAM_DEFAULT, color="C3", ls=":", label=f"Adam default α = {grids.ADAM_DEFAULT:g}")
        ax.axvline(grids.ADAGRAD_DEFAULT, color="C2", ls=":", label=f"AdaGrad η = {grids.ADAGRAD_DEFAULT:g} (003)")
        f10a = grids.best_minus_at(grid, "adam", grids.ADAM_DEFAULT)[step].value
        f11 = grids.best_minus_at(grid, "adagrad", grids.ADAGRAD_DEFAULT)[step].value
        ax.set(xscale="log", xlabel="learning rate", ylim=(0, 1))
        ax.set_title(f"{step} steps: tuned − default test accuracy {abs(f10a) if abs(f10a) < 5e-4 else f10a:.3f} "
                     f"(Adam), {f11:.3f} (AdaGrad)", fontsize=10)
    axes[0].set_ylabel("validation accuracy (mean, 95% band over seeds)")
    axes[0].legend(fontsize=8, loc="lower left")
    fig.suptitle(f"MLP 64-{cfg.grid_hidden}-10 on digits: the defaults are near the tuned rate only once the nets "
                 "have trained")
    fig.tight_layout()
    return fig


@plots.figure("F13b", "F13a")
def figure_weight_decay(tables, cfg):
    """AdamW vs Adam + L2: weight norm and training loss along the run."""
    import matplotlib.pyplot as plt

    paths = tables["decay_paths"]
    lam = max(weight_decay.DECAYS)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    styles = {"Adam": ("k", "-"), "AdamW": ("C3", "-"), "Adam + L2 (λ' = λ)": ("C0", "--"),
              "Adam + L2 (best λ')": ("C2", "-.")}
    for method, (color, ls) in styles.items():
        part = paths[(paths.method == method) & ((paths.lam == lam) | (method == "Adam"))]
        label = method if method == "Adam" else f"{method}, λ = {lam}"
        ax1.plot(part.step, part.norm, color=color, ls=ls, label=label)
        ax2.plot(part.step, part.loss, color=color, ls=ls, label=label)
    best = stats.select(tables["weight_decay"], optimiser="adam", lam=lam).iloc[0]
    ax1.set(xlabel="step", ylabel="‖θ‖", title=f"Weight norm (closest L2 path: λ' = {best.best_l2:.3g}, "
                                                f"rel. distance {best.rel_diff:.2f})")
    ax2.set(xlabel="step", ylabel="training loss", yscale="log", title="Training loss (digits logistic regression)")
    ax1.legend(fontsize=8)
    fig.suptitle("AdamW is not Adam + L2 (Loshchilov & Hutter 2019)")
    fig.tight_layout()
    return fig


@plots.figure("F3b", "F3c")
def figure_recovery(tables, cfg):
    """Update size around a ×100 drop of the gradient scale: RMSProp recovers, AdaGrad does not."""
    import matplotlib.pyplot as plt

    stream = tables["stream"]
    drop = int(stream.drop_at.iloc[0])
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, color in (("rmsprop", "C3"), ("adagrad", "C0")):
        part = stats.select(stream, optimiser=name)
        near = part[(part.step > drop - 200) & (part.step <= drop + 500)]
        x, mean, low, high = stats.band(near, "step", "update_size")
        before = part[(part.step > drop - 1000) & (part.step <= drop)].update_size.mean()
        plots.band(ax, x, mean / before, low / before, high / before, label=OPTIMISER_LABELS[name], color=color)
    ax.axvline(drop, color="grey", ls=":", label="gradient scale ×0.01")
    ax.axhline(0.5, color="grey", ls="--", lw=0.8, label="half the old step")
    steps, _ = effective_rates.recovery(stream, "rmsprop", drop)
    _, after = effective_rates.recovery(stream, "adagrad", drop)
    ax.set(yscale="log", xlabel="step", ylabel="mean |update| / mean over the 1000 steps before the drop",
           title=f"After a ×100 drop: RMSProp (ρ = {RHO}) recovers in ~{np.nanmean(steps):.0f} steps; "
                 f"AdaGrad stays {1 / np.mean(after):.0f}× smaller")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


FIGURES = [figure_effective_lr, figure_bias_correction, figure_tuning_windows, figure_weight_decay, figure_recovery]
