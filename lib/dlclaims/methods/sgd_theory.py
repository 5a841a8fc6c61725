"""Exact stationary theory of constant-step mini-batch SGD on least squares.

Loss normalisation (used throughout): for data ``A`` (n × d) and ``y`` (n,),

    F(x) = 1/(2n) ‖A x − y‖²,  f_i(x) = ½ (a_iᵀ x − y_i)²,  H = AᵀA / n,

and one SGD step draws ``b`` row indices i_1..i_b **uniformly with replacement** and
moves ``x ← x − h · (1/b) Σ_j ∇f_{i_j}(x)``. With e = x − x*, residuals r_i = y_i − a_iᵀx*
(so Σ_i a_i r_i = 0 at the optimum) the step is

    e' = (I − h M) e + h v,   M = (1/b) Σ_j a_{i_j} a_{i_j}ᵀ,   v = (1/b) Σ_j a_{i_j} r_{i_j}.

Independent draws give E M = H, E[v] = 0, E[M S M] = (1 − 1/b) H S H + (1/b) K(S) with
K(S) = (1/n) Σ_i a_i a_iᵀ S a_i a_iᵀ, and E[v vᵀ] = Q / b with Q = (1/n) Σ_i r_i² a_i a_iᵀ.
The mean E e obeys E e' = (I − hH) E e → 0, so at stationarity the cross terms vanish and
the second moment Σ = E[e eᵀ] is the fixed point of

    Σ = Σ − h (HΣ + ΣH) + h² [(1 − 1/b) HΣH + (1/b) K(Σ)] + (h²/b) Q,

a d² × d² linear system. The expected excess loss of the last iterate is ½ tr(H Σ).

**The noise part along a schedule.** Started at the optimum (e₀ = 0) the mean stays 0 and
the same recursion, with a step α_k that changes with k, is exact at every step:

    Σ_{k+1} = Σ_k − α_k (HΣ_k + Σ_kH) + α_k² [(1 − 1/b) HΣ_kH + (1/b) K(Σ_k)] + (α_k²/b) Q,

so ½ tr(H Σ_k) is the expected excess of SGD driven by gradient noise alone: the term a
rate like O(1/√k) or O(1/k) for SGD is about (:meth:`StationaryTheory.noise_path`).
"""

from __future__ import annotations

import numpy as np


def as_numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


class StationaryTheory:
    """The pieces of the second-moment recursion that depend on the data only (H, K, Q),
    computed once so that many (step, batch) pairs cost one d² × d² solve each."""

    def __init__(self, A, y):
        A, y = as_numpy(A), as_numpy(y).ravel()
        n, d = A.shape
        self.d = d
        self.H = A.T @ A / n
        x_star, *_ = np.linalg.lstsq(A, y, rcond=None)
        r = y - A @ x_star
        outer = np.einsum("ni,nj->nij", A, A).reshape(n, d * d)  # rows vec(a aᵀ)
        self.K = outer.T @ outer / n  # (1/n) Σ (a aᵀ) ⊗ (a aᵀ)
        self.Q = (A * (r**2)[:, None]).T @ A / n

    def operator(self, step: float, batch_size: int) -> np.ndarray:
        """The d² × d² symmetric T with vec(Σ_{k+1}) = T vec(Σ_k) + noise, for mean-zero e.

        Column-major vec, vec(P S R) = (Rᵀ ⊗ P) vec(S); every piece here is symmetric.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        eye, H, b = np.eye(self.d), self.H, batch_size
        return (np.eye(self.d**2) - step * (np.kron(eye, H) + np.kron(H, eye))
                + step**2 * ((1 - 1 / b) * np.kron(H, H) + self.K / b))

    def covariance(self, step: float, batch_size: int = 1) -> np.ndarray:
        """Stationary E[(x − x*)(x − x*)ᵀ]; ``ValueError`` if the second moment diverges."""
        T = self.operator(step, batch_size)
        radius = np.max(np.abs(np.linalg.eigvalsh(T)))
        if radius >= 1:
            raise ValueError(f"step {step} with batch {batch_size} is unstable: second-moment "
                             f"recursion has spectral radius {radius:.4f} ≥ 1")
        noise = step**2 / batch_size * self.Q.reshape(-1, order="F")
        sigma = np.linalg.solve(np.eye(self.d**2) - T, noise).reshape(self.d, self.d, order="F")
        return (sigma + sigma.T) / 2

    def excess(self, step: float, batch_size: int = 1) -> float:
        """½ tr(H Σ): the expected stationary excess loss of the last iterate."""
        return 0.5 * float(np.sum(self.H * self.covariance(step, batch_size)))

    def noise_path(self, alphas, log_at, batch_size: int = 1) -> np.ndarray:
        """½ tr(H Σ_k) at the steps ``log_at`` for SGD started at the optimum with steps
        ``alphas[k]`` (k = 0, 1, ...; at least max(log_at) of them): exact, no Monte Carlo."""
        alphas = np.asarray(alphas, dtype=float)
        log_at = np.asarray(log_at, dtype=int)
        if log_at.size and (log_at.min() < 0 or log_at.max() > alphas.size):
            raise ValueError(f"log steps must lie in 0..{alphas.size}")
        H, b = self.H, batch_size
        sigma = np.zeros_like(H)
        out, wanted = [], set(log_at.tolist())
        values = {}
        for k in range(int(log_at.max(initial=0)) + 1):
            if k in wanted:
                values[k] = 0.5 * float(np.sum(H * sigma))
            if k == log_at.max(initial=0):
                break
            a = alphas[k]
            HS = H @ sigma
            k_term = (self.K @ sigma.reshape(-1, order="F")).reshape(self.d, self.d, order="F")
            sigma = (sigma - a * (HS + HS.T) + a * a * ((1 - 1 / b) * (HS @ H) + k_term / b)
                     + (a * a / b) * self.Q)
            sigma = (sigma + sigma.T) / 2
        out = [values[k] for k in log_at.tolist()]
        return np.asarray(out)
