"""Small ReLU MLPs on mnist1d: the same net from different inits (I8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

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

