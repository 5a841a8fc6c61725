"""activations-init: the per-layer profile against hand computations, each lecture row's rule on
hand-made tables (it can hold and it can fail), and the exact pieces."""

from __future__ import annotations

import math

import numpy as np
import pytest
import pandas as pd
import torch

from dlclaims.methods import mean_field
from dlclaims.suite import claims, contract

ai = contract.load("activations-init")


def cfg():
    return ai.Config(seeds=3, inputs=16, width=8, depths=(5, 10), gains=(1.0, 4.0, 8.0), glorot_depths=(5,),
                     width_ratios=(1, 4), narrow=8, input_moments=(1.0,), h11_widths=(8, 256), train_seeds=3,
                     hiddens=(32,))


def layers_table(c, grad_factor, moment_factor, fan_form):
    """A layers table of known profiles: ‖∂L/∂W_l‖ = factor^(L−l), moment = factor^(l−1), forward
    factor pre/in = fan·Var[w] with fan the named one; a 1% seed-to-seed wobble."""
    chi = mean_field.chi("tanh", mean_field.fixed_point("tanh", 2.0), 2.0)
    rows = []
    for v in ai.init_variants(c):
        sizes = ai.widths_of(v, 40)
        g, m = grad_factor(v), moment_factor(v)
        for seed in range(c.seeds):
            wobble = 1 + 0.01 * (seed - 1)
            for layer in range(1, v["depth"] + 1):
                fan_in, fan_out = sizes[layer - 1], sizes[layer]
                var = 2.0 / (fan_in + fan_out)
                fan = fan_in if fan_form == "n_in" else fan_out
                rows.append(dict(seed=seed, **v, layer=layer, fan_in=fan_in, fan_out=fan_out, in_moment=1.0,
                                 pre_moment=fan * var * wobble, moment=m ** (layer - 1) * wobble, saturated=0.9,
                                 grad=g ** (v["depth"] - layer) * wobble,
                                 delta2=chi ** (v["depth"] - layer)))
    return pd.DataFrame(rows)


def exact_table():
    return pd.DataFrame(dict(quantity=["sigmoid_derivative_over_bound", "tanh_derivative_over_bound",
                                       "one_signed_rows_sigmoid", "one_signed_rows_tanh",
                                       "product_variance_error", "relu_half_variance_error"],
                             value=[0.9999, 0.9999, 1.0, 0.0, 0.001, 0.001]))


def training_table(c, random_acc, constant_acc):
    rows = []
    for seed in range(c.train_seeds):
        w = 0.001 * (seed - 1)
        for h in c.hiddens:
            rows.append(dict(seed=seed, hidden=h, init="random", act="tanh", dropout=0.0, test_acc=random_acc + w,
                             row_spread=1.0, largest_hidden_grad=0.1))
            rows.append(dict(seed=seed, hidden=h, init="constant", act="tanh", dropout=0.0,
                             test_acc=constant_acc - w, row_spread=1e-12, largest_hidden_grad=0.1))
        for act in ("tanh", "relu"):
            rows.append(dict(seed=seed, hidden=c.hidden, init="zero", act=act, dropout=0.0, test_acc=0.1,
                             row_spread=math.nan, largest_hidden_grad=0.0))
        rows.append(dict(seed=seed, hidden=c.hidden, init="constant", act="tanh", dropout=0.5, test_acc=0.2,
                         row_spread=0.3 + w, largest_hidden_grad=0.1))
    return pd.DataFrame(rows)


def hand_made_cases():
    c = cfg()

    def holds_grad(v):
        if v["act"] == "relu":
            return v["gain"]
        return 0.3 if v["gain"] > 1 else 1.0

    def holds_moment(v):
        return 0.8 if (v["act"], v["init"]) == ("tanh", "he") else 1.0

    def fails_grad(v):
        if v["act"] == "relu":
            return v["gain"]
        return 1.0 if v["gain"] > 1 else 0.25

    def fails_moment(v):
        return 2.0 if v["init"] == "two_over_root_n" else 1.0

    holds = {"layers": layers_table(c, holds_grad, holds_moment, "n_out"), "exact": exact_table(),
             "training": training_table(c, 0.6, 0.2)}
    fails = {"layers": layers_table(c, fails_grad, fails_moment, "n_in"), "exact": exact_table(),
             "training": training_table(c, 0.4, 0.39)}
    relu_vanishes = {"layers": layers_table(c, lambda v: 0.5, holds_moment, "n_in"), "exact": exact_table(),
                     "training": training_table(c, 0.6, 0.2)}
    return [("lecture rows hold", holds, c), ("lecture rows fail", fails, c),
            ("ReLU's gradient vanishes", relu_vanishes, c)]


def verdicts(tables, c):
    table = claims.evaluate(ai.CLAIMS, ai.estimate(tables, c), c)
    return dict(zip(table.claim, table.verdict))


def test_hand_made_tables_give_the_verdicts_they_were_built_for():
    (_, holds, c), (_, fails, _), (_, vanishes, _) = hand_made_cases()
    v = verdicts(holds, c)
    for cid in ("H1b", "H1a", "H1c", "H5b", "H7", "H8a", "H10a", "H10b", "H11a", "H6a", "H11b", "H9b"):
        assert v[cid] == "holds", cid
    v = verdicts(fails, c)
    for cid in ("H1a", "H1c", "H5b", "H7", "H8a", "H10a", "H10b", "H11a"):
        assert v[cid] == "fails", cid
    assert v["H8b"] == "holds"
    assert verdicts(vanishes, c)["H1b"] == "fails"
    assert verdicts(vanishes, c)["H1a"] == "untestable"


def test_profile_matches_a_hand_computed_forward_and_backward():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(5, 40, dtype=torch.float64, generator=gen)
    y = torch.arange(5)
    v = ai.variant("tanh", "he", depth=3, width=6)
    rows = ai.profile(x, y, v, torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(1)  # redraw the same weights by hand
    ws = [torch.randn((6, 40), generator=g, dtype=torch.float64) * math.sqrt(2 / 40),
          torch.randn((6, 6), generator=g, dtype=torch.float64) * math.sqrt(2 / 6),
          torch.randn((6, 6), generator=g, dtype=torch.float64) * math.sqrt(2 / 6)]
    head = (torch.rand((10, 6), generator=g, dtype=torch.float64) * 2 - 1) / math.sqrt(6)
    ws = [w.requires_grad_() for w in ws]
    h = x
    for w in ws:
        h = torch.tanh(h @ w.T)
    torch.nn.functional.cross_entropy(h @ head.T, y).backward()
    assert [r["grad"] for r in rows] == pytest.approx([float(w.grad.norm()) for w in ws], rel=1e-12)
    z1 = x @ ws[0].detach().T
    assert rows[0]["pre_moment"] == pytest.approx(float(z1.pow(2).mean()), rel=1e-12)
    assert rows[0]["saturated"] == float((z1.abs() > math.atanh(0.95)).double().mean())


def test_a_bias_free_relu_net_is_exactly_homogeneous_in_the_logit_readout():
    """Scaling every hidden layer by s scales the logits by s^L exactly (positive homogeneity)."""
    x = torch.randn(7, 40, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    ws = [torch.randn((8, 40), dtype=torch.float64), torch.randn((8, 8), dtype=torch.float64)]

    def logits(s):
        h = x
        for w in ws:
            h = torch.relu(h @ (s * w).T)
        return h

    assert torch.allclose(logits(2.0), 4.0 * logits(1.0), rtol=1e-14, atol=0)


def test_the_one_signed_share_is_one_for_sigmoid_and_small_for_tanh():
    c = cfg()
    assert ai.one_signed_share(c, "sigmoid", samples=4) == 1.0
    assert ai.one_signed_share(c, "tanh", samples=4) < 0.2


def test_zero_init_gets_zero_hidden_gradient_and_constant_init_stays_one_unit_wide():
    from dlclaims.methods import data

    c = ai.Config(steps=20, hidden=4)
    split = data.split("mnist1d", seed=0).to(dtype=torch.float64)
    assert ai.train_run(c, split, 0, 4, "zero", "relu")["largest_hidden_grad"] == 0.0
    assert ai.train_run(c, split, 0, 4, "constant")["row_spread"] < 1e-9
    assert ai.train_run(c, split, 0, 4, "random")["row_spread"] > 0.1
