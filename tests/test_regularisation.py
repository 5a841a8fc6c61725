"""methods.regularisation against closed forms, brute force and scikit-learn."""

import itertools

import numpy as np
import pytest
import torch
from scipy import optimize
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from dlclaims.methods import regularisation as reg


def problem(seed=0, n=40, d=5):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) * np.geomspace(0.3, 3, d)
    return x, rng.standard_normal(n) + x @ rng.standard_normal(d)


def test_srivastava_identity_by_enumerating_every_mask():
    rng = np.random.default_rng(1)
    x, y, w, p = rng.standard_normal((2, 3)), rng.standard_normal(2), rng.standard_normal(3), 0.7
    expected = 0.0
    for bits in itertools.product((0, 1), repeat=6):
        r = np.array(bits).reshape(2, 3)
        expected += p ** r.sum() * (1 - p) ** (6 - r.sum()) * np.sum((y - (r * x) @ w) ** 2)
    gamma2 = np.diag(x.T @ x)
    assert expected == pytest.approx(np.sum((y - p * x @ w) ** 2) + p * (1 - p) * np.sum(gamma2 * w**2), rel=1e-12)


def test_srivastava_ridge_is_the_minimiser_and_sampled_dropout_converges_to_it():
    x, y = problem()
    p = 0.8
    w = reg.srivastava_ridge(x, y, p)
    grad = -2 * p * x.T @ (y - p * x @ w) + 2 * p * (1 - p) * np.diag(x.T @ x) * w
    assert np.abs(grad).max() < 1e-9
    sampled = reg.dropout_least_squares(x, y, p, 4000, np.random.default_rng(0))
    assert np.linalg.norm(sampled - w) / np.linalg.norm(w) < 0.02
    assert np.linalg.norm(reg.ridge(x, y, 0.0) / p - w) / np.linalg.norm(w) > 0.05  # the penalty matters


def test_ridge_logistic_matches_scikit_learn():
    x, y = problem(2, n=200, d=4)
    labels = (y > np.median(y)).astype(float)
    lam = 0.05
    ours = reg.ridge_logistic(x, labels, lam)
    sk = LogisticRegression(C=1 / (len(labels) * lam), fit_intercept=False, tol=1e-12, max_iter=10_000).fit(x, labels)
    assert ours == pytest.approx(sk.coef_[0], rel=1e-5, abs=1e-7)


def test_wager_fit_is_stationary_for_its_objective_written_independently():
    x, y = problem(3, n=150, d=4)
    labels = (y + np.random.default_rng(3).standard_normal(150) > 0).astype(float)
    p = 0.6
    beta = reg.wager_logistic(x, labels, p)

    def objective(b):
        z = x @ b
        s = expit(z)
        nll = np.mean(np.logaddexp(0, z) - labels * z)
        return nll + 0.5 * (1 - p) / p * np.mean(s * (1 - s) * (x**2 @ b**2))

    assert np.abs(optimize.approx_fprime(beta, objective, 1e-7)).max() < 1e-5


def test_dropout_logistic_with_keep_one_is_the_maximum_likelihood_fit():
    x, y = problem(4, n=200, d=3)
    labels = (y + np.random.default_rng(4).standard_normal(200) > 0).astype(float)
    assert reg.dropout_logistic(x, labels, 1.0, 3, np.random.default_rng(0)) == pytest.approx(
        reg.ridge_logistic(x, labels, 0.0), rel=1e-8)


def test_shift_matches_a_loop_with_zero_fill():
    x = torch.arange(12.0).reshape(2, 6) + 1
    by = torch.tensor([2, -1])
    got = reg.shift(x, by)
    want = torch.zeros_like(x)
    for i, b in enumerate(by.tolist()):
        for j in range(6):
            if 0 <= j - b < 6:
                want[i, j] = x[i, j - b]
    assert torch.equal(got, want)
    assert torch.equal(reg.shift(x, 0), x)


def test_bias_variance_recovers_known_bias_and_variance():
    rng = np.random.default_rng(5)
    truth = np.linspace(-1, 1, 30)
    preds = truth + 0.1 + 2.0 * rng.standard_normal((4000, 30))  # bias 0.1, sd 2: the plug-in bias² is 0.01 + 4/4000
    bias2, var = reg.bias_variance(preds, truth)
    assert var == pytest.approx(4.0, rel=0.02)
    assert bias2 == pytest.approx(0.01, abs=0.002)
    assert reg.bias_variance(preds, truth, unbiased=False)[0] > bias2 + 0.0009
