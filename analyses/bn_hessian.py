"""Batch norm and the Hessian: top eigenvectors vs class-mean gradients (claims B1-B7).

A small plain conv net (Page's design, four Softplus(β=10) blocks) and an MLP on real
MNIST digits (sklearn digits for --quick), each without BN, with BN in train mode, and
with frozen BN (the BN net with running statistics refreshed on the training set, in eval
mode). At initialisation and after partial training: the top-k Hessian eigenpairs of the
mean loss on a fixed batch by Lanczos (and by power iteration, the lecture's method), their
overlap with the span of the 10 class-mean-logit gradients (and of 30 mean/variance/skew
gradients), λmax with that span projected off; random vs targeted 1% weight perturbations;
the largest stable learning rate; and Santurkar's loss/gradient/β-smoothness along the
gradient step during training.
"""

from __future__ import annotations

import copy
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from dlclaims import analysis, data, hessian, nets, plots, stats
from dlclaims.check import Tol
from dlclaims.claims import Claim, Estimate, at_least, at_most
from dlclaims.progress import progress
from dlclaims.threads import one_thread

TITLE = "Batch norm and the Hessian: leading eigenvectors, perturbations, learning rates, smoothness"
LECTURE = """\
"Investigate the Hessian of parameters. Leading eigenvector (direction of largest
curvature) → This direction makes SGD spiral out of control. Computed via a power method
[...] Largest eigenvectors lie almost entirely in the 9-dim subspace spanned by the
mean-output gradients! This de-stabilizes SGD optimization! Batch norm: Smoothens the
optimization landscape." "Random perturbation of the weight, strength of 1% of parameter
vector length: similar output distributions. Targeted perturbation [...]: network will
predict perturbed class in majority of inputs!" (000, after Page, *How to train your
ResNet 7*, and Santurkar et al. 2018)."""
NOTES = """\
**Models.** A plain conv net in the spirit of Page's 8-layer net, shrunk to fit the time
budget on 2 CPU cores: four bias-free 3×3 conv blocks (8, 16, 16, 32 channels), each
conv [→ BN] → Softplus(β=10) → 2×2 max-pool, a global max-pool, a bias-free linear
classifier and Page's fixed logit scale 0.125. And an MLP 784-128-128-128-10
(64-64-64-64-10 on digits) with the same blocks. Convs and hidden layers get He-uniform
weights, the classifier PyTorch's default. **Softplus(β=10) rather than ReLU**
everywhere (training included): it is ReLU to within log 2/10, but has a second
derivative, so the Hessian exists at every point and the HVP can be checked against
finite differences; ReLU's autograd Hessian drops the kinks (Page switches to
Softplus(β=10) for the same reason). One network is trained per seed and BN setting; the
frozen-BN variant is the BN network with its running statistics recomputed (cumulative
average) over the whole training set and used in eval mode.

**States.** At initialisation, and after partial training (SGD, momentum 0.9, batch 128,
the same lr and steps for every variant). The claims are judged after partial training,
where the lecture puts them ("What happens during training?") and where frozen
statistics mean something; the tables and figures also give initialisation.

**Hessian.** Of the mean cross-entropy on one fixed batch (Page: 256), by double backward
on a cached graph; BN stays in train mode (batch statistics) for the BN variant, as in
Page. Top 10 eigenpairs by Lanczos with full reorthogonalisation to relative Ritz residual
1e-4; overlap of v_i is ‖Qᵀv_i‖² with Q a QR basis of the 10 gradients of the batch means
of the logits (and of the 30 gradients of their batch mean, variance and skewness). Power
iteration with deflation (top 3, relative residual 1e-3, at most 400 products per pair)
is compared with Lanczos on the MLP (B4), where products are cheap. All torch work runs
on one thread: on a shared 2-core machine a second thread made small products up to 50×
slower.

**Perturbations (B5)** on the trained conv net, on 512 held-out digits (BN in train mode
on that batch): random direction and, per class k, the normalised gradient of the batch
mean of logit k, each of norm 1% of ‖θ‖; we record the fraction of inputs predicted as k
(and, for random, the fraction whose prediction changed). **Learning rates (B6)** on the
MLP: 0.0125·2^i, trained for a fixed number of plain-SGD steps from the same init and
batches; stable = finite and the mean loss of the last 10 steps below the initial loss;
the statistic is the largest stable rate. **Santurkar (B7)** on the MLP, plain SGD at one
lr for both: every few steps, along the gradient g of the current batch, at η = lr × {½, 1,
2, 3, 4}: loss range, max ‖∇L(θ−ηg)−∇L(θ)‖ and max of that over ‖ηg‖ (effective β).

**Statistics.** Per seed, a ratio or mean; over seeds, the mean with a Student-t 95%
interval (ratios: the geometric mean, from the t interval of the logs)."""

K = 10
K_POWER = 3
OVERLAP_TOP = 5  # v1..v5 enter the overlap claims

CLAIMS = [
    Claim("B1a", "Without BN the top Hessian eigenvectors lie mostly in the span of the class-mean-logit gradients",
          "mean overlap of v1..v5 with the 10-gradient span (conv net, no BN, trained)", at_least(0.5)),
    Claim("B1b", "With frozen BN (eval mode) the top Hessian eigenvectors lie mostly in that span too",
          "mean overlap of v1..v5 with the 10-gradient span (conv net, frozen BN, trained)", at_least(0.5)),
    Claim("B2", "With BN (train mode) that overlap is much smaller",
          "mean overlap of v1..v5, BN (train mode) / no BN, geometric mean over seeds (conv net, trained)",
          at_most(0.5)),
    Claim("B3", "BN smooths the landscape: the top eigenvalue is much smaller with BN",
          "λmax of the mean loss, BN (train mode) / no BN, geometric mean over seeds (conv net, trained)",
          at_most(0.5)),
    Claim("B4a", "Power iteration and Lanczos agree on the top eigenvalues",
          "largest relative difference of the top-3 eigenvalues, worst variant per seed (MLP, trained)",
          at_most(0.01)),
    Claim("B4b", "Power iteration and Lanczos agree on the top eigenvectors",
          "mean squared cosine of the power top-3 vectors onto the Lanczos top-3 span, worst variant per seed",
          at_least(0.9)),
    Claim("B5a", "A random 1% perturbation barely changes the outputs",
          "fraction of inputs whose prediction is unchanged (conv net, no BN, trained)", at_least(0.9)),
    Claim("B5b", "A targeted 1% perturbation makes a no-BN net predict the chosen class on most inputs",
          "fraction of inputs predicted as the chosen class, mean over classes (conv net, no BN, trained)",
          at_least(0.5)),
    Claim("B5c", "... but not a BN net",
          "same fraction for BN in train mode", at_most(0.5)),
    Claim("B6", "BN allows much larger learning rates",
          "largest stable learning rate, BN / no BN, geometric mean over seeds (MLP)", at_least(4.0)),
    Claim("B7a", "Santurkar: the loss varies less along the gradient step with BN",
          "loss range over steps η ∈ [½, 4]·lr, BN / no BN, mean over training, geometric mean over seeds (MLP)",
          at_most(1.0)),
    Claim("B7b", "Santurkar: gradients are more predictive with BN",
          "max ‖∇L(θ−ηg) − ∇L(θ)‖ over η, BN / no BN, as above", at_most(1.0)),
    Claim("B7c", "Santurkar: the effective β-smoothness is smaller with BN",
          "max ‖∇L(θ−ηg) − ∇L(θ)‖/‖ηg‖ over η, BN / no BN, as above", at_most(1.0)),
]

TOLERANCES = {
    "*": {"matvecs": Tol(rtol=0.2, atol=5), "overlap": Tol(rtol=0, atol=0.03),
          "overlap30": Tol(rtol=0, atol=0.03), "fraction_chosen": Tol(rtol=0, atol=0.03),
          "fraction_unchanged": Tol(rtol=0, atol=0.03), "residual": Tol(rtol=10, atol=1e-3)},
    "spectrum": {"eigenvalue": Tol(rtol=0.02, atol=1e-4)},
    "lr_stress": {"final_loss": Tol(rtol=0.05, atol=1e-3)},
}
DEFAULT_TOLERANCE = Tol(rtol=0.02, atol=1e-5)

VARIANTS = ("no_bn", "bn", "frozen_bn")
LABELS = {"no_bn": "no BN", "bn": "BN (train mode)", "frozen_bn": "frozen BN (eval mode)"}
ETA_FACTORS = (0.5, 1.0, 2.0, 3.0, 4.0)
LOSS = nn.CrossEntropyLoss()


@dataclass(frozen=True)
class Config:
    dataset: str = "mnist"
    channels: tuple[int, ...] = (8, 16, 16, 32)
    mlp_hidden: tuple[int, ...] = (128, 128, 128)
    hessian_batch: int = 256
    conv_hessian_batch: int = 128
    perturb_inputs: int = 512
    train_steps: int = 200
    train_lr: float = 0.02
    batch_size: int = 128
    lr_grid: int = 12
    lr_steps: int = 50
    santurkar_steps: int = 200
    santurkar_lr: float = 0.1
    santurkar_every: int = 20
    k: int = K
    tol: float = 1e-4
    power_tol: float = 1e-3
    power_max_iter: int = 400
    seeds: int = 3
    device: str = "cpu"


def configure(args) -> Config:
    if args.quick:
        cfg = Config(dataset="digits", channels=(4, 8, 8, 16), mlp_hidden=(64, 64, 64), hessian_batch=128,
                     conv_hessian_batch=128, perturb_inputs=256, train_steps=60, lr_grid=10, lr_steps=25,
                     santurkar_steps=60, santurkar_every=15, power_max_iter=150, seeds=2)
    else:
        cfg = Config()
    if args.seeds is not None:
        cfg = Config(**{**cfg.__dict__, "seeds": args.seeds})
    cfg = Config(**{**cfg.__dict__, "device": args.device})
    if cfg.seeds < 2:
        raise ValueError(f"--seeds {cfg.seeds} is too few for a confidence interval; expected at least 2")
    return cfg


# --- data and models -------------------------------------------------------------------------

def image_side(split: data.Split) -> int:
    return int(round(math.sqrt(split.n_features)))


def build(model: str, batch_norm: bool, cfg: Config, side: int, n_features: int, seed: int) -> nn.Module:
    """The same seed draws the same hidden weights for the BN and the no-BN network."""
    g = torch.Generator().manual_seed(1000 + seed)
    if model == "conv":
        return nets.conv_net(cfg.channels, image_size=side, batch_norm=batch_norm, generator=g)
    net = nets.mlp([n_features, *cfg.mlp_hidden, 10], activation="softplus", batch_norm=batch_norm, generator=g)
    return nets.he_uniform_(net, torch.Generator().manual_seed(2000 + seed))


def shaped(model: str, x: torch.Tensor, side: int) -> torch.Tensor:
    return x.view(-1, 1, side, side) if model == "conv" else x


def refresh_statistics(net: nn.Module, x: torch.Tensor, chunk: int = 500) -> nn.Module:
    """A copy with BN running statistics recomputed as the exact average over ``x`` (frozen BN)."""
    frozen = copy.deepcopy(net)
    bns = [m for m in frozen.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average
    frozen.train()
    with torch.no_grad():
        for start in range(0, len(x), chunk):
            frozen(x[start: start + chunk])
    for m in bns:
        m.momentum = 0.1
    return frozen.eval()


def variants_of(plain: nn.Module, bn: nn.Module, x_train: torch.Tensor) -> dict[str, tuple[nn.Module, str]]:
    """Each variant as (network, mode the Hessian and predictions use)."""
    return {"no_bn": (plain, "train"), "bn": (bn, "train"), "frozen_bn": (refresh_statistics(bn, x_train), "eval")}


def train(net: nn.Module, x, y, cfg: Config, seed: int, steps: int, lr: float, momentum: float = 0.9) -> list[float]:
    g = torch.Generator().manual_seed(3000 + seed)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    net.train()
    losses = []
    for _ in range(steps):
        idx = torch.randint(len(y), (cfg.batch_size,), generator=g)
        loss = LOSS(net(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


# --- the Hessian study -----------------------------------------------------------------------

def hessian_study(model: str, state: str, seed: int, variants, xb, yb, cfg: Config, power: bool):
    """Top eigenpairs, overlaps and projected λmax per variant; power iteration when asked."""
    spectrum, summary, solver = [], [], []
    for variant, (net, mode) in variants.items():
        op = hessian.model_hessian(net, LOSS, xb, yb, mode=mode)
        res = hessian.top_eigenpairs(op.matvec, op.dim, cfg.k, tol=cfg.tol, seed=seed)
        g10 = hessian.output_statistic_gradients(net, xb, mode, moments=1)
        g30 = hessian.output_statistic_gradients(net, xb, mode, moments=3)
        overlap10 = hessian.subspace_overlap(res.vectors, g10)
        overlap30 = hessian.subspace_overlap(res.vectors, g30)
        key = dict(model=model, state=state, variant=variant, seed=seed)
        for i in range(len(res.values)):
            spectrum.append(key | dict(index=i + 1, eigenvalue=float(res.values[i]), residual=float(res.residuals[i]),
                                       overlap=float(overlap10[i]), overlap30=float(overlap30[i])))
        projected = {"10": float("nan"), "30": float("nan")}
        if state == "trained":  # λmax with the gradient span projected off: one eigenvalue, to 1e-3
            for name, g in (("10", g10), ("30", g30)):
                sub = hessian.top_eigenpairs(hessian.project_out(op.matvec, g), op.dim, 1, tol=1e-3, seed=seed)
                projected[name] = float(sub.values[0])
        summary.append(key | dict(parameters=op.dim, lambda_max=float(res.values[0]),
                                  lambda_max_without_10=projected["10"], lambda_max_without_30=projected["30"],
                                  random_overlap=g10.shape[1] / op.dim))
        solver.append(key | dict(method="lanczos", k=cfg.k, tol=cfg.tol, matvecs=res.matvecs,
                                 converged=res.converged))
        if power:
            pw = hessian.top_eigenpairs(op.matvec, op.dim, K_POWER, method="power", tol=cfg.power_tol, seed=seed,
                                        max_iter=cfg.power_max_iter)
            top = res.vectors[:, :K_POWER]
            agreement = hessian.subspace_overlap(pw.vectors, top)
            rel = (pw.values - res.values[:K_POWER]).abs() / res.values[:K_POWER].abs()
            solver.append(key | dict(method="power", k=K_POWER, tol=cfg.power_tol, matvecs=pw.matvecs,
                                     converged=pw.converged,
                                     max_relative_difference=float(rel.max()),
                                     mean_vector_overlap=float(agreement.mean())))
    return spectrum, summary, solver


# --- perturbations ---------------------------------------------------------------------------

def perturbation_study(seed: int, variants, x: torch.Tensor) -> list[dict]:
    rows = []
    g = torch.Generator().manual_seed(4000 + seed)
    for variant, (net, mode) in variants.items():
        theta = hessian.flat_parameters(net)
        size = 0.01 * float(theta.norm())

        def predict(vector: torch.Tensor) -> torch.Tensor:
            hessian.set_flat_parameters_(net, vector)
            with torch.no_grad(), hessian.frozen_state(net, mode):
                return net(x).argmax(1)

        base = predict(theta)
        key = dict(state="trained", variant=variant, seed=seed)
        direction = torch.randn(theta.numel(), generator=g)
        moved = predict(theta + size * direction / direction.norm())
        for k in range(10):
            rows.append(key | dict(kind="random", target=k, fraction_chosen=float((moved == k).float().mean()),
                                   fraction_unchanged=float((moved == base).float().mean())))
        hessian.set_flat_parameters_(net, theta)
        grads = hessian.output_statistic_gradients(net, x, mode, moments=1)
        for k in range(10):
            d = grads[:, k]
            moved_k = predict(theta + size * d / d.norm())
            rows.append(key | dict(kind="targeted", target=k, fraction_chosen=float((moved_k == k).float().mean()),
                                   fraction_unchanged=float((moved_k == base).float().mean())))
        hessian.set_flat_parameters_(net, theta)
    return rows


# --- learning-rate stress test and Santurkar's measurements ------------------------------------

def lr_stress(seed: int, split: data.Split, cfg: Config, side: int) -> list[dict]:
    rows = []
    for variant, bn in (("no_bn", False), ("bn", True)):
        for i in range(cfg.lr_grid):
            lr = 0.0125 * 2**i
            net = build("mlp", bn, cfg, side, split.n_features, seed)
            losses = np.array(train(net, split.x_train, split.y_train, cfg, seed, cfg.lr_steps, lr, momentum=0.0))
            final = float(np.mean(losses[-10:]))
            rows.append(dict(variant=variant, seed=seed, lr=lr, initial_loss=float(losses[0]), final_loss=final,
                             stable=bool(np.isfinite(final) and final < losses[0])))
    return rows


def santurkar(seed: int, split: data.Split, cfg: Config, side: int) -> list[dict]:
    rows = []
    for variant, bn in (("no_bn", False), ("bn", True)):
        net = build("mlp", bn, cfg, side, split.n_features, seed)
        g = torch.Generator().manual_seed(5000 + seed)
        opt = torch.optim.SGD(net.parameters(), lr=cfg.santurkar_lr)
        for step in range(cfg.santurkar_steps):
            idx = torch.randint(len(split.y_train), (cfg.batch_size,), generator=g)
            x, y = split.x_train[idx], split.y_train[idx]
            if step % cfg.santurkar_every == 0:
                rows += landscape_along_gradient(net, x, y, cfg.santurkar_lr, variant, seed, step)
            net.train()
            loss = LOSS(net(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return rows


def landscape_along_gradient(net, x, y, lr, variant, seed, step) -> list[dict]:
    theta = hessian.flat_parameters(net)
    loss0, grad0 = hessian.loss_and_gradient(net, LOSS, x, y, "train")
    rows = [dict(variant=variant, seed=seed, step=step, eta_factor=0.0, loss=loss0.item(), gradient_change=0.0,
                 beta=float("nan"))]
    for f in ETA_FACTORS:
        eta = f * lr
        hessian.set_flat_parameters_(net, theta - eta * grad0)
        loss, grad = hessian.loss_and_gradient(net, LOSS, x, y, "train")
        change = float((grad - grad0).norm())
        rows.append(dict(variant=variant, seed=seed, step=step, eta_factor=f, loss=loss.item(), gradient_change=change,
                         beta=change / float((eta * grad0).norm())))
    hessian.set_flat_parameters_(net, theta)
    return rows


# --- the run ---------------------------------------------------------------------------------

def compute(cfg: Config) -> dict[str, pd.DataFrame]:
    with one_thread():
        return _compute(cfg)


def _compute(cfg: Config) -> dict[str, pd.DataFrame]:
    split = data.split(cfg.dataset, seed=0)
    side = image_side(split)
    spectrum, summary, solver, perturb, training, stress, sant = [], [], [], [], [], [], []
    for seed in progress(range(cfg.seeds), desc="seeds"):
        g = torch.Generator().manual_seed(seed)
        order = torch.randperm(len(split.y_train), generator=g)
        for model in ("conv", "mlp"):
            n_batch = cfg.conv_hessian_batch if model == "conv" else cfg.hessian_batch
            xb = shaped(model, split.x_train[order[:n_batch]], side)
            yb = split.y_train[order[:n_batch]]
            x_train = shaped(model, split.x_train, side)
            plain = build(model, False, cfg, side, split.n_features, seed)
            bn = build(model, True, cfg, side, split.n_features, seed)
            for state in ("init", "trained"):
                if state == "trained":
                    for variant, net in (("no_bn", plain), ("bn", bn)):
                        losses = train(net, x_train, split.y_train, cfg, seed, cfg.train_steps, cfg.train_lr)
                        training += [dict(model=model, variant=variant, seed=seed, step=i, loss=v)
                                     for i, v in enumerate(losses)]
                variants = variants_of(plain, bn, x_train)
                sp, su, so = hessian_study(model, state, seed, variants, xb, yb, cfg,
                                           power=model == "mlp" and state == "trained")
                spectrum += sp
                summary += su
                solver += so
                if model == "conv" and state == "trained":
                    x_test = shaped(model, split.x_test[: cfg.perturb_inputs], side)
                    perturb += perturbation_study(seed, variants, x_test)
        stress += lr_stress(seed, split, cfg, side)
        sant += santurkar(seed, split, cfg, side)
    return {
        "spectrum": pd.DataFrame(spectrum),
        "hessian_summary": pd.DataFrame(summary),
        "solvers": pd.DataFrame(solver),
        "perturbation": pd.DataFrame(perturb),
        "training": pd.DataFrame(training).iloc[::10].reset_index(drop=True),
        "lr_stress": pd.DataFrame(stress),
        "santurkar": pd.DataFrame(sant),
    }


# --- the claims ------------------------------------------------------------------------------

def geometric_mean_ci(ratios) -> Estimate:
    logs = stats.mean_ci(np.log(np.asarray(ratios, dtype=float)))
    return Estimate(math.exp(logs.value), math.exp(logs.ci_low), math.exp(logs.ci_high)) \
        if np.isfinite(logs.ci_low) else Estimate(math.exp(logs.value), np.nan, np.nan)


def mean_overlap(spectrum: pd.DataFrame, model: str, variant: str, state: str = "trained") -> pd.Series:
    """Per seed, the mean overlap of v1..v5 with the 10-gradient span."""
    part = spectrum[(spectrum.model == model) & (spectrum.variant == variant) & (spectrum.state == state)
                    & (spectrum["index"] <= OVERLAP_TOP)]
    return part.groupby("seed").overlap.mean()


def santurkar_per_seed(table: pd.DataFrame) -> pd.DataFrame:
    """Per seed, variant and checkpoint: loss range, max gradient change, max β; then the mean over checkpoints."""
    per_step = table.groupby(["seed", "variant", "step"]).agg(
        loss_range=("loss", lambda s: s.max() - s.min()), gradient_change=("gradient_change", "max"),
        beta=("beta", "max"))
    return per_step.groupby(["seed", "variant"]).mean()


def estimate(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, Estimate]:
    spectrum, summary, solvers = tables["spectrum"], tables["hessian_summary"], tables["solvers"]
    conv_trained = summary[(summary.model == "conv") & (summary.state == "trained")]
    lam = conv_trained.pivot(index="seed", columns="variant", values="lambda_max")
    power = solvers[solvers.method == "power"].groupby("seed")
    pert = tables["perturbation"]

    def fraction(kind: str, variant: str, column: str) -> pd.Series:
        part = pert[(pert.kind == kind) & (pert.variant == variant)]
        return part.groupby("seed")[column].mean()

    lr = tables["lr_stress"]
    largest = lr[lr.stable].groupby(["seed", "variant"]).lr.max().unstack()
    smallest = lr.lr.min()
    largest = largest.reindex(columns=["no_bn", "bn"]).fillna(smallest / 2)  # none stable: below the grid
    sant = santurkar_per_seed(tables["santurkar"]).unstack("variant")
    return {
        "B1a": stats.mean_ci(mean_overlap(spectrum, "conv", "no_bn")),
        "B1b": stats.mean_ci(mean_overlap(spectrum, "conv", "frozen_bn")),
        "B2": geometric_mean_ci(mean_overlap(spectrum, "conv", "bn") / mean_overlap(spectrum, "conv", "no_bn")),
        "B3": geometric_mean_ci(lam["bn"] / lam["no_bn"]),
        "B4a": stats.mean_ci(power.max_relative_difference.max()),
        "B4b": stats.mean_ci(power.mean_vector_overlap.min()),
        "B5a": stats.mean_ci(fraction("random", "no_bn", "fraction_unchanged")),
        "B5b": stats.mean_ci(fraction("targeted", "no_bn", "fraction_chosen")),
        "B5c": stats.mean_ci(fraction("targeted", "bn", "fraction_chosen")),
        "B6": geometric_mean_ci(largest["bn"] / largest["no_bn"]),
        "B7a": geometric_mean_ci(sant["loss_range"]["bn"] / sant["loss_range"]["no_bn"]),
        "B7b": geometric_mean_ci(sant["gradient_change"]["bn"] / sant["gradient_change"]["no_bn"]),
        "B7c": geometric_mean_ci(sant["beta"]["bn"] / sant["beta"]["no_bn"]),
    }


# --- the figures -----------------------------------------------------------------------------

def figures(tables: dict[str, pd.DataFrame], directory: Path) -> None:
    import matplotlib.pyplot as plt

    spectrum = tables["spectrum"]
    colors = dict(zip(VARIANTS, plots.PALETTE))

    # 1. Page's figure: overlap of each eigenvector with the class-mean-gradient span.
    for model in ("conv", "mlp"):
        fig, axes = plt.subplots(2, 3, figsize=(14, 6.5), sharey=True)
        for row, state in enumerate(("init", "trained")):
            for col, variant in enumerate(VARIANTS):
                ax = axes[row, col]
                part = spectrum[(spectrum.model == model) & (spectrum.state == state) & (spectrum.variant == variant)]
                wide = part.pivot(index="seed", columns="index", values="overlap")
                mean, low, high = stats.mean_ci_columns(wide.to_numpy())
                wide30 = part.pivot(index="seed", columns="index", values="overlap30").to_numpy().mean(0)
                idx = wide.columns.to_numpy()
                ax.bar(idx, mean, color=colors[variant], yerr=np.nan_to_num([mean - low, high - mean]),
                       capsize=2, label="10 class-mean gradients")
                ax.plot(idx, wide30, "D", color="crimson", ms=5, ls="none", label="30 mean/var/skew gradients")
                ax.set(ylim=(0, 1.05), title=f"{LABELS[variant]}, {state}")
                if row == 1:
                    ax.set_xlabel("eigenvector (by eigenvalue rank)")
                if col == 0:
                    ax.set_ylabel("overlap ‖Qᵀv‖²")
        axes[0, 0].legend(fontsize=8, loc="upper right")
        fig.suptitle(f"{model}: how much of each top Hessian eigenvector lies in the gradient span (mean, 95% CI)")
        fig.tight_layout()
        plots.save(fig, directory / f"overlap_{model}.png")

    # 2. Spectra: the top eigenvalues per variant, log scale.
    fig, axes = plt.subplots(1, 4, figsize=(16, 4), sharey=True)
    for ax, (model, state) in zip(axes, [(m, s) for m in ("conv", "mlp") for s in ("init", "trained")]):
        for variant in VARIANTS:
            part = spectrum[(spectrum.model == model) & (spectrum.state == state) & (spectrum.variant == variant)]
            wide = part.pivot(index="seed", columns="index", values="eigenvalue")
            mean, low, high = stats.mean_ci_columns(wide.to_numpy())
            plots.band(ax, wide.columns.to_numpy(), mean, low, high, label=LABELS[variant], color=colors[variant],
                       marker="o")
        ax.set(yscale="log", xlabel="rank", title=f"{model}, {state}")
    axes[0].set_ylabel("Hessian eigenvalue (mean-loss units)")
    axes[0].legend(fontsize=8)
    fig.suptitle("Top Hessian eigenvalues by Lanczos")
    fig.tight_layout()
    plots.save(fig, directory / "spectra.png")

    # 3. Perturbations: fraction predicted as the chosen class.
    pert = tables["perturbation"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    for ax, kind in zip(axes, ("random", "targeted")):
        for j, variant in enumerate(VARIANTS):
            part = pert[(pert.kind == kind) & (pert.variant == variant)]
            ax.hist(part.fraction_chosen, bins=np.linspace(0, 1, 21), alpha=0.55, color=colors[variant],
                    label=LABELS[variant])
        ax.axvline(0.1, color="grey", ls=":", label="chance")
        ax.set(xlabel="fraction of inputs predicted as the chosen class",
               title=f"{kind} 1% perturbation (conv net, trained; one count per class and seed)")
    axes[0].set_ylabel("count")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    plots.save(fig, directory / "perturbations.png")

    # 4. Learning-rate stress test.
    lr = tables["lr_stress"]
    fig, ax = plt.subplots(figsize=(7, 4))
    for variant in ("no_bn", "bn"):
        wide = lr[lr.variant == variant].pivot(index="seed", columns="lr", values="final_loss")
        vals = np.clip(np.nan_to_num(wide.to_numpy(), nan=1e3, posinf=1e3), None, 1e3)
        mean, low, high = stats.mean_ci_columns(vals)
        plots.band(ax, wide.columns.to_numpy(), mean, np.maximum(low, 1e-3), high, label=LABELS[variant],
                   color=colors[variant], marker="o")
    ax.axhline(float(lr.initial_loss.mean()), color="grey", ls=":", label="initial loss")
    ax.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="final training loss (capped at 1e3)",
           title="MLP: learning-rate stress test")
    ax.legend(fontsize=8)
    fig.tight_layout()
    plots.save(fig, directory / "lr_stress.png")

    # 5. Santurkar's three panels: ranges over η ∈ [½, 4]·lr during training.
    sant = tables["santurkar"]
    per_step = sant.groupby(["seed", "variant", "step"]).agg(
        loss_min=("loss", "min"), loss_max=("loss", "max"), gradient_change=("gradient_change", "max"),
        beta=("beta", "max")).reset_index()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4))
    for variant in ("no_bn", "bn"):
        part = per_step[per_step.variant == variant].groupby("step").mean(numeric_only=True)
        steps = part.index.to_numpy()
        axes[0].fill_between(steps, part.loss_min, part.loss_max, alpha=0.35, color=colors[variant],
                             label=LABELS[variant])
        axes[1].plot(steps, part.gradient_change, color=colors[variant], marker="o", label=LABELS[variant])
        axes[2].plot(steps, part.beta, color=colors[variant], marker="o", label=LABELS[variant])
    axes[0].set(xlabel="training step", ylabel="loss", title="loss landscape (range over η)")
    axes[1].set(xlabel="training step", ylabel="max ‖∇L(θ−ηg) − ∇L(θ)‖", title="gradient predictiveness")
    axes[2].set(xlabel="training step", ylabel="max ‖Δ∇L‖ / ‖ηg‖", title="effective β-smoothness")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.suptitle("Santurkar et al.: along the gradient step, η ∈ [½, 4]·lr (MLP, mean over seeds)")
    fig.tight_layout()
    plots.save(fig, directory / "santurkar.png")


if __name__ == "__main__":
    raise SystemExit(analysis.main(sys.modules[__name__]))
