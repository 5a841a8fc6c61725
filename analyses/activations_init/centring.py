"""H2b of activations-init: do non-zero-centred (sigmoid) hidden units slow training?

64-32-32-10 nets on the 8×8 digits, hidden units σ(z) ("sigmoid") or σ(z) − ½ ("centred": the same
function class, the next layer's bias absorbs the shift), and the input-centring control: the
centred-unit net on raw (uncentred, [0, 1]) against centred inputs. Per batch size, every arm × lr
of a √2-spaced grid × seed trains as one stacked replicate (the sweeps' scheme); a seed's
replicates share its init and its batches. Recorded: the first step at which the whole training
set's loss is ≤ TARGET_LOSS (read every ``centring_every`` steps of that batch size; never within the
cap: inf). Full-batch runs are plain gradient descent on the whole training set."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from dlclaims.methods import data, inits
from dlclaims.methods.replicas import replicate_losses
from dlclaims.rng import stream

from . import TARGET_LOSS, Config
from .sweeps import stacked_batches

ARMS = ("sigmoid", "centred", "raw")  # hidden units σ / σ − ½ on centred inputs; σ − ½ on raw inputs


def lr_grid(cfg: Config, batch: int) -> list[float]:
    i = cfg.centring_batches.index(batch)
    return [cfg.centring_lr_low[i] * 2 ** (k / 2) for k in range(cfg.centring_lrs[i])]


def centring_unit(cfg: Config, batch: int, first_seed: int = 0) -> pd.DataFrame:
    split = data.split("digits", seed=0)
    x_raw = split.x_train
    x_centred = x_raw - x_raw.mean(0)
    arms = ARMS if batch == cfg.centring_batch else ARMS[:2]  # the control runs at the headline batch
    grid = lr_grid(cfg, batch)
    seeds = list(range(first_seed, first_seed + cfg.train_seeds))
    reps = [(a, lr, s) for a in arms for lr in grid for s in seeds]
    r = len(reps)
    shift = torch.tensor([0.0 if a == "sigmoid" else 0.5 for a, _, _ in reps])[:, None, None]
    lrs = torch.tensor([lr for _, lr, _ in reps])[:, None, None]
    inputs = torch.stack([x_centred, x_raw])  # [2, N, 64]
    which = torch.tensor([1 if a == "raw" else 0 for a, _, _ in reps])
    sizes = [split.n_features, cfg.centring_hidden, cfg.centring_hidden, 10]
    params = []
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        std = math.sqrt(inits.variance("xavier", fan_in, fan_out))
        per_seed = {s: torch.randn((fan_in, fan_out), generator=stream(s, "h2b-weights", layer)) * std for s in seeds}
        params.append(torch.stack([per_seed[s] for _, _, s in reps]).requires_grad_())
        params.append(torch.zeros((r, 1, fan_out), requires_grad=True))

    def logits(x: torch.Tensor, rows: torch.Tensor | slice = slice(None)) -> torch.Tensor:
        """The replicates ``rows``' logits for their inputs x."""
        h = x
        for i in range(0, len(params), 2):
            h = torch.baddbmm(params[i + 1][rows], h, params[i][rows])
            if i + 2 < len(params):
                h = torch.sigmoid(h) - shift[rows]
        return h

    full_x, full_y = inputs[which], split.y_train.expand(r, -1)
    reached = torch.full((r,), math.inf, dtype=torch.float64)
    n = len(split.y_train)
    steps = cfg.centring_steps[cfg.centring_batches.index(batch)]
    every = cfg.centring_every[cfg.centring_batches.index(batch)]
    batches = stacked_batches([s for _, _, s in reps], n, batch, steps, "h2b-batches") if batch < n else None
    for step in range(steps + 1):
        if step % every == 0:  # the whole training set's loss, for the replicates still short of the target
            open_ = torch.isinf(reached).nonzero().flatten()
            if len(open_) == 0:
                break
            with torch.no_grad():
                loss = replicate_losses(logits(full_x[open_], open_), full_y[open_]).double()
            reached[open_[loss <= TARGET_LOSS]] = float(step)
        if step == steps:
            break
        if batches is None:
            x, y = full_x, full_y
        else:
            idx = batches[step]
            x, y = inputs[which[:, None], idx], split.y_train[idx]
        grads = torch.autograd.grad(replicate_losses(logits(x), y).sum(), params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(lrs * g)
    return pd.DataFrame(dict(arm=[a for a, _, _ in reps], lr=[lr for _, lr, _ in reps], seed=[s for _, _, s in reps],
                             batch=batch, steps_to_target=reached.numpy()))


def best_lr(part: pd.DataFrame) -> float:
    """The lr of the grid with the fewest median steps to the target over seeds (the smaller on a tie)."""
    medians = part.groupby("lr").steps_to_target.median()
    return float(medians[medians == medians.min()].index.min())


def steps_at_best(part: pd.DataFrame, cap: float) -> np.ndarray:
    """Per seed, steps to the target at the arm's best lr; a run that never got there counts as the cap
    (which pulls a ratio toward 1: against the claim)."""
    at = part[part.lr == best_lr(part)].sort_values("seed").steps_to_target.to_numpy(dtype=float)
    return np.minimum(at, cap)
