"""Small ReLU MLPs on mnist1d: the same net from different inits (I8), and its final-loss spread at two widths (I7)."""

from __future__ import annotations

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

# --- I8: the same net from different inits --------------------------------------------------

def init_seed_table(cfg: Config, width: int, seeds: range) -> pd.DataFrame:
    """40-w-w-10 ReLU MLPs on mnist1d (4000 train / 1000 test), each from its own init stream and the
    same batch stream, SGD + momentum 0.9; final test accuracy and training loss."""
    from dlclaims.methods import data, nets, training

    split = data.split("mnist1d", test_fraction=0.2, seed=0)
    rows = []
    for seed in seeds:
        net = nets.mlp([split.n_features, width, width, split.n_classes], generator=rng.stream(seed, "init"))

        def loss_on(idx):
            return torch.nn.functional.cross_entropy(net(split.x_train[idx]), split.y_train[idx])

        batches = training.random_batches(len(split.y_train), 128, cfg.init_steps, rng.stream(0, "init_batches"))
        losses = training.train(list(net.parameters()), loss_on, batches, lr=cfg.init_lr, momentum=0.9)
        with torch.no_grad():
            acc = float((net(split.x_test).argmax(1) == split.y_test).double().mean())
            train_loss = float(torch.nn.functional.cross_entropy(net(split.x_train), split.y_train))
        rows.append(dict(width=width, seed=seed, test_accuracy=acc, train_loss=train_loss,
                         initial_loss=losses[0], steps=len(losses)))
    return pd.DataFrame(rows)



def accuracy_spread(runs: pd.DataFrame, width: int) -> Estimate:
    acc = stats.select(runs, width=width).sort_values("seed").test_accuracy.to_numpy()
    return stats.bootstrap_ci(acc, statistic=lambda x: float(np.std(x, ddof=1)))



# --- I7: the spread of final losses against width ------------------------------------------------

def width_params(n_in: int, width: int, n_out: int, seeds) -> list[torch.Tensor]:
    """40-w-w-10 weights and biases, PyTorch's default init (uniform ±1/√fan_in), one stack per layer
    over ``seeds``, each seed its own named stream."""
    sizes, params = [n_in, width, width, n_out], []
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        bound = 1 / fan_in**0.5
        for name, shape in (("w", (fan_in, fan_out)), ("b", (1, fan_out))):
            params.append(torch.stack([(2 * torch.rand(*shape, generator=rng.stream(s, "width", width, layer, name)) - 1)
                                       * bound for s in seeds]))
    return [p.requires_grad_() for p in params]


def width_forward(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """(seeds, batch, 40) → (seeds, batch, 10), ReLU between the layers."""
    h = x
    for i in range(0, len(params), 2):
        h = torch.baddbmm(params[i + 1], h, params[i])
        if i + 2 < len(params):
            h = torch.relu(h)
    return h


def adam_step_(params, grads, m, v, step: int, lr: float, betas=(0.9, 0.999), eps: float = 1e-8) -> None:
    """One in-place Adam step, ``torch.optim.Adam``'s defaults (elementwise, so stacked seeds stay independent)."""
    with torch.no_grad():
        for p, g, mi, vi in zip(params, grads, m, v):
            mi.mul_(betas[0]).add_(g, alpha=1 - betas[0])
            vi.mul_(betas[1]).addcmul_(g, g, value=1 - betas[1])
            denom = (vi / (1 - betas[1] ** step)).sqrt_().add_(eps)
            p.addcdiv_(mi, denom, value=-lr / (1 - betas[0] ** step))


def width_table(cfg: Config, width: int) -> pd.DataFrame:
    """Every seed's 40-w-w-10 MLP trained full batch by Adam on the same mnist1d training examples (only
    the init differs); at each checkpoint of ``width_steps`` the full training loss, the same at 90% of
    that checkpoint (has it stopped moving?), and the test accuracy."""
    from dlclaims.methods import data

    split = data.split("mnist1d", test_fraction=0.2, seed=0, n_train=cfg.width_train)
    x, y = split.x_train.float(), split.y_train
    seeds = list(range(cfg.width_seeds))
    params = width_params(x.shape[1], width, split.n_classes, seeds)
    m, v = [torch.zeros_like(p) for p in params], [torch.zeros_like(p) for p in params]
    xs, ys = x.expand(len(seeds), *x.shape), y.expand(len(seeds), len(y))
    x_test = split.x_test.float().expand(len(seeds), *split.x_test.shape)
    lates = {int(round(0.9 * s)): s for s in cfg.width_steps}
    late_loss, rows = {}, []
    for step in range(max(cfg.width_steps) + 1):
        loss = F.cross_entropy(width_forward(params, xs).flatten(0, 1), ys.flatten(), reduction="none")
        per_seed = loss.view(ys.shape).mean(1)
        if step in lates:
            late_loss[lates[step]] = per_seed.detach().clone()
        if step in cfg.width_steps:
            with torch.no_grad():
                acc = (width_forward(params, x_test).argmax(-1) == split.y_test).double().mean(1)
            rows += [dict(width=width, seed=s, steps=step, train_loss=float(per_seed[i].detach()),
                          late_loss=float(late_loss[step][i]), test_accuracy=float(acc[i])) for i, s in enumerate(seeds)]
            if step == max(cfg.width_steps):
                break
        grads = torch.autograd.grad(per_seed.sum(), params)
        adam_step_(params, grads, m, v, step + 1, cfg.width_lr)
    return pd.DataFrame(rows)


def spread_ratio(runs: pd.DataFrame, small: int, large: int, steps: int) -> Estimate:
    """sd across seeds of the final training loss at width ``small`` over that at ``large`` (the two
    widths' seeds are independent draws; the bootstrap resamples them), BCa 95% CI."""
    a, b = (stats.select(runs, width=w, steps=steps).sort_values("seed").train_loss.to_numpy() for w in (small, large))
    n = min(len(a), len(b))
    return stats.bootstrap_ci(np.column_stack([a[:n], b[:n]]),
                              statistic=lambda x: float(np.std(x[:, 0], ddof=1) / np.std(x[:, 1], ddof=1)))


def unfinished(runs: pd.DataFrame, widths, steps: int) -> Estimate:
    """Largest over seeds (of ``widths``) of |L(0.9 T) − L(T)|: how far a run still moved at the end."""
    part = runs[runs.width.isin(list(widths)) & (runs.steps == steps)]
    return Estimate.exact(float((part.late_loss - part.train_loss).abs().max()))


def width_accuracy_spread(runs: pd.DataFrame, width: int, steps: int) -> Estimate:
    acc = stats.select(runs, width=width, steps=steps).sort_values("seed").test_accuracy.to_numpy()
    return stats.bootstrap_ci(acc, statistic=lambda x: float(np.std(x, ddof=1)))
