"""The training sweeps of activations-init: H6b (a too-large init makes training fail), H9c (normal
against uniform He, test accuracy), H1d (Glorot & Bengio's top-layer saturation in training).

Each sweep trains many small MLPs as one tensor program (the idea of ``methods/replicas.py``, here
with per-replicate batches and any activation): every weight has a leading replicate axis
(``W: [R, in, out]``), a replicate's inputs are its own seed's batch (``x: [R, B, in]``), and the
loss is the sum over replicates of each one's mean cross-entropy, so autograd gives every
replicate its own gradient and replicates never mix (a non-finite replicate stays in its own
slot). Plain SGD, float32 (the precision these nets train in; overflow to inf is the "numerical
difficulty" 001 quotes Goodfellow et al. on)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from dlclaims.methods import data, inits, training
from dlclaims.methods.replicas import replicate_losses
from dlclaims.rng import stream

from . import TOP_SATURATED, Config

Tensor = torch.Tensor
ACT = {"relu": torch.relu, "sigmoid": torch.sigmoid}


def stacked_forward(weights: list[Tensor], biases: list[Tensor] | None, x: Tensor, act: str,
                    keep: list | None = None) -> Tensor:
    """Logits [R, B, 10] of R stacked MLPs (``act`` on every hidden layer) for inputs x [R, B, in];
    ``keep`` (a list) receives every hidden layer's activations."""
    h = x
    for i, w in enumerate(weights):
        h = torch.baddbmm(biases[i], h, w) if biases is not None else torch.bmm(h, w)
        if i < len(weights) - 1:
            h = ACT[act](h)
            if keep is not None:
                keep.append(h)
    return h


def stacked_batches(seeds: list[int], n: int, batch: int, steps: int, name: str) -> Tensor:
    """[steps, R, batch] indices: each replicate's seed draws its own batches (with replacement),
    from a stream shared by every variant of that seed (a paired design)."""
    per_seed = {s: torch.stack(list(training.random_batches(n, batch, steps, stream(s, name)))) for s in set(seeds)}
    return torch.stack([per_seed[s] for s in seeds], dim=1)


def sgd_(params: list[Tensor], grads: tuple[Tensor, ...], lr: float) -> None:
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.sub_(g, alpha=lr)


# --- H6b: a too-large init makes training fail ------------------------------------------------

def failing_unit(cfg: Config, scale: float) -> pd.DataFrame:
    """H6b's runs at one scale s: ``fail_seeds`` bias-free 40-128×20-10 ReLU nets, hidden weights He
    normal × s (one draw per seed, shared by every s: a paired sweep), the head PyTorch's default
    U(±1/√n) unscaled (as H6a); plain SGD at ``fail_lr`` for ``fail_steps`` steps of batch ``batch``.
    A run fails when a loss is not finite or the mean of its last 20 losses is not below its first
    (the complement of H3-stable). Runs stop once every replicate's loss is non-finite."""
    split = data.split("mnist1d", seed=0)
    seeds = list(range(cfg.fail_seeds))
    sizes = [split.n_features] + [cfg.fail_width] * cfg.deep + [10]
    weights = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        draws = []
        for s in seeds:
            gen = stream(s, "h6b-weights", i)
            if i < len(sizes) - 2:
                draws.append(torch.randn((fan_in, fan_out), generator=gen) * math.sqrt(2.0 / fan_in) * scale)
            else:
                draws.append((torch.rand((fan_in, fan_out), generator=gen) * 2 - 1) / math.sqrt(fan_in))
        weights.append(torch.stack(draws).requires_grad_())
    batches = stacked_batches(seeds, len(split.y_train), cfg.batch, cfg.fail_steps, "h6b-batches")
    losses = torch.full((cfg.fail_steps, len(seeds)), math.nan)
    for step, idx in enumerate(batches):
        loss = replicate_losses(stacked_forward(weights, None, split.x_train[idx], "relu"), split.y_train[idx])
        losses[step] = loss.detach()
        if not torch.isfinite(losses[step]).any():
            break
        sgd_(weights, torch.autograd.grad(loss.sum(), weights), cfg.fail_lr)
    rows = []
    for r, s in enumerate(seeds):
        curve = losses[:, r].numpy()
        finite = bool(np.isfinite(curve).all())
        first_bad = int(np.argmin(np.isfinite(curve))) if not finite else cfg.fail_steps
        falls = finite and bool(curve[-20:].mean() < curve[0])
        rows.append(dict(seed=s, scale=float(scale), first_loss=float(curve[0]), finite=finite,
                         steps_finite=first_bad, last_loss=float(curve[-20:].mean()) if finite else math.nan,
                         failed=not falls))
    return pd.DataFrame(rows)


# --- H9c: normal against uniform He ------------------------------------------------------------

def coupled_weights(u: Tensor, fan_in: int, init: str) -> Tensor:
    """A weight matrix of the named init from uniforms u ∈ (0, 1): "he_uniform" U(±√(6/n)),
    "he_normal" N(0, 2/n) by the normal quantile of u, "old" U(±1/√n). Every init of a seed reads the
    same u (common random numbers: each init's marginal is exact, so the expected difference is
    unchanged, while the paired difference loses the draw-to-draw noise)."""
    if init == "he_normal":
        return torch.special.ndtri(u) * math.sqrt(inits.variance("he", fan_in, 0))
    scheme = "he" if init == "he_uniform" else "old"
    return (2 * u - 1) * inits.uniform_bound(scheme, fan_in, 0)


def normal_unit(cfg: Config, depth: int, first_seed: int = 0) -> pd.DataFrame:
    """H9c's runs at one depth: for every seed a 40-128×depth-10 ReLU net with zero biases, every layer
    He normal, He uniform or the old U(±1/√n) from the seed's coupled uniforms; the three inits of a
    seed see the same batches; plain SGD at ``normal_lr`` for ``normal_steps`` steps; test accuracy on
    MNIST-1D's 1000 held-out examples."""
    split = data.split("mnist1d", seed=0)
    base = range(first_seed, first_seed + cfg.train_seeds)
    seeds = [s for s in base for _ in cfg.normal_inits]
    names = [i for _ in base for i in cfg.normal_inits]
    sizes = [split.n_features] + [cfg.normal_width] * depth + [10]
    weights, biases = [], []
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        u = {s: torch.rand((fan_in, fan_out), generator=stream(s, "h9c-weights", depth, layer))
             for s in base}
        u = {s: v.clamp(1e-7, 1 - 1e-7) for s, v in u.items()}  # float32 rand can give 0 (ndtri(0) = −inf)
        weights.append(torch.stack([coupled_weights(u[s], fan_in, i) for s, i in zip(seeds, names)])
                       .requires_grad_())
        biases.append(torch.zeros((len(seeds), 1, fan_out), requires_grad=True))
    params = weights + biases
    for idx in stacked_batches(seeds, len(split.y_train), cfg.batch, cfg.normal_steps, "h9c-batches"):
        loss = replicate_losses(stacked_forward(weights, biases, split.x_train[idx], "relu"), split.y_train[idx])
        sgd_(params, torch.autograd.grad(loss.sum(), params), cfg.normal_lr)
    with torch.no_grad():
        x = split.x_test.expand(len(seeds), -1, -1)
        logits = stacked_forward(weights, biases, x, "relu")
        right = (logits.argmax(-1) == split.y_test) & torch.isfinite(logits).all(-1)
        train_loss = replicate_losses(stacked_forward(weights, biases, split.x_train.expand(len(seeds), -1, -1),
                                                      "relu"), split.y_train.expand(len(seeds), -1))
    return pd.DataFrame(dict(seed=seeds, init=names, depth=depth, test_acc=right.double().mean(1).numpy(),
                             train_loss=train_loss.double().numpy()))


# --- H1d: Glorot & Bengio's top-layer saturation -----------------------------------------------

def saturation_unit(cfg: Config, init: str, lr: float, first_seed: int = 0) -> pd.DataFrame:
    """H1d's runs of one init: for every seed a 40-{sat_width}×{sat_depth}-10 sigmoid net with zero
    biases, every layer old U(±1/√n) or Xavier uniform (Glorot & Bengio's two), plain SGD at
    ``lr`` for ``sat_steps`` steps of batch ``batch``. Recorded at every step, on that step's batch
    before the update: the share of the top hidden layer's outputs (units × examples) below
    TOP_SATURATED, and the loss."""
    split = data.split("mnist1d", seed=0)
    seeds = list(range(first_seed, first_seed + cfg.train_seeds))
    sizes = [split.n_features] + [cfg.sat_width] * cfg.sat_depth + [10]
    weights, biases = [], []
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        bound = inits.uniform_bound("old" if init == "old" else "xavier", fan_in, fan_out)
        weights.append(torch.stack([(torch.rand((fan_in, fan_out), generator=stream(s, "h1d-weights", layer)) * 2 - 1)
                                    * bound for s in seeds]).requires_grad_())
        biases.append(torch.zeros((len(seeds), 1, fan_out), requires_grad=True))
    params = weights + biases
    rows = []
    for step, idx in enumerate(stacked_batches(seeds, len(split.y_train), cfg.batch, cfg.sat_steps, "h1d-batches")):
        hidden: list[Tensor] = []
        loss = replicate_losses(stacked_forward(weights, biases, split.x_train[idx], "sigmoid", hidden),
                                split.y_train[idx])
        share = (hidden[-1].detach() < TOP_SATURATED).double().mean((1, 2)).numpy()
        rows += [dict(seed=s, init=init, lr=lr, step=step, top_saturated=float(share[r]), loss=float(loss[r].detach()))
                 for r, s in enumerate(seeds)]
        sgd_(params, torch.autograd.grad(loss.sum(), params), lr)
    return pd.DataFrame(rows)
