"""dlclaims.normalisation against torch: forward passes, running statistics, gradients, SGD."""

import numpy as np
import pytest
import torch
from torch import nn

from dlclaims.methods.numpy_mlp import MLP, Norm, cross_entropy, norm_backward, norm_forward, sgd_epochs


def rand(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape) * 2 + 1


@pytest.mark.parametrize("kind", ["bn", "gn", "ln"])
def test_forward_and_backward_match_torch_modules_in_float64(kind):
    x = rand(16, 32)
    norm = Norm(kind, 32, groups=8, dtype=np.float64)
    norm.gamma = rand(32, seed=1)
    norm.beta = rand(32, seed=2)
    module = {"bn": nn.BatchNorm1d(32, dtype=torch.float64), "gn": nn.GroupNorm(8, 32, dtype=torch.float64),
              "ln": nn.LayerNorm(32, dtype=torch.float64)}[kind]
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(norm.gamma))
        module.bias.copy_(torch.from_numpy(norm.beta))
    xt = torch.from_numpy(x).requires_grad_()
    out = module(xt)
    dy = rand(16, 32, seed=3)
    out.backward(torch.from_numpy(dy))
    y, cache = norm_forward(x, norm, train=True)
    dx, dgamma, dbeta = norm_backward(dy, norm, cache)
    np.testing.assert_allclose(y, out.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dgamma, module.weight.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dbeta, module.bias.grad.numpy(), rtol=0, atol=1e-12)


def test_batch_norm_running_statistics_and_eval_mode_match_torch():
    norm = Norm("bn", 8, dtype=np.float64)
    module = nn.BatchNorm1d(8, dtype=torch.float64)
    for step in range(5):
        x = rand(6, 8, seed=step)
        norm_forward(x, norm, train=True)
        module(torch.from_numpy(x))
    np.testing.assert_allclose(norm.running_mean, module.running_mean.numpy(), rtol=1e-13)
    np.testing.assert_allclose(norm.running_var, module.running_var.numpy(), rtol=1e-13)
    module.eval()
    x = rand(4, 8, seed=9)
    np.testing.assert_allclose(norm_forward(x, norm, train=False)[0], module(torch.from_numpy(x)).detach().numpy(),
                               atol=1e-12)
    # update=False leaves the running statistics alone
    before = norm.running_var.copy()
    norm_forward(rand(6, 8, seed=10), norm, train=True, update=False)
    np.testing.assert_array_equal(norm.running_var, before)


def torch_copy(net: MLP) -> nn.Sequential:
    """The same network built from torch modules (float64)."""
    layers = []
    act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid}[net.activation]
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        lin = nn.Linear(*w.shape, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if i < len(net.norms):
            n = net.norms[i]
            mod = {"bn": lambda: nn.BatchNorm1d(n.features, affine=n.affine, dtype=torch.float64),
                   "gn": lambda: nn.GroupNorm(n.groups, n.features, affine=n.affine, dtype=torch.float64),
                   "ln": lambda: nn.LayerNorm(n.features, elementwise_affine=n.affine, dtype=torch.float64),
                   "none": nn.Identity}[n.kind]()
            if n.kind != "none" and n.affine:
                with torch.no_grad():
                    mod.weight.copy_(torch.from_numpy(n.gamma))
                    mod.bias.copy_(torch.from_numpy(n.beta))
            layers += [mod, act()] if net.placement == "before" else [act(), mod]
    return nn.Sequential(*layers)


@pytest.mark.parametrize("kind, activation, placement, affine", [
    ("bn", "relu", "before", True), ("bn", "sigmoid", "before", False), ("bn", "relu", "after", True),
    ("gn", "relu", "before", True), ("ln", "relu", "before", True), ("none", "relu", "before", True)])
def test_mlp_loss_and_gradients_match_autograd(kind, activation, placement, affine):
    rng = np.random.default_rng(0)
    net = MLP.init([12, 16, 16, 5], rng, norm=kind, groups=4, affine=affine, activation=activation,
                   placement=placement, dtype=np.float64)
    for n in net.norms:
        n.gamma, n.beta = rand(16, seed=4), rand(16, seed=5)
    x, y = rand(10, 12, seed=6), rng.integers(0, 5, 10)
    reference = torch_copy(net)
    loss_t = nn.functional.cross_entropy(reference(torch.from_numpy(x)), torch.from_numpy(y))
    loss_t.backward()
    loss, grads = net.loss_and_grads(x, y)
    assert loss == pytest.approx(float(loss_t.detach()), abs=1e-12)
    linears = [m for m in reference if isinstance(m, nn.Linear)]
    expected = [m.weight.grad.numpy().T for m in linears] + [m.bias.grad.numpy() for m in linears]
    if kind != "none" and affine:
        for m in reference:
            if isinstance(m, (nn.BatchNorm1d, nn.GroupNorm, nn.LayerNorm)):
                expected += [m.weight.grad.numpy(), m.bias.grad.numpy()]
    assert len(grads) == len(expected)
    for got, want in zip(grads, expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


def test_dropout_gradient_matches_finite_differences():
    net = MLP.init([6, 8, 3], np.random.default_rng(0), norm="bn", dropout=0.5, dtype=np.float64)
    x, y = rand(8, 6, seed=1), np.arange(8) % 3

    def loss_at(w):
        trial = net.copy()
        trial.weights[0] = w
        return trial.loss_and_grads(x, y, update=False, rng=np.random.default_rng(7))[0]

    _, grads = net.loss_and_grads(x, y, update=False, rng=np.random.default_rng(7))
    w, h = net.weights[0], 1e-6
    numeric = np.zeros_like(w)
    for idx in np.ndindex(*w.shape):
        up, down = w.copy(), w.copy()
        up[idx] += h
        down[idx] -= h
        numeric[idx] = (loss_at(up) - loss_at(down)) / (2 * h)
    np.testing.assert_allclose(grads[0], numeric, atol=1e-7)


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    logits = np.array([[0.0, np.log(3.0)], [0.0, 0.0]])
    loss, grad = cross_entropy(logits, np.array([1, 0]))
    assert loss == pytest.approx((-np.log(0.75) - np.log(0.5)) / 2)
    np.testing.assert_allclose(grad, np.array([[0.25, -0.25], [-0.5, 0.5]]) / 2)


def test_sgd_matches_torch_momentum_convention_on_full_batches():
    net = MLP.init([5, 7, 3], np.random.default_rng(0), dtype=np.float64)
    x, y = rand(12, 5, seed=1), np.arange(12) % 3
    reference = torch_copy(net)
    opt = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        nn.functional.cross_entropy(reference(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        opt.step()
    assert sgd_epochs(net, x, y, batch=12, lr=0.1, epochs=3, rng=np.random.default_rng(0))
    linears = [m for m in reference if isinstance(m, nn.Linear)]
    np.testing.assert_allclose(net.weights[0], linears[0].weight.detach().numpy().T, atol=1e-12)
    np.testing.assert_allclose(net.biases[1], linears[1].bias.detach().numpy(), atol=1e-12)


def test_divergence_is_reported():
    net = MLP.init([5, 7, 3], np.random.default_rng(0), scale=1e4)
    x, y = rand(12, 5, seed=1).astype(np.float32), np.arange(12) % 3
    assert not sgd_epochs(net, x, y, batch=4, lr=1e3, epochs=20, rng=np.random.default_rng(0))


def test_bad_group_count_is_refused():
    with pytest.raises(ValueError, match="groups"):
        Norm("gn", 10, groups=3)
