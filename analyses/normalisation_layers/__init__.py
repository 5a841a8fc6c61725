"""Normalisation layers (claims G1-G15): batch norm's formulas as float64 identities against torch's
layers (exact.py); its behaviour in MLP trainings on MNIST-1D, off the accuracy ceiling, 10 paired
seeds (trainings.py); deep BN stacks' gradients by depth, init gain and training step (deep_net.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dlclaims.suite import stats
from dlclaims.suite.method_text import value_with_ci
from dlclaims.suite.claims import (Added, Amendment, Claim, Estimate, Retired, Rule, Scope, at_least, at_most, between,
                                   exceeds, signature)
from dlclaims.suite.contract import Tol, option

from . import exact, trainings
from .deep_net import GAINS
from .exact import EPS, G1_MS, TINY_EPS
from .figures import FIGURES  # the contract's list of figure functions
from .ledger import AMENDMENTS  # the ledger: every change to a committed row, before → after
from .trainings import DROPOUT_RATE, REFERENCE_BATCH, SCALES, SWEEP_NORMS, WORKS

TITLE = "Normalisation layers: batch norm at train and test time, LayerNorm and GroupNorm"
LECTURE = """\
"$\\mathrm{Var}[x] \\leftarrow \\frac{m}{m-1} \\mathrm{E}_{\\mathcal{B}}[\\sigma_{\\mathcal{B}}^2]$" and
"replace the transform y = BN(x) with y = γ/√(Var[x]+ε)·x + (β − γE[x]/√(Var[x]+ε))" (000);
"Network can learn identity!" with γ = Var[x], β = E[x] (000); "after BatchNorm layer, the
mean and variance of each output depend only on the normalization parameters" (002);
"Higher learning rates usually produce larger weights leading to explosion → Can be avoided
here since re-normalized" (000); "Network outputs per sample no longer deterministic" (000);
GroupNorm "Batch-independent, improve BatchNorm for small batch size" (003); "Batch
normalization will limit the activation to the linear regime [...] negatively affects
performance" (000, 004); "it matters where to put the batchnorm" (004); "Reduces strong
dependence on initialization", "Avoids exploding/vanishing gradients" (000); "Not
guaranteed to truly eliminate covariance shift" (002); "Evidently, no dropout necessary (or
tiny dropout rate) with batch norm" (003); normalising outside the gradient step: "the
biases will simply increase unboundedly" (004); LayerNorm "works extremely well for MLPs" (003)."""

# --- claims, declared before the run ------------------------------------------------------------
# Exact rows: each tolerance sits orders above round-off (about 1e-15 in float64, 1e-7 in float32).
UNBIASED = (0.99, 1.01)  # G1: a 1% window; the plain average is 3% low even at m = 32
RESOLVED = 1000  # G4: σ² ≥ 1000ε is "σ² ≫ ε"; G4d judges the scales below it
GN_GAIN = 0.05  # G7: BN's drop exceeds GN's by five points of test accuracy (50 of 1000 MNIST-1D test examples)
LINEAR_R2 = 0.95  # G8, G8b: a linear fit explains 95% of the sigmoid's output variance ("linear regime")
ONE_POINT = 0.01  # G8c, G9, G13, G13d, G15, G15b: one point of test accuracy, 10 of the 1000 test examples
INIT_GAIN = 0.4  # G10: BN makes two more of the five init scales train; G10c: the plain net leaves it room
BN_SPREAD = 0.1  # G10b: ten points of accuracy between the best and worst init scale
BALANCED = (0.1, 10)  # G11, G11c: first- to last-layer gradient within a factor 10 either way
GAIN_SPAN = 1.0  # G11d: gradient size moves by under a factor 10 (one decade) across the init gains
GAIN_EXPLODES = 2.0  # G11b: the plain net's gradient size moves by over a factor 100 across the gains
ICS_KEPT = 0.1  # G12: BN's own shift is at least a tenth of its gradient's norm: clearly not eliminated
SHIFTED, UNSHIFTED = 1.1, (0.9, 1.1)  # G13b, G13c: a 10% change of the variance BN sees
LINEAR_GROWTH = (1.9, 2.1)  # G14: linear growth from 0 gives ‖b_T‖/‖b_{T/2}‖ = 2; 5% either way
SMALL_BATCH = 4  # G7's headline, the sweep's smallest: Wu & He's small batches are 2-8 per GPU
RATE_WHY = ("the sentence names no rate; 0.5 is the lecture's hidden-unit rate (000) and the catalogue's, the "
            "headline; 0.1 and 0.2 are the 'tiny dropout rate' it allows, declared before the run")

G1_STATISTIC = ("E[m/(m−1)·mean σ²_B]/σ² (what BatchNorm1d(momentum=None) computes, G1c) at each m ∈ {2, 4, 8, 32}, "
                "judged at every m (the m farthest out, with the hull of the 95% CIs)")
ONE_POINT_WHY = "one point of test accuracy, 10 of the 1000 MNIST-1D test examples (one example is 0.001)"
MONTE_CARLO = ("mc_batches", "mc_channels")  # the set-up values each group of rows depends on
COMPANIONS = ("companions",)
SWEEP = ("seeds", "data", "sweep_epochs", "batches")
TRAINED = ("seeds", "data", "epochs")
INIT = ("seeds", "data", "init_layers", "init_width", "init_lr", "init_epochs")
DEEP = ("seeds", "deep_depths", "deep_width")
DEEP_TRAINING = ("seeds", "deep_width", "deep_steps")
ICS = ("seeds", "data", "ics_steps", "ics_every")
DROPOUT = ("seeds", "data", "epochs", "dropout_width")
DROPOUT_SCOPE = DROPOUT + ("dropout_rates",)  # G13, G13d: judged at every rate
INIT_SCOPE = INIT + ("init_scales",)  # G10b: judged up to every scale from He on

CLAIMS = [
    Claim("G1", "lecture", "The inference variance m/(m−1)·E_B[σ²_B] is unbiased", G1_STATISTIC,
          between(*UNBIASED, null=1.0, why="a 1% window around unbiased; the plain average is 3% low even at m = 32"),
          setup=MONTE_CARLO),
    Claim("G1c", "check", "torch's BatchNorm1d(momentum=None) computes the lecture's m/(m−1)·E_B[σ²_B]",
          "max over m, channels of |running_var / (m/(m−1)·mean σ²_B) − 1|", at_most(1e-12)),
    Claim("G1d", "derived", "000's text: averaging the batch standard deviations is biased low (Jensen)",
          "(m/(m−1))·(E[mean σ_B])²/σ² at m = 8", at_most(0.99), setup=MONTE_CARLO),
    Claim("G2", "lecture", "At inference BN is one affine map and folds into the preceding layer",
          "max |eval-mode BN(Wx + b) − (W'x + b')|, trained torch Linear + BatchNorm1d, float64", at_most(1e-10)),
    Claim("G2b", "derived", "The fold in float32", "the same in float32", at_most(1e-5)),
    Claim("G3", "lecture", "BN can represent the identity with γ = Var[x], β = E[x] (as printed)",
          "max |γ·x̂ + β − x| with γ = Var_B[x], β = E_B[x], x ~ N(3, 2²), float64", at_most(1e-5)),
    Claim("G3b", "check", "The identity with the standard deviation (Ioffe & Szegedy §3)",
          "max |γ·x̂ + β − x| with γ = √(Var_B[x] + ε), β = E_B[x]", at_most(1e-10)),
    Claim("G4", "lecture", "After BN (train mode) each unit's batch mean and variance depend only on β, γ "
          "(judged where the unit's variance σ² ≫ ε; G4d below)",
          "max over weight scales a ∈ 10^[−3, 2] with σ² ≥ 1000ε of max(|mean − β|, |std/|γ| − 1|)", at_most(1e-3)),
    Claim("G4b", "derived", "ε breaks it where σ² is not ≫ ε", "the same deviation at a = 10^−3 (σ² ≈ 2·10^−6 < ε)",
          at_least(0.1)),
    Claim("G4c", "derived", "In eval mode the output moments do depend on the previous layer",
          "max over a of the eval-mode deviation (running statistics from a = 1)", at_least(0.1)),
    Claim("G4d", "derived", "Where σ² is not ≫ ε (ε ≤ σ² < 1000ε) the moments already miss β, γ by more than "
          "G4's tolerance", "max over the weight scales with ε ≤ σ² < 1000ε of max(|mean − β|, |std/|γ| − 1|)",
          at_least(1e-3)),
    Claim("G5", "lecture", "Larger weights do not blow BN up: its output is invariant to the weight scale",
          "max over a ∈ [1, 100] of ‖BN(aWx) − BN(Wx)‖/‖BN(Wx)‖, float64", at_most(1e-5)),
    Claim("G5b", "derived", "The gradient with respect to aW shrinks as 1/a (Ioffe & Szegedy §3.3)",
          "log-log slope of ‖∂L/∂(aW)‖ against a ∈ [1, 100]", between(-1.02, -0.98)),
    Claim("G5c", "check", "The gradient of a scale-invariant weight is orthogonal to it",
          "max over units of |cos(∂L/∂w_j, w_j)|, BN with ε = 1e-20", at_most(1e-10)),
    Claim("G5d", "check", "Under plain SGD ‖W‖² grows by η²‖g‖² per step (van Laarhoven 2017)",
          "max over 50 steps of |‖W_{t+1}‖² − ‖W_t‖² − η²‖g_t‖²| / (η²‖g_t‖²), BN with ε = 1e-20", at_most(1e-6)),
    Claim("G6", "lecture", "With BN a sample's output depends on its batch companions",
          "std of one sample's train-mode BN output over 200 companion sets at m = 32, mean over 64 features",
          at_least(0.01, null=0.0, why="1% of the unit standard deviation of BN's output"), setup=COMPANIONS),
    Claim("G6b", "derived", "The companion noise falls as 1/√m",
          "log-log slope of that std against m ∈ {4, …, 128}", between(-0.6, -0.4), setup=COMPANIONS),
    Claim("G6c", "lecture", "LayerNorm, GroupNorm and InstanceNorm are batch-independent",
          "max std of one sample's output over companion sets, LN, GN (8 groups), IN, every m", at_most(1e-7),
          setup=COMPANIONS),
    Claim("G7", "lecture", "GroupNorm improves on BatchNorm at small batch size",
          "(BN's test-accuracy drop from B = 32 to B) − (GN's drop), paired per seed, MNIST-1D MLP, at each small B",
          exceeds(0.0, GN_GAIN, "five points of test accuracy, 50 of 1000 MNIST-1D test examples"), setup=SWEEP,
          scope=Scope("batches", SMALL_BATCH, "Wu & He's small batches are 2–8 per GPU; in an MLP BN at B = 2 "
                                              "outputs ±1 whatever the input, so the sweep starts at 4")),
    Claim("G7b", "derived", "BN at small batch: the running averages serve inference at least as well "
          "as batch statistics", "BN test accuracy eval mode − train mode (test batches of the same size), at each "
          "small B", at_least(0.0), setup=SWEEP, scope=Scope("batches", SMALL_BATCH, "as G7")),
    Claim("G8", "lecture", "BN puts sigmoid units in their linear regime",
          "R² of a linear fit of σ(BN(z)) on BN(z) at init (no affine), mean over units and layers, MNIST-1D",
          at_least(LINEAR_R2), setup=TRAINED),
    Claim("G8b", "lecture", "γ and β let the units escape the linear regime",
          "R² of σ(u) on u after training with affine BN (eval mode), mean over units and layers",
          at_most(LINEAR_R2), premise="G8", setup=TRAINED),
    Claim("G8c", "lecture", "Without γ, β performance suffers",
          "test accuracy affine BN − BN without affine (sigmoid MLP, MNIST-1D), paired",
          exceeds(0.0, ONE_POINT, ONE_POINT_WHY), setup=TRAINED),
    Claim("G8d", "derived", "It is BN that makes the units linear (inputs: MNIST-1D, centred, unit-sd features)",
          "R² at init with BN − R² at init without BN, paired", at_least(0.0), setup=TRAINED),
    Claim("G9", "lecture", "It matters whether BN goes before or after the nonlinearity",
          "|test accuracy BN-before-ReLU − BN-after-ReLU|, MNIST-1D MLP (folded interval of the paired difference)",
          exceeds(0.0, ONE_POINT, ONE_POINT_WHY), setup=TRAINED),
    Claim("G10", "lecture", "BN reduces the dependence on initialisation",
          "fraction of init scales ×{0.1, 0.3, 1, 3, 10} of He where training works (test acc ≥ 0.3), BN − none, "
          "8-hidden-layer MLP on MNIST-1D",
          exceeds(0.0, INIT_GAIN, "two of the five init scales (one scale is the statistic's resolution)"),
          premise="G10c", setup=INIT),
    Claim("G10b", "derived", "BN removes the dependence on the init scale",
          "BN's test accuracy, max − min over the init scales ×0.1 … ×s of He, at each largest scale s ≥ 1",
          at_most(BN_SPREAD), setup=INIT_SCOPE,
          scope=Scope("init_scales", SCALES[-1], "the catalogue's grid ends at ×10, where BN's accuracy sinks "
                                                 "towards G10's 0.3 line; the grid up to ×1 and ×3 shows where the "
                                                 "verdict changes")),
    Claim("G10c", "derived", "Control: without BN, training fails at two or more of the five init scales",
          "fraction of init scales ×{0.1, 0.3, 1, 3, 10} of He where the plain net's training fails (test acc < 0.3)",
          at_least(INIT_GAIN), setup=INIT),
    Claim("G11", "lecture", "BN avoids exploding/vanishing gradients (at init, Yang et al.'s setting)",
          "‖∂L/∂W_1‖ / ‖∂L/∂W_L‖, L × (Linear 256, BatchNorm1d, ReLU) at init, batch 128 (geometric mean), "
          "at each depth L",
          between(*BALANCED, null=1.0, why="a factor 10 either way of equal first- and last-layer gradients"),
          setup=DEEP, scope=Scope("deep_depths", 50, "Yang et al.'s depth; the ratio grows geometrically with L")),
    Claim("G11b", "derived", "Control: without BN the gradient size explodes or vanishes with the init gain",
          "log10(max / min over gains ×{0.7, 1, 1.4} of He of ‖∂L/∂W_l‖), worst layer, 50-layer plain stack at init",
          at_least(GAIN_EXPLODES), setup=DEEP),
    Claim("G11c", "lecture", "BN avoids exploding/vanishing gradients (during training, the lecture's setting)",
          "‖∂L/∂W_1‖ / ‖∂L/∂W_50‖ of the 50-layer BN stack after the SGD steps (lr 0.01, batch 128, MNIST-1D)",
          between(*BALANCED, null=1.0, why="a factor 10 either way of equal first- and last-layer gradients"),
          setup=DEEP_TRAINING),
    Claim("G11d", "lecture", "BN avoids exploding/vanishing gradients (their size across init gains)",
          "log10(max / min over gains ×{0.7, 1, 1.4} of He of ‖∂L/∂W_l‖), worst layer, 50-layer BN stack at init",
          at_most(GAIN_SPAN, null=0.0, why="a factor 10 across the gains; 0 is a size the gain does not move"),
          premise="G11b", setup=DEEP),
    Claim("G12", "lecture", "BN does not eliminate internal covariate shift",
          "BN's relative ICS ‖G − G′‖/‖G‖ (Santurkar's gradient shift over the gradient's norm), mean over "
          "layers and checkpoints",
          exceeds(0.0, ICS_KEPT, "a tenth of the gradient's own norm (0: eliminated)"), setup=ICS),
    Claim("G12b", "derived", "BN increases ICS (Santurkar et al. 2018, their ℓ2 distance)",
          "Santurkar's ICS ‖G − G′‖, BN / no BN, mean over layers and checkpoints (paired ratio)", at_least(1.0),
          setup=ICS),
    Claim("G12c", "derived", "BN increases the relative ICS",
          "relative ICS ‖G − G′‖/‖G‖, BN / no BN, mean over layers and checkpoints (paired ratio)", at_least(1.0),
          setup=ICS),
    Claim("G13", "lecture", "With BN, dropout is unnecessary",
          "test accuracy BN + dropout(p) − BN alone, MNIST-1D MLP, paired, at each dropout rate p",
          at_most(ONE_POINT, null=0.0, why="a gain under one point (10 of 1000 test examples) is no need"),
          premise="G13d", setup=DROPOUT_SCOPE, scope=Scope("dropout_rates", DROPOUT_RATE, RATE_WHY)),
    Claim("G13b", "derived", "Dropout before BN shifts its variance (Li et al. 2019)",
          "running_var / eval-time variance of the second BN's input on the training set, with dropout",
          at_least(SHIFTED), setup=DROPOUT),
    Claim("G13c", "derived", "Control: no shift without dropout", "the same without dropout", between(*UNSHIFTED),
          setup=DROPOUT),
    Claim("G13d", "derived", "Control: dropout helps the same net without BN",
          "test accuracy with dropout(p) − without, the same MLP without BN, MNIST-1D, paired, at each dropout rate p",
          exceeds(0.0, ONE_POINT, "the gain G13 calls unnecessary must be seen without BN"), setup=DROPOUT_SCOPE,
          scope=Scope("dropout_rates", DROPOUT_RATE, "as G13")),
    Claim("G14", "lecture", "Normalising outside the gradient step makes the bias grow without bound",
          "‖b_T‖ / ‖b_{T/2}‖ with a detached mean, T = 200 (linear growth from 0: 2)", between(*LINEAR_GROWTH)),
    Claim("G14b", "check", "… while the loss stays fixed", "max_t |L_t − L_0| with the detached mean", at_most(1e-10)),
    Claim("G14c", "check", "With the mean inside the graph the bias gets no gradient",
          "‖∂L/∂b‖ with the mean in the graph", at_most(1e-12)),
    Claim("G15", "lecture", "LayerNorm works extremely well for MLPs",
          "test accuracy LN − BN at B = 64 (MNIST-1D MLP), paired",
          at_least(-ONE_POINT, null=0.0, why="as good as BN within " + ONE_POINT_WHY), setup=TRAINED),
    Claim("G15b", "lecture", "… better than no normalisation", "test accuracy LN − none at B = 64, MNIST-1D, paired",
          exceeds(0.0, ONE_POINT, ONE_POINT_WHY), setup=TRAINED),
]

RULES: dict[str, Rule] = {c.id: c.rule for c in CLAIMS}

TOLERANCES = {
    "*": {"test_acc": Tol(rtol=0, atol=0.03), "train_mode_acc": Tol(rtol=0, atol=0.03)},
}
DEFAULT_TOLERANCE = Tol(rtol=1e-3, atol=1e-9)


# --- config --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    seeds: int = 10  # the replicates of every training row
    data: str = "mnist1d"  # the trainings' task: MLPs reach 0.6-0.7 there, off digits' 0.97-0.98 ceiling
    epochs: int = option(10, "epochs of the B = 64 trainings (G8, G9, G13, G15); test accuracy has peaked by then")
    # G7: the catalogue's 30 epochs; at 3, G7 at B = 8 read "holds" where 30 epochs give "inconclusive" (ledger)
    sweep_epochs: int = option(30, "epochs of each run of the batch-size sweep (G7)")
    batches: tuple = (4, 8, 16, 32)  # G7: Wu & He's small batches and reference 32 (B = 2: BN outputs ±1 in an MLP)
    init_layers: int = 8  # G10: deep enough that the plain net's training depends on the init scale
    init_width: int = 64  # G10: units per hidden layer
    init_lr: float = 0.02  # G10: an lr at which the plain He-init net trains
    init_epochs: int = option(5, "epochs of each G10 training")
    mc_batches: int = option(1000, "Monte-Carlo batches per batch size for the running variance (G1)")
    mc_channels: int = 1024  # G1's replicates: independent channels of known variance
    companions: int = 200  # G6: companion sets per batch size
    ics_steps: int = 300  # G12: Santurkar's SGD run
    ics_every: int = 50  # G12: steps between ICS checkpoints
    dropout_width: int = 128  # G13: units of the two hidden layers
    dropout_rates: tuple = (0.1, 0.2, DROPOUT_RATE)  # G13's scope: tiny rates and the lecture's 0.5 (headline)
    init_scales: tuple = SCALES  # G10: × He; G10b's scope is the largest scale of the grid it spans
    deep_depths: tuple = (5, 10, 20, 50)  # G11: depths at init, 50 is Yang et al.'s
    deep_width: int = 256  # G11: units per layer
    deep_steps: int = 50  # G11c: SGD steps of the 50-layer BN stack


QUICK = Config(seeds=2, data="digits", epochs=1, sweep_epochs=1, batches=(4, 32), init_layers=3, init_epochs=1,
               mc_batches=200, mc_channels=256, companions=50, ics_steps=40, ics_every=20, deep_depths=(5, 20),
               deep_width=64, deep_steps=5, dropout_rates=(0.1, DROPOUT_RATE))
# For a cluster (not run in CI): 30-epoch sweeps, more seeds and batches.
FULL = Config(seeds=20, sweep_epochs=30, batches=(2, 4, 8, 16, 32, 64, 128), mc_batches=10_000)


def validate(cfg: Config) -> None:
    if REFERENCE_BATCH not in cfg.batches or min(cfg.batches) >= REFERENCE_BATCH:
        raise ValueError(f"batches {cfg.batches} must include {REFERENCE_BATCH} and a smaller batch")
    if DROPOUT_RATE not in cfg.dropout_rates:
        raise ValueError(f"dropout_rates {cfg.dropout_rates} must include the lecture's {DROPOUT_RATE} (G13's headline)")
    if 1.0 not in cfg.init_scales:
        raise ValueError(f"init_scales {cfg.init_scales} must include He's ×1 (G10b's smallest span)")
    if cfg.ics_every > cfg.ics_steps:
        raise ValueError("--ics-every must not exceed the ICS steps")


# --- units ---------------------------------------------------------------------------------------

def units(cfg: Config) -> list[dict]:
    """The sweep's runs first (the long ones, smallest batch included), then the rest."""
    out = [dict(part="sweep", seed=s, norm=n) for s in range(cfg.seeds) for n in SWEEP_NORMS]
    out += [dict(part=p, seed=s) for p in ("init", "mlp", "dropout", "ics") for s in range(cfg.seeds)]
    return out + [dict(part="exact")]


def run_unit(cfg: Config, unit: dict) -> dict[str, pd.DataFrame]:
    part = unit["part"]
    if part == "exact":
        return exact.exact_unit(cfg)
    if part == "sweep":
        return trainings.sweep_unit(cfg, unit["seed"], unit["norm"])
    return {"init": trainings.init_scale_unit, "mlp": trainings.mlp_unit, "dropout": trainings.dropout_unit,
            "ics": trainings.ics_unit}[part](cfg, unit["seed"])


# --- statistics: one line per claim --------------------------------------------------------------

def estimate(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, Estimate | dict]:
    t = tables
    return {
        "G1": variance_ratio_at_every_m(t["running_variance"], RULES["G1"]),
        "G1c": exact_check(t["exact"], "G1c"),
        "G1d": stats.mean_ci(stats.select(t["running_variance"], m=8).std_ratio),
        "G2": exact_check(t["exact"], "G2"),
        "G2b": exact_check(t["exact"], "G2b"),
        "G3": exact_check(t["exact"], "G3"),
        "G3b": exact_check(t["exact"], "G3b"),
        "G4": train_deviation(t["moments"], low=RESOLVED * EPS),
        "G4b": train_deviation_at_smallest_scale(t["moments"]),
        "G4c": Estimate.exact(t["moments"].eval_deviation.max()),
        "G4d": train_deviation(t["moments"], low=EPS, high=RESOLVED * EPS),
        "G5": output_change_over_scales(t["weight_scale"]),
        "G5b": gradient_slope_over_scales(t["weight_scale"]),
        "G5c": exact_check(t["exact"], "G5c"),
        "G5d": norm_growth_identity_gap(t["scale_sgd"]),
        "G6": bn_companion_std(t["companions"], m=32),
        "G6b": companion_noise_slope(t["companions"]),
        "G6c": batch_independent_std(t["companions"]),
        "G7": at_each_small_batch(t["sweep"], bn_minus_gn_drop),
        "G7b": at_each_small_batch(t["sweep"], eval_minus_train_mode),
        "G8": r2_at_init_without_affine(t["sigmoid"]),
        "G8b": stats.mean_ci(stats.per_seed(t["sigmoid"], "r2_trained", variant="bn_affine"), bounds=(0, 1)),
        "G8c": paired(t["sigmoid"], "test_acc", variant=("bn_affine", "bn_plain")),
        "G8d": paired(t["sigmoid"], "r2_init", variant=("bn_plain", "none")),
        "G9": folded(paired(t["placement"], "test_acc", placement=("before", "after"))),
        "G10": works_fraction_bn_minus_none(t["init_scale"]),
        "G10b": {s: bn_spread_over_init_scales(t["init_scale"], up_to=s) for s in cfg.init_scales if s >= 1.0},
        "G10c": plain_fail_fraction(t["init_scale"]),
        "G11": {d: first_over_last_layer_gradient(t["deep_gradients"], study="depth", norm="bn", depth=d)
                for d in cfg.deep_depths},
        "G11b": gradient_span_over_gains(t["deep_gradients"], "none"),
        "G11c": first_over_last_layer_gradient(t["deep_gradients"], study="training", step=cfg.deep_steps),
        "G11d": gradient_span_over_gains(t["deep_gradients"], "bn"),
        "G12": mean_bn_ics(t["ics"]),
        "G12b": ics_ratio_bn_over_none(t["ics"], "ics_abs"),
        "G12c": ics_ratio_bn_over_none(t["ics"], "ics"),
        "G13": {p: dropout_gain(t["dropout"], "bn", p) for p in cfg.dropout_rates},
        "G13b": variance_shift(t["variance_shift"], "bn_dropout"),
        "G13c": variance_shift(t["variance_shift"], "bn"),
        "G13d": {p: dropout_gain(t["dropout"], "none", p) for p in cfg.dropout_rates},
        "G14": bias_growth_ratio(t["bias_growth"]),
        "G14b": Estimate.exact((t["bias_growth"].loss - t["bias_growth"].loss.iloc[0]).abs().max()),
        "G14c": exact_check(t["exact"], "G14c"),
        "G15": paired(t["layernorm"], "test_acc", norm=("ln", "bn")),
        "G15b": paired(t["layernorm"], "test_acc", norm=("ln", "none")),
    }


def paired(table: pd.DataFrame, column: str | tuple[str, str], **where: tuple) -> Estimate:
    """Per-seed difference a − b: ``column`` (or a pair of columns) at ``where``'s first values
    minus at its second (``variant=("bn_affine", "bn_plain")``); same seed, same init and batches."""
    a_col, b_col = (column, column) if isinstance(column, str) else column
    a = stats.per_seed(table, a_col, **{k: v[0] for k, v in where.items()})
    b = stats.per_seed(table, b_col, **{k: v[1] for k, v in where.items()})
    return stats.paired_difference(a, b)


def folded(est: Estimate) -> Estimate:
    """|θ| with the interval {|t| : t in the interval of θ}."""
    lo, hi = est.ci_low, est.ci_high
    if lo >= 0:
        return est
    if hi <= 0:
        return Estimate(-est.value, -hi, -lo)
    return Estimate(abs(est.value), 0.0, max(-lo, hi))


def exact_check(checks: pd.DataFrame, check: str) -> Estimate:
    return Estimate.exact(checks[checks.check == check].value.max())


def variance_ratio_at_every_m(var: pd.DataFrame, rule: Rule) -> Estimate:
    """G1: the mean ratio to σ² over channels at each m, judged in every group: it fails as soon
    as one m's interval lies outside."""
    return stats.every_group([stats.mean_ci(stats.select(var, m=m).corrected_ratio) for m in G1_MS], rule)


def train_deviation(moments: pd.DataFrame, low: float, high: float = float("inf")) -> Estimate:
    """G4, G4d: the worst train-mode deviation over the scales whose smallest σ² is in [low, high)."""
    return Estimate.exact(moments[(moments.min_var >= low) & (moments.min_var < high)].train_deviation.max())


def train_deviation_at_smallest_scale(moments: pd.DataFrame) -> Estimate:
    return Estimate.exact(moments.loc[moments.scale.idxmin()].train_deviation)


def output_change_over_scales(scales: pd.DataFrame) -> Estimate:
    """G5: the largest ‖BN(aWx) − BN(Wx)‖/‖BN(Wx)‖ over the scales a."""
    return Estimate.exact(scales.rel_diff.max())


def gradient_slope_over_scales(scales: pd.DataFrame) -> Estimate:
    return stats.loglog_slope_ci(scales.scale, scales.grad_norm)


def norm_growth_identity_gap(sgd: pd.DataFrame) -> Estimate:
    """G5d: max relative gap of ‖W_{t+1}‖² − ‖W_t‖² from η²‖g_t‖², ε-free layer."""
    exact_layer = sgd[sgd.eps == TINY_EPS]
    return Estimate.exact(((exact_layer.delta - exact_layer.lr2_grad_sq).abs() / exact_layer.lr2_grad_sq).max())


def bn_companion_std(comp: pd.DataFrame, m: int) -> Estimate:
    """G6: one sample's BN output std over companion sets at batch m, mean over features."""
    return stats.mean_ci(stats.select(comp, norm="bn", m=m)["std"])


def companion_noise_slope(comp: pd.DataFrame) -> Estimate:
    """G6b: log-log slope of BN's companion std (mean over features) against m ≥ 4."""
    at_m = comp[comp.norm == "bn"].groupby("m")["std"].mean()
    at_m = at_m[at_m.index >= 4]
    return stats.loglog_slope_ci(at_m.index.to_numpy(), at_m.to_numpy())


def batch_independent_std(comp: pd.DataFrame) -> Estimate:
    """G6c: the largest companion std of LN, GN and IN."""
    return Estimate.exact(comp[comp.norm != "bn"]["std"].max())


def at_each_small_batch(sweep: pd.DataFrame, statistic) -> dict[int, Estimate]:
    """G7, G7b: the statistic at every batch of the sweep below the reference."""
    return {int(b): statistic(sweep, int(b)) for b in sorted(sweep.batch.unique()) if b < REFERENCE_BATCH}


def bn_minus_gn_drop(sweep: pd.DataFrame, small: int) -> Estimate:
    """G7: per seed, BN's accuracy drop from the reference batch to ``small``, minus GN's."""
    def drop(norm):
        return (stats.per_seed(sweep, "test_acc", norm=norm, batch=REFERENCE_BATCH)
                - stats.per_seed(sweep, "test_acc", norm=norm, batch=small))

    return stats.paired_difference(drop("bn"), drop("gn"))


def eval_minus_train_mode(sweep: pd.DataFrame, small: int) -> Estimate:
    bn_small = stats.select(sweep, norm="bn", batch=small).sort_values("seed")
    return stats.paired_difference(bn_small.test_acc, bn_small.train_mode_acc)


def r2_at_init_without_affine(sig: pd.DataFrame) -> Estimate:
    return stats.mean_ci(stats.per_seed(sig, "r2_init", variant="bn_plain"), bounds=(0, 1))


def works_fraction(scale: pd.DataFrame, norm: str):
    """Per seed (in seed order), the fraction of init scales whose training works."""
    works = scale.assign(works=(scale.test_acc >= WORKS).astype(float))
    return works[works.norm == norm].groupby("seed").works.mean().sort_index().to_numpy()


def works_fraction_bn_minus_none(scale: pd.DataFrame) -> Estimate:
    """G10: per seed, the fraction of init scales whose training works, BN − none."""
    return stats.paired_difference(works_fraction(scale, "bn"), works_fraction(scale, "none"))


def plain_fail_fraction(scale: pd.DataFrame) -> Estimate:
    """G10c: per seed, the fraction of init scales where the plain net's training fails."""
    return stats.mean_ci(1 - works_fraction(scale, "none"))


def bn_spread_over_init_scales(scale: pd.DataFrame, up_to: float) -> Estimate:
    """G10b: per seed, BN's test accuracy max − min over the init scales ≤ ``up_to``."""
    bn = stats.per_seed(scale[scale.scale <= up_to], "test_acc", by="scale", norm="bn")
    return stats.mean_ci(bn.max(1) - bn.min(1))


def first_over_last_layer_gradient(deep: pd.DataFrame, **where) -> Estimate:
    """G11, G11c: per seed ‖∂L/∂W_1‖ / ‖∂L/∂W_L‖, geometric mean over seeds."""
    g = stats.per_seed(deep, "grad_norm", by="layer", **where)
    return stats.geometric_mean_ci(g[:, 0] / g[:, -1])


def gradient_span_over_gains(deep: pd.DataFrame, norm: str) -> Estimate:
    """G11b, G11d: per seed, log10(max / min over the init gains of ‖∂L/∂W_l‖) at the worst layer."""
    part = stats.select(deep, study="gain", norm=norm).assign(log10=lambda t: np.log10(t.grad_norm))
    span = part.groupby(["seed", "layer"]).log10.agg(lambda v: v.max() - v.min())
    return stats.mean_ci(span.groupby("seed").max().sort_index().to_numpy())


def mean_bn_ics(ics: pd.DataFrame) -> Estimate:
    """G12: per seed, BN's relative ICS averaged over layers and checkpoints."""
    return stats.mean_ci(ics[ics.norm == "bn"].groupby("seed").ics.mean().sort_index().to_numpy())


def ics_ratio_bn_over_none(ics: pd.DataFrame, column: str) -> Estimate:
    """G12b, G12c: per seed, BN's mean ICS over layers and checkpoints over the plain net's."""
    mean = ics.groupby(["norm", "seed"])[column].mean()
    return stats.paired_ratio(mean["bn"].sort_index().to_numpy(), mean["none"].sort_index().to_numpy())


def dropout_gain(table: pd.DataFrame, norm: str, p: float) -> Estimate:
    """G13, G13d: per seed, test accuracy with dropout at rate ``p`` − without, same weights and batches."""
    return stats.paired_difference(stats.per_seed(table, "test_acc", variant=f"{norm}_dropout", p=p),
                                   stats.per_seed(table, "test_acc", variant=norm))


def variance_shift(shift: pd.DataFrame, variant: str) -> Estimate:
    """G13b, G13c: geometric mean of the second BN's running_var / eval-time variance."""
    return stats.geometric_mean_ci(stats.per_seed(shift, "ratio", variant=variant))


def bias_growth_ratio(growth: pd.DataFrame) -> Estimate:
    """G14: ‖b_T‖ / ‖b_{T/2}‖."""
    norms = growth.sort_values("step").bias_norm.to_numpy()
    t = len(norms) - 1
    return Estimate.exact(norms[t] / norms[t // 2])


# --- facts the method text cites -----------------------------------------------------------------

def judged(claim: str, est: Estimate) -> str:
    """'value [CI] verdict' of one scope setting, the row's own rule (premises aside)."""
    return f"{value_with_ci(est.value, est.ci_low, est.ci_high)} {RULES[claim].verdict(est)}"


def scope_facts(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, str]:
    """G13 and G13d at each dropout rate, G10b up to each init scale: one line each for the method text."""
    drop = tables["dropout"]

    def at_rate(p):
        control = dropout_gain(drop, "none", p)
        with_bn = judged("G13", dropout_gain(drop, "bn", p))
        if RULES["G13d"].verdict(control) != "holds":  # G13's premise, at this rate
            with_bn = with_bn.rsplit(" ", 1)[0] + " untestable"
        return f"p = {p:g}: without BN {judged('G13d', control)}, with BN {with_bn}"

    rates = "; ".join(at_rate(p) for p in cfg.dropout_rates)
    spreads = "; ".join(f"up to ×{s:g}: {judged('G10b', bn_spread_over_init_scales(tables['init_scale'], s))}"
                        for s in cfg.init_scales if s >= 1.0)
    return {"dropout_by_rate": rates, "bn_spread_by_scale": spreads}


def facts(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, float | int | str]:
    sweep, sig, scale, deep = tables["sweep"], tables["sigmoid"], tables["init_scale"], tables["deep_gradients"]
    small = SMALL_BATCH if SMALL_BATCH in set(sweep.batch) else int(sweep.batch.min())
    deepest = max(cfg.deep_depths)
    at_init = stats.per_seed(deep, "grad_norm", by="layer", study="depth", norm="bn", depth=deepest)
    works = scale.assign(works=scale.test_acc >= WORKS).groupby("norm").works.mean()
    gains = stats.select(deep, study="gain", layer=deepest).groupby(["norm", "gain"]).grad_norm.apply(
        lambda v: float(np.exp(np.log(v).mean())))
    early = first_over_last_layer_gradient(deep, study="training", step=min(10, cfg.deep_steps))

    def acc(table, **where):
        return float(stats.select(table, **where).test_acc.mean())

    return {"headline_batch": small, "bn_acc_reference": acc(sweep, norm="bn", batch=REFERENCE_BATCH),
            "bn_acc_small": acc(sweep, norm="bn", batch=small), "gn_acc_small": acc(sweep, norm="gn", batch=small),
            "gn_acc_reference": acc(sweep, norm="gn", batch=REFERENCE_BATCH),
            "r2_init_none": float(stats.select(sig, variant="none").r2_init.mean()),
            "mean_abs_gamma": float(stats.select(sig, variant="bn_affine").mean_abs_gamma.mean()),
            "acc_bn_relu": acc(tables["layernorm"], norm="bn"), "acc_none_relu": acc(tables["layernorm"], norm="none"),
            "acc_ln_relu": acc(tables["layernorm"], norm="ln"),
            "acc_dropout_none": acc(tables["dropout"], variant="none"),
            "acc_dropout_bn": acc(tables["dropout"], variant="bn"),
            "acc_dropout_none_headline": acc(tables["dropout"], variant="none_dropout", p=DROPOUT_RATE),
            # Yang et al.'s quantity: the squared gradient norm's growth per layer, from G11's ratio
            "bn_growth_per_layer": float(stats.geometric_mean_ci(at_init[:, 0] / at_init[:, -1]).value
                                         ** (2 / (at_init.shape[1] - 1))),
            "ratio_after_10_steps": early.value,
            "last_grad_none_low": float(gains["none"][min(GAINS)]), "last_grad_none_high": float(gains["none"][max(GAINS)]),
            "last_grad_bn_low": float(gains["bn"][min(GAINS)]), "last_grad_bn_high": float(gains["bn"][max(GAINS)]),
            "works_bn": float(works["bn"]), "works_none": float(works["none"]),
            "bn_acc_largest_scale": float(stats.select(scale, norm="bn", scale=max(cfg.init_scales)).test_acc.mean()),
            "bn_acc_he": float(stats.select(scale, norm="bn", scale=1.0).test_acc.mean()),
            **scope_facts(tables, cfg)}
