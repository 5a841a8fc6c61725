"""methods/line_search: Armijo and Wolfe against scipy.optimize.line_search and closed forms,
GD's closed-form iteration count against a brute-force loop, damped Newton against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import line_search as scipy_line_search
from scipy.optimize import minimize, rosen, rosen_der, rosen_hess

from dlclaims.methods import line_search as ls


def test_scipy_strong_wolfe_step_passes_our_wolfe_test_and_a_tiny_step_fails_it():
    x = np.array([-1.2, 1.0])
    g = rosen_der(x)
    d = -g
    eta = scipy_line_search(rosen, rosen_der, x, d, c1=1e-4, c2=0.9)[0]
    assert eta is not None
    phi0, dphi0 = rosen(x), g @ d
    assert ls.wolfe(phi0, dphi0, rosen(x + eta * d), rosen_der(x + eta * d) @ d, eta, 1e-4, 0.9)
    tiny = 1e-9  # sufficient decrease holds, but the slope is still almost dphi0: curvature fails
    assert not ls.wolfe(phi0, dphi0, rosen(x + tiny * d), rosen_der(x + tiny * d) @ d, tiny, 1e-4, 0.9)


def test_armijo_on_a_quadratic_stops_at_the_closed_form_step():
    """f = L x²/2: Armijo with γ accepts η iff η ≤ 2(1 − γ)/L; halving from η₀ stops at the first
    η₀/2^k under it; the naive rule (γ = 0) at the first one under 2/L."""
    L, x = 4.0, np.array([1.0])

    def f(v):
        return 0.5 * L * float(v @ v)
    for gamma, limit in ((0.5, 2 * 0.5 / L), (1e-4, 2 * (1 - 1e-4) / L), (0.0, 2 / L)):
        eta0 = 10.0
        k = int(np.ceil(np.log2(eta0 / limit)))
        expected = eta0 / 2**k  # the first halving under the limit (none lands on it here)
        eta, _, _ = ls.backtrack(f, x, f(x), L * x, -L * x, eta0, gamma)
        assert eta == pytest.approx(expected)
        assert eta <= limit and 2 * eta > limit * (1 - 1e-12)


def test_naive_rule_is_a_strict_decrease():
    assert ls.sufficient_decrease(0.999, 1.0, 1.0, -1.0, 0.0)
    assert not ls.sufficient_decrease(1.0, 1.0, 1.0, -1.0, 0.0)
    assert not ls.sufficient_decrease(0.999, 1.0, 1.0, -1.0, 0.5)


def test_gd_iterations_in_closed_form_match_a_loop():
    gen = np.random.default_rng(0)
    lam = np.exp(gen.uniform(np.log(0.01), 0, 15))
    lam[0] = 1.0
    x0 = gen.standard_normal(15)
    for eta in (0.3, 1.0, 1.7):
        x, f0, k = x0.copy(), 0.5 * (lam * x0**2).sum(), 0
        while 0.5 * (lam * x**2).sum() > 1e-6 * f0:
            x = x - eta * lam * x
            k += 1
        assert ls.gd_iterations_quadratic(lam, x0**2, eta, 1e-6)[0] == k


def test_damped_newton_finds_scipys_minimum_of_rosenbrock_and_ends_with_full_steps():
    path = ls.damped_newton(rosen, rosen_der, rosen_hess, np.array([-1.2, 1.0]), max_iter=100, tol=1e-20)
    ref = minimize(rosen, np.array([-1.2, 1.0]), jac=rosen_der, hess=rosen_hess, method="Newton-CG", tol=1e-12).x
    assert np.allclose(path.x, ref, atol=1e-6) and np.allclose(path.x, 1.0, atol=1e-8)
    assert path.steps[-3:] == [1.0, 1.0, 1.0]
    assert all(b <= a for a, b in zip(path.values, path.values[1:]))


def test_backtracking_gd_on_a_quadratic_reaches_its_target_with_f_falling():
    path = ls.backtracking_gd(lambda v: 0.5 * float(v @ v), lambda v: v, np.ones(3), 8.0, 1e-4, 0.0, 1e-8, 100)
    assert path.values[-1] <= 1e-8 * path.values[0]
    assert all(b < a for a, b in zip(path.values, path.values[1:]))
