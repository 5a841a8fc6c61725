"""The SGD uncertainty region: step size, schedules, mini-batches and rates (claims C1-C6).

Five convex finite sums with d = 20, n = 10⁴: least squares with an isotropic and an
ill-conditioned (κ = 10) Gaussian design, logistic regression with and without a small L2
term (the lecture's example), and a least-squares problem whose spectrum spans five
decades (convex but, over the horizon, not strongly convex). On each, 256 SGD chains per
schedule run as one batched computation (rows drawn uniformly with replacement): a grid of
constant steps h spanning 1.5 decades below h_max = 1/mean_i L_i, and the diminishing
schedules h_max/√(k+1) and α₀/(k + k₀), α₀ = 2/μ. Full-batch GD runs beside them. For
least squares the measured plateau is compared with the exact stationary excess loss of
the SGD second-moment recursion, and the noise part of a decaying schedule with the same
recursion along the schedule (dlclaims.theory).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from dlclaims.methods import chains, sgd_theory
from dlclaims.suite import cli, plots, stats
from dlclaims.suite.contract import Tol, option
from dlclaims.suite.claims import Amendment, Claim, Estimate, at_least, at_most, between, signature

TITLE = "SGD's uncertainty region: plateau ∝ step, schedules, mini-batches and rates"
LECTURE = """\
"E F(x̂_k) − F(x_opt) ≤ R²/(2h(k+1)) + G²h/2 → G²h/2 ... SGD comes to an 'uncertainty
region' ... proportional to step size; the faster we go, the faster we arrive there but
the larger the uncertainty region will be, i.e., we need to reduce the learning rate with
time" and "in practice there is no difference or it's even better to take the last point"
(004). "Convex function: E f(X^k) − f* = O(1/√k); strongly convex: O(1/k); recap of GD:
O(1/k) for convex"; a diminishing learning rate Σα = ∞, Σα² < ∞; mini-batches "reduce the
variance by 1/b"; example "logistic regression, d = 20, n = 10⁴, fixed learning rate" (003)."""
NOTES = """\
**Problems** (d = 20, n = 10⁴, one fixed draw each). Loss normalisation F(x) = (1/n) Σ f_i
+ (λ/2)‖x‖² with f_i = ½(a_iᵀx − y_i)² (least squares) or log(1 + e^{a_iᵀx}) − t_i a_iᵀx
(logistic). `ls_iso`: a_i ~ N(0, I); `ls_ill`: a_i ~ N(0, diag(s)), s log-spaced 1 → 0.1
(κ = 10); both y = A x_true + ε, ε ~ N(0, 1). `logistic`: a_i ~ N(0, I), ‖x_true‖ = 2,
t_i ~ Bernoulli(σ(a_iᵀx_true)); `logistic_l2` the same with λ = 0.01. `ls_flat`: s
log-spaced 1 → 10⁻⁵, the "convex, not strongly convex" problem for rates (its μ is reached
only after ~10⁵/h steps). Optima: `lstsq` (least squares), scipy trust-exact Newton with
gradient norm < 10⁻¹³ (logistic). Every chain starts at x₀ = 0, except the noise chains
(below), which start at x*.

**SGD.** One step draws b rows uniformly with replacement and moves by the step times the
mean of their gradients (plus λx). Steps are fractions 2⁻⁵ … 1 of h_max = 1/mean_i L_i
(L_i = ‖a_i‖² for least squares, ‖a_i‖²/4 + λ for logistic). Diminishing schedules:
h_max/√(k+1), and α₀/(k + k₀) with α₀ = 2/μ (μ = λ_min ∇²F(x*), so α₀μ > 1 as the O(1/k)
theory asks) and k₀ = α₀/h_max so that both start at h_max. GD uses step 1/L. The
**plateau** of a chain is its last-iterate excess loss averaged over 11 evenly spaced
steps in the second half of the run. The averaged iterate is the lecture's
x̂_k = Σ_{i≤k} α_i x_i / Σ_{i≤k} α_i (the step-weighted average its bound is about; the
plain mean of x₀..x_k for a constant step). K is the run's horizon (`--steps`, 20 000).
Every unit (a problem's constant steps, a problem's decaying schedules and GD, one batch
size, one exact-theory solve) seeds each chain from (problem, group, chain) alone, so the
tables do not depend on how units are spread over workers.

**C1 is first order in h.** The lecture's plateau G²h/2 is a first-order statement, and
the exact theory agrees: for small h the stationary excess is h·tr(Q)/4 (the
`small_step_plateau` column of `theory.csv`), but the second-moment recursion has an
h²·K(Σ) term, so plateau/h rises towards h_max (the right panel of `plateau_vs_h.png`; the
exact theory shows the same curve). At h_max the exact plateau is 2.2× (ls_iso) and
2.3× (ls_ill) its first-order value. C1a–c (the lecture rows) therefore fit the slope
where the first-order law is meant, h ≤ h_max/4 (the exact theory's own slope there is
1.062 and 1.065: a little curvature remains, and C1a measures 1.060); C1e gives the slope
over the whole grid up to h_max beside them: 1.197, 1.216 and 1.143 for ls_iso, ls_ill and
logistic (exact theory 1.200 and 1.213), which the first baseline's restricted fit did not
show. C1d says how well the exact theory, curvature included, matches the measured plateau
at every h.

**C2's bound** uses R = ‖x₀ − x*‖ and G² = the largest chain-mean ‖ĝ_k‖² over the logged
steps (k = 0 included, where it is largest). The bound is a theorem for the averaged
iterate, so C2a tests the implementation as much as the lecture. **C2b** tests the aside
"in practice there is no difference or it's even better to take the last point" where
the lecture makes it: beside the bound for a general schedule, whose x̂ is the
step-weighted average; it compares the last iterate with that average at the declared
horizon K for the two decaying schedules on every problem, the worst (problem, schedule).
At a constant step the aside does not apply: the averaged iterate of least squares keeps
converging (Bach & Moulines 2013: O(1/k) for constant-step averaged LMS) while the last
iterate sits on its plateau, so the ratio last/average grows without bound with K (525 at
K = 20 000 and 48 at K/10 for ls_ill at h_max: the old C2b measured the horizon). **C2c**
states that behaviour as a derived row: the ratio at K over the ratio at K/10, on least
squares, the smallest over h (11.0, ls_ill at h_max; up to 95 at small h). On logistic
regression the same growth falls to 1.1–1.2 at the largest h: for a non-quadratic loss the
constant-step average converges to a point O(h) away from x* (Bach & Moulines 2013), so
its advantage saturates; the row is therefore stated for least squares. For the decaying
schedules (C2b) the last point wins everywhere at K = 20 000: last/average from 0.006
(ls_iso, α₀/(k+k₀)) to 0.68 (ls_flat, h_max/√(k+1)), because the step-weighted average
gives its largest weights to the early, far iterates.

**C3** "steps to the plateau" is the first logged step at which the chain-mean last-iterate
gap falls to twice the plateau (log-log interpolation between logged steps); its interval
is a BCa bootstrap over chains (resampling every h's chains together), computed in the
problem's unit and stored in `reach_slopes.csv`.

**C6: rates where the theorems speak.** A rate is a statement about a bound, and about the
term the bound is about; a slope fitted to one instance's total gap measures that
instance's spectrum (GD's local slope on `ls_flat` drifts from −0.7 to −1.4). So:
C6a is GD's gap over its theorem's bound L R²/(2k) at every logged k, every problem; C6d is
the averaged iterate of SGD with h_max/√(k+1) over the lecture's own bound
(R² + G²Σα_i²)/(2Σα_i) at every logged k, every problem (for this schedule the bound is
O(log k/√k)). C6b and C6c take the exponent of the **noise part**: the excess of the same
SGD started at x*, where no deterministic bias term exists, fitted over the last decade
[K/10, K] (chain-mean gap, log-log slope, BCa bootstrap over chains). With step α_k the
noise part settles to ∝ α_k: −½ for h_max/√(k+1), −1 for α₀/(k+k₀). For least squares
(`ls_flat`) the exact second-moment recursion along the schedule gives the same curve
without Monte Carlo (`noise_theory.csv`; C6f compares, measured / exact averaged over the
last decade). **C6e** is the negative control: h_max/√(k+1) on `logistic_l2` under C6c's
1/k rule must land outside it (the old statistic, the total gap over [K/100, K], put it at
−0.90, inside).

Numbers at the baseline: GD sits at most 0.094 of its bound (ls_flat and ls_ill; these
quadratics are far from GD's worst case, a Huber-type function, which the nesterov-rates
family's E1c measures), while GD's local slope on ls_flat wanders between −0.27 and −1.48
over the logged k; the averaged SGD iterate reaches at most 0.35 of the lecture's bound
(ls_iso near k = 150), 0.05–0.10 at K. The noise exponent on ls_flat is −0.514 (exact
recursion −0.524), where the old statistic, the total last-iterate gap over [K/100, K],
gave −0.33: the bias term of the nearly flat directions. On logistic_l2 the noise part
decays as k^−1.00 with α₀/(k+k₀) and as k^−0.59 with h_max/√(k+1).

**Statistics.** Chains are the replicates; slopes of plateaus against h or b, ratios of
means and noise exponents use a BCa bootstrap over chains (scipy); chain means use a t
interval; a "worst case over groups" statistic takes the group with the extreme value, its
interval the extreme of the lower and of the upper bounds (`stats.worst`). GD is
deterministic: its row is exact. `--quick` (32 chains, K = 1 000) is a smoke run: its
verdicts are not the baseline's (at K = 1 000 the small steps have not reached their
plateau, and the last decade is short).

**Rows changed by issue 13** (old baseline → this one): C2b 525 [491, 566] fails (constant
steps, worst (problem, h)) → 0.68 [0.67, 0.69] holds (decaying schedules, step-weighted
average, K = 20 000); C6a exponent −0.83 [−0.94, −0.72] inconclusive → gap / L R²/(2k)
0.094 holds; C6b last-iterate exponent −0.33 [−0.34, −0.33] fails → noise-part exponent
−0.51 [−0.55, −0.48] holds; C6c −0.98 [−0.99, −0.97] holds → noise-part exponent −1.00
[−1.02, −0.99] holds. New rows: C1e, C2c, C6e, C6f (derived), C6d (lecture). C1d is now
`derived` (a check of the theory against the simulation, not a lecture sentence); C1a–c
say "for small h" (same statistic and rule); C3's interval is now BCa over chains (was a
200-resample percentile bootstrap)."""

CLAIMS = [
    Claim("C1a", "lecture",
          "With constant step h the SGD plateau is proportional to h for small h (first order in h; least squares, "
          "isotropic)",
          "log-log slope of the last-iterate plateau vs h, over h ≤ h_max/4 (ls_iso)", between(0.9, 1.1)),
    Claim("C1b", "lecture", "... and on an ill-conditioned design (κ = 10)",
          "log-log slope of the plateau vs h, h ≤ h_max/4 (ls_ill)", between(0.9, 1.1)),
    Claim("C1c", "lecture", "... and for logistic regression, d = 20, n = 10⁴ (the lecture's example)",
          "log-log slope of the plateau vs h, h ≤ h_max/4 (logistic, no L2)", between(0.9, 1.1)),
    Claim("C1d", "derived", "The measured plateau matches the exact stationary theory at every h (least squares)",
          "measured / exact plateau, the (design, h) farthest from 1", between(0.9, 1.1)),
    Claim("C1e", "derived",
          "Proportionality is first order: over the whole step grid up to h_max the plateau grows faster than h",
          "log-log slope of the plateau vs h over all h ≤ h_max, the smallest over ls_iso, ls_ill, logistic",
          at_least(1.1)),
    Claim("C2a", "lecture",
          "E F(x̂_k) − F* ≤ R²/(2h(k+1)) + G²h/2 at every k (x̂ the running average, R and G measured)",
          "largest chain-mean gap of the averaged iterate / bound over problems, h and logged k", at_most(1.0)),
    Claim("C2b", "lecture",
          "In practice the last point is no worse than the (step-weighted) average of the bound, for a decaying "
          "schedule at the declared horizon K",
          "gap of the last iterate / of the step-weighted average at K, h_max/√(k+1) and α₀/(k+k₀), "
          "worst (problem, schedule)", at_most(1.1)),
    Claim("C2c", "derived",
          "At a constant step the average keeps converging and the last iterate does not: averaging wins by a "
          "factor that grows with k (least squares, Bach & Moulines)",
          "(last / average gap at K) / (the same at K/10), the smallest over least-squares (problem, h)",
          at_least(1.0)),
    Claim("C3", "lecture", "Larger h reaches its plateau sooner",
          "log-log slope of steps-to-plateau vs h, the least negative over the four problems", at_most(0.0)),
    Claim("C4", "lecture", "Diminishing steps keep converging below every constant-step plateau of the same budget",
          "final last-iterate gap of h_max/√(k+1) or α₀/(k+k₀) / lowest constant-step plateau, worst case",
          at_most(1.0)),
    Claim("C5a", "lecture", "A mini-batch of b cuts the gradient variance by 1/b",
          "log-log slope of E‖ĝ(x*) − ∇F(x*)‖² vs b (ls_iso)", between(-1.05, -0.95)),
    Claim("C5b", "lecture", "... and the plateau accordingly",
          "log-log slope of the plateau vs b at h = h_max/4 (ls_iso)", between(-1.1, -0.9)),
    Claim("C6a", "lecture", "Full-batch GD converges as O(1/k) on a convex problem: F(x_k) − F* ≤ L R²/(2k)",
          "largest gap / (L R²/(2k)) over logged k ≥ 1 and all five problems, GD with step 1/L", at_most(1.0)),
    Claim("C6b", "lecture", "SGD converges as O(1/√k) on a convex problem: the noise part decays as 1/√k",
          "log-log slope of the noise part (chains from x*) over k ∈ [K/10, K], h_max/√(k+1) (ls_flat)",
          between(-0.65, -0.35)),
    Claim("C6c", "lecture", "SGD converges as O(1/k) on a strongly convex problem (logistic regression with L2)",
          "log-log slope of the noise part (chains from x*) over k ∈ [K/10, K], α₀/(k+k₀) (logistic_l2)",
          between(-1.2, -0.8)),
    Claim("C6d", "lecture",
          "SGD with h/√(k+1) stays under the lecture's bound (R² + G²Σα²)/(2Σα) at every k (the O(1/√k) theorem)",
          "largest chain-mean gap of the step-weighted average / bound over logged k and all five problems, "
          "h_max/√(k+1)", at_most(1.0)),
    Claim("C6e", "derived",
          "Negative control: C6c's 1/k rule rejects h_max/√(k+1) on the same problem (its noise part decays slower)",
          "log-log slope of the noise part over k ∈ [K/10, K], h_max/√(k+1) (logistic_l2); C6c's region is "
          "[-1.2, -0.8]", at_least(-0.8)),
    Claim("C6f", "derived", "The measured noise part matches the exact moment recursion along the schedule",
          "measured / exact noise part, h_max/√(k+1) on ls_flat, mean over the logged k ∈ [K/10, K]",
          between(0.9, 1.1)),
]

_C2B_FIRST = "final gap of the last iterate / of the averaged iterate, most favourable (problem, h)"
_C2B_WORST = "final gap of the last iterate / of the averaged iterate, worst (problem, h)"
AMENDMENTS = [
    Amendment("C2b", "2026-11-22", old=signature(_C2B_FIRST, "≤ 1.1"), new=signature(_C2B_WORST, "≤ 1.1"),
              why="made after the first default baseline (commit 8669cf3), which had it hold at 0.61: judge 'the "
                  "last point is no worse than the average' in the worst (problem, h), as the family's other "
                  "general claims are; it then failed (525x on least squares)"),
    Amendment("C2b", "2026-11-23", old=signature(_C2B_WORST, "≤ 1.1"),
              new=signature(CLAIMS[6].statistic, "≤ 1.1"),
              why="issue 13: at a constant step the averaged iterate keeps converging (Bach & Moulines) while the "
                  "last iterate plateaus, so the ratio grows with K (525 at K = 20 000, 46 at K = 2000) and measures "
                  "the horizon, not the aside; the lecture makes the aside beside its bound for a general schedule "
                  "and x̂ the step-weighted average, so it is tested there (decaying schedules, declared K); the "
                  "constant-step behaviour is the derived row C2c"),
    Amendment("C6a", "2026-11-23", old=signature("fitted exponent of GD's gap vs k (ls_flat)", "in [-1.2, -0.8]"),
              new=signature(CLAIMS[12].statistic, "≤ 1"),
              why="issue 13: one exponent on one instance measures its spectrum (GD's local slope on ls_flat drifts "
                  "from -0.72 to -1.38; the CI measured curvature, not noise); O(1/k) is the theorem's bound "
                  "L R²/(2k), judged at every k as the nesterov family's E1"),
    Amendment("C6b", "2026-11-23",
              old=signature("fitted exponent of the last-iterate gap of SGD with h_max/√(k+1) (ls_flat)",
                            "in [-0.65, -0.35]"),
              new=signature(CLAIMS[13].statistic, "in [-0.65, -0.35]"),
              why="issue 13: the old -0.33 came mostly from the deterministic bias term across nearly flat "
                  "directions, not from the noise the O(1/√k) rate is about; the noise part (chains started at x*) "
                  "over the last decade is that term; the bound itself is the new row C6d"),
    Amendment("C6c", "2026-11-23",
              old=signature("fitted exponent of the last-iterate gap of SGD with α₀/(k+k₀) (logistic_l2)",
                            "in [-1.2, -0.8]"),
              new=signature(CLAIMS[14].statistic, "in [-1.2, -0.8]"),
              why="issue 13: the old statistic could not tell its schedule from h/√k (h_max/√(k+1) gave -0.905, "
                  "inside [-1.2, -0.8]); the noise part over the last decade separates them (negative control C6e)"),
]

# SGD on a convex problem contracts, so float noise does not grow; what differs across
# machines is summation order in a few reductions.
DEFAULT_TOLERANCE = Tol(rtol=1e-6, atol=1e-12)
TOLERANCES = {"reach": {"k_reach": Tol(rtol=1e-4, atol=1e-6)},
              "reach_slopes": {"slope": Tol(rtol=1e-4, atol=1e-6), "ci_low": Tol(rtol=1e-3, atol=1e-4),
                               "ci_high": Tol(rtol=1e-3, atol=1e-4)}}

N, D = 10_000, 20
PROBLEMS = ("ls_iso", "ls_ill", "logistic", "logistic_l2", "ls_flat")
CONSTANT_PROBLEMS = ("ls_iso", "ls_ill", "logistic", "logistic_l2")
LEAST_SQUARES = ("ls_iso", "ls_ill")
C1_PROBLEMS = {"C1a": "ls_iso", "C1b": "ls_ill", "C1c": "logistic"}
DIMINISHING = ("inv_sqrt", "inv")
# where the noise part is measured (chains from x*), and the exact recursion run
NOISE = {"ls_flat": ("inv_sqrt",), "logistic_l2": ("inv_sqrt", "inv")}
NOISE_GROUP = 50  # group indices of the noise chains: disjoint from the chains from x₀
WINDOW_POINTS = 11
DECADE_POINTS = 11
SMALL_H = 0.25  # C1's first-order range: h ≤ h_max/4


@dataclass(frozen=True)
class Config:
    chains: int = option(256, "SGD chains per schedule (the replicates)")
    steps: int = option(20_000, "SGD steps per chain: the horizon K")
    step_factors: tuple[float, ...] = tuple(2.0 ** -e for e in range(5, -1, -1))
    batch_sizes: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    batch_steps: int = option(6_000, "SGD steps per chain in the mini-batch sweep")
    variance_draws: int = 1_000
    log_points: int = 25
    boot: int = 1000  # bootstrap resamples per interval
    seed: int = 0


QUICK = Config(chains=32, steps=1_000, log_points=12, step_factors=(0.125, 0.25, 0.5, 1.0), batch_sizes=(1, 4),
               batch_steps=1_000, variance_draws=100, boot=200)
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
    if max(cfg.step_factors) > 1 or min(cfg.step_factors) <= 0:
        raise ValueError("step factors must lie in (0, 1] (fractions of h_max)")


# --- the problems ----------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def problem(name: str) -> chains.Problem:
    """One fixed draw per problem, built once per process."""
    return {
        "ls_iso": lambda: chains.least_squares("ls_iso", N, D, np.ones(D), noise=1.0, seed=1),
        "ls_ill": lambda: chains.least_squares("ls_ill", N, D, np.logspace(0, -1, D), noise=1.0, seed=2),
        "logistic": lambda: chains.logistic("logistic", N, D, weight_norm=2.0, l2=0.0, seed=3),
        "logistic_l2": lambda: chains.logistic("logistic_l2", N, D, weight_norm=2.0, l2=0.01, seed=3),
        "ls_flat": lambda: chains.least_squares("ls_flat", N, D, np.logspace(0, -5, D), noise=1.0, seed=4),
    }[name]()


@functools.lru_cache(maxsize=None)
def describe(name: str) -> dict:
    p = problem(name)
    eig = torch.linalg.eigvalsh(p.hessian)
    return dict(problem=p.name, kind=p.kind, n=p.n, d=p.d, noise=p.noise, l2=p.l2, mu=float(eig[0]),
                L=chains.smoothness(p), h_max=1 / chains.mean_sample_smoothness(p),
                R=float(p.x_star.norm()), F_star=p.F_star)


def schedules(cfg: Config, name: str) -> list[tuple[str, float, chains.Schedule]]:
    """(name, step parameter, schedule) of every group of chains from x₀ on one problem; a
    group's index in this list is part of its chains' seeds."""
    info = describe(name)
    h_max = info["h_max"]
    groups = []
    if name in CONSTANT_PROBLEMS:
        groups += [("constant", f * h_max, chains.Schedule.constant(f * h_max)) for f in cfg.step_factors]
    groups.append(("inv_sqrt", h_max, chains.Schedule(np.array([h_max]), np.array([1.0]), np.array([0.5]))))
    if name in CONSTANT_PROBLEMS:
        a0 = 2 / info["mu"]
        groups.append(("inv", a0, chains.Schedule(np.array([a0]), np.array([a0 / h_max]), np.array([1.0]))))
    return groups


def chain_seeds(cfg: Config, problem_index: int, group_index: int) -> np.ndarray:
    base = cfg.seed * 10**9 + problem_index * 10**6 + group_index * 10**4
    return base + np.arange(cfg.chains)


def log_grid(cfg: Config, steps: int) -> np.ndarray:
    """Log-spaced steps from 0, and K/10 (where C2c compares)."""
    coarse = np.round(np.geomspace(1, steps, cfg.log_points)).astype(int)
    return np.unique(np.r_[0, coarse, round(steps / 10)])


def decade_grid(steps: int) -> np.ndarray:
    """The last decade [K/10, K], logged densely: where the noise exponents are fitted."""
    return np.unique(np.round(np.geomspace(steps / 10, steps, DECADE_POINTS)).astype(int))


def plateau_window(steps: int) -> np.ndarray:
    """Evenly spaced steps over the second half: a chain's plateau is its mean there."""
    return np.unique(np.round(np.linspace(steps / 2, steps, WINDOW_POINTS)).astype(int))


def step_sums(schedule: chains.Schedule, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Σ_{i≤k} α_i and Σ_{i≤k} α_i² at the steps k, for a one-chain schedule."""
    alphas = schedule.steps(0, int(k.max()) + 1)[:, 0]
    return np.cumsum(alphas)[k], np.cumsum(alphas**2)[k]


# --- the units -------------------------------------------------------------------------------

def units(cfg: Config) -> list[dict]:
    """Largest first, so two workers finish together: a problem's constant steps, its decaying
    schedules (with GD and the noise chains), each batch size, each exact-theory solve."""
    return ([dict(part="constant", problem=p) for p in ("logistic", "logistic_l2", "ls_iso", "ls_ill")]
            + [dict(part="decaying", problem=p) for p in ("logistic_l2", "ls_flat", "logistic", "ls_iso", "ls_ill")]
            + [dict(part="batch", batch=b) for b in sorted(cfg.batch_sizes, reverse=True)]
            + [dict(part="theory", problem=p) for p in (*LEAST_SQUARES, "ls_flat")])


def run_unit(cfg: Config, unit: dict) -> dict[str, pd.DataFrame]:
    part = unit["part"]
    if part == "constant":
        return constant_unit(cfg, unit["problem"])
    if part == "decaying":
        return decaying_unit(cfg, unit["problem"])
    if part == "batch":
        return batch_unit(cfg, unit["batch"])
    return theory_unit(cfg, unit["problem"])


def curve_rows(name: str, sched: str, step: float, trace: chains.Trace, cols: slice,
               schedule: chains.Schedule) -> list[dict]:
    """Chain means with t intervals per logged step, and the step sums of the lecture's bound."""
    last, avg, gsq = trace.gap_last[:, cols], trace.gap_avg[:, cols], trace.grad_sq[:, cols]
    m, lo, hi = stats.mean_ci_columns(last.T)
    ma, loa, hia = stats.mean_ci_columns(avg.T)
    s1, s2 = step_sums(chains.Schedule(*(v[:1] for v in (schedule.a, schedule.k0, schedule.p))), trace.k)
    return [dict(problem=name, schedule=sched, step=step, k=int(k), gap_last=m[t], gap_last_ci_low=lo[t],
                 gap_last_ci_high=hi[t], gap_avg=ma[t], gap_avg_ci_low=loa[t], gap_avg_ci_high=hia[t],
                 grad_sq=gsq[t].mean(), sum_alpha=s1[t], sum_alpha2=s2[t])
            for t, k in enumerate(trace.k)]


def chain_rows(name: str, sched: str, step: float, trace: chains.Trace, cols: slice, steps: int,
               batch: int = 1, grad_variance=None) -> list[dict]:
    """Per chain: plateau, and the last and averaged gaps at K and at K/10."""
    k = trace.k
    window = np.isin(k, plateau_window(steps))
    tenth = int(np.flatnonzero(k >= np.round(steps / 10))[0])
    last, avg = trace.gap_last[:, cols], trace.gap_avg[:, cols]
    plateau = last[window].mean(0) if window.any() else np.full(last.shape[1], np.nan)
    variance = np.full(last.shape[1], np.nan) if grad_variance is None else grad_variance
    return [dict(problem=name, schedule=sched, step=step, batch=batch, chain=c, plateau=plateau[c],
                 final_last=last[-1, c], final_avg=avg[-1, c], tenth_last=last[tenth, c], tenth_avg=avg[tenth, c],
                 grad_variance=variance[c])
            for c in range(last.shape[1])]


def run_groups(cfg: Config, name: str, groups, group_index, x0: torch.Tensor, log_at, average_at=None):
    """Every group's chains as one batched run; the combined schedule and the trace."""
    seeds = np.concatenate([chain_seeds(cfg, PROBLEMS.index(name), gi) for gi in group_index])
    combined = chains.Schedule(*(np.repeat(np.concatenate([getattr(s, f) for _, _, s in groups]), cfg.chains)
                                 for f in ("a", "k0", "p")))
    trace = chains.run_chains(problem(name), x0, combined, seeds, cfg.steps, log_at=log_at, average_at=average_at)
    return combined, trace


def constant_unit(cfg: Config, name: str) -> dict[str, pd.DataFrame]:
    """One problem's constant steps: curves, per-chain plateaus, steps to plateau (C1-C3)."""
    all_groups = schedules(cfg, name)
    index = [i for i, g in enumerate(all_groups) if g[0] == "constant"]
    groups = [all_groups[i] for i in index]
    grid = log_grid(cfg, cfg.steps)
    log_at = np.union1d(grid, plateau_window(cfg.steps))
    combined, trace = run_groups(cfg, name, groups, index, torch.zeros(D), log_at, average_at=grid)
    curves, per_chain, reach = [], [], []
    for gi, (sched, step, _) in enumerate(groups):
        cols = slice(gi * cfg.chains, (gi + 1) * cfg.chains)
        curves += curve_rows(name, sched, step, trace, cols, chains.Schedule(*(v[cols] for v in (
            combined.a, combined.k0, combined.p))))
        per_chain += chain_rows(name, sched, step, trace, cols, cfg.steps)
    # C3: steps to plateau per h on all chains, and the slope over h with a bootstrap over chains
    window = np.isin(trace.k, plateau_window(cfg.steps))
    steps_h = np.array([s for _, s, _ in groups])
    curves_chains = trace.gap_last.reshape(len(trace.k), len(groups), cfg.chains)  # (T, H, C)
    plateaus = curves_chains[window].mean(0)  # (H, C)
    sample = np.concatenate([plateaus.T, curves_chains.transpose(2, 1, 0).reshape(cfg.chains, -1)], axis=1)
    stat = reach_slope_statistic(trace.k, steps_h)
    k_reach = reach_steps(trace.k, sample, len(groups))
    reach = [dict(problem=name, step=h, k_reach=kr) for h, kr in zip(steps_h, k_reach)]
    slope = stats.bootstrap_ci(sample, stat, n_boot=cfg.boot)
    slopes = [dict(problem=name, slope=slope.value, ci_low=slope.ci_low, ci_high=slope.ci_high)]
    return {"curves": pd.DataFrame(curves), "chains": pd.DataFrame(per_chain), "reach": pd.DataFrame(reach),
            "reach_slopes": pd.DataFrame(slopes)}


def reach_steps(k: np.ndarray, sample: np.ndarray, groups: int) -> np.ndarray:
    """Steps to plateau per h from a (chains, H + H·T) sample: plateaus, then each h's curve."""
    mean = sample.mean(0)
    plateau, curves = mean[:groups], mean[groups:].reshape(groups, len(k))
    return np.array([steps_to_plateau(k, curves[i], plateau[i]) for i in range(groups)])


def reach_slope_statistic(k: np.ndarray, steps_h: np.ndarray):
    fit = loglog_fit(steps_h)

    def slope(sample: np.ndarray) -> float:
        reach = reach_steps(k, sample, len(steps_h))
        return fit(reach) if np.all(np.isfinite(reach)) else math.nan

    return slope


def loglog_fit(x: np.ndarray):
    """The least-squares slope of log y on log x, as a function of y (x fixed: a bootstrap
    evaluates it thousands of times, so the closed form rather than a general fit)."""
    centred = np.log(np.asarray(x, dtype=float))
    centred = centred - centred.mean()
    scale = float(centred @ centred)
    return lambda y: float(centred @ np.log(y) / scale)


def steps_to_plateau(k: np.ndarray, gap: np.ndarray, plateau: float) -> float:
    """First k where gap ≤ 2·plateau, interpolated log-log between logged steps (k ≥ 1)."""
    target = 2 * plateau
    below = np.flatnonzero(gap <= target)
    if below.size == 0:
        return np.nan
    i = below[0]
    if i == 0 or k[i - 1] < 1:
        return float(max(k[i], 1))
    lk, lg = np.log(k[i - 1 : i + 1]), np.log(gap[i - 1 : i + 1])
    return float(np.exp(lk[0] + (np.log(target) - lg[0]) * (lk[1] - lk[0]) / (lg[1] - lg[0])))


def decaying_unit(cfg: Config, name: str) -> dict[str, pd.DataFrame]:
    """One problem's decaying schedules from x₀ and from x* (the noise part), and GD."""
    info = describe(name)
    all_groups = schedules(cfg, name)
    index = [i for i, g in enumerate(all_groups) if g[0] in DIMINISHING]
    groups = [all_groups[i] for i in index]
    grid = log_grid(cfg, cfg.steps)
    combined, trace = run_groups(cfg, name, groups, index, torch.zeros(D), grid)
    curves, per_chain = [], []
    for gi, (sched, step, _) in enumerate(groups):
        cols = slice(gi * cfg.chains, (gi + 1) * cfg.chains)
        curves += curve_rows(name, sched, step, trace, cols, chains.Schedule(*(v[cols] for v in (
            combined.a, combined.k0, combined.p))))
        per_chain += chain_rows(name, sched, step, trace, cols, cfg.steps)
    tables = {"problems": pd.DataFrame([info])}
    noise = [(i, g) for i, g in zip(index, groups) if g[0] in NOISE.get(name, ())]
    if noise:
        _, ntrace = run_groups(cfg, name, [g for _, g in noise], [NOISE_GROUP + i for i, _ in noise],
                               problem(name).x_star, np.union1d(grid, decade_grid(cfg.steps)), average_at=[])
        rows, per = [], []
        decade = np.isin(ntrace.k, decade_grid(cfg.steps))
        for gi, (_, (sched, step, _)) in enumerate(noise):
            gaps = ntrace.gap_last[:, gi * cfg.chains:(gi + 1) * cfg.chains]
            m, lo, hi = stats.mean_ci_columns(gaps.T)
            rows += [dict(problem=name, schedule=sched, step=step, k=int(k), gap=m[t], gap_ci_low=lo[t],
                          gap_ci_high=hi[t]) for t, k in enumerate(ntrace.k)]
            per += [dict(problem=name, schedule=sched, chain=c, k=int(k), gap=gaps[t, c])
                    for t in np.flatnonzero(decade) for c, k in [(c, ntrace.k[t]) for c in range(cfg.chains)]]
        tables |= {"noise": pd.DataFrame(rows), "noise_chains": pd.DataFrame(per)}
    # full-batch GD with step 1/L, beside the chains, stopped at round-off
    k, gaps = chains.run_gd(problem(name), torch.zeros(D), 1 / info["L"], cfg.steps, grid,
                            stop_below=1e-15 * max(1.0, abs(info["F_star"])))
    curves += [dict(problem=name, schedule="gd", step=1 / info["L"], k=int(kk), gap_last=gap, gap_last_ci_low=gap,
                    gap_last_ci_high=gap, gap_avg=np.nan, gap_avg_ci_low=np.nan, gap_avg_ci_high=np.nan,
                    grad_sq=np.nan, sum_alpha=np.nan, sum_alpha2=np.nan) for kk, gap in zip(k, gaps)]
    return tables | {"curves": pd.DataFrame(curves), "chains": pd.DataFrame(per_chain)}


def batch_unit(cfg: Config, b: int) -> dict[str, pd.DataFrame]:
    """Plateau and gradient variance at x* for one mini-batch size b (ls_iso, h = h_max/4)."""
    p, h = problem("ls_iso"), describe("ls_iso")["h_max"] / 4
    seeds = chain_seeds(cfg, 9, list(cfg.batch_sizes).index(b))
    trace = chains.run_chains(p, torch.zeros(D), chains.Schedule.constant(h), seeds, cfg.batch_steps, batch=b,
                              log_at=np.union1d(plateau_window(cfg.batch_steps), [round(cfg.batch_steps / 10)]))
    # variance of the mini-batch gradient at x*, where ∇F = 0: fresh draws from each chain's stream
    idx = torch.from_numpy(chains.chain_indices(seeds + 5 * 10**8, 0, cfg.variance_draws, b, p.n))
    rows_x = p.A[idx]  # (C, draws, b, d)
    resid = (rows_x @ p.x_star) - p.y[idx]
    g = (rows_x * resid.unsqueeze(-1)).mean(2)  # (C, draws, d)
    variance = (g * g).sum(-1).mean(1).numpy()
    rows = chain_rows("ls_iso", "batch_sweep", h, trace, slice(None), cfg.batch_steps, batch=b,
                      grad_variance=variance)
    return {"chains": pd.DataFrame(rows)}


def theory_unit(cfg: Config, name: str) -> dict[str, pd.DataFrame]:
    """Exact stationary plateaus (least squares) or the exact noise part along h_max/√(k+1)."""
    p, info = problem(name), describe(name)
    th = sgd_theory.StationaryTheory(p.A, p.y)
    if name == "ls_flat":
        grid = np.union1d(log_grid(cfg, cfg.steps), decade_grid(cfg.steps))
        sched = chains.Schedule(np.array([info["h_max"]]), np.array([1.0]), np.array([0.5]))
        exact = th.noise_path(sched.steps(0, cfg.steps)[:, 0], grid)
        return {"noise_theory": pd.DataFrame(dict(problem=name, schedule="inv_sqrt", k=grid, exact_noise=exact))}
    rows = []
    for f in cfg.step_factors:
        h = f * info["h_max"]
        rows.append(dict(problem=name, step=h, batch=1, exact_plateau=th.excess(h, 1),
                         small_step_plateau=small_step_plateau(th, h, 1)))
    if name == "ls_iso":
        h = info["h_max"] / 4
        rows += [dict(problem=name, step=h, batch=b, exact_plateau=th.excess(h, b),
                      small_step_plateau=small_step_plateau(th, h, b)) for b in cfg.batch_sizes if b > 1]
    return {"theory": pd.DataFrame(rows)}


def small_step_plateau(th, h: float, b: int) -> float:
    """First order in h: HΣ + ΣH = hQ/b, so ½ tr(HΣ) = h tr(Q) / (4b): the linear law C1 tests."""
    return h * float(np.trace(th.Q)) / (4 * b)


# --- the claims ------------------------------------------------------------------------------

def chain_matrix(table: pd.DataFrame, column: str, by: str, **where) -> tuple[np.ndarray, np.ndarray]:
    """(levels of ``by``, (chains, levels) array of ``column``)."""
    part = stats.select(table, **where)
    return np.sort(part[by].unique()).astype(float), stats.per_seed(part, column, by=by, seed="chain")


def slope_of_means(x: np.ndarray):
    """The statistic: log-log slope of the chain means against x (bootstrapped over chains)."""
    fit = loglog_fit(x)
    return lambda sample: fit(sample.mean(0))


def mean_of_means(sample: np.ndarray) -> float:
    return float(sample.mean(0).mean())


def ratio_of_means(sample: np.ndarray) -> float:
    return float(sample[:, 0].mean() / sample[:, 1].mean())


def growth_of_ratio(sample: np.ndarray) -> float:
    """(mean last / mean average at K) / (the same at K/10); columns last_K, avg_K, last_K/10, avg_K/10."""
    m = sample.mean(0)
    return float((m[0] / m[1]) / (m[2] / m[3]))


def plateau_slope(per_chain: pd.DataFrame, name: str, h_max: float, largest: float, boot: int) -> Estimate:
    part = stats.select(per_chain, problem=name, schedule="constant", batch=1)
    part = part[part.step <= largest * h_max * (1 + 1e-9)]
    h, q = chain_matrix(part, "plateau", "step")
    return stats.bootstrap_ci(q, slope_of_means(h), n_boot=boot)


def scaled(est: Estimate, by: float) -> Estimate:
    return Estimate(est.value / by, est.ci_low / by, est.ci_high / by)


def bound(curves: pd.DataFrame, problems: pd.DataFrame, schedule: str) -> pd.DataFrame:
    """The lecture's (R² + G² Σα_i²) / (2 Σα_i) at every curve point of ``schedule``
    (R²/(2h(k+1)) + G²h/2 for a constant step), G² the group's largest chain-mean ‖ĝ_k‖²."""
    part = curves[curves.schedule == schedule].merge(problems[["problem", "R"]], on="problem")
    g2 = part.groupby(["problem", "step"]).grad_sq.transform("max")
    return part.assign(G2=g2, bound=(part.R**2 + g2 * part.sum_alpha2) / (2 * part.sum_alpha))


def gd_bound(curves: pd.DataFrame, problems: pd.DataFrame) -> pd.DataFrame:
    """GD's gap over its theorem's bound L R²/(2k) at every logged k ≥ 1."""
    gd = curves[(curves.schedule == "gd") & (curves.k >= 1)].merge(problems[["problem", "L", "R"]], on="problem")
    return gd.assign(bound=gd.L * gd.R**2 / (2 * gd.k), ratio=lambda t: t.gap_last / t.bound)


def noise_slope(noise_chains: pd.DataFrame, name: str, schedule: str, boot: int) -> Estimate:
    k, gaps = chain_matrix(noise_chains, "gap", "k", problem=name, schedule=schedule)
    return stats.bootstrap_ci(gaps, slope_of_means(k), n_boot=boot)


def ratio_worst(estimates: list[Estimate]) -> Estimate:
    """The estimate of a measured / exact ratio farthest from 1."""
    return max(estimates, key=lambda e: abs(math.log(e.value)))


def estimate(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, Estimate]:
    problems, curves, per_chain = tables["problems"], tables["curves"], tables["chains"]
    h_max = dict(zip(problems.problem, problems.h_max))
    out = {cid: plateau_slope(per_chain, name, h_max[name], SMALL_H, cfg.boot) for cid, name in C1_PROBLEMS.items()}
    out["C1e"] = stats.worst([plateau_slope(per_chain, name, h_max[name], 1.0, cfg.boot)
                              for name in C1_PROBLEMS.values()], largest=False)

    # C1d: measured / exact, the (design, h) farthest from 1
    ratios = []
    for row in tables["theory"][tables["theory"].batch == 1].itertuples():
        part = stats.select(per_chain, problem=row.problem, schedule="constant", batch=1)
        ratios.append(scaled(stats.mean_ci(part[np.isclose(part.step, row.step)].plateau), row.exact_plateau))
    out["C1d"] = ratio_worst(ratios)

    # C2a: averaged iterate against the bound, every problem, h and logged k
    b = bound(curves, problems, "constant").dropna(subset=["gap_avg"])
    out["C2a"] = stats.worst([scaled(Estimate(r.gap_avg, r.gap_avg_ci_low, r.gap_avg_ci_high), r.bound)
                              for r in b.itertuples()])

    # C2b: the aside where it applies: decaying schedules, the step-weighted average, at K
    decaying = per_chain[per_chain.schedule.isin(DIMINISHING)]
    out["C2b"] = stats.worst([stats.bootstrap_ci(part.sort_values("chain")[["final_last", "final_avg"]].to_numpy(),
                                                 ratio_of_means, n_boot=cfg.boot)
                              for _, part in decaying.groupby(["problem", "schedule"])])

    # C2c: at a constant step the ratio last / average grows from K/10 to K (least squares)
    const = per_chain[(per_chain.schedule == "constant") & (per_chain.batch == 1)
                      & per_chain.problem.isin(LEAST_SQUARES)]
    columns = ["final_last", "final_avg", "tenth_last", "tenth_avg"]
    out["C2c"] = stats.worst([stats.bootstrap_ci(part.sort_values("chain")[columns].to_numpy(), growth_of_ratio,
                                                 n_boot=cfg.boot)
                              for _, part in const.groupby(["problem", "step"])], largest=False)

    # C3: slope of steps-to-plateau vs h per problem; the least negative
    out["C3"] = stats.worst([Estimate(r.slope, r.ci_low, r.ci_high) for r in tables["reach_slopes"].itertuples()])

    # C4: diminishing final gap / lowest constant plateau, worst over problems and schedules
    c4 = []
    for name in CONSTANT_PROBLEMS:
        part = stats.select(per_chain, problem=name, batch=1)
        const_p = part[part.schedule == "constant"]
        lowest = const_p[const_p.step == const_p.step.min()].sort_values("chain").plateau.to_numpy()
        for sched in DIMINISHING:
            final = part[part.schedule == sched].sort_values("chain").final_last.to_numpy()
            c4.append(stats.bootstrap_ci(np.c_[final, lowest], ratio_of_means, n_boot=cfg.boot))
    out["C4"] = stats.worst(c4)

    # C5: slopes against b
    batch = stats.select(per_chain, problem="ls_iso", schedule="batch_sweep")
    bs, var = chain_matrix(batch, "grad_variance", "batch")
    out["C5a"] = stats.bootstrap_ci(var, slope_of_means(bs), n_boot=cfg.boot)
    bs, plat = chain_matrix(batch, "plateau", "batch")
    out["C5b"] = stats.bootstrap_ci(plat, slope_of_means(bs), n_boot=cfg.boot)

    # C6: bounds at every k, and the exponents of the noise part over the last decade
    out["C6a"] = Estimate.exact(gd_bound(curves, problems).ratio.max())
    noise_chains = tables["noise_chains"]
    out["C6b"] = noise_slope(noise_chains, "ls_flat", "inv_sqrt", cfg.boot)
    out["C6c"] = noise_slope(noise_chains, "logistic_l2", "inv", cfg.boot)
    b6 = bound(curves, problems, "inv_sqrt").dropna(subset=["gap_avg"])
    out["C6d"] = stats.worst([scaled(Estimate(r.gap_avg, r.gap_avg_ci_low, r.gap_avg_ci_high), r.bound)
                              for r in b6.itertuples()])
    out["C6e"] = noise_slope(noise_chains, "logistic_l2", "inv_sqrt", cfg.boot)
    k, gaps = chain_matrix(noise_chains, "gap", "k", problem="ls_flat", schedule="inv_sqrt")
    exact = stats.select(tables["noise_theory"], problem="ls_flat", schedule="inv_sqrt").set_index("k").exact_noise
    out["C6f"] = stats.bootstrap_ci(gaps / exact.loc[k.astype(int)].to_numpy(), mean_of_means, n_boot=cfg.boot)
    return out


# --- the figures -----------------------------------------------------------------------------

LABELS = {"ls_iso": "least squares, isotropic", "ls_ill": "least squares, κ = 10", "logistic": "logistic",
          "logistic_l2": "logistic + L2", "ls_flat": "least squares, spectrum 1 → 1e-5"}
SCHEDULE_LABELS = {"inv_sqrt": "h_max/√(k+1)", "inv": "α₀/(k+k₀)"}


def _positive_k(frame: pd.DataFrame, column: str | None = None) -> pd.DataFrame:
    """Rows with k ≥ 1 (and ``column`` evaluated), in k order."""
    keep = frame.k >= 1
    if column is not None:
        keep &= frame[column].notna()
    return frame[keep].sort_values("k")


def figure_gap_vs_k(tables, cfg):
    """Gap vs k for each constant h, with the running average and the lecture's bound."""
    import matplotlib.pyplot as plt

    b = bound(tables["curves"], tables["problems"], "constant")
    curves = tables["curves"]
    fig, axes = plt.subplots(2, 2, figsize=(13, 9), squeeze=False)
    for ax, name in zip(axes.ravel(), CONSTANT_PROBLEMS):
        steps = sorted(b[b.problem == name].step.unique())
        colours = plt.cm.viridis(np.linspace(0, 0.9, len(steps)))
        for h, colour in zip(steps, colours):
            part = _positive_k(b[(b.problem == name) & (b.step == h)])
            plots.band(ax, part.k, part.gap_last, part.gap_last_ci_low, part.gap_last_ci_high,
                       label=f"h = {h:.3g}", color=colour)
            avg = _positive_k(part, "gap_avg")
            ax.plot(avg.k, avg.gap_avg, color=colour, ls=":", lw=1)
            ax.plot(part.k, part.bound, color=colour, ls="--", lw=1)
            ax.axhline(part.G2.iloc[0] * h / 2, color=colour, lw=0.6, alpha=0.5)
        gd = _positive_k(curves[(curves.problem == name) & (curves.schedule == "gd")])
        ax.plot(gd.k, gd.gap_last.clip(lower=1e-16), color="black", lw=1.2, label="GD, step 1/L")
        ax.set(xscale="log", yscale="log", xlabel="step k", ylabel="F(x_k) − F*", title=LABELS[name],
               ylim=(max(1e-7, float(b[b.problem == name].gap_avg.min()) / 3), None))
        ax.legend(fontsize=7, loc="lower left")
    fig.suptitle("Last iterate (solid, 95% band), running average (dotted), lecture bound (dashed), "
                 "G²h/2 (thin)", y=1.0)
    fig.tight_layout()
    return fig


def figure_plateau_vs_h(tables, cfg):
    """Plateau vs h (measured, exact, first order), and plateau / h: the curvature C1e reports."""
    import matplotlib.pyplot as plt

    per_chain, exact, problems = tables["chains"], tables["theory"], tables["problems"]
    h_max = dict(zip(problems.problem, problems.h_max))
    const = per_chain[(per_chain.schedule == "constant") & (per_chain.batch == 1)]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
    for colour, name in zip(plots.PALETTE, CONSTANT_PROBLEMS):
        h, q = chain_matrix(const, "plateau", "step", problem=name)
        m, lo, hi = stats.mean_ci_columns(q)
        f = h / h_max[name]
        ax1.errorbar(f, m, yerr=[m - lo, hi - m], fmt="o", color=colour, label=f"{LABELS[name]} (measured)")
        ax2.errorbar(f, m / h, yerr=[(m - lo) / h, (hi - m) / h], fmt="o", color=colour, label=LABELS[name])
        th = exact[(exact.problem == name) & (exact.batch == 1)].sort_values("step")
        if len(th):
            ax1.plot(th.step / h_max[name], th.exact_plateau, color=colour, lw=1.5, label=f"{LABELS[name]}: exact theory")
            ax1.plot(th.step / h_max[name], th.small_step_plateau, color=colour, lw=1, ls=":",
                     label=f"{LABELS[name]}: first order h·tr(Q)/4")
            ax2.plot(th.step / h_max[name], th.exact_plateau / th.step, color=colour, lw=1.5)
            ax2.plot(th.step / h_max[name], th.small_step_plateau / th.step, color=colour, lw=1, ls=":")
    for ax in (ax1, ax2):
        ax.axvspan(SMALL_H * 1.02, 1.1, color="grey", alpha=0.1, lw=0)
        ax.axvline(SMALL_H, color="grey", ls="--", lw=0.8)
        ax.set(xscale="log", xlabel="step h / h_max")
    ax1.set(yscale="log", ylabel="plateau of F(x_k) − F*",
            title="The uncertainty region grows with the step (C1a–c fit left of the dashed line)")
    ax2.set(yscale="log", ylabel="plateau / h",
            title="plateau / h: flat to first order, rising near h_max (C1e)")
    ax1.legend(fontsize=7)
    ax2.legend(fontsize=7, title="lines: exact (solid), first order (dotted)", title_fontsize=7)
    fig.tight_layout()
    return fig


def figure_schedules(tables, cfg):
    """Decaying against constant steps and GD on every problem."""
    import matplotlib.pyplot as plt

    curves = tables["curves"]
    fig, axes = plt.subplots(2, 3, figsize=(16, 9), squeeze=False)
    for ax, name in zip(axes.ravel(), PROBLEMS):
        part = curves[curves.problem == name]
        for sched, colour in zip(DIMINISHING, plots.PALETTE):
            s = _positive_k(part[part.schedule == sched])
            if len(s):
                plots.band(ax, s.k, s.gap_last, s.gap_last_ci_low, s.gap_last_ci_high, label=SCHEDULE_LABELS[sched],
                           color=colour)
        const_steps = sorted(part[part.schedule == "constant"].step.unique())
        for h, ls in zip(const_steps[:: max(1, len(const_steps) - 1)], (":", "--")):
            s = _positive_k(part[(part.schedule == "constant") & (part.step == h)])
            ax.plot(s.k, s.gap_last, color="grey", ls=ls, label=f"constant h = {h:.3g}")
        gd = _positive_k(part[part.schedule == "gd"])
        ax.plot(gd.k, gd.gap_last.clip(lower=1e-16), color="black", label="GD, step 1/L")
        ax.set(xscale="log", yscale="log", xlabel="step k", ylabel="F(x_k) − F* (last iterate)", title=LABELS[name],
               ylim=(max(1e-9, float(part.gap_last[part.gap_last > 0].min())), None))
        ax.legend(fontsize=7, loc="lower left")
    axes[1, 2].axis("off")
    fig.suptitle("Diminishing steps keep converging below the constant-step plateaus (C4)", y=1.0)
    fig.tight_layout()
    return fig


def figure_plateau_vs_b(tables, cfg):
    """Mini-batches: gradient variance and plateau vs b."""
    import matplotlib.pyplot as plt

    per_chain, exact = tables["chains"], tables["theory"]
    batch = stats.select(per_chain, problem="ls_iso", schedule="batch_sweep")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, column, title in ((ax1, "grad_variance", "E‖ĝ(x*)‖² (gradient variance at the optimum)"),
                              (ax2, "plateau", "plateau at h = h_max/4")):
        bs, q = chain_matrix(batch, column, "batch")
        m, lo, hi = stats.mean_ci_columns(q)
        ax.errorbar(bs, m, yerr=[m - lo, hi - m], fmt="o", label="measured")
        ax.plot(bs, m[0] / bs, color="grey", ls=":", label="∝ 1/b")
        ax.set(xscale="log", yscale="log", xlabel="mini-batch size b", title=title)
    h = float(batch.step.iloc[0])
    th = exact[(exact.problem == "ls_iso") & np.isclose(exact.step, h)].sort_values("batch")
    ax2.plot(th.batch, th.exact_plateau, color=plots.PALETTE[1], label="exact theory")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def figure_averaging(tables, cfg):
    """Last iterate / averaged iterate against k: constant steps (grows, C2c) and decaying (C2b)."""
    import matplotlib.pyplot as plt

    curves = tables["curves"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
    styles = {"ls_iso": "-", "ls_ill": "--"}
    for name, ls in styles.items():
        part = curves[(curves.problem == name) & (curves.schedule == "constant")]
        steps = sorted(part.step.unique())
        for h, colour in zip(steps, plt.cm.viridis(np.linspace(0, 0.9, len(steps)))):
            s = _positive_k(part[part.step == h], "gap_avg")
            ax1.plot(s.k, s.gap_last / s.gap_avg, color=colour, ls=ls,
                     label=f"{name}, h/h_max = {h / steps[-1]:.3g}")
    kmax = curves.k.max()
    ax1.axhline(1, color="black", lw=0.8)
    ax1.axvspan(kmax / 10, kmax, color="grey", alpha=0.1, lw=0, label="C2c: growth over [K/10, K]")
    ax1.set(xscale="log", yscale="log", xlabel="step k", ylabel="gap of last iterate / of average",
            title="Constant step: the average keeps converging (Bach & Moulines)")
    ax1.legend(fontsize=6, ncol=2)
    for (name, colour) in zip(PROBLEMS, plots.PALETTE):
        for sched, ls in (("inv_sqrt", "-"), ("inv", "--")):
            s = _positive_k(curves[(curves.problem == name) & (curves.schedule == sched)], "gap_avg")
            if len(s):
                ax2.plot(s.k, s.gap_last / s.gap_avg, color=colour, ls=ls,
                         label=f"{LABELS[name]}, {SCHEDULE_LABELS[sched]}")
    ax2.axhline(1.1, color="red", lw=0.8, ls=":", label="C2b rule: ≤ 1.1 at K")
    ax2.axvline(kmax, color="grey", lw=0.8)
    ax2.set(xscale="log", yscale="log", xlabel="step k", ylabel="gap of last iterate / of step-weighted average",
            title="Decaying steps: the last point is no worse (the lecture's aside)")
    ax2.legend(fontsize=6)
    fig.tight_layout()
    return fig


def figure_rates(tables, cfg):
    """C6: gaps over the theorems' bounds at every k, and the noise part's decay."""
    import matplotlib.pyplot as plt

    curves, problems = tables["curves"], tables["problems"]
    gd = gd_bound(curves, problems)
    sgd = bound(curves, problems, "inv_sqrt")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5.2))
    for name, colour in zip(PROBLEMS, plots.PALETTE):
        g = gd[gd.problem == name].sort_values("k")
        ax1.plot(g.k, g.ratio, color=colour, label=f"GD / (L R²/(2k)), {LABELS[name]}")
        s = _positive_k(sgd[sgd.problem == name], "gap_avg")
        ax1.plot(s.k, s.gap_avg / s.bound, color=colour, ls="--", label="  SGD h_max/√(k+1), x̂ / lecture bound")
    ax1.axhline(1, color="red", lw=1, label="bound (C6a, C6d: ≤ 1)")
    ax1.set(xscale="log", yscale="log", xlabel="step k", ylabel="gap / theorem's bound",
            title="Gaps over the theorems' bounds at every k", ylim=(1e-6, 3))
    ax1.legend(fontsize=6, ncol=2, loc="lower left")
    noise, exact = tables["noise"], tables["noise_theory"]
    kmax = noise.k.max()
    for (name, sched), colour in zip([("ls_flat", "inv_sqrt"), ("logistic_l2", "inv_sqrt"), ("logistic_l2", "inv")],
                                     plots.PALETTE):
        s = _positive_k(noise[(noise.problem == name) & (noise.schedule == sched)])
        plots.band(ax2, s.k, s.gap, s.gap_ci_low, s.gap_ci_high, color=colour,
                   label=f"{LABELS[name]}, {SCHEDULE_LABELS[sched]} (measured)")
        kk = np.array([kmax / 10, kmax])
        end = float(s.gap.iloc[-1])
        rate = -0.5 if sched == "inv_sqrt" else -1.0
        ax2.plot(kk, end * (kk / kmax) ** rate, color=colour, lw=3, alpha=0.35)
    e = _positive_k(exact)
    ax2.plot(e.k, e.exact_noise, color="black", ls=":", label="ls_flat exact recursion")
    ax2.axvspan(kmax / 10, kmax, color="grey", alpha=0.1, lw=0, label="fit range [K/10, K]")
    ax2.set(xscale="log", yscale="log", xlabel="step k", ylabel="noise part: F − F* of SGD started at x*",
            title="The term the rates are about (thick: slopes −½ and −1)")
    ax2.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


FIGURES = [figure_gap_vs_k, figure_plateau_vs_h, figure_schedules, figure_plateau_vs_b, figure_averaging,
           figure_rates]


if __name__ == "__main__":
    raise SystemExit(cli.main_for(__file__))
