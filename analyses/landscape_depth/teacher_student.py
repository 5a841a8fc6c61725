"""Linear autoencoder against PCA (I5) and Safran & Shamir's ReLU teacher–student net with its
population loss in closed form (I6). Float64 throughout."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from dlclaims import rng
from dlclaims.suite.claims import Estimate
from dlclaims.suite import stats

if TYPE_CHECKING:
    from . import Config

PCA_BAND = 0.01                # I5: ≤ 1% of the way from the PCA optimum to the nearest saddle
REACHED = 1e-3                 # I6: a run "reaches" zero loss below 1e-3 × its initial loss
STATIONARY = 1e-8              # I6: ‖∇L‖ below this is a critical point (converged runs sit at 1e-15)
CONVEX_TOL = 1e-6              # I6: λ_min(H) ≥ −1e-6 λ_max(H) is positive semi-definite (FD error 1e-10)

# --- I5: the linear autoencoder -----------------------------------------------------------------

def digits_covariance() -> np.ndarray:
    from sklearn.datasets import load_digits

    x = load_digits().data / 16.0
    x = x - x.mean(0)
    return x.T @ x / len(x)


def ae_loss(A: np.ndarray, B: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Mean ‖x − BAx‖² over the data = tr((I − BA) C (I − BA)ᵀ), per seed (axis 0)."""
    R = np.eye(C.shape[0]) - B @ A
    return np.einsum("sij,jk,sik->s", R, C, R)


def autoencoder_table(cfg: Config) -> pd.DataFrame:
    """Heavy ball on the exact loss, every seed at once; L* = Σ_{i>k} λ_i, L_saddle = L* + λ_k − λ_{k+1}."""
    C = digits_covariance()
    lam = np.linalg.eigvalsh(C)[::-1]
    k, d = cfg.ae_bottleneck, C.shape[0]
    optimum, gap = lam[k:].sum(), lam[k - 1] - lam[k]
    A = np.stack([rng.np_stream(s, "ae", "encoder").normal(0, 1 / math.sqrt(d), (k, d)) for s in range(cfg.ae_seeds)])
    B = np.stack([rng.np_stream(s, "ae", "decoder").normal(0, 1 / math.sqrt(k), (d, k)) for s in range(cfg.ae_seeds)])
    vA, vB = np.zeros_like(A), np.zeros_like(B)
    marks = sorted(set(np.unique(np.geomspace(1, max(cfg.ae_steps), 40).astype(int))) | set(cfg.ae_steps))
    rows = []
    for step in range(1, max(cfg.ae_steps) + 1):
        RC = (np.eye(d) - B @ A) @ C
        gA, gB = -2 * B.transpose(0, 2, 1) @ RC, -2 * RC @ A.transpose(0, 2, 1)
        vA, vB = 0.9 * vA + gA, 0.9 * vB + gB
        A, B = A - cfg.ae_lr * vA, B - cfg.ae_lr * vB
        if step in marks:
            loss = ae_loss(A, B, C)
            rows += [dict(seed=s, step=step, loss=float(v), optimum=optimum, saddle_excess=gap,
                          excess_over_gap=float((v - optimum) / gap)) for s, v in enumerate(loss)]
    return pd.DataFrame(rows)


# --- I6: Safran & Shamir's teacher–student net ---------------------------------------------------

def _angles(W: torch.Tensor, V: torch.Tensor):
    nw, nv = W.norm(dim=-1), V.norm(dim=-1)
    cos = ((W @ V.transpose(-1, -2)) / (nw[..., :, None] * nv[..., None, :])).clamp(-1, 1)
    return nw, nv, cos, torch.arccos(cos)


def relu_kernel(W: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """E[relu(wᵀx) relu(vᵀx)], x ~ N(0, I) (Cho & Saul): ‖w‖‖v‖ (sin θ + (π − θ) cos θ) / 2π, every pair."""
    nw, nv, cos, theta = _angles(W, V)
    return nw[..., :, None] * nv[..., None, :] * (torch.sqrt(1 - cos**2) + (math.pi - theta) * cos) / (2 * math.pi)


def ts_loss(W: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """½ E[(Σ_i relu(w_iᵀx) − Σ_j relu(v_jᵀx))²], the population loss, per init (axis 0)."""
    return 0.5 * (relu_kernel(W, W).sum((-1, -2)) - 2 * relu_kernel(W, V).sum((-1, -2))
                  + relu_kernel(V, V).sum((-1, -2)))


def _pull(W: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """Σ_j ∂/∂w_i E[relu(w_iᵀx) relu(v_jᵀx)] = Σ_j (‖v_j‖ sin θ_ij w_i/‖w_i‖ + (π − θ_ij) v_j) / 2π."""
    nw, nv, cos, theta = _angles(W, V)
    radial = (nv[..., None, :] * torch.sqrt(1 - cos**2)).sum(-1) / nw
    return (radial[..., None] * W + (math.pi - theta) @ V) / (2 * math.pi)


def ts_grad(W: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """∇_W of :func:`ts_loss` in closed form (autograd meets ∞ − ∞ at θ = 0 on the diagonal)."""
    return _pull(W, W) - _pull(W, V)


def smallest_hessian_ratio(W: torch.Tensor, V: torch.Tensor, h: float = 1e-5, chunk: int = 32) -> torch.Tensor:
    """λ_min / λ_max of the Hessian per init, by central differences of the closed-form gradient
    (``chunk`` coordinates perturbed at once, as a batch of nets)."""
    b, k, d = W.shape
    P = k * d
    cols = []
    for start in range(0, P, chunk):
        idx = torch.arange(start, min(start + chunk, P))
        e = torch.zeros(len(idx), P, dtype=W.dtype)
        e[torch.arange(len(idx)), idx] = h
        e = e.view(1, len(idx), k, d)
        Wp, Vp = (W[:, None] + e).reshape(-1, k, d), V[:, None].expand(b, len(idx), *V.shape[1:]).reshape(-1, *V.shape[1:])
        Wm = (W[:, None] - e).reshape(-1, k, d)
        diff = (ts_grad(Wp, Vp) - ts_grad(Wm, Vp)) / (2 * h)
        cols.append(diff.reshape(b, len(idx), P))
    H = torch.cat(cols, 1)
    eig = torch.linalg.eigvalsh((H + H.transpose(1, 2)) / 2)
    return eig[:, 0] / eig[:, -1]


def teacher_student_table(cfg: Config, k: int) -> pd.DataFrame:
    """k students fit k orthonormal teachers (d = k), N(0, I/d) inits, heavy ball (β = 0.9)."""
    dtype = torch.float64
    W = torch.randn(cfg.ts_inits, k, k, generator=rng.stream(0, "teacher_student", k, "init"), dtype=dtype) / math.sqrt(k)
    V = torch.eye(k, dtype=dtype).expand(cfg.ts_inits, k, k).contiguous()
    initial = ts_loss(W, V)
    velocity = torch.zeros_like(W)
    for _ in range(cfg.ts_steps):
        velocity.mul_(0.9).add_(ts_grad(W, V))
        W -= cfg.ts_lr * velocity
    loss, gnorm = ts_loss(W, V), ts_grad(W, V).flatten(1).norm(dim=1)
    ratio = loss / initial
    candidates = (ratio > REACHED) & (gnorm < STATIONARY)
    curvature = torch.full_like(loss, math.nan)
    if candidates.any():
        curvature[candidates] = smallest_hessian_ratio(W[candidates], V[candidates])
    stuck = candidates & (curvature >= -CONVEX_TOL)
    return pd.DataFrame(dict(k=k, init=np.arange(cfg.ts_inits), initial_loss=initial.numpy(), final_loss=loss.numpy(),
                             loss_ratio=ratio.numpy(), grad_norm=gnorm.numpy(), hessian_ratio=curvature.numpy(),
                             reached=(ratio <= REACHED).numpy(), stuck=stuck.numpy()))



def ae_worst(ae: pd.DataFrame, steps: int) -> Estimate:
    return Estimate.exact(stats.select(ae, step=steps).excess_over_gap.max())

