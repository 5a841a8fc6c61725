"""bn-hessian's data, networks and partial training. The no-BN and the BN net of a seed start
from the same weights and see the same batches: BN vs no BN is a paired contrast per seed."""

from __future__ import annotations

import copy
import math
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlclaims.methods import data, nets, training
from dlclaims.rng import stream

MODELS = ("conv", "mlp")
MODEL_LABELS = {"conv": "conv net", "mlp": "6×256 MLP"}  # as the claims name them
VARIANTS = ("no_bn", "bn", "frozen_bn")
LABELS = {"no_bn": "no BN", "bn": "BN (train mode)", "frozen_bn": "frozen BN (eval mode)"}
LOSS = nn.CrossEntropyLoss()
MOMENTUM = 0.9  # the partial training's heavy ball, the same for every variant
CHUNK = 500  # training digits per forward pass when the frozen BN statistics are refreshed


@lru_cache(maxsize=None)
def dataset(name: str, model: str, pool: int) -> tuple[torch.Tensor, ...]:
    """(x_train, y_train, x_test, y_test) shaped for ``model``: for the conv net, images
    standardised by the training set's pixel mean and standard deviation (as Page does for
    CIFAR-10), then average-pooled by ``pool``; the MLPs keep pixels in [0, 1]."""
    split = data.split(name, seed=0)
    if model != "conv":
        return split.x_train, split.y_train, split.x_test, split.y_test
    side = int(round(math.sqrt(split.n_features)))
    split = split.standardised()

    def shaped(x: torch.Tensor) -> torch.Tensor:
        x = x.view(-1, 1, side, side)
        return F.avg_pool2d(x, pool) if pool > 1 else x

    return shaped(split.x_train), split.y_train, shaped(split.x_test), split.y_test


def build(model: str, batch_norm: bool, cfg, seed: int) -> nn.Module:
    """``model`` ("conv", "mlp", or "small": B6 and B7's MLP); the same seed draws the same
    weights for the BN and the no-BN network (streams named by the model, not the variant)."""
    x_train = dataset(cfg.dataset, model, cfg.conv_pool)[0]
    if model == "conv":
        return nets.conv_net(cfg.channels, image_size=x_train.shape[-1], batch_norm=batch_norm,
                             bn_affine=cfg.bn_affine, logit_scale=cfg.conv_logit_scale,
                             generator=stream(seed, model, "init"))
    hidden = cfg.mlp_hidden if model == "mlp" else cfg.small_hidden
    net = nets.mlp([x_train.shape[1], *hidden, 10], activation="softplus", batch_norm=batch_norm,
                   bn_affine=cfg.bn_affine)
    nets.he_uniform_(net, stream(seed, model, "init"))
    # the classifier from its own stream: the BN net has no hidden biases to draw before it
    nets.reseed_(net[-1], stream(seed, model, "classifier"))
    return net


def train(net: nn.Module, x, y, cfg, batches: torch.Generator, steps: int, lr: float, momentum: float = MOMENTUM,
          diverged: float = math.inf, velocity: list[torch.Tensor] | None = None) -> list[float]:
    """SGD in train mode (``methods.training``) on ``steps`` batches drawn from the generator
    ``batches``; the loss before every step; stops early once it exceeds ``diverged`` × the
    first or is not finite. ``velocity`` carries the momentum into a later call."""
    net.train()
    batches = training.random_batches(len(y), cfg.batch_size, steps, batches)
    return training.train(list(net.parameters()), lambda idx: LOSS(net(x[idx]), y[idx]), batches, lr, momentum,
                          diverged=diverged, velocity=velocity)


def trained(model: str, batch_norm: bool, cfg, seed: int, carry: dict | None = None) -> tuple[nn.Module, list[float]]:
    """One net of a seed after partial training, and its loss at every step; the no-BN and
    the BN net of a seed see the same batches. ``carry`` (a dict) receives the batch stream,
    the momentum and the losses, so that training can go on from where it stopped."""
    x, y = dataset(cfg.dataset, model, cfg.conv_pool)[:2]
    net = build(model, batch_norm, cfg, seed)
    steps, lr = (cfg.conv_steps, cfg.conv_lr) if model == "conv" else (cfg.train_steps, cfg.train_lr)
    batches, velocity = stream(seed, model, "batches"), [torch.zeros_like(p) for p in net.parameters()]
    losses = train(net, x, y, cfg, batches, steps, lr, velocity=velocity)
    if carry is not None:
        carry.update(batches=batches, velocity=velocity, losses=losses)
    return net, losses


def trained_pair(model: str, cfg, seed: int, carry: dict | None = None) -> tuple[nn.Module, nn.Module, list[dict]]:
    """The no-BN and BN nets of a seed after partial training, and their loss curves
    (every 10th step, the last step, and the last-10-step mean as step -1); ``carry``
    receives the BN net's batch stream, momentum and losses (:func:`trained`)."""
    nets_, rows = [], []
    for variant, bn in (("no_bn", False), ("bn", True)):
        net, losses = trained(model, bn, cfg, seed, carry if bn else None)
        rows += [dict(model=model, variant=variant, seed=seed, step=i, loss=v) for i, v in enumerate(losses)
                 if i % 10 == 0 or i == len(losses) - 1]
        rows.append(dict(model=model, variant=variant, seed=seed, step=-1, loss=float(np.mean(losses[-10:]))))
        nets_.append(net)
    return nets_[0], nets_[1], rows


def frozen(bn: nn.Module, x_train: torch.Tensor) -> nn.Module:
    """A copy of the BN net with running statistics refreshed on the training set, in eval mode."""
    return nets.refresh_bn_statistics_(copy.deepcopy(bn), x_train, CHUNK)


def variants_of(plain: nn.Module, bn: nn.Module, x_train: torch.Tensor) -> dict[str, tuple[nn.Module, str]]:
    """Each variant as (network, mode the Hessian and predictions use)."""
    return {"no_bn": (plain, "train"), "bn": (bn, "train"), "frozen_bn": (frozen(bn, x_train), "eval")}


def hessian_batch(model: str, cfg, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed batch of training digits whose mean loss the Hessian is of (the same digits
    for both models and every variant of a seed)."""
    x, y = dataset(cfg.dataset, model, cfg.conv_pool)[:2]
    order = torch.randperm(len(y), generator=stream(seed, "hessian-batch"))[: cfg.hessian_batch]
    return x[order], y[order]
