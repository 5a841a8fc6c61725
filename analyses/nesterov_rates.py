"""Gradient descent vs Nesterov vs heavy ball: rates, worst cases and a counterexample (claims E1-E5).

E1 measures the smooth convex rates where they are defined, on worst cases: for each
horizon T, Nesterov's tridiagonal quadratic of dimension 2T + 1 (NAG with the schedule
β_t = (t − 1)/(t + 2)) and the worst one-dimensional quadratic with curvature in (0, L]
(GD); log-log slopes of the gap against T, and the gap over the upper bounds
L R²/(2T) (GD) and 2 L R²/(T + 1)² (NAG) at every T. E2 counts iterations to a relative
gap ε on random quadratics and L2-regularised logistic regression with κ from 10 to 10⁴.
E3 runs heavy ball with Polyak's quadratic-optimal parameters on Lessard, Recht & Packard's
piecewise quadratic (L = 25, μ = 1) and detects its limit cycle. E4 checks the lecture's
change-of-variables Nesterov against the look-ahead forms and torch.optim.SGD(nesterov=True).
E5 sweeps GD's step size around 2/L. Everything runs in float64.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch
from scipy import optimize

from dlclaims import analysis, optim, plots, stats
from dlclaims.check import Tol
from dlclaims.claims import Claim, Estimate, at_least, at_most, between
from dlclaims.threads import one_thread

TITLE = "Gradient descent vs Nesterov vs heavy ball: rates, worst cases, a counterexample"
LECTURE = """\
"Class of function: Smooth — GD O(1/T), NAG O(1/T²); Smooth & Strongly-Convex — GD
O(exp(−T/κ)), NAG O(exp(−T/√κ)) [...] L ≫ μ, the improvement becomes significant." "The
momentum method [...] Convergence rate? Unfortunately no... disprove it in your homework."
"η = 1/L (optimal). Remark: any 0 < η < 2/L decreases f(x)." (003). "Change of variables
W̃_t = W_t + ρ v_t: v_{t+1} = ρ v_t + α∇L(W̃_t), W̃_{t+1} = W̃_t + v_{t+1} + ρ(v_{t+1} − v_t)" (000)."""
NOTES = """\
**Rates need worst cases (E1).** A rate like O(1/T) is a statement about the worst
function in a class; on one fixed function the gap's slope depends on its spectrum (it
turns linear once T exceeds what the smallest curvature allows; the "fixed instance"
curves show this). For each horizon T on the grid we therefore build the worst case
anew: Nesterov's quadratic f(x) = (L/4)(½[x₁² + Σ(x_i − x_{i+1})² + x_k²] − x₁) of dimension
k = 2T + 1 from x₀ = 0 (Nesterov 2004, Thm 2.1.7: any first-order method has
f(x_T) − f* ≥ 3 L R²/(32 (T + 1)²), R = ‖x₀ − x*‖), and for GD the worst one-dimensional
quadratic λx²/2 with λ ∈ (0, L] (a log grid of 4001 curvatures, all run; the closed form
sup is L R²/(2(2T+1))·(2T/(2T+1))^{2T} ≈ L R²/(4eT)). NAG uses η = 1/L and
β_t = (t − 1)/(t + 2), GD η = 1/L. Slopes are OLS fits of log gap on log T over the grid
points with T ≥ 16, with the OLS t interval (the points are deterministic, so the interval
measures how straight the curve is, not sampling noise). The gap is computed as
½(x − x*)ᵀA(x − x*), exact for quadratics and free of cancellation.

**Strongly convex (E2).** Quadratics: dimension d, L = 1, μ = 1/κ, the other d − 2
eigenvalues log-uniform in between, x₀ ~ N(0, I); diagonal Hessians suffice because GD,
heavy ball and NAG are rotation-invariant. Logistic regression: n samples, d > n features
x_i ~ N(0, I/d), labels from a random teacher with 10% flips, λ = L_data/(κ − 1) with
L_data = σ_max(X)²/(4n), so L = L_data + λ is the usual smoothness bound and κ = L/λ
exactly; because d > n the data Hessian has a null space, the curvature there is exactly λ.
f* by scipy's trust-exact Newton (gtol 1e-10). Iterations are counted until
(f − f*)/(f(x₀) − f*) ≤ ε. GD η = 1/L; NAG η = 1/L, β = (√κ − 1)/(√κ + 1); heavy ball
Polyak's η = 4/(√L + √μ)², β = ((√κ − 1)/(√κ + 1))² (a guarantee on quadratics only; its
logistic numbers are reported, not claimed). Slopes: per seed, OLS of log iterations on
log κ over the κ grid; mean over seeds with a t interval.

*Changed after a first quick run:* the claims were first measured from x₀ ~ N(0, I). Then
the slowest mode (curvature μ) holds a share ∝ 1/κ of the initial gap, so "iterations to
relative ε" counts about κ·ln(1/(εκ)) for GD, whose local log-log slope is
1 − 1/ln(1/(εκ)) (≈ 0.86 at κ = 10³, ε = 10⁻⁶): the statistic mixes the rate with how the
start's gap depends on κ (quick run: GD slope 0.89 on quadratics, 0.88 on logistic). The
claimed runs therefore start *balanced*: every eigen-mode starts with a κ-independent
share of the gap (quadratics x₀,i = z_i/√λ_i; logistic w₀ = P_row z + √κ P_null z). The
x₀ ~ N(0, I) quadratic runs are still reported (start = isotropic, dashed in the figure).

**Lessard et al. (E3).** f(x) = 25x²/2 (x < 1), x²/2 + 24x − 12 (1 ≤ x < 2), 25x²/2 − 24x + 36
(x ≥ 2); L = 25, μ = 1, x* = 0. Starts x₀ = x₋₁ drawn uniformly from [3.07, 3.32]. After the
burn-in, the period is the smallest p ≤ 20 with |x_{k+p} − x_k| ≤ 1e-9 over the last 100
iterates, the amplitude is half the range of those iterates; a run is "cycling" if p ≥ 2
and the amplitude exceeds 0.01. NAG (η = 1/L, β = (√κ − 1)/(√κ + 1)) and GD (η = 1/L) run
from the same starts.

**Torch's Nesterov (E4).** torch.optim.SGD(lr=γ, momentum=μ, nesterov=True) keeps a buffer
b_{t+1} = μ b_t + g_t and steps θ ← θ − γ(g_t + μ b_{t+1}), with g_t the gradient at θ.
With α = γ, ρ = μ and v = −γ b, this is exactly the lecture's change of variables: torch's
parameter θ is the look-ahead point W̃ = W + ρv, not W. So we compare W̃_t across: the
change-of-variables form, 000's look-ahead velocity form (W_t + ρ v_t), 003's iterate
form (X^t + β(X^t − X^{t−1})), and torch (θ_t); the largest absolute difference over all
1000 steps and coordinates, on quadratics ½(x − x*)ᵀH(x − x*) with a random rotation,
spectrum in [0.01, 1] and x* ~ N(0, I) (so iterates do not shrink to 0). The lecture
prints "+α∇L" in the velocity line; with W̃ updated by +v that ascends, so we use −α∇L.
With the convex schedule β_t the change of variables becomes
W̃_{t+1} = W̃_t − β_t v_t + (1 + β_{t+1}) v_{t+1} (torch has no schedule; lecture forms only).

**Step sizes (E5).** Random diagonal quadratics with spectrum log-uniform in [0.01, 1] including L = 1,
x₀ ~ N(0, I); GD for N steps at each ηL on the grid. "Decreases at every step": f_{k+1} < f_k
for all k < N. "Diverges": f_N > f_0 and f_N > 10 f_{N/2} (still growing). Proportions over
seeds with Wilson intervals. N = 1000 also at --quick: a first quick run with N = 500 missed
one divergence at ηL = 2.01 (a start with a tiny component on the top eigenvector needs
longer to exceed f_0); the grid stops at ηL = 2.4 so that f stays finite in float64
(|1 − ηL|^{2N} < 10³⁰⁰). The rule itself was not changed.

**Zig-zag figure.** f = ½(μx₁² + Lx₂²), L = 1, μ = 0.05: GD with the quadratic-optimal
η = 2/(L + μ), heavy ball with Polyak's parameters, NAG with η = 1/L and β from κ. What it
shows is not quite the slide's cartoon: GD zig-zags across the valley; heavy ball, tuned for
the rate, swings across it even wider (every mode contracts at the same √β) while moving
much faster along it; NAG's look-ahead gradient damps the steep axis at once."""

CLAIMS = [
    Claim("E1a", "Smooth convex: GD's worst-case gap falls like 1/T",
          "log-log slope of the worst 1-D quadratic gap vs horizon T (T ≥ 16), OLS 95% CI", between(-1.1, -0.9)),
    Claim("E1b", "Smooth convex: NAG's worst-case gap falls like 1/T²",
          "log-log slope of NAG's gap on Nesterov's quadratic of dimension 2T+1 vs T (T ≥ 16)", between(-2.2, -1.8)),
    Claim("E1c", "GD stays under its bound L R²/(2T) at every T",
          "largest gap / (L R²/(2T)) over horizons and both worst cases", at_most(1.0)),
    Claim("E1d", "NAG stays under its bound 2 L R²/(T+1)² at every T",
          "largest gap / (2 L R²/(T+1)²) over horizons and both worst cases", at_most(1.0)),
    Claim("E1e", "NAG's worst-case gap settles within a small factor of the lower bound 3 L R²/(32 (T+1)²)",
          "NAG's gap / lower bound on Nesterov's quadratic at the largest T", between(1.0, 8.0)),
    Claim("E2a", "Strongly convex quadratics: GD needs iterations ∝ κ",
          "log-log slope of iterations to relative gap ε vs κ, GD, mean over seeds", between(0.9, 1.1)),
    Claim("E2b", "Strongly convex quadratics: NAG needs iterations ∝ √κ",
          "log-log slope of iterations vs κ, NAG, mean over seeds", between(0.4, 0.6)),
    Claim("E2c", "Strongly convex quadratics: heavy ball (Polyak's parameters) needs iterations ∝ √κ",
          "log-log slope of iterations vs κ, heavy ball, mean over seeds", between(0.4, 0.6)),
    Claim("E2d", "L2-regularised logistic regression: GD needs iterations ∝ κ",
          "log-log slope of iterations vs κ, GD, mean over seeds", between(0.9, 1.1)),
    Claim("E2e", "L2-regularised logistic regression: NAG needs iterations ∝ √κ",
          "log-log slope of iterations vs κ, NAG, mean over seeds", between(0.4, 0.6)),
    Claim("E3a", "Heavy ball with quadratic-optimal parameters has no global guarantee: it cycles on "
          "Lessard et al.'s strongly convex function from x₀ ∈ [3.07, 3.32]",
          "fraction of random starts ending in a limit cycle (period ≥ 2, amplitude > 0.01), Wilson CI",
          at_least(0.9)),
    Claim("E3b", "NAG and GD converge on the same function from the same starts",
          "largest final gap f − f* over starts, NAG and GD", at_most(1e-10)),
    Claim("E4a", "The change-of-variables form of Nesterov gives the same iterates as the look-ahead forms",
          "max |W̃ difference| over 1000 steps, coordinates, seeds, constant β and the convex schedule",
          at_most(1e-12)),
    Claim("E4b", "... and as torch.optim.SGD(momentum=β, nesterov=True) with lr = α",
          "max |W̃ − θ_torch| over 1000 steps, coordinates and seeds", at_most(1e-12)),
    Claim("E5a", "GD with 0 < η < 2/L decreases f at every step",
          "fraction of (η < 2/L, seed) runs with f_{k+1} < f_k at every step, Wilson CI", at_least(0.9)),
    Claim("E5b", "GD with η > 2/L diverges",
          "fraction of (η > 2/L, seed) runs that diverge, Wilson CI", at_least(0.9)),
]

TOLERANCES = {
    "*": {"iterations": Tol(rtol=0.01, atol=1), "max_abs_diff": Tol(rtol=0, atol=1e-12),
          "iterations_slope": Tol(rtol=0, atol=0.01)},
    "claims": {"value": Tol(rtol=1e-4, atol=1e-12), "ci_low": Tol(rtol=1e-4, atol=1e-12),
               "ci_high": Tol(rtol=1e-4, atol=1e-12)},
}
DEFAULT_TOLERANCE = Tol(rtol=1e-6, atol=1e-12)

F64 = torch.float64
SLOPE_MIN_T = 16
LESSARD = dict(L=25.0, mu=1.0, start_low=3.07, start_high=3.32)
ETA_TIMES_L = (0.25, 0.5, 1.0, 1.5, 1.9, 1.99, 2.01, 2.05, 2.1, 2.4)
METHODS = {"gd": "GD", "heavy_ball": "heavy ball", "nag": "NAG"}
COLORS = {"gd": plots.PALETTE[0], "heavy_ball": plots.PALETTE[2], "nag": plots.PALETTE[1]}


@dataclass(frozen=True)
class Config:
    max_horizon: int = 1024
    horizons: int = 25
    fixed_dimension: int = 65
    kappa_max: float = 1e4
    kappas: int = 7
    eps: float = 1e-6
    quad_dim: int = 50
    logistic_n: int = 16
    logistic_d: int = 32
    seeds: int = 10
    lessard_starts: int = 200
    lessard_steps: int = 2000
    torch_steps: int = 1000
    eta_steps: int = 1000
    eta_seeds: int = 20
    device: str = "cpu"


def add_arguments(parser) -> None:
    parser.add_argument("--max-horizon", type=analysis.positive_int,
                        help="largest horizon T for E1 (default 1024; quick 256)")
    parser.add_argument("--kappa-max", type=analysis.positive_float,
                        help="largest condition number for E2 (default 1e4; quick 1e3)")


def configure(args) -> Config:
    cfg = Config(max_horizon=256, horizons=13, kappa_max=1e3, kappas=5, quad_dim=20, logistic_n=12,
                 logistic_d=24, seeds=3, lessard_starts=50, lessard_steps=1000, eta_seeds=10) if args.quick else Config()
    overrides = {k: v for k, v in dict(max_horizon=args.max_horizon, kappa_max=args.kappa_max,
                                       seeds=args.seeds).items() if v is not None}
    cfg = Config(**{**cfg.__dict__, **overrides, "device": args.device})
    if cfg.seeds < 2:
        raise ValueError(f"--seeds {cfg.seeds} is too few for a confidence interval; expected at least 2")
    if cfg.max_horizon < 4 * SLOPE_MIN_T:
        raise ValueError(f"--max-horizon {cfg.max_horizon} is too short for a slope over T ≥ {SLOPE_MIN_T}; "
                         f"expected at least {4 * SLOPE_MIN_T}")
    if cfg.kappa_max < 100:
        raise ValueError(f"--kappa-max {cfg.kappa_max:g} is too small for a slope; expected at least 100")
    return cfg


def tensor(values, device: str = "cpu") -> torch.Tensor:
    return torch.as_tensor(values, dtype=F64, device=device)


def matvec(A: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Batched A x for (rows, m, n) and (rows, n).

    Broadcast-multiply-and-sum: with one torch thread (see compute) it is about 2x faster
    than einsum on the logistic batch (15 vs 30 µs; ``make bench``)."""
    return (A * x[..., None, :]).sum(-1)


# --- E1: worst cases for smooth convex functions --------------------------------------------

def horizon_grid(cfg: Config) -> list[int]:
    return sorted({int(round(t)) for t in np.geomspace(4, cfg.max_horizon, cfg.horizons)})


@dataclass(frozen=True)
class Quadratic:
    """f(x) = ½ (x − x*)ᵀ A (x − x*) + f*, with A applied by a function (rows = replicates)."""

    apply: Callable[[torch.Tensor], torch.Tensor]
    x_star: torch.Tensor

    def grad(self, x: torch.Tensor) -> torch.Tensor:
        return self.apply(x - self.x_star)

    def gap(self, x: torch.Tensor) -> torch.Tensor:
        e = x - self.x_star
        return 0.5 * (e * self.apply(e)).sum(-1)


def nesterov_worst_case(k: int, L: float = 1.0, device: str = "cpu") -> Quadratic:
    """Nesterov's tridiagonal quadratic of dimension k: A = (L/4) tridiag(−1, 2, −1), x*_i = 1 − i/(k+1)."""

    def apply(x: torch.Tensor) -> torch.Tensor:
        padded = torch.nn.functional.pad(x, (1, 1))
        return (L / 4) * (2 * x - padded[..., :-2] - padded[..., 2:])

    i = torch.arange(1, k + 1, dtype=F64, device=device)
    return Quadratic(apply, 1 - i / (k + 1))


def run_convex(q: Quadratic, x0: torch.Tensor, method: str, horizon: int, record: list[int], lr: float):
    """Run GD or NAG (β_t = (t−1)/(t+2)) for ``horizon`` steps; yield (T, gap) at the recorded T."""
    state = optim.start(x0)
    wanted = set(record)
    for t in range(horizon + 1):
        if t in wanted:
            yield t, q.gap(state.x)
        if t == horizon:
            break
        if method == "gd":
            state = optim.Iterates(optim.gd_step(state.x, q.grad, lr), state.x)
        else:
            state = optim.nesterov_step(state, q.grad, lr, optim.convex_momentum(t))


def gd_worst_1d_closed_form(T: int, L: float = 1.0, R2: float = 1.0) -> float:
    """sup over λ ∈ (0, L] of λ/2 (1 − λ/L)^{2T} R²: attained at λ = L/(2T + 1)."""
    u = 1 / (2 * T + 1)
    return L * R2 / 2 * u * (1 - u) ** (2 * T)


def e1_worst_cases(cfg: Config) -> pd.DataFrame:
    L, grid = 1.0, horizon_grid(cfg)
    rows = []
    # Nesterov's quadratic, one per horizon; both methods, each measured at its own T.
    for T in grid:
        q = nesterov_worst_case(2 * T + 1, L, cfg.device)
        x0 = torch.zeros(2 * T + 1, dtype=F64, device=cfg.device)
        R2 = float((q.x_star**2).sum())
        for method in ("gd", "nag"):
            (_, gap), = run_convex(q, x0, method, T, [T], 1 / L)
            rows.append(dict(instance="nesterov_worst", method=method, horizon=T, dimension=2 * T + 1,
                             gap_over_LR2=float(gap) / (L * R2)))
    # One-dimensional quadratics λx²/2, λ on a log grid in (0, L], x0 = 1: the worst over λ per T.
    lam = tensor(np.geomspace(1e-7, 1.0, 4001), cfg.device)[:, None] * L
    q1 = Quadratic(lambda e: lam * e, torch.zeros_like(lam))
    for method in ("gd", "nag"):
        for T, gap in run_convex(q1, torch.ones_like(lam), method, grid[-1], grid, 1 / L):
            rows.append(dict(instance="worst_1d_quadratic", method=method, horizon=T, dimension=1,
                             gap_over_LR2=float(gap.max()) / L))
    table = pd.DataFrame(rows)
    T = table.horizon.to_numpy(float)
    table["gd_bound_over_LR2"] = 1 / (2 * T)
    table["nag_bound_over_LR2"] = 2 / (T + 1) ** 2
    table["lower_bound_over_LR2"] = 3 / (32 * (T + 1) ** 2)
    own_bound = np.where(table.method == "gd", table.gd_bound_over_LR2, table.nag_bound_over_LR2)
    table["gap_over_own_bound"] = table.gap_over_LR2 / own_bound
    table["T_gap_over_LR2"] = T * table.gap_over_LR2
    table["T2_gap_over_LR2"] = T**2 * table.gap_over_LR2
    table["closed_form_gd_1d"] = [gd_worst_1d_closed_form(int(t)) for t in T]
    return table


def e1_fixed_instance(cfg: Config) -> pd.DataFrame:
    """One fixed function (Nesterov's quadratic of a fixed dimension), gap vs T for both methods."""
    q = nesterov_worst_case(cfg.fixed_dimension, 1.0, cfg.device)
    x0 = torch.zeros(cfg.fixed_dimension, dtype=F64, device=cfg.device)
    R2 = float((q.x_star**2).sum())
    record = sorted(set(np.unique(np.geomspace(1, cfg.max_horizon, 60).astype(int))))
    rows = []
    for method in ("gd", "nag"):
        for T, gap in run_convex(q, x0, method, cfg.max_horizon, record, 1.0):
            rows.append(dict(method=method, dimension=cfg.fixed_dimension, horizon=T, gap_over_LR2=float(gap) / R2))
    return pd.DataFrame(rows)


# --- E2: iterations to ε vs κ ----------------------------------------------------------------

def kappa_grid(cfg: Config) -> np.ndarray:
    return np.geomspace(10, cfg.kappa_max, cfg.kappas)


def iterations_to(step: Callable, state, gap: Callable, eps: float, max_iter: int) -> np.ndarray:
    """First k with gap(x_k) ≤ ε·gap(x_0), per row; NaN where it never happened within max_iter."""
    threshold = eps * gap(state[0])
    hit = torch.full(threshold.shape, -1, dtype=torch.long, device=threshold.device)
    for k in range(1, max_iter + 1):
        state = step(state, k - 1)
        hit = torch.where((gap(state[0]) <= threshold) & (hit < 0), k, hit)
        if k % 64 == 0 and bool((hit >= 0).all()):
            break
    out = hit.cpu().numpy().astype(float)
    out[out < 0] = np.nan
    return out


def run_methods(grad: Callable, gap: Callable, x0: torch.Tensor, L: torch.Tensor, mu: torch.Tensor,
                eps: float, kappa_max: float) -> dict[str, np.ndarray]:
    """Iterations to relative gap ε for GD, NAG and heavy ball; per-row L and μ (shape (rows, 1))."""
    kappa = L / mu
    beta_nag = (kappa.sqrt() - 1) / (kappa.sqrt() + 1)
    lr_hb, beta_hb = 4 / (L.sqrt() + mu.sqrt()) ** 2, beta_nag**2
    log_eps = math.log(1 / eps)
    slow, fast = int(2 * kappa_max * log_eps) + 100, int(20 * math.sqrt(kappa_max) * log_eps) + 100
    return {
        "gd": iterations_to(lambda s, k: optim.start(optim.gd_step(s.x, grad, 1 / L)), optim.start(x0),
                            gap, eps, slow),
        "nag": iterations_to(lambda s, k: optim.nesterov_step(s, grad, 1 / L, beta_nag), optim.start(x0),
                             gap, eps, fast),
        "heavy_ball": iterations_to(lambda s, k: optim.heavy_ball_step(s, grad, lr_hb, beta_hb),
                                    optim.start(x0), gap, eps, fast),
    }


def e2_quadratics(cfg: Config) -> pd.DataFrame:
    """Random diagonal quadratics, L = 1, μ = 1/κ; both starts run as rows of one batch."""
    kappas = kappa_grid(cfg)
    rng = np.random.default_rng(1)
    h, x0, keys = [], [], []
    for seed in range(cfg.seeds):
        for kappa in kappas:
            inner = np.exp(rng.uniform(np.log(1 / kappa), 0, cfg.quad_dim - 2))
            lam = np.concatenate([[1 / kappa, 1.0], inner])
            z = rng.standard_normal(cfg.quad_dim)
            # balanced: every eigen-mode starts with gap z_i²/2, whatever its curvature
            for start, x in (("balanced", z / np.sqrt(lam)), ("isotropic", z)):
                h.append(lam)
                x0.append(x)
                keys.append((start, seed, kappa))
    h, x0 = tensor(np.array(h), cfg.device), tensor(np.array(x0), cfg.device)
    q = Quadratic(lambda e: h * e, torch.zeros_like(x0))
    L, mu = h.max(1, keepdim=True).values, h.min(1, keepdim=True).values
    its = run_methods(q.grad, q.gap, x0, L, mu, cfg.eps, cfg.kappa_max)
    return tidy_iterations("quadratic", keys, its)


def tidy_iterations(problem: str, keys, its: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame([dict(problem=problem, start=start, method=m, seed=seed, kappa=kappa, iterations=its[m][i])
                         for m in METHODS for i, (start, seed, kappa) in enumerate(keys)])


def logistic_problem(seed: int, kappa: float, n: int, d: int):
    """Data (X, y), ridge λ, smoothness bound L = σ_max(X)²/(4n) + λ (so L/λ = κ) and the
    orthogonal projector onto X's null space (where the curvature is exactly λ)."""
    rng = np.random.default_rng([2, seed])
    X = rng.standard_normal((n, d)) / math.sqrt(d)
    y = np.sign(X @ rng.standard_normal(d) + 1e-12)
    y[rng.random(n) < 0.1] *= -1
    L_data = np.linalg.norm(X, 2) ** 2 / (4 * n)
    lam = L_data / (kappa - 1)
    _, _, vt = np.linalg.svd(X)
    null = vt[n:].T @ vt[n:]
    return X, y, lam, L_data + lam, null


def logistic_loss_np(w, X, y, lam):
    z = y * (X @ w)
    p = 1 / (1 + np.exp(z))  # σ(−z)
    loss = np.mean(np.logaddexp(0, -z)) + lam / 2 * w @ w
    grad = -(X.T @ (y * p)) / len(y) + lam * w
    hess = (X.T * (p * (1 - p))) @ X / len(y) + lam * np.eye(len(w))
    return loss, grad, hess


def logistic_minimum(X, y, lam) -> float:
    res = optimize.minimize(lambda w: logistic_loss_np(w, X, y, lam)[0], np.zeros(X.shape[1]),
                            jac=lambda w: logistic_loss_np(w, X, y, lam)[1],
                            hess=lambda w: logistic_loss_np(w, X, y, lam)[2],
                            method="trust-exact", options=dict(gtol=1e-10, maxiter=500))
    return float(res.fun)


def e2_logistic(cfg: Config) -> pd.DataFrame:
    """Balanced starts only: w₀ = P_row z + √κ P_null z gives the null space (curvature λ)
    a gap λκ‖P_null z‖²/2 = L‖P_null z‖²/2 of the same order for every κ."""
    kappas = kappa_grid(cfg)
    rng = np.random.default_rng(3)
    Xs, ys, lams, Ls, fstars, w0, keys = [], [], [], [], [], [], []
    for seed in range(cfg.seeds):
        for kappa in kappas:
            X, y, lam, L, null = logistic_problem(seed, kappa, cfg.logistic_n, cfg.logistic_d)
            z = rng.standard_normal(cfg.logistic_d)
            Xs.append(X), ys.append(y), lams.append(lam), Ls.append(L)
            w0.append(z + (math.sqrt(kappa) - 1) * null @ z)
            fstars.append(logistic_minimum(X, y, lam))
            keys.append(("balanced", seed, kappa))
    X, y = tensor(np.array(Xs), cfg.device), tensor(np.array(ys), cfg.device)
    lam, L = tensor(lams, cfg.device)[:, None], tensor(Ls, cfg.device)[:, None]
    fstar = tensor(fstars, cfg.device)
    n = X.shape[1]
    cache: dict = {}

    def margins(w):
        """y ⊙ Xw, remembered for the last w: GD's gap and next gradient share one product."""
        if cache.get("w") is not w:
            cache["w"], cache["z"] = w, y * matvec(X, w)
        return cache["z"]

    def loss(w):
        return torch.nn.functional.softplus(-margins(w)).mean(1) + 0.5 * lam[:, 0] * (w * w).sum(1)

    def grad(w):
        r = y * torch.sigmoid(-margins(w))
        return -(X * r[..., None]).sum(1) / n + lam * w

    its = run_methods(grad, lambda w: loss(w) - fstar, tensor(np.array(w0), cfg.device), L, lam,
                      cfg.eps, cfg.kappa_max)
    return tidy_iterations("logistic", keys, its)


def e2_slopes(iterations: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (problem, start, method, seed), g in iterations.groupby(["problem", "start", "method", "seed"], sort=False):
        g = g.sort_values("kappa")
        ok = g.iterations.notna().all()
        slope = stats.slope_ci(np.log(g.kappa), np.log(g.iterations)).value if ok else np.nan
        rows.append(dict(problem=problem, start=start, method=method, seed=seed, iterations_slope=slope))
    return pd.DataFrame(rows)


# --- E3: Lessard, Recht & Packard's counterexample -------------------------------------------

def lessard_grad(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x < 1, 25 * x, torch.where(x < 2, x + 24, 25 * x - 24))


def lessard_f(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x < 1, 12.5 * x**2, torch.where(x < 2, 0.5 * x**2 + 24 * x - 12, 12.5 * x**2 - 24 * x + 36))


def lessard_runs(x0: torch.Tensor, steps: int) -> dict[str, torch.Tensor]:
    """Trajectories (steps + 1, starts) of heavy ball, NAG and GD on Lessard's function."""
    L, mu = LESSARD["L"], LESSARD["mu"]
    lr_hb, beta_hb = optim.heavy_ball_quadratic_parameters(L, mu)
    beta_nag = optim.strongly_convex_momentum(L / mu)
    rules = {
        "heavy_ball": lambda s: optim.heavy_ball_step(s, lessard_grad, lr_hb, beta_hb),
        "nag": lambda s: optim.nesterov_step(s, lessard_grad, 1 / L, beta_nag),
        "gd": lambda s: optim.Iterates(optim.gd_step(s.x, lessard_grad, 1 / L), s.x),
    }
    out = {}
    for name, rule in rules.items():
        state, path = optim.start(x0), [x0]
        for _ in range(steps):
            state = rule(state)
            path.append(state.x)
        out[name] = torch.stack(path)
    return out


def detect_cycle(tail: np.ndarray, max_period: int = 20, tol: float = 1e-9) -> int:
    """Smallest p with |x_{k+p} − x_k| ≤ tol along the tail; 0 if none up to max_period."""
    for p in range(1, max_period + 1):
        if np.max(np.abs(tail[p:] - tail[:-p])) <= tol:
            return p
    return 0


def e3_lessard(cfg: Config) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(4)
    starts = np.sort(rng.uniform(LESSARD["start_low"], LESSARD["start_high"], cfg.lessard_starts))
    paths = lessard_runs(tensor(starts, cfg.device), cfg.lessard_steps)
    rows = []
    for method, path in paths.items():
        tail = path[-100:].cpu().numpy()
        final_gap = lessard_f(path[-100:]).max(0).values.cpu().numpy()
        for j, x0 in enumerate(starts):
            period = detect_cycle(tail[:, j])
            amplitude = (tail[:, j].max() - tail[:, j].min()) / 2
            points = np.sort(tail[-period:, j]) if period >= 2 else np.array([])
            rows.append(dict(method=method, start=x0, period=period, amplitude=amplitude,
                             final_gap=final_gap[j], cycling=bool(period >= 2 and amplitude > 0.01),
                             cycle_points=" ".join(f"{p:.6f}" for p in points) or "none"))
    # trajectories of one start for the figure
    show = lessard_runs(tensor([starts[len(starts) // 2]], cfg.device), 80)
    traj = pd.DataFrame([dict(method=m, start=float(p[0, 0]), step=k, x=float(p[k, 0]))
                         for m, p in show.items() for k in range(p.shape[0])])
    return pd.DataFrame(rows), traj


# --- E4: three Nesterov forms and torch ------------------------------------------------------

def rotated_quadratic(g: torch.Generator, batch: int, d: int, mu: float, L: float):
    """H = Q diag(λ) Qᵀ per row, λ log-uniform in [μ, L] with both ends included."""
    q, _ = torch.linalg.qr(torch.randn(batch, d, d, generator=g, dtype=F64))
    lam = torch.exp(torch.empty(batch, d, dtype=F64).uniform_(math.log(mu), math.log(L), generator=g))
    lam[:, 0], lam[:, 1] = mu, L
    return q @ torch.diag_embed(lam) @ q.transpose(1, 2)


def e4_forms(cfg: Config) -> pd.DataFrame:
    g = torch.Generator().manual_seed(5)
    seeds, d = max(cfg.seeds // 2, 2), 20
    H = rotated_quadratic(g, seeds, d, 0.01, 1.0)
    x_star = torch.randn(seeds, d, generator=g, dtype=F64)
    x0 = torch.randn(seeds, d, generator=g, dtype=F64)
    q = Quadratic(lambda e: matvec(H, e), x_star)
    lr, beta = 1.0, optim.strongly_convex_momentum(100.0)
    rows = []
    for schedule in ("constant", "convex"):
        b = (lambda t: beta) if schedule == "constant" else optim.convex_momentum
        look, vel, cov = optim.start(x0), optim.start_velocity(x0), optim.start_velocity(x0)
        p = torch.nn.Parameter(x0.clone())
        opt = torch.optim.SGD([p], lr=lr, momentum=beta, nesterov=True) if schedule == "constant" else None
        diffs = {"look_ahead_003": [], "velocity_000": [], "torch_sgd": []}
        for t in range(cfg.torch_steps):
            look = optim.nesterov_step(look, q.grad, lr, b(t))
            vel = optim.nesterov_velocity_step(vel, q.grad, lr, b(t))
            cov = optim.nesterov_change_of_variables_step(cov, q.grad, lr, b(t), b(t + 1))
            # every form mapped to the look-ahead point W̃_{t+1} = W_{t+1} + β_{t+1} v_{t+1}
            diffs["look_ahead_003"].append((look.x + b(t + 1) * (look.x - look.x_prev) - cov.w).abs().max())
            diffs["velocity_000"].append((vel.w + b(t + 1) * vel.v - cov.w).abs().max())
            if opt is not None:
                opt.zero_grad()
                p.grad = q.grad(p.detach())
                opt.step()
                diffs["torch_sgd"].append((p.detach() - cov.w).abs().max())
        for other, values in diffs.items():
            if values:
                rows.append(dict(schedule=schedule, compared_with=other, steps=cfg.torch_steps, seeds=seeds,
                                 max_abs_diff=float(torch.stack(values).max()),
                                 final_distance_to_optimum=float((cov.w - x_star).norm(dim=1).max())))
    return pd.DataFrame(rows)


# --- E5: the step-size grid around 2/L -------------------------------------------------------

def e5_step_sizes(cfg: Config) -> tuple[pd.DataFrame, pd.DataFrame]:
    g = torch.Generator().manual_seed(6)
    etas = tensor(ETA_TIMES_L)
    seeds = cfg.eta_seeds
    # diagonal suffices (GD is rotation-invariant): spectrum log-uniform in [0.01, 1], both ends in
    lam = torch.exp(torch.empty(seeds, 20, dtype=F64).uniform_(math.log(0.01), 0.0, generator=g))
    lam[:, 0], lam[:, 1] = 0.01, 1.0  # L = 1
    x0 = torch.randn(seeds, 20, generator=g, dtype=F64)
    # rows: (η, seed)
    h, x = lam.repeat(len(etas), 1), x0.repeat(len(etas), 1)
    lr = etas.repeat_interleave(seeds)[:, None]
    q = Quadratic(lambda e: h * e, torch.zeros_like(x))
    f = [q.gap(x)]
    for _ in range(cfg.eta_steps):
        x = optim.gd_step(x, q.grad, lr)
        f.append(q.gap(x))
    f = torch.stack(f).cpu().numpy()  # (steps + 1, rows)
    N = cfg.eta_steps
    monotone = (np.diff(f, axis=0) < 0).all(0)
    diverged = (f[-1] > f[0]) & (f[-1] > 10 * f[N // 2])
    eta_rows = lr[:, 0].cpu().numpy()
    runs = pd.DataFrame(dict(eta_times_L=eta_rows, seed=np.tile(np.arange(seeds), len(etas)),
                             decreases_every_step=monotone, diverges=diverged,
                             final_over_initial=f[-1] / f[0]))
    keep = np.unique(np.concatenate([np.arange(0, N + 1, max(N // 100, 1)), [N]]))
    curves = pd.DataFrame([dict(eta_times_L=eta_rows[r], step=int(k), f_over_f0=f[k, r] / f[0, r])
                           for r in range(0, f.shape[1], seeds) for k in keep])
    return runs, curves


# --- the zig-zag picture ---------------------------------------------------------------------

def zigzag_paths(steps: int = 40) -> pd.DataFrame:
    L, mu = 1.0, 0.05
    h = tensor([mu, L])
    grad = lambda x: h * x  # noqa: E731
    x0 = tensor([-10.0, 2.0])
    lr_hb, beta_hb = optim.heavy_ball_quadratic_parameters(L, mu)
    beta = optim.strongly_convex_momentum(L / mu)
    rules = {
        "gd": lambda s: optim.Iterates(optim.gd_step(s.x, grad, 2 / (L + mu)), s.x),
        "heavy_ball": lambda s: optim.heavy_ball_step(s, grad, lr_hb, beta_hb),
        "nag": lambda s: optim.nesterov_step(s, grad, 1 / L, beta),
    }
    rows = []
    for method, rule in rules.items():
        s = optim.start(x0)
        for k in range(steps + 1):
            rows.append(dict(method=method, step=k, x1=float(s.x[0]), x2=float(s.x[1]),
                             f=float(0.5 * (h * s.x * s.x).sum())))
            s = rule(s)
    return pd.DataFrame(rows)


def compute(cfg: Config) -> dict[str, pd.DataFrame]:
    # Tens of thousands of steps on tensors of ~10⁴ elements: one batched logistic mat-vec took
    # 8-16 ms with torch's 2 threads under load, 15-30 µs with 1 (``make bench``).
    with one_thread(), torch.no_grad():
        worst = e1_worst_cases(cfg)
        fixed = e1_fixed_instance(cfg)
        iterations = pd.concat([e2_quadratics(cfg), e2_logistic(cfg)], ignore_index=True)
        lessard, lessard_traj = e3_lessard(cfg)
        e5_runs, e5_curves = e5_step_sizes(cfg)
    with one_thread():
        forms = e4_forms(cfg)  # torch.optim needs autograd mode on for its parameter
    return {
        "worst_case": worst,
        "fixed_instance": fixed,
        "iterations": iterations,
        "iteration_slopes": e2_slopes(iterations),
        "lessard": lessard,
        "lessard_trajectory": lessard_traj,
        "nesterov_forms": forms,
        "step_sizes": e5_runs,
        "step_size_curves": e5_curves,
        "zigzag": zigzag_paths(),
    }


# --- the claims ------------------------------------------------------------------------------

def worst_slope(worst: pd.DataFrame, instance: str, method: str) -> Estimate:
    part = worst[(worst.instance == instance) & (worst.method == method) & (worst.horizon >= SLOPE_MIN_T)]
    return stats.loglog_slope_ci(part.horizon, part.gap_over_LR2)


def iteration_slope(slopes: pd.DataFrame, problem: str, method: str) -> Estimate:
    part = slopes[(slopes.problem == problem) & (slopes.start == "balanced") & (slopes.method == method)]
    return stats.mean_ci(part.iterations_slope)


def estimate(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, Estimate]:
    worst, slopes, lessard = tables["worst_case"], tables["iteration_slopes"], tables["lessard"]
    nag_worst = worst[(worst.instance == "nesterov_worst") & (worst.method == "nag")]
    last = nag_worst[nag_worst.horizon == nag_worst.horizon.max()].iloc[0]
    hb = lessard[lessard.method == "heavy_ball"]
    converging = lessard[lessard.method.isin(["nag", "gd"])]
    forms, runs = tables["nesterov_forms"], tables["step_sizes"]
    below, above = runs[runs.eta_times_L < 2], runs[runs.eta_times_L > 2]
    return {
        "E1a": worst_slope(worst, "worst_1d_quadratic", "gd"),
        "E1b": worst_slope(worst, "nesterov_worst", "nag"),
        "E1c": Estimate.exact(worst[worst.method == "gd"].gap_over_own_bound.max()),
        "E1d": Estimate.exact(worst[worst.method == "nag"].gap_over_own_bound.max()),
        "E1e": Estimate.exact(last.gap_over_LR2 / last.lower_bound_over_LR2),
        "E2a": iteration_slope(slopes, "quadratic", "gd"),
        "E2b": iteration_slope(slopes, "quadratic", "nag"),
        "E2c": iteration_slope(slopes, "quadratic", "heavy_ball"),
        "E2d": iteration_slope(slopes, "logistic", "gd"),
        "E2e": iteration_slope(slopes, "logistic", "nag"),
        "E3a": stats.proportion_ci(int(hb.cycling.sum()), len(hb)),
        "E3b": Estimate.exact(converging.final_gap.max()),
        "E4a": Estimate.exact(forms[forms.compared_with != "torch_sgd"].max_abs_diff.max()),
        "E4b": Estimate.exact(forms[forms.compared_with == "torch_sgd"].max_abs_diff.max()),
        "E5a": stats.proportion_ci(int(below.decreases_every_step.sum()), len(below)),
        "E5b": stats.proportion_ci(int(above.diverges.sum()), len(above)),
    }


# --- the figures -----------------------------------------------------------------------------

def figures(tables: dict[str, pd.DataFrame], directory: Path) -> None:
    import matplotlib.pyplot as plt

    worst, fixed = tables["worst_case"], tables["fixed_instance"]
    gd = worst[(worst.instance == "worst_1d_quadratic") & (worst.method == "gd")]
    nag = worst[(worst.instance == "nesterov_worst") & (worst.method == "nag")]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.8))
    ax1.plot(gd.horizon, gd.gap_over_LR2, "o-", color=COLORS["gd"], label="GD, worst 1-D quadratic")
    ax1.plot(nag.horizon, nag.gap_over_LR2, "o-", color=COLORS["nag"], label="NAG, Nesterov's quadratic (dim 2T+1)")
    ax1.plot(gd.horizon, gd.gd_bound_over_LR2, "--", color=COLORS["gd"], label="GD bound 1/(2T)")
    ax1.plot(nag.horizon, nag.nag_bound_over_LR2, "--", color=COLORS["nag"], label="NAG bound 2/(T+1)²")
    ax1.plot(nag.horizon, nag.lower_bound_over_LR2, ":", color="black", label="lower bound 3/(32(T+1)²)")
    for method in ("gd", "nag"):
        part = fixed[(fixed.method == method) & (fixed.gap_over_LR2 > 0)]
        ax1.plot(part.horizon, part.gap_over_LR2, "-", lw=1, alpha=0.6, color=COLORS[method],
                 label=f"{METHODS[method]}, one fixed quadratic (dim {part.dimension.iloc[0]})")
    ax1.set(xscale="log", yscale="log", xlabel="horizon T", ylabel="(f(x_T) − f*) / (L R²)",
            title="Smooth convex: worst-case gap vs horizon", ylim=(1e-9, 1))
    ax1.legend(fontsize=7.5)
    ax2.plot(gd.horizon, gd.T_gap_over_LR2, "o-", color=COLORS["gd"], label="GD: T·gap/(LR²)")
    ax2.plot(nag.horizon, nag.T2_gap_over_LR2, "o-", color=COLORS["nag"], label="NAG: T²·gap/(LR²)")
    ax2.axhline(1 / (4 * math.e), color=COLORS["gd"], ls=":", label="1/(4e), GD's limit")
    ax2.axhline(3 / 32, color="black", ls=":", label="3/32, lower bound")
    ax2.axhline(0.5, color=COLORS["gd"], ls="--", lw=1, label="GD bound constant 1/2")
    ax2.axhline(2, color=COLORS["nag"], ls="--", lw=1, label="NAG bound constant 2")
    ax2.set(xscale="log", yscale="log", xlabel="horizon T", ylabel="scaled gap",
            title="Scaled worst-case gaps settle to constants")
    ax2.legend(fontsize=7.5)
    fig.tight_layout()
    plots.save(fig, directory / "gap_vs_horizon.png")

    its = tables["iterations"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    for ax, problem in zip(axes, ("quadratic", "logistic")):
        for method, label in METHODS.items():
            for start in sorted(its[its.problem == problem].start.unique()):
                part = its[(its.problem == problem) & (its.method == method) & (its.start == start)]
                wide = part.pivot(index="seed", columns="kappa", values="iterations")
                mean, low, high = stats.mean_ci_columns(wide.to_numpy())
                balanced = start == "balanced"
                plots.band(ax, wide.columns.to_numpy(), mean, low, high, color=COLORS[method],
                           label=label if balanced else f"{label}, x₀ ~ N(0, I)", marker="o" if balanced else None,
                           ls="-" if balanced else "--")
        k = np.array(sorted(its.kappa.unique()))
        ax.plot(k, k * 20, ":", color="grey", label="∝ κ")
        ax.plot(k, np.sqrt(k) * 20, "-.", color="grey", label="∝ √κ")
        ax.set(xscale="log", yscale="log", xlabel="condition number κ = L/μ", title=problem.replace("_", " "))
    axes[0].set_ylabel("iterations to relative gap ε")
    axes[0].legend(fontsize=8)
    fig.suptitle("Strongly convex: iterations to ε vs κ (mean over seeds, 95% CI)")
    fig.tight_layout()
    plots.save(fig, directory / "iterations_vs_kappa.png")

    traj, lessard = tables["lessard_trajectory"], tables["lessard"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.4))
    for method, label in METHODS.items():
        part = traj[traj.method == method]
        ax1.plot(part.step, part.x, "o-", ms=3, lw=1, color=COLORS[method], label=label)
    ax1.set(xlabel="iteration k", ylabel="x_k", ylim=(-3.6, 4.6),
            title=f"Lessard et al.'s function (L=25, μ=1), x₀ = {traj.start.iloc[0]:.3f}")
    ax1.legend(ncol=3, loc="upper center")
    xs = torch.linspace(-3, 4, 400, dtype=F64)
    ax2.plot(xs, lessard_f(xs), color="grey", label="f")
    hb = lessard[(lessard.method == "heavy_ball") & (lessard.cycle_points != "none")]
    if len(hb):
        pts = torch.tensor([float(v) for v in str(hb.cycle_points.iloc[0]).split()], dtype=F64)
        ax2.plot(pts, lessard_f(pts), "o", ms=9, color=COLORS["heavy_ball"],
                 label=f"heavy ball's limit cycle (period {len(pts)})")
    ax2.plot([0], [0], "*", ms=14, color="black", label="minimum")
    ax2.set(xlabel="x", ylabel="f(x)", title="Heavy ball's period-3 cycle on the function")
    ax2.legend(loc="upper center")
    fig.tight_layout()
    plots.save(fig, directory / "lessard_cycle.png")

    zz = tables["zigzag"]
    fig, ax = plt.subplots(figsize=(9, 4.2))
    g1, g2 = np.meshgrid(np.linspace(-11, 2, 300), np.linspace(-3, 3, 200))
    ax.contour(g1, g2, 0.5 * (0.05 * g1**2 + g2**2), levels=np.geomspace(0.01, 8, 12), colors="lightgrey",
               linewidths=0.8)
    for method, label in METHODS.items():
        part = zz[zz.method == method]
        ax.plot(part.x1, part.x2, "o-", ms=3, lw=1.2, color=COLORS[method], label=label)
    ax.plot([0], [0], "*", ms=12, color="black")
    ax.set(xlabel="x₁ (shallow, μ = 0.05)", ylabel="x₂ (steep, L = 1)", aspect="equal",
           title="Ill-conditioned 2-D quadratic (κ = 20), 40 steps: GD η = 2/(L+μ);\n"
                 "heavy ball Polyak's η, β; NAG η = 1/L, β = (√κ−1)/(√κ+1)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    plots.save(fig, directory / "zigzag.png")

    curves = tables["step_size_curves"]
    fig, ax = plt.subplots(figsize=(8, 4.6))
    etas = sorted(curves.eta_times_L.unique())
    below, above = [e for e in etas if e < 2], [e for e in etas if e > 2]
    colors = {**dict(zip(below, plt.get_cmap("Blues")(np.linspace(0.35, 1, len(below))))),
              **dict(zip(above, plt.get_cmap("Reds")(np.linspace(0.35, 1, len(above)))))}
    for eta, part in curves.groupby("eta_times_L"):
        ax.plot(part.step, np.log10(part.f_over_f0), color=colors[eta], label=f"η = {eta:g}/L",
                ls="-" if eta < 2 else "--")
    ax.set(xlabel="iteration k", ylabel="log₁₀ f(x_k) / f(x_0)", ylim=(-40, 100),
           title="GD on a quadratic: monotone below η = 2/L, divergent above (seed 0)")
    ax.legend(fontsize=7.5, ncol=2)
    fig.tight_layout()
    plots.save(fig, directory / "step_sizes.png")


if __name__ == "__main__":
    raise SystemExit(analysis.main(sys.modules[__name__]))
