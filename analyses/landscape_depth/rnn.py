"""Cliffs in a tanh RNN on mnist1d read as a length-40 sequence, trained with and without gradient-norm
clipping (I12); every seed, learning rate and clipping rule of one recurrent init in one batched
recurrence (weights stacked along a net axis, ``torch.baddbmm``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from dlclaims import rng
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

if TYPE_CHECKING:
    from . import Config

SPIKE = 2.0                    # I12: a window's mean loss above 2 × the lowest window mean so far is a spike
WINDOW = 10                    # I12: steps averaged per window (mini-batch noise shrinks by √10)


def init_params(hidden: int, rho: float, seeds, copies: int) -> list[torch.Tensor]:
    """Input (1 → hidden), recurrent (hidden → hidden, N(0, ρ²/hidden): spectral radius ≈ ρ by the
    circular law), head (hidden → 10) weights, zero biases; one stack per layer over seeds × copies,
    every copy of a seed the same draw (the copies differ only in lr and clipping: paired)."""
    def draw(shape, name, scale):
        w = torch.stack([torch.randn(*shape, generator=rng.stream(s, "rnn", "init", name)) * scale for s in seeds])
        return w.repeat_interleave(copies, 0)

    n = len(seeds) * copies
    params = [draw((1, hidden), "in", 1.0), draw((hidden, hidden), "rec", rho / math.sqrt(hidden)),
              torch.zeros(n, 1, hidden), draw((hidden, 10), "out", 1 / math.sqrt(hidden)), torch.zeros(n, 1, 10)]
    return [p.requires_grad_() for p in params]


def forward(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """(nets, batch, 40) → (nets, batch, 10): h_t = tanh(x_t w_in + h_{t−1} W + b), logits from h_40."""
    w_in, w_rec, b, w_out, b_out = params
    h = torch.zeros(x.shape[0], x.shape[1], w_rec.shape[-1])
    for t in range(x.shape[2]):
        h = torch.tanh(torch.baddbmm(b + x[:, :, t, None] * w_in, h, w_rec))
    return torch.baddbmm(b_out, h, w_out)


def per_net_loss(params, x, y) -> torch.Tensor:
    out = forward(params, x)
    return F.cross_entropy(out.flatten(0, 1), y.flatten(), reduction="none").view(y.shape).mean(1)


def clip_scale(grads: list[torch.Tensor], threshold: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per net: ‖g‖ over all its parameters and the factor min(1, c/‖g‖) (c = inf: no clipping)."""
    norm = torch.sqrt(sum(g.flatten(1).pow(2).sum(1) for g in grads))
    return norm, torch.clamp(threshold / norm, max=1.0)


def rnn_table(cfg: Config, rho: float, lrs) -> pd.DataFrame:
    """Plain SGD on every (seed, lr, clipping) net of recurrent init ρ, each seed's nets on one batch
    stream; per net and step the mini-batch loss and the raw gradient norm."""
    from dlclaims.methods import data

    split = data.split("mnist1d", test_fraction=0.2, seed=0)
    x, y = split.x_train.float(), split.y_train
    x = (x - x.mean()) / x.std()
    seeds = range(cfg.rnn_seeds)
    combos = [(lr, clip) for lr in lrs for clip in (math.inf, cfg.rnn_clip)]
    params = init_params(cfg.rnn_hidden, rho, seeds, len(combos))
    lr = torch.tensor([c[0] for c in combos] * len(seeds))
    threshold = torch.tensor([c[1] for c in combos] * len(seeds))
    gens = [rng.stream(s, "rnn", "batches") for s in seeds]
    losses, norms = [], []
    for _ in range(cfg.rnn_steps):
        idx = torch.stack([torch.randint(len(y), (cfg.rnn_batch,), generator=g) for g in gens])
        idx = idx.repeat_interleave(len(combos), 0)
        loss = per_net_loss(params, x[idx], y[idx])
        grads = torch.autograd.grad(torch.nan_to_num(loss, nan=0.0, posinf=0.0).sum(), params)
        norm, scale = clip_scale(grads, threshold)
        with torch.no_grad():
            step = (lr * scale).view(-1, 1, 1)
            for p, g in zip(params, grads):
                p.sub_(step * torch.nan_to_num(g, nan=0.0, posinf=0.0, neginf=0.0))
        losses.append(loss.detach())
        norms.append(norm)
    losses, norms = torch.stack(losses, 1).numpy(), torch.stack(norms, 1).numpy()
    rows = []
    for i, (seed, (rate, clip)) in enumerate((s, c) for s in seeds for c in combos):
        rows.append(dict(rho=rho, lr=rate, clipped=bool(np.isfinite(clip)), seed=seed, **run_summary(losses[i], norms[i])))
    return pd.DataFrame(rows)


def run_summary(loss: np.ndarray, norm: np.ndarray) -> dict:
    """Spike: a window mean (WINDOW steps) above SPIKE × the lowest earlier window mean, or a non-finite
    loss; cliff: the largest raw gradient norm over the median; final: the last window's mean loss."""
    finite = bool(np.isfinite(loss).all() and np.isfinite(norm).all())
    windows = loss[: len(loss) // WINDOW * WINDOW].reshape(-1, WINDOW).mean(1)
    lowest = np.minimum.accumulate(windows)
    spikes = int((windows[1:] > SPIKE * lowest[:-1]).sum()) if finite else -1
    return dict(spike=bool(not finite or spikes > 0), spikes=spikes, finite=finite,
                cliff_ratio=float(np.nanmax(norm) / np.nanmedian(norm)) if finite else math.inf,
                median_grad=float(np.nanmedian(norm)), max_grad=float(np.nanmax(norm)),
                final_loss=float(windows[-1]) if finite else math.inf, initial_loss=float(windows[0]))
