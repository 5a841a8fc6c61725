"""Many independent SGD chains as one batched tensor computation, and the convex problems.

Problems are finite sums F(x) = (1/n) Σ_i f_i(x) + (λ/2)‖x‖² with f_i depending on x
through the margin z_i = a_iᵀx only:

- least squares  f_i = ½ (z_i − y_i)²          (the normalisation of :mod:`dlclaims.theory`);
- logistic       f_i = log(1 + e^{z_i}) − t_i z_i,  t_i ∈ {0, 1}.

A run advances C chains at once: the state is a (C, d) tensor, one step gathers a
(C, b, d) block of rows and updates every chain with a few batched tensor operations;
there is no Python loop over chains. Each chain has its own step-size schedule
α_k = a / (k + k0)^p (p = 0: constant) and its own seed.

**Random numbers.** Row indices come from a counter-based generator: index j of step k of
the chain with seed s is splitmix64(splitmix64(s) + (k·b + j + 1)·φ) mod n, φ the 64-bit
golden ratio. A chain's indices depend on its seed alone, never on which other chains run
beside it, so one chain run alone reproduces its trajectory inside any batch. Rows are
drawn uniformly with replacement (the mod-n bias is below 1e-15 for n ≤ 10⁴).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy import optimize

from dlclaims.threads import one_thread

DTYPE = torch.float64
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


# --- problems -------------------------------------------------------------------------------

@dataclass
class Problem:
    """A finite-sum convex problem with its optimum found to high precision."""

    name: str
    kind: str  # "least_squares" | "logistic"
    A: torch.Tensor  # (n, d)
    y: torch.Tensor  # (n,) targets, or labels in {0, 1}
    l2: float = 0.0
    noise: float = 0.0
    x_star: torch.Tensor = field(default=None)
    F_star: float = math.nan
    hessian: torch.Tensor = field(default=None)  # ∇²F(x*)

    @property
    def n(self) -> int:
        return self.A.shape[0]

    @property
    def d(self) -> int:
        return self.A.shape[1]


def margin_derivative(kind: str, z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """∂f_i/∂z_i."""
    return z - t if kind == "least_squares" else torch.sigmoid(z) - t


def loss(problem: Problem, X: torch.Tensor, block: int = 128) -> torch.Tensor:
    """F at each row of X (C, d) -> (C,), ``block`` rows at a time (a (C, n) margin matrix
    for thousands of chains costs more in page faults than in arithmetic)."""
    if X.shape[0] > block:
        return torch.cat([loss(problem, part, block) for part in X.split(block)])
    Z = X @ problem.A.T  # (C, n)
    if problem.kind == "least_squares":
        return (0.5 * (Z - problem.y) ** 2).mean(1) + 0.5 * problem.l2 * (X * X).sum(1)
    # mean_i log(1 + e^{z_i}) − t_i z_i, the linear part as one product: (1/n) Σ t_i a_iᵀx = xᵀ(Aᵀt/n)
    # (logaddexp is about twice as fast as softplus in float64)
    linear = X @ (problem.A.T @ problem.y / problem.n)
    return torch.logaddexp(Z, Z.new_zeros(())).mean(1) - linear + 0.5 * problem.l2 * (X * X).sum(1)


def excess(problem: Problem, X: torch.Tensor) -> torch.Tensor:
    """F(x) − F* for each row of X; exact quadratic form for least squares (no cancellation)."""
    if problem.kind == "least_squares":
        E = X - problem.x_star
        return 0.5 * ((E @ problem.hessian) * E).sum(1)
    return loss(problem, X) - problem.F_star


def full_gradient(problem: Problem, X: torch.Tensor) -> torch.Tensor:
    """∇F at each row of X (C, d)."""
    if problem.kind == "least_squares":
        return (X - problem.x_star) @ problem.hessian
    Z = X @ problem.A.T
    return margin_derivative(problem.kind, Z, problem.y) @ problem.A / problem.n + problem.l2 * X


def _solve(problem: Problem) -> Problem:
    with one_thread():
        return _solve_inner(problem)


def _solve_inner(problem: Problem) -> Problem:
    A = problem.A.numpy()
    y = problem.y.numpy()
    n, d = A.shape
    if problem.kind == "least_squares":
        x, *_ = np.linalg.lstsq(A, y, rcond=None)
        H = A.T @ A / n
    else:
        def fun(w):
            z = A @ w
            return np.mean(np.logaddexp(0, z) - y * z) + 0.5 * problem.l2 * w @ w

        def jac(w):
            return A.T @ (1 / (1 + np.exp(-(A @ w))) - y) / n + problem.l2 * w

        def hess(w):
            p = 1 / (1 + np.exp(-(A @ w)))
            return (A * (p * (1 - p))[:, None]).T @ A / n + problem.l2 * np.eye(d)

        res = optimize.minimize(fun, np.zeros(d), jac=jac, hess=hess, method="trust-exact",
                                options=dict(gtol=1e-13, maxiter=200))
        x = res.x
        for _ in range(3):  # trust-exact may stop on a tiny radius; plain Newton polishes to round-off
            x = x - np.linalg.solve(hess(x), jac(x))
        H = hess(x)
    problem.x_star = torch.as_tensor(x, dtype=DTYPE)
    problem.hessian = torch.as_tensor(H, dtype=DTYPE)
    problem.F_star = float(loss(problem, problem.x_star[None])[0])
    return problem


def least_squares(name: str, n: int, d: int, spectrum, noise: float, seed: int) -> Problem:
    """Rows a_i = diag(√spectrum) z_i with z_i ~ N(0, I); y = A x_true + noise·ε, x_true ~ N(0, I)."""
    rng = np.random.default_rng(seed)
    scale = np.sqrt(np.asarray(spectrum, dtype=float))
    A = rng.standard_normal((n, d)) * scale
    x_true = rng.standard_normal(d)
    y = A @ x_true + noise * rng.standard_normal(n)
    p = Problem(name, "least_squares", torch.as_tensor(A, dtype=DTYPE), torch.as_tensor(y, dtype=DTYPE),
                noise=noise)
    return _solve(p)


def logistic(name: str, n: int, d: int, weight_norm: float, l2: float, seed: int) -> Problem:
    """Rows a_i ~ N(0, I); labels t_i ~ Bernoulli(σ(a_iᵀ x_true)), ‖x_true‖ = weight_norm."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d))
    x_true = rng.standard_normal(d)
    x_true *= weight_norm / np.linalg.norm(x_true)
    t = (rng.random(n) < 1 / (1 + np.exp(-(A @ x_true)))).astype(float)
    p = Problem(name, "logistic", torch.as_tensor(A, dtype=DTYPE), torch.as_tensor(t, dtype=DTYPE), l2=l2)
    return _solve(p)


def mean_sample_smoothness(problem: Problem) -> float:
    """(1/n) Σ_i L_i with L_i the smoothness of f_i: ‖a_i‖² (LS) or ‖a_i‖²/4 (logistic), plus λ."""
    sq = float((problem.A**2).sum(1).mean())
    return (sq if problem.kind == "least_squares" else sq / 4) + problem.l2


def smoothness(problem: Problem) -> float:
    """L of F: λ_max(AᵀA/n) (LS) or λ_max(AᵀA/n)/4 + λ (logistic)."""
    top = float(torch.linalg.eigvalsh(problem.A.T @ problem.A / problem.n)[-1])
    return top if problem.kind == "least_squares" else top / 4 + problem.l2


# --- random indices -------------------------------------------------------------------------

def _splitmix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def chain_indices(seeds, start: int, steps: int, batch: int, n: int) -> np.ndarray:
    """Row indices (C, steps, batch) for steps start..start+steps−1 of the chains ``seeds``."""
    with np.errstate(over="ignore"):
        keys = _splitmix(np.asarray(seeds, dtype=np.uint64) * _GOLDEN + _GOLDEN)
        counter = np.arange(start * batch + 1, (start + steps) * batch + 1, dtype=np.uint64)
        u = _splitmix(keys[:, None] + counter[None, :] * _GOLDEN)
    return (u % np.uint64(n)).astype(np.int64).reshape(len(keys), steps, batch)


# --- the runs -------------------------------------------------------------------------------

@dataclass
class Schedule:
    """Per-chain step sizes α_k = a / (k + k0)^p, as (C,) arrays."""

    a: np.ndarray
    k0: np.ndarray
    p: np.ndarray

    @classmethod
    def constant(cls, h) -> "Schedule":
        h = np.atleast_1d(np.asarray(h, dtype=float))
        return cls(h, np.ones_like(h), np.zeros_like(h))

    def steps(self, start: int, count: int) -> np.ndarray:
        k = np.arange(start, start + count, dtype=float)[:, None]
        return self.a[None, :] / (k + self.k0[None, :]) ** self.p[None, :]  # (count, C)


@dataclass
class Trace:
    """What a run logged at steps ``k`` (x_k is the iterate after k updates)."""

    k: np.ndarray  # (T,)
    gap_last: np.ndarray  # (T, C) F(x_k) − F*
    gap_avg: np.ndarray  # (T, C) F(x̂_k) − F*, x̂_k = Σ_{i≤k} α_i x_i / Σ_{i≤k} α_i (NaN if not averaged)
    grad_sq: np.ndarray  # (T, C) ‖ĝ_k‖², the stochastic gradient drawn at x_k
    x_last: torch.Tensor  # (C, d) the final iterate


def run_chains(problem: Problem, x0: torch.Tensor, schedule: Schedule, seeds, steps: int,
               batch: int = 1, log_at=None, chunk: int = 512, average_at=None) -> Trace:
    """Run len(seeds) SGD chains from x0 for ``steps`` updates, logging at ``log_at`` (⊆ 0..steps).

    The averaged iterate is the lecture's x̂_k = Σ_{i≤k} α_i x_i / Σ_{i≤k} α_i, α_i the step
    taken from x_i: the uniform mean of x_0..x_k for a constant step (and for a zero step).
    Its gap is evaluated at the logged steps in ``average_at`` (default: all), NaN at the
    others: a logistic loss costs C × n per evaluation.
    """
    with one_thread(), torch.no_grad():
        return _run_chains(problem, x0, schedule, seeds, steps, batch, log_at, chunk, average_at)


def run_chains_stacked(problems, owner, x0: torch.Tensor, schedule: Schedule, seeds, steps: int, batch: int = 1,
                       log_at=None, chunk: int = 512, average_at=None) -> Trace:
    """:func:`run_chains` over several problems at once: chain c runs on ``problems[owner[c]]``
    from row c of ``x0`` (C, d) (or one (d,) start for all).

    The problems must share n, d, kind and λ (draws of one design): their rows are stacked into
    one (P·n, d) matrix and chain c's indices are offset by owner[c]·n, so every chain draws the
    same rows and takes the same steps as when run alone on its problem (bit for bit), and logs
    the same gaps up to the summation order of a product over a different number of rows (gaps
    are evaluated per problem). Many small problems then cost one batched run, not P.
    """
    owner = np.asarray(owner, dtype=np.int64)
    first = problems[0]
    if any((p.n, p.d, p.kind, p.l2) != (first.n, first.d, first.kind, first.l2) for p in problems):
        raise ValueError("stacked problems must share n, d, kind and l2")
    if owner.shape != (len(np.asarray(seeds)),) or owner.min() < 0 or owner.max() >= len(problems):
        raise ValueError("owner must give each chain a problem index")
    stacked = Problem("stacked", first.kind, torch.cat([p.A for p in problems]), torch.cat([p.y for p in problems]),
                      l2=first.l2)
    members = [np.flatnonzero(owner == i) for i in range(len(problems))]

    def evaluate(X: torch.Tensor) -> torch.Tensor:
        out = X.new_empty(X.shape[0])
        for p, rows in zip(problems, members):
            if rows.size:
                out[rows] = excess(p, X[rows])
        return out

    with one_thread(), torch.no_grad():
        return _run_chains(stacked, x0, schedule, seeds, steps, batch, log_at, chunk, average_at,
                           offset=owner * first.n, evaluate=evaluate, rows_per_problem=first.n)


def _run_chains(problem, x0, schedule, seeds, steps, batch, log_at, chunk, average_at=None, offset=None,
                evaluate=None, rows_per_problem=None) -> Trace:
    if evaluate is None:
        evaluate = lambda X: excess(problem, X)  # noqa: E731
    seeds = np.asarray(seeds)
    C = len(seeds)
    if len(schedule.a) == 1 and C > 1:
        schedule = Schedule(*(np.repeat(v, C) for v in (schedule.a, schedule.k0, schedule.p)))
    log_at = np.unique(np.asarray([steps] if log_at is None else log_at, dtype=int))
    if log_at.min() < 0 or log_at.max() > steps:
        raise ValueError(f"log steps must lie in 0..{steps}")
    logged = set(log_at.tolist())
    averaged = logged if average_at is None else set(np.asarray(average_at, dtype=int).tolist())
    A, y, kind, l2 = problem.A, problem.y, problem.kind, problem.l2
    x = x0.to(DTYPE).expand(C, -1).clone()  # one start for all chains, or one row per chain
    x_avg = x.clone()
    weight = torch.from_numpy(schedule.steps(0, 1)[0]).unsqueeze(-1)  # Σ_{i≤k} α_i, (C, 1)
    nan = torch.full((C,), math.nan, dtype=DTYPE)
    gap_last, gap_avg, grad_sq = [], [], []
    for start in range(0, steps + 1, chunk):
        count = min(chunk, steps + 1 - start)
        # (count, C·b), contiguous per step: index_select is far cheaper than fancy indexing
        rows_at = chain_indices(seeds, start, count, batch, problem.n if offset is None else rows_per_problem)
        if offset is not None:
            rows_at += offset[:, None, None]
        idx = torch.from_numpy(np.ascontiguousarray(rows_at.transpose(1, 0, 2).reshape(count, -1)))
        alphas = torch.from_numpy(schedule.steps(start, count + 1)).unsqueeze(-1)  # (count + 1, C, 1)
        for j in range(count):
            k = start + j
            rows = A.index_select(0, idx[j])
            targets = y.index_select(0, idx[j])
            if batch == 1:  # elementwise beats bmm on (C, 1, d) blocks
                dz = margin_derivative(kind, (rows * x).sum(1, keepdim=True), targets.unsqueeze(1))
                g = rows * dz
            else:
                rows = rows.view(C, batch, -1)  # (C, b, d)
                z = torch.bmm(rows, x.unsqueeze(-1)).squeeze(-1)  # (C, b) margins
                dz = margin_derivative(kind, z, targets.view(C, batch))
                g = torch.bmm(dz.unsqueeze(1), rows).squeeze(1).div_(batch)  # (C, d)
            if l2:
                g += l2 * x
            if k in logged:
                gap_last.append(evaluate(x))
                gap_avg.append(evaluate(x_avg) if k in averaged else nan)
                grad_sq.append((g * g).sum(1))
            if k == steps:
                break
            x -= alphas[j] * g
            weight += alphas[j + 1]
            # α_{k+1} / Σ_{i≤k+1} α_i; a zero schedule averages uniformly
            share = torch.where(weight > 0, alphas[j + 1] / weight.clamp_min(1e-300), 1.0 / (k + 2))
            x_avg += (x - x_avg) * share
    stack = lambda rows: torch.stack(rows).numpy()  # noqa: E731
    return Trace(log_at, stack(gap_last), stack(gap_avg), stack(grad_sq), x)


def run_gd(problem: Problem, x0: torch.Tensor, step: float, steps: int, log_at,
           stop_below: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch gradient descent with constant step: (k, F(x_k) − F*) at ``log_at``.

    ``stop_below``: stop after the first logged gap at or below it (round-off), returning
    the logged steps up to there: a linearly converging run need not idle at round-off.
    """
    with one_thread(), torch.no_grad():
        return _run_gd(problem, x0, step, steps, log_at, stop_below)


def _run_gd(problem, x0, step, steps, log_at, stop_below=None):
    log_at = np.unique(np.asarray(log_at, dtype=int))
    logged = set(log_at.tolist())
    x = x0.to(DTYPE).reshape(1, -1).clone()
    gaps = []
    for k in range(steps + 1):
        if k in logged:
            gaps.append(float(excess(problem, x)[0]))
            if stop_below is not None and gaps[-1] <= stop_below:
                break
        if k == steps:
            break
        x -= step * full_gradient(problem, x)
    return log_at[: len(gaps)], np.asarray(gaps)
