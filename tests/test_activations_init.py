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
                     width_ratios=(1, 4), narrow=8, input_moments=(1.0,), h11_widths=(8, 256), train_seeds=10,
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
                             test_acc=constant_acc - w, row_spread=0.0, largest_hidden_grad=0.1))
        for act in ("tanh", "relu"):
            rows.append(dict(seed=seed, hidden=c.hidden, init="zero", act=act, dropout=0.0, test_acc=0.1,
                             row_spread=math.nan, largest_hidden_grad=0.0))
        rows.append(dict(seed=seed, hidden=c.hidden, init="constant", act="tanh", dropout=0.5, test_acc=0.2,
                         row_spread=0.3 + w, largest_hidden_grad=0.1))
    return pd.DataFrame(rows)


def dying_table(c, died, revived, leaky_dead):
    """H3's table: ReLU's dead share at the headline lr rises from 0 to ``died``, ``revived`` of the layer-2
    units dead at the checkpoint are alive at the end, Leaky ReLU's effectively dead share ``leaky_dead``."""
    rows = []
    for seed in range(c.train_seeds):
        w = 0.002 * (seed - 1)
        runs = [("relu", lr, "sgd") for lr in c.h3_lrs] + [("leaky", lr, "sgd") for lr in c.h3_lrs]
        runs.append(("relu", c.h3_lr / 10, "momentum"))
        for act, lr, opt in runs:
            share = (died + w) * lr / c.h3_lr if act == "relu" else leaky_dead + w
            rows.append(dict(seed=seed, act=act, lr=lr, optimiser=opt, finite=True, stable=True, dead_init=0.0,
                             dead_end=share if act == "relu" else died, dead_checkpoint_l1=0, revived_l1=0,
                             dead_checkpoint_l2=100, revived_l2=round(100 * revived), zero_delta=0.0,
                             effectively_dead=share, test_acc=0.5))
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
             "training": training_table(c, 0.6, 0.2), "dying": dying_table(c, 0.2, 0.02, 0.0)}
    fails = {"layers": layers_table(c, fails_grad, fails_moment, "n_in"), "exact": exact_table(),
             "training": training_table(c, 0.4, 0.39), "dying": dying_table(c, 0.01, 0.5, 0.01)}
    relu_vanishes = {"layers": layers_table(c, lambda v: 0.5, holds_moment, "n_in"), "exact": exact_table(),
                     "training": training_table(c, 0.6, 0.2), "dying": dying_table(c, 0.2, 0.02, 0.0)}
    return [("lecture rows hold", holds, c), ("lecture rows fail", fails, c),
            ("ReLU's gradient vanishes", relu_vanishes, c)]


def verdicts(tables, c):
    table = claims.evaluate(ai.CLAIMS, ai.estimate(tables, c), c)
    return dict(zip(table.claim, table.verdict))


def test_hand_made_tables_give_the_verdicts_they_were_built_for():
    (_, holds, c), (_, fails, _), (_, vanishes, _) = hand_made_cases()
    v = verdicts(holds, c)
    for cid in ("H1b", "H1a", "H1c", "H5b", "H7", "H8a", "H10a", "H10b", "H11a", "H6a", "H11b", "H9b", "H3a", "H3c",
                "H3e", "H3b", "H3d", "H5a", "H5d"):
        assert v[cid] == "holds", cid
    v = verdicts(fails, c)
    for cid in ("H1a", "H1c", "H5b", "H7", "H8a", "H10a", "H10b", "H11a", "H3a", "H3c", "H3e"):
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


def test_row_spread_is_exact_for_identical_rows_and_matches_a_hand_computed_distance():
    """More than 25 rows: torch.cdist's default goes through the Gram matrix and can report ~1e-8 for
    identical rows (the first baseline's H5a, depending on the rows' values); from the differences it is
    exactly 0."""
    row = torch.linspace(0.1, 0.9, 40, dtype=torch.float64)
    w = row.expand(32, 40).clone()
    assert ai.row_spread(w) == 0.0
    w[3] += 1e-6
    assert ai.row_spread(w) == pytest.approx(1e-6 * math.sqrt(40) / float(w.norm(dim=1).mean()), rel=1e-6)


def test_constant_init_rows_stay_bit_identical_beyond_cdists_threshold():
    from dlclaims.methods import data

    c = ai.Config(steps=30, hidden=32)
    split = data.split("mnist1d", seed=0).to(dtype=torch.float64)
    assert ai.train_run(c, split, 0, 32, "constant")["row_spread"] == 0.0
    assert ai.train_run(c, split, 0, 32, "constant", dropout=0.5)["row_spread"] > 1e-3


def test_a_dead_relu_unit_gets_an_exactly_zero_gradient_and_a_leaky_one_does_not():
    """H3b's and H3d's mechanism in the ops dying_run uses: a first-layer unit pushed below 0 on every
    input by its bias gets ∂L/∂w = 0 exactly with F.leaky_relu(·, 0) (ReLU), and not with slope 0.01."""
    from dlclaims.methods import data

    split = data.split("mnist1d", seed=0)
    gen = torch.Generator().manual_seed(3)
    w1, w2 = torch.randn((16, 40), generator=gen) * 0.2, torch.randn((10, 16), generator=gen) * 0.2
    b1 = torch.zeros(16)
    b1[0] = -1e3
    for slope, dead_grad_is_zero in ((0.0, True), (0.01, False)):
        w = w1.clone().requires_grad_()
        loss = torch.nn.functional.cross_entropy(torch.nn.functional.leaky_relu(split.x_train @ w.T + b1, slope)
                                                 @ w2.T, split.y_train)
        (g,) = torch.autograd.grad(loss, w)
        assert bool((g[0] == 0).all()) == dead_grad_is_zero
        assert bool((g[1] != 0).any())


def test_dying_run_starts_alive_and_keeps_a_dead_first_layer_unit_dead():
    from dlclaims.methods import data

    c = ai.Config(h3_steps=30, h3_hidden=16, h3_lrs=(1.0,))
    split = data.split("mnist1d", seed=0)
    relu = ai.dying_run(c, split, 0, 0.0, 1.0)
    leaky = ai.dying_run(c, split, 0, c.leak, 1.0)
    assert relu["dead_init"] == 0.0 and relu["revived_l1"] == 0 and leaky["zero_delta"] == 0.0
    assert relu["zero_delta"] >= relu["dead_end"] - 1e-12  # a dead unit has δ = 0 on every input
