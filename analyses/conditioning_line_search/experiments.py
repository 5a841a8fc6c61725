"""The measurements, one function per experiment, each returning tidy tables (float64 numpy,
torch only for the networks of J4, J5 and J15)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from scipy.optimize import minimize_scalar

from dlclaims.methods import line_search as ls
from dlclaims.rng import np_stream, stream

from . import problems as pb

F64 = torch.float64


# --- J1, J2: preprocessing and conditioning --------------------------------------------------

def conditioning_row(x, y, how: str, eps: float) -> dict:
    lam, c2 = pb.least_squares(x, y, how)
    iters = int(ls.gd_iterations_quadratic(lam, c2, 1 / lam.max(), eps)[0])
    return dict(preprocessing=how, kappa=float(lam.max() / lam.min()), iterations=iters)


def preprocessing(cfg) -> tuple[pd.DataFrame, pd.DataFrame]:
    """κ and GD(1/L) iterations to relative gap ε per preprocessing, on the data and on
    bootstrap resamples of its rows; and the pixel scales (J1b's premise)."""
    x, y = pb.digits()
    rows = [dict(draw=-1, **conditioning_row(x, y, how, cfg.eps)) for how in pb.PREPROCESSINGS]
    gen = np_stream(0, "bootstrap-rows")
    for b in range(cfg.bootstrap):
        i = gen.integers(0, len(x), len(x))
        xb = x[i][:, x[i].std(0) > 0]  # a rare pixel may be constant in a resample: dropped there, for every variant
        rows += [dict(draw=b, **conditioning_row(xb, y[i], how, cfg.eps)) for how in pb.PREPROCESSINGS[:3]]
    sd = x.std(0)
    scales = pd.DataFrame(dict(pixel=np.arange(len(sd)), sd=sd))
    return pd.DataFrame(rows), scales


def exact_steps(cfg) -> pd.DataFrame:
    """J2a: one Newton step on random quadratics (κ = 10⁴); J2b, J1c: GD with η = 1 on whitened
    least squares; J4a: one Newton step on x² − y²."""
    gen = np_stream(0, "exact-steps")
    rows = []
    for q in range(cfg.quadratics):
        lam = pb.random_spectrum(gen, 1e4, 20)
        Q = np.linalg.qr(gen.standard_normal((20, 20)))[0]
        A, x_star, x0 = (Q * lam) @ Q.T, gen.standard_normal(20), gen.standard_normal(20)

        def f(v):
            return 0.5 * (v - x_star) @ A @ (v - x_star)
        x1 = x0 + ls.newton_direction(A @ (x0 - x_star), A)
        rows.append(dict(test="newton_quadratic", case=q, value=f(x1) / f(x0)))
    x, y = pb.digits()
    X, Y = pb.preprocess(x, "whitened"), np.eye(10)[y]
    W_star = np.linalg.lstsq(X, Y, rcond=None)[0]

    def ls_f(W):
        return ((X @ W - Y) ** 2).sum() / (2 * len(X))
    W1 = np.zeros_like(W_star) - 1.0 * X.T @ (X @ np.zeros_like(W_star) - Y) / len(X)
    rows.append(dict(test="whitened_gd_one_step", case=0,
                     value=(ls_f(W1) - ls_f(W_star)) / (ls_f(np.zeros_like(W_star)) - ls_f(W_star))))
    lam = np.linalg.eigvalsh(X.T @ X / len(X))
    rows.append(dict(test="whitened_kappa_minus_1", case=0, value=lam.max() / lam.min() - 1))
    H = np.diag([2.0, -2.0])
    for s, start in enumerate(gen.uniform(-10, 10, (cfg.quadratics, 2))):
        landed = start + ls.newton_direction(H @ start, H)
        rows.append(dict(test="saddle_newton", case=s, value=float(np.abs(landed).max())))
    return pd.DataFrame(rows)


# --- J3: Newton's local order on L2-logistic ------------------------------------------------

def newton_order(cfg) -> pd.DataFrame:
    """Per start and α: the last computational order ln(g_{k+1}/g_k)/ln(g_k/g_{k−1}) of the
    gradient norms (∝ ‖w − w*‖ near w*), over steps with g_{k−1} ≤ 1e-2 and g_{k+1} ≥ ORDER_FLOOR."""
    rows = []
    for alpha in cfg.alphas:
        p = pb.logistic(cfg.logistic_n, alpha)
        for s in range(cfg.starts):
            w = np_stream(s, "newton-start").standard_normal(p.X.shape[1])
            norms = [np.linalg.norm(p.grad(w))]
            for _ in range(30):
                g = p.grad(w)
                d = ls.newton_direction(g, p.hess(w))
                if norms[-1] > PURE_BELOW:  # damped phase; below, full steps (an f-based test is rounding-bound)
                    _, w, _ = ls.backtrack(p.f, w, p.f(w), g, d, 1.0, 1e-4)
                else:
                    w = w + d
                norms.append(np.linalg.norm(p.grad(w)))
            e = np.array(norms)
            orders = [math.log(e[k + 1] / e[k]) / math.log(e[k] / e[k - 1]) for k in range(1, len(e) - 1)
                      if e[k - 1] <= 1e-2 and e[k + 1] >= ORDER_FLOOR and e[k + 1] < e[k] < e[k - 1]]
            rows.append(dict(alpha=alpha, seed=s, order=orders[-1] if orders else math.nan, orders=len(orders)))
    return pd.DataFrame(rows)


ORDER_FLOOR = 1e-12  # ‖∇f‖ four decades above its float64 rounding floor (≈ 1e-16 here)
PURE_BELOW = 1e-3    # ‖∇f‖ below which Newton takes full steps: Armijo's test on f is rounding-bound near 1e-8


# --- J4b: pure Newton on a small tanh MLP ----------------------------------------------------

def mlp_problem(cfg):
    gen = stream(0, "mlp-data")
    X = torch.randn(cfg.mlp_n, 3, generator=gen, dtype=F64)
    y = torch.sin(X.sum(1, keepdim=True))
    h = cfg.mlp_hidden
    shapes = [(h, 3), (h,), (1, h), (1,)]
    sizes = [math.prod(s) for s in shapes]

    def loss(theta):
        W1, b1, W2, b2 = (t.reshape(s) for t, s in zip(torch.split(theta, sizes), shapes))
        out = torch.tanh(X @ W1.T + b1) @ W2.T + b2
        return ((out - y) ** 2).mean() / 2

    def init(seed, scale):
        g = stream(seed, "mlp-init")
        parts = []
        for shape, fan_in in zip(shapes, (3, 3, h, h)):
            bound = 1 / math.sqrt(fan_in)  # torch.nn.Linear's default
            parts.append((torch.rand(math.prod(shape), generator=g, dtype=F64) * 2 - 1) * bound * scale)
        return torch.cat(parts)
    return loss, init


def newton_mlp(cfg) -> pd.DataFrame:
    """Pure Newton (η = 1) for ``newton_steps`` steps from each start: does a step raise the
    loss, is λ_min < 0 at the start and at the end."""
    from torch.func import grad, hessian, vmap

    loss, init = mlp_problem(cfg)
    rows = []
    for scale in cfg.init_scales:
        theta = torch.stack([init(s, scale) for s in range(cfg.mlp_starts)])
        values = [vmap(loss)(theta)]
        lam_start = torch.linalg.eigvalsh(vmap(hessian(loss))(theta))[:, 0]
        for _ in range(cfg.newton_steps):
            H, g = vmap(hessian(loss))(theta), vmap(grad(loss))(theta)
            step = torch.linalg.lstsq(H, g[..., None]).solution[..., 0]
            theta = theta - step
            values.append(vmap(loss)(theta))
        lam_end = torch.linalg.eigvalsh(vmap(hessian(loss))(theta))[:, 0]
        v = torch.stack(values).numpy()
        raised = ((np.diff(v, axis=0) > 0) | ~np.isfinite(v[1:])).any(0)
        for s in range(cfg.mlp_starts):
            # flags only: pure Newton on a near-singular Hessian amplifies rounding (BLAS paths differ
            # between processes), so the end point's digits are not reproducible, its sign is
            rows.append(dict(init_scale=scale, seed=s, raised=bool(raised[s]), negative_start=bool(lam_start[s] < 0),
                             negative_end=bool(lam_end[s] < 0)))
    return pd.DataFrame(rows)


# --- J5: arithmetic of the gradient and of the Hessian ---------------------------------------

def costs(cfg) -> pd.DataFrame:
    """FLOPs (torch's FlopCounterMode, matrix products) of a forward pass, of forward + backward,
    and of one Hessian-vector product (forward-over-reverse) for tanh MLPs of P parameters; the
    Hessian by P such products costs P times one."""
    from torch.func import grad, jvp
    from torch.utils.flop_counter import FlopCounterMode

    rows = []
    for P in cfg.sizes:
        k = cfg.cost_in
        width = max(2, round((-(k + 2) + math.sqrt((k + 2) ** 2 + 4 * (P - 1))) / 2))  # k·w + w + w² + w + w + 1 = P
        net = torch.nn.Sequential(torch.nn.Linear(k, width), torch.nn.Tanh(), torch.nn.Linear(width, width),
                                  torch.nn.Tanh(), torch.nn.Linear(width, 1)).double()
        params = {name: v.detach() for name, v in net.named_parameters()}
        count = sum(v.numel() for v in params.values())
        X = torch.randn(cfg.cost_batch, k, generator=stream(0, "cost-data"), dtype=F64)
        direction = {name: torch.ones_like(v) for name, v in params.items()}

        def loss(p):
            return (torch.func.functional_call(net, p, (X,)) ** 2).mean()

        def flops(fn) -> int:
            with FlopCounterMode(display=False) as counter:
                fn()
            return int(counter.get_total_flops())
        forward = flops(lambda: loss(params))
        gradient = flops(lambda: grad(loss)(params))
        hvp = flops(lambda: jvp(grad(loss), (params,), (direction,)))
        rows.append(dict(nominal=P, P=count, width=width, forward_flops=forward, gradient_flops=gradient,
                         hvp_flops=hvp, hessian_flops=count * hvp))
    return pd.DataFrame(rows)


# --- J6, J7: Armijo backtracking ------------------------------------------------------------

def backtracking(cfg) -> pd.DataFrame:
    """GD with Armijo (γ = 1e-4, ½) and the naive rule from η₀ ∈ logspace(0, 3)/L on L2-logistic,
    and GD with η = 1/L: iterations to relative gap ε, smallest accepted step over the bound."""
    p = pb.logistic(cfg.logistic_n, cfg.backtrack_alpha)
    _, f_star = pb.minimise(p)
    L = p.L
    w0 = np.zeros(p.X.shape[1])
    rows = []
    gd = ls.backtracking_gd(p.f, p.grad, w0, 1 / L, 1e-30, f_star, cfg.eps, cfg.max_iter)  # 1/L always passes
    rows.append(dict(rule="gd_1_over_L", gamma=0.0, eta0_L=1.0, iterations=len(gd.steps),
                     converged=gd.values[-1] <= f_star + cfg.eps * (gd.values[0] - f_star), min_step_over_bound=1.0,
                     monotone=bool(np.all(np.diff(gd.values) < 0))))
    for eta0_L in np.logspace(0, 3, cfg.eta0_grid):
        for rule, gamma in (("armijo", 1e-4), ("armijo", 0.5), ("naive", 0.0)):
            path = ls.backtracking_gd(p.f, p.grad, w0, eta0_L / L, gamma, f_star, cfg.eps, cfg.max_iter)
            bound = min(eta0_L / L, (1 - gamma) / L)
            rows.append(dict(rule=rule, gamma=gamma, eta0_L=float(eta0_L), iterations=len(path.steps),
                             converged=path.values[-1] <= f_star + cfg.eps * (path.values[0] - f_star),
                             min_step_over_bound=min(path.steps) / bound,
                             monotone=bool(np.all(np.diff(path.values) < 0))))
    return pd.DataFrame(rows)


def naive_counterexample(cfg) -> pd.DataFrame:
    """J7a: f = x²/2 (L = 1), η₀ = 2¹⁰ · 2(1 − δ): halving stops at 2(1 − δ) for the naive rule
    (|1 − ηL| = 1 − 2δ) and at 1 − δ for Armijo with γ = ½."""
    delta = 1e-3
    rows = []
    for rule, gamma in (("naive", 0.0), ("armijo", 0.5)):
        path = ls.backtracking_gd(lambda x: 0.5 * float(x @ x), lambda x: x, np.ones(1), 2**10 * 2 * (1 - delta),
                                  gamma, 0.0, cfg.eps, 10**6)
        rows.append(dict(rule=rule, iterations=len(path.steps), step=path.steps[0]))
    return pd.DataFrame(rows)


# --- J9: damped Newton from far starts -------------------------------------------------------

FULL_FROM = 1e-6  # J9: from this gap on, and on the landing step, η = 1 (Newton's quadratic phase)

def damped_newton(cfg) -> pd.DataFrame:
    """Newton with Armijo backtracking (c₁ = 1e-4) and pure Newton from starts ~ N(0, r² I): does the
    damped run reach the gap with full steps from gap FULL_FROM on; does pure Newton ever raise f."""
    p = pb.logistic(cfg.logistic_n, cfg.newton_alpha)
    _, f_star = pb.minimise(p)
    d = p.X.shape[1]
    rows = []
    for r in cfg.start_scales:
        for s in range(cfg.far_starts):
            w0 = np_stream(s, "far-start").standard_normal(d) * r
            path = ls.damped_newton(p.f, p.grad, p.hess, w0, c1=1e-4, max_iter=200, tol=1e-30)
            gaps = np.array(path.values) - f_star
            hit = np.flatnonzero(gaps <= cfg.newton_gap)
            k = int(hit[0]) if hit.size else -1
            late = [j for j in range(k) if gaps[j] <= FULL_FROM] + [k - 1]  # and the step that lands
            last_full = k >= 1 and all(path.steps[j] == 1.0 for j in late)
            pure = ls.damped_newton(p.f, p.grad, p.hess, w0, max_iter=cfg.pure_steps, damped=False, tol=0)
            v = np.array(pure.values)
            rows.append(dict(start_scale=r, seed=s, converged=k >= 0, iterations=k, last5_full=last_full,
                             pure_raises=bool((np.diff(v) > 0).any() or not np.isfinite(v).all())))
    return pd.DataFrame(rows)


# --- J10: stochastic Armijo (Vaswani et al. 2019) --------------------------------------------

def stochastic_armijo(cfg) -> pd.DataFrame:
    """SGD with the stochastic Armijo line search (c = 0.1, reset η ← η·2^{b/n}, η ≤ 10) on
    least squares, vectorised over chains: relative full gap after each checkpoint."""
    rows = []
    for problem in ("interpolating", "noisy"):
        gen = np_stream(0, "ls-problem", problem)
        n, d = (200, 500) if problem == "interpolating" else (200, 50)
        A = gen.standard_normal((n, d))
        b = A @ gen.standard_normal(d) + (gen.standard_normal(n) if problem == "noisy" else 0)
        x_star = np.linalg.lstsq(A, b, rcond=None)[0]
        f_star = 0.0 if problem == "interpolating" else float(((A @ x_star - b) ** 2).mean() / 2)
        f0 = float((b**2).mean() / 2) - f_star
        for batch in cfg.batches:
            chains = cfg.chains
            gen_b = np_stream(0, "batches", problem, batch)
            x = np.zeros((chains, d))
            eta = np.full(chains, 1.0)
            checkpoints = set(cfg.sgd_checkpoints)
            for t in range(1, max(checkpoints) + 1):
                idx = gen_b.integers(0, n, (chains, batch))
                Ab, bb = A[idx], b[idx]
                r = np.einsum("cbd,cd->cb", Ab, x) - bb
                fb = (r**2).mean(1) / 2
                g = np.einsum("cbd,cb->cd", Ab, r) / batch
                g2 = (g**2).sum(1)
                eta = np.minimum(eta * 2 ** (batch / n), 10.0)
                todo = np.ones(chains, bool)
                for _ in range(60):
                    xn = x - eta[:, None] * g
                    fn = ((np.einsum("cbd,cd->cb", Ab, xn) - bb) ** 2).mean(1) / 2
                    todo = fn > fb - 0.1 * eta * g2
                    if not todo.any():
                        break
                    eta = np.where(todo, eta / 2, eta)
                x = x - eta[:, None] * g
                if t in checkpoints:
                    gap = ((A @ x.T - b[:, None]) ** 2).mean(0) / 2 - f_star
                    rows += [dict(problem=problem, batch=batch, steps=t, chain=c, rel_gap=max(float(gap[c]) / f0, 1e-300))
                             for c in range(chains)]
    return pd.DataFrame(rows)


# --- J12: the best constant step -------------------------------------------------------------

def best_step(cfg) -> pd.DataFrame:
    """Iterations of GD to relative gap 1e-8 over a grid of ηL ∈ (0, 2) on random quadratics
    (L = 1), in closed form: the argmin per spectrum, with 2/(L + μ) beside it."""
    etas = np.arange(1, int(round(2 / cfg.eta_spacing))) * cfg.eta_spacing
    rows = []
    for kappa in cfg.kappas:
        for s in range(cfg.spectra):
            gen = np_stream(s, "spectrum", int(kappa))
            lam = pb.random_spectrum(gen, kappa, cfg.quad_dim)
            c2 = gen.standard_normal(cfg.quad_dim) ** 2
            iters = ls.gd_iterations_quadratic(lam, c2, etas, 1e-8)
            best = etas[iters == iters.min()]
            rows.append(dict(kappa=kappa, seed=s, argmin_eta_L=float(best.mean()), polyak_eta_L=2 / (1 + 1 / kappa),
                             iterations_best=int(iters.min()), iterations_one_over_L=int(iters[np.argmin(abs(etas - 1))])))
    return pd.DataFrame(rows)


def descent_lemma_argmax() -> float:
    """argmax over η of η(1 − Lη/2) at L = 1, numerically (J12b)."""
    return float(minimize_scalar(lambda e: -e * (1 - e / 2), bounds=(0, 2), method="bounded",
                                 options=dict(xatol=1e-12)).x)


# --- J13: the non-convex O(1/ε) bound --------------------------------------------------------

def nonconvex_bound(cfg) -> pd.DataFrame:
    gen = np_stream(0, "toy-starts")
    x = gen.uniform(-5, 5, (cfg.toy_starts, cfg.toy_dim))
    f0 = pb.toy_f(x)
    f_star = cfg.toy_dim * pb.toy_min_1d()
    best = np.full(cfg.toy_starts, np.inf)
    worst = np.zeros(cfg.toy_starts)
    negative = np.zeros(cfg.toy_starts, bool)
    for k in range(1, cfg.toy_steps + 1):
        g = pb.toy_grad(x)
        negative |= (1 - 1.5 * np.cos(x) < 0).any(1)
        best = np.minimum(best, (g**2).sum(1))
        worst = np.maximum(worst, k * best / (2 * pb.TOY_L * (f0 - f_star)))
        x = x - g / pb.TOY_L
    return pd.DataFrame(dict(seed=np.arange(cfg.toy_starts), bound_ratio=worst, negative_curvature=negative,
                             final_value_over_fstar=pb.toy_f(x) / f_star))


# --- J14a: L2 makes the logistic Hessian strongly convex -------------------------------------

def strong_convexity(cfg) -> pd.DataFrame:
    rows = []
    for alpha in cfg.alphas:
        p = pb.logistic(cfg.logistic_n, alpha)
        for s in range(cfg.starts):
            w = np_stream(s, "hessian-point").standard_normal(p.X.shape[1]) * 10
            rows.append(dict(alpha=alpha, seed=s, lam_min_over_2alpha=float(np.linalg.eigvalsh(p.hess(w))[0] / (2 * alpha))))
    return pd.DataFrame(rows)


# --- J15: the gradient jump of ReLU along a line ---------------------------------------------

def kinks(cfg) -> pd.DataFrame:
    """Along θ + t·d, at a crossing t* of a first-layer pre-activation (isolated by > 2·h_max):
    ‖∇L(t* + h) − ∇L(t* − h)‖ for h over ``jump_hs``, ReLU and ELU, float64."""
    x, y = pb.digits()
    X = torch.from_numpy(x[:cfg.kink_n])
    Y = torch.from_numpy(np.eye(10)[y[:cfg.kink_n]])
    n_in, h = X.shape[1], cfg.kink_hidden
    rows = []
    for act_name, act in (("relu", torch.relu), ("elu", torch.nn.functional.elu)):
        for line in range(cfg.lines):
            g = stream(line, "kink-line")
            W1, b1 = torch.randn(h, n_in, generator=g, dtype=F64) / math.sqrt(n_in), torch.randn(h, generator=g, dtype=F64) * 0.1
            W2 = torch.randn(10, h, generator=g, dtype=F64) / math.sqrt(h)
            dW1, db1 = torch.randn(h, n_in, generator=g, dtype=F64), torch.randn(h, generator=g, dtype=F64)
            z0, dz = X @ W1.T + b1, X @ dW1.T + db1
            t_cross = (-z0 / dz).flatten()
            order = torch.argsort(t_cross.abs())
            sorted_t = torch.sort(t_cross).values
            t_star = None
            for i in order.tolist():
                t = t_cross[i]
                others = (sorted_t - t).abs()
                if (others[others > 0].min() > 2 * max(cfg.jump_hs)) and abs(float(t)) < 1:
                    t_star = float(t)
                    break
            if t_star is None:
                continue

            def grad_at(t):
                w1 = (W1 + t * dW1).requires_grad_()
                c1 = (b1 + t * db1).requires_grad_()
                w2 = W2.clone().requires_grad_()
                loss = ((act(X @ w1.T + c1) @ w2.T - Y) ** 2).mean() / 2
                return torch.cat([v.flatten() for v in torch.autograd.grad(loss, (w1, c1, w2))])
            for hh in cfg.jump_hs:
                jump = float(torch.linalg.norm(grad_at(t_star + hh) - grad_at(t_star - hh)))
                rows.append(dict(activation=act_name, line=line, h=hh, jump=jump))
    return pd.DataFrame(rows)
