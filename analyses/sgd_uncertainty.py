"""The SGD uncertainty region: step size, schedules, mini-batches and rates (claims C1-C6).

Five convex finite sums with d = 20, n = 10⁴: least squares with an isotropic and an
ill-conditioned (κ = 10) Gaussian design, logistic regression with and without a small L2
term (the lecture's example), and a least-squares problem whose spectrum spans five
decades (convex but, over the horizon, not strongly convex). On each, 256 SGD chains per
schedule run as one batched computation (rows drawn uniformly with replacement): a grid of
constant steps h spanning 1.5 decades below h_max = 1/mean_i L_i, and the diminishing
schedules h_max/√(k+1) and α₀/(k + k₀), α₀ = 2/μ. Full-batch GD runs beside them. For
least squares the measured plateau is compared with the exact stationary excess loss of
the SGD second-moment recursion (dlclaims.theory).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from dlclaims import analysis, chains, plots, stats, theory
from dlclaims.check import Tol
from dlclaims.claims import Claim, Estimate, at_most, between
from dlclaims.progress import progress
from dlclaims.threads import one_thread

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
gradient norm < 10⁻¹³ (logistic). Every chain starts at x₀ = 0.

**SGD.** One step draws b rows uniformly with replacement and moves by the step times the
mean of their gradients (plus λx). Steps are fractions 2⁻⁵ … 1 of h_max = 1/mean_i L_i
(L_i = ‖a_i‖² for least squares, ‖a_i‖²/4 + λ for logistic). Diminishing schedules:
h_max/√(k+1), and α₀/(k + k₀) with α₀ = 2/μ (μ = λ_min ∇²F(x*), so α₀μ > 1 as the O(1/k)
theory asks) and k₀ = α₀/h_max so that both start at h_max. GD uses step 1/L. The
**plateau** of a chain is its last-iterate excess loss averaged over 11 evenly spaced
steps in the second half of the run; the averaged iterate is x̄_k = mean(x₀..x_k), the
lecture's x̂_k for a constant step.

**C2's bound** uses R = ‖x₀ − x*‖ and G² = the largest chain-mean ‖ĝ_k‖² over the logged
steps (k = 0 included, where it is largest). The bound is a theorem for the averaged
iterate, so C2a tests the implementation as much as the lecture; how loose it is shows in
the figure: at the end of the run the averaged iterate of least squares keeps converging
(Bach & Moulines 2013: O(1/k) for constant-step averaged LMS), far below G²h/2, while the
last iterate sits on its plateau, itself several times below G²h/2 at small h. C2b tests
the lecture's aside that the last point is as good as the average: it compares the two at
the end of the run, in the worst (problem, h), like every other "in general" claim here.
(The first baseline took the most favourable group instead, which only asks whether the
aside holds somewhere; it was changed to the worst group after that run, and the
favourable group's ratio was 0.61; the per-chain final gaps are in `chains.csv`.)

**C3** "steps to the plateau" is the first logged step at which the chain-mean last-iterate
gap falls to twice the plateau (log-log interpolation between logged steps); its interval
is a bootstrap over chains (200 resamples, stored in `reach.csv`). **C6** exponents are
least-squares slopes of log gap on log k over the logged steps k ∈ [K/100, K], per chain
for SGD (t interval over chains); GD is one deterministic trajectory, so its interval is
the OLS one and says only how straight the line is.

**Statistics.** Chains are the replicates; slopes of plateaus against h or b and ratios of
means use a percentile bootstrap over chains; a "worst case over groups" statistic takes
the group with the extreme value, its interval the extreme of the lower and of the upper
bounds."""

CLAIMS = [
    Claim("C1a", "With constant step h the SGD plateau is proportional to h (least squares, isotropic)",
          "log-log slope of the last-iterate plateau vs h, over h ≤ h_max/4 (ls_iso)", between(0.9, 1.1)),
    Claim("C1b", "... and on an ill-conditioned design (κ = 10)",
          "log-log slope of the plateau vs h, h ≤ h_max/4 (ls_ill)", between(0.9, 1.1)),
    Claim("C1c", "... and for logistic regression, d = 20, n = 10⁴ (the lecture's example)",
          "log-log slope of the plateau vs h, h ≤ h_max/4 (logistic, no L2)", between(0.9, 1.1)),
    Claim("C1d", "The measured plateau matches the exact stationary theory (least squares)",
          "measured / exact plateau, the (design, h) farthest from 1", between(0.9, 1.1)),
    Claim("C2a", "E F(x̂_k) − F* ≤ R²/(2h(k+1)) + G²h/2 at every k (x̂ the running average, R and G measured)",
          "largest chain-mean gap of the averaged iterate / bound over problems, h and logged k", at_most(1.0)),
    Claim("C2b", "In practice the last point is no worse than the average",
          "final gap of the last iterate / of the averaged iterate, worst (problem, h)", at_most(1.1)),
    Claim("C3", "Larger h reaches its plateau sooner",
          "log-log slope of steps-to-plateau vs h, the least negative over the four problems", at_most(0.0)),
    Claim("C4", "Diminishing steps keep converging below every constant-step plateau of the same budget",
          "final last-iterate gap of h_max/√(k+1) or α₀/(k+k₀) / lowest constant-step plateau, worst case",
          at_most(1.0)),
    Claim("C5a", "A mini-batch of b cuts the gradient variance by 1/b",
          "log-log slope of E‖ĝ(x*) − ∇F(x*)‖² vs b (ls_iso)", between(-1.05, -0.95)),
    Claim("C5b", "... and the plateau accordingly",
          "log-log slope of the plateau vs b at h = h_max/4 (ls_iso)", between(-1.1, -0.9)),
    Claim("C6a", "Full-batch GD converges as O(1/k) on a convex problem",
          "fitted exponent of GD's gap vs k (ls_flat)", between(-1.2, -0.8)),
    Claim("C6b", "SGD converges as O(1/√k) on a convex problem",
          "fitted exponent of the last-iterate gap of SGD with h_max/√(k+1) (ls_flat)", between(-0.65, -0.35)),
    Claim("C6c", "SGD converges as O(1/k) on a strongly convex problem (logistic regression with L2)",
          "fitted exponent of the last-iterate gap of SGD with α₀/(k+k₀) (logistic_l2)", between(-1.2, -0.8)),
]

# SGD on a convex problem contracts, so float noise does not grow; what differs across
# machines is summation order in a few reductions.
DEFAULT_TOLERANCE = Tol(rtol=1e-6, atol=1e-12)
TOLERANCES = {"reach": {"k_reach": Tol(rtol=1e-4, atol=1e-6)}}

N, D = 10_000, 20
CONSTANT_PROBLEMS = ("ls_iso", "ls_ill", "logistic", "logistic_l2")
LEAST_SQUARES = ("ls_iso", "ls_ill")
DIMINISHING = ("inv_sqrt", "inv")
WINDOW_POINTS = 11
BOOTSTRAP = 200


@dataclass(frozen=True)
class Config:
    chains: int = 256
    steps: int = 20_000
    step_factors: tuple[float, ...] = tuple(2.0 ** -e for e in range(5, -1, -1))
    batch_sizes: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    batch_steps: int = 6_000
    variance_draws: int = 1_000
    log_points: int = 25
    seed: int = 0
    device: str = "cpu"


def add_arguments(parser) -> None:
    parser.add_argument("--chains", type=analysis.positive_int, help="chains per schedule (default 256; quick 64)")
    parser.add_argument("--steps", type=analysis.positive_int, help="SGD steps per chain (default 20000; quick 2000)")


def configure(args) -> Config:
    quick = Config(chains=64, steps=2_000, log_points=16, step_factors=(0.125, 0.25, 0.5, 1.0), batch_sizes=(1, 4, 16),
                   batch_steps=1_500, variance_draws=200)
    cfg = quick if args.quick else Config()
    overrides = {k: v for k, v in dict(chains=args.chains, steps=args.steps).items() if v is not None}
    if args.seeds is not None:
        overrides["chains"] = args.seeds  # chains are this analysis's replicates
    cfg = Config(**{**cfg.__dict__, **overrides, "device": args.device})
    if cfg.chains < 2:
        raise ValueError(f"--chains {cfg.chains} is too few for a confidence interval; expected at least 2")
    if cfg.steps < 200:
        raise ValueError(f"--steps {cfg.steps} is too few to see a plateau; expected at least 200")
    return cfg


# --- the problems ----------------------------------------------------------------------------

def make_problems() -> dict[str, chains.Problem]:
    return {
        "ls_iso": chains.least_squares("ls_iso", N, D, np.ones(D), noise=1.0, seed=1),
        "ls_ill": chains.least_squares("ls_ill", N, D, np.logspace(0, -1, D), noise=1.0, seed=2),
        "logistic": chains.logistic("logistic", N, D, weight_norm=2.0, l2=0.0, seed=3),
        "logistic_l2": chains.logistic("logistic_l2", N, D, weight_norm=2.0, l2=0.01, seed=3),
        "ls_flat": chains.least_squares("ls_flat", N, D, np.logspace(0, -5, D), noise=1.0, seed=4),
    }


def describe(p: chains.Problem) -> dict:
    eig = torch.linalg.eigvalsh(p.hessian)
    return dict(problem=p.name, kind=p.kind, n=p.n, d=p.d, noise=p.noise, l2=p.l2, mu=float(eig[0]),
                L=chains.smoothness(p), h_max=1 / chains.mean_sample_smoothness(p),
                R=float(p.x_star.norm()), F_star=p.F_star)


def schedules(info: dict, cfg: Config, problem: str) -> list[tuple[str, float, chains.Schedule]]:
    """(name, step parameter, schedule) groups run together on one problem."""
    h_max = info["h_max"]
    groups = []
    if problem in CONSTANT_PROBLEMS:
        groups += [("constant", f * h_max, chains.Schedule.constant(f * h_max)) for f in cfg.step_factors]
    groups.append(("inv_sqrt", h_max, chains.Schedule(np.array([h_max]), np.array([1.0]), np.array([0.5]))))
    if problem in CONSTANT_PROBLEMS:
        a0 = 2 / info["mu"]
        groups.append(("inv", a0, chains.Schedule(np.array([a0]), np.array([a0 / h_max]), np.array([1.0]))))
    return groups


def log_steps(cfg: Config, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(log-spaced steps including 0, evenly spaced plateau window over the second half)."""
    grid = np.unique(np.r_[0, np.round(np.geomspace(1, steps, cfg.log_points)).astype(int)])
    window = np.unique(np.round(np.linspace(steps / 2, steps, WINDOW_POINTS)).astype(int))
    return grid, window


# --- the runs --------------------------------------------------------------------------------

def mean_ci_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chain mean and 95% t interval per logged step; values is (steps, chains)."""
    return stats.mean_ci_columns(values.T)


def sgd_study(cfg: Config, problems, infos) -> tuple[list, list, list, list]:
    curves, per_chain, rates, reach = [], [], [], []
    grid, window = log_steps(cfg, cfg.steps)
    log_at = np.union1d(grid, window)
    for pi, name in enumerate(progress(list(problems), desc="problems")):
        p, info = problems[name], infos[name]
        groups = schedules(info, cfg, name)
        seeds = np.concatenate([chain_seeds(cfg, pi, gi) for gi in range(len(groups))])
        combined = chains.Schedule(*(np.repeat(np.concatenate([getattr(s, f) for _, _, s in groups]), cfg.chains)
                                     for f in ("a", "k0", "p")))
        trace = chains.run_chains(p, torch.zeros(D), combined, seeds, cfg.steps, log_at=log_at)
        in_window = np.isin(trace.k, window)
        in_grid = np.isin(trace.k, grid)
        fit = in_grid & (trace.k >= cfg.steps / 100)
        for gi, (sched, step, _) in enumerate(groups):
            cols = slice(gi * cfg.chains, (gi + 1) * cfg.chains)
            last, avg, gsq = trace.gap_last[:, cols], trace.gap_avg[:, cols], trace.grad_sq[:, cols]
            m, lo, hi = mean_ci_rows(last)
            ma, loa, hia = mean_ci_rows(avg)
            for t, k in enumerate(trace.k):
                curves.append(dict(problem=name, schedule=sched, step=step, k=int(k), gap_last=m[t],
                                   gap_last_ci_low=lo[t], gap_last_ci_high=hi[t], gap_avg=ma[t],
                                   gap_avg_ci_low=loa[t], gap_avg_ci_high=hia[t], grad_sq=gsq[t].mean()))
            plateau = last[in_window].mean(0)
            for c in range(cfg.chains):
                per_chain.append(dict(problem=name, schedule=sched, step=step, batch=1, chain=c,
                                      plateau=plateau[c], final_last=last[-1, c], final_avg=avg[-1, c],
                                      grad_variance=np.nan))
            if sched == "constant":
                reach += reach_rows(name, step, trace.k, last, plateau, seed=int(seeds[cols][0]))
            if sched in DIMINISHING:
                slopes = [stats.slope_ci(np.log(trace.k[fit]), np.log(last[fit, c])).value for c in range(cfg.chains)]
                rates += [dict(problem=name, schedule=sched, chain=c, exponent=s) for c, s in enumerate(slopes)]
        # full-batch GD with step 1/L, beside the chains
        k, gaps = chains.run_gd(p, torch.zeros(D), 1 / info["L"], cfg.steps, grid)
        for kk, gap in zip(k, gaps):
            curves.append(dict(problem=name, schedule="gd", step=1 / info["L"], k=int(kk), gap_last=gap,
                               gap_last_ci_low=gap, gap_last_ci_high=gap, gap_avg=np.nan, gap_avg_ci_low=np.nan,
                               gap_avg_ci_high=np.nan, grad_sq=np.nan))
        keep = k >= cfg.steps / 100
        if name == "ls_flat":  # elsewhere GD reaches round-off within the fit range
            rates.append(dict(problem=name, schedule="gd", chain=0,
                              exponent=stats.slope_ci(np.log(k[keep]), np.log(gaps[keep])).value))
    return curves, per_chain, rates, reach


def reach_rows(problem: str, step: float, k: np.ndarray, last: np.ndarray, plateau: np.ndarray,
               seed: int) -> list[dict]:
    """Steps to plateau on all chains (replicate 0) and on bootstrap resamples of the chains."""
    rng = np.random.default_rng(seed)
    chains_n = last.shape[1]
    samples = [np.arange(chains_n)] + [rng.integers(0, chains_n, chains_n) for _ in range(BOOTSTRAP)]
    return [dict(problem=problem, step=step, replicate=r,
                 k_reach=steps_to_plateau(k, last[:, s].mean(1), plateau[s].mean()))
            for r, s in enumerate(samples)]


def chain_seeds(cfg: Config, problem_index: int, group_index: int) -> np.ndarray:
    base = cfg.seed * 10**9 + problem_index * 10**6 + group_index * 10**4
    return base + np.arange(cfg.chains)


def batch_study(cfg: Config, p: chains.Problem, info: dict) -> list[dict]:
    """Plateau and gradient variance at x* against the mini-batch size b (ls_iso, h = h_max/4)."""
    h = info["h_max"] / 4
    _, window = log_steps(cfg, cfg.batch_steps)
    rows = []
    for bi, b in enumerate(cfg.batch_sizes):
        seeds = chain_seeds(cfg, 9, bi)
        trace = chains.run_chains(p, torch.zeros(D), chains.Schedule.constant(h), seeds, cfg.batch_steps,
                                  batch=b, log_at=window)
        plateau = trace.gap_last.mean(0)
        # variance of the mini-batch gradient at x*, where ∇F = 0: fresh draws from each chain's stream
        idx = torch.from_numpy(chains.chain_indices(seeds + 5 * 10**8, 0, cfg.variance_draws, b, p.n))
        rows_x = p.A[idx]  # (C, draws, b, d)
        resid = (rows_x @ p.x_star) - p.y[idx]
        g = (rows_x * resid.unsqueeze(-1)).mean(2)  # (C, draws, d)
        variance = (g * g).sum(-1).mean(1).numpy()
        for c in range(cfg.chains):
            rows.append(dict(problem=p.name, schedule="batch_sweep", step=h, batch=b, chain=c, plateau=plateau[c],
                             final_last=trace.gap_last[-1, c], final_avg=trace.gap_avg[-1, c],
                             grad_variance=variance[c]))
    return rows


def exact_plateaus(cfg: Config, problems, infos) -> list[dict]:
    rows = []
    for name in LEAST_SQUARES:
        th = theory.StationaryTheory(problems[name].A, problems[name].y)
        for f in cfg.step_factors:
            h = f * infos[name]["h_max"]
            rows.append(dict(problem=name, step=h, batch=1, exact_plateau=th.excess(h, 1),
                             small_step_plateau=small_step_plateau(th, h, 1)))
        if name == "ls_iso":
            h = infos[name]["h_max"] / 4
            rows += [dict(problem=name, step=h, batch=b, exact_plateau=th.excess(h, b),
                          small_step_plateau=small_step_plateau(th, h, b)) for b in cfg.batch_sizes if b > 1]
    return rows


def small_step_plateau(th, h: float, b: int) -> float:
    """First order in h: HΣ + ΣH = hQ/b, so ½ tr(HΣ) = h tr(Q) / (4b): the linear law C1 tests."""
    return h * float(np.trace(th.Q)) / (4 * b)


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


def compute(cfg: Config) -> dict[str, pd.DataFrame]:
    with one_thread():
        return _compute(cfg)


def _compute(cfg: Config) -> dict[str, pd.DataFrame]:
    problems = make_problems()
    infos = {name: describe(p) for name, p in problems.items()}
    curves, per_chain, rates, reach = sgd_study(cfg, problems, infos)
    per_chain += batch_study(cfg, problems["ls_iso"], infos["ls_iso"])
    return {
        "problems": pd.DataFrame(infos.values()),
        "curves": pd.DataFrame(curves),
        "chains": pd.DataFrame(per_chain),
        "theory": pd.DataFrame(exact_plateaus(cfg, problems, infos)),
        "rates": pd.DataFrame(rates),
        "reach": pd.DataFrame(reach),
    }


# --- the claims ------------------------------------------------------------------------------

def chain_matrix(table: pd.DataFrame, column: str, by: str) -> tuple[np.ndarray, np.ndarray]:
    """(levels of ``by``, (chains, levels) array of ``column``)."""
    wide = table.pivot(index="chain", columns=by, values=column).sort_index(axis=1)
    return wide.columns.to_numpy(float), wide.to_numpy()


def loglog_slope(x: np.ndarray) -> callable:
    lx = np.log(x)
    return lambda sample: float(np.polyfit(lx, np.log(sample.mean(0)), 1)[0])


def plateau_slope(chains_t: pd.DataFrame, problem: str, h_max: float) -> Estimate:
    part = chains_t[(chains_t.problem == problem) & (chains_t.schedule == "constant") & (chains_t.batch == 1)
                    & (chains_t.step <= h_max / 4 * (1 + 1e-6))]
    h, q = chain_matrix(part, "plateau", "step")
    return stats.bootstrap_ci(q, loglog_slope(h), n_boot=1000)


def extreme(estimates: list[Estimate], largest: bool = True) -> Estimate:
    """Worst case over groups: the group with the largest (smallest) value; its interval
    is the largest (smallest) of the lower bounds to that of the upper bounds."""
    pick = max if largest else min
    value = pick(e.value for e in estimates)
    low = pick(e.ci_low for e in estimates)
    high = pick(e.ci_high for e in estimates)
    return Estimate(value, min(low, value), max(high, value))


def ratio_of_means(sample: np.ndarray) -> float:
    return float(sample[:, 0].mean() / sample[:, 1].mean())


def bound(curves: pd.DataFrame, problems: pd.DataFrame) -> pd.DataFrame:
    """The lecture's R²/(2h(k+1)) + G²h/2 for every constant-step curve point."""
    const = curves[curves.schedule == "constant"].merge(problems[["problem", "R"]], on="problem")
    g2 = const.groupby(["problem", "step"]).grad_sq.transform("max")
    const = const.assign(G2=g2, bound=const.R**2 / (2 * const.step * (const.k + 1)) + g2 * const.step / 2)
    return const


def estimate(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, Estimate]:
    problems, curves, per_chain = tables["problems"], tables["curves"], tables["chains"]
    h_max = dict(zip(problems.problem, problems.h_max))
    out = {cid: plateau_slope(per_chain, name, h_max[name])
           for cid, name in (("C1a", "ls_iso"), ("C1b", "ls_ill"), ("C1c", "logistic"))}

    # C1d: measured / exact, the (design, h) farthest from 1
    ratios = []
    for row in tables["theory"][tables["theory"].batch == 1].itertuples():
        part = per_chain[(per_chain.problem == row.problem) & (per_chain.schedule == "constant")
                         & (per_chain.batch == 1) & np.isclose(per_chain.step, row.step)]
        m = stats.mean_ci(part.plateau)
        ratios.append(Estimate(m.value / row.exact_plateau, m.ci_low / row.exact_plateau,
                               m.ci_high / row.exact_plateau))
    out["C1d"] = max(ratios, key=lambda e: abs(math.log(e.value)))

    # C2a: averaged iterate against the bound, every problem, h and logged k
    b = bound(curves, problems)
    out["C2a"] = extreme([Estimate(r.gap_avg / r.bound, r.gap_avg_ci_low / r.bound, r.gap_avg_ci_high / r.bound)
                          for r in b.itertuples()])

    # C2b: last / averaged at the end; "no difference in practice" must hold in every group
    const = per_chain[(per_chain.schedule == "constant") & (per_chain.batch == 1)]
    out["C2b"] = extreme([stats.bootstrap_ci(part[["final_last", "final_avg"]].to_numpy(), ratio_of_means,
                                             n_boot=500) for _, part in const.groupby(["problem", "step"])])

    # C3: slope of steps-to-plateau vs h per problem; the least negative
    reach = tables["reach"]
    slopes = []
    for _, part in reach.groupby("problem"):
        wide = part.pivot(index="replicate", columns="step", values="k_reach").sort_index(axis=1)
        lh = np.log(wide.columns.to_numpy(float))
        per_rep = np.array([np.polyfit(lh, np.log(r), 1)[0] if np.all(np.isfinite(r)) else np.nan
                            for r in wide.to_numpy()])
        lo, hi = np.nanquantile(per_rep[1:], [0.025, 0.975])
        slopes.append(Estimate(per_rep[0], min(lo, per_rep[0]), max(hi, per_rep[0])))
    out["C3"] = extreme(slopes)

    # C4: diminishing final gap / lowest constant plateau, worst over problems and schedules
    c4 = []
    for name in CONSTANT_PROBLEMS:
        part = per_chain[(per_chain.problem == name) & (per_chain.batch == 1)]
        const = part[part.schedule == "constant"]
        lowest = const[const.step == const.step.min()].sort_values("chain").plateau.to_numpy()
        for sched in DIMINISHING:
            final = part[part.schedule == sched].sort_values("chain").final_last.to_numpy()
            c4.append(stats.bootstrap_ci(np.c_[final, lowest], ratio_of_means, n_boot=500))
    out["C4"] = extreme(c4)

    # C5: slopes against b
    batch = per_chain[(per_chain.problem == "ls_iso") & (per_chain.schedule == "batch_sweep")
                      & per_chain.grad_variance.notna()]
    bs, var = chain_matrix(batch, "grad_variance", "batch")
    out["C5a"] = stats.bootstrap_ci(var, loglog_slope(bs), n_boot=1000)
    bs, plat = chain_matrix(batch, "plateau", "batch")
    out["C5b"] = stats.bootstrap_ci(plat, loglog_slope(bs), n_boot=1000)

    # C6: rate exponents
    rates = tables["rates"]
    gd = curves[(curves.problem == "ls_flat") & (curves.schedule == "gd") & (curves.k >= cfg.steps / 100)]
    out["C6a"] = stats.slope_ci(np.log(gd.k), np.log(gd.gap_last))
    out["C6b"] = stats.mean_ci(rates[(rates.problem == "ls_flat") & (rates.schedule == "inv_sqrt")].exponent)
    out["C6c"] = stats.mean_ci(rates[(rates.problem == "logistic_l2") & (rates.schedule == "inv")].exponent)
    return out


# --- the figures -----------------------------------------------------------------------------

LABELS = {"ls_iso": "least squares, isotropic", "ls_ill": "least squares, κ = 10", "logistic": "logistic",
          "logistic_l2": "logistic + L2", "ls_flat": "least squares, spectrum 1 → 1e-5"}


def _positive_k(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame.k >= 1].sort_values("k")


def figures(tables: dict[str, pd.DataFrame], directory: Path) -> None:
    import matplotlib.pyplot as plt

    problems, curves, per_chain, exact = tables["problems"], tables["curves"], tables["chains"], tables["theory"]
    b = bound(curves, problems)

    # 1. Gap vs k for each constant h, with its plateau and the lecture's bound.
    fig, axes = plt.subplots(2, 2, figsize=(13, 9), squeeze=False)
    for ax, name in zip(axes.ravel(), CONSTANT_PROBLEMS):
        steps = sorted(b[b.problem == name].step.unique())
        colours = plt.cm.viridis(np.linspace(0, 0.9, len(steps)))
        for h, colour in zip(steps, colours):
            part = _positive_k(b[(b.problem == name) & (b.step == h)])
            plots.band(ax, part.k, part.gap_last, part.gap_last_ci_low, part.gap_last_ci_high,
                       label=f"h = {h:.3g}", color=colour)
            ax.plot(part.k, part.gap_avg, color=colour, ls=":", lw=1)
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
    plots.save(fig, directory / "gap_vs_k.png")

    # 2. Plateau vs h, measured and exact.
    fig, ax = plt.subplots(figsize=(7, 5))
    const = per_chain[(per_chain.schedule == "constant") & (per_chain.batch == 1)]
    for colour, name in zip(plots.PALETTE, CONSTANT_PROBLEMS):
        h, q = chain_matrix(const[const.problem == name], "plateau", "step")
        m, lo, hi = stats.mean_ci_columns(q)
        ax.errorbar(h, m, yerr=[m - lo, hi - m], fmt="o", color=colour, label=f"{LABELS[name]} (measured)")
        th = exact[(exact.problem == name) & (exact.batch == 1)].sort_values("step")
        if len(th):
            ax.plot(th.step, th.exact_plateau, color=colour, lw=1.5, label=f"{LABELS[name]} (exact theory)")
    hh = np.array(sorted(const.step.unique()))
    ax.plot(hh, hh * 1.0, color="grey", ls=":", label="slope 1 (reference)")
    ax.set(xscale="log", yscale="log", xlabel="step h", ylabel="plateau of F(x_k) − F*",
           title="The uncertainty region grows with the step")
    ax.legend(fontsize=7)
    fig.tight_layout()
    plots.save(fig, directory / "plateau_vs_h.png")

    # 3. Schedules compared, and the rates.
    fig, axes = plt.subplots(2, 3, figsize=(16, 9), squeeze=False)
    for ax, name in zip(axes.ravel(), [*CONSTANT_PROBLEMS, "ls_flat"]):
        part = curves[curves.problem == name]
        for sched, colour, label in (("inv_sqrt", plots.PALETTE[0], "h_max/√(k+1)"),
                                     ("inv", plots.PALETTE[1], "α₀/(k+k₀)")):
            s = _positive_k(part[part.schedule == sched])
            if len(s):
                plots.band(ax, s.k, s.gap_last, s.gap_last_ci_low, s.gap_last_ci_high, label=label, color=colour)
        const_steps = sorted(part[part.schedule == "constant"].step.unique())
        for h, ls in zip(const_steps[:: max(1, len(const_steps) - 1)], (":", "--")):
            s = _positive_k(part[(part.schedule == "constant") & (part.step == h)])
            ax.plot(s.k, s.gap_last, color="grey", ls=ls, label=f"constant h = {h:.3g}")
        gd = _positive_k(part[part.schedule == "gd"])
        ax.plot(gd.k, gd.gap_last.clip(lower=1e-16), color="black", label="GD, step 1/L")
        kk = np.geomspace(max(1, gd.k.max() / 100), gd.k.max(), 10)
        ref = float(s.gap_last.iloc[-1]) if len(s) else 1.0
        ax.plot(kk, ref * (kk / kk[-1]) ** -1.0, color="red", lw=0.8, ls="-.", label="∝ 1/k")
        ax.plot(kk, ref * (kk / kk[-1]) ** -0.5, color="purple", lw=0.8, ls="-.", label="∝ 1/√k")
        ax.set(xscale="log", yscale="log", xlabel="step k", ylabel="F(x_k) − F* (last iterate)",
               title=LABELS[name], ylim=(max(1e-9, float(part.gap_last[part.gap_last > 0].min())), None))
        ax.legend(fontsize=7, loc="lower left")
    # sixth panel: last vs averaged iterate at one constant step (Bach & Moulines)
    ax = axes[1, 2]
    iso = b[b.problem == "ls_iso"]
    steps = sorted(iso.step.unique())
    for h, colour in zip((steps[0], steps[-1]), plots.PALETTE[2:4]):
        s = _positive_k(iso[iso.step == h])
        ax.plot(s.k, s.gap_last, color=colour, label=f"last iterate, h = {h:.3g}")
        ax.plot(s.k, s.gap_avg, color=colour, ls="--", label=f"running average, h = {h:.3g}")
        ax.plot(s.k, s.bound, color=colour, ls=":", lw=1, label="lecture bound")
    ax.set(xscale="log", yscale="log", xlabel="step k", ylabel="F − F*",
           title="ls_iso: the average keeps converging, the last iterate plateaus")
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    plots.save(fig, directory / "schedules.png")

    # 4. Mini-batches: gradient variance and plateau vs b.
    batch = per_chain[per_chain.grad_variance.notna()]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, column, title in ((ax1, "grad_variance", "E‖ĝ(x*)‖² (gradient variance at the optimum)"),
                              (ax2, "plateau", "plateau at h = h_max/4")):
        bs, q = chain_matrix(batch, column, "batch")
        m, lo, hi = stats.mean_ci_columns(q)
        ax.errorbar(bs, m, yerr=[m - lo, hi - m], fmt="o", label="measured")
        ax.plot(bs, m[0] / bs, color="grey", ls=":", label="∝ 1/b")
        ax.set(xscale="log", yscale="log", xlabel="mini-batch size b", title=title)
    th = exact[exact.problem == "ls_iso"]
    h = float(batch.step.iloc[0])
    th = th[np.isclose(th.step, h)].sort_values("batch")
    ax2.plot(th.batch, th.exact_plateau, color=plots.PALETTE[1], label="exact theory")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    plots.save(fig, directory / "plateau_vs_b.png")


if __name__ == "__main__":
    raise SystemExit(analysis.main(sys.modules[__name__]))
