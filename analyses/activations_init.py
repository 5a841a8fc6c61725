"""Activations and initialisation (claims H1–H11): deep bias-free MLPs on MNIST-1D inputs at init in
float64 (gradient and second-moment profiles per layer, sigmoid/tanh/ReLU × Xavier/He/002's 2/√n,
gains, alternating widths) with the mean-field q* and χ beside them; constant and zero init under
plain SGD (symmetry, dropout control); Monte Carlo checks of the derivation's identities."""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from dlclaims.methods import data, inits, mean_field, training
from dlclaims.rng import np_stream, stream
from dlclaims.suite import cli, plots, stats
from dlclaims.suite.claims import Claim, Estimate, Scope, at_least, at_most, between, exceeds, within
from dlclaims.suite.contract import option

TITLE = "Activations and initialisation: saturation, symmetry, init scales and the printed formulas"
LECTURE = """\
"Saturated neurons "kill" the gradients"; tanh "still kills gradients when saturated"; ReLU "Does
not saturate in + region" (001, 000). "Never initialize with a constant [...] Symmetry must be
broken for training to succeed" (000, 001, 002, 003). "A too-large initialization leads to
exploding gradients" (003). "w ∼ (2/√n)·N(0, 1) [...] Scale all outputs approximately the same"
(002). "the output variance is proportional to the input variance with coefficient n_out Var[w_i]";
"a normal distribution is fine" (004). "Xavier init. Works well with tanh and sigmoid." "This
formula is valid only when we use ReLU in each layer." (001)"""

# --- claims, declared before the run (reasons at length: analyses/activations_init.md) ----------
KILLED = 1e-2              # H1a, H1c: the first layer learns at ≤ 1% of the last hidden layer's rate
FACTOR_10 = (0.1, 10.0)    # H1b, H10: within a factor 10 end to end: no vanishing, no explosion
SAME_SCALE = (0.8, 1.25)   # H7, H11a: "about the same" for a ratio (the catalogue's convention for H–K)
SATURATED = 0.5            # H1a/H1c premises: at least half of the hidden units saturated
SIG_SAT = math.log(19.0)   # |u| > ln 19 ⇔ σ(u) ∉ [0.05, 0.95]: σ′ ≤ 0.0475, under a fifth of its peak ¼
TANH_SAT = math.atanh(0.95)  # |tanh u| ≥ 0.95: tanh′ ≤ 0.0975, under a tenth of its peak 1
FORMULA_ERROR = 0.05       # H8: a variance formula predicts the measured factor within 5%
VARIANCE_MATCH = 0.02      # H9b: the forward recursion sees Var[w] only: normal / uniform within 2%
MC_ERROR = 0.01            # H9a: Monte Carlo identities within 1% at 10⁶ draws (SE about 0.3%)
CHI_MATCH = 0.05           # H11b: mean-field χ within 5% (finite-width corrections are O(1/width))
HOMOGENEOUS = 19.0         # H6a: ∂L/∂W₁ of a 20-layer bias-free ReLU net carries 19 scaled matrices
SYMMETRIC = 1e-9           # H5a: hidden rows equal to float64 rounding (relative to the row norm)
SEPARATED = 1e-3           # H5d: rows apart by 10⁶ × H5a's tolerance
TRAINS = 0.3               # H5b premise: a random-init net reaches three times chance (0.1)
ACC_GAP = 0.05             # H5b: 50 of 1000 test examples, about four binomial SEs of one accuracy
EXACT = 1e-12              # H1e, H2a, H5c: identities in float64

FACTOR_WHY = "within a factor 10 end to end: the first layer learns neither 10× slower nor 10× faster"
SAME_WHY = "±25% per ratio: the catalogue's 'about the same' for H–K"
KILLED_RULE = at_most(KILLED, null=1.0, why="the first layer learns at ≤ 1% of the last hidden layer's rate")
ENDS_TO_ENDS = between(*FACTOR_10, null=1.0, why=FACTOR_WHY)
INIT_SETUP = ("width", "depth", "inputs", "seeds")
TRAIN_SETUP = ("hidden", "steps", "lr", "batch", "train_seeds")

CLAIMS = [
    Claim("H1b", "lecture", "ReLU does not saturate, so its gradient does not vanish with depth (He init)",
          "‖∂L/∂W₁‖ / ‖∂L/∂W_L‖, ReLU + He, geometric mean of per-seed ratios", ENDS_TO_ENDS,
          setup=INIT_SETUP, scope=Scope("depth", 10, "the catalogue's net; the lecture names no depth")),
    Claim("H1a-sat", "derived", "At the gain measured, at least half of the sigmoid units are saturated",
          "share of hidden sigmoid outputs outside [0.05, 0.95], all hidden layers, Xavier × gain, mean over seeds",
          at_least(SATURATED), premise="H1b", setup=INIT_SETUP + ("sigmoid_gain",)),
    Claim("H1a", "lecture", "Saturated sigmoid units kill the gradient",
          "‖∂L/∂W₁‖ / ‖∂L/∂W_L‖, sigmoid + Xavier × gain, geometric mean of per-seed ratios",
          KILLED_RULE, premise="H1a-sat", setup=INIT_SETUP,
          scope=Scope("sigmoid_gain", 8.0, "the smallest gain of the grid at which the mean-field share of "
                      "saturated sigmoid units reaches ½ (the sentence is about saturated neurons)")),
    Claim("H1c-sat", "derived", "At the gain measured, at least half of the tanh units are saturated",
          "share of hidden tanh outputs with |tanh| ≥ 0.95, all hidden layers, Xavier × gain, mean over seeds",
          at_least(SATURATED), premise="H1b", setup=INIT_SETUP + ("tanh_gain",)),
    Claim("H1c", "lecture", "tanh still kills gradients when saturated",
          "‖∂L/∂W₁‖ / ‖∂L/∂W_L‖, tanh + Xavier × gain, geometric mean of per-seed ratios", KILLED_RULE,
          premise="H1c-sat", setup=INIT_SETUP,
          scope=Scope("tanh_gain", 4.0, "the smallest gain of the grid at which the mean-field share of "
                      "saturated tanh units reaches ½")),
    Claim("H1e", "check", "Saturated units pass almost no gradient: σ′ ≤ 0.0475 outside σ ∈ [0.05, 0.95], "
          "tanh′ ≤ 0.0975 where |tanh| ≥ 0.95",
          "largest σ′ / 0.0475 and tanh′ / 0.0975 over a fine grid of the saturated region, float64",
          at_most(1.0 + EXACT)),
    Claim("H2a", "check", "With sigmoid (positive) inputs every per-sample weight-gradient row has one sign",
          "share of per-sample ∂L/∂W rows (non-zero) of a layer fed by sigmoid units whose entries share a sign",
          at_least(1.0 - EXACT), setup=("inputs",)),
    Claim("H5a", "check", "From a constant init, plain SGD keeps the hidden units identical",
          "largest pairwise difference of hidden weight rows after training / mean row norm, over seeds",
          at_most(SYMMETRIC), setup=TRAIN_SETUP),
    Claim("H5c", "check", "From zero init (tanh, ReLU) the hidden-weight gradient is exactly 0 at every step",
          "largest |∂L/∂W_hidden| over every step, seed and activation", at_most(EXACT), setup=TRAIN_SETUP),
    Claim("H5b-ctl", "derived", "The random-init net trains in this set-up",
          "test accuracy after training, random init (Xavier), mean over seeds", at_least(TRAINS),
          setup=TRAIN_SETUP),
    Claim("H5b", "lecture", "Symmetry must be broken for training to succeed",
          "test accuracy, random − constant init, mean of per-seed differences",
          exceeds(0.0, ACC_GAP, "50 of 1000 test examples: about four binomial SEs of one accuracy"),
          premise="H5b-ctl", setup=TRAIN_SETUP,
          scope=Scope("hidden", 32, "the catalogue's 32 hidden units; a wider layer stays one unit wide")),
    Claim("H5d", "derived", "Per-unit noise (dropout 0.5) breaks the symmetry of a constant init",
          "largest pairwise hidden-row difference / mean row norm after training with dropout, mean over seeds",
          exceeds(0.0, SEPARATED, "10⁶ times the rounding H5a allows"), premise="H5a", setup=TRAIN_SETUP),
    Claim("H6a", "check", "A bias-free ReLU net is positively homogeneous: ‖∂L/∂W₁‖ grows like s^19 with the "
          "hidden weights' scale s",
          "log-log slope of ‖∂L/∂W₁‖ against s ∈ {0.5, …, 2}, 20 hidden layers He × s, mean of per-seed slopes",
          within(HOMOGENEOUS, 0.15 * HOMOGENEOUS, "±15%: the softmax's response to the logit scale aside"),
          setup=INIT_SETUP),
    Claim("H7-he", "derived", "He's Var = 2/n keeps the second moment per layer (the measure reads 'same scale')",
          "per-layer ratio of mean squared activation, geometric mean over layers and seeds, He + ReLU",
          between(*SAME_SCALE, null=1.0, why=SAME_WHY), setup=INIT_SETUP),
    Claim("H7", "lecture", "w ∼ (2/√n)·N(0, 1) scales all outputs approximately the same (002, as printed)",
          "per-layer ratio of mean squared activation, geometric mean over layers and seeds, w ∼ (2/√n)·N(0, 1)",
          between(*SAME_SCALE, null=1.0, why=SAME_WHY), premise="H7-he", setup=INIT_SETUP,
          scope=Scope("h7_activation", "relu", "the formula is He's √(2/n) with the root misplaced")),
    Claim("H8b", "check", "Variance algebra: the forward factor is n_in·Var[w] (Xavier, alternating widths)",
          "largest |measured / (n_in·Var[w]) − 1| over the expanding and contracting layers, mean over seeds",
          at_most(FORMULA_ERROR), setup=INIT_SETUP + ("narrow",)),
    Claim("H8a", "lecture", "The forward variance factor is n_out·Var[w] (004, as printed)",
          "largest |measured / (n_out·Var[w]) − 1| over the expanding and contracting layers, mean over seeds",
          at_most(FORMULA_ERROR), setup=INIT_SETUP + ("narrow",),
          scope=Scope("width_ratio", 4, "the catalogue's 128/512; at 1 the two forms coincide")),
    Claim("H9a", "check", "The derivation's steps: Var[WX] = E[X]²Var[W] + E[W]²Var[X] + Var[W]Var[X] and "
          "E[relu(y)²] = ½Var[y]",
          "largest relative error of the two identities, Monte Carlo, float64", at_most(MC_ERROR),
          setup=("mc_draws",)),
    Claim("H9b", "check", "The forward recursion sees Var[w] only: normal and uniform He scale alike",
          "per-layer variance factor, normal / uniform He, geometric mean over layers and seeds",
          within(1.0, VARIANCE_MATCH, "2%: the sampling spread of a per-layer factor at this width"),
          setup=INIT_SETUP),
    Claim("H10a", "lecture", "Xavier init works well with tanh",
          "‖∂L/∂W₁‖ / ‖∂L/∂W_L‖, tanh + Xavier, geometric mean of per-seed ratios", ENDS_TO_ENDS,
          premise="H1b", setup=INIT_SETUP,
          scope=Scope("glorot_depth", 5, "Glorot & Bengio's deepest nets, where the init was proposed")),
    Claim("H10b", "lecture", "Xavier init works well with sigmoid",
          "‖∂L/∂W₁‖ / ‖∂L/∂W_L‖, sigmoid + Xavier, geometric mean of per-seed ratios", ENDS_TO_ENDS,
          premise="H1b", setup=INIT_SETUP,
          scope=Scope("glorot_depth", 5, "Glorot & Bengio's deepest nets, where the init was proposed")),
    Claim("H11a-ctl", "derived", "He + ReLU keeps the mean squared activation from layer 1 to layer L",
          "mean squared activation layer L / layer 1, He + ReLU, geometric mean of per-seed ratios",
          between(*SAME_SCALE, null=1.0, why=SAME_WHY), setup=INIT_SETUP),
    Claim("H11a", "lecture", "He's formula is valid only for ReLU: with tanh it does not keep the scale",
          "factor by which the mean squared activation changes from layer 1 to layer L, max(r, 1/r), He + tanh, "
          "geometric mean over seeds",
          exceeds(1.0, SAME_SCALE[1] - 1.0, "outside the 'about the same' band of H7"), premise="H11a-ctl",
          setup=INIT_SETUP,
          scope=Scope("input_moment", 1.0, "standardised inputs, the lectures' preprocessing")),
    Claim("H11b", "derived", "Mean-field theory predicts He + tanh's per-layer gradient factor χ",
          "measured per-layer factor of Σ‖δ_l‖² (layers past the fixed point) / mean-field χ(q*), geometric mean "
          "over seeds", within(1.0, CHI_MATCH, "5%: finite-width corrections are O(1/width)"),
          setup=INIT_SETUP + ("deep",), scope=Scope("width", 256, "the catalogue's width")),
]


# --- config -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    seeds: int = option(20, "independent nets per init-time variant")
    inputs: int = 256               # MNIST-1D inputs through each net at init (a 10-way cross-entropy head)
    width: int = 256                # hidden width at init, the catalogue's
    depth: int = 10                 # hidden layers of the catalogue's init-time net (H1b's headline)
    depths: tuple[int, ...] = (5, 10, 20)  # H1b's depth scope
    deep: int = 20                  # H6, H11b: hidden layers of the deep net
    sigmoid_gain: float = 8.0       # H1a's headline gain on Xavier's standard deviation
    tanh_gain: float = 4.0          # H1c's headline gain
    gains: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)  # H1a, H1c's gain scope (1: unsaturated)
    glorot_depth: int = 5           # H10's headline depth
    glorot_depths: tuple[int, ...] = (2, 5, 10)  # H10's depth scope
    h7_activation: str = "relu"     # H7's headline activation
    h7_activations: tuple[str, ...] = ("relu", "tanh")
    narrow: int = 128               # H8: the narrow width of the alternating net
    width_ratio: int = 4            # H8's headline wide / narrow
    width_ratios: tuple[int, ...] = (1, 2, 4)
    input_moment: float = 1.0       # H11a's headline input second moment
    input_moments: tuple[float, ...] = (0.1, 1.0, 10.0)
    h11_widths: tuple[int, ...] = (64, 256)  # H11b's width scope
    scales: tuple[float, ...] = (0.5, 0.8, 1.0, 1.25, 2.0)  # H6a: He × s on every hidden layer
    mc_draws: int = 1_000_000       # H9a's Monte Carlo draws
    train_seeds: int = option(10, "seeds of the training runs (H5)")
    hidden: int = 32                # H5's hidden width (the catalogue's 64-32-10 has 32)
    hiddens: tuple[int, ...] = (8, 32, 128)  # H5b's width scope
    steps: int = 500                # H5: plain-SGD steps (the catalogue's)
    lr: float = 0.1                 # H5: a step size at which the random-init net trains
    batch: int = 64                 # H5: mini-batch size
    dropout: float = 0.5            # H5d: dropout on the hidden units


# the anchors' scale: Poole et al.'s width 1000 nets, more seeds everywhere
FULL = Config(seeds=50, width=1000, train_seeds=30, mc_draws=10_000_000)

QUICK = Config(seeds=4, inputs=128, width=128, depths=(5, 10), gains=(1.0, 4.0, 8.0), glorot_depths=(5,),
               width_ratios=(1, 4), input_moments=(1.0,), h11_widths=(256,), mc_draws=100_000,
               train_seeds=3, hiddens=(32,), steps=150)


def validate(cfg: Config) -> None:
    for knob, grid in (("depth", "depths"), ("sigmoid_gain", "gains"), ("tanh_gain", "gains"),
                       ("glorot_depth", "glorot_depths"), ("h7_activation", "h7_activations"),
                       ("width_ratio", "width_ratios"), ("input_moment", "input_moments"),
                       ("hidden", "hiddens")):
        if getattr(cfg, knob) not in getattr(cfg, grid):
            raise ValueError(f"{knob}={getattr(cfg, knob)} is not in {grid}={getattr(cfg, grid)}")
    if cfg.deep < 4 or cfg.depth < 2:
        raise ValueError("the nets need at least 2 (depth) and 4 (deep) hidden layers")


# --- measurement: nets at init ------------------------------------------------------------------

F64 = torch.float64
ACT = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}
SAT = {"sigmoid": SIG_SAT, "tanh": TANH_SAT}
VARIANT = ("act", "init", "dist", "gain", "depth", "width", "ratio", "input_moment")


def weight_variance(init: str, fan_in: int, fan_out: int) -> float:
    """002's printed w ∼ (2/√n)·N(0, 1) has Var = 4/n; the others from methods.inits."""
    return 4.0 / fan_in if init == "two_over_root_n" else inits.variance(init, fan_in, fan_out)


def draw(shape: tuple[int, int], var: float, gen: torch.Generator, dist: str) -> torch.Tensor:
    if dist == "uniform":
        return (torch.rand(shape, generator=gen, dtype=F64) * 2 - 1) * math.sqrt(3 * var)
    return torch.randn(shape, generator=gen, dtype=F64) * math.sqrt(var)


def widths_of(v: dict, n_in: int) -> list[int]:
    """Input, hidden widths (alternating width, width·ratio for H8's net), and the 10-way head."""
    hidden = [v["width"] * (v["ratio"] if i % 2 else 1) for i in range(v["depth"])]
    return [n_in, *hidden, 10]


def profile(x: torch.Tensor, y: torch.Tensor, v: dict, gen: torch.Generator) -> list[dict]:
    """Per hidden layer of one bias-free net at init: the second moments of its input, pre- and
    post-activation, its saturated share, ‖∂L/∂W_l‖ and Σ‖δ_l‖² (δ = ∂L/∂pre-activation)."""
    sizes = widths_of(v, x.shape[1])
    weights = [draw((o, i), v["gain"] ** 2 * weight_variance(v["init"], i, o), gen, v["dist"]).requires_grad_()
               for i, o in zip(sizes[:-2], sizes[1:-1])]
    bound = 1 / math.sqrt(sizes[-2])  # the head: PyTorch's default U(±1/√n), unscaled
    head = (torch.rand((10, sizes[-2]), generator=gen, dtype=F64) * 2 - 1) * bound
    h, zs, hs = x * math.sqrt(v["input_moment"]), [], []
    for w in weights:
        hs.append(h)
        z = h @ w.T
        z.retain_grad()
        zs.append(z)
        h = ACT[v["act"]](z)
    F.cross_entropy(h @ head.T, y).backward()
    rows = []
    for layer, (w, z, h_in) in enumerate(zip(weights, zs, hs), start=1):
        out = ACT[v["act"]](z)
        sat = (z.abs() > SAT[v["act"]]).double().mean().item() if v["act"] in SAT else (z <= 0).double().mean().item()
        rows.append(dict(layer=layer, fan_in=w.shape[1], fan_out=w.shape[0], in_moment=h_in.pow(2).mean().item(),
                         pre_moment=z.pow(2).mean().item(), moment=out.pow(2).mean().item(), saturated=sat,
                         grad=w.grad.norm().item(), delta2=z.grad.pow(2).sum().item()))
    return rows


def variant(act, init="xavier", dist="normal", gain=1.0, depth=10, width=256, ratio=1, input_moment=1.0) -> dict:
    return dict(act=act, init=init, dist=dist, gain=float(gain), depth=int(depth), width=int(width),
                ratio=int(ratio), input_moment=float(input_moment))


def init_variants(cfg: Config) -> list[dict]:
    """Every net the init-time rows read, once each."""
    d, w = cfg.depth, cfg.width
    out = [variant(a, "xavier", gain=g, depth=d, width=w) for a in ("sigmoid", "tanh") for g in cfg.gains]
    out += [variant("relu", "he", depth=k, width=w) for k in cfg.depths]
    out += [variant(a, "xavier", depth=k, width=w) for a in ("sigmoid", "tanh") for k in cfg.glorot_depths]
    out += [variant(a, i, depth=d, width=w) for a in cfg.h7_activations for i in ("he", "two_over_root_n")]
    out += [variant("relu", "xavier", depth=d, width=cfg.narrow, ratio=r) for r in cfg.width_ratios]
    out += [variant("relu", "he", dist=dist, depth=d, width=w) for dist in ("normal", "uniform")]
    out += [variant("tanh", "he", depth=d, width=w, input_moment=m) for m in cfg.input_moments]
    out += [variant("tanh", "he", depth=cfg.deep, width=k) for k in cfg.h11_widths]
    out += [variant("relu", "he", gain=s, depth=cfg.deep, width=w) for s in cfg.scales]
    unique = {tuple(v.values()): v for v in out}
    return list(unique.values())


def inputs_for(cfg: Config, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = data.arrays("mnist1d")
    idx = np_stream(seed, "inputs").choice(len(y), cfg.inputs, replace=False)
    return torch.from_numpy(x[idx]).to(F64), torch.from_numpy(y[idx])


def init_unit(cfg: Config, seed: int) -> pd.DataFrame:
    """Every variant's per-layer profile; the gains of one architecture share their draws (paired)."""
    x, y = inputs_for(cfg, seed)
    rows = []
    for v in init_variants(cfg):
        gen = stream(seed, "weights", v["act"], v["init"], v["dist"], v["depth"], v["width"], v["ratio"])
        rows += [dict(seed=seed, **v, **r) for r in profile(x, y, v, gen)]
    return pd.DataFrame(rows)


def exact_unit(cfg: Config) -> pd.DataFrame:
    """H1e's derivative bounds on a grid, H2a's one-signed gradient rows, H9a's Monte Carlo identities."""
    u = np.linspace(-40.0, 40.0, 800_001)
    sig = 1 / (1 + np.exp(-u))
    th = np.tanh(u)
    sat_sig = (sig < 0.05) | (sig > 0.95)
    sat_tanh = np.abs(th) >= 0.95
    rows = [dict(quantity="sigmoid_derivative_over_bound", value=float((sig * (1 - sig))[sat_sig].max() / 0.0475)),
            dict(quantity="tanh_derivative_over_bound", value=float((1 - th**2)[sat_tanh].max() / 0.0975))]
    rows += [dict(quantity=f"one_signed_rows_{a}", value=one_signed_share(cfg, a)) for a in ("sigmoid", "tanh")]
    rng = np_stream(0, "monte-carlo")
    w = rng.normal(0.3, 0.5, cfg.mc_draws)
    x = rng.uniform(0.0, 2.0, cfg.mc_draws)  # independent, both with non-zero means
    identity = x.mean() ** 2 * w.var() + w.mean() ** 2 * x.var() + w.var() * x.var()
    yy = rng.normal(0.0, 1.3, cfg.mc_draws)
    rows += [dict(quantity="product_variance_error", value=float(abs((w * x).var() / identity - 1))),
             dict(quantity="relu_half_variance_error", value=float(abs(np.mean(np.maximum(yy, 0) ** 2)
                                                                        / (0.5 * yy.var()) - 1)))]
    return pd.DataFrame(rows)


def one_signed_share(cfg: Config, act: str, samples: int = 32) -> float:
    """Share of non-zero per-sample ∂L/∂W₂ rows whose entries share a sign, W₂ fed by ``act`` units."""
    x, y = inputs_for(cfg, 0)
    gen = stream(0, "one-signed", act)
    w1 = draw((cfg.width, x.shape[1]), inits.variance("xavier", x.shape[1], cfg.width), gen, "normal")
    w2 = draw((cfg.width, cfg.width), inits.variance("xavier", cfg.width, cfg.width), gen, "normal").requires_grad_()
    head = draw((10, cfg.width), inits.variance("xavier", cfg.width, 10), gen, "normal")
    one, nonzero = 0, 0
    for n in range(samples):
        (g,) = torch.autograd.grad(F.cross_entropy(ACT[act](ACT[act](x[n:n + 1] @ w1.T) @ w2.T) @ head.T, y[n:n + 1]),
                                   w2)
        live = g.abs().sum(1) > 0
        nonzero += int(live.sum())
        one += int((((g >= 0).all(1) | (g <= 0).all(1)) & live).sum())
    return one / nonzero


# --- measurement: training from constant, zero and random inits (H5) ---------------------------

def two_layer(n_in: int, hidden: int, init: str, gen: torch.Generator) -> list[torch.Tensor]:
    """[W₁, b₁, W₂, b₂] of an n_in-hidden-10 net in float64: Xavier normal ("random"), every weight of a
    layer equal to its Xavier standard deviation ("constant"), or all zeros ("zero"); biases 0."""
    shapes = [(hidden, n_in), (10, hidden)]
    ws = []
    for o, i in shapes:
        std = math.sqrt(inits.variance("xavier", i, o))
        if init == "random":
            ws.append(torch.randn((o, i), generator=gen, dtype=F64) * std)
        else:
            ws.append(torch.full((o, i), std if init == "constant" else 0.0, dtype=F64))
    params = [ws[0], torch.zeros(hidden, dtype=F64), ws[1], torch.zeros(10, dtype=F64)]
    return [p.requires_grad_() for p in params]


def forward(params, x, act: str, keep: float = 1.0, gen: torch.Generator | None = None) -> torch.Tensor:
    w1, b1, w2, b2 = params
    h = ACT[act](x @ w1.T + b1)
    if keep < 1.0:  # inverted dropout on the hidden units
        h = h * torch.bernoulli(torch.full_like(h, keep), generator=gen) / keep
    return h @ w2.T + b2


def row_spread(w: torch.Tensor) -> float:
    """Largest pairwise distance between rows over the mean row norm."""
    w = w.detach()
    return float(torch.cdist(w, w).max() / w.norm(dim=1).mean())


def train_run(cfg: Config, split: data.Split, seed: int, hidden: int, init: str, act: str = "tanh",
              dropout: float = 0.0) -> dict:
    """Plain SGD on the batches every variant of this seed shares; the largest |∂L/∂W₁| over steps."""
    params = two_layer(split.n_features, hidden, init, stream(seed, "init", hidden))
    batches = training.random_batches(len(split.y_train), cfg.batch, cfg.steps, stream(seed, "batches"))
    drop = stream(seed, "dropout")
    largest = 0.0
    for idx in batches:
        loss = F.cross_entropy(forward(params, split.x_train[idx], act, 1 - dropout, drop), split.y_train[idx])
        grads = torch.autograd.grad(loss, params)
        largest = max(largest, float(grads[0].abs().max()))
        training.sgd_step_(params, grads, [torch.zeros_like(p) for p in params], cfg.lr)
    with torch.no_grad():
        acc = float((forward(params, split.x_test, act).argmax(1) == split.y_test).double().mean())
    return dict(seed=seed, hidden=hidden, init=init, act=act, dropout=dropout, test_acc=acc,
                row_spread=row_spread(params[0]), largest_hidden_grad=largest)


def train_unit(cfg: Config, seed: int) -> pd.DataFrame:
    split = data.split("mnist1d", seed=0).to(dtype=F64)
    runs = [train_run(cfg, split, seed, h, init) for h in cfg.hiddens for init in ("random", "constant")]
    runs += [train_run(cfg, split, seed, cfg.hidden, "zero", act) for act in ("tanh", "relu")]
    runs.append(train_run(cfg, split, seed, cfg.hidden, "constant", dropout=cfg.dropout))
    return pd.DataFrame(runs)


def units(cfg: Config) -> list[dict]:
    return ([dict(part="train", seed=s) for s in range(cfg.train_seeds)]
            + [dict(part="init", seed=s) for s in range(cfg.seeds)] + [dict(part="exact", seed=0)])


def run_unit(cfg: Config, unit: dict) -> dict[str, pd.DataFrame]:
    if unit["part"] == "train":
        return {"training": train_unit(cfg, unit["seed"])}
    if unit["part"] == "init":
        return {"layers": init_unit(cfg, unit["seed"])}
    return {"exact": exact_unit(cfg)}


# --- statistics: one line per claim over named helpers ------------------------------------------

def net(layers: pd.DataFrame, act: str, init: str = "xavier", **kw) -> pd.DataFrame:
    v = variant(act, init, **kw)
    return stats.select(layers, **v)


def at_layer(part: pd.DataFrame, column: str, layer: int) -> np.ndarray:
    return stats.per_seed(part, column, layer=layer)


def gradient_ratio(part: pd.DataFrame) -> Estimate:
    """‖∂L/∂W₁‖ / ‖∂L/∂W_L‖ per seed, geometric mean with the t interval of the logs."""
    last = int(part.layer.max())
    return stats.geometric_mean_ci(at_layer(part, "grad", 1) / at_layer(part, "grad", last))


def saturated_share(part: pd.DataFrame) -> Estimate:
    return stats.mean_ci(part.groupby("seed").saturated.mean(), bounds=(0.0, 1.0))


def per_layer_moment_ratio(part: pd.DataFrame) -> Estimate:
    """(moment_L / moment_1)^(1/(L−1)) per seed: the geometric mean of the per-layer ratios."""
    last = int(part.layer.max())
    return stats.geometric_mean_ci((at_layer(part, "moment", last) / at_layer(part, "moment", 1)) ** (1 / (last - 1)))


def end_to_end(part: pd.DataFrame, away: bool = False) -> Estimate:
    """moment_L / moment_1 per seed (``away``: max(r, 1/r), the factor of change either way)."""
    r = at_layer(part, "moment", int(part.layer.max())) / at_layer(part, "moment", 1)
    return stats.geometric_mean_ci(np.maximum(r, 1 / r) if away else r)


def forward_factor_error(part: pd.DataFrame, form: str) -> Estimate:
    """Per seed, the geometric-mean forward factor pre_moment_l / in_moment_l of the expanding and of
    the contracting hidden layers (l ≥ 2) against fan·Var[w] (Xavier), the larger relative error."""
    part = part[part.layer >= 2].assign(factor=lambda t: t.pre_moment / t.in_moment,
                                        var=lambda t: 2.0 / (t.fan_in + t.fan_out))
    part = part.assign(predicted=part["var"] * (part.fan_in if form == "n_in" else part.fan_out),
                       kind=np.where(part.fan_out >= part.fan_in, "expanding", "contracting"))
    errors = []
    for _, seed_part in part.groupby("seed"):
        errs = [abs(math.exp(np.mean(np.log(g.factor / g.predicted))) - 1) for _, g in seed_part.groupby("kind")]
        errors.append(max(errs))
    return stats.mean_ci(errors)


def normal_over_uniform(layers: pd.DataFrame, cfg: Config) -> Estimate:
    def factors(dist):
        part = net(layers, "relu", "he", dist=dist, depth=cfg.depth, width=cfg.width)
        part = part[part.layer >= 2]
        return (part.pre_moment / part.in_moment).to_numpy().reshape(cfg.seeds, -1)
    return stats.geometric_mean_ci(np.exp(np.log(factors("normal") / factors("uniform")).mean(1)))


def homogeneity_slope(layers: pd.DataFrame, cfg: Config) -> Estimate:
    part = stats.select(layers, act="relu", init="he", depth=cfg.deep, width=cfg.width, layer=1)
    part = part[part.gain.isin(cfg.scales)]
    wide = part.pivot(index="seed", columns="gain", values="grad").sort_index(axis=1)
    return stats.loglog_slope_ci(wide.columns.to_numpy(), wide.to_numpy())


def chi_ratio(layers: pd.DataFrame, cfg: Config, width: int) -> Estimate:
    """Measured per-layer factor Σ‖δ_l‖² / Σ‖δ_{l+1}‖² over the second half of the deep He + tanh net,
    per seed (geometric mean over layers), over the mean-field χ(q*)."""
    part = net(layers, "tanh", "he", depth=cfg.deep, width=width)
    wide = part.pivot(index="seed", columns="layer", values="delta2").sort_index(axis=1).to_numpy()
    start = cfg.deep // 2
    factors = wide[:, start - 1:-1] / wide[:, start:]
    q_star = mean_field.fixed_point("tanh", 2.0)
    return stats.geometric_mean_ci(np.exp(np.log(factors).mean(1)) / mean_field.chi("tanh", q_star, 2.0))


def exact_value(exact: pd.DataFrame, *quantities: str) -> Estimate:
    return Estimate.exact(max(float(stats.select(exact, quantity=q).value.iloc[0]) for q in quantities))


def acc_gap(training: pd.DataFrame, hidden: int) -> Estimate:
    a = stats.per_seed(training, "test_acc", init="random", hidden=hidden, dropout=0.0)
    b = stats.per_seed(training, "test_acc", init="constant", hidden=hidden, dropout=0.0)
    return stats.paired_difference(a, b)


def estimate(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, Estimate]:
    layers, exact, training = tables["layers"], tables["exact"], tables["training"]
    d, w = cfg.depth, cfg.width
    gains = lambda act: {g: gradient_ratio(net(layers, act, gain=g, depth=d, width=w)) for g in cfg.gains}  # noqa: E731
    glorot = lambda act: {k: gradient_ratio(net(layers, act, depth=k, width=w)) for k in cfg.glorot_depths}  # noqa: E731
    constant = stats.select(training, init="constant", hidden=cfg.hidden)
    return {
        "H1b": {k: gradient_ratio(net(layers, "relu", "he", depth=k, width=w)) for k in cfg.depths},
        "H1a-sat": saturated_share(net(layers, "sigmoid", gain=cfg.sigmoid_gain, depth=d, width=w)),
        "H1a": gains("sigmoid"),
        "H1c-sat": saturated_share(net(layers, "tanh", gain=cfg.tanh_gain, depth=d, width=w)),
        "H1c": gains("tanh"),
        "H1e": exact_value(exact, "sigmoid_derivative_over_bound", "tanh_derivative_over_bound"),
        "H2a": exact_value(exact, "one_signed_rows_sigmoid"),
        "H5a": Estimate.exact(stats.select(constant, dropout=0.0).row_spread.max()),
        "H5c": Estimate.exact(stats.select(training, init="zero").largest_hidden_grad.max()),
        "H5b-ctl": stats.mean_ci(stats.per_seed(training, "test_acc", init="random", hidden=cfg.hidden), bounds=(0, 1)),
        "H5b": {h: acc_gap(training, h) for h in cfg.hiddens},
        "H5d": stats.mean_ci(stats.per_seed(constant, "row_spread", dropout=cfg.dropout)),
        "H6a": homogeneity_slope(layers, cfg),
        "H7-he": per_layer_moment_ratio(net(layers, "relu", "he", depth=d, width=w)),
        "H7": {a: per_layer_moment_ratio(net(layers, a, "two_over_root_n", depth=d, width=w))
               for a in cfg.h7_activations},
        "H8b": forward_factor_error(net(layers, "relu", depth=d, width=cfg.narrow, ratio=cfg.width_ratio), "n_in"),
        "H8a": {r: forward_factor_error(net(layers, "relu", depth=d, width=cfg.narrow, ratio=r), "n_out")
                for r in cfg.width_ratios},
        "H9a": exact_value(exact, "product_variance_error", "relu_half_variance_error"),
        "H9b": normal_over_uniform(layers, cfg),
        "H10a": glorot("tanh"),
        "H10b": glorot("sigmoid"),
        "H11a-ctl": end_to_end(net(layers, "relu", "he", depth=d, width=w)),
        "H11a": {m: end_to_end(net(layers, "tanh", "he", depth=d, width=w, input_moment=m), away=True)
                 for m in cfg.input_moments},
        "H11b": {k: chi_ratio(layers, cfg, k) for k in cfg.h11_widths},
    }


def facts(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, float]:
    """Mean-field numbers beside the measurements, and the runs' accuracies."""
    q_tanh = mean_field.fixed_point("tanh", 2.0)
    training, exact = tables["training"], tables["exact"]
    out = {"q_star_tanh_he": q_tanh, "moment_star_tanh_he": mean_field.second_moment("tanh", q_tanh),
           "chi_tanh_he": mean_field.chi("tanh", q_tanh, 2.0),
           "one_signed_rows_tanh": float(stats.select(exact, quantity="one_signed_rows_tanh").value.iloc[0]),
           "acc_random": float(stats.select(training, init="random", hidden=cfg.hidden).test_acc.mean()),
           "acc_constant": float(stats.select(training, init="constant", hidden=cfg.hidden, dropout=0.0)
                                 .test_acc.mean())}
    for act, gain, level in (("sigmoid", cfg.sigmoid_gain, SIG_SAT), ("tanh", cfg.tanh_gain, TANH_SAT)):
        q = mean_field.fixed_point(act, gain**2)
        out[f"mf_saturated_{act}"] = mean_field.tail_share(q, level)
        out[f"mf_chi_{act}"] = mean_field.chi(act, q, gain**2)
        out[f"mf_chi_{act}_xavier"] = mean_field.chi(act, mean_field.fixed_point(act, 1.0), 1.0)
    return out


# --- figures ------------------------------------------------------------------------------------

@plots.figure("H1a", "H1b", "H1c", "H10a", "H10b")
def figure_gradient_profiles(tables, cfg):
    """‖∂L/∂W_l‖ relative to the last hidden layer, layer by layer, with the mean-field slope √χ."""
    layers = tables["layers"]
    fig, ax = plt.subplots(figsize=(9, 5.5))
    shown = [("sigmoid", "xavier", 1.0, "sigmoid + Xavier"), ("sigmoid", "xavier", cfg.sigmoid_gain,
             f"sigmoid + Xavier × {cfg.sigmoid_gain:g} (saturated)"), ("tanh", "xavier", 1.0, "tanh + Xavier"),
             ("tanh", "xavier", cfg.tanh_gain, f"tanh + Xavier × {cfg.tanh_gain:g} (saturated)"),
             ("relu", "he", 1.0, "ReLU + He")]
    for i, (act, init, gain, label) in enumerate(shown):
        part = net(layers, act, init, gain=gain, depth=cfg.depth, width=cfg.width)
        last = part[part.layer == cfg.depth].set_index("seed").grad
        part = part.assign(rel=part.grad / part.seed.map(last))
        plots.band_from(ax, part, "layer", "rel", label, color=plots.PALETTE[i])
        if act != "relu":  # mean-field: the squared signal changes by χ per layer
            q = mean_field.fixed_point(act, gain**2)
            chi = mean_field.chi(act, q, gain**2)
            ls = np.arange(1, cfg.depth + 1)
            ax.plot(ls, chi ** ((cfg.depth - ls) / 2), ":", color=plots.PALETTE[i], lw=1.5)
    ax.set_yscale("log")
    ax.axhline(KILLED, color="0.4", lw=0.8, ls="--")
    ax.set(xlabel="layer l", ylabel="‖∂L/∂W_l‖ / ‖∂L/∂W_L‖",
           title="Gradient per layer at init (dotted: mean-field √χ per layer)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=9)
    return fig


@plots.figure("H7", "H7-he", "H11a", "H11a-ctl")
def figure_second_moments(tables, cfg):
    """Mean squared activation per layer: He vs 002's 2/√n (ReLU), He + tanh from several input scales,
    with the mean-field length map."""
    layers = tables["layers"]
    fig, ax = plt.subplots(figsize=(9, 5.5))
    shown = [("relu", "he", 1.0, "ReLU + He"), ("relu", "two_over_root_n", 1.0, "ReLU + (2/√n)·N(0,1)")]
    shown += [("tanh", "he", m, f"tanh + He, inputs E[x²]={m:g}") for m in cfg.input_moments]
    for i, (act, init, m, label) in enumerate(shown):
        part = net(layers, act, init, depth=cfg.depth, width=cfg.width, input_moment=m)
        plots.band_from(ax, part, "layer", "moment", label, color=plots.PALETTE[i])
        if act == "tanh":
            q1 = float(part[part.layer == 1].pre_moment.mean())
            qs = mean_field.trajectory("tanh", q1, 2.0, cfg.depth)
            ax.plot(np.arange(1, cfg.depth + 1), [mean_field.second_moment("tanh", q) for q in qs], ":",
                    color=plots.PALETTE[i], lw=1.5)
    ax.set_yscale("log")
    ax.set(xlabel="layer l", ylabel="mean squared activation",
           title="Second moment per layer at init (dotted: mean-field length map)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=9)
    return fig


FIGURES = [figure_gradient_profiles, figure_second_moments]

if __name__ == "__main__":
    raise SystemExit(cli.main_for(__file__))
