"""bn-hessian's measurements: top Hessian eigenpairs and their overlap with the class-mean
gradients, power iteration against Lanczos, Page's 1% perturbations, the learning-rate stress
test and Santurkar's smoothness along the gradient step."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pandas as pd
import torch
from torch import nn

from dlclaims.methods import hessian, training
from dlclaims.rng import fold_in, stream

from . import models
from .models import LOSS

K_POWER = 3  # top eigenpairs that power iteration (B4) is compared on: it pays per deflation
ETA_FACTORS = (0.5, 1.0, 2.0, 3.0, 4.0)  # Santurkar's steps along the gradient, in units of lr
# the init-state spectra only feed figures; a k = 1 projected λmax at residual 1e-2 is
# within ~1e-4 relative (the eigenvalue error goes with the residual squared)
LOOSE_TOL = 1e-2
DIVERGED = 10.0  # a loss above 10× the initial loss ends an lr-stress run: diverged
PERTURBATION = 0.01  # Page: a perturbation of 1% of the parameter vector's length


# --- the arithmetic every unit runs under ----------------------------------------------------

flushed_denormals = training.flushed_denormals  # every unit runs inside it (bit-identical tables, far faster)


# --- Hessian units ---------------------------------------------------------------------------

def hessian_unit(cfg, model: str, seed: int) -> dict[str, pd.DataFrame]:
    """One seed of one model: train both nets, then per variant the top eigenpairs, their
    overlap with the class-mean gradients, and the random and targeted perturbations; on
    seed 0 also the spectra at initialisation and the projected λmax."""
    x_train, _, x_test, _ = models.dataset(cfg.dataset, model, cfg.conv_pool)
    xb, yb = models.hessian_batch(model, cfg, seed)
    spectrum = init_spectra(cfg, model, seed) if seed == 0 else []
    carry: dict = {}
    plain, bn, training_rows = models.trained_pair(model, cfg, seed, carry)
    summary, perturb, projections = [], [], []
    for variant, (net, mode) in models.variants_of(plain, bn, x_train).items():
        key = dict(model=model, state="trained", variant=variant, seed=seed)
        op, res = top_eigenpairs(net, mode, xb, yb, cfg, seed)
        spectrum += spectrum_rows(key, res, mean_gradient_overlap(res, net, xb, mode))
        summary.append(key | dict(parameters=op.dim, lambda_max=float(res.values[0]), matvecs=res.matvecs,
                                  converged=res.converged, random_overlap=10 / op.dim))
        if seed == 0:  # before the perturbations, which move the parameters under the cached graph
            projections.append(dict(model=model, variant=variant, seed=seed)
                               | projected_lambda_max(op, net, mode, xb, seed))
        if variant != "frozen_bn":  # B5 compares no BN with BN in train mode, as Page did
            perturb += perturbation_study(model, variant, seed, net, mode, x_test[: cfg.perturb_inputs])
    tables = {"spectrum": pd.DataFrame(spectrum), "hessian_summary": pd.DataFrame(summary),
              "perturbation": pd.DataFrame(perturb), "training": pd.DataFrame(training_rows)}
    if model == "mlp":  # B1b-mlp's scope: the same BN net trained on (its parameters are as trained)
        tables["frozen_steps"] = trained_on(cfg, seed, bn, carry)
    return tables | ({"projections": pd.DataFrame(projections)} if projections else {})


def top_eigenpairs(net: nn.Module, mode: str, xb, yb, cfg, seed: int, tol: float | None = None,
                   k: int | None = None):
    """The Hessian operator of the mean loss on (xb, yb) and its top ``k`` eigenpairs by Lanczos."""
    op = hessian.model_hessian(net, LOSS, xb, yb, mode=mode)
    # a float32 Krylov basis: half the memory traffic of float64, eigenvalues to ~1e-6 relative
    res = hessian.top_eigenpairs(op.matvec, op.dim, k or cfg.k, tol=cfg.tol if tol is None else tol,
                                 seed=solver_seed(seed), dtype=torch.float32)
    return op, res


def solver_seed(seed: int) -> int:
    """The seed of the eigensolvers' start vectors: one per unit seed, so Lanczos and power
    iteration (B4) start from the same vector on the same operator."""
    return fold_in(seed, "solver-start")


def mean_gradient_overlap(res, net: nn.Module, xb: torch.Tensor, mode: str) -> torch.Tensor:
    """‖Qᵀv_i‖² of each eigenvector, Q a basis of the gradients of the batch means of the logits."""
    return hessian.subspace_overlap(res.vectors, hessian.output_statistic_gradients(net, xb, mode, 1))


def spectrum_rows(key: dict, res, overlap) -> list[dict]:
    return [key | dict(index=i + 1, eigenvalue=float(res.values[i]), residual=float(res.residuals[i]),
                       overlap=float(overlap[i])) for i in range(len(res.values))]


def init_spectra(cfg, model: str, seed: int) -> list[dict]:
    """The spectra at initialisation, for the figures: no BN and BN (frozen BN at init differs
    from BN only by running statistics of an untrained net, and is not drawn)."""
    xb, yb = models.hessian_batch(model, cfg, seed)
    rows = []
    for variant, bn in (("no_bn", False), ("bn", True)):
        net = models.build(model, bn, cfg, seed)
        _, res = top_eigenpairs(net, "train", xb, yb, cfg, seed, tol=LOOSE_TOL)
        overlap = mean_gradient_overlap(res, net, xb, "train")
        rows += spectrum_rows(dict(model=model, state="init", variant=variant, seed=seed), res, overlap)
    return rows


def projected_lambda_max(op, net: nn.Module, mode: str, xb: torch.Tensor, seed: int) -> dict:
    """λmax with the 10 mean-logit gradients, and with the 30 mean/variance/skew gradients,
    projected off (Page: the top curvature lives in that span)."""
    row = {}
    for moments in (1, 3):
        g = hessian.output_statistic_gradients(net, xb, mode, moments)
        sub = hessian.top_eigenpairs(hessian.project_out(op.matvec, g), op.dim, 1, tol=LOOSE_TOL,
                                     seed=solver_seed(seed))
        row |= {f"lambda_max_without_{10 * moments}": float(sub.values[0]),
                f"matvecs_without_{10 * moments}": sub.matvecs}
    return row


def power_unit(cfg, model: str, variant: str, seed: int) -> dict[str, pd.DataFrame]:
    """B4 on one seed and one variant: power iteration (the lecture's method) and Lanczos on
    the same operator, each for the top 3, with the products each needed."""
    x_train = models.dataset(cfg.dataset, model, cfg.conv_pool)[0]
    xb, yb = models.hessian_batch(model, cfg, seed)
    net, _ = models.trained(model, variant != "no_bn", cfg, seed)
    net, mode = (models.frozen(net, x_train), "eval") if variant == "frozen_bn" else (net, "train")
    op, res = top_eigenpairs(net, mode, xb, yb, cfg, seed, k=K_POWER)
    pw = power_eigenpairs(op, cfg, seed)
    agreement = hessian.subspace_overlap(pw.vectors, res.vectors[:, :K_POWER])
    rel = (pw.values - res.values[:K_POWER]).abs() / res.values[:K_POWER].abs()
    key = dict(model=model, state="trained", variant=variant, seed=seed)
    rows = [key | dict(method="lanczos", k=K_POWER, tol=cfg.tol, matvecs=res.matvecs, converged=res.converged,
                       max_relative_difference=0.0, mean_vector_overlap=1.0),
            key | dict(method="power", k=K_POWER, tol=cfg.power_tol, matvecs=pw.matvecs, converged=pw.converged,
                       max_relative_difference=float(rel.max()), mean_vector_overlap=float(agreement.mean()))]
    return {"solvers": pd.DataFrame(rows)}


def power_eigenpairs(op, cfg, seed: int):
    """The top ``K_POWER`` eigenpairs by power iteration with deflation (the lecture's method)."""
    return hessian.top_eigenpairs(op.matvec, op.dim, K_POWER, method="power", tol=cfg.power_tol,
                                  seed=solver_seed(seed), max_iter=cfg.power_max_iter)


# --- B5 across conv widths, B1b-mlp across training steps (no Hessian for B5) -------------------

def width_label(channels) -> str:
    """A conv width as the scope strip names it: "32-64-128-256"."""
    return "-".join(map(str, channels))


def width_unit(cfg, channels: tuple[int, ...], seed: int) -> dict[str, pd.DataFrame]:
    """B5 on the conv net at other channel widths: train the no-BN and the BN net of a seed as
    the Hessian units do (same steps, lr, batches), then Page's perturbations; no Hessian."""
    wide = dataclasses.replace(cfg, channels=tuple(channels))
    plain, bn, training_rows = models.trained_pair("conv", wide, seed)
    x_test = models.dataset(cfg.dataset, "conv", cfg.conv_pool)[2][: cfg.perturb_inputs]
    label = dict(width=width_label(channels))
    perturb = [row | label for variant, net in (("no_bn", plain), ("bn", bn))
               for row in perturbation_study("conv", variant, seed, net, "train", x_test)]
    return {"perturbation_width": pd.DataFrame(perturb),
            "training_width": pd.DataFrame([row | label for row in training_rows])}


def steps_unit(cfg, seed: int) -> dict[str, pd.DataFrame]:
    """B1b-mlp at more training steps, on its own: the seed's BN MLP trained for
    ``train_steps`` as the Hessian unit trains it, then trained on (:func:`trained_on`). The
    MLP's Hessian units do this themselves, on the net they have just trained, so the default
    run trains those first steps once; this stand-alone form is what the tests compare with."""
    carry: dict = {}
    net, _ = models.trained("mlp", True, cfg, seed, carry)
    return {"frozen_steps": trained_on(cfg, seed, net, carry)}


def trained_on(cfg, seed: int, net: nn.Module, carry: dict) -> pd.DataFrame:
    """The seed's BN MLP, already trained ``train_steps`` steps (``carry``: its batch stream,
    momentum and losses, from :func:`models.trained`), trained on in the same run (the batch
    stream continued, momentum carried), frozen and decomposed at each count of ``steps_sweep``."""
    x, y = models.dataset(cfg.dataset, "mlp", cfg.conv_pool)[:2]
    xb, yb = models.hessian_batch("mlp", cfg, seed)
    params = list(net.parameters())
    done, rows, losses = cfg.train_steps, [], carry["losses"]
    for target in sorted(s for s in cfg.steps_sweep if s >= cfg.train_steps):
        if target > done:
            net.train()
            losses = training.train(params, lambda idx: LOSS(net(x[idx]), y[idx]),
                                    training.random_batches(len(y), cfg.batch_size, target - done, carry["batches"]),
                                    cfg.train_lr, models.MOMENTUM, velocity=carry["velocity"])
            done = target
        frozen = models.frozen(net, x)
        _, res = top_eigenpairs(frozen, "eval", xb, yb, cfg, seed)
        overlap = mean_gradient_overlap(res, frozen, xb, "eval")
        rows += [dict(model="mlp", variant="frozen_bn", seed=seed, steps=target, last_loss=float(np.mean(losses[-10:])))
                 | row for row in spectrum_rows({}, res, overlap)]
    return pd.DataFrame(rows)


# --- perturbations ---------------------------------------------------------------------------

def perturbation_study(model: str, variant: str, seed: int, net: nn.Module, mode: str, x: torch.Tensor) -> list[dict]:
    """Page's construction: a random direction and, per class k, the normalised gradient of
    the batch mean of logit k, each of norm 1% of ‖θ‖."""
    g = stream(seed, "random-direction")  # the same direction for no BN and BN where their sizes agree
    theta = hessian.flat_parameters(net)
    size = PERTURBATION * float(theta.norm())

    def predict(vector: torch.Tensor) -> torch.Tensor:
        hessian.set_flat_parameters_(net, vector)
        with torch.no_grad(), hessian.frozen_state(net, mode):
            return net(x).argmax(1)

    base = predict(theta)
    key = dict(model=model, variant=variant, seed=seed)
    direction = torch.randn(theta.numel(), generator=g)
    moved = predict(theta + size * direction / direction.norm())
    rows = [key | dict(kind="random", target=k, fraction_chosen=float((moved == k).float().mean()),
                       fraction_unchanged=float((moved == base).float().mean())) for k in range(10)]
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

def learning_rates(cfg) -> list[float]:
    return [cfg.lr_base * math.sqrt(2) ** i for i in range(cfg.lr_grid)]


def is_stable(losses: list[float], steps: int) -> bool:
    """Declared before the run: all steps done (never non-finite, never above 10× the
    initial loss), and the mean loss of the last 10 steps at most half the initial loss."""
    if len(losses) < steps or not all(math.isfinite(v) for v in losses):
        return False
    return float(np.mean(losses[-10:])) <= 0.5 * losses[0]


def lr_stress(cfg, seed: int) -> list[dict]:
    """B6: plain SGD at every rate of the grid, no BN and BN, from the same init and batches."""
    x, y = models.dataset(cfg.dataset, "small", cfg.conv_pool)[:2]
    rows = []
    for variant, bn in (("no_bn", False), ("bn", True)):
        for lr in learning_rates(cfg):
            net = models.build("small", bn, cfg, seed)
            losses = models.train(net, x, y, cfg, stream(seed, "lr-stress", "batches"), cfg.lr_steps, lr,
                                  momentum=0.0, diverged=DIVERGED)
            final = float(np.mean(losses[-10:])) if len(losses) == cfg.lr_steps else math.inf
            rows.append(dict(variant=variant, seed=seed, lr=lr, initial_loss=losses[0], final_loss=final,
                             steps=len(losses), stable=is_stable(losses, cfg.lr_steps)))
    return rows


def santurkar(cfg, seed: int) -> list[dict]:
    """B7: plain SGD, and every ``santurkar_every`` steps, before the step, the landscape along
    the current batch's gradient."""
    x, y = models.dataset(cfg.dataset, "small", cfg.conv_pool)[:2]
    rows: list[dict] = []
    for variant, bn in (("no_bn", False), ("bn", True)):
        net = models.build("small", bn, cfg, seed)
        steps = itertools.count()

        def measured_loss(idx, net=net, variant=variant, steps=steps):
            xb, yb = x[idx], y[idx]
            step = next(steps)
            if step % cfg.santurkar_every == 0:
                rows.extend(landscape_along_gradient(net, xb, yb, cfg.santurkar_lr, variant, seed, step))
            net.train()
            return LOSS(net(xb), yb)

        batches = training.random_batches(len(y), cfg.batch_size, cfg.santurkar_steps,
                                          stream(seed, "santurkar", "batches"))
        training.train(list(net.parameters()), measured_loss, batches, cfg.santurkar_lr)
    return rows


def landscape_along_gradient(net, x, y, lr, variant, seed, step) -> list[dict]:
    """Loss, gradient change and effective β at θ − ηg for η = lr × ``ETA_FACTORS``."""
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
