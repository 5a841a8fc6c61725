"""sgd-uncertainty over problem draws: the stacked runner reproduces every chain run alone on its
own problem, and the rows measured over draws carry the draw-to-draw spread in their intervals."""

import dataclasses

import numpy as np
import pytest
import torch

from dlclaims.methods import chains
from dlclaims.suite import contract

from test_sgd_uncertainty import DRAWS, STEPS, synthetic

NAME = "sgd-uncertainty"


@pytest.fixture(scope="module")
def module():
    return contract.load(NAME)


@pytest.mark.parametrize("kind, batch", [("least_squares", 1), ("least_squares", 3), ("logistic", 1)])
def test_stacked_chains_are_the_chains_run_alone(kind, batch):
    """Chain c of a stacked run over three problems is chain c run alone on its problem: the same rows
    and steps (the final iterate bit for bit), the same gaps up to the summation order of a matrix
    product over a different number of rows: the draws share one batched run without changing a chain."""
    make = ((lambda s: chains.least_squares("p", 600, 4, np.ones(4), 1.0, seed=s)) if kind == "least_squares"
            else (lambda s: chains.logistic("p", 600, 4, weight_norm=2.0, l2=0.01, seed=s)))
    problems = [make(s) for s in (1, 2, 3)]
    owner, seeds = np.array([0, 1, 2, 1, 0, 2]), np.arange(20, 26)
    sched = chains.Schedule(np.full(6, 0.05), np.ones(6), np.array([0.0, 0.5, 0.0, 1.0, 0.0, 0.5]))
    x0 = torch.stack([p.x_star for p in problems])[owner] + 0.3
    log_at = [0, 37, 150, 300]
    stacked = chains.run_chains_stacked(problems, owner, x0, sched, seeds, 300, batch=batch, log_at=log_at, chunk=64)
    for c in range(6):
        one = chains.run_chains(problems[owner[c]], x0[c], chains.Schedule(*(v[c:c + 1] for v in (
            sched.a, sched.k0, sched.p))), seeds[c:c + 1], 300, batch=batch, log_at=log_at, chunk=64)
        np.testing.assert_allclose(one.gap_last[:, 0], stacked.gap_last[:, c], rtol=1e-12)
        np.testing.assert_allclose(one.gap_avg[:, 0], stacked.gap_avg[:, c], rtol=1e-12)
        np.testing.assert_array_equal(one.x_last[0].numpy(), stacked.x_last[c].numpy())


def test_stacked_problems_must_match():
    a = chains.least_squares("a", 100, 3, np.ones(3), 1.0, seed=1)
    b = chains.least_squares("b", 120, 3, np.ones(3), 1.0, seed=2)
    with pytest.raises(ValueError):
        chains.run_chains_stacked([a, b], [0, 1], torch.zeros(3), chains.Schedule.constant(0.01), [1, 2], 5)


def estimates(module, **change):
    return module.estimate(synthetic(**change), dataclasses.replace(module.QUICK, steps=STEPS, boot=100))


@pytest.mark.parametrize("cid", ["C1a", "C1d", "C2c", "C3", "C4", "C5a", "C5b", "C6b", "C6c", "C6f"])
def test_the_intervals_cover_the_spread_of_problem_draws(module, cid):
    """Each row's value comes from per-draw statistics: a wider draw-to-draw spread widens its
    interval (a chain-only interval would not see it)."""
    narrow, wide = estimates(module, draw_spread=0.005)[cid], estimates(module, draw_spread=0.2)[cid]
    assert (wide.ci_high - wide.ci_low) > 5 * (narrow.ci_high - narrow.ci_low), (narrow, wide)


def test_a_row_is_the_mean_of_its_per_draw_slopes(module):
    """C1a by hand: each draw's log-log slope of its plateaus (h ≤ h_max/4), their mean."""
    tables = synthetic(draw_spread=0.1)
    part = tables["draw_plateaus"]
    part = part[(part.problem == "ls_iso") & (part.factor <= 0.25)]
    slopes = [np.polyfit(np.log(d.factor), np.log(d.plateau), 1)[0] for _, d in part.groupby("draw")]
    assert len(slopes) == DRAWS
    assert estimates(module, draw_spread=0.1)["C1a"].value == pytest.approx(np.mean(slopes), rel=1e-9)
