"""Activation collapse at depth with He init (claims A1-A6).

Page's setup: 50 bias-free Linear(2048, 2048) + ReLU blocks, He init U(±√(6/n)),
512 inputs of iid N(0, 1). Per layer we measure the between-channel share of variance
(law of total variance: Var of channel means / total variance), the mean squared
pre-activation, and the majority-class fraction of a random 10-way linear head, for
He + ReLU (uniform and Gaussian), linear, BN + ReLU and Page's centred ReLU. An
init x activation study (Glorot & Bengio's figures 6-7) adds the per-layer variance of
activations and back-propagated gradients for He/Xavier + ReLU, Xavier + tanh and the
old U(±1/√n) + tanh.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from dlclaims import analysis, inits, plots, stats
from dlclaims.analysis import option
from dlclaims.check import Tol
from dlclaims.claims import Claim, Estimate, at_least, at_most, between

TITLE = "Activation collapse at depth with He init"
LECTURE = """\
"Let's reconsider He initialization. [...] Every channel has chosen a constant value!
Most inputs would be classified as the orange class. [...] Removing ReLU: problem
disappears." (000, after Page, *How to train your ResNet 7*). "If you are using ReLU as
recommended: He initialization" (000); Xavier keeps activations and gradients at a similar
scale across layers (001, 004, after Glorot & Bengio 2010)."""
NOTES = """\
**Setup.** Page's exactly: depth 50, width 2048, no biases, 512 inputs of iid N(0, 1),
He init U(±√(6/n)); a channel is one unit, its distribution over the 512 inputs. All
variants of one seed share the same uniform (and Gaussian) draws, rescaled to each
scheme's variance (common random numbers: a difference between variants is the
variants'). BN is train-mode batch statistics without affine parameters, before the
ReLU; its "pre-ReLU output" is the normalised one, so its between-channel share is 0 by
construction, which is what the lecture means by "by design". Page's centred ReLU is
(relu(x) − √(1/π))/√(1 − 1/π), exactly centred and unit-variance for x ~ N(0, 2), the
pre-activation variance He init keeps. The majority-class head is a random N(0, 1/n)
10-way linear layer on each block's output.

**Init × activation study** (A6) runs on the first 64 inputs of each seed: forward,
then the cross-entropy of the random head against random labels is back-propagated, and
we record the variance of ∂loss/∂(pre-activation) per layer. Glorot & Bengio used 5
layers; at depth 50 "similar scale" is a much stronger claim, and the table also gives
layer 5.

**Statistics.** Every number entering a verdict is a mean over seeds with a Student-t
95% interval."""

CLAIMS = [
    Claim("A1", "lecture", "With He init + ReLU and no normalisation, each channel collapses to a near-constant value with depth",
          "between-channel share of variance at the last layer (He uniform + ReLU)", at_least(0.9)),
    Claim("A2", "lecture", "The network then predicts (nearly) one class for most inputs",
          "majority-class fraction of a random 10-way head at the last layer (He + ReLU); chance is about 0.1",
          at_least(0.5)),
    Claim("A3", "lecture", "Without ReLU (linear, Var w = 1/n) there is no collapse",
          "between-channel share at the last layer (linear)", at_most(0.05)),
    Claim("A4", "lecture", "He init still preserves the total second moment layer to layer",
          "per-layer ratio of mean squared pre-activation, geometric mean over layers (He + ReLU)", between(0.9, 1.1)),
    Claim("A5", "lecture", "Batch norm (train mode) fixes this by design; so does Page's centred ReLU",
          "largest between-channel share over all layers, the worse of BN and centred ReLU", at_most(0.1)),
    Claim("A6a", "lecture", "Old init U(±1/√n) makes the signal die (with tanh)",
          "activation variance at the last layer / at layer 1 (old + tanh)", at_most(0.01)),
    Claim("A6b", "lecture", "Xavier keeps tanh activations at a similar scale across layers",
          "activation variance at the last layer / at layer 1 (Xavier + tanh)", between(0.5, 2.0)),
    Claim("A6c", "lecture", "Xavier keeps back-propagated gradients at a similar scale across layers (tanh)",
          "gradient variance at layer 1 / at the last layer (Xavier + tanh)", between(0.5, 2.0)),
    Claim("A6d", "lecture", "Xavier with ReLU halves the variance per layer, He does not (A4)",
          "per-layer ratio of mean squared pre-activation, geometric mean over layers (Xavier + ReLU)",
          between(0.45, 0.55)),
]

TOLERANCES = {
    "*": {"majority_fraction": Tol(rtol=0, atol=0.02)},
    "densities": {"count": Tol(rtol=0.05, atol=3)},
}
DEFAULT_TOLERANCE = Tol(rtol=1e-3, atol=1e-7)

PAGE_DEPTHS = (1, 2, 5, 10, 20, 50)
DENSITY_VARIANTS = ("he_relu", "linear", "bn_relu")
DENSITY_CHANNELS = 10
DENSITY_BINS = 40
SQRT_1_PI = math.sqrt(1 / math.pi)


@dataclass(frozen=True)
class Variant:
    label: str
    scheme: inits.Scheme
    distribution: str  # which shared draw: "uniform" or "normal"
    activation: str  # relu | identity | tanh | centred_relu
    batch_norm: bool = False


VARIANTS = {
    "he_relu": Variant("He U + ReLU", "he", "uniform", "relu"),
    "he_normal_relu": Variant("He N + ReLU", "he", "normal", "relu"),
    "linear": Variant("linear (Var w = 1/n)", "lecun", "uniform", "identity"),
    "bn_relu": Variant("He U + BN + ReLU", "he", "uniform", "relu", batch_norm=True),
    "centred_relu": Variant("He U + centred ReLU", "he", "uniform", "centred_relu"),
    "xavier_relu": Variant("Xavier + ReLU", "xavier", "uniform", "relu"),
    "xavier_tanh": Variant("Xavier + tanh", "xavier", "uniform", "tanh"),
    "old_tanh": Variant("old U(±1/√n) + tanh", "old", "uniform", "tanh"),
}
PAGE_VARIANTS = ("he_relu", "he_normal_relu", "linear", "bn_relu", "centred_relu")
INIT_STUDY_VARIANTS = ("he_relu", "xavier_relu", "xavier_tanh", "old_tanh")


@dataclass(frozen=True)
class Config:
    width: int = option(2048, "units per layer")
    depth: int = option(50, "number of Linear + activation blocks")
    inputs: int = option(512, "iid N(0, 1) inputs")
    study_inputs: int = 64  # the init study's inputs: the first ones of each seed
    classes: int = 10
    seeds: int = 5
    device: str = "cpu"


QUICK = Config(width=256, inputs=256, study_inputs=32)
DEVICES = ("cpu", "cuda")


# --- the network -----------------------------------------------------------------------------

def activate(z: torch.Tensor, activation: str) -> torch.Tensor:
    if activation == "relu":
        return torch.relu(z)
    if activation == "tanh":
        return torch.tanh(z)
    if activation == "centred_relu":
        return (torch.relu(z) - SQRT_1_PI) / math.sqrt(1 - 1 / math.pi)
    return z


def activation_slope(z: torch.Tensor, activation: str) -> torch.Tensor:
    """σ'(z), for back-propagating through a block by hand."""
    if activation in ("relu", "centred_relu"):
        scale = 1.0 if activation == "relu" else 1 / math.sqrt(1 - 1 / math.pi)
        return (z > 0).to(z.dtype) * scale
    if activation == "tanh":
        return 1 - torch.tanh(z) ** 2
    return torch.ones_like(z)


def weight_scale(v: Variant, width: int) -> float:
    """Factor turning the shared U(-1, 1) or N(0, 1) draw into the variant's init."""
    if v.distribution == "uniform":
        return inits.uniform_bound(v.scheme, width, width)
    return math.sqrt(inits.variance(v.scheme, width, width))


def channel_moments(z: torch.Tensor) -> tuple[float, float]:
    """(between-channel share, mean square) of a block's pre-activations in two passes.

    Rows are inputs, columns channels. Law of total variance with population variances:
    total = Var(channel means) + mean within-channel variance = E z² − (E z)².
    """
    means, squares = z.mean(0), (z * z).mean(0)
    mean_square = squares.mean()
    total = mean_square - means.mean() ** 2
    return float(means.var(unbiased=False) / total), float(mean_square)


def forward(x: torch.Tensor, weights: torch.Tensor, scale: float, v: Variant):
    """Yield each block's pre-activation z (normalised, for BN) and output σ(z)."""
    h = x
    for w in weights:
        z = (h @ w.T) * scale  # scaling the product, not the weight: no copy of w
        if v.batch_norm:
            z = (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + 1e-5)
        h = activate(z, v.activation)
        yield z, h


def majority_fraction(h: torch.Tensor, head: torch.Tensor) -> float:
    counts = torch.bincount((h @ head.T).argmax(1), minlength=head.shape[0])
    return float(counts.max()) / h.shape[0]


# --- the measurements ------------------------------------------------------------------------

def page_study(cfg: Config, seed: int, x, draws, head) -> tuple[list[dict], list[dict]]:
    rows, densities = [], []
    for name in PAGE_VARIANTS:
        v = VARIANTS[name]
        scale = weight_scale(v, cfg.width)
        for layer, (z, h) in enumerate(forward(x, draws[v.distribution], scale, v), start=1):
            share, mean_square = channel_moments(z)
            rows.append(dict(variant=name, seed=seed, layer=layer, share=share,
                             mean_square=mean_square, majority_fraction=majority_fraction(h, head)))
            if seed == 0 and name in DENSITY_VARIANTS and layer in recorded_depths(cfg):
                densities += channel_histograms(name, layer, z[:, :DENSITY_CHANNELS])
    return rows, densities


def init_study(cfg: Config, seed: int, x, draws, head, labels) -> list[dict]:
    """Glorot & Bengio's figures 6-7: activation and back-propagated gradient variance."""
    rows = []
    for name in INIT_STUDY_VARIANTS:
        v = VARIANTS[name]
        scale = weight_scale(v, cfg.width)
        zs, activation_var, mean_square, share = [], [], [], []
        for z, h in forward(x, draws[v.distribution], scale, v):
            zs.append(z)
            activation_var.append(float(h.var(unbiased=False)))
            layer_share, layer_mean_square = channel_moments(z)
            share.append(layer_share)
            mean_square.append(layer_mean_square)
        # cross-entropy of the random head against random labels, back-propagated by hand
        probs = torch.softmax(h @ head.T, dim=1)
        probs[torch.arange(len(labels)), labels] -= 1
        grad_h = probs @ head / len(labels)
        grad_var = [0.0] * cfg.depth
        for i in reversed(range(cfg.depth)):
            grad_z = grad_h * activation_slope(zs[i], v.activation)
            grad_var[i] = float(grad_z.var(unbiased=False))
            grad_h = (grad_z @ draws[v.distribution][i]) * scale
        for i in range(cfg.depth):
            rows.append(dict(variant=name, seed=seed, layer=i + 1, activation_var=activation_var[i],
                             mean_square=mean_square[i], gradient_var=grad_var[i], share=share[i]))
    return rows


def recorded_depths(cfg: Config) -> list[int]:
    return sorted({d for d in PAGE_DEPTHS if d <= cfg.depth} | {cfg.depth})


def channel_histograms(variant: str, layer: int, z: torch.Tensor) -> list[dict]:
    values = z.cpu().numpy()
    edges = np.histogram_bin_edges(values, bins=DENSITY_BINS)
    rows = []
    for channel in range(values.shape[1]):
        counts, _ = np.histogram(values[:, channel], bins=edges)
        rows += [dict(variant=variant, layer=layer, channel=channel, bin_low=lo, bin_high=hi, count=int(c))
                 for lo, hi, c in zip(edges[:-1], edges[1:], counts)]
    return rows


def units(cfg: Config) -> list[dict]:
    return [dict(seed=seed) for seed in range(cfg.seeds)]


def run_unit(cfg: Config, unit: dict) -> dict[str, pd.DataFrame]:
    """One seed: every variant on the same inputs and the same weight draws."""
    seed = unit["seed"]
    g = torch.Generator(device=cfg.device).manual_seed(seed)
    shape = (cfg.depth, cfg.width, cfg.width)
    with torch.no_grad():
        x = torch.randn(cfg.inputs, cfg.width, generator=g, device=cfg.device)
        draws = {"uniform": torch.empty(shape, device=cfg.device).uniform_(-1, 1, generator=g),
                 "normal": torch.empty(shape, device=cfg.device).normal_(generator=g)}
        head = torch.randn(cfg.classes, cfg.width, generator=g, device=cfg.device) / math.sqrt(cfg.width)
        study_inputs = min(cfg.study_inputs, cfg.inputs)
        labels = torch.randint(cfg.classes, (study_inputs,), generator=g, device=cfg.device)
        layers, densities = page_study(cfg, seed, x, draws, head)
        study = init_study(cfg, seed, x[:study_inputs], draws, head, labels)
    tables = {"layers": pd.DataFrame(layers), "init_study": pd.DataFrame(study)}
    if densities:
        tables["densities"] = pd.DataFrame(densities)
    return tables


def combine(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, pd.DataFrame]:
    return {"summary": summarise(tables["layers"], recorded_depths(cfg))}


def summarise(layers: pd.DataFrame, depths: list[int]) -> pd.DataFrame:
    """Seed means with 95% intervals at Page's depths: the table a reader looks at."""
    rows = []
    for (variant, layer), group in layers[layers.layer.isin(depths)].groupby(["variant", "layer"], sort=False):
        row = dict(variant=variant, layer=layer)
        for stat in ("share", "majority_fraction", "mean_square"):
            est = stats.mean_ci(group[stat])
            row |= {stat: est.value, f"{stat}_ci_low": est.ci_low, f"{stat}_ci_high": est.ci_high}
        rows.append(row)
    return pd.DataFrame(rows)


# --- the claims ------------------------------------------------------------------------------

def per_seed(table: pd.DataFrame, variant: str, column: str) -> np.ndarray:
    """(seeds, layers) array of one statistic for one variant."""
    return stats.per_seed(table, column, by="layer", variant=variant)


def geometric_mean_ratio(q: np.ndarray) -> np.ndarray:
    """Per seed, the geometric mean over layers of q[l+1] / q[l]: (q_L / q_1)^(1/(L-1))."""
    return np.exp(np.log(q[:, -1] / q[:, 0]) / (q.shape[1] - 1))


def estimate(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, Estimate]:
    layers, study = tables["layers"], tables["init_study"]
    share = {v: per_seed(layers, v, "share") for v in PAGE_VARIANTS}
    act = {v: per_seed(study, v, "activation_var") for v in INIT_STUDY_VARIANTS}
    grad = per_seed(study, "xavier_tanh", "gradient_var")
    worst_fix = np.maximum(share["bn_relu"].max(axis=1), share["centred_relu"].max(axis=1))
    return {
        "A1": stats.mean_ci(share["he_relu"][:, -1]),
        "A2": stats.mean_ci(per_seed(layers, "he_relu", "majority_fraction")[:, -1], bounds=(0, 1)),
        "A3": stats.mean_ci(share["linear"][:, -1]),
        "A4": stats.mean_ci(geometric_mean_ratio(per_seed(layers, "he_relu", "mean_square"))),
        "A5": stats.mean_ci(worst_fix),
        "A6a": stats.mean_ci(act["old_tanh"][:, -1] / act["old_tanh"][:, 0]),
        "A6b": stats.mean_ci(act["xavier_tanh"][:, -1] / act["xavier_tanh"][:, 0]),
        "A6c": stats.mean_ci(grad[:, 0] / grad[:, -1]),
        "A6d": stats.mean_ci(geometric_mean_ratio(per_seed(study, "xavier_relu", "mean_square"))),
    }


# --- the figures -----------------------------------------------------------------------------

def band_by_layer(ax, table: pd.DataFrame, variant: str, column: str, **kw) -> None:
    plots.band(ax, *stats.band(table, "layer", column, variant=variant), label=VARIANTS[variant].label, **kw)


def figure_channel_densities(tables):
    """The lecture's picture: per-channel densities at Page's depths, three networks."""
    import matplotlib.pyplot as plt

    dens = tables["densities"]
    depths = sorted(dens.layer.unique())
    fig, axes = plt.subplots(len(depths), len(DENSITY_VARIANTS), figsize=(12, 1.7 * len(depths)), squeeze=False)
    for col, variant in enumerate(DENSITY_VARIANTS):
        for row, layer in enumerate(depths):
            ax = axes[row, col]
            part = dens[(dens.variant == variant) & (dens.layer == layer)]
            for channel, ch in part.groupby("channel"):
                width = (ch.bin_high - ch.bin_low).to_numpy()
                density = ch["count"].to_numpy() / (ch["count"].sum() * width)
                ax.plot((ch.bin_low + ch.bin_high) / 2, density, lw=1)
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(f"layer {layer}")
            if row == 0:
                ax.set_title(VARIANTS[variant].label)
    fig.suptitle("Pre-ReLU distribution of 10 channels over the inputs (seed 0)", y=1.0)
    fig.tight_layout()
    return fig


def figure_collapse_vs_depth(tables):
    """Collapse vs depth: between-channel share and majority-class fraction."""
    import matplotlib.pyplot as plt

    layers, study = tables["layers"], tables["init_study"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
    for variant in PAGE_VARIANTS:
        band_by_layer(ax1, layers, variant, "share")
        band_by_layer(ax2, layers, variant, "majority_fraction")
    for variant in ("xavier_tanh", "old_tanh"):
        band_by_layer(ax1, study, variant, "share", ls="--")
    ax1.set(xlabel="layer", ylabel="between-channel share of variance", ylim=(-0.02, 1.02),
            title="Channels collapse to constants (dashed: init study inputs)")
    ax2.axhline(0.1, color="grey", ls=":", label="chance (1/10)")
    ax2.set(xlabel="layer", ylabel="majority-class fraction", ylim=(0, 1.02), title="Random 10-way head")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def figure_variance_vs_depth(tables):
    """Glorot's figures 6-7: activation and gradient variance per layer, log scale."""
    import matplotlib.pyplot as plt

    study = tables["init_study"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
    for variant in INIT_STUDY_VARIANTS:
        band_by_layer(ax1, study, variant, "activation_var")
        band_by_layer(ax2, study, variant, "gradient_var")
    ax1.set(yscale="log", xlabel="layer", ylabel="Var of activations", title="Forward: activation variance")
    ax2.set(yscale="log", xlabel="layer", ylabel="Var of ∂loss/∂pre-activation",
            title="Backward: gradient variance")
    ax1.legend(fontsize=8)
    fig.tight_layout()
    return fig


FIGURES = [figure_channel_densities, figure_collapse_vs_depth, figure_variance_vs_depth]


if __name__ == "__main__":
    raise SystemExit(analysis.main(sys.modules[__name__]))
