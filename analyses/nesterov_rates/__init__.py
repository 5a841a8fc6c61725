"""Gradient descent vs Nesterov vs heavy ball (claims E1–E5): smooth convex rates on worst cases
built for each horizon, iterations against κ on quadratics and logistic regression, Lessard et
al.'s counterexample for heavy ball, the Nesterov forms against torch.optim, GD's step size
around 2/L. Float64 throughout; the method text is analyses/nesterov_rates.md."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from dlclaims.suite import stats
from dlclaims.suite.claims import Amendment, Claim, Estimate, Retired, at_least, at_most, within
from dlclaims.suite.contract import Tol, option

from . import forms, lessard, rates, step_sizes, worst_cases
from .figures import FIGURES  # noqa: F401 — the contract's figure list

TITLE = "Gradient descent vs Nesterov vs heavy ball: rates, worst cases, a counterexample"
LECTURE = """\
"Class of function: Smooth — GD O(1/T), NAG O(1/T²); Smooth & Strongly-Convex — GD
O(exp(−T/κ)), NAG O(exp(−T/√κ)) [...] L ≫ μ, the improvement becomes significant." "The
momentum method [...] Convergence rate? Unfortunately no... disprove it in your homework."
"η = 1/L (optimal). Remark: any 0 < η < 2/L decreases f(x)." (003). "Change of variables
W̃_t = W_t + ρ v_t: v_{t+1} = ρ v_t + α∇L(W̃_t), W̃_{t+1} = W̃_t + v_{t+1} + ρ(v_{t+1} − v_t)" (000)."""

# --- claims, declared before the run ----------------------------------------------------------

SLOPE_MIN_T = 16              # E1's slopes fit T ≥ 16: past the small-T transient of the worst cases
RATE_SLACK = 0.1              # E1: a worst-case slope within ±10% of the exponent (−1, −2) is that rate
KAPPA_SLACK = 0.1             # E2: an iteration slope within ±0.1 of 1 or ½ (ln(1/ε) and end effects bend it)
BOUND = 1.0                   # E1c, E1d: the gap may reach its textbook bound, never pass it (theorems)
CLOSED_FORM = 1e-9            # E1f: a closed form reproduced to float64 rounding over a thousand steps
MOST = 0.9                    # E3a, E5: "it does" is at least 90% of random starts or runs (Wilson bound)
CONVERGED = 1e-10             # E3b: the final gap f − f* of a method that converges, rounding aside
IDENTICAL = 1e-12             # E4: two forms of one recursion agree to rounding over a thousand steps

RATE_WHY = ("±10% of the exponent: GD's −1 and NAG's −2 lie 100% apart, so the band names one rate and "
            "excludes the other, with room for the finite-T bend of worst cases built anew for each T")
KAPPA_WHY = ("±0.1 on the exponent of κ: GD's 1 and NAG's ½ stay 0.3 apart beyond both bands; the ln(1/ε) "
             "factor and the end effects of counting iterations bend a finite-κ slope by a few hundredths")

WORST_INSTANCES = "Nesterov's quadratic, 1-D quadratics, 1-D Huber functions"

E1_SETUP = ("max_horizon", "horizons", "grid_1d", "grid_huber")
QUADRATIC_SETUP = ("kappa_max", "kappas", "eps", "seeds", "quad_dim")
LOGISTIC_SETUP = ("kappa_max", "kappas", "eps", "seeds", "logistic_n", "logistic_d")

CLAIMS = [
    Claim("E1a", "lecture", "Smooth convex: GD's worst-case gap falls like 1/T",
          f"log-log slope of GD's worst-case gap (largest over {WORST_INSTANCES}) vs horizon T (T ≥ {SLOPE_MIN_T}), "
          "OLS 95% CI", within(-1, RATE_SLACK, RATE_WHY), setup=E1_SETUP),
    Claim("E1b", "lecture", "Smooth convex: NAG's worst-case gap falls like 1/T²",
          f"log-log slope of NAG's worst-case gap (largest over {WORST_INSTANCES}) vs horizon T (T ≥ {SLOPE_MIN_T}), "
          "OLS 95% CI", within(-2, 2 * RATE_SLACK, RATE_WHY), setup=E1_SETUP),
    Claim("E1c", "check", "GD stays under its bound L R²/(2T) at every T (the lecture's O(1/T), textbook constant)",
          f"largest GD gap / (L R²/(2T)) over horizons and worst cases ({WORST_INSTANCES})", at_most(BOUND),
          setup=E1_SETUP),
    Claim("E1d", "check", "NAG stays under its bound 2 L R²/(T+1)² at every T (the lecture's O(1/T²), textbook "
          "constant)",
          f"largest NAG gap / (2 L R²/(T+1)²) over horizons and worst cases ({WORST_INSTANCES})", at_most(BOUND),
          setup=E1_SETUP),
    Claim("E1f", "check", "GD's worst 1-D Huber gap is Drori & Teboulle's exact worst case L R²/(4T+2)",
          "largest |gap / (L R²/(4T+2)) − 1| over horizons, GD on the worst 1-D Huber function",
          at_most(CLOSED_FORM), setup=("max_horizon", "horizons", "grid_huber")),
    Claim("E2a", "lecture", "Strongly convex quadratics: GD needs iterations ∝ κ",
          "log-log slope of iterations to relative gap ε vs κ, GD, mean over seeds",
          within(1, KAPPA_SLACK, KAPPA_WHY), setup=QUADRATIC_SETUP),
    Claim("E2b", "lecture", "Strongly convex quadratics: NAG needs iterations ∝ √κ",
          "log-log slope of iterations vs κ, NAG, mean over seeds", within(0.5, KAPPA_SLACK, KAPPA_WHY),
          setup=QUADRATIC_SETUP),
    Claim("E2c", "derived", "Strongly convex quadratics: heavy ball (Polyak's parameters) needs iterations ∝ √κ",
          "log-log slope of iterations vs κ, heavy ball, mean over seeds", within(0.5, KAPPA_SLACK, KAPPA_WHY),
          setup=QUADRATIC_SETUP),
    Claim("E2d", "lecture", "L2-regularised logistic regression: GD needs iterations ∝ κ",
          "log-log slope of iterations vs κ, GD, mean over seeds", within(1, KAPPA_SLACK, KAPPA_WHY),
          setup=LOGISTIC_SETUP),
    Claim("E2e", "lecture", "L2-regularised logistic regression: NAG needs iterations ∝ √κ",
          "log-log slope of iterations vs κ, NAG, mean over seeds", within(0.5, KAPPA_SLACK, KAPPA_WHY),
          setup=LOGISTIC_SETUP),
    Claim("E3a", "lecture", "Heavy ball with quadratic-optimal parameters has no global guarantee: it cycles on "
          "Lessard et al.'s strongly convex function from x₀ ∈ [3.07, 3.32]",
          "fraction of random starts ending in a limit cycle (period ≥ 2, amplitude > 0.01), Wilson CI",
          at_least(MOST), setup=("lessard_starts", "lessard_steps")),
    Claim("E3b", "derived", "NAG and GD converge on the same function from the same starts",
          "largest final gap f − f* over starts, NAG and GD", at_most(CONVERGED),
          setup=("lessard_starts", "lessard_steps")),
    Claim("E4a", "check", "The change-of-variables form of Nesterov gives the same iterates as the look-ahead forms",
          "max |W̃ difference| over 1000 steps, coordinates, seeds, constant β and the convex schedule",
          at_most(IDENTICAL), setup=("torch_steps", "seeds")),
    Claim("E4b", "check", "... and as torch.optim.SGD(momentum=β, nesterov=True) with lr = α",
          "max |W̃ − θ_torch| over 1000 steps, coordinates and seeds", at_most(IDENTICAL),
          setup=("torch_steps", "seeds")),
    Claim("E5a", "lecture", "GD with 0 < η < 2/L decreases f at every step",
          "fraction of (η < 2/L, seed) runs with f_{k+1} < f_k at every step, Wilson CI", at_least(MOST),
          setup=("eta_steps", "eta_seeds")),
    Claim("E5b", "derived", "GD with η > 2/L diverges",
          "fraction of (η > 2/L, seed) runs that diverge, Wilson CI", at_least(MOST),
          setup=("eta_steps", "eta_seeds")),
]
STATISTIC = {c.id: c.statistic for c in CLAIMS}

_E2_WHY = ("changed after a first quick run, before the first committed baseline (commit 9aa69ab): from "
           "x₀ ~ N(0, I) the slowest mode holds a share ∝ 1/κ of the initial gap, so iterations to relative ε "
           "count about κ·ln(1/(εκ)) for GD (local slope ≈ 0.86 at κ = 10³, ε = 10⁻⁶; quick run 0.89 on "
           "quadratics, 0.88 on logistic): the statistic mixed the rate with the start. Balanced starts give "
           "every eigen-mode a κ-independent share of the gap; the isotropic runs are still reported")
_E2_ROWS = {"E2a": ("GD", "quadratics", "[0.9, 1.1]"), "E2b": ("NAG", "quadratics", "[0.4, 0.6]"),
            "E2c": ("heavy ball", "quadratics", "[0.4, 0.6]"), "E2d": ("GD", "logistic", "[0.9, 1.1]"),
            "E2e": ("NAG", "logistic", "[0.4, 0.6]")}
_E1_WHY = ("E1 measured GD only on quadratics, where its gap is at most 1/(2e) = 0.18 of the bound, "
           "so the bound rows could not come near their boundary. GD's exact worst case over L-smooth convex "
           "functions is a Huber function (Drori & Teboulle 2014), which is now one of the worst cases, and the "
           "worst-case gap at each T is the largest over every instance")
_OLD_WORST = "over horizons and both worst cases"

# was → now: the committed claims.csv before and after each change (git history of results/nesterov-rates)
_E2_NOW = {"E2a": "0.9927 [0.9826, 1.003] holds", "E2b": "0.5167 [0.5099, 0.5235] holds",
           "E2c": "0.5598 [0.5472, 0.5724] holds", "E2d": "1.001 [0.9983, 1.003] holds",
           "E2e": "0.5196 [0.517, 0.5222] holds"}
_THEOREM = ("a theorem bound measured against itself (the textbook guarantee at η = 1/L over every worst case): "
            "it can only fail through a bug in a method, an instance or the bound, so it is a check; the "
            "lecture's rate is judged by the slope, E1a and E1b")

AMENDMENTS = [
    *[Amendment(cid, "2026-11-22",
                old=f"log-log slope of iterations to relative gap ε vs κ, {m}, {p}, from x₀ ~ N(0, I) | in {region}",
                new=f"log-log slope of iterations to relative gap ε vs κ, {m}, {p}, from a balanced start "
                    f"(every eigen-mode a κ-independent share of the gap) | in {region}",
                why=_E2_WHY, was="not recorded (no baseline before it; a quick run gave GD 0.89 on quadratics, "
                                 "0.88 on logistic)" if m == "GD" else "not recorded (no baseline before it)",
                now=_E2_NOW[cid]) for cid, (m, p, region) in _E2_ROWS.items()],
    Amendment("E1a", "2026-11-23",
              old="log-log slope of the worst 1-D quadratic gap vs horizon T (T ≥ 16), OLS 95% CI | in [-1.1, -0.9]",
              new=f"{STATISTIC['E1a']} | in [-1.1, -0.9]", why=_E1_WHY,
              was="-0.9969 [-0.9978, -0.9961] holds", now="-0.9939 [-0.9956, -0.9923] holds"),
    Amendment("E1b", "2026-11-23",
              old="log-log slope of NAG's gap on Nesterov's quadratic of dimension 2T+1 vs T (T ≥ 16) "
                  "| in [-2.2, -1.8]",
              new=f"{STATISTIC['E1b']} | in [-2.2, -1.8]", why=_E1_WHY,
              was="-1.962 [-1.971, -1.954] holds", now="-1.942 [-1.957, -1.927] holds"),
    Amendment("E1c", "2026-11-23", old=f"largest gap / (L R²/(2T)) {_OLD_WORST} | ≤ 1",
              new=f"{STATISTIC['E1c']} | ≤ 1",
              why=_E1_WHY + "; GD's gap now reaches 2T/(4T+2) → ½ of the bound, the most any function can: the "
                            "bound itself is a factor 2 loose at η = 1/L",
              was="0.1839 holds", now="0.4998 holds"),
    Amendment("E1d", "2026-11-23", old=f"largest gap / (2 L R²/(T+1)²) {_OLD_WORST} | ≤ 1",
              new=f"{STATISTIC['E1d']} | ≤ 1",
              why=_E1_WHY + "; on the Huber function NAG's gap comes within 0.3% of its bound at T = 1024",
              was="0.3378 holds", now="0.9971 holds"),
    Amendment("E1c", "2026-12-02", old="lecture", new="check", what="kind", why=f"GD's gap over L R²/(2T) is {_THEOREM}",
              was="0.4998 holds", now="0.4998 holds"),
    Amendment("E1d", "2026-12-02", old="lecture", new="check", what="kind",
              why=f"NAG's gap over 2 L R²/(T+1)² is {_THEOREM}", was="0.9971 holds", now="0.9971 holds"),
    Retired("E1e", "2026-12-02",
            why="E1e was E1d's ratio at the largest T times 64/3 (NAG's gap over 3 L R²/(32 (T+1)²) = its gap over "
                "2 L R²/(T+1)² × 64/3): its ceiling is E1d's bound again, and its floor 1 is Nesterov's lower-bound "
                "theorem, which the max over instances clears about 21 times over (the Huber function dominates), "
                "so it could not catch an error in Nesterov's quadratic either (the unit tests check that instance "
                "against the theorem). Retired rather than made a check: a second check of one number on another "
                "scale adds nothing; the ratio stays in the method text as a fact (nag_over_lower_bound). Its "
                "earlier amendment leaves the list with it (the contract keeps no entry for an undeclared row): "
                "on 2026-11-23 (commit 00c531a) its statistic moved from Nesterov's quadratic alone to the max over "
                "every worst case and its ceiling from 8 (no anchor) to the theory's 64/3, after a trial run of the "
                "Huber instance showed 21.3, which fails 8; kind derived, the lecture states no lower bound; value "
                "3.314 holds → 21.27 holds",
            was="21.27 holds"),
]

TOLERANCES = {
    "*": {"iterations": Tol(rtol=0.01, atol=1), "max_abs_diff": Tol(rtol=0, atol=1e-12),
          "iterations_slope": Tol(rtol=0, atol=0.01)},
    "claims": {"value": Tol(rtol=1e-4, atol=1e-12), "ci_low": Tol(rtol=1e-4, atol=1e-12),
               "ci_high": Tol(rtol=1e-4, atol=1e-12)},
}
DEFAULT_TOLERANCE = Tol(rtol=1e-6, atol=1e-12)


# --- config -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    max_horizon: int = option(1024, "largest horizon T for E1")
    horizons: int = 25              # E1's log grid of horizons from 4 to max_horizon
    fixed_dimension: int = 65       # the fixed Nesterov quadratic whose rate turns linear (figure only)
    kappa_max: float = option(1e4, "largest condition number for E2")
    kappas: int = 7                 # E2's log grid of κ from 10 to kappa_max
    eps: float = 1e-6               # E2: iterations until (f − f*)/(f(x₀) − f*) ≤ ε
    quad_dim: int = 50              # E2's quadratics: dimension
    logistic_n: int = 16            # E2's logistic regression: samples n < features d, so the data
    logistic_d: int = 32            #   Hessian has a null space whose curvature is exactly λ
    seeds: int = 10                 # E2's problems per κ; E4 compares forms on max(seeds // 2, 2)
    lessard_starts: int = 200       # E3's random starts
    lessard_steps: int = 2000       # E3's iterations: the last 100 decide cycle or convergence
    torch_steps: int = 1000         # E4's steps, every form
    eta_steps: int = 1000           # E5's steps N: a start weak on the top eigenvector needs them to diverge
    eta_seeds: int = 20             # E5's random quadratics per ηL
    grid_1d: int = 4001             # E1's log grid of curvatures λ ∈ (0, L] for the worst 1-D quadratic
    grid_huber: int = 2001          # E1's log grid of Huber kinks δ (plus Drori & Teboulle's δ for every T)
    # E2's seeds split into this many units per (problem, methods): 1 here (each step of a
    # batch costs about the same for 3 rows or 30), more on a cluster (FULL)
    seed_groups: int = 1


QUICK = Config(max_horizon=256, horizons=13, kappa_max=1e3, kappas=5, quad_dim=20, logistic_n=12,
               logistic_d=24, seeds=3, lessard_starts=50, lessard_steps=1000, eta_seeds=10, grid_1d=1001,
               grid_huber=501)
# The scale-out issue's run: longer horizons, larger κ, more seeds and starts (not run here).
FULL = Config(max_horizon=4096, horizons=37, kappa_max=1e5, kappas=9, seeds=30, lessard_starts=1000,
              eta_seeds=100, grid_1d=8001, grid_huber=4001, seed_groups=10)


def validate(cfg: Config) -> None:
    if cfg.max_horizon < 4 * SLOPE_MIN_T:
        raise ValueError(f"--max-horizon {cfg.max_horizon} is too short for a slope over T ≥ {SLOPE_MIN_T}; "
                         f"expected at least {4 * SLOPE_MIN_T}")
    if cfg.kappa_max < 100:
        raise ValueError(f"--kappa-max {cfg.kappa_max:g} is too small for a slope; expected at least 100")
    if cfg.seed_groups > cfg.seeds:
        raise ValueError(f"{cfg.seed_groups} seed groups for {cfg.seeds} seeds; expected at most one group a seed")


# --- measurement ------------------------------------------------------------------------------

def units(cfg: Config) -> list[dict]:
    """Slowest first (GD on E2: its loop runs to the largest κ; E4 with torch's optimiser, whose
    first use imports torch._dynamo, seconds), so two workers finish together."""
    groups = [f"{g[0]}-{g[-1]}" for g in np.array_split(np.arange(cfg.seeds), cfg.seed_groups)]
    return [*[dict(experiment="E2", problem="logistic", methods="gd", seeds=g) for g in groups],
            dict(experiment="E4", schedule="constant"),  # its first torch.optim.SGD imports torch._dynamo
            *[dict(experiment="E2", problem="quadratic", methods="gd", seeds=g) for g in groups],
            dict(experiment="E3"), dict(experiment="E1", part="nesterov_quadratic"),
            *[dict(experiment="E2", problem=p, methods="nag heavy_ball", seeds=g)
              for p in ("logistic", "quadratic") for g in groups],
            dict(experiment="E4", schedule="convex"), dict(experiment="E1", part="one_dimensional"),
            dict(experiment="E1", part="fixed_instance"), dict(experiment="E5"), dict(experiment="zigzag")]


def seed_range(label: str) -> range:
    """'3-5' → seeds 3, 4, 5."""
    first, last = (int(v) for v in label.split("-"))
    return range(first, last + 1)


def run_unit(cfg: Config, unit: dict) -> dict[str, pd.DataFrame]:
    experiment = unit["experiment"]
    if experiment == "E4":
        return {"nesterov_forms": forms.e4_forms(cfg, unit["schedule"])}  # torch.optim needs autograd on
    with torch.no_grad():
        if experiment == "E1":
            part = unit["part"]
            if part == "fixed_instance":
                return {"fixed_instance": worst_cases.e1_fixed_instance(cfg)}
            run = worst_cases.e1_nesterov_quadratic if part == "nesterov_quadratic" else worst_cases.e1_one_dimensional
            return {"worst_case": worst_cases.with_bounds(run(cfg))}
        if experiment == "E2":
            methods, seeds = tuple(unit["methods"].split()), seed_range(unit["seeds"])
            run = rates.e2_quadratics if unit["problem"] == "quadratic" else rates.e2_logistic
            return {"iterations": run(cfg, methods, seeds)}
        if experiment == "E3":
            runs, trajectory = lessard.e3_lessard(cfg)
            return {"lessard": runs, "lessard_trajectory": trajectory}
        if experiment == "E5":
            runs, curves = step_sizes.e5_step_sizes(cfg)
            return {"step_sizes": runs, "step_size_curves": curves}
        return {"zigzag": rates.zigzag_paths()}


def combine(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, pd.DataFrame]:
    iterations = tables["iterations"].sort_values(["problem", "start", "method", "seed", "kappa"],
                                                  ignore_index=True)
    return {"iterations": iterations, "iteration_slopes": rates.e2_slopes(iterations),
            "worst_case_envelope": worst_cases.envelope(tables["worst_case"])}


# --- statistics -------------------------------------------------------------------------------

def worst_case_slope(top: pd.DataFrame, method: str) -> Estimate:
    """OLS slope of log worst-case gap on log T over T ≥ SLOPE_MIN_T."""
    part = stats.select(top, method=method)
    part = part[part.horizon >= SLOPE_MIN_T]
    return stats.loglog_slope_ci(part.horizon, part.gap_over_LR2)


def largest_over_own_bound(top: pd.DataFrame, method: str) -> Estimate:
    return Estimate.exact(stats.select(top, method=method).gap_over_own_bound.max())


def at_largest_horizon(top: pd.DataFrame, method: str) -> pd.Series:
    part = stats.select(top, method=method)
    return part[part.horizon == part.horizon.max()].iloc[0]


def nag_over_lower_bound(top: pd.DataFrame) -> Estimate:
    last = at_largest_horizon(top, "nag")
    return Estimate.exact(last.gap_over_LR2 / last.lower_bound_over_LR2)


def gd_off_exact_worst_case(worst: pd.DataFrame) -> Estimate:
    huber = stats.select(worst, instance="worst_1d_huber", method="gd")
    return Estimate.exact((huber.gap_over_LR2 / huber.gd_tight_bound_over_LR2 - 1).abs().max())


def iteration_slope(slopes: pd.DataFrame, problem: str, method: str, start: str = "balanced") -> Estimate:
    return stats.mean_ci(stats.select(slopes, problem=problem, start=start, method=method).iterations_slope)


def share(runs: pd.DataFrame, column: str) -> Estimate:
    """The fraction of rows where ``column`` is true, with its Wilson interval."""
    return stats.proportion_ci(int(runs[column].sum()), len(runs))


def largest_final_gap(runs: pd.DataFrame, methods: tuple[str, ...]) -> Estimate:
    return Estimate.exact(runs[runs.method.isin(list(methods))].final_gap.max())


def largest_form_difference(forms_table: pd.DataFrame, torch_sgd: bool) -> Estimate:
    return Estimate.exact(forms_table[(forms_table.compared_with == "torch_sgd") == torch_sgd].max_abs_diff.max())


def estimate(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, Estimate]:
    worst, top, slopes = tables["worst_case"], tables["worst_case_envelope"], tables["iteration_slopes"]
    runs, cycles, compared = tables["step_sizes"], tables["lessard"], tables["nesterov_forms"]
    return {
        "E1a": worst_case_slope(top, "gd"),
        "E1b": worst_case_slope(top, "nag"),
        "E1c": largest_over_own_bound(top, "gd"),
        "E1d": largest_over_own_bound(top, "nag"),
        "E1f": gd_off_exact_worst_case(worst),
        "E2a": iteration_slope(slopes, "quadratic", "gd"),
        "E2b": iteration_slope(slopes, "quadratic", "nag"),
        "E2c": iteration_slope(slopes, "quadratic", "heavy_ball"),
        "E2d": iteration_slope(slopes, "logistic", "gd"),
        "E2e": iteration_slope(slopes, "logistic", "nag"),
        "E3a": share(stats.select(cycles, method="heavy_ball"), "cycling"),
        "E3b": largest_final_gap(cycles, ("nag", "gd")),
        "E4a": largest_form_difference(compared, torch_sgd=False),
        "E4b": largest_form_difference(compared, torch_sgd=True),
        "E5a": share(runs[runs.eta_times_L < 2], "decreases_every_step"),
        "E5b": share(runs[runs.eta_times_L > 2], "diverges"),
    }


def facts(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, float | int | str]:
    """The numbers the method text cites beside the claims, at the largest horizon T."""
    worst, top = tables["worst_case"], tables["worst_case_envelope"]
    T = int(top.horizon.max())
    last = worst[worst.horizon == T]
    nag_last = at_largest_horizon(top, "nag")
    huber_nag = stats.select(worst, instance="worst_1d_huber", method="nag")
    closed = 2 / ((huber_nag.horizon + 2) * (huber_nag.horizon + 3))
    huber_from = [h for h in sorted(top.horizon.unique())
                  if (top[top.horizon >= h].worst_instance == "worst_1d_huber").all()]
    return {
        "gd_1d_quadratic_over_bound": float(stats.select(last, instance="worst_1d_quadratic", method="gd")
                                            .gap_over_own_bound.iloc[0]),
        "nag_1d_quadratic_over_bound": float(stats.select(last, instance="worst_1d_quadratic", method="nag")
                                             .gap_over_own_bound.iloc[0]),
        "nag_nesterov_quadratic_over_bound": float(stats.select(last, instance="nesterov_worst", method="nag")
                                                   .gap_over_own_bound.iloc[0]),
        "nag_huber_off_closed_form": float((huber_nag.gap_over_LR2 / closed - 1).abs().max()),
        "huber_worst_from_T": int(huber_from[0]) if huber_from else "never",
        "nag_over_lower_bound": nag_over_lower_bound(top).value,
        "nag_over_exact_lower_bound": float(nag_last.gap_over_LR2 / nag_last.exact_lower_bound_over_LR2),
        "gd_isotropic_slope": iteration_slope(tables["iteration_slopes"], "quadratic", "gd", "isotropic").value,
        "lessard_period": int(stats.select(tables["lessard"], method="heavy_ball").period.mode().iloc[0]),
    }
