"""F12: a random search over SGD + momentum's hyperparameters (lr, batch, momentum, width, init
gain) on digits, all configurations of a chunk at once on a replicate axis; each hyperparameter's
main-effect share of the test-accuracy variance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from dlclaims.methods import data, replicas
from dlclaims.rng import stream
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

from .common import F64

SEARCH_BATCHES = (8, 16, 32, 64)
SEARCH_WIDTHS = (16, 32, 64, 128)
HYPERPARAMETERS = ("lr", "batch", "momentum", "width", "gain")


def search_configs(n: int) -> pd.DataFrame:
    g = stream(0, "search", "configs")
    u = torch.rand(n, 5, generator=g, dtype=F64).numpy()
    return pd.DataFrame(dict(config=np.arange(n), lr=10 ** (-4 + 4 * u[:, 0]),
                             batch=np.array(SEARCH_BATCHES)[(u[:, 1] * 4).astype(int)],
                             momentum=0.95 * u[:, 2], width=np.array(SEARCH_WIDTHS)[(u[:, 3] * 4).astype(int)],
                             gain=4 ** (2 * u[:, 4] - 1)))


def search_unit(cfg, chunk: int) -> dict[str, pd.DataFrame]:
    bounds = np.linspace(0, cfg.search_configs, cfg.search_chunks + 1).astype(int)
    configs = search_configs(cfg.search_configs).iloc[bounds[chunk]:bounds[chunk + 1]].reset_index(drop=True)
    split = data.split("digits")
    reps = replicas.Replicates(torch.tensor(configs.lr.to_numpy()), momentum=torch.tensor(configs.momentum.to_numpy()),
                               width=torch.tensor(configs.width.to_numpy()), batch=torch.tensor(configs.batch.to_numpy()))
    sizes = (split.n_features, max(SEARCH_WIDTHS), split.n_classes)
    params = replicas.init_mlp(reps.n, sizes, stream(chunk, "search-chunk", "init"),
                               gain=torch.tensor(configs.gain.to_numpy()), shared=False)
    final, _ = replicas.train("momentum", params, reps, split.x_train, split.y_train, cfg.search_steps,
                              max(SEARCH_BATCHES), stream(chunk, "search-chunk", "batches"))
    acc = replicas.accuracy(final, split.x_test, split.y_test, replicas.hidden_mask(reps, sizes[1]))
    return {"search": configs.assign(test_acc=acc.numpy())}


def main_effect_shares(table: np.ndarray, bins: int = 4) -> np.ndarray:
    """Columns: [acc, hyperparameters...]; the between-bin share of Var(acc) per hyperparameter.

    Continuous columns are cut at their quantiles (ties share a bin); discrete ones with ≤ ``bins``
    levels are their own bins. A genuinely new statistic (binned one-way ANOVA's η²)."""
    acc = table[:, 0]
    total = ((acc - acc.mean()) ** 2).sum()
    shares = []
    for col in table[:, 1:].T:
        levels = np.unique(col)
        if len(levels) <= bins:
            labels = np.searchsorted(levels, col)
        else:
            edges = np.quantile(col, np.linspace(0, 1, bins + 1)[1:-1])
            labels = np.searchsorted(edges, col, side="right")
        between = sum(((acc[labels == b].mean() - acc.mean()) ** 2) * (labels == b).sum() for b in np.unique(labels))
        shares.append(between / total if total > 0 else 0.0)
    return np.array(shares)


def lr_share_margin(table: np.ndarray) -> float:
    s = main_effect_shares(table)
    return float(s[0] - s[1:].max())


def search_estimate(search: pd.DataFrame) -> Estimate:
    """The lr's main-effect share − the largest other's, BCa bootstrap over configurations."""
    table = search[["test_acc", *HYPERPARAMETERS]].to_numpy(dtype=float)
    table[:, 1] = np.log10(table[:, 1])
    table[:, 5] = np.log10(table[:, 5])
    return stats.bootstrap_ci(table, lr_share_margin)
