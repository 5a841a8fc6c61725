"""Hessian-vector products against explicit fp64 Hessians; solvers against eigh; overlaps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.func import functional_call

from dlclaims.methods import hessian
import references
from dlclaims.methods.hessian import model_hessian, subspace_overlap, top_eigenpairs
from dlclaims.threads import one_thread

LOSS = nn.CrossEntropyLoss()


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: a second thread only adds synchronisation (50x slower on a loaded machine)."""
    with one_thread():
        yield


def tiny(batch_norm: bool, seed: int = 0) -> nn.Sequential:
    """A smooth (Softplus) network small enough to materialise its Hessian, in float64."""
    torch.manual_seed(seed)
    layers = [nn.Linear(3, 4, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm1d(4))
    layers += [nn.Softplus(beta=10), nn.Linear(4, 3)]
    net = nn.Sequential(*layers).double()
    if batch_norm:  # non-trivial running statistics, so that eval mode differs from train mode
        with torch.no_grad():
            net[1].running_mean.uniform_(-0.5, 0.5)
            net[1].running_var.uniform_(0.5, 2.0)
            net[1].weight.uniform_(0.5, 1.5)
            net[1].bias.uniform_(-0.3, 0.3)
    return net


def batch(seed: int = 1, n: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, generator=g, dtype=torch.float64), torch.randint(3, (n,), generator=g)


def explicit_hessian(net: nn.Module, x, y, mode: str) -> torch.Tensor:
    """Reference: torch.autograd.functional.hessian (vectorize=False) of the loss as a function of θ."""
    names = [n for n, _ in net.named_parameters()]
    shapes = [p.shape for p in net.parameters()]
    theta = hessian.flat_parameters(net).clone()

    def loss_of(flat: torch.Tensor) -> torch.Tensor:
        parts = dict(zip(names, (t.view(s) for t, s in zip(hessian.unflatten(flat, [torch.empty(s) for s in shapes]), shapes))))
        with hessian.frozen_state(net, mode):
            return LOSS(functional_call(net, parts, (x,)), y)

    return torch.autograd.functional.hessian(loss_of, theta, vectorize=False)


def finite_difference_hessian(net: nn.Module, x, y, mode: str, eps: float = 1e-5) -> torch.Tensor:
    """Central differences of the exact gradient, column by column."""
    theta = hessian.flat_parameters(net).clone()
    cols = []
    for i in range(theta.numel()):
        e = torch.zeros_like(theta)
        e[i] = eps
        hessian.set_flat_parameters_(net, theta + e)
        g_plus = hessian.loss_and_gradient(net, LOSS, x, y, mode)[1]
        hessian.set_flat_parameters_(net, theta - e)
        g_minus = hessian.loss_and_gradient(net, LOSS, x, y, mode)[1]
        cols.append((g_plus - g_minus) / (2 * eps))
    hessian.set_flat_parameters_(net, theta)
    return torch.stack(cols, dim=1)


def operator_matrix(op) -> torch.Tensor:
    eye = torch.eye(op.dim, dtype=torch.float64)
    return torch.stack([op.matvec(eye[:, i]) for i in range(op.dim)], dim=1)


@pytest.mark.parametrize("batch_norm,mode", [(False, "train"), (True, "train"), (True, "eval")])
def test_hvp_matches_explicit_fp64_hessian(batch_norm, mode):
    net = tiny(batch_norm)
    x, y = batch()
    reference = explicit_hessian(net, x, y, mode)
    fd = finite_difference_hessian(net, x, y, mode)
    # the reference itself: symmetric and equal to finite differences of the gradient
    torch.testing.assert_close(reference, reference.T, atol=1e-10, rtol=0)
    torch.testing.assert_close(reference, fd, atol=1e-6, rtol=1e-5)
    op = model_hessian(net, LOSS, x, y, mode=mode)
    torch.testing.assert_close(operator_matrix(op), reference, atol=1e-10, rtol=1e-8)
    assert op.matvecs == op.dim


def test_train_and_eval_mode_hessians_differ_for_batch_norm():
    net = tiny(True)
    x, y = batch()
    h_train = operator_matrix(model_hessian(net, LOSS, x, y, "train"))
    h_eval = operator_matrix(model_hessian(net, LOSS, x, y, "eval"))
    assert (h_train - h_eval).abs().max() > 1e-3


def test_several_batches_are_weighted_by_size():
    net = tiny(False)
    x, y = batch(n=9)
    whole = operator_matrix(model_hessian(net, LOSS, x, y))
    split = operator_matrix(model_hessian(net, LOSS, [x[:3], x[3:]], [y[:3], y[3:]]))
    torch.testing.assert_close(split, whole, atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_model_state_is_unchanged(mode):
    net = tiny(True)
    net.train()
    x, y = batch()
    state = {k: v.clone() for k, v in net.state_dict().items()}
    op = model_hessian(net, LOSS, x, y, mode=mode)
    op.matvec(torch.ones(op.dim, dtype=torch.float64))
    hessian.output_statistic_gradients(net, x, mode, moments=3)
    hessian.loss_and_gradient(net, LOSS, x, y, mode)
    assert net.training and all(m.training for m in net.modules())
    assert net[1].track_running_stats
    for k, v in net.state_dict().items():
        assert torch.equal(v, state[k]), k
    assert int(net[1].num_batches_tracked) == 0


def test_matvec_rejects_a_wrong_shape():
    op = model_hessian(tiny(False), LOSS, *batch())
    with pytest.raises(ValueError, match="flat vector"):
        op.matvec(torch.ones(op.dim + 1, dtype=torch.float64))


# --- solvers ---------------------------------------------------------------------------------

def synthetic(eigenvalues: np.ndarray, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A dense symmetric matrix with a known spectrum and a random eigenbasis."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((len(eigenvalues), len(eigenvalues))))
    a = (q * eigenvalues) @ q.T
    return torch.from_numpy((a + a.T) / 2), torch.from_numpy(q)


def spectrum_clustered_and_negative(n: int = 200) -> np.ndarray:
    """Top five clustered within 1%, a bulk, and negative eigenvalues larger in magnitude."""
    top = np.array([10.0, 9.97, 9.94, 9.91, 9.88, 6.0, 5.0, 4.0, 3.5, 3.0])
    rest = np.linspace(-0.5, 1.0, n - len(top) - 3)
    return np.concatenate([top, rest, [-20.0, -15.0, -12.0]])


def spectrum_separated_and_negative(n: int = 200) -> np.ndarray:
    """Separated top eigenvalues, and negative ones up to twice the largest in magnitude."""
    return np.concatenate([[10.0, 8.0, 6.0], np.linspace(-0.5, 4.0, n - 6), [-20.0, -15.0, -12.0]])


@pytest.mark.parametrize("method,spectrum,k,tol", [
    ("lanczos", spectrum_clustered_and_negative, 8, 1e-6),
    ("power", spectrum_separated_and_negative, 3, 1e-6),
])
def test_solvers_find_the_algebraically_largest(method, spectrum, k, tol):
    lam = spectrum()
    a, q = synthetic(lam)
    res = top_eigenpairs(lambda v: a @ v, a.shape[0], k, method=method, tol=tol, dtype=torch.float64,
                         max_iter=5000)
    assert res.converged
    np.testing.assert_allclose(res.values.numpy(), np.sort(lam)[::-1][:k], rtol=1e-6)
    # eigenvectors: unit, and aligned with the true ones up to sign
    true = q[:, np.argsort(lam)[::-1][:k].copy()]
    np.testing.assert_allclose((res.vectors.T @ true).diagonal().abs().numpy(), 1.0, atol=1e-3)
    assert res.matvecs > 0


def test_power_iteration_in_a_cluster_stays_in_the_cluster():
    """Within a 1% cluster the shifted power method is slow, but never leaves the cluster."""
    lam = spectrum_clustered_and_negative()
    a, _ = synthetic(lam)
    res = top_eigenpairs(lambda v: a @ v, a.shape[0], 3, method="power", tol=1e-3, dtype=torch.float64)
    assert ((res.values >= 9.85) & (res.values <= 10.0 + 1e-9)).all()


def test_smallest_is_the_most_negative():
    a, _ = synthetic(spectrum_clustered_and_negative())
    res = top_eigenpairs(lambda v: a @ v, a.shape[0], 3, which="smallest", tol=1e-8, dtype=torch.float64)
    np.testing.assert_allclose(res.values.numpy(), [-20.0, -15.0, -12.0], rtol=1e-7)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_solvers_agree_with_eigh_of_a_network_hessian(batch_norm):
    net = tiny(batch_norm)
    x, y = batch(n=12)
    h = explicit_hessian(net, x, y, "train")
    expected = torch.linalg.eigh(h).eigenvalues.flip(0)[:3]
    for method, tol, close in (("lanczos", 1e-9, 1e-7), ("power", 1e-5, 1e-4)):
        op = model_hessian(net, LOSS, x, y)
        res = top_eigenpairs(op.matvec, op.dim, 3, method=method, tol=tol, dtype=torch.float64, max_iter=2000)
        assert res.converged, method
        torch.testing.assert_close(res.values, expected, atol=close, rtol=close)
        torch.testing.assert_close(h @ res.vectors, res.vectors * res.values, atol=10 * close, rtol=0)
        assert res.matvecs == op.matvecs


def test_solvers_are_deterministic_with_a_sign_convention():
    a, _ = synthetic(spectrum_clustered_and_negative())
    for method in ("lanczos", "power"):
        one = top_eigenpairs(lambda v: a @ v, a.shape[0], 3, method=method, tol=1e-3, seed=4, dtype=torch.float64)
        two = top_eigenpairs(lambda v: a @ v, a.shape[0], 3, method=method, tol=1e-3, seed=4, dtype=torch.float64)
        assert torch.equal(one.values, two.values) and torch.equal(one.vectors, two.vectors)
        peak = one.vectors.abs().argmax(0)
        assert (one.vectors[peak, torch.arange(3)] > 0).all()


def test_lanczos_stops_on_the_ritz_residual():
    a, _ = synthetic(spectrum_clustered_and_negative())
    res = top_eigenpairs(lambda v: a @ v, a.shape[0], 5, tol=1e-4, dtype=torch.float64)
    true_residual = (a @ res.vectors - res.vectors * res.values).norm(dim=0)
    assert (true_residual <= 1e-4 * res.values.abs() * 1.01).all()
    torch.testing.assert_close(true_residual, res.residuals, atol=1e-9, rtol=1e-3)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="method"):
        top_eigenpairs(lambda v: v, 5, 2, method="arnoldi")


# --- overlaps --------------------------------------------------------------------------------

def test_overlap_invariances():
    g = torch.Generator().manual_seed(0)
    grads = torch.randn(500, 10, generator=g, dtype=torch.float64)
    inside = grads @ torch.randn(10, 4, generator=g, dtype=torch.float64)
    torch.testing.assert_close(subspace_overlap(inside, grads), torch.ones(4, dtype=torch.float64))
    v = torch.randn(500, 200, generator=g, dtype=torch.float64)
    base = subspace_overlap(v, grads)
    mix = torch.randn(10, 10, generator=g, dtype=torch.float64)  # a change of basis
    torch.testing.assert_close(subspace_overlap(-v, grads @ mix), base)
    assert abs(float(base.mean()) - 10 / 500) < 0.005  # random vectors: about k / N


def test_projecting_a_subspace_off_removes_its_eigenvalues():
    lam = np.linspace(1, 10, 50)
    a, q = synthetic(lam)
    top = q[:, np.argsort(lam)[::-1][:2].copy()]
    projected = hessian.project_out(lambda v: a @ v, top)
    res = top_eigenpairs(projected, 50, 1, tol=1e-8, dtype=torch.float64)
    np.testing.assert_allclose(float(res.values[0]), np.sort(lam)[-3], rtol=1e-7)


# --- the hand-written Lanczos against scipy's eigsh and explicit Hessians ----------------------

@pytest.mark.parametrize("batch_norm", [False, True])
def test_lanczos_and_eigsh_agree_on_a_network_hessian_with_eigh(batch_norm):
    net = tiny(batch_norm)
    x, y = batch(n=12)
    h = explicit_hessian(net, x, y, "train")
    expected = torch.linalg.eigh(h).eigenvalues.flip(0)[:4]
    op = model_hessian(net, LOSS, x, y)
    ours = top_eigenpairs(op.matvec, op.dim, 4, tol=1e-10, max_iter=op.dim)
    ref = references.eigsh_top(op.matvec, op.dim, 4, tol=1e-12)
    torch.testing.assert_close(ours.values, expected, atol=1e-8, rtol=1e-8)
    torch.testing.assert_close(ref.values, expected, atol=1e-8, rtol=1e-8)
    torch.testing.assert_close(ours.vectors.abs(), ref.vectors.abs(), atol=1e-6, rtol=0)


def test_lanczos_is_as_accurate_as_eigsh_at_the_same_product_count():
    """Same operator, same number of products: the eigenvalue error of ours is no larger."""
    lam = spectrum_clustered_and_negative(400)
    a, _ = synthetic(lam)
    truth = np.sort(lam)[::-1][:8]
    ref = references.eigsh_top(lambda v: a @ v, 400, 8, tol=1e-6)
    ours = top_eigenpairs(lambda v: a @ v, 400, 8, tol=0.0, max_iter=ref.matvecs)
    assert ours.matvecs == ref.matvecs
    err_ours = np.abs(ours.values.numpy() - truth).max()
    err_ref = np.abs(ref.values.numpy() - truth).max()
    assert err_ours <= max(err_ref, 1e-12)


def test_lanczos_basis_grows_past_its_first_allocation():
    """The Krylov basis starts at 2k + 32 rows and grows: a slow problem needs more."""
    lam = np.concatenate([[1.0 + 1e-3 * i for i in range(6)], np.linspace(0, 0.99, 294)])
    a, _ = synthetic(lam)
    res = top_eigenpairs(lambda v: a @ v, 300, 2, tol=1e-10, max_iter=300)
    assert res.matvecs > 2 * 2 + 32 and res.converged
    np.testing.assert_allclose(res.values.numpy(), np.sort(lam)[::-1][:2], rtol=1e-9)


def test_float32_basis_is_accurate_to_single_precision():
    a, _ = synthetic(spectrum_clustered_and_negative())
    a32 = a.float()
    res = top_eigenpairs(lambda v: a32 @ v, a.shape[0], 5, tol=1e-4, dtype=torch.float32)
    np.testing.assert_allclose(res.values.numpy(), np.sort(spectrum_clustered_and_negative())[::-1][:5], rtol=1e-5)
