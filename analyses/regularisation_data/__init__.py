"""Regularisation, data and transfer (claims K1–K14): weight decay and dropout's redundancy on
MNIST-1D nets, dropout against its L2 forms (float64), dropped units under four optimisers,
MNIST-1D nets' validation curves, test-set selection and shift augmentation, transfer from
MNIST digits 0–4 to 5–9, and the bias–variance decomposition.
The method text is analyses/regularisation_data.md."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from dlclaims.suite import stats
from dlclaims.suite.claims import Claim, Estimate, Scope, at_least, at_most, exceeds, falls_below, within
from dlclaims.suite.contract import Tol, option

from . import linear, networks, transfer
from .figures import FIGURES  # noqa: F401 — the contract's figure list
from .ledger import AMENDMENTS  # noqa: F401 — the ledger: rows added or changed after the baseline

TITLE = ("Regularisation and data: weight decay, dropout as L2 and redundancy, dropped units, early stopping, "
         "augmentation, bias–variance")
LECTURE = """\
"Overfitted responses facilitated by large weights → Weight Decay (L2-norm)" (003); "L2 on
weights" (000). "Dropout forces the neural network to learn redundant patterns" (003).
"Dropout can be viewed as an implicit L2 regularizer" (003). "Backpropagation as usual, but [...]
Set updates to zero for dropped out weights" (000); "Gradient only propagated from non-zero
neurons" (003). "The plot of validation loss decreases to a point and begins increasing again"
(001); "→ Early stopping!" (000). "3. Stop when the error on the test set stops decreasing" (002).
Augmentation "acts as a regularizer and helps reduce overfitting" (001); "Model should exhibit
some invariance" (000). "During inference, you can apply several augmentations [...] and average
the predictions" (002); "→ Better statistics for predicted output / → Some sense of
"uncertainty"" (000). "L(W) = (E[ŷ] − y)² [Bias²] + E[(ŷ − E[ŷ])²] [Variance] + σ" and "Adding
regularization" (000). A small validation set shows "noisy movements around the training loss"
and "a validation loss that is lower than the training loss" (001). "Transfer learning: Very little
data" / "Initialize very last layer randomly" (000); "very little data  Use Linear Classifier on
top layer" (001). "Lower learning rate! E.g. 1/10 of LR" / "Carefully adjust LR to avoid
"forgetting"" (000). Low-level features "Fairly generic", high-level "Rather specific" (000)."""

# --- claims, declared before the run (reasons at length: analyses/regularisation_data.md) ------

EXACT_IN_EXPECTATION = 0.02  # K2: a fifth of the premise's 0.1; the sampled masks leave ≈ 0.005
PENALTY_MATTERS = 0.1  # K2: OLS this far from the closed form, so matching it is not automatic
DROPOUT_MOVES = 0.2  # K3: the dropout fit this far from the unregularised one
IS_L2 = 0.1  # K3a, K3b: half the premise's distance: "acts as L2" is closer than "moves at all"
NOT_MOVED = 0.01  # K4b: a hundredth of the dropped weights; the sentence says none
RISE = 0.05  # K6: nats between the validation minimum and the last value, ≈ 5% in per-example likelihood
OVERFITS = 0.5  # K6 premise: final training loss at most half the validation minimum
SPAN = 0.01  # K7 premise: the checkpoints' held-out accuracies span ten of 1000 examples
HONEST = 0.004  # K7: a quarter of the binomial SE (0.0158) of a 1000-example accuracy near ½
GAP = 0.05  # K8 premise: train − test accuracy gap of the unaugmented net (100 of 2000 digits)
AUG_GAIN = 0.02  # K8a: 40 of the 2000 held-out digits, about two binomial SEs
ROOM = 0.9  # K8b premise: the unaugmented net leaves at least a tenth of the digits to make invariant
INVARIANCE_GAIN = 0.1  # K8b: a tenth of the digits newly invariant (200 of 2000)
VIEWS_DISAGREE = 0.02  # K9a premise: twice the margin's share: averaging changes only where views disagree
TTA_GAIN = 0.01  # K9a: 20 of 2000 digits, about one binomial SE
FAIR = 0.2  # K9b: AUROC 0.7 = chance 0.5 + 0.2, the usual floor of "fair" discrimination
IDENTITY = 0.01  # K13a: 1% of the expected error (Monte Carlo over training sets)
MONOTONE = 0.9  # K13b: Spearman of λ with bias² and −variance: monotone up to a few Monte-Carlo swaps
CLT_BAND = 0.15  # K14a: the CLT's −½ ± 0.15 on the log-log slope
BELOW_GAIN = 0.1  # K14b: a tenth of the evaluations
ABOVE = 0.8  # K14b premise: with 1000 validation digits the loss is above the training loss this often
SHRINKS = 0.2  # K1a: the weight-norm ratio a fifth below 1, outside "about the same size"
CURBS = 0.25  # K1b: a quarter of the λ = 0 net's train − test gap removed
FRAGILE = 0.05  # K5 premise: the plain net loses 100 of the 2000 held-out digits when units are zeroed
REDUNDANT = 0.25  # K5: dropout removes a quarter of the plain net's loss
SOURCE_LEARNED = 0.9  # K10 premise chain: the 0–4 net is right on 9 of 10 held-out source digits
TRANSFERS = 0.02  # K10 premise: pretrained top features beat random ones by 20 of the 1000 target test digits
PROBE_GAIN = 0.01  # K10, K12: 10 of the 1000 target test digits, paired per seed on one fixed test set
FORGETS = 0.1  # K11 premise: at lr the source accuracy falls by a tenth (there is forgetting to limit)
LEARNS = 0.02  # K11 premise: lr/10 reaches the target accuracy of lr within 20 of 1000 test digits
LESS_FORGETTING = 0.05  # K11: the catalogue's; half the premise's floor

LINEAR_SETUP = ("linear_n", "linear_d", "k2_masks", "seeds")
LOGISTIC_SETUP = ("logistic_n", "logistic_d", "k3_masks", "seeds")
NET_SETUP = ("width", "steps", "lr", "momentum", "batch", "eval_every", "seeds")
SHIFT_SETUP = NET_SETUP + ("max_shift",)
BV_SETUP = ("bv_degree", "bv_sets", "bv_noise", "bv_lambda_min", "bv_lambda_max", "bv_lambdas")
KEEP = Scope("keep", 0.8, "000's input dropout 0.2; Srivastava's penalty grows as p(1 − p)")
TRANSFER_SETUP = ("tr_data", "tr_width", "tr_lr", "momentum", "batch", "tr_source_steps", "seeds")
LABELS = Scope("labels", 10, "the catalogue's 'very little': 10 labels per class against the source's 400")
FT_STEPS = Scope("tr_ft_steps", 300, "the catalogue's; longer budgets show whether lr/10 only delays forgetting")
REG_SETUP = NET_SETUP + ("k1_n_train", "k5_n_train", "k5_drop", "ablation_draws")
LAMBDA = Scope("weight_decay", 5e-4, "AlexNet's value, the common SGD default; larger λ shows where curbing "
               "turns into underfitting")
ABLATE = Scope("ablate", 0.5, "the hidden dropout rate the net trained with (000's typical value); Morcos et al.: "
               "robustness holds up to about that share")
N_TRAIN = Scope("n_train", 500, "000: 'Often, training data is very limited'; more data overfits less")

CLAIMS = [
    Claim("K2-pen", "derived", "Srivastava's penalty matters here: plain least squares is far from its minimiser",
          "‖w_OLS/p − w_S‖/‖w_S‖, w_S the closed-form minimiser of ‖y − pXw‖² + p(1−p)‖Γw‖², mean over seeds",
          at_least(PENALTY_MATTERS), setup=LINEAR_SETUP, scope=KEEP),
    Claim("K2", "check", "Linear regression: dropout training minimises ‖y − pXw‖² + p(1−p)‖Γw‖² (Srivastava §9.1)",
          "‖w_drop − w_S‖/‖w_S‖, w_drop the least-squares fit over k2_masks input-dropout masks per example, "
          "mean over seeds", at_most(EXACT_IN_EXPECTATION), premise="K2-pen", setup=LINEAR_SETUP, scope=KEEP),
    Claim("K3-moves", "derived", "Dropout moves the logistic-regression fit away from the unregularised one",
          "‖β_MLE − β_drop‖/‖β_drop‖, β_drop the fit over sampled inverted-dropout masks, mean over seeds",
          at_least(DROPOUT_MOVES), setup=LOGISTIC_SETUP, scope=KEEP),
    Claim("K3a", "lecture", "Dropout can be viewed as an implicit L2 regulariser (logistic regression, plain L2)",
          "min over λ of ‖β_ridge(λ) − β_drop‖/‖β_drop‖, mean over seeds",
          at_most(IS_L2, null=0.0, why="half the premise's 0.2: acting as L2 is closer to it than dropout's fit "
                  "is to no regularisation"), premise="K3-moves", setup=LOGISTIC_SETUP, scope=KEEP),
    Claim("K3b", "derived", "... as Wager et al.'s adaptive L2: the penalty ½ δ Σ_i σ_i(1−σ_i) Σ_j x_ij² β_j²",
          "‖β_Wager − β_drop‖/‖β_drop‖, mean over seeds",
          at_most(IS_L2, null=0.0, why="as K3a"), premise="K3-moves", setup=LOGISTIC_SETUP, scope=KEEP),
    Claim("K4a", "check", "Weights into and out of a dropped unit get zero gradient, and zero plain-SGD update",
          "largest |gradient| and |SGD update| of those weights over every step", at_most(0.0),
          setup=("k4_steps",)),
    Claim("K4b", "lecture", "Set updates to zero for dropped-out weights (under the optimiser used)",
          "share of the weights into or out of dropped units that move in the step (relative change > 1e-12)",
          within(0.0, NOT_MOVED, "a hundredth of the dropped weights: the sentence says none move"),
          setup=("k4_steps", "lr"), scope=Scope("optimiser", "momentum", "the same slide: 'Tricks of the trade "
                                                "still work'; momentum 0.9 is the default trick")),
    Claim("K1a", "derived", "Weight decay shrinks the weights",
          "Frobenius norm of the weight matrices, net trained with weight decay λ / the same seed's λ = 0 net "
          "(500 training digits), mean over seeds",
          falls_below(1.0, SHRINKS, "a fifth below the λ = 0 norm: outside 'about the same size'"),
          setup=REG_SETUP, scope=LAMBDA),
    Claim("K1b", "lecture", "Weight decay (L2 on weights) curbs overfitting",
          "share of the λ = 0 net's train − held-out accuracy gap that weight decay λ removes, "
          "1 − gap(λ)/gap(0), paired per seed (500 training digits), mean over seeds",
          exceeds(0.0, CURBS, "a quarter of the λ = 0 gap: 'curbs' must show against what there is to curb"),
          premise="K8-gap", setup=REG_SETUP, scope=LAMBDA),
    Claim("K5-fragile", "derived", "Zeroing hidden units hurts the net trained without dropout (≥ 0.05 accuracy)",
          "held-out accuracy lost when a share f of each hidden layer's units is zeroed, no-dropout net, mean over "
          "ablation_draws unit choices and seeds", at_least(FRAGILE), setup=REG_SETUP, scope=ABLATE),
    Claim("K5", "lecture", "Dropout forces the net to learn redundant patterns (it loses less when units are lost)",
          "1 − (accuracy lost by the dropout net) / (lost by the no-dropout net), the same units zeroed, paired "
          "per seed, mean over seeds",
          exceeds(0.0, REDUNDANT, "a quarter of the no-dropout net's loss: a fraction of the control's effect"),
          premise="K5-fragile", setup=REG_SETUP, scope=ABLATE),
    Claim("K5r-fragile", "derived", "... and with the survivors rescaled by 1/(1 − f) it still loses ≥ 0.05",
          "as K5-fragile, the surviving units of each hidden layer scaled by 1/(1 − f)", at_least(FRAGILE),
          setup=REG_SETUP, scope=ABLATE),
    Claim("K5r", "derived", "Dropout's redundancy with the survivors rescaled by 1/(1 − f): the next layer's "
          "expected input kept, as inverted dropout trains, so only the lost units' information is missing",
          "1 − (lost by the dropout net) / (lost by the no-dropout net), survivors rescaled, the same units zeroed, "
          "paired per seed, mean over seeds", exceeds(0.0, REDUNDANT, "as K5"), premise="K5r-fragile",
          setup=REG_SETUP, scope=ABLATE),
    Claim("K6-fit", "derived", "The net can overfit: its final training loss is at most half the validation minimum",
          "final training loss / minimum validation loss, mean over seeds", at_most(OVERFITS),
          setup=NET_SETUP, scope=N_TRAIN),
    Claim("K6", "lecture", "Training on, the validation loss falls to a point and then rises",
          "final validation loss − its minimum over the first 90% of steps (nats), mean over seeds",
          exceeds(0.0, RISE, "≈ 5% in per-example likelihood: less is a plateau, not a rise"),
          premise="K6-fit", setup=NET_SETUP, scope=N_TRAIN),
    Claim("K7-span", "derived", "The checkpoints differ: their held-out accuracies span at least 0.01",
          "max − min held-out accuracy over the checkpoints after step 0, mean over seeds", at_least(SPAN),
          setup=NET_SETUP + ("resplits",)),
    Claim("K7", "lecture", "Stopping when the error on the test set stops decreasing gives an honest test estimate",
          "accuracy at the selected step on the selecting set − on the other held-out digits, mean over "
          "resplits and seeds", within(0.0, HONEST, "a quarter of the binomial SE of a 1000-example accuracy "
                                       "near ½: a bias that small changes no conclusion"),
          premise="K7-span", setup=NET_SETUP + ("resplits",),
          scope=Scope("select_size", 1000, "the largest selecting set here: a bias found there is conservative")),
    Claim("K8-gap", "derived", "The unaugmented net overfits: train − test accuracy gap ≥ 0.05",
          "train − held-out accuracy of the unaugmented net, mean over seeds", at_least(GAP),
          setup=NET_SETUP, scope=N_TRAIN),
    Claim("K8a", "lecture", "Augmentation (random shifts) reduces overfitting",
          "held-out accuracy, shift-augmented − unaugmented net, paired per seed",
          exceeds(0.0, AUG_GAIN, "40 of 2000 held-out digits, about two binomial SEs"),
          premise="K8-gap", setup=SHIFT_SETUP, scope=N_TRAIN),
    Claim("K8-room", "derived", "The unaugmented net is not already shift-invariant (≤ 0.9 of the digits)",
          "share of held-out digits whose prediction no shift of ≤ max_shift samples changes, unaugmented net",
          at_most(ROOM), setup=SHIFT_SETUP, scope=N_TRAIN),
    Claim("K8b", "lecture", "Augmentation teaches invariance",
          "that share, shift-augmented − unaugmented net, paired per seed",
          exceeds(0.0, INVARIANCE_GAIN, "a tenth of the held-out digits (200 of 2000)"),
          premise="K8-room", setup=SHIFT_SETUP, scope=N_TRAIN),
    Claim("K9-views", "derived", "The test-time views disagree on at least 2% of the digits",
          "share of held-out digits whose shifted views' predictions are not all equal, mean over seeds",
          at_least(VIEWS_DISAGREE), setup=SHIFT_SETUP + ("tta_shift",)),
    Claim("K9a", "lecture", "Averaging the predictions over test-time augmentations helps",
          "held-out accuracy of the mean softmax over shifted views − of the unshifted view, mean over seeds",
          exceeds(0.0, TTA_GAIN, "20 of 2000 digits, about one binomial SE"), premise="K9-views",
          setup=SHIFT_SETUP + ("tta_shift",),
          scope=Scope("training", "shift", "002 and Krizhevsky et al. pair test-time with training-time augmentation")),
    Claim("K9b", "lecture", "... and gives some sense of uncertainty",
          "AUROC of the averaged prediction's entropy for flagging its errors, mean over seeds",
          exceeds(0.5, FAIR, "0.7, the usual floor of 'fair' discrimination (0.5 is chance)"),
          setup=SHIFT_SETUP + ("tta_shift",),
          scope=Scope("training", "shift", "as K9a")),
    Claim("K13a", "check", "Expected squared error = bias² + variance + σ² (σ² the noise variance; 000 prints σ)",
          "(error − bias² − variance − σ²) / error, worst λ; t interval over training sets",
          within(0.0, IDENTITY, "1% of the expected error: an identity up to Monte-Carlo error"),
          setup=BV_SETUP + ("bv_noise_draws",)),
    Claim("K13-var", "derived", "The least regularised fit has variance to trade: variance ≥ bias²",
          "variance / bias² at the smallest λ", at_least(1.0), setup=BV_SETUP,
          scope=Scope("bv_n", 30, "the catalogue's small sample; with many samples there is little variance")),
    Claim("K13b", "lecture", "Adding regularisation trades variance for bias",
          "min(−Spearman(λ, variance), Spearman(λ, bias²)) over the λ grid; bootstrap over training sets",
          exceeds(0.0, MONOTONE, "monotone up to a few Monte-Carlo swaps among the grid's λ"),
          premise="K13-var", setup=BV_SETUP,
          scope=Scope("bv_n", 30, "as K13-var")),
    Claim("K14a", "lecture", "A small validation set gives a noisy validation curve (noise ∝ 1/√n_val)",
          "log-log slope of the sd of the validation loss's changes between evaluations vs n_val, t over seeds",
          within(-0.5, CLT_BAND, "the CLT's −½ ± 0.15; flatter means the model's own changes dominate"),
          setup=SHIFT_SETUP + ("val_subsets",)),
    Claim("K14-above", "derived", "With 1000 validation digits the loss is above the training loss (≥ 0.8 of evaluations)",
          "share of evaluations with the 1000-digit validation loss above the training loss, mean over seeds",
          at_least(ABOVE), setup=SHIFT_SETUP + ("val_subsets",)),
    Claim("K14b", "lecture", "A small validation set can show a validation loss below the training loss",
          "share of evaluations with the validation loss below the training loss, at n_val − at 1000, mean over seeds",
          exceeds(0.0, BELOW_GAIN, "a tenth of the evaluations"), premise="K14-above",
          setup=SHIFT_SETUP + ("val_subsets",),
          scope=Scope("n_val", 20, "001: 'too few examples'")),
    Claim("K10-source", "derived", "The source net learned digits 0–4 (held-out accuracy ≥ 0.9)",
          "held-out 0–4 accuracy of the pretrained net, mean over seeds", at_least(SOURCE_LEARNED),
          setup=TRANSFER_SETUP),
    Claim("K10-transfers", "derived", "Something transfers: a probe on the pretrained top layer beats one on a "
          "random-init top layer by ≥ 0.02", "5–9 test accuracy, probe on pretrained − on random-init layer-2 "
          "features, paired per seed", at_least(TRANSFERS), premise="K10-source", setup=TRANSFER_SETUP,
          scope=LABELS),
    Claim("K10", "lecture", "With very little data, a linear classifier on pretrained top-layer features beats "
          "training from scratch", "5–9 test accuracy, probe on pretrained layer-2 features − the same MLP "
          "trained from scratch on the same labels, paired per seed",
          exceeds(0.0, PROBE_GAIN, "10 of the 1000 target test digits, paired on one fixed test set"),
          premise="K10-transfers", setup=TRANSFER_SETUP + ("tr_scratch_steps",), scope=LABELS),
    Claim("K11-forgets", "derived", "Fine-tuning at the pretraining lr forgets: source accuracy falls by ≥ 0.1",
          "held-out 0–4 accuracy (old head) before − after fine-tuning at lr, mean over seeds", at_least(FORGETS),
          setup=TRANSFER_SETUP + ("tr_ft_labels",), scope=FT_STEPS),
    Claim("K11-learns", "derived", "At lr/10 the target task is learned as well as at lr (within 0.02)",
          "5–9 test accuracy (new head), lr/10 − lr, paired per seed", at_least(-LEARNS),
          premise="K11-forgets", setup=TRANSFER_SETUP + ("tr_ft_labels",), scope=FT_STEPS),
    Claim("K11", "lecture", "Fine-tuning at 1/10 of the learning rate limits forgetting",
          "forgetting at lr − forgetting at lr/10, paired per seed",
          exceeds(0.0, LESS_FORGETTING, "the catalogue's; half the premise's floor of 0.1"),
          premise="K11-learns", setup=TRANSFER_SETUP + ("tr_ft_labels",), scope=FT_STEPS),
    Claim("K12-gain", "derived", "Pretraining helps a probe at some layer: the larger of the two gains ≥ 0.02",
          "per seed max over layers of (probe on pretrained − on random-init features), mean over seeds",
          at_least(TRANSFERS), setup=TRANSFER_SETUP,
          scope=Scope("labels", 100, "the features' generality, not the probe's sample size, is the question")),
    Claim("K12", "lecture", "Low-level features are generic, top-level ones specific",
          "gain of the layer-1 probe − gain of the layer-2 probe (gain: pretrained − random-init features), "
          "paired per seed", exceeds(0.0, PROBE_GAIN, "as K10"), premise="K12-gain", setup=TRANSFER_SETUP,
          scope=Scope("labels", 100, "as K12-gain")),
]

TOLERANCES = {"*": {"bias": Tol(rtol=0.05, atol=2e-3)}}
DEFAULT_TOLERANCE = Tol(rtol=1e-3, atol=1e-6)


# --- config -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    seeds: int = option(10, "seeds for every seeded comparison (problems, nets)")
    keep: tuple[float, ...] = (0.5, 0.8, 0.95)  # K2/K3 keep probabilities swept
    linear_n: int = 100             # K2: examples
    linear_d: int = 10              # K2: features, scales log-spaced 0.3–3
    k2_masks: int = 1000            # K2: masks per example: sampling error ≈ 0.005, a quarter of the rule
    logistic_n: int = 500           # K3: examples (non-separable at d = 20: the MLE exists)
    logistic_d: int = 20            # K3: features, scales log-spaced 0.3–3
    k3_masks: int = 100             # K3: masks per example: sampling error ≈ 0.016, a sixth of the rule
    optimiser: tuple[str, ...] = ("sgd", "momentum", "adam", "weight_decay")  # K4b's scope
    k4_steps: int = 100             # K4: steps per optimiser
    n_train: tuple[int, ...] = (500, 2000)  # K6, K8: training digits from the 3000-digit pool
    width: int = 128                # MNIST-1D MLP 40-width-width-10 (Greydanus: 100)
    steps: int = option(1500, "SGD steps of every MNIST-1D net")
    lr: float = 0.05                # SGD + momentum, the catalogue's
    momentum: float = 0.9
    batch: int = 64
    eval_every: int = 25            # evaluations every 25 steps: the validation minimum comes early
    max_shift: int = 3              # augmentation and invariance: shifts of ≤ 3 of 40 samples (±2 of 28 px)
    tta_shift: int = 2              # K9: views shifted by −2..2 samples
    training: tuple[str, ...] = ("shift", "none")  # K9's scope: the net the views are averaged for
    select_size: tuple[int, ...] = (50, 200, 1000)  # K7: selecting-set sizes
    resplits: int = 100             # K7: random selecting / fresh splits of the held-out digits per net
    n_val: tuple[int, ...] = (20, 100, 1000)  # K14: validation-subset sizes
    val_subsets: int = 100          # K14: random subsets per size and net
    bv_n: tuple[int, ...] = (30, 300)  # K13: training-set sizes
    bv_degree: int = 12             # K13: Legendre degree
    bv_sets: int = 500              # K13: training sets per n
    bv_noise: float = 0.3           # K13: noise sd σ
    bv_noise_draws: int = 20        # K13: fresh noisy targets per test point and set
    bv_test_points: int = 50
    bv_lambda_min: float = 1e-6     # K13: λ grid (per example), log-spaced
    bv_lambda_max: float = 10.0
    bv_lambdas: int = 15
    bv_bootstrap: int = 200         # K13b: bootstrap resamples of the training sets
    weight_decay: tuple[float, ...] = (5e-4, 5e-3, 5e-2)  # K1: λ swept (headline 5e-4), nets at k1_n_train
    k1_n_train: int = 2000          # K1: a second training-set size, at the headline λ only
    k5_n_train: int = 500           # K5: training digits of the dropout and plain nets (the limited-data regime)
    k5_drop: float = 0.5            # K5: hidden dropout rate (000's typical value)
    ablate: tuple[float, ...] = (0.1, 0.25, 0.5)  # K5: share of each hidden layer's units zeroed (the scope)
    ablation_draws: int = 20        # K5: random unit choices per share and net: sd of the mean drop ≈ 0.005
    labels: tuple[int, ...] = (1, 3, 10, 30, 100)  # K10/K12: labels per class of 5–9 (the scope)
    tr_data: str = "mnist"          # K10–K12: MNIST-5k; on 8×8 digits random features probe as well as pretrained
    tr_source_test: int = 100       # K10–K12: held-out digits per source class (500; the other 2000 pretrain)
    tr_target_test: int = 200       # K10–K12: test digits per target class (1000; the other 1500 are the pool)
    tr_width: int = 64              # K10–K12: MLP 784-64-64-5 (the 784-wide first layer is most of the cost)
    tr_lr: float = 0.05             # K10–K12: SGD + momentum, the catalogue's MLP rate: pretraining, scratch, "LR"
    tr_source_steps: int = 500      # K10–K12: pretraining steps, batches of `batch` (16 epochs of the 2000 digits)
    tr_scratch_steps: int = 200     # K10: scratch training on the labels (batches of `batch` where there are more)
    tr_ft_labels: int = 10          # K11: labels per class the backbone is fine-tuned on
    tr_ft_steps: tuple[int, ...] = (100, 300, 1000)  # K11: fine-tuning steps (the scope, around the headline)


# 30 seeds, every net trained twice as long, more training sets for the bias-variance identity
FULL = Config(seeds=30, steps=3000, bv_sets=2000, resplits=300, val_subsets=300)

QUICK = Config(seeds=3, weight_decay=(5e-4, 5e-2), ablation_draws=5, k2_masks=200, k3_masks=20, k4_steps=20,
               n_train=(500,), steps=250, eval_every=25, resplits=20, val_subsets=20, bv_sets=60, bv_bootstrap=50,
               keep=(0.8,), labels=(10, 100),
               tr_source_steps=200, tr_scratch_steps=100, tr_ft_steps=(300,))


def validate(cfg: Config) -> None:
    if cfg.k5_n_train not in cfg.n_train:
        raise ValueError(f"--k5-n-train {cfg.k5_n_train} has no no-dropout partner; expected one of --n-train "
                         f"{cfg.n_train}")
    if LAMBDA.lecture not in cfg.weight_decay:
        raise ValueError(f"--weight-decay {cfg.weight_decay} leaves out K1's headline λ {LAMBDA.lecture}")
    if cfg.steps < 10 * cfg.eval_every:
        raise ValueError(f"--steps {cfg.steps} gives fewer than 10 evaluations; expected ≥ {10 * cfg.eval_every}")
    if max(cfg.n_val) > 2000 or max(cfg.select_size) >= 2000:
        raise ValueError("validation and selecting sets must fit in the 2000 held-out digits")
    if cfg.tr_ft_labels not in cfg.labels:
        raise ValueError(f"--tr-ft-labels {cfg.tr_ft_labels} is not among --labels {cfg.labels}: fine-tuning uses "
                         "those draws")


# --- measurement ------------------------------------------------------------------------------

def units(cfg: Config) -> list[dict]:
    nets = [dict(experiment="mnist1d", seed=s, n_train=n, augment=a)
            for n in sorted(cfg.n_train, reverse=True) for s in range(cfg.seeds) for a in ("shift", "none")]
    return [*nets[:2], *[dict(experiment="bias_variance", n=n) for n in cfg.bv_n], dict(experiment="k4"),
            *[dict(experiment="linear", seed=s) for s in range(cfg.seeds)],
            *[dict(experiment="transfer", seed=s) for s in range(cfg.seeds)], *nets[2:], *regularised(cfg)]


def regularised(cfg: Config) -> list[dict]:
    """K1's weight-decay nets (every λ at the smallest training set, the headline λ at k1_n_train)
    and K5's dropout nets; their unregularised partners are the unaugmented nets above."""
    small = min(cfg.n_train)
    wd = [(small, lam) for lam in cfg.weight_decay]
    if cfg.k1_n_train in cfg.n_train and cfg.k1_n_train != small:
        wd.append((cfg.k1_n_train, LAMBDA.lecture))
    return [*[dict(experiment="regularised", seed=s, n_train=n, regulariser="weight_decay", strength=lam)
              for n, lam in wd for s in range(cfg.seeds)],
            *[dict(experiment="regularised", seed=s, n_train=cfg.k5_n_train, regulariser="dropout",
                   strength=cfg.k5_drop) for s in range(cfg.seeds)]]


def run_unit(cfg: Config, unit: dict) -> dict[str, pd.DataFrame]:
    experiment = unit["experiment"]
    if experiment == "mnist1d":
        return networks.mnist1d_unit(cfg, unit["seed"], unit["n_train"], unit["augment"])
    if experiment == "regularised":
        return networks.regularised_unit(cfg, unit["seed"], unit["n_train"], unit["regulariser"], unit["strength"])
    if experiment == "k4":
        return {"dropped_units": networks.k4(cfg)}
    if experiment == "transfer":
        return transfer.transfer_unit(cfg, unit["seed"])
    if experiment == "linear":
        return {"dropout_l2": linear.k2_k3(cfg, unit["seed"])}
    per_set, decomposition, boot = linear.k13(cfg, unit["n"])
    return {"bv_sets": per_set, "bias_variance": decomposition, "bv_bootstrap": boot}


# --- statistics -------------------------------------------------------------------------------

def by_keep(table: pd.DataFrame, task: str, column: str) -> dict:
    part = table[table.task == task]
    return {k: stats.mean_ci(stats.per_seed(part, column, keep=k)) for k in sorted(part.keep.unique())}


def k4_grad_and_sgd(table: pd.DataFrame) -> Estimate:
    sgd = table[table.optimiser == "sgd"]
    return Estimate.exact(max(table.grad_max.max(), sgd.update_max.max()))


def k4_moved(table: pd.DataFrame) -> dict:
    return {r.optimiser: Estimate.exact(r.moved_share) for r in table.itertuples()}


def final_rows(curves: pd.DataFrame) -> pd.DataFrame:
    return curves[curves.step == curves.step.max()]


def overfit_ratio(curves: pd.DataFrame, augment: str = "none") -> dict:
    part = curves[curves.augment == augment]
    out = {}
    for n, rows in part.groupby("n_train"):
        ratio = rows.groupby("seed").apply(lambda r: r.train_loss.iloc[-1] / r.val_loss.min(), include_groups=False)
        out[n] = stats.mean_ci(ratio.to_numpy())
    return out


def validation_rise(curves: pd.DataFrame, cfg: Config, augment: str = "none") -> dict:
    part = curves[curves.augment == augment]
    out = {}
    for n, rows in part.groupby("n_train"):
        rise = rows.groupby("seed").apply(
            lambda r: r.val_loss.iloc[-1] - r.val_loss[r.step < 0.9 * cfg.steps].min(), include_groups=False)
        out[n] = stats.mean_ci(rise.to_numpy())
    return out


def selection_at(selection: pd.DataFrame, column: str, cfg: Config) -> dict:
    part = stats.select(selection, augment="none", n_train=min(cfg.n_train))
    return {s: stats.mean_ci(stats.per_seed(part, column, select_size=s)) for s in sorted(part.select_size.unique())}


def shift_contrast(shifts: pd.DataFrame, column: str) -> dict:
    return {n: stats.paired_difference(stats.per_seed(shifts, column, n_train=n, augment="shift"),
                                       stats.per_seed(shifts, column, n_train=n, augment="none"))
            for n in sorted(shifts.n_train.unique())}


def unaugmented(shifts: pd.DataFrame, column: str) -> dict:
    return {n: stats.mean_ci(stats.per_seed(shifts, column, n_train=n, augment="none"))
            for n in sorted(shifts.n_train.unique())}


def views(shifts: pd.DataFrame, cfg: Config, stat) -> dict:
    """K9 at the smallest training set, per training (shift-augmented or not)."""
    part = shifts[shifts.n_train == min(cfg.n_train)]
    return {a: stats.mean_ci(stat(part[part.augment == a].sort_values("seed"))) for a in cfg.training}


def identity_gap(per_set: pd.DataFrame, cfg: Config) -> Estimate:
    gaps = []
    for _, rows in per_set.groupby(["n", "lam"]):
        gaps.append(stats.mean_ci((rows.error - rows.fit_error - cfg.bv_noise**2) / rows.error.mean()))
    return stats.every_group(gaps, CLAIMS_BY_ID["K13a"].rule)


def variance_over_bias(decomposition: pd.DataFrame) -> dict:
    out = {}
    for n, rows in decomposition.groupby("n"):
        first = rows.sort_values("lam").iloc[0]
        out[n] = Estimate.exact(first.variance / first.bias2 if first.bias2 > 0 else np.inf)  # bias² ≤ 0: none to trade
    return out


def trade(decomposition: pd.DataFrame, boot: pd.DataFrame) -> dict:
    out = {}
    for n, rows in decomposition.groupby("n"):
        value = min(-spearmanr(rows.lam, rows.variance)[0], spearmanr(rows.lam, rows.bias2)[0])
        b = boot[boot.n == n]
        sample = np.minimum(-b.rho_variance.to_numpy(), b.rho_bias2.to_numpy())
        lo, hi = np.quantile(sample, [0.025, 0.975])
        out[n] = Estimate(float(value), float(min(lo, value)), float(max(hi, value)), n=len(sample))
    return out


def noise_slope(noise: pd.DataFrame) -> Estimate:
    part = stats.select(noise, augment="shift", n_train=noise.n_train.max())
    wide = stats.per_seed(part, "change_sd", by="n_val")
    return stats.loglog_slope_ci(np.sort(part.n_val.unique()), wide)


def below_share(noise: pd.DataFrame, cfg: Config) -> dict:
    part = stats.select(noise, augment="shift", n_train=noise.n_train.max())
    largest = stats.per_seed(part, "below_share", n_val=max(cfg.n_val))
    return {n: stats.paired_difference(stats.per_seed(part, "below_share", n_val=n), largest)
            for n in cfg.n_val if n != max(cfg.n_val)}


def above_share(noise: pd.DataFrame, cfg: Config) -> Estimate:
    part = stats.select(noise, augment="shift", n_train=noise.n_train.max(), n_val=max(cfg.n_val))
    return stats.mean_ci(1 - part.sort_values("seed").below_share.to_numpy())


def probe_contrast(probes: pd.DataFrame, a: str, b: str) -> dict:
    return {k: stats.paired_difference(stats.per_seed(probes, a, labels=k), stats.per_seed(probes, b, labels=k))
            for k in sorted(probes.labels.unique())}


def layer_gains(probes: pd.DataFrame, combine) -> dict:
    out = {}
    for k in sorted(probes.labels.unique()):
        p = stats.select(probes, labels=k).sort_values("seed")
        gain1, gain2 = p.probe_source_1 - p.probe_random_1, p.probe_source_2 - p.probe_random_2
        out[k] = stats.mean_ci(combine(gain1.to_numpy(), gain2.to_numpy()))
    return out


def fine_tuning(ft: pd.DataFrame, stat) -> dict:
    return {t: stats.mean_ci(stat(stats.select(ft, steps=t, rate="lr").sort_values("seed"),
                                  stats.select(ft, steps=t, rate="lr/10").sort_values("seed")))
            for t in sorted(ft.steps.unique())}


def weight_decay_nets(regularised: pd.DataFrame, n_train: int) -> tuple[pd.DataFrame, dict]:
    """The λ = 0 nets and, per λ, the weight-decay nets at ``n_train``, each sorted by seed."""
    part = regularised[regularised.n_train == n_train]
    plain = part[part.regulariser == "none"].sort_values("seed")
    wd = part[part.regulariser == "weight_decay"]
    return plain, {lam: wd[wd.strength == lam].sort_values("seed") for lam in sorted(wd.strength.unique())}


def norm_ratio(regularised: pd.DataFrame, n_train: int) -> dict:
    plain, by_lam = weight_decay_nets(regularised, n_train)
    return {lam: stats.mean_ci(r.weight_norm.to_numpy() / plain.weight_norm.to_numpy()) for lam, r in by_lam.items()}


def gap_removed(regularised: pd.DataFrame, n_train: int) -> dict:
    plain, by_lam = weight_decay_nets(regularised, n_train)
    gap0 = (plain.train_acc - plain.test_acc).to_numpy()
    return {lam: stats.mean_ci(1 - (r.train_acc - r.test_acc).to_numpy() / gap0) for lam, r in by_lam.items()}


def ablation_drop(ablation: pd.DataFrame, regulariser: str, column: str = "lost") -> dict:
    part = ablation[ablation.regulariser == regulariser]
    return {f: stats.mean_ci(stats.per_seed(part, column, share=f)) for f in sorted(part.share.unique())}


def redundancy(ablation: pd.DataFrame, column: str = "lost") -> dict:
    out = {}
    for f in sorted(ablation.share.unique()):
        plain = stats.per_seed(ablation, column, share=f, regulariser="none")
        drop = stats.per_seed(ablation, column, share=f, regulariser="dropout")
        out[f] = stats.mean_ci(1 - drop / plain)
    return out


CLAIMS_BY_ID = {c.id: c for c in CLAIMS}


def estimate(tables: dict[str, pd.DataFrame], cfg: Config) -> dict:
    l2, k4, curves, shifts = tables["dropout_l2"], tables["dropped_units"], tables["curves"], tables["shifts"]
    sel, noise, bv = tables["selection"], tables["noise"], tables["bias_variance"]
    probes, ft = tables["transfer_probes"], tables["fine_tuning"]
    return {
        "K2-pen": by_keep(l2, "linear", "ols_to_closed_form"),
        "K2": by_keep(l2, "linear", "to_closed_form"),
        "K3-moves": by_keep(l2, "logistic", "to_mle"),
        "K3a": by_keep(l2, "logistic", "to_best_ridge"),
        "K3b": by_keep(l2, "logistic", "to_wager"),
        "K4a": k4_grad_and_sgd(k4),
        "K4b": k4_moved(k4),
        "K1a": norm_ratio(tables["regularised"], min(cfg.n_train)),
        "K1b": gap_removed(tables["regularised"], min(cfg.n_train)),
        "K5-fragile": ablation_drop(tables["ablation"], "none"),
        "K5": redundancy(tables["ablation"]),
        "K5r-fragile": ablation_drop(tables["ablation"], "none", "lost_rescaled"),
        "K5r": redundancy(tables["ablation"], "lost_rescaled"),
        "K6-fit": overfit_ratio(curves),
        "K6": validation_rise(curves, cfg),
        "K7-span": stats.mean_ci(stats.per_seed(stats.select(sel, augment="none", n_train=min(cfg.n_train),
                                                             select_size=max(cfg.select_size)), "span")),
        "K7": selection_at(sel, "bias", cfg),
        "K8-gap": {n: stats.mean_ci(stats.per_seed(shifts, "train_acc", n_train=n, augment="none")
                                    - stats.per_seed(shifts, "test_acc", n_train=n, augment="none"))
                   for n in sorted(shifts.n_train.unique())},
        "K8a": shift_contrast(shifts, "test_acc"),
        "K8-room": unaugmented(shifts, "invariant_share"),
        "K8b": shift_contrast(shifts, "invariant_share"),
        "K9-views": stats.mean_ci(stats.per_seed(shifts, "disagree_share", n_train=min(cfg.n_train), augment="shift")),
        "K9a": views(shifts, cfg, lambda r: r.tta_acc - r.single_acc),
        "K9b": views(shifts, cfg, lambda r: r.auroc_tta),
        "K13a": identity_gap(tables["bv_sets"], cfg),
        "K13-var": variance_over_bias(bv),
        "K13b": trade(bv, tables["bv_bootstrap"]),
        "K14a": noise_slope(noise),
        "K14-above": above_share(noise, cfg),
        "K14b": below_share(noise, cfg),
        "K10-source": stats.mean_ci(stats.per_seed(probes[probes.labels == probes.labels.min()], "source_acc")),
        "K10-transfers": probe_contrast(probes, "probe_source_2", "probe_random_2"),
        "K10": probe_contrast(probes, "probe_source_2", "scratch"),
        "K11-forgets": fine_tuning(ft, lambda fast, slow: fast.forgetting.to_numpy()),
        "K11-learns": fine_tuning(ft, lambda fast, slow: slow.target_acc.to_numpy() - fast.target_acc.to_numpy()),
        "K11": fine_tuning(ft, lambda fast, slow: fast.forgetting.to_numpy() - slow.forgetting.to_numpy()),
        "K12-gain": layer_gains(probes, np.maximum),
        "K12": layer_gains(probes, lambda g1, g2: g1 - g2),
    }


def facts(tables: dict[str, pd.DataFrame], cfg: Config) -> dict:
    l2, shifts, curves = tables["dropout_l2"], tables["shifts"], tables["curves"]
    logistic = l2[(l2.task == "logistic") & (l2.keep == 0.8)]
    small = min(cfg.n_train)
    acc = {a: shifts[(shifts.n_train == small) & (shifts.augment == a)] for a in ("none", "shift")}
    none = curves[(curves.augment == "none") & (curves.n_train == small)]
    min_step = none.loc[none.groupby("seed").val_loss.idxmin()].step
    sel = stats.select(tables["selection"], augment="none", n_train=small)
    ft = stats.select(tables["fine_tuning"], steps=FT_STEPS.lecture)
    rate = {r: ft[ft.rate == r] for r in ("lr", "lr/10")}
    out = {
        "ft_headline": FT_STEPS.lecture,
        "forget_lr": float(rate["lr"].forgetting.mean()), "forget_lr10": float(rate["lr/10"].forgetting.mean()),
        "target_lr": float(rate["lr"].target_acc.mean()), "target_lr10": float(rate["lr/10"].target_acc.mean()),
        "best_lambda_median": float(logistic.best_lambda.median()),
        "acc_none": float(acc["none"].test_acc.mean()), "acc_shift": float(acc["shift"].test_acc.mean()),
        "invariant_none": float(acc["none"].invariant_share.mean()),
        "invariant_shift": float(acc["shift"].invariant_share.mean()),
        "auroc_single": float(acc["shift"].auroc_single.mean()), "errors_min": int(shifts.errors.min()),
        "val_min_step_median": float(min_step.median()),
        "val_acc_at_min": float(none.loc[none.groupby("seed").val_loss.idxmin()].val_acc.mean()),
        "val_acc_final": float(final_rows(none).val_acc.mean()),
        "bias_at_50": float(sel[sel.select_size == min(cfg.select_size)].bias.mean()),
        "below_20_overfit": float(stats.select(tables["noise"], augment="none", n_train=small,
                                               n_val=min(cfg.n_val)).below_share.mean()),
    }
    return out | regulariser_facts(tables, cfg) | transfer_facts(tables, cfg)


def transfer_facts(tables: dict[str, pd.DataFrame], cfg: Config) -> dict:
    """K10–K12 numbers for the method text: the probes and scratch at the headline labels, the
    shuffled-label control (K10-transfers' false case) at the headline and at the most labels."""
    probes = tables["transfer_probes"]
    head = LABELS.lecture if LABELS.lecture in set(probes.labels) else int(probes.labels.min())
    at = probes[probes.labels == head]
    most = probes[probes.labels == probes.labels.max()]
    control = {k: stats.paired_difference(stats.per_seed(probes, "probe_shuffled_2", labels=k),
                                          stats.per_seed(probes, "probe_random_2", labels=k))
               for k in (head, int(most.labels.max()))}
    out = {f"tr_{c}": float(at[c].mean()) for c in ("probe_source_1", "probe_source_2", "probe_random_1",
                                                      "probe_random_2", "probe_shuffled_2", "scratch")}
    out |= {"tr_head_labels": head, "tr_most_labels": int(most.labels.max()),
            "tr_scratch_most": float(most.scratch.mean()), "tr_source2_most": float(most.probe_source_2.mean()),
            "tr_shuffled_source_acc": float(probes.shuffled_source_acc.mean())}
    for name, k in (("head", head), ("most", int(most.labels.max()))):
        e = control[k]
        out |= {f"tr_control_{name}": e.value, f"tr_control_{name}_lo": e.ci_low, f"tr_control_{name}_hi": e.ci_high}
    return out


def regulariser_facts(tables: dict[str, pd.DataFrame], cfg: Config) -> dict:
    """K1 and K5 numbers for the method text: accuracies per λ, the larger training set, the
    ablation with the survivors rescaled."""
    reg, abl = tables["regularised"], tables["ablation"]
    small, head, f = min(cfg.n_train), LAMBDA.lecture, ABLATE.lecture
    plain, by_lam = weight_decay_nets(reg, small)
    out = {"k1_gap0": float((plain.train_acc - plain.test_acc).mean()), "k1_test0": float(plain.test_acc.mean()),
           "k1_norm0": float(plain.weight_norm.mean())}
    for name, lam in (("head", head), ("max", max(by_lam))):
        out |= {f"k1_test_{name}": float(by_lam[lam].test_acc.mean()),
                f"k1_train_{name}": float(by_lam[lam].train_acc.mean()), f"k1_lambda_{name}": float(lam)}
    large, gap0 = Estimate(np.nan, np.nan, np.nan), np.nan  # no second size (--quick)
    if cfg.k1_n_train in set(reg[reg.regulariser == "weight_decay"].n_train) and cfg.k1_n_train != small:
        large = gap_removed(reg, cfg.k1_n_train)[head]
        plain_large = weight_decay_nets(reg, cfg.k1_n_train)[0]
        gap0 = float((plain_large.train_acc - plain_large.test_acc).mean())
    out |= {"k1_large_removed": large.value, "k1_large_lo": large.ci_low, "k1_large_hi": large.ci_high,
            "k1_large_gap0": gap0}
    at = abl[abl.share == f]
    out |= {"k5_base_plain": float(at[at.regulariser == "none"].base_acc.mean()),
            "k5_base_dropout": float(at[at.regulariser == "dropout"].base_acc.mean()),
            "k5_drop_plain": float(at[at.regulariser == "none"].lost.mean()),
            "k5_drop_dropout": float(at[at.regulariser == "dropout"].lost.mean()),
            "k5_rescaled_plain": float(at[at.regulariser == "none"].lost_rescaled.mean()),
            "k5_rescaled_dropout": float(at[at.regulariser == "dropout"].lost_rescaled.mean())}
    return out
