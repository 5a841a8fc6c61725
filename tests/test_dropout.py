"""dlclaims.dropout: the two forms, their equivalence at test time, the exact mask ensemble."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlclaims.methods import dropout as dr


@pytest.mark.parametrize("keep", [0.0, -0.1, 1.0001, math.nan, math.inf])
def test_keep_outside_zero_one_is_refused(keep):
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        dr.check_keep(keep)
    with pytest.raises(ValueError):
        dr.dropout(torch.ones(3), keep, training=False)


def test_keep_of_one_and_tensors_of_valid_keeps_are_accepted():
    dr.check_keep(1.0)
    dr.check_keep(torch.tensor([0.2, 0.5, 1.0]))
    with pytest.raises(ValueError):
        dr.check_keep(torch.tensor([0.5, 0.0]))


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="classic, inverted"):
        dr.dropout(torch.ones(3), 0.5, mode="gaussian", training=True)


def test_mask_keeps_a_fraction_p_and_keep_one_keeps_everything():
    g = torch.Generator().manual_seed(0)
    mask = dr.bernoulli_mask((200_000,), 0.3, g)
    assert set(mask.unique().tolist()) == {0.0, 1.0}
    assert mask.mean().item() == pytest.approx(0.3, abs=0.004)  # 4 standard errors
    assert bool((dr.bernoulli_mask((1000,), 1.0, g) == 1).all())


def test_per_replicate_keep_broadcasts():
    g = torch.Generator().manual_seed(1)
    keep = torch.tensor([0.2, 0.9]).view(2, 1)
    mask = dr.bernoulli_mask((2, 50_000), keep, g)
    assert mask.mean(1).tolist() == pytest.approx([0.2, 0.9], abs=0.01)


def test_training_outputs_are_zero_or_the_right_scale():
    x = torch.linspace(1, 2, 1000)
    g = torch.Generator().manual_seed(2)
    classic = dr.dropout(x, 0.5, mode="classic", training=True, generator=g)
    inverted = dr.dropout(x, 0.5, mode="inverted", training=True, generator=g)
    assert bool(((classic == 0) | (classic == x)).all())
    assert bool(((inverted == 0) | torch.isclose(inverted, x / 0.5)).all())


def test_test_time_classic_scales_by_p_inverted_is_identity():
    x = torch.randn(4, 5)
    torch.testing.assert_close(dr.dropout(x, 0.8, mode="classic", training=False), 0.8 * x)
    torch.testing.assert_close(dr.dropout(x, 0.8, mode="inverted", training=False), x)


def test_expectation_over_masks_matches_the_test_time_output():
    """E[classic train output] = p x = classic test; E[inverted train output] = x = inverted test."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(8, dtype=torch.float64)
    draws = 100_000
    for mode in dr.MODES:
        train = dr.dropout(x.expand(draws, 8), 0.7, mode=mode, training=True, generator=g)
        se = train.std(0) / math.sqrt(draws)
        gap = (train.mean(0) - dr.dropout(x, 0.7, mode=mode, training=False)).abs()
        assert bool((gap < 5 * se).all()), mode


def test_inverted_dropout_agrees_with_torch_dropout_semantics():
    x = torch.rand(10_000) + 1
    ours = dr.dropout(x, 0.8, mode="inverted", training=True, generator=torch.Generator().manual_seed(4))
    theirs = torch.nn.Dropout(0.2).train()(x)
    for out in (ours, theirs):
        kept = out != 0
        torch.testing.assert_close(out[kept], x[kept] / 0.8)
    assert dr.dropout(x, 0.8, mode="inverted", training=False).equal(x)


def _two_layer(x, w1, b1, w2, b2, keeps, mode, training, seed):
    """x -> dropout -> Linear -> ReLU -> dropout -> Linear, masks from ``seed``."""
    g = torch.Generator().manual_seed(seed)
    h = dr.dropout(x, keeps[0], mode=mode, training=training, generator=g) @ w1 + b1
    h = dr.dropout(torch.relu(h), keeps[1], mode=mode, training=training, generator=g)
    return h @ w2 + b2


@settings(max_examples=25, deadline=None)
@given(p_in=st.floats(0.05, 1.0), p_hidden=st.floats(0.05, 1.0), seed=st.integers(0, 2**31 - 1))
def test_classic_with_w_is_inverted_with_p_w_in_training_and_at_test(p_in, p_hidden, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(6, 7, generator=g, dtype=torch.float64)
    w1, b1 = torch.randn(7, 5, generator=g, dtype=torch.float64), torch.randn(5, generator=g, dtype=torch.float64)
    w2, b2 = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(3, generator=g, dtype=torch.float64)
    keeps = (p_in, p_hidden)
    v1, v2 = dr.classic_to_inverted([w1, w2], keeps)
    for training in (True, False):  # same seed, same masks
        classic = _two_layer(x, w1, b1, w2, b2, keeps, "classic", training, seed)
        inverted = _two_layer(x, v1, b1, v2, b2, keeps, "inverted", training, seed)
        torch.testing.assert_close(inverted, classic, rtol=1e-10, atol=1e-10)


def test_without_the_conversion_the_forms_differ_at_test_time():
    """The negative control: the same weights under the two forms are different functions."""
    g = torch.Generator().manual_seed(5)
    x, w1, w2 = torch.randn(4, 6, generator=g), torch.randn(6, 5, generator=g), torch.randn(5, 3, generator=g)
    b1, b2 = torch.zeros(5), torch.zeros(3)
    classic = _two_layer(x, w1, b1, w2, b2, (0.8, 0.5), "classic", False, 0)
    inverted = _two_layer(x, w1, b1, w2, b2, (0.8, 0.5), "inverted", False, 0)
    assert not torch.allclose(classic, inverted)


def test_conversion_needs_one_keep_per_weight():
    with pytest.raises(ValueError, match="2 weights but 1"):
        dr.classic_to_inverted([torch.ones(2, 2), torch.ones(2, 2)], [0.5])


def test_all_masks_are_the_distinct_binary_rows_and_probabilities_sum_to_one():
    masks = dr.all_masks(5)
    assert masks.shape == (32, 5) and len({tuple(r) for r in masks.tolist()}) == 32
    for keep in (0.5, 0.8):
        assert dr.mask_probabilities(masks, keep).sum().item() == pytest.approx(1.0)
    assert torch.allclose(dr.mask_probabilities(masks, 0.5), torch.full((32,), 1 / 32, dtype=torch.float64))
    with pytest.raises(ValueError):
        dr.all_masks(21)


@pytest.mark.parametrize("n, keep", [(1, 0.5), (6, 0.5), (10, 0.5), (8, 0.3), (9, 0.9)])
def test_weight_scaling_is_the_geometric_mean_over_all_masks_for_one_softmax_layer(n, keep):
    g = torch.Generator().manual_seed(n)
    w = torch.randn(4, n, generator=g, dtype=torch.float64) * 2
    b = torch.randn(4, generator=g, dtype=torch.float64)
    x = torch.randn(7, n, generator=g, dtype=torch.float64)
    torch.testing.assert_close(dr.geometric_mean_over_masks(w, b, x, keep), dr.weight_scaled_softmax(w, b, x, keep),
                               rtol=0, atol=1e-12)


def test_the_arithmetic_mean_over_masks_is_not_weight_scaling():
    """The identity is the geometric mean's: the arithmetic ensemble (what MC averages) differs."""
    g = torch.Generator().manual_seed(6)
    n, keep = 8, 0.5
    w, b = torch.randn(4, n, generator=g, dtype=torch.float64) * 3, torch.zeros(4, dtype=torch.float64)
    x = torch.randn(5, n, generator=g, dtype=torch.float64)
    masks = dr.all_masks(n)
    arithmetic = torch.softmax((masks[:, None, :] * x) @ w.T + b, -1).mean(0)
    gap = (arithmetic - dr.weight_scaled_softmax(w, b, x, keep)).abs().max().item()
    assert gap > 1e-3
