"""Activations and initialisation (claims H1–H11): deep bias-free MLPs on MNIST-1D inputs at init in
float64 (gradient and second-moment profiles per layer, sigmoid/tanh/ReLU × Xavier/He/002's 2/√n,
gains, alternating widths) with the mean-field q* and χ beside them; constant and zero init under
plain SGD (symmetry, dropout control); dying ReLU against the learning rate; Monte Carlo checks of the
derivation's identities. Submodules: measure (the nets and their runs), figures; the method text is
analyses/activations_init.md."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dlclaims.methods import mean_field
from dlclaims.suite import stats
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
SEPARATED = 1e-3           # H5d: rows apart by a thousandth of their norm (H5a's rows are bit-identical)
TRAINS = 0.3               # H5b premise: a random-init net reaches three times chance (0.1)
ACC_GAP = 0.05             # H5b: 50 of 1000 test examples, about four binomial SEs of one accuracy
EXACT = 1e-12              # H1e, H2a, H3b, H3d, H5a, H5c: identities
DIES = 0.05                # H3a, H3e: 26 of the 512 hidden units, more than a handful
ALIVE_AT_INIT = 0.01       # H3a premise: dying is due to training (≤ 5 of 512 units dead at init)
SOMETHING_TO_RECOVER = 20  # H3c premise: layer-2 units dead at the first checkpoint, pooled over seeds
RECOVERS = 0.1             # H3c: "unlikely to recover": fewer than one in ten of them alive at the end
EFFECTIVELY_DEAD = 1e-3    # H3e: a unit's largest per-input |δ| under 1e-3 of its layer's median unit
FAILS_TYPICALLY = 0.5      # H6b: failure is the typical outcome (Wilson lower end), not one unlucky seed
FEW_FAIL = 0.1             # H6b premise: at s = 1 at most a tenth of the runs fail (counted: ≤ 2 of 20)
SAME_ACC = 0.01            # H9c: 10 of 1000 test examples, about one binomial SE of one accuracy
INITS_DIFFER = 0.01        # H9c premise: old U(±1/√n) and uniform He differ by more than 10 test examples
TOP_SATURATED = 0.05       # H1d: a sigmoid output below 0.05 (σ′ < 0.0475, under a fifth of its peak)
MAJORITY = 0.5             # H1d: a majority of the top layer's outputs saturated at some step
UNSATURATED_AT_INIT = 0.1  # H1d premise: at most a tenth of the top layer's outputs below 0.05 at step 0
LEARNED = 0.1 * math.log(10)  # H1d premise: the loss falls by a tenth of chance's ln 10 (the net left the start)
TARGET_LOSS = 0.3          # H2b: steps to this training loss (the catalogue's)
SLOWER = 0.2               # H2b: ≥ 1.2× the steps, above the 2^¼ ≈ 1.19 the √2 lr grid alone can put between equals

H8_OLD = "largest |measured / ({form}·Var[w]) − 1| over the expanding and contracting layers, mean over seeds"
H8_STATISTIC = ("measured forward factor / ({form}·Var[w]), pooled: mean over the expanding (and over the "
                "contracting) layers and over seeds, the kind farthest from 1")
H8_RULE = within(1.0, FORMULA_ERROR, "5%: the pooled factor's sampling spread is about 1% at this width and seed count")
FAIL_SETUP = ("deep", "fail_width", "fail_steps", "fail_lr", "batch", "fail_seeds")
NORMAL_SETUP = ("normal_width", "normal_steps", "normal_lr", "batch", "train_seeds")
CENTRING_SETUP = ("centring_hidden", "centring_lr_low", "centring_lrs", "centring_steps", "train_seeds")
SAT_SETUP = ("sat_depth", "sat_width", "sat_steps", "batch", "train_seeds")
SAT_SCOPE = Scope("sat_lr", 0.1, "plain SGD's common default; the lecture and Glorot & Bengio name none, and at 2 "
                  "the first step overshoots (loss 6-8) and saturates either init")
FACTOR_WHY = "within a factor 10 end to end: the first layer learns neither 10× slower nor 10× faster"
SAME_WHY = "±25% per ratio: the catalogue's 'about the same' for H–K"
KILLED_RULE = at_most(KILLED, null=1.0, why="the first layer learns at ≤ 1% of the last hidden layer's rate")
ENDS_TO_ENDS = between(*FACTOR_10, null=1.0, why=FACTOR_WHY)
INIT_SETUP = ("width", "depth", "inputs", "seeds")
TRAIN_SETUP = ("hidden", "steps", "lr", "batch", "train_seeds")
H3_SETUP = ("h3_hidden", "h3_steps", "batch", "train_seeds")
LR_SCOPE = Scope("h3_lr", 1.0, "the largest lr of the catalogue's grid; CS231n, the source of 001's wording, ties "
                 "dying to a too-high lr (H3-stable checks that the loss stays finite and falls there)")
H5A_OLD = "largest pairwise difference of hidden weight rows after training / mean row norm, over seeds"
H5A_STATISTIC = ("largest pairwise distance of hidden weight rows after training, from the rows' differences "
                 "(not through the Gram matrix) / mean row norm, over seeds")

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
    Claim("H1d-init", "derived", "The top hidden sigmoid layer is not saturated at init",
          f"share of the top hidden layer's sigmoid outputs below {TOP_SATURATED:g} at step 0 (units × batch), "
          "headline init, mean over seeds", at_most(UNSATURATED_AT_INIT), setup=SAT_SETUP + ("sat_init",)),
    Claim("H1d-learns", "derived", "The sigmoid net trains in the steps H1d reads (saturation during training)",
          "first-step training loss − mean of the last 20 steps' losses (nats), headline init, mean over seeds",
          exceeds(0.0, LEARNED, "a tenth of chance's ln 10: the net has left its starting loss"),
          premise="H1d-init", setup=SAT_SETUP + ("sat_init",), scope=SAT_SCOPE),
    Claim("H1d", "derived", "Glorot & Bengio: with sigmoid units the top hidden layer saturates early in training",
          f"largest share over the first sat_steps steps of the top hidden layer's sigmoid outputs below "
          f"{TOP_SATURATED:g} (each step's batch), mean over seeds",
          exceeds(0.0, MAJORITY, "a majority of the layer's outputs, not a few units"), premise="H1d-learns",
          setup=SAT_SETUP + ("sat_init",), scope=SAT_SCOPE),
    Claim("H2a", "check", "With sigmoid (positive) inputs every per-sample weight-gradient row has one sign",
          "share of per-sample ∂L/∂W rows (non-zero) of a layer fed by sigmoid units whose entries share a sign",
          at_least(1.0 - EXACT), setup=("inputs",)),
    Claim("H2b-ctl", "derived", "Centring the inputs speeds training in this set-up (it can show a centring effect)",
          f"steps to training loss {TARGET_LOSS:g}, raw / centred inputs (σ − ½ hidden units), each at its best lr of "
          "the grid, geometric mean of per-seed ratios",
          exceeds(1.0, SLOWER, "1.2×: above the 2^¼ ≈ 1.19 the √2 grid alone can put between equal variants"),
          setup=CENTRING_SETUP + ("centring_batch",)),
    Claim("H2b", "lecture", "Non-zero-centred (sigmoid) hidden units slow training",
          f"steps to training loss {TARGET_LOSS:g}, σ / (σ − ½) hidden units (the same function class), each at its "
          "best lr of a √2-spaced grid, geometric mean of per-seed ratios",
          exceeds(1.0, SLOWER, "1.2×: above the 2^¼ ≈ 1.19 the √2 grid alone can put between equal variants"),
          premise="H2b-ctl", setup=CENTRING_SETUP,
          scope=Scope("centring_batch", 1, "the one-sign argument is about one sample's gradient; a batch mixes "
                      "signs")),
    Claim("H3-stable", "derived", "At the headline lr, ReLU and Leaky ReLU nets train stably",
          "share of ReLU and Leaky ReLU runs (plain SGD) whose loss stays finite and whose mean over the last 20 steps "
          "is below the first step's", at_least(1.0), setup=H3_SETUP + ("h3_lr",)),
    Claim("H3a-init", "derived", "Hardly any ReLU unit is dead at init (dying is due to training)",
          "share of hidden ReLU units with zero output on every training input at init, mean over seeds",
          at_most(ALIVE_AT_INIT), premise="H3-stable", setup=H3_SETUP),
    Claim("H3a", "lecture", "ReLU units die during training",
          "share of hidden ReLU units with zero output on every training input, after − at init, mean of per-seed "
          "differences, plain SGD", exceeds(0.0, DIES, "26 of the 512 hidden units: more than a handful"),
          premise="H3a-init", setup=H3_SETUP, scope=LR_SCOPE),
    Claim("H3b", "check", "A first-layer ReLU unit dead on every training input stays dead under plain SGD",
          "first-layer units dead on every training input at step steps/3 and alive at the end, summed over seeds "
          "and lrs (runs whose loss stays finite)", at_most(EXACT), setup=H3_SETUP),
    Claim("H3c-dead", "derived", "Enough layer-2 units are dead at the checkpoint to see recovery",
          "layer-2 ReLU units dead on every training input at step steps/3, summed over seeds (plain SGD)",
          at_least(SOMETHING_TO_RECOVER), setup=H3_SETUP + ("h3_lr",)),
    Claim("H3c", "lecture", "A dead ReLU unit is unlikely to recover",
          "share of the layer-2 units dead at step steps/3 that are alive at the end, pooled over seeds, Wilson CI",
          at_most(RECOVERS), premise="H3c-dead", setup=H3_SETUP + ("h3_lr",),
          scope=Scope("h3_optimiser", "sgd", "001: the gradient 'will forever be zero', a plain-SGD argument; "
                      "momentum 0.9 at lr/10 (the same long-run step) carries velocity into dead units")),
    Claim("H3d", "check", "Leaky ReLU (0.01) units never have a zero gradient on every input",
          "largest share of Leaky ReLU hidden units whose δ is 0 on every training input after training, over "
          "seeds and lrs", at_most(EXACT), setup=H3_SETUP),
    Claim("H3e", "derived", "Leaky ReLU keeps more units alive than ReLU",
          "share of effectively dead hidden units (largest per-input |δ| < 1e-3 × the layer's median unit), ReLU − "
          "Leaky, mean of per-seed differences", exceeds(0.0, DIES, "as H3a: 26 of the 512 hidden units"),
          premise="H3-stable", setup=H3_SETUP, scope=LR_SCOPE),
    Claim("H5a", "check", "From a constant init, plain SGD keeps the hidden units identical",
          H5A_STATISTIC, at_most(EXACT), setup=TRAIN_SETUP),
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
          exceeds(0.0, SEPARATED, "a thousandth of the row norm: rows measurably apart, where H5a's are bit-identical"), premise="H5a", setup=TRAIN_SETUP),
    Claim("H6a", "check", "A bias-free ReLU net is positively homogeneous: ‖∂L/∂W₁‖ grows like s^19 with the "
          "hidden weights' scale s",
          "log-log slope of ‖∂L/∂W₁‖ against s ∈ {0.5, …, 2}, 20 hidden layers He × s, mean of per-seed slopes",
          within(HOMOGENEOUS, 0.15 * HOMOGENEOUS, "±15%: the softmax's response to the logit scale aside"),
          setup=INIT_SETUP),
    Claim("H6b-ctl", "derived", "At He's scale (s = 1), with the same lr and steps, training hardly ever fails",
          "share of the runs at s = 1 whose loss is not finite at some step or whose mean over the last 20 steps "
          "is not below the first step's (counted over these runs)", at_most(FEW_FAIL), setup=FAIL_SETUP),
    Claim("H6b", "lecture", "A too-large initialization can make training fail altogether",
          "share of the runs at He × s whose loss is not finite at some step or whose mean over the last 20 steps "
          "is not below the first step's, Wilson CI",
          exceeds(0.0, FAILS_TYPICALLY, "failure is the typical outcome, not one unlucky seed"),
          premise="H6b-ctl", setup=FAIL_SETUP,
          scope=Scope("fail_scale", 2.0, "twice He's standard deviation, the catalogue's; the lecture names no "
                      "scale")),
    Claim("H7-he", "derived", "He's Var = 2/n keeps the second moment per layer (the measure reads 'same scale')",
          "per-layer ratio of mean squared activation, geometric mean over layers and seeds, He + ReLU",
          between(*SAME_SCALE, null=1.0, why=SAME_WHY), setup=INIT_SETUP),
    Claim("H7", "lecture", "w ∼ (2/√n)·N(0, 1) scales all outputs approximately the same (002, as printed)",
          "per-layer ratio of mean squared activation, geometric mean over layers and seeds, w ∼ (2/√n)·N(0, 1)",
          between(*SAME_SCALE, null=1.0, why=SAME_WHY), premise="H7-he", setup=INIT_SETUP,
          scope=Scope("h7_activation", "relu", "the formula is He's √(2/n) with the root misplaced")),
    Claim("H8b", "check", "Variance algebra: the forward factor is n_in·Var[w] (Xavier, alternating widths)",
          H8_STATISTIC.format(form="n_in"), H8_RULE, setup=INIT_SETUP + ("narrow",)),
    Claim("H8a", "lecture", "The forward variance factor is n_out·Var[w] (004, as printed)",
          H8_STATISTIC.format(form="n_out"), H8_RULE, setup=INIT_SETUP + ("narrow",),
          scope=Scope("width_ratio", 4, "the catalogue's 128/512; at 1 the two forms coincide")),
    Claim("H9a", "check", "The derivation's steps: Var[WX] = E[X]²Var[W] + E[W]²Var[X] + Var[W]Var[X] and "
          "E[relu(y)²] = ½Var[y]",
          "largest relative error of the two identities, Monte Carlo, float64", at_most(MC_ERROR),
          setup=("mc_draws",)),
    Claim("H9b", "check", "The forward recursion sees Var[w] only: normal and uniform He scale alike",
          "per-layer variance factor, normal / uniform He, geometric mean over layers and seeds",
          within(1.0, VARIANCE_MATCH, "2%: the sampling spread of a per-layer factor at this width"),
          setup=INIT_SETUP),
    Claim("H9c-ctl", "derived", "The set-up tells inits apart: uniform He trains to a higher test accuracy than "
          "the old U(±1/√n)", "test accuracy, uniform He − old U(±1/√n), mean of per-seed differences",
          exceeds(0.0, INITS_DIFFER, "10 of 1000 test examples, about one binomial SE of one accuracy"),
          setup=NORMAL_SETUP,
          scope=Scope("normal_depth", 10, "the derivation is about deep nets")),
    Claim("H9c", "lecture", "A normal distribution is fine: He normal trains like He uniform",
          "test accuracy, He normal − He uniform (the same variance, coupled draws, the same batches), mean of "
          "per-seed differences", within(0.0, SAME_ACC, "10 of 1000 test examples, about one binomial SE of one "
                                                         "accuracy"),
          premise="H9c-ctl", setup=NORMAL_SETUP,
          scope=Scope("normal_depth", 10, "the derivation is about deep nets")),
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


# --- ledger: changes after the first baseline (its own file, as the claims' record) ---------------
from .ledger import AMENDMENTS  # noqa: E402,F401

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
    h3_hidden: int = 256            # H3: a 40-256-256-10 net (the catalogue's two 256-unit layers, MNIST-1D inputs)
    h3_steps: int = 300             # H3: plain-SGD steps (the catalogue's); checkpoint at a third
    h3_lr: float = 1.0              # H3's headline lr
    h3_lrs: tuple[float, ...] = (0.1, 0.5, 1.0)  # H3's lr scope (the catalogue's grid less 0.01, for time;
                                                  # at 0.1 no unit dies already; FULL has 0.01)
    h3_optimiser: str = "sgd"       # H3c's headline optimiser
    h3_optimisers: tuple[str, ...] = ("sgd", "momentum")  # momentum 0.9 at h3_lr / 10
    leak: float = 0.01              # Leaky ReLU's negative slope (the lectures')
    # H6b: a too-large init makes training fail (catalogue: 20-layer width-128 ReLU, He × s)
    fail_seeds: int = 20            # the catalogue's
    fail_width: int = 128           # the catalogue's; depth is `deep` (20 hidden layers, as H6a)
    fail_steps: int = 200           # the catalogue's "in 200 steps"
    fail_lr: float = 0.01           # a small plain-SGD step, so that failures belong to the scale and not
                                    # to the lr: a pilot (seeds 1000-1001, outside the measured ones) found
                                    # He (s = 1) training at 0.01, 0.03 and 0.1, and every s ≥ 1.25 non-finite
                                    # within 4 steps at all three; the smallest is the least likely to fail by itself
    fail_scale: float = 2.0         # H6b's headline s (twice He's standard deviation, the catalogue's)
    fail_scales: tuple[float, ...] = (1.25, 1.5, 2.0, 3.0)  # H6b's scope; s = 1 is the premise's run
    # H9c: "a normal distribution is fine" (test accuracy, normal − uniform He, paired per seed)
    normal_inits: tuple[str, ...] = ("he_normal", "he_uniform", "old")  # old U(±1/√n): the premise's contrast
    normal_width: int = 64          # an MNIST-1D-sized MLP (Greydanus's has 100 units), 64 for time
    normal_depth: int = 10          # H9c's headline depth (the derivation is about deep nets)
    normal_depths: tuple[int, ...] = (3, 10)  # H9c's depth scope
    normal_steps: int = 1000        # 16 epochs of MNIST-1D at batch 64: He nets well past chance, still learning
    normal_lr: float = 0.1          # the lr of {0.01, 0.05, 0.1} at which uniform He reached the highest test
                                    # accuracy at both depths (pilot at width 128, 500 and 1500 steps, seeds
                                    # 1000-1002, outside the measured ones; the normal arm was not run)
    # H1d: Glorot & Bengio's top-layer saturation (sigmoid, old U(±1/√n) against Xavier uniform)
    sat_init: str = "old"           # H1d's headline init: the one under which Glorot & Bengio saw it
    sat_inits: tuple[str, ...] = ("old", "xavier")
    sat_depth: int = 4              # four hidden sigmoid layers, the layers of Glorot & Bengio's Figure 2
    sat_width: int = 128            # theirs had 1000 units; n·Var[w] (all the init fixes) does not depend on it
    sat_steps: int = 300            # the catalogue's "first 300 steps"
    sat_lr: float = 0.1             # H1d's headline lr (SAT_SCOPE says why); the first baseline's 2.0 saturated
                                    # both inits in the first step's overshoot
    sat_lrs: tuple[float, ...] = (0.1, 0.5, 2.0)  # H1d's lr scope: where saturation appears, and whether the net learns
    # H2b: steps to training loss 0.3, sigmoid against σ − ½ hidden units, each at its best lr of a √2 grid
    centring_hidden: int = 32       # 64-32-32-10: the catalogue's two hidden layers, on the 8×8 digits
    centring_batch: int = 1         # H2b's headline batch (the one-sign argument is about one sample's gradient)
    centring_batches: tuple[int, ...] = (1, 32)  # H2b's batch scope (full batch: thousands of full-set steps; not run)
    centring_lr_low: tuple[float, ...] = (0.16, 1.6)  # per batch size, the grid's smallest lr, and
    centring_lrs: tuple[int, ...] = (6, 8)            # its number of lrs, √2 apart: placed by a pilot (seeds
                                    # 1000-1002, outside the measured ones) so that every arm's best lr is inside
    centring_steps: tuple[int, ...] = (3000, 1000)  # per batch size, the cap (about twice the slowest arm's best)
    centring_every: tuple[int, ...] = (25, 5)       # per batch size, read the training loss every this many steps
                                                    # (a few per cent of the best arms' steps)

# the anchors' scale: Poole et al.'s width 1000 nets, more seeds everywhere
FULL = Config(seeds=50, width=1000, train_seeds=30, mc_draws=10_000_000, h3_lrs=(0.01, 0.1, 0.5, 1.0))

QUICK = Config(seeds=4, inputs=128, width=128, depths=(5, 10), gains=(1.0, 4.0, 8.0), glorot_depths=(5,),
               width_ratios=(1, 4), input_moments=(1.0,), h11_widths=(256,), mc_draws=100_000,
               train_seeds=3, hiddens=(32,), steps=150, h3_lrs=(0.1, 1.0), h3_steps=150,
               fail_seeds=4, fail_steps=40, fail_scales=(2.0,), normal_depths=(10,), normal_steps=100,
               sat_inits=("old",), sat_lrs=(0.1,), sat_steps=100, centring_batches=(1,), centring_lr_low=(0.32,),
               centring_lrs=(2,), centring_steps=(1500,), centring_every=(50,))


def validate(cfg: Config) -> None:
    for knob, grid in (("depth", "depths"), ("sigmoid_gain", "gains"), ("tanh_gain", "gains"),
                       ("glorot_depth", "glorot_depths"), ("h7_activation", "h7_activations"),
                       ("width_ratio", "width_ratios"), ("input_moment", "input_moments"),
                       ("hidden", "hiddens"), ("h3_lr", "h3_lrs"), ("h3_optimiser", "h3_optimisers"),
                       ("fail_scale", "fail_scales"), ("normal_depth", "normal_depths"), ("sat_init", "sat_inits"), ("sat_lr", "sat_lrs"),
                       ("centring_batch", "centring_batches")):
        if getattr(cfg, knob) not in getattr(cfg, grid):
            raise ValueError(f"{knob}={getattr(cfg, knob)} is not in {grid}={getattr(cfg, grid)}")
    if not (len(cfg.centring_batches) == len(cfg.centring_lr_low) == len(cfg.centring_lrs)
            == len(cfg.centring_steps) == len(cfg.centring_every)):
        raise ValueError("centring_lr_low, centring_lrs, centring_steps and centring_every need one entry per batch")
    if cfg.fail_steps < 20:
        raise ValueError("H6b's failure rule reads the mean of the last 20 losses: fail_steps must be ≥ 20")
    if cfg.deep < 4 or cfg.depth < 2:
        raise ValueError("the nets need at least 2 (depth) and 4 (deep) hidden layers")



# the measurements read the thresholds above
from .measure import (F64, draw, dying_run, dying_unit, exact_unit, init_unit, init_variants, inputs_for,  # noqa: E402,F401
                      one_signed_share, profile, row_spread, train_run, train_unit, two_layer, variant, widths_of)
from . import centring, sweeps  # noqa: E402


def units(cfg: Config) -> list[dict]:
    return ([dict(part="train", seed=s) for s in range(cfg.train_seeds)]
            + [dict(part="dying", seed=s) for s in range(cfg.train_seeds)]
            + [dict(part="init", seed=s) for s in range(cfg.seeds)] + [dict(part="exact", seed=0)]
            + [dict(part="failing", scale=s) for s in (1.0, *cfg.fail_scales)]
            + [dict(part="normal", depth=k) for k in cfg.normal_depths]
            + [dict(part="saturation", init=i, lr=lr) for i in cfg.sat_inits for lr in cfg.sat_lrs]
            + [dict(part="centring", batch=b) for b in cfg.centring_batches])


def run_unit(cfg: Config, unit: dict) -> dict[str, pd.DataFrame]:
    if unit["part"] == "train":
        return {"training": train_unit(cfg, unit["seed"])}
    if unit["part"] == "dying":
        return {"dying": dying_unit(cfg, unit["seed"])}
    if unit["part"] == "init":
        return {"layers": init_unit(cfg, unit["seed"])}
    if unit["part"] == "failing":
        return {"failing": sweeps.failing_unit(cfg, unit["scale"])}
    if unit["part"] == "normal":
        return {"normal": sweeps.normal_unit(cfg, unit["depth"])}
    if unit["part"] == "saturation":
        return {"saturation": sweeps.saturation_unit(cfg, unit["init"], unit["lr"])}
    if unit["part"] == "centring":
        return {"centring": centring.centring_unit(cfg, unit["batch"])}
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


def forward_factor_ratio(part: pd.DataFrame, form: str) -> Estimate:
    """The forward factor pre_moment_l / in_moment_l of the hidden layers l ≥ 2 over fan·Var[w] (Xavier),
    pooled: per seed the arithmetic mean over the expanding and over the contracting layers, then the
    mean over seeds with its t interval, per kind; the kind farthest from 1 (:func:`stats.every_group`)."""
    part = part[part.layer >= 2].assign(factor=lambda t: t.pre_moment / t.in_moment,
                                        var=lambda t: 2.0 / (t.fan_in + t.fan_out))
    part = part.assign(ratio=part.factor / (part["var"] * (part.fan_in if form == "n_in" else part.fan_out)),
                       kind=np.where(part.fan_out >= part.fan_in, "expanding", "contracting"))
    kinds = [stats.mean_ci(g.groupby("seed").ratio.mean()) for _, g in part.groupby("kind")]
    return stats.every_group(kinds, H8_RULE)


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


def died(dy: pd.DataFrame, lr: float) -> Estimate:
    part = stats.select(dy, act="relu", optimiser="sgd", lr=lr)
    return stats.mean_ci(stats.per_seed(part, "dead_end") - stats.per_seed(part, "dead_init"))


def recovered(dy: pd.DataFrame, cfg: Config, optimiser: str) -> Estimate:
    part = stats.select(dy, act="relu", optimiser=optimiser)
    part = part[part.lr == cfg.h3_lr] if optimiser == "sgd" else part
    return stats.proportion_ci(int(part.revived_l2.sum()), int(part.dead_checkpoint_l2.sum()))


def leaky_keeps_alive(dy: pd.DataFrame, lr: float) -> Estimate:
    relu = stats.per_seed(dy, "effectively_dead", act="relu", optimiser="sgd", lr=lr)
    leaky = stats.per_seed(dy, "effectively_dead", act="leaky", optimiser="sgd", lr=lr)
    return stats.paired_difference(relu, leaky)


def failure_share(failing: pd.DataFrame, scale: float) -> Estimate:
    part = failing[failing.scale == scale]
    return stats.proportion_ci(int(part.failed.sum()), len(part))


def accuracy_gap(normal: pd.DataFrame, depth: int, a: str, b: str) -> Estimate:
    return stats.paired_difference(stats.per_seed(normal, "test_acc", init=a, depth=depth),
                                   stats.per_seed(normal, "test_acc", init=b, depth=depth))


def top_saturation(saturation: pd.DataFrame, init: str, lr: float) -> Estimate:
    """Per seed the largest share (over steps) of top-layer outputs below TOP_SATURATED; mean over seeds."""
    part = saturation[(saturation.init == init) & (saturation.lr == lr)]
    return stats.mean_ci(part.groupby("seed").top_saturated.max(), bounds=(0.0, 1.0))


def loss_drop(saturation: pd.DataFrame, init: str, lr: float) -> Estimate:
    """Per seed the first step's loss minus the mean of the last 20 steps' losses; mean over seeds."""
    part = saturation[(saturation.init == init) & (saturation.lr == lr)]
    first = part[part.step == 0].set_index("seed").loss
    last = part[part.step > part.step.max() - 20].groupby("seed").loss.mean()
    return stats.mean_ci(first - last)


def centring_ratio(cen: pd.DataFrame, cfg: Config, batch: int, slow: str, fast: str) -> Estimate:
    """Per seed, steps to the target of arm ``slow`` over arm ``fast``, each at its own best lr."""
    part = cen[cen.batch == batch]
    cap = float(cfg.centring_steps[cfg.centring_batches.index(batch)])
    return stats.geometric_mean_ci(centring.steps_at_best(part[part.arm == slow], cap)
                                   / centring.steps_at_best(part[part.arm == fast], cap))


def sweep_estimates(tables: dict[str, pd.DataFrame], cfg: Config) -> dict:
    failing, normal, sat = tables["failing"], tables["normal"], tables["saturation"]
    return {
        "H6b-ctl": Estimate.exact(float(failing[failing.scale == 1.0].failed.mean())),
        "H6b": {s: failure_share(failing, s) for s in cfg.fail_scales},
        "H9c-ctl": {k: accuracy_gap(normal, k, "he_uniform", "old") for k in cfg.normal_depths},
        "H9c": {k: accuracy_gap(normal, k, "he_normal", "he_uniform") for k in cfg.normal_depths},
        "H1d-init": stats.mean_ci(stats.per_seed(sat, "top_saturated", init=cfg.sat_init, step=0, lr=cfg.sat_lr),
                                  bounds=(0.0, 1.0)),
        "H1d-learns": {lr: loss_drop(sat, cfg.sat_init, lr) for lr in cfg.sat_lrs},
        "H1d": {lr: top_saturation(sat, cfg.sat_init, lr) for lr in cfg.sat_lrs},
        "H2b-ctl": centring_ratio(tables["centring"], cfg, cfg.centring_batch, "raw", "centred"),
        "H2b": {b: centring_ratio(tables["centring"], cfg, b, "sigmoid", "centred") for b in cfg.centring_batches},
    }


def h3_estimates(tables: dict[str, pd.DataFrame], cfg: Config) -> dict:
    dy = tables["dying"]
    sgd = stats.select(dy, optimiser="sgd")
    head = sgd[sgd.lr == cfg.h3_lr]
    headline_relu = head[head.act == "relu"]
    return {
        "H3-stable": Estimate.exact(float(head.stable.mean())),
        "H3a-init": stats.mean_ci(stats.per_seed(headline_relu, "dead_init"), bounds=(0.0, 1.0)),
        "H3a": {lr: died(dy, lr) for lr in cfg.h3_lrs},
        "H3b": Estimate.exact(float(sgd[(sgd.act == "relu") & sgd.finite].revived_l1.sum())),
        "H3c-dead": Estimate.exact(float(headline_relu.dead_checkpoint_l2.sum())),
        "H3c": {o: recovered(dy, cfg, o) for o in cfg.h3_optimisers},
        "H3d": Estimate.exact(float(sgd[sgd.act == "leaky"].zero_delta.max())),
        "H3e": {lr: leaky_keeps_alive(dy, lr) for lr in cfg.h3_lrs},
    }


def estimate(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, Estimate]:
    layers, exact, training = tables["layers"], tables["exact"], tables["training"]
    d, w = cfg.depth, cfg.width
    gains = lambda act: {g: gradient_ratio(net(layers, act, gain=g, depth=d, width=w)) for g in cfg.gains}  # noqa: E731
    glorot = lambda act: {k: gradient_ratio(net(layers, act, depth=k, width=w)) for k in cfg.glorot_depths}  # noqa: E731
    constant = stats.select(training, init="constant", hidden=cfg.hidden)
    return {
        **h3_estimates(tables, cfg),
        **sweep_estimates(tables, cfg),
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
        "H8b": forward_factor_ratio(net(layers, "relu", depth=d, width=cfg.narrow, ratio=cfg.width_ratio), "n_in"),
        "H8a": {r: forward_factor_ratio(net(layers, "relu", depth=d, width=cfg.narrow, ratio=r), "n_out")
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


def dying_facts(dy: pd.DataFrame, cfg: Config) -> dict[str, float]:
    """H3's numbers beside the rows: the checkpoint counts the checks read, dead shares at the headline."""
    sgd = stats.select(dy, optimiser="sgd")
    head = sgd[sgd.lr == cfg.h3_lr]
    return {"h3_dead_checkpoint_l1": float(sgd[sgd.act == "relu"].dead_checkpoint_l1.sum()),
            "h3_dead_end_relu": float(head[head.act == "relu"].dead_end.mean()),
            "h3_zero_delta_relu": float(head[head.act == "relu"].zero_delta.mean()),
            "h3_all_negative_leaky": float(head[head.act == "leaky"].dead_end.mean()),
            "h3_effectively_dead_leaky": float(head[head.act == "leaky"].effectively_dead.mean()),
            "h3_revived_momentum": float(stats.select(dy, optimiser="momentum").revived_l2.sum()),
            "h3_dead_checkpoint_momentum": float(stats.select(dy, optimiser="momentum").dead_checkpoint_l2.sum())}


def sweep_facts(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, float]:
    """The sweeps' numbers beside their rows: H6b's steps to a non-finite loss, H9c's accuracies and the
    seeds its equivalence would need, H1d's saturated share at the end and its loss."""
    failing, normal, sat = tables["failing"], tables["normal"], tables["saturation"]
    deep = normal[normal.depth == cfg.normal_depth]
    gap = (stats.per_seed(deep, "test_acc", init="he_normal") - stats.per_seed(deep, "test_acc", init="he_uniform"))
    head = sat[(sat.init == cfg.sat_init) & (sat.lr == cfg.sat_lr)]
    last = head[head.step == head.step.max()]
    out = {"h6b_failed_he": float(failing[failing.scale == 1.0].failed.sum()),
           "h6b_last_loss_he": float(failing[failing.scale == 1.0].last_loss.mean()),
           "h6b_first_loss_headline": float(failing[failing.scale == cfg.fail_scale].first_loss.median()),
           "h6b_finite_steps_headline": float(failing[failing.scale == cfg.fail_scale].steps_finite.max()),
           "h9c_gap_sd": float(gap.std(ddof=1)) if len(gap) > 1 else math.nan,
           "h9c_seeds_to_decide": stats.seeds_to_decide(gap, SAME_ACC if gap.mean() >= 0 else -SAME_ACC)
           if len(gap) > 1 else math.nan,
           "h1d_share_end": float(last.top_saturated.mean()),
           "h1d_loss_start": float(head[head.step == 0].loss.mean()),
           "h1d_loss_end": float(head[head.step > head.step.max() - 20].loss.mean())}
    for init in cfg.normal_inits:
        out[f"h9c_acc_{init}"] = float(deep[deep.init == init].test_acc.mean())
    cen = tables["centring"]
    head_cen = cen[cen.batch == cfg.centring_batch]
    for arm in centring.ARMS:
        part = head_cen[head_cen.arm == arm]
        lr = centring.best_lr(part)
        out[f"h2b_best_lr_{arm}"] = lr
        out[f"h2b_steps_{arm}"] = float(part[part.lr == lr].steps_to_target.median())
        out[f"h2b_censored_{arm}"] = float(np.isinf(part[part.lr == lr].steps_to_target).sum())
    return out


def facts(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, float]:
    """Mean-field numbers beside the measurements, and the runs' accuracies."""
    q_tanh = mean_field.fixed_point("tanh", 2.0)
    training, exact = tables["training"], tables["exact"]
    out = {"q_star_tanh_he": q_tanh, "moment_star_tanh_he": mean_field.second_moment("tanh", q_tanh),
           "chi_tanh_he": mean_field.chi("tanh", q_tanh, 2.0),
           "one_signed_rows_tanh": float(stats.select(exact, quantity="one_signed_rows_tanh").value.iloc[0]),
           **dying_facts(tables["dying"], cfg), **sweep_facts(tables, cfg),
           "acc_random": float(stats.select(training, init="random", hidden=cfg.hidden).test_acc.mean()),
           "acc_constant": float(stats.select(training, init="constant", hidden=cfg.hidden, dropout=0.0)
                                 .test_acc.mean())}
    for act, gain, level in (("sigmoid", cfg.sigmoid_gain, SIG_SAT), ("tanh", cfg.tanh_gain, TANH_SAT)):
        q = mean_field.fixed_point(act, gain**2)
        out[f"mf_saturated_{act}"] = mean_field.tail_share(q, level)
        out[f"mf_chi_{act}"] = mean_field.chi(act, q, gain**2)
        out[f"mf_chi_{act}_xavier"] = mean_field.chi(act, mean_field.fixed_point(act, 1.0), 1.0)
    return out


# --- the figures (after the rules and statistics they draw) -------------------------------------
from . import figures  # noqa: E402

FIGURES = figures.FIGURES
