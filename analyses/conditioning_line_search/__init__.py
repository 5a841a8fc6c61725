"""Conditioning, Newton and line search (claims J1–J15): preprocessing and κ on digits, Newton's
order and its failures, the cost of gradients and Hessians (FLOPs), Armijo and the naive rule,
stochastic Armijo, L-BFGS with Wolfe and on mini-batches, the best constant step, the O(1/ε)
bound, separable data with and without L2, the ReLU kink. Float64; method text in the .md."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dlclaims.suite import stats
from dlclaims.suite.claims import Claim, Estimate, Scope, at_least, at_most, between, exceeds, falls_below, within
from dlclaims.suite.contract import Tol, option
from dlclaims.threads import one_thread

from . import experiments, quasi_newton
from .figures import FIGURES  # noqa: F401 — the contract's figure list

TITLE = "Conditioning, Newton and line search: preprocessing, quadratic convergence, Armijo, the 'optimal' 1/L"
LECTURE = """\
"Zero-centered data for more effective gradient updates!" (000). "Also dimensional differences
(in some signals) could create problems." (001). "But second-order method normalizes the axis!"
"Strongly convex f(X) with Lipschitz Hessian, then we have quadratic convergence" "It can diverge
for non-convex functions due to negative eigenvalues" "Extremely expensive to compute for neural
networks (quadratic number of parameters to compute)" "Start with a large learning rate η /
Decrease if some condition unsatisfied / Armijo condition" "Naïve solution: ensure function value
is decrease" "η = 1/L (optimal)" "k = O(1/ε) [...] Also hold for non-convex function" (003).
"or even stronger Wolfe's rule: Armijo rule plus |φ'_k(α)| ≤ c₂|φ'_k(0)|" "we know neither F(x)
nor ∇F(x), i.e., we cannot use Armijo and Wolfe's rules." "can we make L-BFGS or something similar
work for deep learning? Doesn't work so far" (004)."""

# --- claims, declared before the run ----------------------------------------------------------

FASTER = 0.2        # J1a, J1b: a preprocessing "speeds up GD" if it cuts iterations by ≥ 20% (ratio ≤ 0.8)
FASTER_WHY = ("a 20% cut in iterations: below it the change is within what a different ε or start moves "
              "the count (iterations ∝ κ·ln(1/ε) up to the start's share of each eigen-direction)")
EXACT = 1e-12       # J2a, J2b, J4a: one exact step lands within float64 rounding
WHITE = 1e-10       # J1c: κ of whitened data is 1 up to the rounding of an eigendecomposition
ORDER = (1.7, 2.3)  # J3: order 2 ± 15%: excludes linear (1) and cubic (3)
FAILS_OFTEN = 0.2   # J4b: one run in five fails: a failure a student meets within a few tries
CHEAP = 5.0         # J5a: Griewank & Walther's cheap-gradient constant: gradient ≤ 5 × the function
QUADRATIC = (1.7, 2.3)  # J5b: slope 2 ± 15%: excludes linear and cubic
ALLOWED = 2.0       # J6b: Armijo's accepted step ≥ (1 − γ)/L, half of GD's 1/L: at most twice the iterations
NAIVE_SLOW = 10.0   # J7a: a counterexample worth the name costs ten times the iterations
NAIVE_TYPICAL = 0.25  # J7b: naive/Armijo ≥ 1.25, outside "about the same"
CONVERGED = 1e-6    # J10: six decades of the relative gap is converged for any practical purpose
STEP_BAND = 0.1     # J12a: argmin within ±10% of 1/L (1/L and 2/(L+μ) differ by 2κ/(κ+1) ≥ 1.33 at κ ≥ 2)
STEP_WHY = "±10% of ηL: 1/L and 2/(L+μ) lie at least 33% apart for κ ≥ 2, so the band cannot confuse them"
ARGMAX = 1e-6       # J12b: a bounded scalar search finds the argmax to 1e-6
RELIABLE = 0.9     # J8b: "reliable": at most one failure in ten starts (Wilson lower end)
WOLFE_GAIN = 0.3    # J8c: Wolfe's share exceeds the fixed step's by ≥ 0.3: 30 of 100 starts, not a handful
WOLFE_GAIN_WHY = "30 points of share: a difference a student sees in a few tries, beyond a handful of starts"
NOT_WORKING = 4.0   # J11: L-BFGS's gap ≥ 5 × Adam's: another order than "about the same", not a tuning difference
NOT_WORKING_WHY = ("a factor 5 in the final gap: an lr or a memory size moves either method by less than "
                   "that, so only a failure of the method passes for 'does not work'")
WORKS = 1.25        # J11p: with exact gradients L-BFGS reaches ≤ 1.25 × Adam's gap (it works)
RATE = (-1.2, -0.8)  # J14b: the gap's exponent in t: O(1/t) ± 20%
LINEAR_FIT = 0.99   # J14b, J14c: R² of the straight line (‖w‖ vs ln t; ln gap vs t)
LINEAR_GAPS = (1e-10, 1e-4)  # J14c: six decades of the relative gap, above float64 rounding of f
BOUND = 1.0         # J13: the bound may be reached, never passed
KINK = (0.2, 0.8)   # J15: a jump reads slope 0, a Lipschitz gradient slope 1
KINK_H = 1e-4       # J15: the slope is the h → 0 limit: fitted over h ≤ 1e-4, where O(h) terms are negligible

CLAIMS = [
    Claim("J1p", "derived", "The raw digits least-squares problem is ill-conditioned (there is conditioning to improve)",
          "κ of XᵀX/n (raw pixels with a bias), the full data set", at_least(100)),
    Claim("J1a", "lecture", "Zero-centred data make GD faster",
          "GD iterations (η = 1/L) to relative gap ε, centred / raw, least squares on digits, bootstrap over rows",
          falls_below(1, FASTER, FASTER_WHY), premise="J1p", setup=("eps", "bootstrap")),
    Claim("J1bp", "derived", "Digits pixels differ in scale (the 'dimensional differences' exist)",
          "max / min standard deviation over the non-constant pixels", at_least(10)),
    Claim("J1b", "lecture", "Scaling away dimensional differences makes GD faster",
          "GD iterations (η = 1/L) to relative gap ε, standardised / centred, bootstrap over rows",
          falls_below(1, FASTER, FASTER_WHY), premise="J1bp", setup=("eps", "bootstrap")),
    Claim("J1c", "check", "PCA-whitened data have κ = 1", "κ(whitened XᵀX/n) − 1", at_most(WHITE)),
    Claim("J2a", "check", "Newton normalises the axes: one step solves a quadratic",
          "largest relative gap after one Newton step, random quadratics with κ = 10⁴", at_most(EXACT),
          setup=("quadratics",)),
    Claim("J2b", "check", "On whitened least squares GD with η = 1 converges in one step",
          "relative gap after one GD step (η = 1), whitened digits least squares", at_most(EXACT)),
    Claim("J3", "check", "Newton converges quadratically on L2-logistic regression (strongly convex, Lipschitz Hessian)",
          "computational order ln(e_{k+1}/e_k)/ln(e_k/e_{k−1}) at the last step above rounding, mean over starts",
          between(*ORDER), setup=("starts", "logistic_n"), scope=Scope("alphas", 1e-3, "the order is local; α sets "
                                                                         "how early the quadratic phase starts")),
    Claim("J4a", "check", "On x² − y² one pure Newton step lands on the saddle (0, 0) from any start",
          "largest |coordinate| after one Newton step over random starts", at_most(EXACT), setup=("quadratics",)),
    Claim("J4p", "derived", "Starts of a small tanh MLP have negative Hessian eigenvalues (the mechanism can act)",
          "share of default-init starts with λ_min(∇²L) < 0, Wilson CI", at_least(0.5),
          setup=("mlp_starts", "mlp_hidden", "mlp_n")),
    Claim("J4b", "lecture", "Pure Newton can fail on non-convex functions (negative eigenvalues)",
          "share of runs in which a pure Newton step raises the loss or that end where λ_min < 0, Wilson CI",
          at_least(FAILS_OFTEN), premise="J4p", setup=("mlp_starts", "mlp_hidden", "mlp_n", "newton_steps"),
          scope=Scope("init_scales", 1.0, "the init scale sets how non-convex the starts are")),
    Claim("J5a", "lecture", "Backprop computes the gradient at a small constant times the function's cost",
          "FLOPs of forward + backward / FLOPs of forward (matrix products), tanh MLP", at_most(CHEAP),
          setup=("cost_batch", "cost_in"), scope=Scope("sizes", 3000, "the ratio may drift with P")),
    Claim("J5b", "lecture", "The Hessian costs a quadratic number of operations in the parameters",
          "log-log slope of Hessian FLOPs (P Hessian-vector products, vectorised) vs P", between(*QUADRATIC),
          setup=("sizes", "cost_batch", "cost_in")),
    Claim("J6a", "check", "Armijo backtracking accepts η ≥ min(η₀, (1 − γ)/L) and f falls at every step",
          "smallest accepted η over min(η₀, (1 − γ)/L), over η₀ and γ (0 if f ever rises)", at_least(1.0),
          setup=("eta0_grid", "backtrack_alpha", "logistic_n")),
    Claim("J6b", "lecture", "Backtracking from a large η converges without knowing L (no slower than GD with 1/L)",
          "worst over η₀ ∈ [1, 1000]/L of iterations to ε, Armijo / GD(η = 1/L), L2-logistic", at_most(ALLOWED),
          setup=("eta0_grid", "backtrack_alpha", "logistic_n", "eps"),
          scope=Scope("gammas", 1e-4, "γ sets how long the accepted step may be")),
    Claim("J7a", "check", "A counterexample: the naive rule (any decrease) is far slower than Armijo (γ = ½)",
          "iterations to ε, naive / Armijo, f = x²/2, η₀ so that halving stops just below 2/L", at_least(NAIVE_SLOW)),
    Claim("J7b", "derived", "The naive rule is slower than Armijo (γ = ½) in a typical case",
          "median over η₀ ∈ [1, 1000]/L of iterations naive / Armijo (γ = ½), L2-logistic",
          exceeds(1, NAIVE_TYPICAL, "25%: outside 'about the same'"), setup=("eta0_grid", "backtrack_alpha")),
    Claim("J8b", "lecture", "With strong Wolfe line search quasi-Newton (L-BFGS) steps are reliable",
          "share of torch L-BFGS (strong Wolfe, memory 10) runs from random starts that end finite within relative "
          "gap 1e-4 after N iterations, L2-logistic on digits, Wilson CI", at_least(RELIABLE),
          setup=("wolfe_starts", "wolfe_iters", "wolfe_gap", "lbfgs_memory", "newton_alpha"),
          scope=Scope("wolfe_data", "raw", "unscaled pixels (0–16), where the step length matters; standardised "
                                           "beside it")),
    Claim("J8p", "derived", "L-BFGS with a fixed step (torch's lr = 1, no line search) fails from many starts",
          "share of the same starts where the fixed-step run does not end within relative gap 1e-4, raw pixels, "
          "Wilson CI", at_least(0.3), setup=("wolfe_starts", "wolfe_iters", "wolfe_gap")),
    Claim("J8c", "derived", "Strong Wolfe makes L-BFGS more reliable than a fixed step",
          "share converging with strong Wolfe − with the fixed step, paired over the same starts",
          exceeds(0, WOLFE_GAIN, WOLFE_GAIN_WHY), premise="J8p", setup=("wolfe_starts", "wolfe_iters", "wolfe_gap"),
          scope=Scope("wolfe_data", "raw", "as J8b")),
    Claim("J9p", "derived", "Pure Newton raises the loss from far starts (the line search has work to do)",
          "share of the farthest starts where a pure Newton step (η = 1, first 30 steps) raises the L2-logistic "
          "loss, Wilson CI", at_least(0.3), setup=("far_starts", "start_scales", "newton_alpha", "pure_steps")),
    Claim("J9", "check", "Damped Newton with Armijo (c₁ = 1e-4) converges from every start and ends with full steps",
          "share of runs reaching the gap 1e-10 with η = 1 in every step from gap 1e-6 on", at_least(1.0), premise="J9p",
          setup=("far_starts", "newton_alpha", "newton_gap"),
          scope=Scope("start_scales", 100.0, "the farthest starts: where damping matters most")),
    Claim("J10p", "derived", "On a noisy least-squares problem stochastic Armijo stalls (the measure can read 'cannot')",
          "geometric mean over chains of the relative full gap after the last step, noisy problem, batch 10",
          at_least(CONVERGED), setup=("chains", "sgd_checkpoints")),
    Claim("J10", "lecture", "With stochastic gradients Armijo cannot be used",
          "geometric mean over chains of the relative full gap after the last step, interpolating problem",
          at_least(CONVERGED), premise="J10p", setup=("chains", "sgd_checkpoints"),
          scope=Scope("batches", 10, "the catalogue's mini-batch; 1 and 50 beside it")),
    Claim("J10b", "derived", "Under interpolation stochastic Armijo converges (Vaswani et al. 2019)",
          "as J10", at_most(CONVERGED), setup=("chains", "sgd_checkpoints"),
          scope=Scope("batches", 10, "as J10")),
    Claim("J11p", "derived", "With exact (full-batch) gradients L-BFGS works: its gap is no worse than Adam's",
          "geometric mean over seeds of the full-train relative gap, L-BFGS (strong Wolfe) / Adam at its best lr, "
          "full batch, same sample budget", at_most(WORKS),
          setup=("lbfgs_seeds", "lbfgs_epochs", "adam_lrs", "lbfgs_memory", "newton_alpha")),
    Claim("J11", "lecture", "L-BFGS does not work with mini-batch gradients",
          "geometric mean over seeds of the full-train relative gap, L-BFGS (strong Wolfe, one step of max_iter 20 "
          "per batch) / Adam at its best lr, after the same samples through the gradient",
          exceeds(1, NOT_WORKING, NOT_WORKING_WHY), premise="J11p",
          setup=("lbfgs_seeds", "lbfgs_epochs", "adam_lrs", "lbfgs_memory", "newton_alpha"),
          scope=Scope("lbfgs_batch_sizes", 32, "a typical mini-batch; 128 and the full batch (0) beside it")),
    Claim("J11b", "derived", "... nor without a line search (fixed step lr = 1)",
          "as J11, L-BFGS without line search", exceeds(1, NOT_WORKING, NOT_WORKING_WHY), premise="J11p",
          setup=("lbfgs_seeds", "lbfgs_epochs", "adam_lrs", "lbfgs_memory", "newton_alpha"),
          scope=Scope("lbfgs_batch_sizes", 32, "as J11")),
    Claim("J12a", "lecture", "η = 1/L is the optimal constant step",
          "argmin over ηL ∈ (0, 2) of GD iterations to relative gap 1e-8, mean over random spectra",
          within(1, STEP_BAND, STEP_WHY), setup=("spectra", "quad_dim", "eta_spacing"),
          scope=Scope("kappas", 10.0, "κ moves 2/(L+μ) away from 1/L")),
    Claim("J12c", "derived", "The optimal constant step is 2/(L + μ) (Polyak 1987)",
          "argmin of iterations over 2/(L + μ), mean over random spectra",
          within(1, STEP_BAND, "±10%, as J12a"), setup=("spectra", "quad_dim", "eta_spacing"),
          scope=Scope("kappas", 10.0, "as J12a")),
    Claim("J12b", "check", "η = 1/L maximises the guaranteed decrease η(1 − Lη/2)‖∇f‖² (the descent-lemma sense)",
          "|argmax of η(1 − Lη/2) × L − 1|", at_most(ARGMAX)),
    Claim("J13p", "derived", "GD runs on the toy meet non-convexity",
          "share of starts passing a point with a negative second derivative, Wilson CI", at_least(0.5),
          setup=("toy_starts", "toy_dim", "toy_steps")),
    Claim("J13", "check", "min_{i<k} ‖∇f‖² ≤ 2L(f₀ − f*)/k also for non-convex f",
          "largest k·min‖∇f‖² / (2L(f₀ − f*)) over k and starts", at_most(BOUND), premise="J13p",
          setup=("toy_starts", "toy_dim", "toy_steps")),
    Claim("J14a", "check", "L2 makes L2-logistic strongly convex: λ_min(∇²f) ≥ 2α",
          "smallest λ_min(∇²f)/(2α) over α and random points", at_least(1 - 1e-9), setup=("alphas", "starts")),
    Claim("J14p", "derived", "Digits 0 vs 1 are linearly separable (the minimiser without L2 is at infinity)",
          "smallest margin y·xᵀw of GD's last iterate without L2 (positive: a separator found)", at_least(1e-3)),
    Claim("J14b", "derived", "Without L2, GD on separable logistic regression is sublinear: the gap falls like 1/t",
          "log-log slope of the relative gap (f* = 0) vs t over the last two decades of steps", between(*RATE),
          premise="J14p", scope=Scope("sep_windows", 100000, "rates are asymptotic: the fit's last step")),
    Claim("J14d", "derived", "Without L2 the weights grow without bound, ‖w_t‖ ∝ ln t (Soudry et al. 2018)",
          "R² of ‖w_t‖ against ln t over the last two decades of steps", at_least(LINEAR_FIT), premise="J14p",
          scope=Scope("sep_windows", 100000, "as J14b")),
    Claim("J14c", "derived", "With L2, GD converges linearly: ln(gap) falls on a straight line in t",
          "R² of ln(relative gap) against t where the gap lies in [1e-10, 1e-4]", at_least(LINEAR_FIT),
          scope=Scope("sep_alphas", 1e-3, "κ = L/2α sets the rate; the catalogue's α")),
    Claim("J14e", "check", "With L2 the weights stay bounded",
          "‖w‖ at GD's last step with L2 / its bound √(ln 2/α) (f(w) ≤ f(0) = ln 2)", at_most(1.0),
          scope=Scope("sep_alphas", 1e-3, "as J14c")),
    Claim("J15a", "check", "ReLU's gradient jumps where a pre-activation crosses 0 (not L-smooth)",
          "log-log slope of ‖∇L(t*+h) − ∇L(t*−h)‖ vs h ∈ [1e-8, 1e-4], mean over lines", at_most(KINK[0]),
          setup=("lines", "kink_n", "kink_hidden")),
    Claim("J15b", "check", "ELU's gradient stays Lipschitz across the same crossing",
          "as J15a, ELU", at_least(KINK[1]), setup=("lines", "kink_n", "kink_hidden")),
]

TOLERANCES = {"*": {"iterations": Tol(rtol=0, atol=1), "order": Tol(rtol=1e-6, atol=1e-9)}}
DEFAULT_TOLERANCE = Tol(rtol=1e-6, atol=1e-12)


# --- config -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    eps: float = 1e-6                      # J1, J6, J7: iterations until (f − f*) ≤ ε (f₀ − f*)
    bootstrap: int = option(200, "J1: bootstrap resamples of the digits rows")
    quadratics: int = 20                   # J2a, J4a: random quadratics and starts
    logistic_n: int = 600                  # J3, J6, J7, J9, J14: digits rows of the L2-logistic problem
    alphas: tuple = (1e-4, 1e-3, 1e-2)     # J3, J14a: L2 strengths α
    starts: int = 10                       # J3, J14a: random starts / points
    mlp_n: int = 32                        # J4b: regression points of the tanh MLP
    mlp_hidden: int = 5                    # J4b: hidden units (P = 26)
    mlp_starts: int = option(100, "J4b: random starts per init scale")
    init_scales: tuple = (0.5, 1.0, 2.0)   # J4b: × torch.nn.Linear's default init
    newton_steps: int = 10                 # J4b: pure Newton steps per run
    sizes: tuple = (100, 300, 1000, 3000)  # J5: parameter counts P
    cost_batch: int = 16                   # J5: rows of the cost batch
    cost_in: int = 8                       # J5: inputs of the cost MLP
    eta0_grid: int = 7                     # J6, J7b: η₀L on logspace(0, 3)
    gammas: tuple = (1e-4, 0.5)            # J6b: Armijo's γ
    backtrack_alpha: float = 1e-2          # J6, J7b: α of the L2-logistic problem (κ ≈ L/2α)
    max_iter: int = 20000                  # J6, J7b: iteration cap (a naive run may never converge)
    newton_alpha: float = 1e-3             # J9: α of the L2-logistic problem
    far_starts: int = option(50, "J9: random far starts per distance")
    start_scales: tuple = (1.0, 10.0, 100.0)  # J9: start ~ N(0, r² I)
    newton_gap: float = 1e-10              # J9: converged when f − f* ≤ this
    pure_steps: int = 30                   # J9p: pure Newton steps from each start
    chains: int = option(20, "J10: stochastic Armijo chains")
    batches: tuple = (1, 10, 50)           # J10: mini-batch sizes
    sgd_checkpoints: tuple = (100, 1000)   # J10: steps at which the full gap is read; the last (10³) decides
    kappas: tuple = (2.0, 10.0, 100.0)     # J12: condition numbers
    spectra: int = option(20, "J12: random spectra per κ")
    quad_dim: int = 20                     # J12: dimension of the quadratics
    eta_spacing: float = 0.01              # J12: ηL grid spacing (1% of 1/L, under the 2% that resolves it)
    toy_starts: int = 100                  # J13: starts of GD on the toy
    toy_dim: int = 10                      # J13: its dimension
    toy_steps: int = 500                   # J13: GD steps
    lines: int = option(50, "J15: random parameter lines")
    kink_n: int = 20                       # J15: digits rows of the kink network
    kink_hidden: int = 16                  # J15: its hidden units
    wolfe_data: tuple = ("raw", "standardised")  # J8: digits pixels on their 0–16 scale, and standardised
    wolfe_starts: int = option(40, "J8: random starts (40 of 40 give a Wilson lower end 0.91)")
    wolfe_iters: int = 300                 # J8: L-BFGS iterations (one step call with max_iter = N)
    wolfe_gap: float = 1e-4                # J8: converged: relative gap ≤ this (four decades from the start)
    lbfgs_memory: int = 10                 # J8, J11: L-BFGS history size
    lbfgs_seeds: int = option(10, "J11: seeds (start and batch order)")
    lbfgs_batch_sizes: tuple = (32, 128, 0)  # J11: mini-batch sizes; 0 = the full batch
    lbfgs_epochs: int = 20                 # J11: samples through the gradient, in passes over the data
    adam_lrs: tuple = (3e-3, 1e-2, 3e-2)   # J11: Adam's lr grid; the best (geometric mean gap) is the reference
    sep_windows: tuple = (1000, 10000, 100000)  # J14b: fits over [T/100, T]
    sep_alphas: tuple = (1e-3, 1e-2)       # J14c: L2 strengths
    jump_hs: tuple = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)  # J15: half-widths h


# more resamples, starts and seeds; the same problems
FULL = Config(bootstrap=1000, mlp_starts=300, far_starts=200, chains=50, spectra=50, lines=200, wolfe_starts=100,
              lbfgs_seeds=30)

QUICK = Config(bootstrap=20, quadratics=5, starts=3, mlp_starts=20, eta0_grid=3,
               far_starts=10, chains=5, sgd_checkpoints=(100, 300), spectra=5, toy_starts=20, lines=10,
               wolfe_starts=5, wolfe_iters=100, wolfe_data=("raw",), lbfgs_seeds=2, lbfgs_epochs=2,
               lbfgs_batch_sizes=(32, 0),
               adam_lrs=(1e-2,), sep_windows=(1000, 10000))


def validate(cfg: Config) -> None:
    if cfg.eta_spacing > 0.02:
        raise ValueError(f"eta_spacing {cfg.eta_spacing} does not resolve the argmin (≤ 0.02 of 1/L)")
    if len(cfg.sizes) < 3:
        raise ValueError("J5b needs at least three sizes for a slope")


# --- measurement ------------------------------------------------------------------------------

EXPERIMENTS = ("stochastic_armijo", "backtracking", "preprocessing", "costs", "newton_mlp", "damped_newton",
               "newton_order", "best_step", "kinks", "exact_steps", "nonconvex_bound", "strong_convexity",
               "naive_counterexample", "separable")


def units(cfg: Config) -> list[dict]:
    """One unit per experiment, slowest first."""
    return [*(dict(experiment="lbfgs_batches", batch=b) for b in cfg.lbfgs_batch_sizes),
            *(dict(experiment="lbfgs_wolfe", data=d) for d in cfg.wolfe_data),
            *(dict(experiment=e) for e in EXPERIMENTS)]


def run_unit(cfg: Config, unit: dict) -> dict[str, pd.DataFrame]:
    """One thread (torch and BLAS): the same numbers in every process, however many cores; pure
    Newton on the MLP (J4b) amplifies a rounding difference into a different end point."""
    name = unit["experiment"]
    with one_thread():
        if name == "lbfgs_batches":
            return {name: quasi_newton.lbfgs_batches(cfg, unit["batch"])}
        if name == "lbfgs_wolfe":
            return {name: quasi_newton.lbfgs_wolfe(cfg, unit["data"])}
        if name == "separable":
            return {name: quasi_newton.separable(cfg)}
        if name == "preprocessing":
            conditioning, scales = experiments.preprocessing(cfg)
            return {"conditioning": conditioning, "pixel_scales": scales}
        return {name: getattr(experiments, name)(cfg)}


# --- statistics -------------------------------------------------------------------------------

def bootstrap_value(cond: pd.DataFrame, fn) -> Estimate:
    """The statistic on the data, with the percentile interval over the row resamples."""
    full = cond[cond.draw == -1].set_index("preprocessing")
    boots = [fn(part.set_index("preprocessing")) for _, part in cond[cond.draw >= 0].groupby("draw")]
    value = fn(full)
    if len(boots) < 2:
        return Estimate.exact(value)
    low, high = np.percentile(boots, [2.5, 97.5])
    return Estimate(value, min(low, value), max(high, value), n=len(boots))


def iteration_ratio(cond: pd.DataFrame, num: str, den: str) -> Estimate:
    return bootstrap_value(cond, lambda t: t.iterations[num] / t.iterations[den])


def raw_kappa(cond: pd.DataFrame) -> Estimate:
    """κ of the raw data set itself (a rare pixel drawn few times makes a resample's κ explode)."""
    return Estimate.exact(float(cond[cond.draw == -1].set_index("preprocessing").kappa["raw"]))


def pixel_scale_ratio(scales: pd.DataFrame) -> Estimate:
    return Estimate.exact(scales.sd.max() / scales.sd.min())


def exact_max(steps: pd.DataFrame, test: str) -> Estimate:
    return Estimate.exact(float(np.abs(stats.select(steps, test=test).value).max()))


def mean_order(orders: pd.DataFrame) -> dict:
    return {a: stats.mean_ci(stats.select(orders, alpha=a).order) for a in sorted(orders.alpha.unique())}


def share(rows: pd.DataFrame, column) -> Estimate:
    flags = rows[column] if isinstance(column, str) else column
    return stats.proportion_ci(int(np.sum(flags)), len(rows))


def negative_at_start(runs: pd.DataFrame) -> Estimate:
    default = stats.select(runs, init_scale=1.0)
    return share(default, "negative_start")


def newton_failures(runs: pd.DataFrame) -> dict:
    return {s: share(part, part.raised | part.negative_end) for s, part in runs.groupby("init_scale")}


def gradient_cost(costs: pd.DataFrame) -> dict:
    return {int(r.nominal): Estimate.exact(r.gradient_flops / r.forward_flops) for r in costs.itertuples()}


def hessian_slope(costs: pd.DataFrame) -> Estimate:
    part = costs[costs.nominal >= 300]
    return stats.loglog_slope_ci(part.P, part.hessian_flops)


def armijo_bound(bt: pd.DataFrame) -> Estimate:
    part = bt[bt.rule == "armijo"]
    return Estimate.exact(part.min_step_over_bound.min() if part.monotone.all() else 0.0)


def armijo_over_gd(bt: pd.DataFrame) -> dict:
    gd = float(bt[bt.rule == "gd_1_over_L"].iterations.iloc[0])
    out = {}
    for gamma, part in bt[bt.rule == "armijo"].groupby("gamma"):
        ratio = np.where(part.converged, part.iterations / gd, np.inf)
        out[float(gamma)] = Estimate.exact(float(ratio.max()))
    return out


def naive_over_armijo(bt: pd.DataFrame) -> Estimate:
    naive = bt[bt.rule == "naive"].set_index("eta0_L")
    armijo = bt[(bt.rule == "armijo") & (bt.gamma == 0.5)].set_index("eta0_L")
    return Estimate.exact(float(np.median(naive.iterations / armijo.iterations)))


def counterexample(naive: pd.DataFrame) -> Estimate:
    t = naive.set_index("rule").iterations
    return Estimate.exact(t["naive"] / t["armijo"])


def damped_newton_ok(runs: pd.DataFrame) -> dict:
    return {float(r): Estimate.exact(float((part.converged & part.last5_full).mean()))
            for r, part in runs.groupby("start_scale")}


def pure_newton_raises(runs: pd.DataFrame) -> Estimate:
    far = runs[runs.start_scale == runs.start_scale.max()]
    return share(far, "pure_raises")


def final_gap(sgd: pd.DataFrame, problem: str) -> dict:
    last = sgd[(sgd.problem == problem) & (sgd.steps == sgd.steps.max())]
    return {int(b): stats.geometric_mean_ci(part.rel_gap) for b, part in last.groupby("batch")}


def best_step_over(best: pd.DataFrame, over: str | None) -> dict:
    out = {}
    for kappa, part in best.groupby("kappa"):
        ratio = part.argmin_eta_L / (part[over] if over else 1.0)
        out[float(kappa)] = stats.mean_ci(ratio)
    return out


def kink_slope(jumps: pd.DataFrame, activation: str) -> Estimate:
    part = stats.select(jumps, activation=activation)
    part = part[part.h <= KINK_H]
    slopes = [stats.loglog_slope_ci(line.h, line.jump).value for _, line in part.groupby("line")]
    return stats.mean_ci(slopes)


def wolfe_share(runs: pd.DataFrame, rule: str, fail: bool = False) -> dict:
    out = {}
    for data, part in runs.groupby("data", sort=False):
        ok = stats.select(part, rule=rule).converged.to_numpy(bool)
        out[data] = stats.proportion_ci(int((~ok if fail else ok).sum()), len(ok))
    return out


def wolfe_gain(runs: pd.DataFrame) -> dict:
    out = {}
    for data, part in runs.groupby("data", sort=False):
        w = stats.select(part, rule="strong_wolfe").sort_values("seed").converged.to_numpy(float)
        f = stats.select(part, rule="fixed_step").sort_values("seed").converged.to_numpy(float)
        out[data] = stats.paired_difference(w, f)
    return out


def lbfgs_over_adam(runs: pd.DataFrame, method: str) -> dict:
    """Per batch size: geometric mean over seeds of L-BFGS's gap / the best Adam lr's gap."""
    out = {}
    for batch, part in runs.groupby("batch"):
        adam = part[part.method.str.startswith("adam")]
        best = adam.groupby("method").rel_gap.apply(lambda g: np.log(g).mean()).idxmin()
        a = stats.select(part, method=best).sort_values("seed").rel_gap.to_numpy()
        q = stats.select(part, method=method).sort_values("seed").rel_gap.to_numpy()
        out[int(batch)] = stats.geometric_mean_ci(q / a)
    return out


def separable_fit(sep: pd.DataFrame, cfg, what: str) -> dict:
    part = sep[sep.alpha == 0]
    out = {}
    for T in cfg.sep_windows:
        w = part[(part.step >= T / 100) & (part.step <= T)]
        if what == "rate":
            out[int(T)] = stats.loglog_slope_ci(w.step, w.rel_gap)
        else:
            out[int(T)] = Estimate.exact(float(np.corrcoef(np.log(w.step), w.norm)[0, 1] ** 2))
    return out


def linear_phase(sep: pd.DataFrame) -> dict:
    out = {}
    for alpha, part in sep[sep.alpha > 0].groupby("alpha"):
        w = part[(part.rel_gap >= LINEAR_GAPS[0]) & (part.rel_gap <= LINEAR_GAPS[1])]
        out[float(alpha)] = Estimate.exact(float(np.corrcoef(w.step, np.log(w.rel_gap))[0, 1] ** 2)
                                           if len(w) > 2 else 0.0)
    return out


def bounded_norm(sep: pd.DataFrame) -> dict:
    return {float(a): Estimate.exact(float(part.norm.iloc[-1] / np.sqrt(np.log(2) / a)))
            for a, part in sep[sep.alpha > 0].groupby("alpha")}


def last_margin(sep: pd.DataFrame) -> Estimate:
    return Estimate.exact(float(sep[sep.alpha == 0].margin.iloc[-1]))


def estimate(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, Estimate]:
    cond, steps, bt = tables["conditioning"], tables["exact_steps"], tables["backtracking"]
    return {
        "J1p": raw_kappa(cond),
        "J1a": iteration_ratio(cond, "centred", "raw"),
        "J1bp": pixel_scale_ratio(tables["pixel_scales"]),
        "J1b": iteration_ratio(cond, "standardised", "centred"),
        "J1c": exact_max(steps, "whitened_kappa_minus_1"),
        "J2a": exact_max(steps, "newton_quadratic"),
        "J2b": exact_max(steps, "whitened_gd_one_step"),
        "J3": mean_order(tables["newton_order"]),
        "J4a": exact_max(steps, "saddle_newton"),
        "J4p": negative_at_start(tables["newton_mlp"]),
        "J4b": newton_failures(tables["newton_mlp"]),
        "J5a": gradient_cost(tables["costs"]),
        "J5b": hessian_slope(tables["costs"]),
        "J6a": armijo_bound(bt),
        "J6b": armijo_over_gd(bt),
        "J7a": counterexample(tables["naive_counterexample"]),
        "J7b": naive_over_armijo(bt),
        "J8b": wolfe_share(tables["lbfgs_wolfe"], "strong_wolfe"),
        "J8p": wolfe_share(tables["lbfgs_wolfe"], "fixed_step", fail=True)["raw"],
        "J8c": wolfe_gain(tables["lbfgs_wolfe"]),
        "J9p": pure_newton_raises(tables["damped_newton"]),
        "J9": damped_newton_ok(tables["damped_newton"]),
        "J10p": final_gap(tables["stochastic_armijo"], "noisy")[10],
        "J10": final_gap(tables["stochastic_armijo"], "interpolating"),
        "J10b": final_gap(tables["stochastic_armijo"], "interpolating"),
        "J11p": lbfgs_over_adam(tables["lbfgs_batches"], "lbfgs_wolfe")[0],
        "J11": lbfgs_over_adam(tables["lbfgs_batches"], "lbfgs_wolfe"),
        "J11b": lbfgs_over_adam(tables["lbfgs_batches"], "lbfgs_fixed"),
        "J12a": best_step_over(tables["best_step"], None),
        "J12c": best_step_over(tables["best_step"], "polyak_eta_L"),
        "J12b": Estimate.exact(abs(experiments.descent_lemma_argmax() - 1)),
        "J13p": share(tables["nonconvex_bound"], "negative_curvature"),
        "J13": Estimate.exact(tables["nonconvex_bound"].bound_ratio.max()),
        "J14a": Estimate.exact(tables["strong_convexity"].lam_min_over_2alpha.min()),
        "J14p": last_margin(tables["separable"]),
        "J14b": separable_fit(tables["separable"], cfg, "rate"),
        "J14d": separable_fit(tables["separable"], cfg, "norm"),
        "J14c": linear_phase(tables["separable"]),
        "J14e": bounded_norm(tables["separable"]),
        "J15a": kink_slope(tables["kinks"], "relu"),
        "J15b": kink_slope(tables["kinks"], "elu"),
    }


def facts(tables: dict[str, pd.DataFrame], cfg: Config) -> dict[str, float | int | str]:
    """Numbers the method text cites beside the claims."""
    full = tables["conditioning"].query("draw == -1").set_index("preprocessing")
    bt, best, sgd = tables["backtracking"], tables["best_step"], tables["stochastic_armijo"]
    at10 = best[best.kappa == 10.0]
    return {
        **{f"kappa_{p}": float(full.kappa[p]) for p in full.index},
        **{f"iterations_{p}": int(full.iterations[p]) for p in full.index},
        "gd_iterations_logistic": int(bt[bt.rule == "gd_1_over_L"].iterations.iloc[0]),
        "naive_converged_share": float(bt[bt.rule == "naive"].converged.mean()),
        "iterations_at_one_over_L_k10": float(at10.iterations_one_over_L.mean()),
        "iterations_best_k10": float(at10.iterations_best.mean()),
        "interp_gap_first_checkpoint": float(stats.geometric_mean_ci(
            sgd[(sgd.problem == "interpolating") & (sgd.batch == 10) & (sgd.steps == sgd.steps.min())].rel_gap).value),
        "orders_per_start": float(tables["newton_order"].orders.mean()),
        "toy_final_over_fstar": float(tables["nonconvex_bound"].final_value_over_fstar.max()),
        "sep_last_step": int(tables["separable"].query("alpha == 0").step.max()),
        "sep_final_norm": float(tables["separable"].query("alpha == 0").norm.iloc[-1]),
    }
