"""methods.mean_field against scipy quadrature, closed forms and Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from dlclaims.methods import mean_field as mf


def quad_mean(f, q):
    return integrate.quad(lambda z: f(math.sqrt(q) * z) * stats.norm.pdf(z), -np.inf, np.inf, limit=200)[0]


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
@pytest.mark.parametrize("q", [0.1, 1.0, 12.5])
def test_second_moment_and_chi_match_scipy_quadrature(act, q):
    phi, dphi = mf.ACTIVATIONS[act]
    rel = 1e-8
    assert mf.second_moment(act, q) == pytest.approx(quad_mean(lambda u: phi(u) ** 2, q), rel=rel)
    assert mf.chi(act, q, 2.0) == pytest.approx(2.0 * quad_mean(lambda u: dphi(u) ** 2, q), rel=rel)


def test_relu_closed_forms():
    assert mf.second_moment("relu", 3.0) == pytest.approx(1.5, rel=1e-10)  # E[relu(u)²] = q/2
    assert mf.chi("relu", 3.0, 2.0) == pytest.approx(1.0, rel=1e-10)  # He: critical
    assert mf.fixed_point("relu", 2.0, q0=0.7) == 0.7
    assert mf.fixed_point("relu", 1.0) == 0.0 and mf.fixed_point("relu", 3.0) == math.inf


def test_tanh_he_fixed_point_is_a_fixed_point_and_matches_monte_carlo():
    q = mf.fixed_point("tanh", 2.0)
    assert mf.length_map("tanh", q, 2.0) == pytest.approx(q, rel=1e-12)
    assert 0.6 < q < 0.64  # the catalogue's 0.62
    z = np.random.default_rng(0).standard_normal(2_000_000)
    assert mf.chi("tanh", q, 2.0) == pytest.approx(2.0 * np.mean((1 - np.tanh(math.sqrt(q) * z) ** 2) ** 2),
                                                  rel=2e-3)
    assert mf.fixed_point("tanh", 1.0) == 0.0  # σ_w² ≤ 1 contracts to 0


def test_trajectory_follows_the_length_map_and_tail_share_matches_monte_carlo():
    qs = mf.trajectory("sigmoid", 2.0, 4.0, 4)
    assert qs[1] == pytest.approx(mf.length_map("sigmoid", 2.0, 4.0))
    z = np.random.default_rng(1).standard_normal(1_000_000) * math.sqrt(5.0)
    assert mf.tail_share(5.0, math.log(19)) == pytest.approx(np.mean(np.abs(z) > math.log(19)), abs=2e-3)
