"""A toy analysis for the runner's tests: units that sleep, fail or break a figure on demand."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import pandas as pd
import torch

from dlclaims.suite import cli, config, stats
from dlclaims.suite.contract import option
from dlclaims.suite.claims import Claim, at_least

TITLE = "Toy"
LECTURE = "Numbers are numbers."
CLAIMS = [Claim("T1", "lecture", "the mean is above -10", "mean of the per-seed values", at_least(-10),
                setup=("offset",))]


@dataclass(frozen=True)
class Config:
    seeds: int = 4
    sleep: float = option(0.001, "seconds each unit sleeps")
    offset: float = option(0.0, "added to every value", parse=config.signed_float)
    fail_seed: int = option(10**6, "the seed whose unit raises")
    broken_figure: int = option(2, "1 breaks a figure, 2 keeps it", parse=int)
    marker: str = option("", "a file each unit touches when it starts (tells a test that units run)", parse=str)


QUICK = Config(seeds=3)
FULL = Config(seeds=40)


def units(cfg: Config) -> list[dict]:
    return [dict(seed=s) for s in range(cfg.seeds)]


def run_unit(cfg: Config, unit: dict) -> dict[str, pd.DataFrame]:
    if unit["seed"] == cfg.fail_seed:
        raise ValueError("this unit was told to fail")
    if cfg.marker:
        open(cfg.marker, "a").close()
    time.sleep(cfg.sleep)
    g = torch.Generator().manual_seed(unit["seed"])
    unseeded = torch.rand(1).item()  # from the runner's per-unit seed
    x = torch.randn(5, generator=g)
    # where the unit ran must not matter, Dask's malloc setting included (it slows torch 2x)
    malloc_trim = os.environ.get("MALLOC_TRIM_THRESHOLD_", "unset")
    return {"values": pd.DataFrame(dict(seed=unit["seed"], i=range(5), x=x.numpy() + cfg.offset, unseeded=unseeded,
                                        broken=cfg.broken_figure == 1, malloc_trim=malloc_trim))}


def estimate(tables, cfg):
    mean = stats.mean_ci(tables["values"].groupby("seed").x.mean())
    return {claim.id: mean for claim in CLAIMS}  # every row is the same statistic


def figure_values(tables, cfg):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot(tables["values"].x)
    return fig


def figure_broken(tables, cfg):
    if tables["values"].broken.any():
        raise RuntimeError("this figure was told to break")
    import matplotlib.pyplot as plt

    return plt.subplots()[0]


FIGURES = [figure_values, figure_broken]

if __name__ == "__main__":
    raise SystemExit(cli.main_for(__file__))
