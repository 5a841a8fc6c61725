"""Independent references the tests and benchmarks compare the library with: scipy's eigsh on
a Hessian operator, the stationary-SGD formulas as plain functions and the d = 1 closed form,
and the two alternatives to the replicate axis that the adaptive benchmark times."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from dlclaims.methods import optim, replicas, sgd_theory
from dlclaims.methods.hessian import Eigenpairs, Matvec, sign_fix, start_vector


def eigsh_top(matvec: Matvec, dim: int, k: int, tol: float = 0.0, seed: int = 0) -> Eigenpairs:
    """The k algebraically largest eigenpairs by ``scipy.sparse.linalg.eigsh`` (ARPACK's
    implicitly restarted Lanczos) on the same operator: the reference the hand-written
    :func:`lanczos` is benchmarked and tested against. ARPACK stops when each Ritz
    residual is at most ``tol·|θ|`` (``tol=0``: machine precision), the same criterion as
    :func:`lanczos`. Residuals are not recomputed (NaN)."""
    import numpy as np
    from scipy.sparse.linalg import LinearOperator, eigsh

    count = 0

    def apply(x):
        nonlocal count
        count += 1
        return matvec(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64).ravel())).double().numpy()

    op = LinearOperator((dim, dim), matvec=apply, dtype=np.float64)
    v0 = start_vector(dim, seed, torch.float64, "cpu").numpy()
    values, vectors = eigsh(op, k=k, which="LA", tol=tol, v0=v0)
    order = np.argsort(values)[::-1].copy()
    return Eigenpairs(torch.from_numpy(values[order].copy()), sign_fix(torch.from_numpy(vectors[:, order].copy())),
                      count, torch.full((k,), math.nan, dtype=torch.float64), True)


def sgd_stationary_covariance(A, y, step: float, batch_size: int = 1) -> np.ndarray:
    """Stationary E[(x − x*)(x − x*)ᵀ] of constant-step mini-batch SGD (see module doc).

    Raises ``ValueError`` when the step is too large for the second moment to stay
    bounded (spectral radius of the recursion ≥ 1).
    """
    return sgd_theory.StationaryTheory(A, y).covariance(step, batch_size)


def sgd_stationary_excess(A, y, step: float, batch_size: int = 1) -> float:
    """Exact expected stationary excess loss E F(x_k) − F(x*) = ½ tr(H Σ) of the last iterate.

    For F(x) = 1/(2n)‖Ax − y‖² and mini-batch SGD with ``batch_size`` rows drawn uniformly
    with replacement and constant ``step`` (module docstring has the derivation). Exact:
    a d² × d² linear solve, no Monte Carlo. ``ValueError`` if the step is unstable.
    """
    return sgd_theory.StationaryTheory(A, y).excess(step, batch_size)
def scalar_stationary_excess(a, y, step: float, batch_size: int = 1) -> float:
    """Closed form for d = 1: with m2 = E a², m4 = E a⁴, q = E r² a²,

    Σ = h q / (b (2 m2 − h ((1 − 1/b) m2² + m4 / b))),  excess = m2 Σ / 2.
    """
    a, y = sgd_theory.as_numpy(a).ravel(), sgd_theory.as_numpy(y).ravel()
    x_star = float(a @ y / (a @ a))
    r = y - a * x_star
    m2, m4, q = np.mean(a**2), np.mean(a**4), np.mean(r**2 * a**2)
    b = batch_size
    sigma = step * q / (b * (2 * m2 - step * ((1 - 1 / b) * m2**2 + m4 / b)))
    return 0.5 * float(m2 * sigma)


def train_one_at_a_time(lrs, sizes, x, y, steps, batch, seed: int = 0) -> list[float]:
    """One ``nn.Sequential`` + ``torch.optim.Adam`` per learning rate, run one after another
    (what one worker process does with its share of the runs)."""
    out = []
    for lr in lrs:
        g = torch.Generator().manual_seed(seed)
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(torch.nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
        net = torch.nn.Sequential(*layers)
        opt = torch.optim.Adam(net.parameters(), lr=float(lr))
        n = x.shape[0]
        order = torch.cat([torch.randperm(n, generator=g) for _ in range(steps * batch // n + 1)])
        for step in range(steps):
            idx = order[step * batch:(step + 1) * batch]
            opt.zero_grad()
            F.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
        out.append(float(F.cross_entropy(net(x), y)))
    return out


def train_vmap(lrs: Tensor, sizes, x, y, steps, batch, seed: int = 0) -> Tensor:
    """The same grid with ``torch.func``: vmap of grad over stacked per-replicate parameters, and
    the update rule of :mod:`optim` vectorised over a per-replicate rate."""
    from torch.func import grad, vmap

    g = torch.Generator().manual_seed(seed)
    params = replicas.init_mlp(len(lrs), tuple(sizes), g)

    def loss_one(ps, xb, yb):
        return F.cross_entropy(replicas.forward(ps, xb[None])[0], yb)

    per_replicate_grad = vmap(grad(loss_one), in_dims=(0, None, None))
    states = [optim.start_moments(p) for p in params]
    lr = lrs.to(params[0].dtype)[:, None, None]
    n = x.shape[0]
    order = torch.cat([torch.randperm(n, generator=g) for _ in range(steps * batch // n + 1)])
    for step in range(steps):
        idx = order[step * batch:(step + 1) * batch]
        grads = per_replicate_grad([s.x for s in states], x[idx], y[idx])
        with torch.no_grad():
            states = [optim.adam_step(s, (lambda _x, gr=gr: gr), lr) for s, gr in zip(states, grads)]
    return replicas.replicate_losses(replicas.forward([s.x for s in states], x), y)


def train_replicated(lrs: Tensor, sizes, x, y, steps, batch, seed: int = 0) -> Tensor:
    """The grid on the replicate axis (:func:`train`), for the benchmark."""
    g = torch.Generator().manual_seed(seed)
    params = replicas.init_mlp(len(lrs), tuple(sizes), g)
    final, _ = replicas.train("adam", params, replicas.Replicates(lrs), x, y, steps, batch, g)
    return replicas.replicate_losses(replicas.forward(final, x), y)
