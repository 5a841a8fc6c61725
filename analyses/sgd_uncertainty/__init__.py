"""The SGD uncertainty region (claims C1–C6): constant-step plateaus against h, the lecture's bound
and the last point, decaying schedules, mini-batches and rates, measured with vectorised SGD
chains on five convex finite sums (d = 20, n = 10⁴) beside the exact moment theory."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dlclaims.suite import stats
from dlclaims.suite.claims import Amendment, Claim, Estimate, at_least, at_most, between, signature
from dlclaims.suite.contract import Tol, option

from . import averaging, batches, plateaus, rates
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
BELOW = at_most(1.0)  # a gap over a bound, or over the lowest plateau, at most 1 (C2a, C4, C6a, C6d)
NO_WORSE = at_most(1.1)  # C2b: "no worse": the last point's gap at most 10% above the average's
GROWS = at_least(1.0)  # C2c: the advantage of averaging larger at K than at K/10
SOONER = at_most(0.0)  # C3: steps to the plateau fall (or stay) as h grows
VARIANCE_BY_B = between(-1.05, -0.95)  # C5a: 1/b for a variance at x*, where nothing else enters
PLATEAU_BY_B = between(-1.1, -0.9)  # C5b: 1/b within C1's tolerance for ∝ h
ROOT_K = between(-0.65, -0.35)  # C6b: exponent −½ ± 0.15 of the noise part under h_max/√(k+1)
ONE_OVER_K = between(-1.2, -0.8)  # C6c: exponent −1 ± 0.2 of the noise part under α₀/(k+k₀)
SLOWER_THAN_1_OVER_K = at_least(ONE_OVER_K.hi)  # C6e: the negative control lands above C6c's region

CLAIMS = [
    Claim("C1a", "lecture",
          "With constant step h the SGD plateau is proportional to h for small h (first order in h; least squares, "
          "isotropic)",
          "log-log slope of the last-iterate plateau vs h, over h ≤ h_max/4 (ls_iso)", PROPORTIONAL),
    Claim("C1b", "lecture", "... and on an ill-conditioned design (κ = 10)",
          "log-log slope of the plateau vs h, h ≤ h_max/4 (ls_ill)", PROPORTIONAL),
    Claim("C1c", "lecture", "... and for logistic regression, d = 20, n = 10⁴ (the lecture's example)",
          "log-log slope of the plateau vs h, h ≤ h_max/4 (logistic, no L2)", PROPORTIONAL),
    Claim("C1d", "derived", "The measured plateau matches the exact stationary theory at every h (least squares)",
          "measured / exact plateau, the (design, h) farthest from 1", MATCHES),
    Claim("C1e", "derived",
          "Proportionality is first order: over the whole step grid up to h_max the plateau grows faster than h",
          "log-log slope of the plateau vs h over all h ≤ h_max, the smallest over ls_iso, ls_ill, logistic",
          CURVED),
    Claim("C2a", "lecture",
          "E F(x̂_k) − F* ≤ R²/(2h(k+1)) + G²h/2 at every k (x̂ the running average, R and G measured)",
          "largest chain-mean gap of the averaged iterate / bound over problems, h and logged k", BELOW),
    Claim("C2b", "lecture",
          "In practice the last point is no worse than the (step-weighted) average of the bound, for a decaying "
          "schedule at the declared horizon K",
          "gap of the last iterate / of the step-weighted average at K, h_max/√(k+1) and α₀/(k+k₀), "
          "worst (problem, schedule)", NO_WORSE),
    Claim("C2c", "derived",
          "At a constant step the average keeps converging and the last iterate does not: averaging wins by a "
          "factor that grows with k (least squares, Bach & Moulines)",
          "(last / average gap at K) / (the same at K/10), the smallest over least-squares (problem, h)",
          GROWS),
    Claim("C3", "lecture", "Larger h reaches its plateau sooner",
          "log-log slope of steps-to-plateau vs h, the least negative over the four problems", SOONER),
    Claim("C4", "lecture", "Diminishing steps keep converging below every constant-step plateau of the same budget",
          "final last-iterate gap of h_max/√(k+1) or α₀/(k+k₀) / lowest constant-step plateau, worst case",
          BELOW),
    Claim("C5a", "lecture", "A mini-batch of b cuts the gradient variance by 1/b",
          "log-log slope of E‖ĝ(x*) − ∇F(x*)‖² vs b (ls_iso)", VARIANCE_BY_B),
    Claim("C5b", "lecture", "... and the plateau accordingly",
          "log-log slope of the plateau vs b at h = h_max/4 (ls_iso)", PLATEAU_BY_B),
    Claim("C6a", "lecture", "Full-batch GD converges as O(1/k) on a convex problem: F(x_k) − F* ≤ L R²/(2k)",
          "largest gap / (L R²/(2k)) over logged k ≥ 1 and all five problems, GD with step 1/L", BELOW),
    Claim("C6b", "lecture", "SGD converges as O(1/√k) on a convex problem: the noise part decays as 1/√k",
          "log-log slope of the noise part (chains from x*) over k ∈ [K/10, K], h_max/√(k+1) (ls_flat)",
          ROOT_K),
    Claim("C6c", "lecture", "SGD converges as O(1/k) on a strongly convex problem (logistic regression with L2)",
          "log-log slope of the noise part (chains from x*) over k ∈ [K/10, K], α₀/(k+k₀) (logistic_l2)",
          ONE_OVER_K),
    Claim("C6d", "lecture",
          "SGD with h/√(k+1) stays under the lecture's bound (R² + G²Σα²)/(2Σα) at every k (the O(1/√k) theorem)",
          "largest chain-mean gap of the step-weighted average / bound over logged k and all five problems, "
          "h_max/√(k+1)", BELOW),
    Claim("C6e", "derived",
          "Negative control: C6c's 1/k rule rejects h_max/√(k+1) on the same problem (its noise part decays slower)",
          "log-log slope of the noise part over k ∈ [K/10, K], h_max/√(k+1) (logistic_l2); C6c's region is "
          "[-1.2, -0.8]", SLOWER_THAN_1_OVER_K),
    Claim("C6f", "derived", "The measured noise part matches the exact moment recursion along the schedule",
          "measured / exact noise part, h_max/√(k+1) on ls_flat, mean over the logged k ∈ [K/10, K]",
          MATCHES),
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



# --- the measurement -------------------------------------------------------------------------

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
        return plateaus.constant_unit(cfg, unit["problem"])
    if part == "decaying":
        return averaging.decaying_unit(cfg, unit["problem"])
    if part == "batch":
        return batches.batch_unit(cfg, unit["batch"])
    if unit["problem"] == "ls_flat":
        return rates.exact_noise(cfg, unit["problem"])
    return plateaus.exact_plateaus(cfg, unit["problem"])


# --- the statistics: one line per claim ------------------------------------------------------

def estimate(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, Estimate]:
    return {
        "C1a": plateaus.slope_vs_h(tables, "ls_iso", SMALL_H, cfg.boot),
        "C1b": plateaus.slope_vs_h(tables, "ls_ill", SMALL_H, cfg.boot),
        "C1c": plateaus.slope_vs_h(tables, "logistic", SMALL_H, cfg.boot),
        "C1d": stats.every_group(plateaus.measured_over_exact(tables), MATCHES),
        "C1e": plateaus.smallest_slope_vs_h(tables, cfg.boot),
        "C2a": averaging.average_over_bound(tables, "constant"),
        "C2b": averaging.last_over_average_decaying(tables, cfg.boot),
        "C2c": averaging.smallest_growth_of_advantage(tables, cfg.boot),
        "C3": plateaus.least_negative_reach_slope(tables),
        "C4": averaging.decaying_over_lowest_plateau(tables, cfg.boot),
        "C5a": batches.slope_vs_b(tables, "grad_variance", cfg.boot),
        "C5b": batches.slope_vs_b(tables, "plateau", cfg.boot),
        "C6a": rates.gd_over_bound(tables),
        "C6b": rates.noise_slope(tables, "ls_flat", "inv_sqrt", cfg.boot),
        "C6c": rates.noise_slope(tables, "logistic_l2", "inv", cfg.boot),
        "C6d": averaging.average_over_bound(tables, "inv_sqrt"),
        "C6e": rates.noise_slope(tables, "logistic_l2", "inv_sqrt", cfg.boot),
        "C6f": rates.noise_over_exact(tables, "ls_flat", "inv_sqrt", cfg.boot),
    }


def facts(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, float | int | str]:
    """The numbers the method text cites beside the claims' own values."""
    return plateaus.facts(tables) | averaging.facts(tables) | rates.facts(tables, cfg)


# --- the figures -----------------------------------------------------------------------------

from . import figures  # noqa: E402  (after the rules above, which the figures draw)

FIGURES = [figures.figure_gap_vs_k, figures.figure_plateau_vs_h, figures.figure_schedules,
           figures.figure_plateau_vs_b, figures.figure_averaging, figures.figure_rates]
