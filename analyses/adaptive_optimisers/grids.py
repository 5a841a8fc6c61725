"""F10, F11: an MLP on digits over an eighth-decade learning-rate grid per optimiser, all rates of a
seed at once on a replicate axis (same init and batches), scored at several budgets (checkpoints of
one run) on training, validation and test images; the rate is chosen on validation, judged on test."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd
import torch

from dlclaims.methods import data, replicas
from dlclaims.rng import stream
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

ADAM_DEFAULT = 1e-3  # 000: "Adam with ρ1 = 0.9, ρ2 = 0.999, α = 1e-3 is a good place to start"
ADAGRAD_DEFAULT = 1e-2  # 003: "in practice fix η = 0.01"
WINDOW = 0.02  # accuracy within this of the best counts as tuned (≈ 7 of the 360 test digits)
TUNING_GRID = tuple(float(10 ** e) for e in np.arange(-5, 0.51, 0.125))  # 45 rates, eighth decades
# worker units: SGD and SGD + momentum share one replicate axis (momentum 0 is SGD exactly)
GRID_UNITS = {"sgd+momentum": ("sgd", "momentum"), "adagrad": ("adagrad",), "adam": ("adam",)}
GRID_NAMES = ("sgd", "momentum", "adagrad", "adam")


@lru_cache(maxsize=1)
def tuning_split() -> tuple[torch.Tensor, ...]:
    """digits: the suite's 360 test images, and its 1437 training images cut (stratified, fixed) into
    1077 to train on and 360 to choose the rate on."""
    from sklearn.model_selection import train_test_split

    split = data.split("digits")
    x_tr, x_val, y_tr, y_val = train_test_split(split.x_train.numpy(), split.y_train.numpy(), test_size=360,
                                                stratify=split.y_train.numpy(), random_state=0)
    return (*(torch.from_numpy(np.ascontiguousarray(a)) for a in (x_tr, y_tr, x_val, y_val)),
            split.x_test, split.y_test)


def train_with_checkpoints(name: str, params, reps: replicas.Replicates, x, y, checkpoints, batch: int,
                           generator: torch.Generator):
    """replicas.train's loop (same batch draw), yielding (step, parameters) at each checkpoint."""
    trainer = replicas.Trainer(name, params, reps)
    steps, n = max(checkpoints), x.shape[0]
    order = torch.cat([torch.randperm(n, generator=generator) for _ in range(steps * batch // n + 1)])
    for step in range(1, steps + 1):
        ps = [p.requires_grad_() for p in trainer.params]
        idx = order[(step - 1) * batch:step * batch]
        grads = torch.autograd.grad(replicas.replicate_losses(replicas.forward(ps, x[idx]), y[idx]).sum(), ps)
        with torch.no_grad():
            trainer.step(list(grads))
        if step in checkpoints:
            yield step, [p.detach() for p in trainer.params]


def grid_unit(cfg, seed: int, unit: str) -> dict[str, pd.DataFrame]:
    x, y, x_val, y_val, x_test, y_test = tuning_split()
    names = GRID_UNITS[unit]
    lrs = torch.tensor(TUNING_GRID * len(names))
    momentum = torch.tensor([0.0 if n == "sgd" else 0.9 for n in names for _ in TUNING_GRID])
    sizes = (x.shape[1], cfg.grid_hidden, 10)
    # one init and one batch order per seed, shared by every lr and every optimiser (paired)
    params = replicas.init_mlp(len(lrs), sizes, stream(seed, "grid", "init"))
    reps = replicas.Replicates(lrs, momentum=momentum if unit == "sgd+momentum" else None)
    trainer = "momentum" if unit == "sgd+momentum" else unit
    rows = []
    for step, final in train_with_checkpoints(trainer, params, reps, x, y, set(cfg.grid_checkpoints), cfg.grid_batch,
                                              stream(seed, "grid", "batches")):
        accs = [replicas.accuracy(final, a, b).numpy() for a, b in ((x, y), (x_val, y_val), (x_test, y_test))]
        rows.append(pd.DataFrame(dict(seed=seed, optimiser=np.repeat(names, len(TUNING_GRID)), step=step,
                                      lr=lrs.numpy(), train_acc=accs[0], val_acc=accs[1], test_acc=accs[2])))
    return {"grid": pd.concat(rows, ignore_index=True)}


# --- statistics: one per budget (the checkpoint), {step: Estimate} -------------------------------

def _wide(grid: pd.DataFrame, optimiser: str, step: int, column: str) -> tuple[np.ndarray, np.ndarray]:
    """[seeds, rates] of ``column`` and the sorted rates."""
    part = stats.select(grid, optimiser=optimiser, step=step)
    table = part.pivot_table(index="seed", columns="lr", values=column).sort_index(axis=1)
    return table.to_numpy(), table.columns.to_numpy()


def chosen(grid: pd.DataFrame, optimiser: str, step: int) -> np.ndarray:
    """Per seed: the index of the rate with the best validation accuracy (ties: the smaller rate)."""
    return _wide(grid, optimiser, step, "val_acc")[0].argmax(1)


def chosen_rates(grid: pd.DataFrame, optimiser: str, step: int) -> np.ndarray:
    """Per seed: the validation-chosen learning rate."""
    return _wide(grid, optimiser, step, "val_acc")[1][chosen(grid, optimiser, step)]


def best_minus_at(grid: pd.DataFrame, optimiser: str, lr: float) -> dict[int, Estimate]:
    """Per budget, per seed: test accuracy at the validation-chosen rate − test accuracy at ``lr``."""
    out = {}
    for step in sorted(grid.step.unique()):
        test, lrs = _wide(grid, optimiser, step, "test_acc")
        at = int(np.argmin(np.abs(np.log(lrs) - math.log(lr))))
        pick = chosen(grid, optimiser, step)
        out[int(step)] = stats.mean_ci(test[np.arange(len(test)), pick] - test[:, at])
    return out


def window_width(grid: pd.DataFrame, optimiser: str, step: int, tolerance: float = WINDOW) -> np.ndarray:
    """Per seed: decades of the grid with validation accuracy ≥ best − tolerance (points × spacing)."""
    val, lrs = _wide(grid, optimiser, step, "val_acc")
    spacing = float(np.median(np.diff(np.log10(lrs))))
    return (val >= val.max(1, keepdims=True) - tolerance).sum(1) * spacing


def window_difference(grid: pd.DataFrame, tolerance: float = WINDOW) -> dict[int, Estimate]:
    """Per budget: Adam's window − the wider of SGD's and SGD + momentum's (the smaller difference)."""
    return {int(step): stats.worst([stats.paired_difference(window_width(grid, "adam", step, tolerance),
                                                             window_width(grid, rival, step, tolerance))
                                    for rival in ("sgd", "momentum")], largest=False)
            for step in sorted(grid.step.unique())}


def trained(grid: pd.DataFrame) -> dict[int, Estimate]:
    """Per budget: the lowest, over optimisers, of the mean training accuracy at the chosen rate."""
    out = {}
    for step in sorted(grid.step.unique()):
        ests = []
        for name in GRID_NAMES:
            train, _ = _wide(grid, name, step, "train_acc")
            ests.append(stats.mean_ci(train[np.arange(len(train)), chosen(grid, name, step)]))
        out[int(step)] = stats.worst(ests, largest=False)
    return out


def mean_curve(grid: pd.DataFrame, optimiser: str, step: int | None = None, column: str = "test_acc") -> pd.Series:
    """``column`` per lr at ``step`` (default: the last), mean over seeds."""
    step = int(grid.step.max()) if step is None else step
    return stats.select(grid, optimiser=optimiser, step=step).groupby("lr")[column].mean()


def nearest(curve: pd.Series, lr: float) -> float:
    """The curve's value at the grid point nearest ``lr`` (on the log scale)."""
    return float(curve.iloc[int(np.argmin(np.abs(np.log(curve.index.to_numpy()) - math.log(lr))))])


def epochs(steps: int, batch: int) -> float:
    """Passes over the 1077 tuning-split training images that ``steps`` batches of ``batch`` make."""
    return steps * batch / len(tuning_split()[1])
