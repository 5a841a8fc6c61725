"""The training rows (G7-G10, G12, G13, G15): MLPs on Greydanus's MNIST-1D (4000 train / 1000
test, off the accuracy ceiling) with numpy forward and backward passes
(dlclaims.methods.numpy_mlp), seeds as the replicates, every variant of a seed paired."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dlclaims.methods import data
from dlclaims.methods.numpy_mlp import MLP, accuracy, sgd_epochs, train_mode_accuracy
from dlclaims.rng import np_stream

from .deep_net import deep_gradients

if TYPE_CHECKING:
    from . import Config

SWEEP_NORMS = ("bn", "gn")  # G7 compares these two
NORM_LABELS = {"bn": "BatchNorm", "gn": "GroupNorm (8 groups)", "ln": "LayerNorm", "none": "no normalisation",
               "in": "InstanceNorm"}
HIDDEN = (128, 128, 128)
REFERENCE_BATCH = 32  # the batch the sweep's drops are measured from, and the lr's reference
BASE_LR = 0.05  # at B = 32, scaled linearly with B (lr_for)
TRAIN_BATCH = 64  # every training but the sweep
SCALES = (0.1, 0.3, 1.0, 3.0, 10.0)  # G10's init scales, × He (Config.init_scales)
DROPOUT_RATE = 0.5  # G13's headline: the lecture's hidden-unit rate (000); G13b's variance shift is measured at it
WORKS = 0.3  # a training "works" when its held-out accuracy reaches 3× chance (0.1); trained MLPs reach 0.6-0.7
ICS_LR, ICS_BATCH, ICS_WIDTH = 0.1, 128, 100  # G12: Santurkar's plain SGD on a 5-hidden-layer MLP


# --- data ------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def centred(name: str) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test) as numpy float32, centred by the training mean."""
    return data.split(name, seed=0).centred().numpy()


def rngs(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """(init draws, batch order and dropout masks): fresh per call, so every variant of a seed
    starts from the same weights and sees the same batches (a paired design)."""
    return np_stream(seed, "init"), np_stream(seed, "batches")


def lr_for(batch: int) -> float:
    """The linear scaling rule: BASE_LR at the reference batch, proportional to B."""
    return BASE_LR * batch / REFERENCE_BATCH


def train(cfg: Config, seed: int, batch: int, epochs: int, hidden=HIDDEN, lr: float | None = None,
          **net_kw) -> tuple[MLP, bool]:
    x, y, _, _ = centred(cfg.data)
    init_rng, order_rng = rngs(seed)
    net = MLP.init([x.shape[1], *hidden, 10], init_rng, **net_kw)
    ok = sgd_epochs(net, x, y, batch, lr_for(batch) if lr is None else lr, epochs, order_rng)
    return net, ok


def held_out_accuracy(cfg: Config, net: MLP) -> float:
    _, _, xt, yt = centred(cfg.data)
    return accuracy(net, xt, yt)


# --- training rows ---------------------------------------------------------------------------

def sweep_unit(cfg: Config, seed: int, norm: str) -> dict[str, pd.DataFrame]:
    """G7: one normalisation at every batch size, same seed (init and batch order)."""
    _, _, xt, yt = centred(cfg.data)
    rows = []
    for batch in cfg.batches:
        net, ok = train(cfg, seed, batch, cfg.sweep_epochs, norm=norm)
        train_mode = (train_mode_accuracy(net, xt, yt, batch, np_stream(seed, "train-mode-eval"))
                      if norm == "bn" else math.nan)
        rows.append(dict(seed=seed, norm=norm, batch=batch, lr=lr_for(batch), test_acc=held_out_accuracy(cfg, net),
                         train_mode_acc=train_mode, diverged=not ok))
    return {"sweep": pd.DataFrame(rows)}


def linear_regime_r2(net: MLP, x: np.ndarray, train: bool) -> float:
    """Mean over hidden units and layers of R² of σ(u) regressed on u (u: the activation's input)."""
    _, caches = net.forward(x, train=train, update=False)
    r2 = []
    for c in caches[:-1]:
        u, a = c["u"].astype(np.float64), c["a"].astype(np.float64)
        uc, ac = u - u.mean(0), a - a.mean(0)
        corr = (uc * ac).sum(0) / np.sqrt((uc * uc).sum(0) * (ac * ac).sum(0))
        r2.append(np.nanmean(corr ** 2))
    return float(np.mean(r2))


def mlp_unit(cfg: Config, seed: int) -> dict[str, pd.DataFrame]:
    """G8 (sigmoid), G9 (placement), G15 (LayerNorm) at B = 64, one seed."""
    x, *_ = centred(cfg.data)
    sigmoid = []
    for variant, kw in (("bn_affine", dict(norm="bn")), ("bn_plain", dict(norm="bn", affine=False)),
                        ("none", dict(norm="none"))):
        init_rng, _ = rngs(seed)
        r2_init = linear_regime_r2(MLP.init([x.shape[1], *HIDDEN, 10], init_rng, activation="sigmoid", **kw), x, True)
        net, _ = train(cfg, seed, TRAIN_BATCH, cfg.epochs, activation="sigmoid", **kw)
        gammas = [np.abs(n.gamma).mean() for n in net.norms] if variant == "bn_affine" else [math.nan]
        sigmoid.append(dict(seed=seed, variant=variant, r2_init=r2_init, r2_trained=linear_regime_r2(net, x, False),
                            mean_abs_gamma=float(np.mean(gammas)), test_acc=held_out_accuracy(cfg, net)))
    relu = {name: held_out_accuracy(cfg, train(cfg, seed, TRAIN_BATCH, cfg.epochs, **kw)[0])
            for name, kw in (("bn", dict(norm="bn")), ("after", dict(norm="bn", placement="after")),
                             ("ln", dict(norm="ln")), ("none", dict(norm="none")))}
    placement = [dict(seed=seed, placement="before", test_acc=relu["bn"]),
                 dict(seed=seed, placement="after", test_acc=relu["after"])]
    layernorm = [dict(seed=seed, norm=k, test_acc=relu[k]) for k in ("ln", "bn", "none")]
    return {"sigmoid": pd.DataFrame(sigmoid), "placement": pd.DataFrame(placement),
            "layernorm": pd.DataFrame(layernorm)}


def init_scale_unit(cfg: Config, seed: int) -> dict[str, pd.DataFrame]:
    """G10: a deep MLP (cfg.init_layers hidden layers) at five init scales, with and without BN."""
    rows = []
    for norm in ("bn", "none"):
        for scale in cfg.init_scales:
            net, ok = train(cfg, seed, TRAIN_BATCH, cfg.init_epochs, hidden=(cfg.init_width,) * cfg.init_layers,
                            lr=cfg.init_lr, norm=norm, scale=scale)
            rows.append(dict(seed=seed, norm=norm, scale=scale, test_acc=held_out_accuracy(cfg, net), diverged=not ok))
    return {"init_scale": pd.DataFrame(rows)}


def ics_unit(cfg: Config, seed: int) -> dict[str, pd.DataFrame]:
    """G12: Santurkar's ICS along plain SGD; G11: gradient norms by layer of deep nets."""
    x, y, _, _ = centred(cfg.data)
    rows = []
    for norm in ("bn", "none"):
        init_rng, order_rng = rngs(seed)
        net = MLP.init([x.shape[1], *[ICS_WIDTH] * 5, 10], init_rng, norm=norm)
        n_batches = len(y) // ICS_BATCH
        order = order_rng.permutation(len(y))
        for step in range(cfg.ics_steps + 1):
            k = step % n_batches
            if k == 0:
                order = order_rng.permutation(len(y))
            idx = order[k * ICS_BATCH:(k + 1) * ICS_BATCH]
            if step % cfg.ics_every == 0 and step < cfg.ics_steps:
                rows += [dict(seed=seed, norm=norm, step=step, layer=layer, ics=rel, ics_abs=absolute)
                         for layer, (rel, absolute) in internal_covariate_shift(net, x[idx], y[idx], ICS_LR).items()]
            _, grads = net.loss_and_grads(x[idx], y[idx])
            net.set_parameters([p - ICS_LR * gr for p, gr in zip(net.parameters(), grads)])
    return {"ics": pd.DataFrame(rows), **deep_gradients(cfg, seed, x, y)}


def internal_covariate_shift(net: MLP, x, y, lr: float) -> dict[int, tuple[float, float]]:
    """(‖G_k − G′_k‖/‖G_k‖, ‖G_k − G′_k‖) for each weight layer k ≥ 2 (Santurkar et al. 2018,
    §2.2, define the second: the ℓ2 distance of the gradients)."""
    params = net.parameters()
    _, grads = net.loss_and_grads(x, y, update=False)
    stepped = [p - lr * gr for p, gr in zip(params, grads)]
    owner = parameter_layers(net)
    out = {}
    for k in range(1, len(net.weights)):
        mixed = net.copy()
        mixed.set_parameters([s if owner[i] < k else p for i, (p, s) in enumerate(zip(params, stepped))])
        _, moved = mixed.loss_and_grads(x, y, update=False)
        distance = float(np.linalg.norm(grads[k] - moved[k]))
        out[k + 1] = (distance / float(np.linalg.norm(grads[k])), distance)
    return out


def parameter_layers(net: MLP) -> list[int]:
    """The block index (0-based weight layer) of each entry of ``net.parameters()``."""
    k = len(net.weights)
    owner = list(range(k)) * 2
    for i, n in enumerate(net.norms):
        if n.kind != "none" and n.affine:
            owner += [i, i]
    return owner


def dropout_unit(cfg: Config, seed: int) -> dict[str, pd.DataFrame]:
    """G13: BN without dropout and with dropout at each rate p, and (G13d, the positive control)
    the same net without BN, likewise; every training of a seed from the same weights and
    batches. The variance shift of the second BN, whose input is the dropped first block, at
    the headline rate."""
    x, *_ = centred(cfg.data)
    acc, shift = [], []
    for norm in ("bn", "none"):
        for dropout in (0.0, *cfg.dropout_rates):
            net, _ = train(cfg, seed, TRAIN_BATCH, cfg.epochs, hidden=(cfg.dropout_width,) * 2, norm=norm,
                           dropout=dropout)
            variant = f"{norm}_dropout" if dropout else norm
            acc.append(dict(seed=seed, variant=variant, p=dropout, test_acc=held_out_accuracy(cfg, net)))
            if norm == "bn" and dropout in (0.0, DROPOUT_RATE):
                shift.append(variance_shift_row(net, x, seed, variant))
    return {"dropout": pd.DataFrame(acc), "variance_shift": pd.DataFrame(shift)}


def variance_shift_row(net: MLP, x: np.ndarray, seed: int, variant: str) -> dict:
    """Li et al.'s variance shift of the second BN: its running variance over the variance its
    input has at evaluation (no dropout) on the training set, mean over units."""
    _, caches = net.forward(x, train=False)
    eval_var = caches[1]["norm_in"].astype(np.float64).var(0)
    running = net.norms[1].running_var.astype(np.float64)
    return dict(seed=seed, variant=variant, running_var=float(running.mean()), eval_var=float(eval_var.mean()),
                ratio=float(np.mean(running / eval_var)))
