"""Mini-batches: the gradient variance at x* and the plateau against the batch size b
(claims C5a, C5b; ls_iso at h = h_max/4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from dlclaims import rng
from dlclaims.methods import chains
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

from .problems import D, chain_matrix, chain_rows, chain_seeds, describe, plateau_window, problem, slope_of_means


def batch_unit(cfg, b: int) -> dict[str, pd.DataFrame]:
    """Plateau and gradient variance at x* for one mini-batch size b (ls_iso, h = h_max/4)."""
    p, h = problem("ls_iso", cfg.seed), describe("ls_iso", cfg.seed)["h_max"] / 4
    seeds = chain_seeds(cfg, "ls_iso", f"batch-{b}")
    trace = chains.run_chains(p, torch.zeros(D), chains.Schedule.constant(h), seeds, cfg.batch_steps, batch=b,
                              log_at=np.union1d(plateau_window(cfg.batch_steps), [round(cfg.batch_steps / 10)]))
    # variance of the mini-batch gradient at x*, where ∇F = 0: fresh draws from each chain's stream
    draws = [rng.fold_in(s, "variance-draws") for s in seeds]
    idx = torch.from_numpy(chains.chain_indices(draws, 0, cfg.variance_draws, b, p.n))
    rows_x = p.A[idx]  # (C, draws, b, d)
    resid = (rows_x @ p.x_star) - p.y[idx]
    g = (rows_x * resid.unsqueeze(-1)).mean(2)  # (C, draws, d)
    variance = (g * g).sum(-1).mean(1).numpy()
    rows = chain_rows("ls_iso", "batch_sweep", h, trace, slice(None), cfg.batch_steps, batch=b,
                      grad_variance=variance)
    return {"chains": pd.DataFrame(rows)}


def slope_vs_b(tables, column: str, boot: int) -> Estimate:
    """Log-log slope of the chain mean of ``column`` against b, BCa over chains (C5a, C5b)."""
    batch = stats.select(tables["chains"], problem="ls_iso", schedule="batch_sweep")
    bs, values = chain_matrix(batch, column, "batch")
    return stats.bootstrap_ci(values, slope_of_means(bs), n_boot=boot)
