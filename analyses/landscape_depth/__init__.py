"""Loss landscape and depth (claims I1, I3–I12): GOE Hessians, a strict saddle with and without
noise, heavy ball across a barrier, a linear autoencoder against PCA, Safran & Shamir's ReLU net, seeds
of one MLP and its spread against width, plain vs residual nets against depth, clipping, cliffs in a tanh
RNN. Submodules: toys, teacher_student, mlps, depth, rnn, figures; the method text is analyses/landscape_depth.md."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from dlclaims import rng
from dlclaims.suite import stats
from dlclaims.suite.claims import Added, Amendment, Claim, Estimate, Scope, at_least, at_most, between, exceeds
from dlclaims.suite.contract import option

from . import depth  # noqa: F401 — tests reach the forward pass as landscape_depth.depth
from .depth import depth_ratio, depth_table, final_losses, identity_table, init_params, trained_share  # noqa: F401
from .figures import FIGURES  # noqa: F401 — the contract's figure list
from .mlps import accuracy_spread, init_seed_table, spread_ratio, unfinished, width_accuracy_spread, width_table
from .rnn import SPIKE, WINDOW, rnn_table  # noqa: F401
from .teacher_student import (CONVEX_TOL, PCA_BAND, REACHED, STATIONARY, ae_loss, ae_worst,  # noqa: F401
                              autoencoder_table, digits_covariance, relu_kernel, smallest_hessian_ratio,
                              teacher_student_table, ts_grad, ts_loss)
from .toys import (ESCAPE, THETA, clipping_table, cosine, escape_share, escape_slope, escape_steps,  # noqa: F401
                   goe_acceleration, goe_minima, goe_slope, heavy_ball, linear_escape_time, momentum_gain,
                   momentum_tables, saddle_tables, share_of, well_grad)

TITLE = ("Loss landscape and depth: saddles vs minima, noise and momentum, no bad minima (linear) vs bad minima (ReLU), "
         "plain vs residual depth, clipping")
LECTURE = """\
"Saddle points are far more common than local minima (exponential in network size)"; "Noise can
sometimes help escape local minimum / saddle point (with assumptions)"; "Baldi and Hornik (89) [...]:
An MLP with a single hidden layer has only saddle points and no local Minima"; "If ∇θ_i > 5, then set
∇θ_i to 5. (you can also scale the norm of |∇θ|)"; "Hypothesis: hard to learn identity but easy to
learn zero" (34-layer plain / 34-layer residual); "A trivial solution with good precondition for
arbitrarily deep network W^(k) = I" (003). "Even if there is zero gradient, velocity
"carries" optimization" (000). "Most local minima are equivalent and close to global optimum" / "NOT
TRUE for small networks" (003). "The loss can occasionally lead to a steep decent" / "This can result in
immediate instability" (003)."""

# --- claims, declared before the run ----------------------------------------------------------

GOE_BAND = (-0.4, -0.2)        # I1a: brackets −θ = −0.275 with room for finite-n corrections at n ≤ 5
FASTER = 1.25                  # I1b: last / first successive drop of ln P; 1 is a plain exponential in n
ESCAPE_MOST = 0.9              # I3b: "noise helps" means escape is the rule: ≥ 90% of noisy runs
SLOPE_SLACK = 0.2              # I3c: escape slope within ±20% of 1/ln(1+η) (finite σ bends it a little)
CROSS_MARGIN = 0.3             # I4b: heavy ball wins ≥ 30% more starts than GD (I4p's share GD loses)
LOCAL_SHARE = 0.3              # I4p: GD ends in the local well from ≥ 30% of starts (a barrier to cross)
STUCK_MOST = 0.02              # I6: ≤ 2% stuck (Wilson upper end): one init in 50; 0/200 gives 0.019
REACHED_LEAST = 0.1            # I6p: GD reaches the global minimum from ≥ 10% of inits
NORM_EXACT = 1e-7              # I11a: cosine(norm-clipped, raw) = 1 to float64 rounding
TURN = 0.99                    # I11b: mean cosine ≤ 0.99 is a turn of ≥ 8°, far above rounding
SPREAD = 0.005                 # I8: a test-accuracy spread of 5 in 1000 examples is one a re-run shows

STUCK_WHY = ("'no local minima' allows none: 2% is one init in 50, the least a 200-init Wilson interval can "
             "resolve from zero (0/200 gives an upper end of 0.019)")
NOISE_WHY = ("plain GD escapes from exactly 0% of starts (I3a), so 'noise helps' must make escape the rule, "
             "≥ 90%, not an occasional event")
SPREAD_WHY = "0.005 is 5 of the 1000 test examples: a difference a re-run shows, not a tie-break"
DEEPER = 0.25                  # I9a, I9b: a loss ratio outside 1 ± 0.25 is a change of depth's making
TRAINED = 0.5                  # I9p: the shallow plain net halves its training loss (it trains)
DEEPER_WHY = ("a quarter of the shallow net's loss: 'about the same' at equal budgets; the seed-to-seed spread "
              "of a final loss is a few per cent, so ±25% is a change no seed luck makes")
EQUAL_SPREAD = 1.0             # I7a: sd at the smallest width ≥ 2 × sd at the largest
EQUAL_SPREAD_WHY = ("a factor 2: a 10-seed sd is uncertain by about ±23% (χ² with 9 d.o.f.), so a ratio of 2 is "
                    "about three joint standard errors above 'the same spread'")
STOPPED = 0.01                 # I7p: |L(0.9T) − L(T)| ≤ 0.01 nats: the catalogue's 1% of a loss of order 1 nat
EQUIVALENT = 0.01              # I7b: sd of test accuracy ≤ 0.01, one binomial SE of one model on 1000 test examples
EQUIVALENT_WHY = ("0.01 is one binomial standard error of a single model's accuracy on the 1000 test examples: "
                  "the test set cannot tell such minima apart")
CLIFF = 10.0                   # I12p: the largest raw gradient norm ≥ 10 × the median one in unclipped runs
UNSTABLE = 0.3                 # I12a: unclipped − clipped share of runs with a loss spike ≥ 0.3
UNSTABLE_WHY = ("0.3 is the catalogue's: about 4 of 12 paired seeds more than clipping, more than seed luck "
                "(a single seed's spike moves the share by 0.08)")
LOWER = 0.2                    # I12b: final loss unclipped − clipped ≥ 0.2 nats
LEARNS = 0.1                   # I12-learns: clipped runs end ≥ 0.1 nats below chance (ln 10): a net that has
                               #   learned nothing has no progress for a cliff to undo
LOWER_WHY = "the catalogue's 0.2 nats, about a fifth in per-example likelihood"
CROSS_WHY = "as many starts as the premise I4p guarantees GD loses to the barrier (30%): a win on a third of them"

WIDTH_SETUP = ("width_train", "width_seeds", "width_lr", "width_small", "width_large")
RNN_SETUP = ("rnn_rho", "rnn_hidden", "rnn_seeds", "rnn_steps", "rnn_batch", "rnn_clip")
DEPTH_SETUP = ("depth_base", "depth_width", "depth_seeds", "depth_steps", "depth_batch", "depth_lr")

CLAIMS = [
    Claim("I1a", "derived", "In the random-Hessian model (GOE), minima become rare among critical points like "
          "exp(−θ n²), θ = ln3/4: a model of 'saddles are far more common than minima', not a network",
          "OLS slope of ln P(all eigenvalues > 0) against n² over n = 2…n_max, GOE Monte Carlo, parametric "
          "bootstrap 95% CI", between(*GOE_BAND), setup=("goe_draws", "goe_n_max")),
    Claim("I1b", "derived", "... and faster than any exponential in n (the share falls ever faster)",
          "(ln P_{n_max−1} − ln P_{n_max}) / (ln P_2 − ln P_3), parametric bootstrap 95% CI",
          at_least(FASTER, 1.0, "1 is a plain exponential in n; the n² law gives (2n_max−1)/5 = 1.8 at n_max = 5"),
          setup=("goe_draws", "goe_n_max")),
    Claim("I3a", "check", "Plain GD from (1, 0) on f = ½x² − ½y² + ¼y⁴ never leaves the saddle's axis y = 0",
          "max |y_t| over the plain GD trajectory", at_most(0.0), setup=("eta_saddle", "saddle_steps")),
    Claim("I3b", "lecture", "Noise lets GD escape a strict saddle that plain GD cannot leave",
          f"share of noisy-gradient GD runs from (1, 0) with |y| > {ESCAPE} within 10 × the linearised escape "
          "time, Wilson 95% CI", exceeds(0.0, ESCAPE_MOST, NOISE_WHY), premise="I3a",
          setup=("eta_saddle", "saddle_draws"),
          scope=Scope("sigmas", 1e-4, "escape time is logarithmic in σ; 1e-4 is the middle of 1e-8…1e-2")),
    Claim("I3c", "check", "The escape time grows like ln(1/σ)/ln(1+η) (linearised dynamics around the saddle)",
          "OLS slope of escape steps against ln(1/σ), times ln(1+η), 95% CI",
          between(1 - SLOPE_SLACK, 1 + SLOPE_SLACK), setup=("eta_saddle", "saddle_draws", "slope_sigmas")),
    Claim("I4a", "check", "On a plateau (zero gradient) GD does not move",
          "max |x_T − x_0| of GD started on the flat part of a plateau function", at_most(0.0),
          setup=("eta_plateau",)),
    Claim("I4p", "derived", "GD from x₀ ∈ [1.5, 3] on the tilted double well f = (x²−1)² + 0.3x stops in the "
          "local (upper) well from many starts: there is a barrier to cross",
          "share of starts where GD (η = eta_well) ends in the local well, Wilson 95% CI", at_least(LOCAL_SHARE),
          setup=("eta_well", "well_starts")),
    Claim("I4b", "lecture", "Momentum's velocity carries the iterate across a barrier that stops GD",
          "share of starts reaching the global well, heavy ball (β = 0.9) − GD at the same η, paired over starts, "
          "t 95% CI", exceeds(0.0, CROSS_MARGIN, CROSS_WHY), premise="I4p", setup=("well_starts", "beta"),
          scope=Scope("etas", 0.01, "the middle of three step sizes over a decade, all stable for both methods")),
    Claim("I5", "check", "Baldi & Hornik: a linear one-hidden-layer autoencoder has no bad local minima — GD "
          "ends at the PCA optimum",
          "largest over seeds of (L_final − L*) / (L_saddle − L*), 64→8→64 linear AE on digits, float64 "
          "(L* the PCA optimum, L_saddle the nearest saddle: eigenvector 8 swapped for 9)", at_most(PCA_BAND),
          setup=("ae_seeds", "ae_bottleneck"),
          scope=Scope("ae_steps", 10000, "the theorem is about where GD ends, not how fast it gets there")),
    Claim("I6p", "derived", "GD on the ReLU teacher–student net reaches the global minimum (zero loss) from "
          "some inits: 'stuck' is not a broken optimiser",
          f"share of inits (k = d = n = 12) ending below {REACHED:g} × the initial loss, Wilson 95% CI",
          at_least(REACHED_LEAST), setup=("ts_inits", "ts_steps")),
    Claim("I6", "lecture", "A one-hidden-layer net has only saddle points and no (bad) local minima "
          "(the lecture's 'MLP', tested on Safran & Shamir's two-layer ReLU net)",
          f"share of inits stuck at a spurious local minimum (loss > {REACHED:g} × initial, ‖∇L‖ < {STATIONARY:g}, "
          "Hessian positive semi-definite), Wilson 95% CI", at_most(STUCK_MOST, 0.0, STUCK_WHY), premise="I6p",
          setup=("ts_inits", "ts_steps"),
          scope=Scope("ts_sizes", 12, "Safran & Shamir find spurious minima for 6 ≤ k ≤ 20; 12 is the catalogue's")),
    Claim("I7p", "derived", "At both ends of the width sweep the runs have stopped moving: the spread is between "
          "minima, not unfinished runs", "largest over seeds of the smallest and the largest width of |L(0.9T) − L(T)|, "
          "full training loss (nats)", at_most(STOPPED), setup=WIDTH_SETUP + ("width_steps",)),
    Claim("I7a", "lecture", "The final losses of large nets lie in a narrow band; small nets' spread more (Choromanska "
          "et al.: 'most local minima are equivalent' in large nets, 'NOT TRUE for small networks')",
          "sd across seeds of the final training loss at the smallest width / at the largest, MLP 40-w-w-10 on mnist1d, "
          "full-batch Adam, only the init varies, BCa bootstrap 95% CI", exceeds(1.0, EQUAL_SPREAD, EQUAL_SPREAD_WHY),
          premise="I7p", setup=WIDTH_SETUP,
          scope=Scope("width_steps", 1500, "the catalogue's training length (its 6000 is beyond the CPU budget)")),
    Claim("I7b", "lecture", "... and in large nets those minima are equivalent (they perform alike)",
          "sd across seeds of the final test accuracy at the largest width, same runs, BCa bootstrap 95% CI",
          at_most(EQUIVALENT, math.nan, EQUIVALENT_WHY), premise="I7p", setup=WIDTH_SETUP,
          scope=Scope("width_steps", 1500, "as I7a")),
    Claim("I8", "lecture", "Each initialisation gives a different starting point and potentially a different final "
          "performance",
          "std across seeds of the final test accuracy, MLP 40-w-w-10 on mnist1d, only the init varies (same batches), "
          "bootstrap 95% CI", exceeds(0.0, SPREAD, SPREAD_WHY), setup=("init_seeds", "init_steps", "init_lr"),
          scope=Scope("init_widths", 64, "the catalogue's width; the spread is expected to shrink with width")),
    Claim("I9p", "derived", "At equal budgets the shallow plain net (depth 8) trains on mnist1d: there is training "
          "for depth to make harder", "geometric mean over seeds of final / initial training loss, plain MLP "
          "40-64-…-64-10 at depth 8, t 95% CI of the log", at_most(TRAINED), setup=DEPTH_SETUP),
    Claim("I9a", "lecture", "Plain nets get harder to train with depth (He et al.'s 34-layer plain net)",
          "final training loss at depth d / at depth 8, plain ReLU MLP, same seed and batches (paired), "
          "geometric mean over seeds, t 95% CI of the log", exceeds(1.0, DEEPER, DEEPER_WHY), premise="I9p",
          setup=DEPTH_SETUP, scope=Scope("depths", 32, "He et al.'s 34-layer plain net against a shallow one")),
    Claim("I9b", "lecture", "... while residual nets do not (blocks h + W₂ relu(W₁h), the branch zero at init)",
          "final training loss at depth d / at depth 8, residual MLP of the same widths and weights, paired, "
          "geometric mean over seeds, t 95% CI of the log", at_most(1.0 + DEEPER, 1.0, DEEPER_WHY), premise="I9p",
          setup=DEPTH_SETUP, scope=Scope("depths", 32, "He et al.'s 34-layer residual net against a shallow one")),
    Claim("I10a", "check", "A residual trunk whose branches are zero is exactly the identity, at any depth",
          "max |trunk(h) − h| over random h, residual trunk of the largest depth, float64", at_most(0.0),
          setup=("depths", "depth_width")),
    Claim("I10b", "check", "... and passes the gradient through undamped (its Jacobian is I)",
          "max |∂L/∂h_in − ∂L/∂h_out| for L = ⟨trunk(h), u⟩, random u, same trunk", at_most(0.0),
          setup=("depths", "depth_width")),
    Claim("I11a", "check", "Norm clipping rescales the gradient and keeps its direction",
          "min over gradients of cosine(norm-clipped, raw)", at_least(1 - NORM_EXACT), setup=("clip_gradients",)),
    Claim("I11b", "derived", "Value clipping turns the gradient, even when it clips only the largest coordinates",
          "mean over heavy-tailed gradients of cosine(value-clipped, raw), threshold at the (1 − q) quantile of |g|",
          at_most(TURN), setup=("clip_gradients", "clip_dim"),
          scope=Scope("clip_shares", 0.01, "clipping is for the 'occasional' steep step: 1% of coordinates")),
    Claim("I12p", "derived", "Unclipped training of a tanh RNN meets cliffs: now and then the gradient is many times "
          "its usual size", "geometric mean over seeds of max ‖g‖ / median ‖g‖ over the steps of an unclipped run "
          "(raw gradient norm), t 95% CI of the log", at_least(CLIFF), setup=RNN_SETUP + ("rnn_lr",)),
    Claim("I12-learns", "derived", "With norm clipping the RNN learns the task at the headline lr (there is progress "
          "for a cliff to undo)", "ln 10 − final training loss (mean of the last mini-batches) of the norm-clipped runs "
          "at rnn_lr, mean over seeds, t 95% CI", at_least(LEARNS, 0.0, "a tenth of a nat below chance: less is a net "
          "that has learned next to nothing"), premise="I12p", setup=RNN_SETUP + ("rnn_lr",)),
    Claim("I12a", "lecture", "Cliffs make unclipped training unstable; norm clipping stabilises it",
          f"share of runs with a loss spike ({WINDOW}-step mean loss above {SPIKE:g} × the lowest earlier one, or a "
          "non-finite loss), unclipped − norm-clipped, paired over seeds (same init and batches), t 95% CI",
          exceeds(0.0, UNSTABLE, UNSTABLE_WHY), premise="I12-learns", setup=RNN_SETUP,
          scope=Scope("rnn_lrs", 0.2, "the catalogue's headline: a large step lets a cliff throw the iterate")),
    Claim("I12b", "derived", "... and clipping also ends training at a lower loss",
          f"final training loss (mean of the last {WINDOW} mini-batches), unclipped − norm-clipped, paired over seeds, "
          "t 95% CI", exceeds(0.0, LOWER, LOWER_WHY), premise="I12-learns", setup=RNN_SETUP,
          scope=Scope("rnn_lrs", 0.2, "as I12a")),
]
SEEDS_WHY = ("the committed 10 seeds left I9a inconclusive (its interval straddled 1.25) and the seed count that "
             "decides it at the committed spread was 12; 12 seeds cost seconds, so the rows get them (the rule, the "
             "margin and every other set-up value are unchanged). Twelve stacked seeds change every seed's float32 "
             "arithmetic, so the seeds' values move too; I9a's mean moved onto its boundary and stays inconclusive")
LEARNS_WHY = ("the first baseline of I12 judged its rows on RNNs that barely learn (clipped final loss 2.25 against "
              "ln 10 = 2.30 at lr 0.2, seen in its figure): a spike needs progress to undo, so 'no spike' there comes "
              "from the set-up, not from clipping; the rows now need the clipped net to learn (premise I12-learns) and "
              "are untestable where it does not. Recorded before the re-run; a longer or better-conditioned training "
              "that learns is the way to test them")
ADDED_WHY = ("not built in the first baseline for its CPU cost (stated then under 'Considered, not measured here'); "
             "built now with {}")
AMENDMENTS = [
    *[Amendment(c, "2026-12-02", what="setup", old=old, new=old.replace("depth_seeds=10", "depth_seeds=12"),
                why=SEEDS_WHY, was=was, now=now)
      for c, old, was, now in (
          ("I9p", "depth_base=8; depth_width=64; depth_seeds=10; depth_steps=400; depth_batch=64; depth_lr=0.01",
           "0.4383 [0.3959, 0.4853] holds", "0.4350 [0.3992, 0.4739] holds"),
          ("I9a", "depth_base=8; depth_width=64; depth_seeds=10; depth_steps=400; depth_batch=64; depth_lr=0.01",
           "1.2022 [1.1514, 1.2552] inconclusive", "1.2489 [1.1563, 1.3488] inconclusive"),
          ("I9b", "depth_base=8; depth_width=64; depth_seeds=10; depth_steps=400; depth_batch=64; depth_lr=0.01",
           "0.7624 [0.7248, 0.8019] holds", "0.7710 [0.7298, 0.8147] holds"))],
    Added("I7p", "2026-12-02", why=ADDED_WHY.format("its premise: the runs at both ends of the width sweep have stopped "
                                                    "moving, so a spread is between minima")),
    Added("I7a", "2026-12-02", why=ADDED_WHY.format("10 seeds per width, the catalogue's widths 4 and 64 and its "
                                                    "1500 full-batch Adam steps")),
    Added("I7b", "2026-12-02", why=ADDED_WHY.format("the same runs as I7a: the test-accuracy spread at width 64")),
    Added("I12p", "2026-12-02", why=ADDED_WHY.format("its premise: unclipped runs meet cliffs (gradient spikes ≥ 10 × "
                                                     "the median), so there is something for clipping to tame")),
    Added("I12a", "2026-12-02", why=ADDED_WHY.format("stability (share of runs with a loss spike), not accuracy, as the "
                                                     "statistic, 12 paired seeds and the learning rate as scope")),
    Added("I12b", "2026-12-02", why=ADDED_WHY.format("the catalogue's final-loss contrast on the same runs as I12a")),
    Added("I12-learns", "2026-12-02", why=LEARNS_WHY),
    *[Amendment(c, "2026-12-02", what="premise", old="I12p", new="I12-learns", why=LEARNS_WHY, was=was,
                now=f"{was.rsplit(' ', 1)[0]} untestable")
      for c, was in (("I12a", "0 [0, 0] fails"), ("I12b", "0.178 [0.0883, 0.269] inconclusive"))],
]


# --- config -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    goe_draws: int = option(1_000_000, "GOE matrices per n (I1)")  # n = 5 keeps ~1000 minima
    goe_n_max: int = 5                     # I1: n = 1…5; 6 needs ~10⁷ draws for ~100 minima
    goe_boot: int = 2000                   # I1: parametric bootstrap resamples
    eta_saddle: float = 0.1                # I3: step size; y grows by 1+η per step near the saddle
    saddle_steps: int = 2000               # I3a: plain GD steps; ≥ 10 × the escape time at σ = 1e-8
    saddle_draws: int = 100                # I3b, I3c: noise draws per σ
    sigmas: tuple[float, ...] = (1e-8, 1e-4, 1e-2)           # I3b's scope
    slope_sigmas: tuple[float, ...] = (1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2)  # I3c's grid
    eta_plateau: float = 0.1               # I4a
    eta_well: float = 0.01                 # I4p: the headline step of I4b
    etas: tuple[float, ...] = (0.003, 0.01, 0.03)  # I4b's scope: a decade, stable at the wall x = 3 (η·f'' < 3.8)
    beta: float = 0.9                      # I4b: heavy ball's momentum
    well_starts: int = 100                 # I4: x₀ ~ U[1.5, 3]
    well_steps: int = 5000                 # I4: enough for η = 0.003 to settle (1/(η f''(1)) ≈ 45 steps)
    ae_seeds: int = 20                     # I5
    ae_bottleneck: int = 8                 # I5: 64 → 8 → 64
    ae_steps: tuple[int, ...] = (1000, 3000, 10000)  # I5's scope (checkpoints of one run)
    ae_lr: float = 0.05                    # I5: heavy ball (β = 0.9) on the exact full-batch loss
    ts_sizes: tuple[int, ...] = (6, 12, 20)  # I6's scope: k = d = n
    ts_inits: int = 200                    # I6: a Wilson upper end ≤ 0.02 needs ≥ 190 inits at 0 stuck
    ts_steps: int = 4000                   # I6: converged runs reach ‖∇L‖ ≈ 1e-15 by then
    ts_lr: float = 0.05                    # I6: heavy ball (β = 0.9) on the closed-form population loss
    init_widths: tuple[int, ...] = (16, 64)  # I8's scope: hidden width w of 40-w-w-10
    init_seeds: int = 20                   # I8: a 20-seed std is uncertain by about ±16%
    init_steps: int = 3000                 # I8: SGD steps, batch 128; the training loss is below 0.01 by then
    init_lr: float = 0.05                  # I8: SGD with momentum 0.9 (PyTorch's default init)
    clip_gradients: int = 1000             # I11
    clip_dim: int = 1000                   # I11: coordinates per gradient (Student t, 2 d.o.f.)
    clip_shares: tuple[float, ...] = (0.01, 0.1, 0.5)  # I11b's scope
    depths: tuple[int, ...] = (16, 32)     # I9's scope: hidden layers, against depth_base
    depth_base: int = 8                    # I9: the shallow net every depth is compared with
    depth_width: int = 64                  # I9: the catalogue's width
    depth_seeds: int = 12                  # I9: paired ratios; 12 decide I9a (10 left it inconclusive)
    depth_steps: int = 400                 # I9: SGD steps, equal for every depth (≈ 6 epochs; CPU budget)
    depth_batch: int = 64                  # I9: mini-batch size
    depth_lr: float = 0.01                 # I9: one lr for every depth, as He et al. train all depths alike
    width_small: int = 4                   # I7: the smallest width of 40-w-w-10 (the catalogue's)
    width_large: int = 64                  # I7: the largest (the catalogue's)
    width_seeds: int = 10                  # I7: a 10-seed sd is uncertain by ±23%
    width_train: int = 1000                # I7: full batch of the catalogue's 1000 mnist1d examples
    width_steps: tuple[int, ...] = (750, 1500)  # I7's scope (checkpoints of one run); 1500 the catalogue's set-up
    width_lr: float = 3e-3                 # I7: Adam, the catalogue's
    rnn_rho: float = 2.0                   # I12: recurrent spectral radius; ρ > 1 is Pascanu et al.'s condition
    rnn_hidden: int = 64                   # I12: tanh units (the catalogue's)
    rnn_seeds: int = 12                    # I12: paired over seeds (one init and batch stream per seed)
    rnn_steps: int = 300                   # I12: plain SGD steps (CPU budget; the catalogue's 400)
    rnn_batch: int = 32                    # I12: mini-batch (CPU budget; the catalogue's 64)
    rnn_clip: float = 1.0                  # I12: norm-clipping threshold (the catalogue's)
    rnn_lr: float = 0.2                    # I12p: the headline lr at which cliffs must occur
    rnn_lrs: tuple[float, ...] = (0.05, 0.2, 0.5)  # I12's scope: the catalogue's two and one above


# more seeds and a deeper plain/residual sweep (He et al. go to 56 layers), run to a longer budget
FULL = Config(ae_seeds=50, init_seeds=40, depths=(16, 32, 64), depth_seeds=20, depth_steps=1200)

QUICK = Config(goe_draws=100_000, goe_n_max=4, goe_boot=200, saddle_draws=30, sigmas=(1e-8, 1e-4),
               slope_sigmas=(1e-8, 1e-6, 1e-4, 1e-2), well_starts=40, well_steps=2000, etas=(0.01,),
               ae_seeds=3, ae_steps=(300, 1000, 3000), ts_sizes=(6, 12), ts_inits=40, ts_steps=1500,
               init_widths=(64,), init_seeds=3, init_steps=300,
               clip_gradients=200, clip_shares=(0.01,),
               depths=(32,), depth_seeds=2, depth_steps=10, width_seeds=3, width_steps=(20, 40),
               width_train=200, rnn_seeds=2, rnn_steps=20, rnn_lrs=(0.2,))


def validate(cfg: Config) -> None:
    if cfg.goe_n_max < 4:
        raise ValueError(f"--goe-n-max {cfg.goe_n_max}: I1b needs n = 2…4 at least")
    if cfg.ae_bottleneck >= 63:
        raise ValueError("the bottleneck must leave a next eigenvector for the nearest saddle")
    if any(d % 2 for d in (*cfg.depths, cfg.depth_base)):
        raise ValueError("depths must be even: a residual block has two layers")


# --- units ------------------------------------------------------------------------------------

def units(cfg: Config) -> list[dict]:
    """Slowest first: the largest teacher–student net, then the autoencoder."""
    half = (cfg.init_seeds + 1) // 2
    groups = [f"0-{half - 1}", f"{half}-{cfg.init_seeds - 1}"] if cfg.init_seeds > 1 else ["0-0"]
    return [*[dict(part="teacher_student", k=k) for k in sorted(cfg.ts_sizes, reverse=True)],
            *[dict(part="width", width=w) for w in (cfg.width_large, cfg.width_small)],
            *[dict(part="rnn", lr=lr) for lr in sorted(cfg.rnn_lrs, reverse=True)],
            *[dict(part="init_seeds", width=w, seeds=g) for w in sorted(cfg.init_widths, reverse=True) for g in groups],
            *[dict(part="depth", depth=d, kind=k) for d in sorted({*cfg.depths, cfg.depth_base}, reverse=True)
              for k in ("plain", "residual")], dict(part="identity"),
            dict(part="autoencoder"), *[dict(part="goe", n=n) for n in range(1, cfg.goe_n_max + 1)],
            dict(part="saddle"), dict(part="momentum"), dict(part="clipping")]


def run_unit(cfg: Config, unit: dict) -> dict[str, pd.DataFrame]:
    part = unit["part"]
    if part == "teacher_student":
        with torch.no_grad():
            return {"teacher_student": teacher_student_table(cfg, unit["k"])}
    if part == "init_seeds":
        first, last = (int(v) for v in unit["seeds"].split("-"))
        return {"init_seeds": init_seed_table(cfg, unit["width"], range(first, last + 1))}
    if part == "width":
        return {"width": width_table(cfg, unit["width"])}
    if part == "rnn":
        return {"rnn": rnn_table(cfg, cfg.rnn_rho, (unit["lr"],))}
    if part == "depth":
        return {"depth": depth_table(cfg, unit["depth"], unit["kind"] == "residual")}
    if part == "identity":
        return {"identity": identity_table(cfg)}
    if part == "goe":
        hits = goe_minima(unit["n"], cfg.goe_draws, rng.np_stream(0, "goe", unit["n"]))
        return {"goe": pd.DataFrame([dict(n=unit["n"], draws=cfg.goe_draws, minima=hits)])}
    tables = {"autoencoder": lambda: {"autoencoder": autoencoder_table(cfg)}, "saddle": lambda: saddle_tables(cfg),
              "momentum": lambda: momentum_tables(cfg), "clipping": lambda: {"clipping": clipping_table(cfg)}}
    return tables[part]()



def estimate(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, Estimate]:
    goe, escape, well, ae = tables["goe"], tables["saddle_escape"], tables["well"], tables["autoencoder"]
    ts, clip = tables["teacher_student"], tables["clipping"]
    value = stats.select(clip, rule="value")
    return {
        "I1a": goe_slope(goe, cfg),
        "I1b": goe_acceleration(goe, cfg),
        "I3a": Estimate.exact(tables["saddle_plain"].max_abs_y.max()),
        "I3b": {s: escape_share(escape, s) for s in cfg.sigmas},
        "I3c": escape_slope(escape, cfg),
        "I4a": Estimate.exact(tables["plateau"].max_move_on_plateau.max()),
        "I4p": share_of(stats.select(well, method="gd", eta=cfg.eta_well), "local_well"),
        "I4b": {eta: momentum_gain(well, eta) for eta in cfg.etas},
        "I5": {s: ae_worst(ae, s) for s in cfg.ae_steps},
        "I6p": share_of(stats.select(ts, k=12), "reached") if 12 in cfg.ts_sizes else stats.NAN,
        "I6": {k: share_of(stats.select(ts, k=k), "stuck") for k in cfg.ts_sizes},
        "I8": {w: accuracy_spread(tables["init_seeds"], w) for w in cfg.init_widths},
        "I9p": trained_share(tables["depth"], "plain", cfg.depth_base),
        "I9a": {d: depth_ratio(tables["depth"], "plain", d, cfg.depth_base) for d in cfg.depths},
        "I9b": {d: depth_ratio(tables["depth"], "residual", d, cfg.depth_base) for d in cfg.depths},
        "I10a": Estimate.exact(stats.select(tables["identity"], kind="residual").max_abs_change.max()),
        "I10b": Estimate.exact(stats.select(tables["identity"], kind="residual").max_abs_grad_change.max()),
        "I11a": Estimate.exact(stats.select(clip, rule="norm").cosine.min()),
        "I11b": {q: stats.mean_ci(value[np.isclose(value.share, q)].cosine) for q in cfg.clip_shares},
        "I7p": unfinished(tables["width"], (cfg.width_small, cfg.width_large), max(cfg.width_steps)),
        "I7a": {s: spread_ratio(tables["width"], cfg.width_small, cfg.width_large, s) for s in cfg.width_steps},
        "I7b": {s: width_accuracy_spread(tables["width"], cfg.width_large, s) for s in cfg.width_steps},
        "I12p": cliff_ratio(tables["rnn"], cfg.rnn_lr),
        "I12-learns": stats.mean_ci(math.log(10) - _rnn_runs(tables["rnn"], cfg.rnn_lr, True).final_loss.to_numpy(float)),
        "I12a": {lr: rnn_contrast(tables["rnn"], lr, "spike") for lr in cfg.rnn_lrs},
        "I12b": {lr: rnn_contrast(tables["rnn"], lr, "final_loss") for lr in cfg.rnn_lrs},
    }


def _rnn_runs(runs: pd.DataFrame, lr: float, clipped: bool) -> pd.DataFrame:
    return runs[np.isclose(runs.lr, lr) & (runs.clipped == clipped)].sort_values("seed")


def cliff_ratio(runs: pd.DataFrame, lr: float) -> Estimate:
    """Geometric mean over seeds of max/median raw gradient norm of the unclipped runs at ``lr``."""
    return stats.geometric_mean_ci(_rnn_runs(runs, lr, False).cliff_ratio.to_numpy())


def rnn_contrast(runs: pd.DataFrame, lr: float, column: str) -> Estimate:
    """Unclipped − clipped, paired over seeds (same init and batches)."""
    return stats.paired_difference(_rnn_runs(runs, lr, False)[column].to_numpy(dtype=float),
                                   _rnn_runs(runs, lr, True)[column].to_numpy(dtype=float))


def facts(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, float | int | str]:
    goe = tables["goe"].set_index("n")
    ts, well, ae = tables["teacher_student"], tables["well"], tables["autoencoder"]
    clip, plateau = tables["clipping"], tables["plateau"].iloc[0]
    out = {f"goe_p{n}": float(goe.minima[n] / goe.draws[n]) for n in goe.index}
    out["goe_minima_at_n_max"] = int(goe.minima[goe.index.max()])
    for k in (6, 12, 20):  # the method text cites these three (NaN where not run)
        part, moving = stats.select(ts, k=k), (ts.loss_ratio > REACHED) & (ts.grad_norm >= STATIONARY)
        critical = (ts.loss_ratio > REACHED) & (ts.grad_norm < STATIONARY) & ~ts.stuck.astype(bool)
        out.update({f"ts_stuck_{k}": part.stuck.sum(), f"ts_reached_{k}": part.reached.sum(),
                    f"ts_unfinished_{k}": moving[part.index].sum(), f"ts_saddles_{k}": critical[part.index].sum(),
                    f"ts_stuck_loss_median_{k}": part.loss_ratio[part.stuck.astype(bool)].median()})
        if part.empty:
            out.update({key: math.nan for key in out if key.endswith(f"_{k}") and key.startswith("ts_")})
    matched, first = stats.select(well, method="gd_matched"), ae.iloc[0]
    one = stats.select(clip, rule="one_sided")
    out.update(ts_largest_final_grad=ts.grad_norm.max(), gd_matched_global=matched.global_well.mean(),
               gd_matched_diverged=matched.diverged.mean(), plateau_gd_lowest=plateau.gd_lowest_from_4,
               plateau_hb_lowest=plateau.hb_lowest_from_4, ae_optimum=first.optimum,
               ae_saddle_excess_share=first.saddle_excess / first.optimum,
               ae_median_final=stats.select(ae, step=max(cfg.ae_steps)).excess_over_gap.median(),
               one_sided_cosine=one[np.isclose(one.share, cfg.clip_shares[0])].cosine.mean())
    for w in (16, 64):
        part = stats.select(tables["init_seeds"], width=w)
        out.update({f"init_acc_mean_{w}": part.test_accuracy.mean(), f"init_train_loss_max_{w}": part.train_loss.max(),
                    f"init_acc_range_{w}": part.test_accuracy.max() - part.test_accuracy.min()})
    runs, ident = tables["depth"], tables["identity"].set_index("kind")
    for d in sorted({*cfg.depths, cfg.depth_base}):
        for kind in ("plain", "residual"):
            out[f"depth_loss_{kind}_{d}"] = float(np.mean(final_losses(runs, kind, d)))
    for kind in ("plain", "residual"):
        out[f"depth_initial_{kind}_{max(cfg.depths)}"] = float(np.mean(final_losses(runs, kind, max(cfg.depths), 0)))
        out[f"depth_half_ratio_{kind}"] = depth_ratio(runs, kind, max(cfg.depths), cfg.depth_base,
                                                      cfg.depth_steps // 2).value
    out.update(depth_plain_grad_ratio=ident.grad_norm_ratio["plain"], depth_largest=max(cfg.depths))
    out.update(theta=THETA, escape_slope_theory=1 / math.log(1 + cfg.eta_saddle))
    width = stats.select(tables["width"], steps=max(cfg.width_steps))
    for name, w in (("small", cfg.width_small), ("large", cfg.width_large)):
        part = stats.select(width, width=w)
        out.update({f"width_loss_mean_{name}": part.train_loss.mean(), f"width_loss_sd_{name}": part.train_loss.std(),
                    f"width_acc_mean_{name}": part.test_accuracy.mean(), f"width_acc_sd_{name}": part.test_accuracy.std()})
    runs = tables["rnn"]
    for lr in (0.05, 0.2, 0.5):  # the method text cites these (NaN where not run)
        for clipped, name in ((False, "raw"), (True, "clip")):
            part = runs[np.isclose(runs.lr, lr) & (runs.clipped == clipped)]
            out.update({f"rnn_spike_{name}_{lr:g}".replace(".", "p"): part.spike.sum() if len(part) else math.nan,
                        f"rnn_loss_{name}_{lr:g}".replace(".", "p"): part.final_loss.mean() if len(part) else math.nan})
        raw = runs[np.isclose(runs.lr, lr) & ~runs.clipped.astype(bool)]
        out[f"rnn_cliff_median_{lr:g}".replace(".", "p")] = raw.cliff_ratio.median() if len(raw) else math.nan
        out[f"rnn_cliff_max_{lr:g}".replace(".", "p")] = raw.cliff_ratio.max() if len(raw) else math.nan
    out["rnn_median_grad"] = runs.median_grad.median()
    return {key: float(v) if not isinstance(v, str) else v for key, v in out.items()}

