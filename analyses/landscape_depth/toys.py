"""The toys of family I: GOE Hessians (I1), the strict saddle (I3), heavy ball across a barrier and a
plateau (I4), value vs norm clipping (I11); their tables and statistics. Float64 throughout."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dlclaims import rng
from dlclaims.suite import stats
from dlclaims.suite.claims import Estimate

if TYPE_CHECKING:
    from . import Config

THETA = math.log(3) / 4        # Dean & Majumdar: P(GOE n×n has all eigenvalues > 0) ≈ exp(−θ n²)
ESCAPE = 0.5                   # I3: |y| above this is out of the saddle's reach (the minima sit at ±1)

# --- measurement: I1 GOE ----------------------------------------------------------------------

def goe_minima(n: int, draws: int, gen: np.random.Generator, chunk: int = 100_000) -> int:
    """How many of ``draws`` GOE n×n matrices (G + Gᵀ)/2, G iid N(0, 1), are positive definite."""
    hits = 0
    for start in range(0, draws, chunk):
        g = gen.standard_normal((min(chunk, draws - start), n, n))
        hits += int((np.linalg.eigvalsh((g + g.transpose(0, 2, 1)) / 2)[:, 0] > 0).sum())
    return hits


# --- I3: the strict saddle ----------------------------------------------------------------------

def saddle_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """∇ of f = ½x² − ½y² + ¼y⁴: a strict saddle at 0, minima at (0, ±1)."""
    return x, -y + y**3


def escape_steps(sigma: float, eta: float, steps: int, gen: np.random.Generator, draws: int) -> np.ndarray:
    """Steps until |y| > ESCAPE for GD with gradient noise σ·N(0, I) from (1, 0); inf if never."""
    x, y = np.ones(draws), np.zeros(draws)
    out = np.full(draws, np.inf)
    for t in range(1, steps + 1):
        gx, gy = saddle_grad(x, y)
        x = x - eta * (gx + sigma * gen.standard_normal(draws))
        y = y - eta * (gy + sigma * gen.standard_normal(draws))
        out[np.isinf(out) & (np.abs(y) > ESCAPE)] = t
    return out


def linear_escape_time(sigma: float, eta: float) -> float:
    """Linearised: y_t ≈ (1+η)^t ησ Z / √((1+η)² − 1); steps until that reaches ESCAPE (|Z| = 1)."""
    spread = eta * sigma / math.sqrt((1 + eta) ** 2 - 1)
    return math.log(ESCAPE / spread) / math.log(1 + eta)


def saddle_tables(cfg: Config) -> dict[str, pd.DataFrame]:
    x, y, largest_y = np.ones(1), np.zeros(1), 0.0
    for _ in range(cfg.saddle_steps):
        gx, gy = saddle_grad(x, y)
        x, y = x - cfg.eta_saddle * gx, y - cfg.eta_saddle * gy; largest_y = max(largest_y, float(np.abs(y).max()))  # noqa: E702
    rows = []
    for sigma in sorted(set(cfg.sigmas) | set(cfg.slope_sigmas)):
        budget = int(10 * linear_escape_time(sigma, cfg.eta_saddle))
        t = escape_steps(sigma, cfg.eta_saddle, budget, rng.np_stream(0, "saddle", "noise", str(sigma)),
                         cfg.saddle_draws)
        rows += [dict(sigma=sigma, draw=i, escape_step=float(s), budget=budget,
                      linear_time=linear_escape_time(sigma, cfg.eta_saddle)) for i, s in enumerate(t)]
    plain = pd.DataFrame([dict(steps=cfg.saddle_steps, max_abs_y=largest_y, final_x=float(x[0]))])
    return {"saddle_plain": plain, "saddle_escape": pd.DataFrame(rows)}


# --- I4: momentum across a barrier and a plateau -------------------------------------------------

def well_grad(x: np.ndarray) -> np.ndarray:
    """f = (x² − 1)² + 0.3x: the global minimum near −1.04, a local one near +0.96."""
    return 4 * x**3 - 4 * x + 0.3


def plateau_grad(x: np.ndarray) -> np.ndarray:
    """f = ½(|x| − 2)² outside [−2, 2], exactly flat inside."""
    return np.sign(x) * np.maximum(np.abs(x) - 2, 0.0)


def heavy_ball(grad, x0: np.ndarray, eta: float, beta: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """torch.optim.SGD's heavy ball (β = 0: GD); returns the final x and the smallest x visited."""
    x, v, lowest = x0.copy(), np.zeros_like(x0), x0.copy()
    for _ in range(steps):
        v = beta * v + grad(x)
        x = x - eta * v
        lowest = np.minimum(lowest, x)
    return x, lowest


def momentum_tables(cfg: Config) -> dict[str, pd.DataFrame]:
    x0, rows = rng.np_stream(0, "well", "starts").uniform(1.5, 3.0, cfg.well_starts), []
    runs = [(eta, name, beta) for eta in sorted(set(cfg.etas) | {cfg.eta_well})
            for name, beta in (("gd", 0.0), ("heavy_ball", cfg.beta))]
    runs.append((cfg.eta_well / (1 - cfg.beta), "gd_matched", 0.0))  # GD at heavy ball's effective step
    for eta, name, beta in runs:
        with np.errstate(all="ignore"):
            x, _ = heavy_ball(well_grad, x0, eta, beta, cfg.well_steps)
        rows += [dict(eta=eta, method=name, start=i, x0=a, x_final=b, global_well=bool(b < 0),
                      local_well=bool(0 < b < 2), diverged=bool(not np.isfinite(b))) for i, (a, b) in enumerate(zip(x0, x))]
    on = np.linspace(-1.5, 1.5, 7)
    x_gd, _ = heavy_ball(plateau_grad, on, cfg.eta_plateau, 0.0, 1000)
    start = np.array([4.0])
    _, low_gd = heavy_ball(plateau_grad, start, cfg.eta_plateau, 0.0, 1000)
    _, low_hb = heavy_ball(plateau_grad, start, cfg.eta_plateau, cfg.beta, 1000)
    plateau = pd.DataFrame([dict(max_move_on_plateau=float(np.abs(x_gd - on).max()),
                                 gd_lowest_from_4=float(low_gd[0]), hb_lowest_from_4=float(low_hb[0]))])
    return {"well": pd.DataFrame(rows), "plateau": plateau}


# --- I11: clipping ------------------------------------------------------------------------------

def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def clipping_table(cfg: Config) -> pd.DataFrame:
    """Heavy-tailed gradients (Student t, 2 d.o.f.): norm clipping to ‖g‖ = 1, value clipping at the
    (1 − q) quantile of |g| per gradient, and 003's printed one-sided rule min(g, τ)."""
    g = rng.np_stream(0, "clipping", "gradients").standard_t(2, (cfg.clip_gradients, cfg.clip_dim))
    norm = np.linalg.norm(g, axis=1, keepdims=True)
    rows = [dict(rule="norm", share=0.0, gradient=i, cosine=c) for i, c in enumerate(cosine(g * np.minimum(1, 1 / norm), g))]
    for q in cfg.clip_shares:
        tau = np.quantile(np.abs(g), 1 - q, axis=1, keepdims=True)
        rows += [dict(rule="value", share=q, gradient=i, cosine=c) for i, c in enumerate(cosine(np.clip(g, -tau, tau), g))]
        rows += [dict(rule="one_sided", share=q, gradient=i, cosine=c) for i, c in enumerate(cosine(np.minimum(g, tau), g))]
    return pd.DataFrame(rows)



# --- statistics -------------------------------------------------------------------------------

def goe_resamples(goe: pd.DataFrame, cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """(n, ln P̂ per n) and parametric-bootstrap ln P's (resamples, n): binomial redraws of the hits."""
    goe = goe.sort_values("n")
    n, hits, draws = goe.n.to_numpy(), goe.minima.to_numpy(), goe.draws.to_numpy()
    gen = rng.np_stream(0, "goe", "bootstrap")
    boot = gen.binomial(draws, hits / draws, size=(cfg.goe_boot, len(n))) / draws
    with np.errstate(divide="ignore"):
        return n, np.log(hits / draws), np.log(boot)


def _interval(value: float, boot: np.ndarray) -> Estimate:
    boot = boot[np.isfinite(boot)]
    low, high = np.quantile(boot, [0.025, 0.975])
    return Estimate(value, min(low, value), max(high, value), n=len(boot))


def goe_slope(goe: pd.DataFrame, cfg: Config) -> Estimate:
    n, logp, boot = goe_resamples(goe, cfg)
    keep = n >= 2
    x = n[keep] ** 2

    def fit(y): return np.polyfit(x, y, 1)[0]  # noqa: E704

    return _interval(fit(logp[keep]), np.array([fit(b[keep]) for b in boot]))


def goe_acceleration(goe: pd.DataFrame, cfg: Config) -> Estimate:
    n, logp, boot = goe_resamples(goe, cfg)
    i2, i3 = list(n).index(2), list(n).index(3)

    def ratio(y): return (y[-2] - y[-1]) / (y[i2] - y[i3])  # noqa: E704

    return _interval(ratio(logp), np.array([ratio(b) for b in boot]))


def escape_share(escape: pd.DataFrame, sigma: float) -> Estimate:
    part = escape[np.isclose(escape.sigma, sigma)]
    return stats.proportion_ci(int(np.isfinite(part.escape_step).sum()), len(part))


def escape_slope(escape: pd.DataFrame, cfg: Config) -> Estimate:
    part = escape[escape.sigma.isin(cfg.slope_sigmas) & np.isfinite(escape.escape_step)]
    est = stats.slope_ci(np.log(1 / part.sigma), part.escape_step)
    scale = math.log(1 + cfg.eta_saddle)
    return Estimate(est.value * scale, est.ci_low * scale, est.ci_high * scale)


def share_of(table: pd.DataFrame, column: str) -> Estimate:
    return stats.proportion_ci(int(table[column].astype(bool).sum()), len(table))


def momentum_gain(well: pd.DataFrame, eta: float) -> Estimate:
    """Per start, heavy ball's global-well indicator minus GD's (same x₀, same η): paired."""
    hb = stats.per_seed(well, "global_well", seed="start", method="heavy_ball", eta=eta)
    gd = stats.per_seed(well, "global_well", seed="start", method="gd", eta=eta)
    return stats.paired_difference(hb, gd)

