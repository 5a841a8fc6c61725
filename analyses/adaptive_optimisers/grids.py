"""F10, F11: test accuracy of an MLP on digits over a 19-point learning-rate grid per optimiser,
all rates of a seed at once on a replicate axis (same init and batches); the defaults' shortfall
and the width of the tuning window."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from dlclaims.methods import data, replicas
from dlclaims.rng import stream
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

from .common import LR_GRID

ADAM_DEFAULT = 1e-3  # 000: "Adam with ρ1 = 0.9, ρ2 = 0.999, α = 1e-3 is a good place to start"
ADAGRAD_DEFAULT = 1e-2  # 003: "in practice fix η = 0.01"
WINDOW = 0.02  # accuracy within this of the best counts as tuned (≈ 7 of the 360 test digits)


def grid_unit(cfg, seed: int, optimiser: str) -> dict[str, pd.DataFrame]:
    split = data.split("digits")
    sizes = (split.n_features, cfg.grid_hidden, split.n_classes)
    # one init and one batch order per seed, shared by every lr and every optimiser (paired)
    params = replicas.init_mlp(len(LR_GRID), sizes, stream(seed, "grid", "init"))
    reps = replicas.Replicates(torch.tensor(LR_GRID))
    final, _ = replicas.train(optimiser, params, reps, split.x_train, split.y_train, cfg.grid_steps, cfg.grid_batch,
                              stream(seed, "grid", "batches"))
    acc = replicas.accuracy(final, split.x_test, split.y_test)
    return {"grid": pd.DataFrame(dict(seed=seed, optimiser=optimiser, lr=LR_GRID, test_acc=acc.numpy()))}


def best_minus_at(grid: pd.DataFrame, optimiser: str, lr: float) -> Estimate:
    """Per seed: best test accuracy over the grid − accuracy at ``lr``."""
    wide = stats.per_seed(grid, "test_acc", by="lr", optimiser=optimiser)
    lrs = np.sort(stats.select(grid, optimiser=optimiser).lr.unique())
    at = wide[:, int(np.argmin(np.abs(np.log(lrs) - math.log(lr))))]
    return stats.mean_ci(wide.max(1) - at)


def window_width(grid: pd.DataFrame, optimiser: str, tolerance: float = WINDOW) -> np.ndarray:
    """Per seed: decades of the grid with accuracy ≥ best − tolerance (points × spacing)."""
    wide = stats.per_seed(grid, "test_acc", by="lr", optimiser=optimiser)
    lrs = np.sort(stats.select(grid, optimiser=optimiser).lr.unique())
    spacing = float(np.median(np.diff(np.log10(lrs))))
    return (wide >= wide.max(1, keepdims=True) - tolerance).sum(1) * spacing


def window_difference(grid: pd.DataFrame, tolerance: float = WINDOW) -> Estimate:
    return stats.paired_difference(window_width(grid, "adam", tolerance), window_width(grid, "sgd", tolerance))


def mean_curve(grid: pd.DataFrame, optimiser: str) -> pd.Series:
    """Test accuracy per lr, mean over seeds."""
    return stats.select(grid, optimiser=optimiser).groupby("lr").test_acc.mean()


def nearest(curve: pd.Series, lr: float) -> float:
    """The curve's value at the grid point nearest ``lr`` (on the log scale)."""
    return float(curve.iloc[int(np.argmin(np.abs(np.log(curve.index.to_numpy()) - math.log(lr))))])


def epochs(steps: int, batch: int) -> float:
    """Passes over the digits training set that ``steps`` batches of ``batch`` make."""
    return steps * batch / len(data.split("digits").y_train)
