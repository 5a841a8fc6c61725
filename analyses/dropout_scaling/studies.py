"""dropout-scaling's measurements on a trained net: the test-time forms (D2), the Monte-Carlo
passes, the expected input per layer (D1), the k-mask ensemble (D3), the exact 2^N ensemble (D3c)."""

from __future__ import annotations

import math

import pandas as pd
import torch

from dlclaims import rng
from dlclaims.methods import dropout as dr

from .nets import Params, forward, scores

# the k of the k-mask ensembles: those below the number of passes, and the passes themselves
K_GRID = (1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 5000)
ENUMERATION = ((4, 0.5), (8, 0.5), (12, 0.5), (8, 0.8), (12, 0.2))  # (N inputs, keep)
SCATTER_DIGITS = 20  # test digits of seed 0 drawn in the expected-vs-full figure


# --- D2: with and without weight scaling; the inverted form; no biases -----------------------

@torch.no_grad()
def scaling_study(params: Params, keeps: list[float], x: torch.Tensor, y: torch.Tensor, seed: int) -> pd.DataFrame:
    """Each test-time form of one net, against its reference form (relative logit difference and
    the fraction of digits whose class changes)."""
    weights = [w for w, _ in params]
    no_bias = [(w, torch.zeros_like(b)) for w, b in params]
    logits = {
        "weight_scaled": forward(params, x, keeps, "scaled"),
        "unscaled": forward(params, x, keeps, "unscaled"),
        # inverted dropout with weights p·W: identity at test time
        "inverted": forward(list(zip(dr.classic_to_inverted(weights, keeps), [b for _, b in params])), x, keeps,
                            "unscaled"),
        "weight_scaled_no_bias": forward(no_bias, x, keeps, "scaled"),
        "unscaled_no_bias": forward(no_bias, x, keeps, "unscaled"),
    }
    reference = dict(weight_scaled="weight_scaled", unscaled="weight_scaled", inverted="weight_scaled",
                     weight_scaled_no_bias="weight_scaled_no_bias", unscaled_no_bias="weight_scaled_no_bias")
    rows = []
    for mode, out in logits.items():
        ref = logits[reference[mode]]
        acc, nll = scores(out, y)
        rows.append(dict(seed=seed, mode=mode, accuracy=acc, nll=nll,
                         relative_difference=float((out - ref).abs().max() / ref.abs().max()),
                         class_changes=float((out.argmax(-1) != ref.argmax(-1)).double().mean())))
    return pd.DataFrame(rows)


# --- D1 and D3: Monte-Carlo passes --------------------------------------------------------------

@torch.no_grad()
def monte_carlo(params: Params, keeps: list[float], x: torch.Tensor, passes: int, generator: torch.Generator,
                checkpoints: tuple[int, ...] = ()):
    """Softmax outputs of ``passes`` stochastic passes (passes, N, C), and the per-layer mean and
    variance of u after ``m`` passes for each m in ``checkpoints`` and at the end: {m: (means, vars)}."""
    probs, total, total_sq, moments = [], None, None, {}
    for i in range(1, passes + 1):
        record: list[torch.Tensor] = []
        probs.append(torch.softmax(forward(params, x, keeps, "train", generator, record), -1))
        us = [u.double() for u in record]
        if total is None:
            total, total_sq = us, [u * u for u in us]
        else:
            for t, q, u in zip(total, total_sq, us):
                t.add_(u)
                q.add_(u * u)
        if i in checkpoints or i == passes:
            mean = [t / i for t in total]
            var = [((q - i * m * m) / (i - 1)).clamp_min(0) for q, m in zip(total_sq, mean)]
            moments[i] = (mean, var)
    return torch.stack(probs), moments


@torch.no_grad()
def layer_study(params: Params, keeps: list[float], x: torch.Tensor, moments: dict, seed: int,
                scatter: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """D1 per number of masks and layer; with ``scatter``, the units of the first test digits."""
    # full weighted input W y, y from the weight-scaled net below; p × full is the scaled net's u
    scaled: list[torch.Tensor] = []
    forward(params, x, keeps, "scaled", record=scaled)
    rows, points = [], []
    for masks, (mc_mean, mc_var) in sorted(moments.items()):
        for l, (u_s, m, v, k) in enumerate(zip(scaled, mc_mean, mc_var, keeps), start=1):
            u_s = u_s.double()
            gap, se2 = m - u_s, v / masks
            ok = se2 > 0  # units never active have no MC spread (and no gap)
            # z = gap / SE is Student-t with M - 1 df if exact: E z² = (M - 1)/(M - 3), not 1
            mean_z2 = float((gap[ok] ** 2 / se2[ok]).mean()) * (masks - 3) / (masks - 1) if masks > 3 else math.nan
            bias2 = float((gap ** 2 - se2).mean())
            rms = float(u_s.pow(2).mean().sqrt())
            rows.append(dict(seed=seed, masks=masks, layer=l, keep=k, rms_scaled=rms,
                             rms_gap=float(gap.pow(2).mean().sqrt()), mean_z2=mean_z2,
                             relative_bias=math.sqrt(max(bias2, 0.0)) / rms))
            if scatter and masks == max(moments):
                u_f = u_s / k
                for i in range(min(SCATTER_DIGITS, u_s.shape[0])):
                    for j in range(u_s.shape[1]):
                        points.append(dict(layer=l, digit=i, unit=j, full=float(u_f[i, j]), scaled=float(u_s[i, j]),
                                           mc_mean=float(m[i, j]), mc_se=float(se2[i, j].sqrt())))
    return pd.DataFrame(rows), pd.DataFrame(points)


def mask_grid(passes: int) -> list[int]:
    return sorted({k for k in K_GRID if k < passes} | {passes})


def ensemble_vs_k(probs: torch.Tensor, y: torch.Tensor, ks: list[int], seed: int = 0) -> pd.DataFrame:
    """Accuracy and NLL of the average of k passes' softmax, averaged over disjoint groups."""
    rows = []
    passes = probs.shape[0]
    for k in ks:
        groups = passes // k
        avg = probs[: groups * k].reshape(groups, k, *probs.shape[1:]).mean(1)  # (G, N, C)
        acc = (avg.argmax(-1) == y).double().mean(-1).mean(0)
        nll = -torch.log(avg.gather(-1, y.expand(groups, -1).unsqueeze(-1)).squeeze(-1).double()
                         .clamp_min(1e-12)).mean(-1).mean(0)
        rows.append(dict(seed=seed, k=k, groups=groups, accuracy=float(acc), nll=float(nll)))
    return pd.DataFrame(rows)


def enumeration_study() -> pd.DataFrame:
    """D3c: weight scaling vs the exact geometric mean over all masks of a random softmax layer."""
    rows = []
    for i, (n, keep) in enumerate(ENUMERATION):
        g = rng.stream(i, "enumeration")
        w = torch.randn(5, n, generator=g, dtype=torch.float64)
        b = torch.randn(5, generator=g, dtype=torch.float64)
        x = torch.randn(16, n, generator=g, dtype=torch.float64)
        geo = dr.geometric_mean_over_masks(w, b, x, keep)
        ws = dr.weight_scaled_softmax(w, b, x, keep)
        rows.append(dict(inputs=n, keep=keep, masks=2**n, max_abs_difference=float((geo - ws).abs().max())))
    return pd.DataFrame(rows)
