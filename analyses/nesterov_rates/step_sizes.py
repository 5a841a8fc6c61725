"""E5: GD's step size on a grid of ηL around 2, on random diagonal quadratics with L = 1:
does f decrease at every step below 2/L, and does it diverge above?"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from dlclaims.methods import optim
from dlclaims.rng import stream

from .objectives import F64, quadratic, tensor

# stops at 2.4 so f stays finite in float64 over the run (|1 − ηL|^{2N} < 10³⁰⁰)
ETA_TIMES_L = (0.25, 0.5, 1.0, 1.5, 1.9, 1.99, 2.01, 2.05, 2.1, 2.4)
DIMENSION = 20
SPECTRUM = (0.01, 1.0)  # log-uniform in between, both ends included: L = 1
STILL_GROWING = 10      # "diverges": f_N > f_0 and f_N > 10 f_{N/2}


def e5_step_sizes(cfg) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One run per (ηL, seed): does f decrease at every step, does it diverge; and seed 0's curves."""
    g = stream(0, "step-size-problems")  # fixed: the same quadratics for every ηL
    etas = tensor(ETA_TIMES_L)
    seeds = cfg.eta_seeds
    low, high = SPECTRUM
    # diagonal suffices (GD is rotation-invariant)
    lam = torch.exp(torch.empty(seeds, DIMENSION, dtype=F64).uniform_(math.log(low), math.log(high), generator=g))
    lam[:, 0], lam[:, 1] = low, high
    x0 = torch.randn(seeds, DIMENSION, generator=g, dtype=F64)
    # rows: (η, seed)
    h, x = lam.repeat(len(etas), 1), x0.repeat(len(etas), 1)
    lr = etas.repeat_interleave(seeds)[:, None]
    f = quadratic(lambda e: h * e, torch.zeros_like(x))
    values = [f.gap(x)]
    for _ in range(cfg.eta_steps):
        x = optim.gd_step(x, f.grad, lr)
        values.append(f.gap(x))
    fk = torch.stack(values).numpy()  # (steps + 1, rows)
    N = cfg.eta_steps
    monotone = (np.diff(fk, axis=0) < 0).all(0)
    diverged = (fk[-1] > fk[0]) & (fk[-1] > STILL_GROWING * fk[N // 2])
    eta_rows = lr[:, 0].numpy()
    runs = pd.DataFrame(dict(eta_times_L=eta_rows, seed=np.tile(np.arange(seeds), len(etas)),
                             decreases_every_step=monotone, diverges=diverged,
                             final_over_initial=fk[-1] / fk[0]))
    keep = np.unique(np.concatenate([np.arange(0, N + 1, max(N // 100, 1)), [N]]))
    curves = pd.DataFrame([dict(eta_times_L=eta_rows[r], step=int(k), f_over_f0=fk[k, r] / fk[0, r])
                           for r in range(0, fk.shape[1], seeds) for k in keep])
    return runs, curves
