"""Hessian-vector products of a model's loss, top eigenpairs, and subspace overlaps.

- :func:`model_hessian` builds an operator ``H`` with ``H.matvec(v)`` for the Hessian of
  the mean loss on fixed batches, by double backward on a cached graph: one forward and
  one ``create_graph`` gradient per batch, then each product is one more backward with
  ``retain_graph``. BatchNorm is honoured: ``mode="train"`` uses batch statistics (the
  Hessian SGD actually sees), ``mode="eval"`` the running statistics. The model's
  parameters, buffers and train/eval flags are unchanged afterwards.
- :func:`top_eigenpairs`: Lanczos with full reorthogonalisation (the default; its Krylov
  basis kept as contiguous rows, float64 unless asked otherwise) or power iteration with
  deflation and a shift (the lecture's method), both seeded and counting their
  matrix-vector products. The tests hold the reference, ``scipy.sparse.linalg.eigsh`` on
  the same operator (``tests/references.py``): the hand-written Lanczos is tested and
  benchmarked against it (``tests/test_bench_hessian.py``).
- :func:`subspace_overlap`: the squared norm of each vector's projection onto the span of
  a set of gradients (Page's overlap).

A Hessian is never materialised here; the tests do that on tiny networks only.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Callable, Iterator, Literal, Sequence

import torch
from torch import nn

Mode = Literal["train", "eval"]
Matvec = Callable[[torch.Tensor], torch.Tensor]


# --- parameters as one flat vector ------------------------------------------------------------

def trainable(model: nn.Module) -> list[nn.Parameter]:
    return [p for p in model.parameters() if p.requires_grad]


def flatten(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.reshape(-1) for t in tensors])


def unflatten(vector: torch.Tensor, like: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    out, start = [], 0
    for t in like:
        out.append(vector[start: start + t.numel()].view_as(t))
        start += t.numel()
    return out


def flat_parameters(model: nn.Module) -> torch.Tensor:
    return flatten([p.detach() for p in trainable(model)])


def set_flat_parameters_(model: nn.Module, vector: torch.Tensor) -> None:
    with torch.no_grad():
        for p, v in zip(trainable(model), unflatten(vector, trainable(model))):
            p.copy_(v)


# --- forward passes that leave the model as they found it ------------------------------------

_BN = nn.modules.batchnorm._BatchNorm


@contextlib.contextmanager
def frozen_state(model: nn.Module, mode: Mode) -> Iterator[nn.Module]:
    """Put ``model`` in ``mode`` without letting a forward pass touch its buffers.

    In train mode BatchNorm still normalises with batch statistics, but with
    ``track_running_stats`` off it neither updates running mean/var nor counts
    ``num_batches_tracked``; nothing is written, so nothing has to be restored in place
    (which would break a graph that saved those tensors). Flags come back on exit, and
    the buffers are checked to be bit-identical.
    """
    if mode not in ("train", "eval"):
        raise ValueError(f"mode must be 'train' or 'eval', not {mode!r}")
    flags = {m: m.training for m in model.modules()}
    tracking = {m: m.track_running_stats for m in model.modules() if isinstance(m, _BN)}
    before = {name: b.clone() for name, b in model.named_buffers()}
    model.train(mode == "train")
    if mode == "train":
        for m in tracking:
            m.track_running_stats = False
    try:
        yield model
    finally:
        for m, flag in flags.items():
            m.training = flag
        for m, flag in tracking.items():
            m.track_running_stats = flag
        for name, b in model.named_buffers():
            if not torch.equal(b, before[name]):
                raise RuntimeError(f"buffer {name} changed during a frozen forward pass")


def loss_and_gradient(model: nn.Module, loss_fn, inputs, targets, mode: Mode = "train",
                      create_graph: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean loss on one batch and its flat gradient, model state untouched."""
    params = trainable(model)
    with frozen_state(model, mode):
        loss = loss_fn(model(inputs), targets)
    grads = torch.autograd.grad(loss, params, create_graph=create_graph)
    return loss, flatten(grads)


# --- the Hessian operator ---------------------------------------------------------------------

class HessianOperator:
    """``v -> H v`` for the Hessian of the size-weighted mean loss over cached batches."""

    def __init__(self, params: list[nn.Parameter], gradients: list[torch.Tensor], weights: list[float]):
        self.params = params
        self.gradients = gradients  # one flat create_graph gradient per batch
        self.weights = weights
        self.dim = sum(p.numel() for p in params)
        self.matvecs = 0

    def matvec(self, v: torch.Tensor) -> torch.Tensor:
        """One backward through each cached gradient graph: ``H v`` as a flat vector."""
        if v.shape != (self.dim,):
            raise ValueError(f"expected a flat vector of length {self.dim}, got shape {tuple(v.shape)}")
        v = v.to(self.gradients[0].dtype)
        out = None
        for grad, weight in zip(self.gradients, self.weights):
            # the gradient of ⟨g, v⟩ is the backward pass of grad_outputs=v bit for bit, without
            # autograd's grad_outputs check (whose first call imports sympy: seconds per process)
            parts = torch.autograd.grad(torch.dot(grad, v), self.params, retain_graph=True, allow_unused=True)
            hv = flatten([torch.zeros_like(p) if h is None else h for p, h in zip(self.params, parts)])
            if out is None:
                out = hv if weight == 1.0 else hv * weight  # one batch: its weight is 1, no product
            else:
                out.add_(hv, alpha=weight)
        self.matvecs += 1
        return out.detach()

    __call__ = matvec


def model_hessian(model: nn.Module, loss_fn, inputs, targets, mode: Mode = "train") -> HessianOperator:
    """The Hessian of the mean loss on fixed batches, as an operator.

    ``inputs``/``targets`` are one batch or sequences of batches; each batch's mean loss
    is weighted by its size, so the operator is the Hessian of the mean over all inputs
    (in train mode each batch is normalised by its own statistics, as in SGD).
    ``loss_fn`` must return the mean loss of a batch (e.g. ``nn.CrossEntropyLoss()``).
    """
    if isinstance(inputs, torch.Tensor):
        inputs, targets = [inputs], [targets]
    if len(inputs) != len(targets) or not inputs:
        raise ValueError("inputs and targets must be non-empty and of equal length")
    sizes = [len(x) for x in inputs]
    total = sum(sizes)
    grads = [loss_and_gradient(model, loss_fn, x, y, mode, create_graph=True)[1] for x, y in zip(inputs, targets)]
    return HessianOperator(trainable(model), grads, [n / total for n in sizes])


# --- eigen-solvers ----------------------------------------------------------------------------

@dataclass
class Eigenpairs:
    """Eigenvalues (descending), unit eigenvectors as columns, and the cost."""

    values: torch.Tensor  # (k,) float64
    vectors: torch.Tensor  # (dim, k)
    matvecs: int
    residuals: torch.Tensor  # (k,) ||H v - θ v||
    converged: bool


def sign_fix(vectors: torch.Tensor) -> torch.Tensor:
    """Flip each column so its largest-magnitude entry is positive (a fixed convention)."""
    idx = vectors.abs().argmax(dim=0)
    signs = torch.sign(vectors[idx, torch.arange(vectors.shape[1])])
    signs[signs == 0] = 1
    return vectors * signs


def start_vector(dim: int, seed: int, dtype, device) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(dim, generator=g, dtype=torch.float64).to(dtype=dtype, device=device)
    return v / v.norm()


def _orthogonalise(w: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """Classical Gram-Schmidt against the columns of ``basis``, twice (full orthogonality in float32)."""
    if basis.shape[1] == 0:
        return w
    for _ in range(2):
        w = w - basis @ (basis.T @ w)
    return w


def _orthogonalise_rows(w: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Gram-Schmidt of ``w`` against a basis stored as contiguous rows (Lanczos' layout).

    One classical pass, and a second only where the first removed most of ``w`` (the
    Daniel-Gragg-Kaufman-Stewart test, ‖w'‖ < ‖w‖/√2): after Lanczos' three-term
    recurrence ``w`` is already nearly orthogonal, so one pass (two BLAS products) is the rule.
    """
    if rows.shape[0] == 0:
        return w
    before = float(w.norm())
    w = w - rows.T @ (rows @ w)
    if float(w.norm()) < before / math.sqrt(2):
        w = w - rows.T @ (rows @ w)
    return w


def lanczos(matvec: Matvec, dim: int, k: int, tol: float = 1e-4, seed: int = 0, max_iter: int | None = None,
            dtype=torch.float64, device="cpu") -> Eigenpairs:
    """Top-k algebraic eigenpairs by Lanczos with full reorthogonalisation.

    Stops when every one of the k Ritz residuals ``|β_j s_{j,i}|`` (exact, given full
    reorthogonalisation) is below ``tol · |θ_i|`` (``tol=0``: run ``max_iter`` products).
    A single start vector finds one copy of an exactly repeated eigenvalue; clustered but
    distinct ones are resolved.

    The Krylov basis is kept as contiguous rows (one row per vector), so a step costs one
    product plus two passes of Gram-Schmidt, O(dim·j) in BLAS: well below an HVP for the
    sizes here (a column-major basis made each step ~3× the cost of the product).
    """
    k = min(k, dim)
    max_iter = min(dim, max_iter if max_iter is not None else max(4 * k, k + 200))
    q = start_vector(dim, seed, dtype, device)
    basis = torch.empty(min(max_iter, 2 * k + 32), dim, dtype=dtype, device=device)  # grown on demand
    alphas: list[float] = []
    betas: list[float] = []
    restart = seed + 1
    count = 0
    theta = s = None
    beta = 0.0
    for j in range(max_iter):
        if j == basis.shape[0]:
            basis = torch.cat([basis, torch.empty(min(j, max_iter - j), dim, dtype=dtype, device=device)])
        basis[j] = q
        w = matvec(q).to(dtype)
        count += 1
        alpha = float(torch.dot(q.double(), w.double()))
        w = w - alpha * q  # the three-term recurrence first, then full reorthogonalisation
        if j > 0:
            w = w - betas[-1] * basis[j - 1]
        w = _orthogonalise_rows(w, basis[: j + 1])
        beta = float(w.double().norm())
        alphas.append(alpha)
        m = j + 1
        t = torch.diag(torch.tensor(alphas, dtype=torch.float64))
        if m > 1:
            off = torch.tensor(betas, dtype=torch.float64)
            t += torch.diag(off, 1) + torch.diag(off, -1)
        theta, s = torch.linalg.eigh(t)
        theta, s = theta.flip(0), s.flip(1)
        kk = min(k, m)
        residuals = beta * s[-1, :kk].abs()
        if m >= k and bool((residuals <= tol * theta[:kk].abs()).all()):
            break
        if m == max_iter:
            break
        if beta <= 1e-10 * max(1.0, float(theta.abs().max())):
            # invariant subspace: continue from a fresh random direction orthogonal to it
            w = _orthogonalise_rows(start_vector(dim, restart, dtype, device), basis[:m])
            restart += 1
            beta_next = 0.0
            q = w / w.norm()
        else:
            beta_next = beta
            q = w / beta
        betas.append(beta_next)
    m = len(alphas)
    kk = min(k, m)
    vectors = basis[:m].T @ s[:, :kk].to(dtype)
    vectors = vectors / vectors.norm(dim=0)
    residuals = (beta * s[-1, :kk].abs()).to(torch.float64)
    converged = bool((residuals <= tol * theta[:kk].abs()).all()) and kk == k
    return Eigenpairs(theta[:kk].clone(), sign_fix(vectors), count, residuals, converged)


def power_iteration(matvec: Matvec, dim: int, k: int, tol: float = 1e-4, seed: int = 0,
                    max_iter: int = 1000, dtype=torch.float64, device="cpu") -> Eigenpairs:
    """Top-k algebraic eigenpairs by power iteration with deflation (the lecture's method).

    Power iteration finds the eigenvalue largest in magnitude. A first run gives it (μ);
    if μ < 0 it is the most negative one, else a run on ``H − μI`` finds λ_min − μ. The
    eigenpairs are then found one at a time on ``P (H + σI) P`` with ``σ = max(0, −λ_min)``
    (all eigenvalues ≥ 0, so magnitude order is algebraic order) and ``P`` projecting off
    the pairs found so far. Each stops when the deflated residual ``‖PHv − θv‖ ≤ tol·|θ|``
    or after ``max_iter`` products; those deflated residuals are returned. The true
    ``‖Hv − θv‖`` also carries the error of the earlier pairs (deflation is only as good as
    they are), which is why Lanczos is the reference solver here.
    """
    k = min(k, dim)
    count = 0

    def run(shift: float, found: torch.Tensor, start_seed: int, tolerance: float) -> tuple[float, torch.Tensor, float, bool]:
        nonlocal count
        v = _orthogonalise(start_vector(dim, start_seed, dtype, device), found)
        v = v / v.norm()
        theta, residual = 0.0, math.inf
        for _ in range(max_iter):
            hv = matvec(v).to(dtype)
            count += 1
            theta = float(torch.dot(v.double(), hv.double()))
            # the residual of the deflated operator P H P, which is what this run converges
            phv = _orthogonalise(hv, found)
            residual = float((phv - theta * v).double().norm())
            if residual <= tolerance * abs(theta):
                return theta, v, residual, True
            w = phv + shift * v
            v = w / w.norm()
        return theta, v, residual, False

    empty = torch.empty(dim, 0, dtype=dtype, device=device)
    # the spectral bounds only set the shift: a loose tolerance is enough
    mu, v_mu, _, _ = run(0.0, empty, seed, 1e-2)
    if mu < 0:
        lam_min = mu
    else:
        lam_min = mu + run(-mu, empty, seed + 1, 1e-2)[0]
    shift = max(0.0, -lam_min) * 1.05
    values, vectors, residuals, ok = [], empty, [], True
    for i in range(k):
        theta, v, r, conv = run(shift, vectors, seed + 2 + i, tol)
        ok = ok and conv
        values.append(theta)
        residuals.append(r)
        vectors = torch.cat([vectors, v[:, None]], dim=1)
    order = torch.tensor(values, dtype=torch.float64).argsort(descending=True)
    values = torch.tensor(values, dtype=torch.float64)[order]
    vectors = vectors[:, order]
    return Eigenpairs(values, sign_fix(vectors), count, torch.tensor(residuals, dtype=torch.float64)[order], ok)


def top_eigenpairs(matvec: Matvec, dim: int, k: int, method: Literal["lanczos", "power"] = "lanczos",
                   tol: float = 1e-4, seed: int = 0, which: Literal["largest", "smallest"] = "largest",
                   max_iter: int | None = None, dtype=torch.float64, device="cpu") -> Eigenpairs:
    """The k algebraically largest (or smallest) eigenpairs of a symmetric operator.

    Values come sorted descending for ``"largest"`` and ascending for ``"smallest"``; the
    same call twice gives identical output (seeded start vectors, fixed sign convention).
    """
    if which not in ("largest", "smallest"):
        raise ValueError(f"which must be 'largest' or 'smallest', not {which!r}")
    op = matvec if which == "largest" else (lambda v: -matvec(v))
    if method == "lanczos":
        result = lanczos(op, dim, k, tol, seed, max_iter, dtype, device)
    elif method == "power":
        result = power_iteration(op, dim, k, tol, seed, max_iter or 1000, dtype, device)
    else:
        raise ValueError(f"method must be 'lanczos' or 'power', not {method!r}")
    if which == "smallest":
        result.values = -result.values
    return result


# --- subspaces --------------------------------------------------------------------------------

def subspace_overlap(vectors: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    """``‖Qᵀv‖² / ‖v‖²`` per column v of ``vectors``, Q an orthonormal basis (QR) of ``gradients``' columns.

    Invariant to the sign of v and to any change of basis of the gradients.
    """
    q, _ = torch.linalg.qr(gradients.double())
    v = vectors.double()
    return ((q.T @ v) ** 2).sum(0) / (v**2).sum(0)


def project_out(matvec: Matvec, gradients: torch.Tensor) -> Matvec:
    """``v -> P H P v`` with ``P = I − QQᵀ``, Q an orthonormal basis of the gradients."""
    q, _ = torch.linalg.qr(gradients.double())

    def projected(v: torch.Tensor) -> torch.Tensor:
        v = v.to(q.dtype)
        v = v - q @ (q.T @ v)
        hv = matvec(v).to(q.dtype)
        return hv - q @ (q.T @ hv)

    return projected


def output_statistic_gradients(model: nn.Module, inputs: torch.Tensor, mode: Mode = "train",
                               moments: int = 1) -> torch.Tensor:
    """Gradients of batch statistics of each logit: (dim, classes × moments) columns.

    moment 1: the batch mean of logit c (Page's class-mean-logit gradients); 2: its batch
    variance; 3: its batch skewness.
    """
    params = trainable(model)
    with frozen_state(model, mode):
        logits = model(inputs)
    mean = logits.mean(0)
    stats = [mean]
    if moments >= 2:
        centred = logits - mean
        var = (centred**2).mean(0)
        stats.append(var)
        if moments >= 3:
            stats.append((centred**3).mean(0) / var.clamp_min(1e-12) ** 1.5)
    columns = []
    targets = [s[c] for s in stats for c in range(logits.shape[1])]
    for i, target in enumerate(targets):
        grads = torch.autograd.grad(target, params, retain_graph=i < len(targets) - 1, allow_unused=True)
        columns.append(flatten([torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]))
    return torch.stack(columns, dim=1)
