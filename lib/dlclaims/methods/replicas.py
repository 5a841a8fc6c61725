"""Many small networks trained at once: a replicate dimension with per-replicate hyperparameters.

A learning-rate grid (or a random search) is R independent training runs of the same small
MLP. Here they run as ONE tensor program: every weight has a leading replicate axis
(``W1: [R, in, hidden]``), the forward pass is a batched matmul, the loss is summed over
replicates (so autograd returns each replicate's own gradient: replicates never mix), and
the update rules of :mod:`dlclaims.optim` take per-replicate tensors ``lr: [R, 1, 1]``.
Replicates share the data stream (the same minibatch indices: a paired design across
learning rates); per replicate they may differ in learning rate, momentum, init gain,
width (hidden units beyond a replicate's width are masked to zero, which is exactly the
narrower network) and batch size (a replicate of batch size b uses the first b rows of
each drawn batch).

``make bench`` (tests/test_bench_adaptive.py) compares this with the alternatives: one
model per run with ``torch.optim`` (what worker processes would each run) and
``torch.func.vmap`` over stacked parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from dlclaims.methods import optim

Tensor = torch.Tensor
OPTIMISERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam", "adam_uncorrected")


@dataclass
class Replicates:
    """Per-replicate settings, each a tensor of shape (R,)."""

    lr: Tensor
    momentum: Tensor | None = None
    width: Tensor | None = None  # hidden units used (≤ the allocated hidden size)
    batch: Tensor | None = None  # rows of each drawn batch used (≤ the drawn batch size)

    @property
    def n(self) -> int:
        return self.lr.shape[0]


def init_mlp(reps: int, sizes: tuple[int, ...], generator: torch.Generator, gain: Tensor | None = None,
             shared: bool = True, dtype=torch.float32) -> list[Tensor]:
    """[W1, b1, W2, b2, ...] with a leading replicate axis; He normal hidden layers, LeCun output,
    zero biases, times a per-replicate ``gain``. ``shared``: one draw copied to every replicate
    (a learning-rate grid); else an independent draw per replicate (a random search)."""
    params = []
    draws = 1 if shared else reps
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        std = math.sqrt((2.0 if i < len(sizes) - 2 else 1.0) / fan_in)
        w = torch.randn(draws, fan_in, fan_out, generator=generator, dtype=dtype) * std
        w = w.expand(reps, -1, -1).clone()
        if gain is not None:
            w = w * gain.to(dtype)[:, None, None]
        params += [w, torch.zeros(reps, 1, fan_out, dtype=dtype)]
    return params


def forward(params: list[Tensor], x: Tensor, mask: Tensor | None = None) -> Tensor:
    """Logits [R, B, classes] for inputs x [B, in] (shared) or [R, B, in]; ReLU hidden layers."""
    h = x
    n_layers = len(params) // 2
    for i in range(n_layers):
        h = torch.matmul(h, params[2 * i]) + params[2 * i + 1]
        if i < n_layers - 1:
            h = torch.relu(h)
            if mask is not None:
                h = h * mask
    return h


def replicate_losses(logits: Tensor, y: Tensor, row_weights: Tensor | None = None) -> Tensor:
    """Cross-entropy per replicate [R] for labels y [B] (shared) or [R, B] (each replicate its own):
    mean over the batch, or weighted by ``row_weights`` [R, B]."""
    r, b, c = logits.shape
    labels = y.reshape(r * b) if y.dim() == 2 else y.repeat(r)
    ce = F.cross_entropy(logits.reshape(r * b, c), labels, reduction="none").reshape(r, b)
    if row_weights is None:
        return ce.mean(1)
    return (ce * row_weights).sum(1)


class Trainer:
    """One optimiser over the replicate axis, built on the step functions of :mod:`optim`."""

    def __init__(self, name: str, params: list[Tensor], reps: Replicates, rho1: float = 0.9,
                 rho2: float = 0.999, rho: float = 0.9, eps: float = 1e-8):
        if name not in OPTIMISERS:
            raise ValueError(f"unknown optimiser '{name}'; choose from {', '.join(OPTIMISERS)}")
        self.name, self.rho1, self.rho2, self.rho, self.eps = name, rho1, rho2, rho, eps
        self.lr = reps.lr.to(params[0].dtype)[:, None, None]
        self.mom = None if reps.momentum is None else reps.momentum.to(params[0].dtype)[:, None, None]
        if name == "momentum" and self.mom is None:
            self.mom = torch.full_like(self.lr, 0.9)
        start = {"sgd": lambda p: p, "momentum": optim.start_velocity, "adagrad": optim.start_accumulator,
                 "rmsprop": optim.start_accumulator}.get(name, optim.start_moments)
        self.states = [start(p.detach()) for p in params]

    @property
    def params(self) -> list[Tensor]:
        return [s if torch.is_tensor(s) else s[0] for s in self.states]

    def step(self, grads: list[Tensor]) -> None:
        new = []
        for state, g in zip(self.states, grads):
            grad = (lambda _x, g=g: g)
            if self.name == "sgd":
                new.append(optim.gd_step(state, grad, self.lr))
            elif self.name == "momentum":
                new.append(optim.momentum_step(state, grad, self.lr, self.mom))
            elif self.name == "adagrad":
                new.append(optim.adagrad_step(state, grad, self.lr, eps=self.eps))
            elif self.name == "rmsprop":
                new.append(optim.rmsprop_step(state, grad, self.lr, rho=self.rho, eps=self.eps))
            else:
                new.append(optim.adam_step(state, grad, self.lr, self.rho1, self.rho2, self.eps,
                                           bias_correction=self.name == "adam"))
        self.states = new


def hidden_mask(reps: Replicates, hidden: int, dtype=torch.float32) -> Tensor | None:
    if reps.width is None:
        return None
    return (torch.arange(hidden)[None, None, :] < reps.width[:, None, None]).to(dtype)


def batch_weights(reps: Replicates, batch: int, dtype=torch.float32) -> Tensor | None:
    if reps.batch is None:
        return None
    used = (torch.arange(batch)[None, :] < reps.batch[:, None]).to(dtype)
    return used / reps.batch[:, None].to(dtype)


def train(name: str, params: list[Tensor], reps: Replicates, x: Tensor, y: Tensor, steps: int, batch: int,
          generator: torch.Generator, full_loss_steps: int = 0, loss_rows: int | None = None,
          **kw) -> tuple[list[Tensor], Tensor]:
    """Train R replicates for ``steps`` minibatch steps (indices drawn from ``generator``, shared).

    Returns the final parameters and, for the first ``full_loss_steps`` steps, the training-set
    loss per replicate before each step and after the last one: [full_loss_steps + 1, R] (on the
    first ``loss_rows`` training rows if given).
    """
    x_eval, y_eval = (x, y) if loss_rows is None else (x[:loss_rows], y[:loss_rows])
    trainer = Trainer(name, params, reps, **kw)
    hidden = params[0].shape[-1]
    mask, weights = hidden_mask(reps, hidden, params[0].dtype), batch_weights(reps, batch, params[0].dtype)
    n = x.shape[0]
    order = torch.cat([torch.randperm(n, generator=generator) for _ in range(steps * batch // n + 1)])
    curve = []
    for step in range(steps):
        ps = [p.requires_grad_() for p in trainer.params]
        if step < full_loss_steps:
            with torch.no_grad():
                curve.append(replicate_losses(forward(ps, x_eval, mask), y_eval))
        idx = order[step * batch:(step + 1) * batch]
        loss = replicate_losses(forward(ps, x[idx], mask), y[idx], weights).sum()
        grads = torch.autograd.grad(loss, ps)
        with torch.no_grad():
            trainer.step(list(grads))
    final = [p.detach() for p in trainer.params]
    if full_loss_steps:
        with torch.no_grad():
            curve.append(replicate_losses(forward(final, x_eval, mask), y_eval))
    return final, torch.stack(curve) if curve else torch.empty(0)


def accuracy(params: list[Tensor], x: Tensor, y: Tensor, mask: Tensor | None = None) -> Tensor:
    """Test accuracy per replicate [R] (a replicate with non-finite logits scores as wrong)."""
    with torch.no_grad():
        logits = forward(params, x, mask)
        right = (logits.argmax(-1) == y) & torch.isfinite(logits).all(-1)
    return right.to(torch.float64).mean(1)
