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


def failing_table(c, failed_share, failed_at_he):
    """H6b's table: at every s > 1 the first ``failed_share`` of the seeds fail, at s = 1 ``failed_at_he``."""
    rows = []
    for scale in (1.0, *c.fail_scales):
        n_failed = round((failed_at_he if scale == 1.0 else failed_share) * c.fail_seeds)
        for seed in range(c.fail_seeds):
            bad = seed < n_failed
            rows.append(dict(seed=seed, scale=scale, first_loss=2.3, finite=not bad, steps_finite=2 if bad else 200,
                             last_loss=math.nan if bad else 1.8, failed=bad))
    return pd.DataFrame(rows)


def normal_table(c, normal_minus_uniform, uniform_minus_old):
    """H9c's table: per seed and depth the three inits' test accuracies, with a ±0.002 paired wobble."""
    rows = []
    for depth in c.normal_depths:
        for seed in range(c.train_seeds):
            base, w = 0.5 + 0.01 * (seed % 4), 0.002 * (seed % 3 - 1)
            accs = {"he_uniform": base, "he_normal": base + normal_minus_uniform + w,
                    "old": base - uniform_minus_old + w}
            rows += [dict(seed=seed, init=i, depth=depth, test_acc=a, train_loss=1.0) for i, a in accs.items()]
    return pd.DataFrame(rows)


def saturation_table(c, peak, learned=True):
    """H1d's table: the top layer's saturated share is 0 at step 0, ``peak`` (± 0.01 per seed) at step 5;
    the loss falls from 2.3 to 1.5 (``learned``) or stays at 2.3."""
    rows = []
    for init in c.sat_inits:
        for lr in c.sat_lrs:
            for seed in range(c.train_seeds):
                for step, share in ((0, 0.0), (5, peak + 0.01 * (seed % 3 - 1)), (10, peak / 2)):
                    loss = 2.3 if step == 0 or not learned else 1.5 + 0.01 * (seed % 3)
                    rows.append(dict(seed=seed, init=init, lr=lr, step=step, top_saturated=share, loss=loss))
    return pd.DataFrame(rows)


def centring_table(c, sigmoid_slower, raw_slower):
    """H2b's table: steps to the target fall with the lr to a best lr inside the grid (the fourth), the
    sigmoid arm takes ``sigmoid_slower`` ×, the raw-input arm ``raw_slower`` × the centred arm's, ±2% per seed."""
    rows = []
    for batch in c.centring_batches:
        grid = ai.centring.lr_grid(c, batch)
        for k, lr in enumerate(grid):
            for seed in range(c.train_seeds):
                base = 400.0 * (1 + 0.2 * abs(k - 3)) * (1 + 0.02 * (seed % 3 - 1))
                for arm, factor in (("sigmoid", sigmoid_slower), ("centred", 1.0), ("raw", raw_slower)):
                    rows.append(dict(arm=arm, lr=lr, seed=seed, batch=batch, steps_to_target=base * factor))
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
             "training": training_table(c, 0.6, 0.2), "dying": dying_table(c, 0.2, 0.02, 0.0),
             "failing": failing_table(c, 1.0, 0.0), "normal": normal_table(c, 0.0, 0.2),
             "saturation": saturation_table(c, 0.9), "centring": centring_table(c, 1.8, 1.5)}
    fails = {"layers": layers_table(c, fails_grad, fails_moment, "n_in"), "exact": exact_table(),
             "training": training_table(c, 0.4, 0.39), "dying": dying_table(c, 0.01, 0.5, 0.01),
             "failing": failing_table(c, 0.1, 0.0), "normal": normal_table(c, 0.05, 0.2),
             "saturation": saturation_table(c, 0.1), "centring": centring_table(c, 1.0, 1.5)}
    relu_vanishes = {"layers": layers_table(c, lambda v: 0.5, holds_moment, "n_in"), "exact": exact_table(),
                     "training": training_table(c, 0.6, 0.2), "dying": dying_table(c, 0.2, 0.02, 0.0),
                     "failing": failing_table(c, 1.0, 0.2), "normal": normal_table(c, 0.0, 0.0),
                     "saturation": saturation_table(c, 0.9), "centring": centring_table(c, 1.8, 1.0)}
    return [("lecture rows hold", holds, c), ("lecture rows fail", fails, c),
            ("ReLU's gradient vanishes", relu_vanishes, c)]


def verdicts(tables, c):
    table = claims.evaluate(ai.CLAIMS, ai.estimate(tables, c), c)
    return dict(zip(table.claim, table.verdict))


def test_hand_made_tables_give_the_verdicts_they_were_built_for():
    (_, holds, c), (_, fails, _), (_, vanishes, _) = hand_made_cases()
    v = verdicts(holds, c)
    for cid in ("H1b", "H1a", "H1c", "H5b", "H7", "H8a", "H10a", "H10b", "H11a", "H6a", "H11b", "H9b", "H3a", "H3c",
                "H3e", "H3b", "H3d", "H5a", "H5d", "H6b-ctl", "H6b", "H9c-ctl", "H9c", "H1d-init", "H1d", "H2b-ctl", "H2b"):
        assert v[cid] == "holds", cid
    v = verdicts(fails, c)
    for cid in ("H1a", "H1c", "H5b", "H7", "H8a", "H10a", "H10b", "H11a", "H3a", "H3c", "H3e", "H6b", "H9c", "H1d", "H2b"):
        assert v[cid] == "fails", cid
    assert v["H8b"] == "holds"
    v = verdicts(vanishes, c)
    assert v["H1b"] == "fails" and v["H1a"] == "untestable"
    # premises: 4 of 20 He runs failing (> a tenth) and old = uniform He make H6b and H9c untestable
    assert (v["H6b-ctl"], v["H6b"], v["H9c-ctl"], v["H9c"]) == ("fails", "untestable", "fails", "untestable")
    assert (v["H2b-ctl"], v["H2b"]) == ("fails", "untestable")  # raw inputs as fast as centred ones
    stuck = {**holds, "saturation": saturation_table(c, 0.9, learned=False)}  # saturated, but at the start loss
    v = verdicts(stuck, c)
    assert (v["H1d-init"], v["H1d-learns"], v["H1d"]) == ("holds", "fails", "untestable")


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


def test_h8s_pooled_factor_reads_the_algebra_not_one_draws_noise():
    """Pooled over layers and seeds, the Xavier forward factor at 128/512 is n_in·Var[w] (0.4 expanding,
    1.6 contracting): its interval covers 1 on real nets, and 004's n_out form is 4× off."""
    c = ai.Config(seeds=4, inputs=64, width=128, depth=6, width_ratios=(4,), narrow=128)
    v = ai.variant("relu", "xavier", depth=6, width=128, ratio=4)
    rows = []
    for seed in range(c.seeds):
        x, y = ai.inputs_for(c, seed)
        rows += [dict(seed=seed, **v, **r) for r in ai.profile(x, y, v, torch.Generator().manual_seed(seed))]
    layers = pd.DataFrame(rows)
    n_in, n_out = ai.forward_factor_ratio(layers, "n_in"), ai.forward_factor_ratio(layers, "n_out")
    assert n_in.ci_low <= 1.0 <= n_in.ci_high
    assert ai.H8_RULE.verdict(n_out) == "fails"
    assert n_out.value == pytest.approx(4.0, rel=0.1) or n_out.value == pytest.approx(0.25, rel=0.1)


def test_coupled_inits_have_their_marginals_and_share_the_uniforms():
    from scipy import stats as sps

    u = torch.rand((400, 300), generator=torch.Generator().manual_seed(4)).clamp(1e-7, 1 - 1e-7)
    normal, uniform, old = (ai.sweeps.coupled_weights(u, 400, i) for i in ("he_normal", "he_uniform", "old"))
    assert float(normal.double().var()) == pytest.approx(2 / 400, rel=0.02)
    assert float(uniform.double().var()) == pytest.approx(2 / 400, rel=0.02)
    assert float(uniform.abs().max()) <= math.sqrt(6 / 400)
    assert torch.allclose(old, uniform / math.sqrt(6), rtol=1e-6)  # the same draw, He's √6 smaller bound
    ref = sps.norm.ppf(u[:5, :5].double().numpy()) * math.sqrt(2 / 400)
    assert np.allclose(normal[:5, :5].numpy(), ref, rtol=1e-5)
    assert sps.kstest(normal.flatten().numpy() / math.sqrt(2 / 400), "norm").pvalue > 1e-3


def test_stacked_replicates_do_not_mix_and_match_a_plain_loop():
    """H6b's stacked runs: seed 0 trained beside seed 1 is seed 0 trained alone, and both match a plain
    single-net loop written out here (a non-finite replicate cannot leak into another)."""
    import torch.nn.functional as F
    from dlclaims.methods import data, training
    from dlclaims.rng import stream

    c = ai.Config(fail_seeds=2, fail_steps=25, deep=4, fail_width=16)
    two = ai.sweeps.failing_unit(c, 1.0)
    one = ai.sweeps.failing_unit(ai.Config(fail_seeds=1, fail_steps=25, deep=4, fail_width=16), 1.0)
    assert two.iloc[0].to_dict() == pytest.approx(one.iloc[0].to_dict())
    split = data.split("mnist1d", seed=0)
    sizes = [40, 16, 16, 16, 16, 10]
    ws = []
    for i, (fi, fo) in enumerate(zip(sizes[:-1], sizes[1:])):
        gen = stream(1, "h6b-weights", i)
        w = (torch.randn((fi, fo), generator=gen) * math.sqrt(2 / fi) if i < 4
             else (torch.rand((fi, fo), generator=gen) * 2 - 1) / math.sqrt(fi))
        ws.append(w.requires_grad_())
    losses = []
    for idx in training.random_batches(len(split.y_train), c.batch, 25, stream(1, "h6b-batches")):
        h = split.x_train[idx]
        for w in ws[:-1]:
            h = torch.relu(h @ w)
        loss = F.cross_entropy(h @ ws[-1], split.y_train[idx])
        losses.append(float(loss.detach()))
        for w, g in zip(ws, torch.autograd.grad(loss, ws)):
            w.data -= c.fail_lr * g
    assert two.iloc[1].first_loss == pytest.approx(losses[0], rel=1e-5)
    assert two.iloc[1].last_loss == pytest.approx(np.mean(losses[-20:]), rel=1e-4)
    assert not two.failed.any()


def test_a_failed_run_is_non_finite_or_not_falling():
    c = ai.Config(fail_seeds=3, fail_steps=20)
    blown = ai.sweeps.failing_unit(c, 3.0)  # 20 layers × 3: logits ~ 3^20, the first step overflows
    assert blown.failed.all() and not blown.finite.any() and (blown.steps_finite < 20).all()


def test_the_best_lr_is_the_fewest_median_steps_and_a_censored_run_counts_as_the_cap():
    part = pd.DataFrame(dict(lr=[0.1, 0.1, 0.2, 0.2, 0.4, 0.4], seed=[0, 1, 0, 1, 0, 1],
                             steps_to_target=[300.0, 500.0, 200.0, math.inf, 250.0, 260.0]))
    assert ai.centring.best_lr(part) == 0.4  # medians 400, inf, 255
    assert list(ai.centring.steps_at_best(part[part.lr != 0.4], cap=1000.0)) == [300.0, 500.0]
    part.loc[3, "steps_to_target"] = 150.0  # 0.2's median becomes 175, the best
    assert list(ai.centring.steps_at_best(part, cap=1000.0)) == [200.0, 150.0]


def test_centred_sigmoid_units_compute_the_same_function_class():
    """σ(z) − ½ feeding W, b computes what σ(z) feeding W, b − ½·W·1 computes: only the parametrisation
    (and so the gradient geometry) differs between H2b's arms."""
    gen = torch.Generator().manual_seed(5)
    z, w, b = torch.randn(7, 32, generator=gen), torch.randn(32, 10, generator=gen), torch.randn(10, generator=gen)
    assert torch.allclose((torch.sigmoid(z) - 0.5) @ w + b, torch.sigmoid(z) @ w + (b - 0.5 * w.sum(0)), atol=1e-6)


def test_centring_unit_reaches_the_target_and_records_steps_on_the_read_grid():
    c = ai.Config(train_seeds=2, centring_batches=(32,), centring_batch=32, centring_lr_low=(3.2,),
                  centring_lrs=(1,), centring_steps=(400,), centring_every=(5,))
    df = ai.centring.centring_unit(c, 32)
    assert set(df.arm) == {"sigmoid", "centred", "raw"} and len(df) == 6
    assert np.isfinite(df.steps_to_target).all() and (df.steps_to_target % 5 == 0).all()
    assert (df.steps_to_target > 0).all()
