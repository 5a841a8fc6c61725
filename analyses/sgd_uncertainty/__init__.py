"""The SGD uncertainty region (claims C1–C6): constant-step plateaus against h, the lecture's bound
and the last point, decaying schedules, mini-batches and rates, measured with vectorised SGD
chains on five convex finite sums (d = 20, n = 10⁴) beside the exact moment theory."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from dlclaims.suite import stats
from dlclaims.suite.claims import (Added, Amendment, Claim, Estimate, Scope, at_least, at_most, between,
                                   falls_below, signature)
from dlclaims.suite.contract import Tol, option

from . import averaging, batches, draws, plateaus, rates
from .problems import LEAST_SQUARES, SMALL_H

TITLE = "SGD's uncertainty region: plateau ∝ step, schedules, mini-batches and rates"
LECTURE = """\
"E F(x̂_k) − F(x_opt) ≤ R²/(2h(k+1)) + G²h/2 → G²h/2 ... SGD comes to an 'uncertainty
region' ... proportional to step size; the faster we go, the faster we arrive there but
the larger the uncertainty region will be, i.e., we need to reduce the learning rate with
time" and "in practice there is no difference or it's even better to take the last point"
(004). "Convex function: E f(X^k) − f* = O(1/√k); strongly convex: O(1/k); recap of GD:
O(1/k) for convex"; a diminishing learning rate Σα = ∞, Σα² < ∞; mini-batches "reduce the
variance by 1/b"; example "logistic regression, d = 20, n = 10⁴, fixed learning rate" (003)."""

# --- the claims, declared before the run -----------------------------------------------------

PROPORTIONAL = between(0.9, 1.1)  # a log-log slope within 0.1 of 1: proportional to h (C1a–c)
CURVED = at_least(1.1)  # C1e: a slope above C1's band: the plateau grows faster than h
MATCHES = between(0.9, 1.1)  # measured / exact within 10%: simulation and theory agree (C1d, C6f)
UNDER_BOUND = at_most(1.0)  # a theorem's bound: the gap over it is at most 1 (checks C2a, C6a, C6d)
NO_WORSE = at_most(1.1, null=1.0, why="'no worse' is non-inferiority: the last point may sit up to 10% above the "
                                       "average, the family's tolerance for 'the same' (C1d, C6f)")  # C2b
GROWS = at_least(1.0)  # C2c: the advantage of averaging larger at K than at K/10
SOONER = falls_below(0.0, 0.2, why="sooner by at least 2x over the 32-fold step grid (log 2 / log 32 = 0.2); one "
                                   "logged step of k (0.18 decade) at one end moves the slope by 0.12")  # C3
BELOW_PLATEAU = falls_below(1.0, 0.1, why="a gap within 10% of the plateau is the same level, the family's "
                                          "tolerance for 'the same' (C1d, C6f)")  # C4
VARIANCE_BY_B = between(-1.05, -0.95)  # C5a: 1/b for a variance at x*, where nothing else enters
PLATEAU_BY_B = between(-1.1, -0.9)  # C5b: 1/b within C1's tolerance for ∝ h
ROOT_K = between(-0.65, -0.35)  # C6b: exponent −½ ± 0.15 of the noise part under h_max/√(k+1)
ONE_OVER_K = between(-1.2, -0.8)  # C6c: exponent −1 ± 0.2 of the noise part under α₀/(k+k₀)
SLOWER_THAN_1_OVER_K = at_least(ONE_OVER_K.hi)  # C6e: the negative control lands above C6c's region

DRAWN_C2B = ("gap of the last iterate / of the step-weighted average at K, h_max/√(k+1) and α₀/(k+k₀); per problem "
             "draw (its own design, noise and optimum) the ratio of chain means, geometric mean over draws; worst "
             "(problem, schedule)")
HORIZON_WHY = ("at a constant step the average keeps converging while the last iterate plateaus, so the ratio "
               "grows with k; the lecture names no horizon: judged at K, K/10 beside it")

# the Config fields each verdict depends on (the ledger signs their values)
DRAW_SETUP = ("steps", "horizons", "problem_draws", "draw_chains", "seed")
# the rows measured over draws since 2026-12-02 (below); their one-draw set-ups as committed before
PLATEAU_SETUP = ("steps", "step_factors", "problem_draws", "draw_chains", "seed")
RATE_SETUP = ("steps", "problem_draws", "draw_chains", "seed")
BATCH_SETUP = ("batch_sizes", "batch_steps", "problem_draws", "draw_chains", "seed")
VARIANCE_SETUP = ("batch_sizes", "variance_draws", "problem_draws", "draw_chains", "seed")
ONE_DRAW_SETUPS = {"plateau": ("steps", "step_factors", "chains", "seed"), "rate": ("steps", "chains", "seed"),
                   "batch": ("batch_sizes", "batch_steps", "chains", "seed"),
                   "variance": ("batch_sizes", "variance_draws", "chains", "seed")}

CLAIMS = [
    Claim("C1a", "lecture",
          "With constant step h the SGD plateau is proportional to h for small h (first order in h; least squares, "
          "isotropic)",
          "log-log slope of the last-iterate plateau vs h, over h ≤ h_max/4 (ls_iso)", PROPORTIONAL,
          setup=PLATEAU_SETUP),
    Claim("C1b", "lecture", "... and on an ill-conditioned design (κ = 10)",
          "log-log slope of the plateau vs h, h ≤ h_max/4 (ls_ill)", PROPORTIONAL, setup=PLATEAU_SETUP),
    Claim("C1c", "lecture", "... and for logistic regression, d = 20, n = 10⁴ (the lecture's example)",
          "log-log slope of the plateau vs h, h ≤ h_max/4 (logistic, no L2)", PROPORTIONAL, setup=PLATEAU_SETUP),
    Claim("C1d", "derived", "The measured plateau matches the exact stationary theory at every h (least squares)",
          "measured / exact plateau, the (design, h) farthest from 1", MATCHES, setup=PLATEAU_SETUP),
    Claim("C1e", "derived",
          "Proportionality is first order: over the whole step grid up to h_max the plateau grows faster than h",
          "log-log slope of the plateau vs h over all h ≤ h_max, the smallest over ls_iso, ls_ill, logistic",
          CURVED, setup=PLATEAU_SETUP),
    Claim("C2a", "check",
          "E F(x̂_k) − F* ≤ R²/(2h(k+1)) + G²h/2 at every k (x̂ the running average, R and G measured)",
          "largest chain-mean gap of the averaged iterate / bound over problems, h and logged k", UNDER_BOUND,
          setup=("steps", "step_factors", "log_points", "chains", "seed")),
    Claim("C2b", "lecture",
          "In practice the last point is no worse than the (step-weighted) average of the bound, for a decaying "
          "schedule at the declared horizon K",
          DRAWN_C2B, NO_WORSE, premise="C2c", setup=DRAW_SETUP,
          scope=Scope("horizons", 1.0, HORIZON_WHY)),
    Claim("C2d", "lecture",
          "... and for the constant step of the lecture's example (α_i = h, x̂ the uniform average)",
          "gap of the last iterate / of the uniform average at K, constant h over the step grid on the four "
          "constant-step problems; per problem draw (its own design, noise and optimum) the ratio of chain means, "
          "geometric mean over draws; worst (problem, h)", NO_WORSE, premise="C2c",
          setup=DRAW_SETUP + ("step_factors",), scope=Scope("horizons", 1.0, HORIZON_WHY)),
    Claim("C2c", "derived",
          "At a constant step the average keeps converging and the last iterate does not: averaging wins by a "
          "factor that grows with k (least squares, Bach & Moulines)",
          "(last / average gap at K) / (the same at K/10), the smallest over least-squares (problem, h)",
          GROWS, setup=PLATEAU_SETUP),
    Claim("C3", "lecture", "Larger h reaches its plateau sooner",
          "log-log slope of steps-to-plateau vs h, the least negative over the four problems", SOONER,
          setup=("steps", "step_factors", "log_points", "problem_draws", "draw_chains", "seed")),
    Claim("C4", "lecture", "Diminishing steps keep converging below every constant-step plateau of the same budget",
          "final last-iterate gap of h_max/√(k+1) or α₀/(k+k₀) / lowest constant-step plateau, worst case",
          BELOW_PLATEAU, setup=PLATEAU_SETUP),
    Claim("C5a", "lecture", "A mini-batch of b cuts the gradient variance by 1/b",
          "log-log slope of E‖ĝ(x*) − ∇F(x*)‖² vs b (ls_iso)", VARIANCE_BY_B,
          setup=VARIANCE_SETUP),
    Claim("C5b", "lecture", "... and the plateau accordingly",
          "log-log slope of the plateau vs b at h = h_max/4 (ls_iso)", PLATEAU_BY_B,
          setup=BATCH_SETUP),
    Claim("C6a", "check", "Full-batch GD converges as O(1/k) on a convex problem: F(x_k) − F* ≤ L R²/(2k)",
          "largest gap / (L R²/(2k)) over logged k ≥ 1 and all five problems, GD with step 1/L", UNDER_BOUND,
          setup=("steps", "log_points", "seed")),
    Claim("C6b", "lecture", "SGD converges as O(1/√k) on a convex problem: the noise part decays as 1/√k",
          "log-log slope of the noise part (chains from x*) over k ∈ [K/10, K], h_max/√(k+1) (ls_flat)",
          ROOT_K, setup=RATE_SETUP),
    Claim("C6c", "lecture", "SGD converges as O(1/k) on a strongly convex problem (logistic regression with L2)",
          "log-log slope of the noise part (chains from x*) over k ∈ [K/10, K], α₀/(k+k₀) (logistic_l2)",
          ONE_OVER_K, setup=RATE_SETUP),
    Claim("C6d", "check",
          "SGD with h/√(k+1) stays under the lecture's bound (R² + G²Σα²)/(2Σα) at every k (the O(1/√k) theorem)",
          "largest chain-mean gap of the step-weighted average / bound over logged k and all five problems, "
          "h_max/√(k+1)", UNDER_BOUND, setup=("steps", "log_points", "chains", "seed")),
    Claim("C6e", "derived",
          "Negative control: C6c's 1/k rule rejects h_max/√(k+1) on the same problem (its noise part decays slower)",
          "log-log slope of the noise part over k ∈ [K/10, K], h_max/√(k+1) (logistic_l2); C6c's region is "
          "[-1.2, -0.8]", SLOWER_THAN_1_OVER_K, setup=RATE_SETUP),
    Claim("C6f", "derived", "The measured noise part matches the exact moment recursion along the schedule",
          "measured / exact noise part, h_max/√(k+1) on ls_flat, mean over the logged k ∈ [K/10, K]",
          MATCHES, setup=RATE_SETUP),
]

_C2B_FIRST = "final gap of the last iterate / of the averaged iterate, most favourable (problem, h)"
_C2B_WORST = "final gap of the last iterate / of the averaged iterate, worst (problem, h)"
_C2B_DECAYING = ("gap of the last iterate / of the step-weighted average at K, h_max/√(k+1) and α₀/(k+k₀), "
                 "worst (problem, schedule)")
_BY_ID = {c.id: c for c in CLAIMS}  # as declared before the statistics named their one problem draw
# rows that were measured on one problem draw (seed 0), their statistic saying so, their interval
# covering the chains only; since 2026-12-02 each is measured per problem draw and summarised over draws
ONE_DRAW = "; on one problem draw, the interval over chains only"
FIXED_DRAW = ("C1a", "C1b", "C1c", "C1d", "C1e", "C2c", "C3", "C4", "C5a", "C5b", "C6b", "C6c", "C6e", "C6f")
_MEAN_OVER_DRAWS = "; per problem draw (its own design, noise and optimum) from its chains' means, mean over draws"
_GEO_OVER_DRAWS = ("; per problem draw (its own design, noise and optimum) from its chains' means, geometric mean "
                   "over draws")
OVER_DRAWS = {cid: _GEO_OVER_DRAWS if cid in ("C1d", "C2c", "C4", "C6f") else _MEAN_OVER_DRAWS for cid in FIXED_DRAW}
_ONE_DRAW_SETUP = {"C1a": "plateau", "C1b": "plateau", "C1c": "plateau", "C1d": "plateau", "C1e": "plateau",
                   "C2c": "plateau", "C4": "plateau", "C5a": "variance", "C5b": "batch", "C6b": "rate", "C6c": "rate",
                   "C6e": "rate", "C6f": "rate"}
CLAIMS = [replace(c, statistic=c.statistic + OVER_DRAWS[c.id]) if c.id in FIXED_DRAW else c for c in CLAIMS]
_ISSUE_13 = "recorded late: made in commit ed0bea8 (2026-11-23) without a ledger entry"
_BOUND_IS_A_THEOREM = ("a theorem's bound for the averaged iterate, measured over the bound with R and G² measured "
                       "on the run (G² the largest logged chain-mean ‖ĝ_k‖²): the ratio can exceed 1 only through a "
                       "bug in the chains, the averaging or the bound, so the row checks the implementation and is "
                       "not evidence for the lecture")
_GD_BOUND = ("GD's bound L R²/(2k) is a theorem for step 1/L, with L and R exact properties of each problem: the "
             "ratio can exceed 1 only through a bug, so the row checks the implementation and is not evidence for "
             "the lecture")
_C2B_WAS, _C2B_NOW = "0.4248 [0.4167, 0.4339] holds", "0.5315 [0.4485, 0.6298] holds"
# value [CI] verdict of the rows whose statistic only gained ONE_DRAW (the same runs: committed = now)
ONE_DRAW_VALUES = {"C1a": "1.066 [1.059, 1.073] holds", "C1b": "1.062 [1.053, 1.071] holds",
                   "C1c": "1.063 [1.054, 1.071] holds", "C1d": "1.014 [0.9783, 1.029] holds",
                   "C1e": "1.141 [1.137, 1.145] holds", "C2c": "4.519 [4.32, 4.761] holds",
                   "C3": "-1.068 [-1.076, -1.059] holds", "C4": "0.2854 [0.275, 0.2972] holds",
                   "C5a": "-0.9996 [-1.001, -0.9984] holds", "C5b": "-1.035 [-1.038, -1.031] holds",
                   "C6b": "-0.5254 [-0.5613, -0.4957] holds", "C6c": "-1.002 [-1.02, -0.9831] holds",
                   "C6e": "-0.6153 [-0.6355, -0.5948] holds", "C6f": "0.9904 [0.9606, 1.018] holds"}
# value [CI] verdict of the same rows measured over problem draws (the default run of 2026-12-02)
DRAWN_VALUES = {"C1a": "1.062 [1.056, 1.069] holds", "C1b": "1.059 [1.049, 1.07] holds",
                "C1c": "1.067 [1.06, 1.074] holds", "C1d": "0.9906 [0.9738, 1.022] holds",
                "C1e": "1.144 [1.141, 1.148] holds", "C2c": "7.367 [5.475, 9.912] holds",
                "C3": "-1.068 [-1.082, -1.055] holds", "C4": "0.2883 [0.278, 0.299] holds",
                "C5a": "-0.9998 [-1.001, -0.9983] holds", "C5b": "-1.034 [-1.041, -1.027] holds",
                "C6b": "-0.5313 [-0.5662, -0.4963] holds", "C6c": "-0.9915 [-1.014, -0.9692] holds",
                "C6e": "-0.5969 [-0.6097, -0.584] holds", "C6f": "1.01 [0.9824, 1.038] holds"}
_OVER_DRAWS_WHY = ("the interval covered the SGD chains on one problem draw only, and an independent draw of a C "
                   "problem fell outside such an interval (C2b); now every draw has its own design, noise and optimum "
                   "(the stream ('draw', d)), the statistic is taken per draw from that draw's chains and the "
                   "interval is over the draws, so it covers the problem as well as the chains")
_DRAW_SETUP_WHY = ("measured over problem_draws problem draws of draw_chains chains each (10 × 32, the cost of the "
                   "256 chains on one draw; all draws in one batched run) instead of 256 chains on one draw")
_SF, _BS = "step_factors=0.03125,0.0625,0.125,0.25,0.5,1", "batch_sizes=1,2,4,8,16,32"
_DRAWS, _CHAINS = "problem_draws=10; draw_chains=32; seed=0", "chains=256; seed=0"
_SETUPS = {"plateau": f"steps=20000; {_SF}; {{}}", "rate": "steps=20000; {}", "batch": f"{_BS}; batch_steps=6000; {{}}",
           "variance": f"{_BS}; variance_draws=1000; {{}}", "reach": f"steps=20000; {_SF}; log_points=25; {{}}"}
_OLD_SETUP = {cid: _SETUPS[_ONE_DRAW_SETUP.get(cid, "reach")].format(_CHAINS) for cid in FIXED_DRAW}
_NEW_SETUP = {cid: _SETUPS[_ONE_DRAW_SETUP.get(cid, "reach")].format(_DRAWS) for cid in FIXED_DRAW}
AMENDMENTS = [
    Amendment("C2b", "2026-11-22", old=signature(_C2B_FIRST, "≤ 1.1"), new=signature(_C2B_WORST, "≤ 1.1"),
              why="made after the first default baseline (commit fcbd5b1), which had it hold at 0.61: judge 'the "
                  "last point is no worse than the average' in the worst (problem, h), as the family's other "
                  "general claims are; it then failed (525x on least squares; commit 8669cf3)",
              was="0.607 [0.584, 0.629] holds", now="525 [491, 566] fails"),
    Amendment("C2b", "2026-11-23", old=signature(_C2B_WORST, "≤ 1.1"),
              new=signature(_C2B_DECAYING, "≤ 1.1"),
              why="at a constant step the averaged iterate keeps converging (Bach & Moulines) while the "
                  "last iterate plateaus, so the ratio grows with K (525 at K = 20000, 46 at K = 2000) and measures "
                  "the horizon, not the aside; the lecture makes the aside beside its bound for a general schedule "
                  "and x̂ the step-weighted average, so it is tested there (decaying schedules, declared K); the "
                  "constant-step behaviour is the derived row C2c",
              was="525 [491, 566] fails", now="0.679 [0.667, 0.694] holds"),
    Amendment("C6a", "2026-11-23", old=signature("fitted exponent of GD's gap vs k (ls_flat)", "in [-1.2, -0.8]"),
              new=signature(_BY_ID["C6a"].statistic, "≤ 1"),
              why="one exponent on one instance measures its spectrum (GD's local slope on ls_flat drifts "
                  "from -0.72 to -1.38; the CI measured curvature, not noise); O(1/k) is the theorem's bound "
                  "L R²/(2k), judged at every k as the nesterov family's E1",
              was="-0.827 [-0.937, -0.718] inconclusive", now="0.0940 [0.0940, 0.0940] holds"),
    Amendment("C6b", "2026-11-23",
              old=signature("fitted exponent of the last-iterate gap of SGD with h_max/√(k+1) (ls_flat)",
                            "in [-0.65, -0.35]"),
              new=signature(_BY_ID["C6b"].statistic, "in [-0.65, -0.35]"),
              why="the old -0.33 came mostly from the deterministic bias term across nearly flat "
                  "directions, not from the noise the O(1/√k) rate is about; the noise part (chains started at x*) "
                  "over the last decade is that term; the bound itself is the new row C6d",
              was="-0.334 [-0.340, -0.327] fails", now="-0.514 [-0.549, -0.480] holds"),
    Amendment("C6c", "2026-11-23",
              old=signature("fitted exponent of the last-iterate gap of SGD with α₀/(k+k₀) (logistic_l2)",
                            "in [-1.2, -0.8]"),
              new=signature(_BY_ID["C6c"].statistic, "in [-1.2, -0.8]"),
              why="the old statistic could not tell its schedule from h/√k (h_max/√(k+1) gave -0.905, "
                  "inside [-1.2, -0.8]); the noise part over the last decade separates them (negative control C6e)",
              was="-0.977 [-0.985, -0.968] holds", now="-1.00 [-1.02, -0.985] holds"),
    # --- history recorded late (an audit of the ledger, 2026-12-02) --------------------------------
    Amendment("C1d", "2026-12-02", old="lecture", new="derived", what="kind", late=True,
              why=f"{_ISSUE_13}: the first baselines counted every row as a lecture claim; C1d compares the "
                  "simulation with the exact stationary theory, a consequence the suite adds, not a lecture sentence",
              was="0.990 [0.975, 1.004] holds", now="0.990 [0.975, 1.004] holds"),
    Amendment("C1d", "2026-12-02", what="statement", late=True,
              old="The measured plateau matches the exact stationary theory (least squares)",
              new=_BY_ID["C1d"].statement,
              why=f"{_ISSUE_13}: 'at every h' states what the statistic (the (design, h) farthest from 1) "
                  "already judged; value and rule unchanged",
              was="0.990 [0.975, 1.004] holds", now="0.990 [0.975, 1.004] holds"),
    Amendment("C1a", "2026-12-02", what="statement", late=True,
              old="With constant step h the SGD plateau is proportional to h (least squares, isotropic)",
              new=_BY_ID["C1a"].statement,
              why=f"{_ISSUE_13}: the lecture's G²h/2 is first order in h, and the statistic already fitted "
                  "h ≤ h_max/4 only; the statement now says so (the full-range slope is the new row C1e)",
              was="1.060 [1.052, 1.067] holds", now="1.060 [1.053, 1.067] holds"),
    Amendment("C2b", "2026-12-02", what="statement", late=True,
              old="In practice the last point is no worse than the average", new=_BY_ID["C2b"].statement,
              why=f"{_ISSUE_13}, with the 2026-11-23 change of its statistic: the aside is judged where the lecture "
                  "makes it (decaying schedules, the step-weighted average, the declared K)",
              was="525 [491, 566] fails", now="0.679 [0.667, 0.694] holds"),
    Amendment("C6a", "2026-12-02", what="statement", late=True,
              old="Full-batch GD converges as O(1/k) on a convex problem", new=_BY_ID["C6a"].statement,
              why=f"{_ISSUE_13}, with the 2026-11-23 change of its statistic: the statement names the bound "
                  "L R²/(2k) it is now judged against",
              was="-0.827 [-0.937, -0.718] inconclusive", now="0.0940 [0.0940, 0.0940] holds"),
    Amendment("C6b", "2026-12-02", what="statement", late=True,
              old="SGD converges as O(1/√k) on a convex problem", new=_BY_ID["C6b"].statement,
              why=f"{_ISSUE_13}, with the 2026-11-23 change of its statistic: the statement names the noise part "
                  "it is now judged on",
              was="-0.334 [-0.340, -0.327] fails", now="-0.514 [-0.549, -0.480] holds"),
    Added("C1e", "2026-12-02", late=True,
          why=f"{_ISSUE_13}: the slope over the whole step grid beside C1a–c, showing the plateau's curvature "
              "above h_max/4 (first baseline value 1.14 [1.14, 1.15] holds)"),
    Added("C2c", "2026-12-02", late=True,
          why=f"{_ISSUE_13}: the constant-step growth of averaging's advantage (Bach & Moulines), moved out of C2b "
              "(first baseline value 11.0 [9.99, 12.1] holds)"),
    Added("C6d", "2026-12-02", late=True,
          why=f"{_ISSUE_13}: the O(1/√k) theorem's own bound for h/√(k+1), beside C6b's exponent of the noise part "
              "(first baseline value 0.348 [0.341, 0.355] holds)"),
    Added("C6e", "2026-12-02", late=True,
          why=f"{_ISSUE_13}: the negative control of C6c (h_max/√(k+1) under the 1/k rule) "
              "(first baseline value -0.593 [-0.616, -0.573] holds)"),
    Added("C6f", "2026-12-02", late=True,
          why=f"{_ISSUE_13}: the measured noise part against the exact moment recursion (ls_flat) "
              "(first baseline value 0.964 [0.941, 0.992] holds)"),
    # --- Foundation v3: theorem bounds are checks, comparisons carry a margin --------
    Amendment("C2a", "2026-12-02", old="lecture", new="check", what="kind", why=_BOUND_IS_A_THEOREM,
              was="0.392 [0.389, 0.395] holds", now="0.391 [0.388, 0.395] holds"),
    Amendment("C6a", "2026-12-02", old="lecture", new="check", what="kind", why=_GD_BOUND,
              was="0.0940 [0.0940, 0.0940] holds", now="0.0956 [0.0956, 0.0956] holds"),
    Amendment("C6d", "2026-12-02", old="lecture", new="check", what="kind", why=_BOUND_IS_A_THEOREM,
              was="0.348 [0.341, 0.355] holds", now="0.360 [0.352, 0.367] holds"),
    Amendment("C3", "2026-12-02", old=signature(_BY_ID["C3"].statistic, "≤ 0"),
              new=signature(_BY_ID["C3"].statistic, SOONER.region()),
              why="'≤ 0' passed any effect however small; 'sooner' now means at least 2x sooner over "
                  "the 32-fold step grid (slope ≤ -0.2), more than the 0.12 one logged step of k can move it",
              was="-1.044 [-1.053, -1.037] holds", now="-1.068 [-1.076, -1.059] holds"),
    Amendment("C4", "2026-12-02", old=signature(_BY_ID["C4"].statistic, "≤ 1"),
              new=signature(_BY_ID["C4"].statistic, BELOW_PLATEAU.region()),
              why="'≤ 1' passed any effect however small; 'below' now means at least 10% below the lowest "
                  "plateau, outside the family's 10% tolerance for 'the same' (C1d, C6f)",
              was="0.292 [0.279, 0.304] holds", now="0.285 [0.275, 0.297] holds"),
    # --- problem draws in the intervals; C2b split into decaying (C2b) and constant (C2d) steps ----
    Amendment("C2b", "2026-12-02", old=signature(_C2B_DECAYING, "≤ 1.1"), new=_BY_ID["C2b"].signature,
              why="the interval covered the chains on one problem draw only, and an independent draw of the "
                  "problem moved the ratio well outside it; now every draw has its own design, noise and optimum, "
                  "the ratio is taken per draw and the interval is over 10 draws (at K/10 beside K, the row's scope)",
              was=_C2B_WAS, now=_C2B_NOW),
    Amendment("C2b", "2026-12-02", old="", new="C2c", what="premise",
              why="'no worse' is judged where the set-up can see the last iterate fall behind the average: C2c, "
                  "the constant-step growth of averaging's advantage, is that positive control",
              was=_C2B_WAS, now=_C2B_NOW),
    Amendment("C2b", "2026-12-02", old="steps=20000; chains=256; seed=0",
              new="steps=20000; horizons=0.1,1; problem_draws=10; draw_chains=32; seed=0", what="setup",
              why="measured over 10 problem draws of 32 chains each (the cost of the 256 chains on one draw), at K "
                  "with K/10 beside it (the horizon is swept as the row's scope)",
              was=_C2B_WAS, now=_C2B_NOW),
    Added("C2d", "2026-12-02",
          why="the lecture's aside sits beside its constant-step example (α_i = h), so that reading is judged as a "
              "lecture row of its own, split from C2b (decaying schedules), over problem draws; it had been "
              "moved to the derived row C2c when C2b was restricted to decaying schedules; first value "
              "530.5 [492.1, 571.9] fails (at K/10: 51.3 [47.2, 55.7] fails)"),
    *[Amendment(cid, "2026-12-02", old=signature(_BY_ID[cid].statistic, _BY_ID[cid].rule.region()),
                new=signature(_BY_ID[cid].statistic + ONE_DRAW, _BY_ID[cid].rule.region()),
                why="the statistic now says it is measured on one problem draw: its interval covers the SGD chains, "
                    "not the draw of the design, noise and optimum (C2b and C2d are measured over draws)",
                was=ONE_DRAW_VALUES[cid], now=ONE_DRAW_VALUES[cid]) for cid in FIXED_DRAW],
    # --- the one-draw rows measured over problem draws ----------------------------------------------
    *[Amendment(cid, "2026-12-02", old=signature(_BY_ID[cid].statistic + ONE_DRAW, _BY_ID[cid].rule.region()),
                new=signature(_BY_ID[cid].statistic + OVER_DRAWS[cid], _BY_ID[cid].rule.region()),
                why=_OVER_DRAWS_WHY, was=ONE_DRAW_VALUES[cid], now=DRAWN_VALUES[cid]) for cid in FIXED_DRAW],
    *[Amendment(cid, "2026-12-02", old=_OLD_SETUP[cid], new=_NEW_SETUP[cid], what="setup", why=_DRAW_SETUP_WHY,
                was=ONE_DRAW_VALUES[cid], now=DRAWN_VALUES[cid]) for cid in FIXED_DRAW],
]

# SGD on a convex problem contracts, so float noise does not grow; what differs across
# machines is summation order in a few reductions.
DEFAULT_TOLERANCE = Tol(rtol=1e-6, atol=1e-12)
TOLERANCES = {"reach": {"k_reach": Tol(rtol=1e-4, atol=1e-6)},
              "reach_slopes": {"slope": Tol(rtol=1e-4, atol=1e-6), "ci_low": Tol(rtol=1e-3, atol=1e-4),
                               "ci_high": Tol(rtol=1e-3, atol=1e-4)}}


# --- the configuration -----------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    chains: int = option(256, "SGD chains per schedule (the replicates)")
    steps: int = option(20_000, "SGD steps per chain: the horizon K")
    step_factors: tuple[float, ...] = tuple(2.0 ** -e for e in range(5, -1, -1))  # constant h / h_max: 1.5 decades
    batch_sizes: tuple[int, ...] = (1, 2, 4, 8, 16, 32)  # C5: 1.5 decades of b
    batch_steps: int = option(6_000, "SGD steps per chain in the mini-batch sweep")
    variance_draws: int = 1_000  # mini-batch gradients per chain at x* for C5a's variance
    log_points: int = 25  # log-spaced logged steps over [1, K]
    boot: int = 1000  # bootstrap resamples per interval
    seed: int = 0  # the root of every named stream
    # problem draws (each its own design, noise, optimum), chains per draw and schedule: every row but
    # the checks C2a, C6a, C6d (and the figures), which use the fixed draw of ``seed`` with ``chains`` chains
    problem_draws: int = option(10, "problem draws (each its own design, noise, optimum) for every row but the checks")
    draw_chains: int = 32  # per draw and schedule: 10 × 32 chains, the cost of the 256 on one draw
    horizons: tuple[float, ...] = (0.1, 1.0)  # C2b, C2d judged at K (the headline) and at K/10


QUICK = Config(chains=32, steps=1_000, log_points=12, step_factors=(0.125, 0.25, 0.5, 1.0), batch_sizes=(1, 4),
               batch_steps=1_000, variance_draws=100, boot=200, problem_draws=3, draw_chains=8)
# the scale-out issue's size: four times the chains, a step grid twice as fine, longer runs
FULL = Config(chains=1024, steps=50_000, step_factors=tuple(2.0 ** (-e / 2) for e in range(12, -1, -1)),
              batch_sizes=(1, 2, 4, 8, 16, 32, 64), batch_steps=12_000, variance_draws=2_000, log_points=33)


def validate(cfg: Config) -> None:
    if cfg.chains < 2:
        raise ValueError(f"--chains {cfg.chains} is too few for a confidence interval; expected at least 2")
    if cfg.steps < 200:
        raise ValueError(f"--steps {cfg.steps} is too few to see a plateau; expected at least 200")
    if cfg.batch_steps < 20:
        raise ValueError(f"--batch-steps {cfg.batch_steps} is too few; expected at least 20")
    if cfg.problem_draws < 2 or cfg.draw_chains < 1:
        raise ValueError("the rows measured over problem draws need at least 2 draws of at least 1 chain")
    if not any(abs(h - 0.1) < 1e-12 for h in cfg.horizons) or not any(abs(h - 1) < 1e-12 for h in cfg.horizons):
        raise ValueError("horizons must include 0.1 and 1 (C2c compares K with K/10)")
    if max(cfg.step_factors) > 1 or min(cfg.step_factors) <= 0:
        raise ValueError("step factors must lie in (0, 1] (fractions of h_max)")



# --- the measurement -------------------------------------------------------------------------

def units(cfg: Config) -> list[dict]:
    """Largest first, so two workers finish together: a problem's draws (C2b, C2d), its constant
    steps, its decaying schedules (with GD and the noise chains), each batch size, each exact-theory solve."""
    return ([dict(part="draws", problem=p) for p in ("logistic", "logistic_l2", "ls_iso", "ls_ill", "ls_flat")]
            + [dict(part="constant", problem=p) for p in ("logistic", "logistic_l2", "ls_iso", "ls_ill")]
            + [dict(part="decaying", problem=p) for p in ("logistic_l2", "ls_flat", "logistic", "ls_iso", "ls_ill")]
            + [dict(part="batch", batch=b) for b in sorted(cfg.batch_sizes, reverse=True)]
            + [dict(part="batch_draws", batch=b) for b in sorted(cfg.batch_sizes, reverse=True)]
            + [dict(part="theory", problem=p) for p in (*LEAST_SQUARES, "ls_flat")])


def run_unit(cfg: Config, unit: dict) -> dict[str, pd.DataFrame]:
    part = unit["part"]
    if part == "constant":
        return plateaus.constant_unit(cfg, unit["problem"])
    if part == "decaying":
        return averaging.decaying_unit(cfg, unit["problem"])
    if part == "draws":
        return draws.draws_unit(cfg, unit["problem"])
    if part == "batch":
        return batches.batch_unit(cfg, unit["batch"])
    if part == "batch_draws":
        return draws.batch_draws_unit(cfg, unit["batch"])
    if unit["problem"] == "ls_flat":
        return rates.exact_noise(cfg, unit["problem"])
    return plateaus.exact_plateaus(cfg, unit["problem"])


# --- the statistics: one line per claim ------------------------------------------------------

def estimate(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, Estimate]:
    return {
        "C1a": draws.slope_vs_h(tables, "ls_iso", SMALL_H),
        "C1b": draws.slope_vs_h(tables, "ls_ill", SMALL_H),
        "C1c": draws.slope_vs_h(tables, "logistic", SMALL_H),
        "C1d": stats.every_group(draws.measured_over_exact(tables), MATCHES),
        "C1e": draws.smallest_slope_vs_h(tables),
        "C2a": averaging.average_over_bound(tables, "constant"),
        "C2b": draws.last_over_average(tables, cfg, constant=False),
        "C2c": draws.growth_of_advantage(tables),
        "C2d": draws.last_over_average(tables, cfg, constant=True),
        "C3": draws.least_negative_reach_slope(tables),
        "C4": draws.decaying_over_lowest_plateau(tables),
        "C5a": draws.slope_vs_b(tables, "grad_variance"),
        "C5b": draws.slope_vs_b(tables, "plateau"),
        "C6a": rates.gd_over_bound(tables),
        "C6b": draws.noise_slope(tables, "ls_flat", "inv_sqrt"),
        "C6c": draws.noise_slope(tables, "logistic_l2", "inv"),
        "C6d": averaging.average_over_bound(tables, "inv_sqrt"),
        "C6e": draws.noise_slope(tables, "logistic_l2", "inv_sqrt"),
        "C6f": draws.noise_over_exact(tables, "ls_flat", "inv_sqrt"),
    }


def one_draw_estimates(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, Estimate]:
    """The same rows on the fixed draw of seed ``cfg.seed`` with ``cfg.chains`` chains, intervals
    over chains only (the statistics before 2026-12-02): the method text cites them beside the rows."""
    return {
        "C1a": plateaus.slope_vs_h(tables, "ls_iso", SMALL_H, cfg.boot),
        "C1b": plateaus.slope_vs_h(tables, "ls_ill", SMALL_H, cfg.boot),
        "C1c": plateaus.slope_vs_h(tables, "logistic", SMALL_H, cfg.boot),
        "C1d": stats.every_group(plateaus.measured_over_exact(tables), MATCHES),
        "C1e": plateaus.smallest_slope_vs_h(tables, cfg.boot),
        "C2c": averaging.smallest_growth_of_advantage(tables, cfg.boot),
        "C3": plateaus.least_negative_reach_slope(tables),
        "C4": averaging.decaying_over_lowest_plateau(tables, cfg.boot),
        "C5a": batches.slope_vs_b(tables, "grad_variance", cfg.boot),
        "C5b": batches.slope_vs_b(tables, "plateau", cfg.boot),
        "C6b": rates.noise_slope(tables, "ls_flat", "inv_sqrt", cfg.boot),
        "C6c": rates.noise_slope(tables, "logistic_l2", "inv", cfg.boot),
        "C6e": rates.noise_slope(tables, "logistic_l2", "inv_sqrt", cfg.boot),
        "C6f": rates.noise_over_exact(tables, "ls_flat", "inv_sqrt", cfg.boot),
    }


def facts(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, float | int | str]:
    """The numbers the method text cites beside the claims' own values."""
    one = {f"one_draw_{cid}": f"{est.value:.4g} [{est.ci_low:.4g}, {est.ci_high:.4g}]"
           for cid, est in one_draw_estimates(tables, cfg).items()}
    return (plateaus.facts(tables) | averaging.facts(tables) | rates.facts(tables, cfg) | draws.facts(tables, cfg)
            | one)


# --- the figures -----------------------------------------------------------------------------

from . import figures  # noqa: E402  (after the rules above, which the figures draw)

FIGURES = [figures.figure_gap_vs_k, figures.figure_plateau_vs_h, figures.figure_schedules,
           figures.figure_plateau_vs_b, figures.figure_averaging, figures.figure_rates]
