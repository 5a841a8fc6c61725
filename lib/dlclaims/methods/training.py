r"""Training as a fold of one SGD step over batches, with a divergence stop.

One heavy-ball step, the one ``torch.optim.SGD`` takes (dampening 0, not Nesterov):

.. math::  v_{t+1} = \mu v_t + g_t + \lambda \theta_t, \qquad \theta_{t+1} = \theta_t - \eta\, v_{t+1}

(:math:`\mu = 0` is plain SGD). It is written out rather than taken from ``torch.optim`` so
functional parameter lists (no ``nn.Module``) train the same way, and because the optimizer's
first step imports ``torch._dynamo`` (seconds per worker process); tests check it against
``torch.optim.SGD`` to the bit. :func:`train` folds it over a stream of index batches
(:func:`random_batches`: with replacement, a fixed number of steps; :func:`epoch_batches`:
a permutation per epoch), in the manner of cifar10-fast's ``train_epoch``.
"""

from __future__ import annotations

import contextlib
import math
from typing import Callable, Iterable, Iterator, Sequence

import torch
from torch import Tensor


def sgd_step_(params: Sequence[Tensor], grads: Sequence[Tensor], velocity: Sequence[Tensor], lr: float,
              momentum: float = 0.0, weight_decay: float = 0.0) -> None:
    """One in-place heavy-ball step (``torch.optim.SGD``'s): v ← μ v + g + λ θ; θ ← θ − η v."""
    with torch.no_grad():
        for p, g, v in zip(params, grads, velocity):
            if weight_decay:
                g = g.add(p, alpha=weight_decay)
            v.mul_(momentum).add_(g)
            p.add_(v, alpha=-lr)


def random_batches(n: int, batch: int, steps: int, generator: torch.Generator) -> Iterator[Tensor]:
    """``steps`` batches of ``batch`` indices drawn with replacement from ``range(n)``."""
    for _ in range(steps):
        yield torch.randint(n, (batch,), generator=generator, device=generator.device)


def epoch_batches(n: int, batch: int, generator: torch.Generator) -> Iterator[Tensor]:
    """One epoch: a permutation of ``range(n)`` cut into full batches (the remainder dropped)."""
    order = torch.randperm(n, generator=generator, device=generator.device)
    for start in range(0, n - batch + 1, batch):
        yield order[start:start + batch]


def train(params: Sequence[Tensor], loss_on: Callable[[Tensor], Tensor], batches: Iterable[Tensor], lr: float,
          momentum: float = 0.0, weight_decay: float = 0.0, diverged: float = math.inf,
          velocity: Sequence[Tensor] | None = None) -> list[float]:
    """Fold :func:`sgd_step_` over ``batches``; return the loss before every step taken.

    ``loss_on(indices)`` is the mini-batch loss (the model in whatever mode the caller set).
    Stops early, before stepping, once a loss is not finite or exceeds ``diverged`` × the first
    one. ``velocity`` carries momentum across calls (e.g. epoch by epoch); by default it
    starts at zero, as ``torch.optim.SGD``'s does.
    """
    params = list(params)
    velocity = [torch.zeros_like(p) for p in params] if velocity is None else velocity
    losses: list[float] = []
    for idx in batches:
        loss = loss_on(idx)
        losses.append(loss.item())
        if not math.isfinite(losses[-1]) or losses[-1] > diverged * losses[0]:
            break
        grads = torch.autograd.grad(loss, params)
        sgd_step_(params, grads, velocity, lr, momentum, weight_decay)
    return losses


@contextlib.contextmanager
def flushed_denormals() -> Iterator[None]:
    """Flush float32 denormals (|x| < 1.2e-38) to zero for the block, then restore torch's default.
    Nets that saturate (softplus with a large β) or interpolate a few labels drive activations,
    gradients and momentum buffers into that range, where x86 arithmetic is tens of times slower;
    values that small change no prediction. The flag is the calling thread's, and the runner's
    workers compute on one thread."""
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
