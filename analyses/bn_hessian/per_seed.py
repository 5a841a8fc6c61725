"""bn-hessian's per-seed statistics, from the tables alone: which seeds trained (B0), and one
value per seed for each kind of row."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dlclaims.suite import stats

from .models import MODELS

OVERLAP_TOP = 5  # v1..v5 enter the overlap claims


def trained_seeds(training: pd.DataFrame, model: str) -> list[int]:
    """The seeds whose no-BN and BN nets both trained: last-10-step mean loss (step −1) at
    most half the initial loss (step 0). B1-B5 are judged on these seeds only."""
    part = stats.select(training, model=model)
    first = part[part.step == 0].set_index(["variant", "seed"]).loss
    last = part[part.step == -1].set_index(["variant", "seed"]).loss
    ok = (last <= 0.5 * first.reindex(last.index)).groupby(level="seed").all()
    return sorted(int(seed) for seed in ok[ok].index)


def trained_fraction(training: pd.DataFrame, model: str) -> float:
    """B0: the fraction of a model's seeds that enter the claims."""
    return len(trained_seeds(training, model)) / stats.select(training, model=model).seed.nunique()


def judged(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables with the trained-state rows of seeds that did not train (B0) left out:
    the lecture's claims are about trained nets. Rows at initialisation stay."""
    kept = {(model, seed) for model in MODELS for seed in trained_seeds(tables["training"], model)}
    out = dict(tables)
    for name in ("spectrum", "hessian_summary", "perturbation"):
        t = tables[name]
        at_init = t.state.eq("init") if "state" in t else pd.Series(False, index=t.index)
        pairs = pd.Series(list(zip(t.model, t.seed)), index=t.index).isin(kept)
        out[name] = t[at_init | pairs]
    return out


def mean_top_overlap(spectrum: pd.DataFrame, model: str, variant: str) -> np.ndarray:
    """Per seed (sorted), the mean overlap of v1..v5 with the 10-gradient span, trained."""
    part = stats.select(spectrum, model=model, variant=variant, state="trained")
    part = part[part["index"] <= OVERLAP_TOP]
    return part.groupby("seed").overlap.mean().sort_index().to_numpy()


def perturbation_fraction(pert: pd.DataFrame, model: str, variant: str, kind: str, column: str) -> np.ndarray:
    """Per seed (sorted), the mean over the 10 classes of a perturbation fraction."""
    part = stats.select(pert, model=model, variant=variant, kind=kind)
    return part.groupby("seed")[column].mean().sort_index().to_numpy()


def largest_stable(lr: pd.DataFrame, variant: str, base: float) -> np.ndarray:
    """Per seed, the largest stable rate; none stable counts as one grid step below the grid."""
    part = stats.select(lr, variant=variant)
    best = part[part.stable.astype(bool)].groupby("seed").lr.max()
    return best.reindex(sorted(part.seed.unique())).fillna(base / math.sqrt(2)).to_numpy()


def largest_finite(lr: pd.DataFrame, variant: str, base: float, steps: int) -> np.ndarray:
    """B6-finite: per seed, the largest rate whose run did all ``steps`` steps with every loss
    finite and below 10× the initial (no demand that the loss fell); none: below the grid."""
    part = stats.select(lr, variant=variant)
    ok = (part.steps == steps) & np.isfinite(part.final_loss.astype(float))
    best = part[ok].groupby("seed").lr.max()
    return best.reindex(sorted(part.seed.unique())).fillna(base / math.sqrt(2)).to_numpy()


def grid_brackets(lr: pd.DataFrame, base: float, factor: float) -> np.ndarray:
    """B0-lr, per seed (sorted): both nets stable at the smallest rate and unstable at the largest,
    and the largest rate at least ``factor`` × the no-BN net's largest stable rate."""
    top = lr.groupby("seed").lr.transform("max")
    low = lr.groupby("seed").lr.transform("min")
    stable = lr.stable.astype(bool)
    ends = pd.DataFrame({"seed": lr.seed, "ok": (lr.lr.eq(low) & stable) | (lr.lr.eq(top) & ~stable),
                         "end": lr.lr.eq(low) | lr.lr.eq(top)})
    ends = ends[ends.end].groupby("seed").ok.all().sort_index()
    room = lr.groupby("seed").lr.max().sort_index().to_numpy() >= factor * largest_stable(lr, "no_bn", base)
    return (ends.to_numpy() & room).astype(float)


def santurkar_trained(table: pd.DataFrame) -> np.ndarray:
    """B0-santurkar, per seed (sorted): both nets' loss (before the step, η = 0) at the last
    checkpoint at most half their loss at the first."""
    at = table[table.eta_factor == 0].sort_values("step")
    ends = at.groupby(["seed", "variant"]).loss.agg(["first", "last"])
    return (ends["last"] <= 0.5 * ends["first"]).groupby(level="seed").all().sort_index().to_numpy().astype(float)


def width_tables(tables: dict[str, pd.DataFrame], hessian_width: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training, perturbation) of the conv net at every width of B5's sweep, with a width
    column: the Hessian units' net at ``hessian_width`` and the width units' nets."""
    def conv(name: str) -> pd.DataFrame:
        return stats.select(tables[name], model="conv").assign(width=hessian_width)

    parts = [(conv("training"), conv("perturbation"))]
    if "training_width" in tables:
        parts.append((tables["training_width"], tables["perturbation_width"]))
    return tuple(pd.concat(p, ignore_index=True) for p in zip(*parts))


def by_width(tables: dict[str, pd.DataFrame], hessian_width: str, widths: list[str]):
    """Per width: (fraction of seeds whose conv pair trained, perturbation rows of those seeds)."""
    training, pert = width_tables(tables, hessian_width)
    out = {}
    for width in widths:
        part = training[training.width == width]
        seeds = trained_seeds(part, "conv")
        out[width] = (len(seeds) / max(part.seed.nunique(), 1), pert[(pert.width == width) & pert.seed.isin(seeds)])
    return out


def frozen_overlap_at(table: pd.DataFrame, steps: int, seeds: list[int]) -> np.ndarray:
    """Per seed (sorted), the mean overlap of v1..v5 of the frozen-BN MLP after ``steps`` steps."""
    part = table[(table.steps == steps) & table.seed.isin(seeds) & (table["index"] <= OVERLAP_TOP)]
    return part.groupby("seed").overlap.mean().sort_index().to_numpy()


def santurkar_per_seed(table: pd.DataFrame) -> pd.DataFrame:
    """Per seed, variant and checkpoint: loss range, max gradient change, max β; then the mean over checkpoints."""
    per_step = table.groupby(["seed", "variant", "step"]).agg(
        loss_range=("loss", lambda s: s.max() - s.min()), gradient_change=("gradient_change", "max"),
        beta=("beta", "max"))
    return per_step.groupby(["seed", "variant"]).mean().reset_index()
