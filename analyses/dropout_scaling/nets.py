"""dropout-scaling's net: a ReLU MLP with classic dropout (masks in training, × p at test), its
init from the seed's stream and its SGD training, evaluated along the way."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from dlclaims import rng
from dlclaims.methods import data, training
from dlclaims.methods import dropout as dr

# --- one MLP: params[l] = (W (in, out), b (out,)) ----------------------------------------------

Params = list[tuple[torch.Tensor, torch.Tensor]]


def init_params(sizes: list[int], seed: int, device: str = "cpu") -> Params:
    """PyTorch's default init U(±1/√fan_in) from the seed's "init" stream: both variants start here."""
    g = rng.stream(seed, "init")
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / math.sqrt(n_in)
        w = torch.empty(n_in, n_out).uniform_(-bound, bound, generator=g)
        b = torch.empty(1, n_out).uniform_(-bound, bound, generator=g).view(-1)
        params.append((w.to(device).requires_grad_(), b.to(device).requires_grad_()))
    return params


def keeps_of(cfg, variant: str, depth: int) -> list[float]:
    """The keep probability of each layer's input: the config's for dropout nets, 1 for controls."""
    if variant == "control":
        return [1.0] * depth
    return [cfg.keep_input] + [cfg.keep_hidden] * (depth - 1)


def forward(params: Params, x: torch.Tensor, keeps: list[float], how: str,
            generator: torch.Generator | None = None, record: list | None = None) -> torch.Tensor:
    """Logits of a classic-dropout net.

    ``how``: "train" (Bernoulli masks from ``generator``), "scaled" (× p, weight scaling) or
    "unscaled" (full activations). With ``record`` a list, each layer's weighted input
    u = (dropped input) @ W is appended.
    """
    h = x
    for l, ((w, b), keep) in enumerate(zip(params, keeps)):
        if l > 0:
            h = torch.relu(h)
        if keep < 1 and how != "unscaled":
            h = dr.dropout(h, keep, training=how == "train", generator=generator)
        u = h @ w
        if record is not None:
            record.append(u)
        h = u + b
    return h


def scores(logits: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Accuracy and mean NLL."""
    return float((logits.argmax(-1) == y).float().mean()), float(F.cross_entropy(logits, y))


def fit(cfg, split: data.Split, params: Params, keeps: list[float], seed: int, run: str,
        variant: str) -> list[dict]:
    """SGD with momentum on one net, evaluated along the way; the batch order comes from the seed
    alone (shared by the two variants: a paired design), the masks from the seed's "masks" stream."""
    epochs, batch_size = (cfg.epochs, cfg.batch_size) if run == "full" else (cfg.small_epochs, cfg.small_batch_size)
    tensors = [t for wb in params for t in wb]
    velocity = [torch.zeros_like(t) for t in tensors]  # carried across epochs
    order_g = rng.stream(seed, "order", device=cfg.device)
    mask_g = rng.stream(seed, "masks", device=cfg.device)

    def loss_on(idx: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(forward(params, split.x_train[idx], keeps, "train", mask_g), split.y_train[idx])

    every = max(1, epochs // cfg.evaluations)
    rows: list[dict] = []
    for epoch in range(1, epochs + 1):
        batches = training.epoch_batches(len(split.y_train), batch_size, order_g)
        training.train(tensors, loss_on, batches, cfg.lr, cfg.momentum, velocity=velocity)
        if epoch % every == 0 or epoch == epochs:
            with torch.no_grad():
                for part, x, y in (("train", split.x_train, split.y_train), ("test", split.x_test, split.y_test)):
                    acc, nll = scores(forward(params, x, keeps, "scaled"), y)
                    rows.append(dict(run=run, variant=variant, seed=seed, epoch=epoch, split=part,
                                     accuracy=acc, nll=nll))
    return rows
