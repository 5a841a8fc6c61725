"""Normalisation layers: batch norm at train and test time, LayerNorm and GroupNorm (claims G1-G15).

Exact parts (G1-G6, G14) run torch's own BatchNorm1d / LayerNorm / GroupNorm / InstanceNorm1d
in float64 on synthetic tensors. Training parts run MLPs on sklearn digits (centred) and on
500 MNIST digits with numpy forward/backward passes (dlclaims.normalisation, tested against
torch's modules and autograd), seeds as the replicates: a batch-size sweep of BN, GN, LN and
no normalisation (G7, G15), a sigmoid MLP (G8), BN before or after ReLU (G9), an init-scale
sweep (G10), Santurkar's internal covariate shift (G12) and dropout with BN (G13). G11 is a
50-layer BN network at init, in torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import torch
from torch import nn

from dlclaims.methods import data
from dlclaims.suite import cli, plots, stats
from dlclaims.suite.contract import Tol, option
from dlclaims.suite.claims import Claim, Estimate, at_least, at_most, between
from dlclaims.methods.numpy_mlp import MLP, accuracy, sgd_epochs, train_mode_accuracy

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

NOTES = """\
**Set-up.** *Exact rows* (G1-G6, G14) use torch's modules in float64 on synthetic Gaussian
tensors. G1 feeds `BatchNorm1d(momentum=None)` (the cumulative average the lecture's
Algorithm 2 describes) 1000 batches of m samples of 1024 independent channels with known
variances; the channels are the replicates. G2 trains a Linear + BatchNorm1d pair for 50
SGD steps, then compares eval-mode BN(Wx + b) with the folded W'x + b'. G4/G5 scale the
previous layer's weights by a. G6 keeps one sample fixed and redraws its m − 1 batch
companions 200 times. G14 centres with a mean computed outside the gradient (detached).

*Training rows* run on sklearn digits (1437 train / 360 test, centred by the train mean)
with MLP 64-128-128-128-10 (He-uniform hidden weights, head U(±1/√n), zero biases), SGD +
momentum 0.9 in torch's convention, lr = 0.05·B/32, shuffled batches with the last partial
batch dropped. GroupNorm uses 8 groups of 16 units. Each seed draws one set of uniform
weights and one batch order shared by all variants (a paired design: contrasts are
per-seed differences). The batch-size sweep (G7) trains every variant at B ∈ {2, 4, 8, 32, 128}
for 5 epochs (the catalogue's 30 epochs at batch 2 is 21 500 steps per run and
would not fit the run-time budget; 5 epochs at B = 2 is still 3 590 steps; a first run at
10 epochs gave the same picture, G7 = 0.56 [0.45, 0.67]); G8, G9, G10
and G15 train 30 epochs at B = 64. G12 follows Santurkar et al. §2.2: MLP 64-100×5-10,
plain SGD lr 0.1, batch 128, 300 steps; at every 50th step the gradient G of layer k is
compared with G′, the same gradient after the layers before k took this step (layers ≥ k
at their old weights, same batch); ICS = ‖G − G′‖/‖G‖, mean over layers 2-6 and the
checkpoints. G13: MLP 784-256-256-10 with BN before ReLU on 500 MNIST digits (1000 test),
dropout 0.5 after each block (so the second BN sees dropped inputs), 30 epochs, batch 64.
The training passes are numpy with hand-written backward passes
(`dlclaims.normalisation`), 2-3× faster than torch's autograd on these tiny batches and
tested against torch's BatchNorm1d, GroupNorm, LayerNorm and autograd in float64.

**Anchors, with our numbers beside theirs.**
Ioffe & Szegedy (2015): Algorithm 2 uses Var[x] = m/(m−1)·E_B[σ²_B] (G1) and folds BN into one
affine map (G2); §3 recovers the identity with γ = √Var[x], β = E[x] (G3: the slide's γ =
Var[x] is a misprint, judged as printed and failing, with the corrected form as a check
row); §3.3 BN(aWu) = BN(Wu) and ∂/∂(aW) = (1/a)·∂/∂W (G5); §2 the bias that "will grow
indefinitely while the loss remains fixed" (G14); §4.2.1 "Remove Dropout" (G13). Wu & He
(2018): ResNet-50 on ImageNet, BN top-1 error 23.6% at 32 images/GPU and 34.7% at 2 (an
11.1-point drop), GN 24.1% at both (G7 compares the drops: BN's minus GN's). Ba, Kiros &
Hinton (2016): LayerNorm, batch-independent (G6, G15). Santurkar et al. (2018) §2.2: with
this gradient-based ICS, BN networks show similar or even larger ICS than plain ones (G12).
Yang et al. (ICLR 2019): at init, gradients of deep BN networks explode exponentially with
depth, "batch normalization itself is the cause"; for ReLU at large batch the squared
gradient norm grows by about π/(π−1) ≈ 1.47 per layer (G11 reports our per-layer factor).
Li et al. (CVPR 2019): dropout before BN makes the running variance differ from the test-time
variance ("variance shift", G13b). Huang et al. (2018) decorrelated BN contradicts 004's
"Definitely won't work" for full whitening (note only, not a row).

**What we find (default run, 3 seeds).** The formulas hold exactly: the m/(m−1) running
variance is unbiased (G1 1.001 [0.998, 1.004]; averaging σ_B instead gives 0.932 at m = 8,
Jensen's c₄² = 0.931), the fold is exact (1e-15), the identity needs √Var, not the printed
Var (G3 error 7.6: a slide misprint), BN's output moments are β, γ in train mode only (eval
mode: 111), and outputs are scale invariant for larger weights (2.5e-6, gradient slope
−1.000). One sample's BN output moves with its companions as m^−0.47 (std 0.21 at m = 32);
LN, GN and IN do not move at all. **Batch size (G7):** BN's test accuracy falls from 0.98 at
B = 32 to 0.48 at B = 2 (seeds 0.64, 0.37, 0.43) while GN stays at 0.97: BN's drop exceeds
GN's by 0.50 [0.12, 0.89] (Wu & He: 11.1 points for BN, 0 for GN, ResNet-50 on ImageNet);
at B = 2 batch statistics at test time are worse still (eval − train mode 0.22). **Sigmoid
(G8):** with BN the units are nearly linear at init (R² 0.987), but the plain net is *more*
linear (0.9996, G8d fails), training with γ, β lowers R² by only 0.002 (mean |γ| 1.15), and
affine vs no affine is 0.006 [−0.001, 0.012]: the linear-regime story is true but tiny on
this MLP. **Placement (G9)** makes no measurable difference (|Δ| 0.002 [0, 0.012]).
**Initialisation (G10):** BN trains at every scale ×0.1…×10 (spread 0.02); without BN only
×10 fails (diverges), so BN − none is 1/5 = 0.2 < 0.4 and the row fails as declared: BN
removes the failure at ×10, but the plain net's dependence was not strong to begin with.
**Gradients (G11):** at init the 50-layer BN net's first-layer gradient is 1.0e4 [6.6e3,
1.5e4] times its last layer's, a squared-norm growth of 1.457 per layer against Yang et
al.'s π/(π−1) = 1.467; the He-init plain net stays within [0.06, 2.3]: the lecture's "avoids
exploding gradients" fails at init. **Covariate shift (G12):** BN's ICS is 0.60 [0.37,
0.97] of the plain net's: lower, not "eliminated" and not larger as Santurkar et al. found on
their VGG/CIFAR set-up (G12b fails); G12 is inconclusive. **Dropout (G13):** dropout adds
nothing with BN on 500 MNIST digits (−0.002 [−0.008, 0.003]), and dropout before BN shifts its
variance by 1.41× (Li et al.'s variance shift; 1.009 without dropout). **LayerNorm (G15):**
LN − BN −0.002 [−0.018, 0.014] and LN − none 0.005 [−0.023, 0.033]: LN is as good as BN and no
normalisation on this MLP, inconclusive against both rules at 3 seeds.

**Rows whose form differs from the catalogue.** G1's four batch sizes are judged by the
envelope of their intervals (holds only if every m holds). G5's lecture row is about *larger*
weights (a ∈ [1, 100]); below a = 1 the ε in √(σ² + ε) breaks the invariance as it does G4's
(G4b shows where). G9's "matters" is |Δ accuracy| ≥ 0.005 (half a point; its interval is
the folded interval of the difference) because "the CI excludes 0" is not one region. G14's
unbounded growth is ‖b_T‖/‖b_{T/2}‖ = 2 (linear growth from 0). The derived rows (b, c, …)
are controls and mechanisms the catalogue asks to report."""

CLAIMS = [
    Claim("G1", "lecture", "The inference variance m/(m−1)·E_B[σ²_B] is unbiased",
          "E[m/(m−1)·mean σ²_B]/σ² (what BatchNorm1d(momentum=None) computes, G1c), envelope of the 95% CIs "
          "over m ∈ {2, 4, 8, 32}", between(0.99, 1.01)),
    Claim("G1b", "derived", "The plain average of σ²_B is biased low by (m−1)/m",
          "E[mean σ²_B]/σ² ÷ ((m−1)/m), envelope over m", between(0.99, 1.01)),
    Claim("G1c", "check", "torch's BatchNorm1d(momentum=None) computes the lecture's m/(m−1)·E_B[σ²_B]",
          "max over m, channels of |running_var / (m/(m−1)·mean σ²_B) − 1|", at_most(1e-12)),
    Claim("G1d", "derived", "000's text: averaging the batch standard deviations is biased low (Jensen)",
          "(m/(m−1))·(E[mean σ_B])²/σ² at m = 8", at_most(0.99)),
    Claim("G2", "lecture", "At inference BN is one affine map and folds into the preceding layer",
          "max |eval-mode BN(Wx + b) − (W'x + b')|, trained torch Linear + BatchNorm1d, float64", at_most(1e-10)),
    Claim("G2b", "derived", "The fold in float32", "the same in float32", at_most(1e-5)),
    Claim("G3", "lecture", "BN can represent the identity with γ = Var[x], β = E[x] (as printed)",
          "max |γ·x̂ + β − x| with γ = Var_B[x], β = E_B[x], x ~ N(3, 2²), float64", at_most(1e-5)),
    Claim("G3b", "check", "The identity with the standard deviation (Ioffe & Szegedy §3)",
          "max |γ·x̂ + β − x| with γ = √(Var_B[x] + ε), β = E_B[x]", at_most(1e-10)),
    Claim("G4", "lecture", "After BN (train mode) each unit's batch mean and variance depend only on β, γ",
          "max over weight scales a ∈ 10^[−3, 2] with σ² ≥ 1000ε of max(|mean − β|, |std/|γ| − 1|)", at_most(1e-3)),
    Claim("G4b", "derived", "ε breaks it where σ² is not ≫ ε", "the same deviation at a = 10^−3 (σ² ≈ 2·10^−6 < ε)",
          at_least(0.1)),
    Claim("G4c", "derived", "In eval mode the output moments do depend on the previous layer",
          "max over a of the eval-mode deviation (running statistics from a = 1)", at_least(0.1)),
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
          at_least(0.01)),
    Claim("G6b", "derived", "The companion noise falls as 1/√m",
          "log-log slope of that std against m ∈ {4, …, 128}", between(-0.6, -0.4)),
    Claim("G6c", "lecture", "LayerNorm, GroupNorm and InstanceNorm are batch-independent",
          "max std of one sample's output over companion sets, LN, GN (8 groups), IN, every m", at_most(1e-7)),
    Claim("G7", "lecture", "GroupNorm improves on BatchNorm at small batch size",
          "(BN's test-accuracy drop from B = 32 to the smallest B) − (GN's drop), paired per seed", at_least(0.05)),
    Claim("G7b", "derived", "BN at the smallest batch: the running averages serve inference at least as well "
          "as batch statistics", "BN test accuracy eval mode − train mode (test batches of the same size)",
          at_least(0.0)),
    Claim("G8", "lecture", "BN puts sigmoid units in their linear regime",
          "R² of a linear fit of σ(BN(z)) on BN(z) at init (no affine), mean over units and layers", at_least(0.95)),
    Claim("G8b", "lecture", "γ and β let the units escape the linear regime",
          "R² after training with affine BN − R² at init, paired", at_most(0.0)),
    Claim("G8c", "lecture", "Without γ, β performance suffers",
          "test accuracy affine BN − BN without affine (sigmoid MLP), paired", at_least(0.0)),
    Claim("G8d", "derived", "It is BN that makes the units linear",
          "R² at init with BN − R² at init without BN, paired", at_least(0.0)),
    Claim("G9", "lecture", "It matters whether BN goes before or after the nonlinearity",
          "|test accuracy BN-before-ReLU − BN-after-ReLU| (folded interval of the paired difference)",
          at_least(0.005)),
    Claim("G10", "lecture", "BN reduces the dependence on initialisation",
          "fraction of init scales ×{0.1, 0.3, 1, 3, 10} of He where training works (test acc ≥ 0.5), BN − none",
          at_least(0.4)),
    Claim("G10b", "derived", "BN removes the dependence on the init scale",
          "BN's test accuracy, max − min over the init scales", at_most(0.1)),
    Claim("G11", "lecture", "BN avoids exploding/vanishing gradients",
          "‖∂L/∂W_1‖ / ‖∂L/∂W_50‖, 50 × (Linear 256, BatchNorm1d, ReLU) at init, batch 128 (geometric mean)",
          between(0.1, 10)),
    Claim("G11b", "derived", "Control: the same net without BN (He init) keeps gradients balanced",
          "‖∂L/∂W_1‖ / ‖∂L/∂W_50‖ without BN", between(0.1, 10)),
    Claim("G12", "lecture", "BN does not eliminate internal covariate shift",
          "Santurkar's ICS ‖G − G′‖/‖G‖, BN / no BN, mean over layers and checkpoints (paired ratio)", at_least(0.5)),
    Claim("G12b", "derived", "BN increases ICS (Santurkar et al. 2018)", "the same ratio", at_least(1.0)),
    Claim("G13", "lecture", "With BN, dropout is unnecessary",
          "test accuracy BN + dropout(0.5) − BN alone, 500 MNIST digits, paired", at_most(0.005)),
    Claim("G13b", "derived", "Dropout before BN shifts its variance (Li et al. 2019)",
          "running_var / eval-time variance of the second BN's input on the training set, with dropout",
          at_least(1.1)),
    Claim("G13c", "derived", "Control: no shift without dropout", "the same without dropout", between(0.9, 1.1)),
    Claim("G14", "lecture", "Normalising outside the gradient step makes the bias grow without bound",
          "‖b_T‖ / ‖b_{T/2}‖ with a detached mean, T = 200 (linear growth from 0: 2)", between(1.9, 2.1)),
    Claim("G14b", "check", "… while the loss stays fixed", "max_t |L_t − L_0| with the detached mean", at_most(1e-10)),
    Claim("G14c", "check", "With the mean inside the graph the bias gets no gradient",
          "‖∂L/∂b‖ with the mean in the graph", at_most(1e-12)),
    Claim("G15", "lecture", "LayerNorm works extremely well for MLPs",
          "test accuracy LN − BN at B = 64 (digits MLP, 30 epochs), paired", at_least(-0.01)),
    Claim("G15b", "lecture", "… better than no normalisation", "test accuracy LN − none at B = 64, paired",
          at_least(0.0)),
]

TOLERANCES = {
    "*": {"test_acc": Tol(rtol=0, atol=0.03), "train_mode_acc": Tol(rtol=0, atol=0.03)},
}
DEFAULT_TOLERANCE = Tol(rtol=1e-3, atol=1e-9)

NORMS = ("bn", "gn", "ln", "none")
NORM_LABELS = {"bn": "BatchNorm", "gn": "GroupNorm (8 groups)", "ln": "LayerNorm", "none": "no normalisation",
               "in": "InstanceNorm"}
HIDDEN = (128, 128, 128)
REFERENCE_BATCH = 32
TRAIN_BATCH = 64
SCALES = (0.1, 0.3, 1.0, 3.0, 10.0)
G1_MS = (2, 4, 8, 32)
G1_CHUNK = 100  # Monte-Carlo batches drawn at once
G4_SCALES = tuple(10.0 ** (k / 2) for k in range(-6, 5))  # 10^-3 … 10^2
G5_SCALES = tuple(10.0 ** (k / 4) for k in range(0, 9))  # 1 … 100
G6_MS = (2, 4, 8, 16, 32, 64, 128)
EPS = 1e-5
SGD_LR = 0.1  # G5d
TINY_EPS = 1e-20  # the ε-free layer of G5c/G5d (torch refuses ε = 0 in training)


@dataclass(frozen=True)
class Config:
    seeds: int = 3
    epochs: int = option(30, "epochs of the B = 64 digits trainings and the MNIST one (G8-G10, G13, G15)")
    sweep_epochs: int = option(5, "epochs of each run of the batch-size sweep (G7)")
    batches: tuple = (2, 4, 8, 32, 128)
    mc_batches: int = option(1000, "Monte-Carlo batches per batch size for the running variance (G1)")
    mc_channels: int = 1024
    companions: int = 200
    ics_steps: int = 300
    ics_every: int = 50
    mnist_train: int = 500
    dropout_data: str = "mnist"  # G13's data; the smoke run uses digits (no MNIST load)
    deep_layers: int = 50
    deep_width: int = 256


QUICK = Config(seeds=2, epochs=1, sweep_epochs=1, batches=(8, 32), mc_batches=200, mc_channels=256,
               companions=50, ics_steps=60, ics_every=20, dropout_data="digits", deep_layers=20, deep_width=64)
# The catalogue's full set-up, for a cluster (not run in CI): 30-epoch sweeps, more seeds and batches.
FULL = Config(seeds=20, sweep_epochs=30, batches=(2, 4, 8, 16, 32, 64, 128), mc_batches=10_000, mnist_train=5000)


def validate(cfg: Config) -> None:
    if REFERENCE_BATCH not in cfg.batches or min(cfg.batches) >= REFERENCE_BATCH:
        raise ValueError(f"batches {cfg.batches} must include {REFERENCE_BATCH} and a smaller batch")
    if cfg.ics_every > cfg.ics_steps:
        raise ValueError("--ics-every must not exceed the ICS steps")


# --- data ------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def centred(name: str, n_train: int | None = None) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test) as numpy float32, centred by the training mean."""
    s = data.split(name, seed=0, n_train=n_train)
    x, xt = s.x_train.numpy(), s.x_test.numpy()
    mu = x.mean(0)
    return x - mu, s.y_train.numpy(), xt - mu, s.y_test.numpy()


def rngs(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """(init draws, batch order and dropout masks): one pair per seed, shared by every variant."""
    return np.random.default_rng([seed, 0]), np.random.default_rng([seed, 1])


def lr_for(batch: int) -> float:
    return 0.05 * batch / REFERENCE_BATCH


def train_digits(seed: int, batch: int, epochs: int, **net_kw) -> tuple[MLP, bool]:
    x, y, _, _ = centred("digits")
    init_rng, order_rng = rngs(seed)
    net = MLP.init([x.shape[1], *HIDDEN, 10], init_rng, **net_kw)
    ok = sgd_epochs(net, x, y, batch, lr_for(batch), epochs, order_rng)
    return net, ok


def test_accuracy(net: MLP, name: str = "digits", n_train: int | None = None) -> float:
    _, _, xt, yt = centred(name, n_train)
    return accuracy(net, xt, yt)


# --- exact rows: torch's modules in float64 ---------------------------------------------------

def running_variance_study(cfg: Config, g: torch.Generator) -> tuple[list[dict], list[dict]]:
    """G1: the lecture's m/(m−1)·E_B[σ²_B] against the known variance, per channel (the
    replicates), and torch's BatchNorm1d(momentum=None) running_var against the formula on
    the first batches (G1c: if they agree, the Monte Carlo of the formula is torch's)."""
    rows, checks = [], []
    c = cfg.mc_channels
    sigma2 = torch.exp(torch.empty(c, dtype=torch.float64).uniform_(-2, 2, generator=g))
    mu = torch.randn(c, dtype=torch.float64, generator=g)
    chunk = min(G1_CHUNK, cfg.mc_batches)
    for m in G1_MS:
        var_sum = torch.zeros(c, dtype=torch.float64)
        std_sum = torch.zeros(c, dtype=torch.float64)
        for start in range(0, cfg.mc_batches, chunk):
            n = min(chunk, cfg.mc_batches - start)
            x = mu + sigma2.sqrt() * torch.randn(n, m, c, dtype=torch.float64, generator=g)
            var_b = x.var(1, unbiased=False)  # (batches, channels): σ²_B
            var_sum += var_b.sum(0)
            std_sum += var_b.sqrt().sum(0)
            if start == 0:
                checks.append(dict(check="G1c", m=m, value=torch_running_var_gap(x, var_b)))
        plain = var_sum / cfg.mc_batches
        std_mean = std_sum / cfg.mc_batches
        corrected = m / (m - 1) * plain
        rows += [dict(m=m, channel=j, corrected_ratio=float(corrected[j] / sigma2[j]),
                      plain_ratio=float(plain[j] / sigma2[j]),
                      std_ratio=float(m / (m - 1) * std_mean[j] ** 2 / sigma2[j])) for j in range(c)]
    return rows, checks


def torch_running_var_gap(batches: torch.Tensor, var_b: torch.Tensor) -> float:
    """max |running_var / (m/(m−1)·mean σ²_B) − 1| after feeding ``batches`` (n, m, c) to
    BatchNorm1d(momentum=None) in train mode."""
    m = batches.shape[1]
    bn = nn.BatchNorm1d(batches.shape[2], momentum=None, affine=False, dtype=torch.float64)
    with torch.no_grad():
        for x in batches:
            bn(x)
    lecture = m / (m - 1) * var_b.mean(0)
    return float((bn.running_var / lecture - 1).abs().max())


def fold_study(g: torch.Generator, dtype) -> float:
    """G2: train Linear + BatchNorm1d 50 steps, then eval-mode BN(Wx + b) vs the folded layer."""
    lin, bn = nn.Linear(16, 32, dtype=dtype), nn.BatchNorm1d(32, dtype=dtype)
    with torch.no_grad():
        for p in lin.parameters():
            p.copy_(torch.randn(p.shape, dtype=dtype, generator=g) * 0.5)
    params = [*lin.parameters(), *bn.parameters()]
    target = torch.randn(32, dtype=dtype, generator=g)
    for _ in range(50):
        x = torch.randn(64, 16, dtype=dtype, generator=g) * 2 + 1
        grads = torch.autograd.grad(((bn(lin(x)) - target) ** 2).mean(), params)
        with torch.no_grad():
            for p, grad in zip(params, grads):
                p -= 0.05 * grad
    bn.eval()
    with torch.no_grad():
        w, b = fold(lin.weight, lin.bias, bn)
        x = torch.randn(256, 16, dtype=dtype, generator=g) * 2 + 1
        return float((bn(lin(x)) - (x @ w.T + b)).abs().max())


def fold(weight: torch.Tensor, bias: torch.Tensor, bn: nn.BatchNorm1d, sign: float = -1.0):
    """W' = γ/√(Var+ε)·W, b' = γ/√(Var+ε)·b + (β − γE[x]/√(Var+ε)); ``sign=+1`` is the
    formula with the minus lost (as the slide's text extraction shows it)."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return scale[:, None] * weight, scale * bias + bn.bias + sign * scale * bn.running_mean


def identity_error(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> float:
    """G3: max |BN_{γ,β}(x) − x| in train mode (batch statistics)."""
    bn = nn.BatchNorm1d(x.shape[1], dtype=x.dtype)
    with torch.no_grad():
        bn.weight.copy_(gamma)
        bn.bias.copy_(beta)
        return float((bn(x) - x).abs().max())


def moment_study(g: torch.Generator) -> list[dict]:
    """G4: batch moments of BN's output while the previous layer's weights are scaled by a."""
    x = torch.randn(256, 64, dtype=torch.float64, generator=g)
    w = (torch.rand(32, 64, dtype=torch.float64, generator=g) * 2 - 1) * math.sqrt(6 / 64)
    bn = nn.BatchNorm1d(32, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.rand(32, dtype=torch.float64, generator=g) * 1.5 + 0.5)
        bn.bias.copy_(torch.randn(32, dtype=torch.float64, generator=g))
        for _ in range(20):  # running statistics at a = 1
            bn(torch.randn(256, 64, dtype=torch.float64, generator=g) @ w.T)
        rows = []
        for a in G4_SCALES:
            z = a * (x @ w.T)
            row = dict(scale=a, min_var=float(z.var(0, unbiased=False).min()))
            for mode in ("train", "eval"):
                bn.train(mode == "train")
                saved = bn.running_mean.clone(), bn.running_var.clone()
                y = bn(z)
                bn.running_mean.copy_(saved[0])
                bn.running_var.copy_(saved[1])
                row[f"{mode}_deviation"] = output_moment_deviation(y, bn.weight, bn.bias)
            rows.append(row)
    return rows


def output_moment_deviation(y: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> float:
    """max over units of max(|batch mean − β|, |batch std / |γ| − 1|)."""
    mean_dev = (y.mean(0) - beta).abs().max()
    std_dev = (y.std(0, unbiased=False) / gamma.abs() - 1).abs().max()
    return float(torch.maximum(mean_dev, std_dev))


def scale_study(g: torch.Generator) -> tuple[list[dict], list[dict], float]:
    """G5: BN(aWx) vs BN(Wx) and the gradient with respect to aW (torch's ε = 1e-5); the
    orthogonality and plain-SGD identities of the ε-free layer (ε = 1e-20), which is what
    they are identities of (with ε = 1e-5 they hold to about ε/σ², shown in the table)."""
    x = torch.randn(256, 64, dtype=torch.float64, generator=g)
    w0 = (torch.rand(32, 64, dtype=torch.float64, generator=g) * 2 - 1) * math.sqrt(6 / 64)
    target = torch.randn(256, 32, dtype=torch.float64, generator=g)

    def loss_of(weight, bn):
        return 0.5 * ((torch.relu(bn(x @ weight.T)) - target) ** 2).mean()

    bn = nn.BatchNorm1d(32, dtype=torch.float64)
    with torch.no_grad():
        reference = bn(x @ w0.T)
    rows = []
    for a in G5_SCALES:
        w = (a * w0).requires_grad_()
        (grad,) = torch.autograd.grad(loss_of(w, bn), w)
        with torch.no_grad():
            rel_diff = float((bn(x @ w.T) - reference).norm() / reference.norm())
        rows.append(dict(scale=a, rel_diff=rel_diff, grad_norm=float(grad.norm())))
    sgd, cos = [], {}
    for eps in (TINY_EPS, EPS):
        layer = nn.BatchNorm1d(32, eps=eps, dtype=torch.float64)
        w = w0.clone().requires_grad_()
        (grad,) = torch.autograd.grad(loss_of(w, layer), w)
        cos[eps] = float(((grad * w0).sum(1) / (grad.norm(dim=1) * w0.norm(dim=1))).abs().max())
        for step in range(50):
            w = w.detach().requires_grad_()
            (grad,) = torch.autograd.grad(loss_of(w, layer), w)
            with torch.no_grad():
                new = w - SGD_LR * grad
                sgd.append(dict(eps=eps, step=step, norm_sq=float(w.norm() ** 2),
                                delta=float(new.norm() ** 2 - w.norm() ** 2),
                                lr2_grad_sq=float(SGD_LR ** 2 * grad.norm() ** 2), cos=cos[eps]))
            w = new
    return rows, sgd, cos[TINY_EPS]


def companion_study(cfg: Config, g: torch.Generator) -> tuple[list[dict], list[dict]]:
    """G6: one fixed sample's train-mode output over random batch companions, per norm and m."""
    c = 64
    mu = torch.randn(c, dtype=torch.float64, generator=g)
    sd = torch.exp(torch.empty(c, dtype=torch.float64).uniform_(-1, 1, generator=g))
    x0 = mu + sd * torch.randn(1, c, dtype=torch.float64, generator=g)
    layers = {"bn": nn.BatchNorm1d(c, dtype=torch.float64), "ln": nn.LayerNorm(c, dtype=torch.float64),
              "gn": nn.GroupNorm(8, c, dtype=torch.float64),
              "in": nn.InstanceNorm1d(16, dtype=torch.float64)}
    rows, samples = [], []
    with torch.no_grad():
        for m in G6_MS:
            outs = {k: [] for k in layers}
            for _ in range(cfg.companions):
                batch = torch.cat([x0, mu + sd * torch.randn(m - 1, c, dtype=torch.float64, generator=g)])
                for k, layer in layers.items():
                    out = layer(batch.reshape(m, 16, 4)).reshape(m, c) if k == "in" else layer(batch)
                    outs[k].append(out[0])
            for k, values in outs.items():
                stacked = torch.stack(values)
                std = stacked.std(0, unbiased=True)
                rows += [dict(norm=k, m=m, feature=j, std=float(std[j])) for j in range(c)]
                if m in (4, 32) and k in ("bn", "ln"):
                    samples += [dict(norm=k, m=m, draw=i, output=float(v)) for i, v in enumerate(stacked[:, 0])]
    return rows, samples


def bias_growth_study(steps: int = 200) -> tuple[list[dict], float]:
    """G14: x = u + b centred by a mean computed outside the gradient; SGD on b."""
    g = torch.Generator().manual_seed(14)
    u = torch.randn(64, 8, dtype=torch.float64, generator=g)
    target = torch.randn(64, 8, dtype=torch.float64, generator=g) + 1
    b = torch.zeros(8, dtype=torch.float64)
    rows = []
    for step in range(steps + 1):
        b.requires_grad_()
        x = u + b
        loss = 0.5 * ((x - x.detach().mean(0) - target) ** 2).mean()
        (grad,) = torch.autograd.grad(loss, b)
        rows.append(dict(step=step, bias_norm=float(b.detach().norm()), loss=float(loss.detach())))
        b = (b - 1.0 * grad).detach()
    b = torch.zeros(8, dtype=torch.float64, requires_grad=True)
    x = u + b
    (grad,) = torch.autograd.grad(0.5 * ((x - x.mean(0) - target) ** 2).mean(), b)
    return rows, float(grad.norm())


def exact_unit(cfg: Config) -> dict[str, pd.DataFrame]:
    g = torch.Generator().manual_seed(0)
    variance, checks = running_variance_study(cfg, g)
    identity_x = 3 + 2 * torch.randn(256, 32, dtype=torch.float64, generator=g)
    var_b, mean_b = identity_x.var(0, unbiased=False), identity_x.mean(0)
    moments = moment_study(g)
    scales, sgd, cos = scale_study(g)
    companions, samples = companion_study(cfg, g)
    growth, graph_grad = bias_growth_study()
    checks += [
        dict(check="G2", m=0, value=fold_study(g, torch.float64)),
        dict(check="G2b", m=0, value=fold_study(g, torch.float32)),
        dict(check="G3", m=0, value=identity_error(identity_x, var_b, mean_b)),
        dict(check="G3b", m=0, value=identity_error(identity_x, torch.sqrt(var_b + EPS), mean_b)),
        dict(check="G5c", m=0, value=cos),
        dict(check="G14c", m=0, value=graph_grad),
    ]
    return {"running_variance": pd.DataFrame(variance), "exact": pd.DataFrame(checks),
            "moments": pd.DataFrame(moments), "weight_scale": pd.DataFrame(scales), "scale_sgd": pd.DataFrame(sgd),
            "companions": pd.DataFrame(companions), "companion_samples": pd.DataFrame(samples),
            "bias_growth": pd.DataFrame(growth)}


# --- training rows ---------------------------------------------------------------------------

def sweep_unit(cfg: Config, seed: int, norm: str) -> dict[str, pd.DataFrame]:
    """G7: one normalisation at every batch size, same seed (init and batch order)."""
    _, _, xt, yt = centred("digits")
    rows = []
    for batch in cfg.batches:
        net, ok = train_digits(seed, batch, cfg.sweep_epochs, norm=norm)
        train_mode = (train_mode_accuracy(net, xt, yt, batch, np.random.default_rng([seed, 2]))
                      if norm == "bn" else math.nan)
        rows.append(dict(seed=seed, norm=norm, batch=batch, lr=lr_for(batch), test_acc=test_accuracy(net),
                         train_mode_acc=train_mode, diverged=not ok))
    return {"sweep": pd.DataFrame(rows)}


def linear_regime_r2(net: MLP, x: np.ndarray, train: bool) -> float:
    """Mean over hidden units and layers of R² of σ(u) regressed on u (u: the activation's input)."""
    _, caches = net.forward(x, train=train, update=False)
    r2 = []
    for c in caches[:-1]:
        u, a = c["u"].astype(np.float64), c["a"].astype(np.float64)
        uc, ac = u - u.mean(0), a - a.mean(0)
        corr = (uc * ac).sum(0) / np.sqrt((uc * uc).sum(0) * (ac * ac).sum(0))
        r2.append(np.nanmean(corr ** 2))
    return float(np.mean(r2))


def digits_unit(cfg: Config, seed: int) -> dict[str, pd.DataFrame]:
    """G8 (sigmoid), G9 (placement), G10 (init scale), G15 (LayerNorm) at B = 64."""
    x, *_ = centred("digits")
    sigmoid, placement, scale_rows, layernorm = [], [], [], []
    for variant, kw in (("bn_affine", dict(norm="bn")), ("bn_plain", dict(norm="bn", affine=False)),
                        ("none", dict(norm="none"))):
        init_rng, _ = rngs(seed)
        r2_init = linear_regime_r2(MLP.init([x.shape[1], *HIDDEN, 10], init_rng, activation="sigmoid", **kw), x, True)
        net, _ = train_digits(seed, TRAIN_BATCH, cfg.epochs, activation="sigmoid", **kw)
        gammas = [np.abs(n.gamma).mean() for n in net.norms] if variant == "bn_affine" else [math.nan]
        sigmoid.append(dict(seed=seed, variant=variant, r2_init=r2_init, r2_trained=linear_regime_r2(net, x, False),
                            mean_abs_gamma=float(np.mean(gammas)), test_acc=test_accuracy(net)))
    for norm in ("bn", "none"):
        for scale in SCALES:
            net, ok = train_digits(seed, TRAIN_BATCH, cfg.epochs, norm=norm, scale=scale)
            scale_rows.append(dict(seed=seed, norm=norm, scale=scale, test_acc=test_accuracy(net), diverged=not ok))
    at_one = {r["norm"]: r["test_acc"] for r in scale_rows if r["scale"] == 1.0}
    net, _ = train_digits(seed, TRAIN_BATCH, cfg.epochs, norm="bn", placement="after")
    placement += [dict(seed=seed, placement="before", test_acc=at_one["bn"]),
                  dict(seed=seed, placement="after", test_acc=test_accuracy(net))]
    net, _ = train_digits(seed, TRAIN_BATCH, cfg.epochs, norm="ln")
    layernorm += [dict(seed=seed, norm=k, test_acc=v) for k, v in (("ln", test_accuracy(net)), *at_one.items())]
    return {"sigmoid": pd.DataFrame(sigmoid), "placement": pd.DataFrame(placement),
            "init_scale": pd.DataFrame(scale_rows), "layernorm": pd.DataFrame(layernorm)}


def ics_unit(cfg: Config, seed: int) -> dict[str, pd.DataFrame]:
    """G12: Santurkar's ICS along plain SGD; G11: gradient norms by layer of a deep net at init."""
    x, y, _, _ = centred("digits")
    rows = []
    for norm in ("bn", "none"):
        init_rng, order_rng = rngs(seed)
        net = MLP.init([x.shape[1], *[100] * 5, 10], init_rng, norm=norm)
        n_batches = len(y) // 128
        order = order_rng.permutation(len(y))
        for step in range(cfg.ics_steps + 1):
            k = step % n_batches
            if k == 0:
                order = order_rng.permutation(len(y))
            idx = order[k * 128:(k + 1) * 128]
            if step % cfg.ics_every == 0 and step < cfg.ics_steps:
                rows += [dict(seed=seed, norm=norm, step=step, layer=layer, ics=value)
                         for layer, value in internal_covariate_shift(net, x[idx], y[idx], 0.1).items()]
            _, grads = net.loss_and_grads(x[idx], y[idx])
            net.set_parameters([p - 0.1 * gr for p, gr in zip(net.parameters(), grads)])
    return {"ics": pd.DataFrame(rows), "deep_gradients": pd.DataFrame(deep_gradients(cfg, seed))}


def internal_covariate_shift(net: MLP, x, y, lr: float) -> dict[int, float]:
    """‖G_k − G′_k‖/‖G_k‖ for each weight layer k ≥ 2 (Santurkar et al. 2018, §2.2)."""
    params = net.parameters()
    _, grads = net.loss_and_grads(x, y, update=False)
    stepped = [p - lr * gr for p, gr in zip(params, grads)]
    owner = parameter_layers(net)
    out = {}
    for k in range(1, len(net.weights)):
        mixed = net.copy()
        mixed.set_parameters([s if owner[i] < k else p for i, (p, s) in enumerate(zip(params, stepped))])
        _, moved = mixed.loss_and_grads(x, y, update=False)
        out[k + 1] = float(np.linalg.norm(grads[k] - moved[k]) / np.linalg.norm(grads[k]))
    return out


def parameter_layers(net: MLP) -> list[int]:
    """The block index (0-based weight layer) of each entry of ``net.parameters()``."""
    k = len(net.weights)
    owner = list(range(k)) * 2
    for i, n in enumerate(net.norms):
        if n.kind != "none" and n.affine:
            owner += [i, i]
    return owner


def deep_gradients(cfg: Config, seed: int) -> list[dict]:
    """G11: ‖∂L/∂W_l‖ for every layer of deep (Linear, [BatchNorm1d], ReLU) stacks at init."""
    rows = []
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(128, cfg.deep_width, generator=g)
    labels = torch.randint(10, (128,), generator=g)
    draws = [torch.randn(cfg.deep_width, cfg.deep_width, generator=g) for _ in range(cfg.deep_layers)]
    head = torch.randn(10, cfg.deep_width, generator=g) / math.sqrt(cfg.deep_width)
    for norm in ("bn", "none"):
        blocks = []
        for w in draws:
            lin = nn.Linear(cfg.deep_width, cfg.deep_width, bias=False)
            with torch.no_grad():
                lin.weight.copy_(w * math.sqrt(2 / cfg.deep_width))  # He normal
            blocks += [lin, nn.BatchNorm1d(cfg.deep_width), nn.ReLU()] if norm == "bn" else [lin, nn.ReLU()]
        net = nn.Sequential(*blocks)
        loss = nn.functional.cross_entropy(net(x) @ head.T, labels)
        weights = [m.weight for m in net if isinstance(m, nn.Linear)]
        grads = torch.autograd.grad(loss, weights)
        rows += [dict(seed=seed, norm=norm, layer=i + 1, grad_norm=float(gr.norm())) for i, gr in enumerate(grads)]
    return rows


def dropout_unit(cfg: Config) -> dict[str, pd.DataFrame]:
    """G13: BN with and without dropout(0.5), every seed in one unit (one MNIST load per run);
    the variance shift of the second BN, whose input is the dropped first block."""
    n_train = cfg.mnist_train if cfg.dropout_data == "mnist" else None
    x, y, _, _ = centred(cfg.dropout_data, n_train)
    acc, shift = [], []
    for seed in range(cfg.seeds):
        for dropout in (0.0, 0.5):
            init_rng, order_rng = rngs(seed)
            net = MLP.init([x.shape[1], 256, 256, 10], init_rng, norm="bn", dropout=dropout)
            sgd_epochs(net, x, y, TRAIN_BATCH, lr_for(TRAIN_BATCH), cfg.epochs, order_rng)
            variant = "bn_dropout" if dropout else "bn"
            acc.append(dict(seed=seed, variant=variant, test_acc=test_accuracy(net, cfg.dropout_data, n_train)))
            _, caches = net.forward(x, train=False)
            eval_var = caches[1]["norm_in"].astype(np.float64).var(0)
            running = net.norms[1].running_var.astype(np.float64)
            shift.append(dict(seed=seed, variant=variant, running_var=float(running.mean()),
                              eval_var=float(eval_var.mean()), ratio=float(np.mean(running / eval_var))))
    return {"dropout": pd.DataFrame(acc), "variance_shift": pd.DataFrame(shift)}


# --- units -----------------------------------------------------------------------------------

def units(cfg: Config) -> list[dict]:
    """The sweep's runs first (the long ones, smallest batch included), then the rest."""
    out = [dict(part="sweep", seed=s, norm=n) for s in range(cfg.seeds) for n in NORMS]
    out += [dict(part="dropout")]
    out += [dict(part=p, seed=s) for p in ("digits", "ics") for s in range(cfg.seeds)]
    return out + [dict(part="exact")]


def run_unit(cfg: Config, unit: dict) -> dict[str, pd.DataFrame]:
    part = unit["part"]
    if part == "exact":
        return exact_unit(cfg)
    if part == "dropout":
        return dropout_unit(cfg)
    if part == "sweep":
        return sweep_unit(cfg, unit["seed"], unit["norm"])
    return {"digits": digits_unit, "ics": ics_unit}[part](cfg, unit["seed"])


# --- statistics ------------------------------------------------------------------------------

def envelope(estimates: list[Estimate], target: float) -> Estimate:
    """One estimate for a two-sided rule that must hold in every group: the value farthest
    from ``target`` and the hull of all intervals. It holds only if every group's interval
    lies inside the region, and fails only if every one lies wholly outside it."""
    pick = max(estimates, key=lambda e: abs(e.value - target))
    return Estimate(pick.value, min(e.ci_low for e in estimates), max(e.ci_high for e in estimates))


def folded(est: Estimate) -> Estimate:
    """|θ| with the interval {|t| : t in the interval of θ}."""
    lo, hi = est.ci_low, est.ci_high
    if lo >= 0:
        return est
    if hi <= 0:
        return Estimate(-est.value, -hi, -lo)
    return Estimate(abs(est.value), 0.0, max(-lo, hi))


def exact_value(tables, check: str) -> Estimate:
    ex = tables["exact"]
    return Estimate.exact(ex[ex.check == check].value.max())


def g1_estimates(var: pd.DataFrame) -> dict[str, Estimate]:
    corrected = [stats.mean_ci(stats.select(var, m=m).corrected_ratio) for m in G1_MS]
    plain = [stats.mean_ci(stats.select(var, m=m).plain_ratio * m / (m - 1)) for m in G1_MS]
    return {"G1": envelope(corrected, 1.0), "G1b": envelope(plain, 1.0),
            "G1d": stats.mean_ci(stats.select(var, m=8).std_ratio)}


def g4_estimates(moments: pd.DataFrame) -> dict[str, Estimate]:
    resolved = moments[moments.min_var >= 1000 * EPS]
    smallest = moments.loc[moments.scale.idxmin()]
    return {"G4": Estimate.exact(resolved.train_deviation.max()),
            "G4b": Estimate.exact(smallest.train_deviation),
            "G4c": Estimate.exact(moments.eval_deviation.max())}


def g5_estimates(scales: pd.DataFrame, sgd: pd.DataFrame) -> dict[str, Estimate]:
    exact = sgd[sgd.eps == TINY_EPS]
    identity_gap = ((exact.delta - exact.lr2_grad_sq).abs() / exact.lr2_grad_sq).max()
    return {"G5": Estimate.exact(scales.rel_diff.max()),
            "G5b": stats.loglog_slope_ci(scales.scale, scales.grad_norm),
            "G5d": Estimate.exact(identity_gap)}


def g6_estimates(comp: pd.DataFrame) -> dict[str, Estimate]:
    bn = comp[comp.norm == "bn"]
    at_m = bn.groupby("m")["std"].mean()
    at_m = at_m[at_m.index >= 4]
    return {"G6": stats.mean_ci(stats.select(bn, m=32)["std"]),
            "G6b": stats.loglog_slope_ci(at_m.index.to_numpy(), at_m.to_numpy()),
            "G6c": Estimate.exact(comp[comp.norm != "bn"]["std"].max())}


def g7_estimates(sweep: pd.DataFrame) -> dict[str, Estimate]:
    small = int(sweep.batch.min())

    def drop(norm):
        return (stats.per_seed(sweep, "test_acc", norm=norm, batch=REFERENCE_BATCH)
                - stats.per_seed(sweep, "test_acc", norm=norm, batch=small))

    bn_small = stats.select(sweep, norm="bn", batch=small).sort_values("seed")
    return {"G7": stats.paired_difference(drop("bn"), drop("gn")),
            "G7b": stats.paired_difference(bn_small.test_acc, bn_small.train_mode_acc)}


def g8_estimates(sig: pd.DataFrame) -> dict[str, Estimate]:
    def col(variant, column):
        return stats.per_seed(sig, column, variant=variant)

    return {"G8": stats.mean_ci(col("bn_plain", "r2_init"), bounds=(0, 1)),
            "G8b": stats.paired_difference(col("bn_affine", "r2_trained"), col("bn_affine", "r2_init")),
            "G8c": stats.paired_difference(col("bn_affine", "test_acc"), col("bn_plain", "test_acc")),
            "G8d": stats.paired_difference(col("bn_plain", "r2_init"), col("none", "r2_init"))}


def g10_estimates(scale: pd.DataFrame) -> dict[str, Estimate]:
    works = scale.assign(works=(scale.test_acc >= 0.5).astype(float))
    frac = {n: works[works.norm == n].groupby("seed").works.mean().sort_index().to_numpy() for n in ("bn", "none")}
    bn = stats.per_seed(scale, "test_acc", by="scale", norm="bn")
    return {"G10": stats.paired_difference(frac["bn"], frac["none"]),
            "G10b": stats.mean_ci(bn.max(1) - bn.min(1))}


def g11_estimates(deep: pd.DataFrame) -> dict[str, Estimate]:
    out = {}
    for row, norm in (("G11", "bn"), ("G11b", "none")):
        g = stats.per_seed(deep, "grad_norm", by="layer", norm=norm)
        out[row] = stats.geometric_mean_ci(g[:, 0] / g[:, -1])
    return out


def g12_estimates(ics: pd.DataFrame) -> dict[str, Estimate]:
    mean = ics.groupby(["norm", "seed"]).ics.mean()
    ratio = stats.paired_ratio(mean["bn"].sort_index().to_numpy(), mean["none"].sort_index().to_numpy())
    return {"G12": ratio, "G12b": ratio}


def g13_estimates(drop: pd.DataFrame, shift: pd.DataFrame) -> dict[str, Estimate]:
    return {"G13": stats.paired_difference(stats.per_seed(drop, "test_acc", variant="bn_dropout"),
                                           stats.per_seed(drop, "test_acc", variant="bn")),
            "G13b": stats.geometric_mean_ci(stats.per_seed(shift, "ratio", variant="bn_dropout")),
            "G13c": stats.geometric_mean_ci(stats.per_seed(shift, "ratio", variant="bn"))}


def g14_estimate(growth: pd.DataFrame) -> Estimate:
    norms = growth.sort_values("step").bias_norm.to_numpy()
    t = len(norms) - 1
    return Estimate.exact(norms[t] / norms[t // 2])


def estimate(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, Estimate]:
    growth = tables["bias_growth"]
    place = tables["placement"]
    ln = tables["layernorm"]

    def acc(table, **where):
        return stats.per_seed(table, "test_acc", **where)

    return {
        **g1_estimates(tables["running_variance"]),
        "G1c": exact_value(tables, "G1c"),
        "G2": exact_value(tables, "G2"),
        "G2b": exact_value(tables, "G2b"),
        "G3": exact_value(tables, "G3"),
        "G3b": exact_value(tables, "G3b"),
        **g4_estimates(tables["moments"]),
        **g5_estimates(tables["weight_scale"], tables["scale_sgd"]),
        "G5c": exact_value(tables, "G5c"),
        **g6_estimates(tables["companions"]),
        **g7_estimates(tables["sweep"]),
        **g8_estimates(tables["sigmoid"]),
        "G9": folded(stats.paired_difference(acc(place, placement="before"), acc(place, placement="after"))),
        **g10_estimates(tables["init_scale"]),
        **g11_estimates(tables["deep_gradients"]),
        **g12_estimates(tables["ics"]),
        **g13_estimates(tables["dropout"], tables["variance_shift"]),
        "G14": g14_estimate(growth),
        "G14b": Estimate.exact((growth.loss - growth.loss.iloc[0]).abs().max()),
        "G14c": exact_value(tables, "G14c"),
        "G15": stats.paired_difference(acc(ln, norm="ln"), acc(ln, norm="bn")),
        "G15b": stats.paired_difference(acc(ln, norm="ln"), acc(ln, norm="none")),
    }


# --- figures ---------------------------------------------------------------------------------

def figure_batch_size(tables, cfg):
    """BN vs GN / LN / none: test accuracy against batch size (G7)."""
    import matplotlib.pyplot as plt

    sweep = tables["sweep"]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for i, norm in enumerate(NORMS):
        x, mean, low, high = stats.band(sweep, "batch", "test_acc", norm=norm)
        plots.band(ax, x, mean, low, high, label=NORM_LABELS[norm], color=plots.PALETTE[i], marker="o")
    x, mean, low, high = stats.band(sweep, "batch", "train_mode_acc", norm="bn")
    plots.band(ax, x, mean, low, high, label="BatchNorm, batch statistics at test", color=plots.PALETTE[0], ls="--")
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(sweep.batch.unique()))
    ax.set_xticklabels([str(b) for b in sorted(sweep.batch.unique())])
    ax.set(xlabel="batch size B (lr = 0.05·B/32, same epochs)", ylabel="test accuracy (eval mode)",
           title="Digits MLP: batch norm degrades at small batch, GroupNorm does not")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def figure_batch_dependence(tables, cfg):
    """One sample's output against its batch companions: BN vs LN / GN / IN (G6)."""
    import matplotlib.pyplot as plt

    comp, samples = tables["companions"], tables["companion_samples"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.3))
    spread = comp.groupby(["norm", "m"])["std"].mean().reset_index()
    bn = spread[spread.norm == "bn"]
    ax1.loglog(bn.m, bn["std"], "o-", label=NORM_LABELS["bn"], color=plots.PALETTE[0])
    ref = bn[bn.m == 32]["std"].iloc[0] * np.sqrt(32 / bn.m)
    ax1.loglog(bn.m, ref, ":", color="grey", label="∝ 1/√m")
    others = spread[spread.norm != "bn"]["std"].max()
    ax1.text(0.97, 0.95, f"LayerNorm, GroupNorm, InstanceNorm:\nstd = {others:.0e} (batch-independent)",
             transform=ax1.transAxes, fontsize=8, ha="right", va="top")
    ax1.set(xlabel="batch size m", ylabel="std of the sample's output over companion sets",
            title=f"Train-mode output of one fixed sample, {samples.draw.nunique()} companion sets")
    ax1.legend(fontsize=8, loc="lower left")
    for i, m in enumerate(sorted(samples.m.unique())):
        part = samples[(samples.norm == "bn") & (samples.m == m)]
        ax2.hist(part.output, bins=25, alpha=0.55, color=plots.PALETTE[i], label=f"BatchNorm, m = {m}")
    ln = samples[samples.norm == "ln"].output.iloc[0]
    ax2.axvline(ln, color="k", lw=2, label="LayerNorm (every batch)")
    ax2.set(xlabel="output of feature 0 for the fixed sample", ylabel="companion sets",
            title="Same sample, different batches")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def figure_gradient_by_layer(tables, cfg):
    """Weight-gradient norm by layer at init, with and without BN (G11, Yang et al. 2019)."""
    import matplotlib.pyplot as plt

    deep = tables["deep_gradients"].assign(log_grad=lambda t: np.log(t.grad_norm))
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for i, norm in enumerate(("bn", "none")):
        x, mean, low, high = stats.band(deep, "layer", "log_grad", norm=norm)
        label = "Linear + BatchNorm + ReLU" if norm == "bn" else "Linear + ReLU (He init)"
        plots.band(ax, x, np.exp(mean), np.exp(low), np.exp(high), label=label, color=plots.PALETTE[i])
        if norm == "bn":
            rate = math.pi / (math.pi - 1)  # Yang et al. 2019: squared-norm growth per layer, ReLU
            ax.plot(x, np.exp(mean[-1]) * rate ** ((x[-1] - x) / 2), ":", color="grey",
                    label="Yang et al.: ×√(π/(π−1)) per layer")
    ax.set_yscale("log")
    ax.set(xlabel="layer (1 = nearest the input)", ylabel="‖∂L/∂W_l‖ at init (geometric mean over seeds)",
           title=f"{deep.layer.max()}-layer MLP at init: BN makes early-layer gradients explode")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def figure_covariate_shift(tables, cfg):
    """Santurkar's internal covariate shift with and without BN (G12)."""
    import matplotlib.pyplot as plt

    ics = tables["ics"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.3))
    for i, norm in enumerate(("bn", "none")):
        per_step = ics[ics.norm == norm].groupby(["seed", "step"]).ics.mean().reset_index()
        plots.band(ax1, *stats.band(per_step, "step", "ics"), label=NORM_LABELS[norm], color=plots.PALETTE[i],
                   marker="o")
        per_layer = ics[ics.norm == norm].groupby(["seed", "layer"]).ics.mean().reset_index()
        plots.band(ax2, *stats.band(per_layer, "layer", "ics"), label=NORM_LABELS[norm], color=plots.PALETTE[i],
                   marker="o")
    ax1.set(xlabel="SGD step", ylabel="‖G − G′‖ / ‖G‖ (mean over layers)",
            title="Internal covariate shift (Santurkar et al. 2018)")
    ax2.set(xlabel="weight layer k", ylabel="‖G − G′‖ / ‖G‖ (mean over checkpoints)", title="By layer")
    ax2.set_xticks(sorted(ics.layer.unique()))
    ax1.legend(fontsize=8)
    fig.tight_layout()
    return fig


def figure_init_scale(tables, cfg):
    """Test accuracy against the init scale, with and without BN (G10)."""
    import matplotlib.pyplot as plt

    scale = tables["init_scale"]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for i, norm in enumerate(("bn", "none")):
        plots.band(ax, *stats.band(scale, "scale", "test_acc", norm=norm), label=NORM_LABELS[norm],
                   color=plots.PALETTE[i], marker="o")
    ax.axhline(0.5, color="grey", ls=":", label="'training works' threshold")
    ax.set_xscale("log")
    ax.set(xlabel="init scale (× He)", ylabel="test accuracy", ylim=(0, 1.02),
           title="Digits MLP, 30 epochs at B = 64: dependence on the init scale")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


FIGURES = [figure_batch_size, figure_batch_dependence, figure_gradient_by_layer, figure_covariate_shift,
           figure_init_scale]


if __name__ == "__main__":
    raise SystemExit(cli.main_for(__file__))
