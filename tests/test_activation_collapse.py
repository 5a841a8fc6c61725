"""activation-collapse: its statistics on hand-computed cases, every claim's rule on hand-made
tables where it holds and where it fails, the by-hand backward pass against autograd, and a
--quick smoke run (shapes and columns only). Interrupts are the runner's business
(tests/test_runner.py)."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from dlclaims.suite import contract
from dlclaims.suite.claims import FAILS, HOLDS

ac = contract.load("activation-collapse")
CLAIMS = {c.id: c for c in ac.CLAIMS}


# --- statistics on hand-computed cases -------------------------------------------------------

def test_channel_moments_on_a_hand_computed_case():
    # two channels over four inputs: means 1 and 3, within-channel variances 1 and 4
    z = torch.tensor([[0.0, 1.0], [2.0, 5.0], [0.0, 1.0], [2.0, 5.0]])
    share, mean_square = ac.channel_moments(z)
    # Var(means) = 1, mean within-variance = 2.5, total = 3.5
    assert share == pytest.approx(1 / 3.5)
    assert mean_square == pytest.approx((0 + 1 + 4 + 25) / 4)


def test_a_constant_per_channel_has_share_one_and_iid_noise_share_near_zero():
    g = torch.Generator().manual_seed(0)
    constant = torch.randn(1, 64, generator=g).expand(100, 64)
    assert ac.channel_moments(constant)[0] == pytest.approx(1.0)
    assert ac.channel_moments(torch.randn(4000, 64, generator=g))[0] < 0.002  # ≈ 1/4000 expected


def test_the_linear_output_after_a_relu_has_share_one_over_pi():
    """What BN must undo at every layer (A5): a ReLU shifts every channel mean by √(1/2π), so
    the next linear output has between-channel variance n Var w / 2π out of n Var w / 2."""
    g = torch.Generator().manual_seed(0)
    n = 512
    h = torch.relu(torch.randn(8192, n, generator=g))
    w = torch.randn(n, n, generator=g) * math.sqrt(2 / n)
    share, _ = ac.channel_moments(h @ w.T)
    assert share == pytest.approx(1 / math.pi, rel=0.15)  # sampling error of n = 512 channel means ≈ 6%


def test_end_to_end_is_the_geometric_mean_of_per_seed_last_over_first():
    q = np.array([[2.0, 5.0, 1.0], [1.0, 9.0, 4.0]])  # per seed: 1/2 and 4
    assert ac.end_to_end(q).value == pytest.approx(math.sqrt(0.5 * 4))


def test_change_factor_is_symmetric_in_direction():
    assert ac.change_factor(np.array([[1.0, 9.0, 4.0], [4.0, 0.5, 1.0]])) == pytest.approx([4.0, 4.0])
    assert ac.change_factor(np.array([[2.0, 2.0]])) == pytest.approx([1.0])


def test_along_signal_runs_gradients_from_the_last_layer_to_the_first():
    table = pd.DataFrame(dict(variant="v", seed=0, layer=[1, 2, 3], activation_var=[1.0, 2.0, 3.0],
                              gradient_var=[1.0, 2.0, 3.0]))
    assert ac.along_signal(table, "v", "activation_var").tolist() == [[1.0, 2.0, 3.0]]
    assert ac.along_signal(table, "v", "gradient_var").tolist() == [[3.0, 2.0, 1.0]]


def test_by_hand_backward_matches_autograd():
    g = torch.Generator().manual_seed(1)
    width, depth, inputs = 16, 4, 8
    x, draws = torch.randn(inputs, width, generator=g), torch.rand(depth, width, width, generator=g) * 2 - 1
    head, labels = torch.randn(3, width, generator=g), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    for name in ("xavier_tanh", "he_relu", "centred_relu"):
        v = ac.VARIANTS[name]
        scale = ac.weight_scale(v, width)
        zs, h = [], x
        for w in draws:
            z = (h @ w.T) * scale
            z.retain_grad() if z.requires_grad else z.requires_grad_(True)
            zs.append(z)
            h = ac.activate(z, v.activation)
        torch.nn.functional.cross_entropy(h @ head.T, labels).backward()
        expected = [float(z.grad.var(unbiased=False)) for z in zs]
        with torch.no_grad():
            got = ac.gradient_variances([z.detach() for z in zs], h.detach(), draws, scale, v, head, labels)
        assert got == pytest.approx(expected, rel=1e-5), name


def test_xavier_relu_is_he_relu_scaled_by_two_to_the_minus_half_per_layer():
    """ReLU is positively homogeneous: with shared draws the two networks differ by 2^(-l/2)."""
    g = torch.Generator().manual_seed(0)
    x, draws = torch.randn(16, 32, generator=g), torch.rand(6, 32, 32, generator=g) * 2 - 1
    he, xavier = ac.VARIANTS["he_relu"], ac.VARIANTS["xavier_relu"]
    zh = [z for _, z, _ in ac.forward(x, draws, ac.weight_scale(he, 32), he)]
    zx = [z for _, z, _ in ac.forward(x, draws, ac.weight_scale(xavier, 32), xavier)]
    for layer, (a, b) in enumerate(zip(zh, zx), start=1):
        torch.testing.assert_close(b, a * 2 ** (-layer / 2))


def test_centred_relu_second_moment_map_has_a_one_sided_fixed_point_at_two():
    """NOTES: one layer maps q = E z² to q + (2/(1 − 1/π))(√(q/2π) − √(1/π))² ≥ q."""
    xi = torch.randn(2_000_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for q in (1.0, 2.0, 4.0):
        measured = 2 * float((ac.activate(math.sqrt(q) * xi, "centred_relu") ** 2).mean())
        predicted = q + 2 / (1 - 1 / math.pi) * (math.sqrt(q / (2 * math.pi)) - math.sqrt(1 / math.pi)) ** 2
        assert measured == pytest.approx(predicted, rel=3e-3)
        assert predicted >= q


# --- every claim's rule on hand-made tables ---------------------------------------------------

DEPTH, SEEDS = 10, 3


def synthetic(change=None):
    """Tables shaped like the analysis's, with values on which every lecture claim holds;
    ``change`` maps (variant, column[, depth]) to a function of layer giving other values."""
    layers, study = [], []
    healthy = {
        ("he_relu", "share"): lambda l: 0.98 * (1 - 0.9 ** l) / (1 - 0.9 ** DEPTH),
        ("he_relu", "majority_fraction"): lambda l: 0.95,
        ("he_relu", "mean_square"): lambda l: 2.0,
        ("linear", "share"): lambda l: 0.002,
        ("bn_relu", "linear_share"): lambda l: 0.002 if l == 1 else 0.32,
        ("centred_relu", "share"): lambda l: 0.02,
        ("centred_relu", "mean_square"): lambda l: 2.0,
        ("xavier_tanh", "activation_var", 5): lambda l: 0.4 * 0.9 ** (l - 1),
        ("old_tanh", "activation_var", 5): lambda l: 0.25 * 0.3 ** (l - 1),
        ("xavier_tanh", "gradient_var", 5): lambda l: 0.9 ** (5 - l),
        ("old_tanh", "gradient_var", 5): lambda l: 0.3 ** (5 - l),
        ("xavier_relu", "mean_square", DEPTH): lambda l: 2 * 0.5 ** (l - 1),
    }
    healthy |= change or {}
    value = lambda key, layer, seed: healthy.get(key, lambda l: 0.5)(layer) * (1 + 0.01 * seed)  # noqa: E731
    for seed in range(SEEDS):
        for variant in ac.PAGE_VARIANTS:
            for layer in range(1, DEPTH + 1):
                row = dict(variant=variant, seed=seed, layer=layer)
                for column in ("share", "linear_share", "mean_square", "majority_fraction"):
                    row[column] = value((variant, column), layer, seed)
                layers.append(row)
        for variant in ac.INIT_STUDY_VARIANTS:
            for depth in (5, DEPTH):
                for layer in range(1, depth + 1):
                    row = dict(variant=variant, seed=seed, depth=depth, layer=layer)
                    for column in ("activation_var", "gradient_var", "mean_square", "share"):
                        key = (variant, column, depth)
                        row[column] = value(key if key in healthy else (variant, column, DEPTH), layer, seed)
                    study.append(row)
    return {"layers": pd.DataFrame(layers), "init_study": pd.DataFrame(study)}


def verdicts(tables):
    cfg = ac.Config(depth=DEPTH, seeds=SEEDS)
    estimates = ac.estimate(tables, cfg)
    return {cid: CLAIMS[cid].rule.verdict(est) for cid, est in estimates.items()}, estimates


def test_every_lecture_claim_holds_on_the_healthy_table():
    got, _ = verdicts(synthetic())
    assert {cid: got[cid] for cid, c in CLAIMS.items() if c.kind == "lecture"} == \
        {cid: HOLDS for cid, c in CLAIMS.items() if c.kind == "lecture"}
    assert got["A5b"] == HOLDS and got["A5c"] == HOLDS


FAILING = {
    "A1": {("he_relu", "share"): lambda l: 0.3},
    "A2": {("he_relu", "majority_fraction"): lambda l: 0.15},
    "A3": {("linear", "share"): lambda l: 0.3},
    # He's weights 5% too small: 0.95 per layer, 0.95^(L-1) end to end
    "A4": {("he_relu", "mean_square"): lambda l: 2 * 0.95 ** ((l - 1) * 49 / (DEPTH - 1))},
    # the share fed to BN compounds with depth as He + ReLU's does
    "A5": {("bn_relu", "linear_share"): lambda l: 0.32 + 0.6 * (l - 2) / (DEPTH - 2) if l > 1 else 0.002},
    "A5b": {("centred_relu", "share"): lambda l: 0.3},
    "A5c": {("centred_relu", "mean_square"): lambda l: 2 * 26 ** ((l - 1) / (DEPTH - 1))},
    # the signal is kept (Xavier-like) instead of dying
    "A6a": {("old_tanh", "activation_var", 5): lambda l: 0.4 * 0.7 ** (l - 1)},
    # the old init changes the variance no more than Xavier
    "A6b": {("xavier_tanh", "activation_var", 5): lambda l: 0.4 * 0.3 ** (l - 1)},  # Xavier dies as fast
    "A6c": {("old_tanh", "gradient_var", 5): lambda l: 0.9 ** (5 - l)},
    # Xavier + tanh's variance shrinks by 0.7 (activations) or 0.6 (gradients) per layer over 5 layers
    "A6e": {("xavier_tanh", "activation_var", 5): lambda l: 0.4 * 0.7 ** (l - 1)},
    "A6f": {("xavier_tanh", "gradient_var", 5): lambda l: 0.6 ** (5 - l)},
    "A6d": {("xavier_relu", "mean_square", DEPTH): lambda l: 2.0},
    "A6a-50": {("old_tanh", "activation_var", DEPTH): lambda l: 0.3},
    "A6b-50": {("xavier_tanh", "activation_var", DEPTH): lambda l: 0.4 * 0.7 ** (l - 1)},
    "A6c-50": {("xavier_tanh", "gradient_var", DEPTH): lambda l: 0.6 ** (DEPTH - l)},
}


@pytest.mark.parametrize("claim", sorted(FAILING))
def test_each_rule_fails_on_a_table_where_the_claim_is_false(claim):
    got, _ = verdicts(synthetic(FAILING[claim]))
    assert got[claim] == FAILS


def test_every_claim_has_a_failing_table():
    assert set(FAILING) == set(CLAIMS)


def hand_made_cases():
    """tests/test_estimates.py: every lecture row holds on the healthy table and fails on its own
    FAILING table (whose premise, A1, still holds)."""
    cfg = ac.Config(depth=DEPTH, seeds=SEEDS)
    return [("healthy", synthetic(), cfg)] + [(f"{cid} false", synthetic(FAILING[cid]), cfg) for cid in sorted(FAILING)]


def test_A3_A5_A5b_are_untestable_where_the_collapse_does_not_appear():
    """Their premise is A1: "removing ReLU" and "BN fixes this" need a problem to remove."""
    from dlclaims.suite.claims import UNTESTABLE, evaluate

    cfg = ac.Config(depth=DEPTH, seeds=SEEDS)
    table = evaluate(ac.CLAIMS, ac.estimate(synthetic(FAILING["A1"]), cfg), cfg).set_index("claim")
    assert table.verdict["A1"] == FAILS
    assert table.verdict[["A3", "A5", "A5b"]].tolist() == [UNTESTABLE] * 3
    assert table.verdict["A4"] == HOLDS


def test_A6b_A6c_are_untestable_where_the_old_init_keeps_the_signal():
    """Their premise is A6a: a reduction relative to the old init needs the old init's change to appear."""
    from dlclaims.suite.claims import UNTESTABLE, evaluate

    cfg = ac.Config(depth=DEPTH, seeds=SEEDS)
    table = evaluate(ac.CLAIMS, ac.estimate(synthetic(FAILING["A6a"]), cfg), cfg).set_index("claim")
    assert table.verdict["A6a"] == FAILS
    assert table.verdict[["A6b", "A6c"]].tolist() == [UNTESTABLE] * 2


def test_he_relu_expected_end_to_end_ratio_is_one_and_the_log_drifts_by_five_halves_over_width():
    """Brute force, one input through L Gaussian He + ReLU layers of width n: the mean of
    q_L / q_1 is 1 (He et al.), the mean of its log ≈ −(5/2)(L − 1)/n, the drift the facts print."""
    n, depth, trials = 128, 6, 2000
    g = torch.Generator().manual_seed(0)
    z = torch.randn(trials, n, generator=g)
    q = [z.pow(2).mean(1)]
    for _ in range(depth - 1):
        w = torch.randn(trials, n, n, generator=g) * math.sqrt(2 / n)
        z = torch.einsum("tij,tj->ti", w, torch.relu(z))
        q.append(z.pow(2).mean(1))
    ratio = (q[-1] / q[0]).double()
    assert ratio.mean().item() == pytest.approx(1, abs=3 * ratio.std().item() / math.sqrt(trials))
    assert ratio.log().mean().item() == pytest.approx(-2.5 * (depth - 1) / n, rel=0.3)
    facts = ac.facts(synthetic(), ac.Config(width=n, depth=DEPTH, seeds=SEEDS))
    assert facts["he_drift_one_input"] == pytest.approx(math.exp(-2.5 * (DEPTH - 1) / n))
    assert facts["he_theory_ratio"] == 1


def test_relu_cosine_and_signed_square_covariance_against_sampling():
    g = np.random.default_rng(0)
    u, e = g.standard_normal((2, 2_000_000))
    for rho in (0.0, 0.3, 0.8):
        v = rho * u + math.sqrt(1 - rho ** 2) * e
        relu_u, relu_v = np.maximum(u, 0), np.maximum(v, 0)
        assert ac.relu_cosine(rho) == pytest.approx((relu_u * relu_v).mean() / (relu_u ** 2).mean(), abs=0.005)
        assert ac.signed_square_covariance(rho) == pytest.approx((u * abs(u) * v * abs(v)).mean(), abs=0.02)
    assert ac.relu_cosine(0) == pytest.approx(1 / math.pi) and ac.relu_cosine(1) == pytest.approx(1)
    assert ac.signed_square_covariance(1) == 3 and ac.signed_square_covariance(0.999999) == pytest.approx(3, rel=1e-3)


def test_one_input_gives_the_five_over_width_per_layer_of_the_one_input_drift():
    assert ac.he_log_ratio_variance(128, 6, inputs=1) == pytest.approx(5 * 5 / 128)


def test_A4_theory_matches_brute_force_on_exactly_the_measured_ratio():
    """A4's per-seed ratio built independently: `inputs` iid N(0, 1) inputs through `depth` bias-free
    He-uniform + ReLU layers, mean z² over inputs and channels at the last layer over the first.
    Its mean is He et al.'s 1; its log's variance is the theory's, and its mean log −Var/2: the
    value A4's geometric mean estimates (0.950 at width 2048, depth 50, 512 inputs)."""
    width, depth, inputs, nets, batch = 128, 16, 32, 1500, 100  # Var log ≈ 0.39: deep enough for the collapse
    g = np.random.default_rng(7)
    bound = math.sqrt(6 / width)
    ratios = []
    for _ in range(nets // batch):
        weights = lambda: torch.from_numpy(  # noqa: E731
            (2 * g.random((batch, width, width), dtype=np.float32) - 1) * np.float32(bound))
        z = torch.from_numpy(g.standard_normal((batch, inputs, width), dtype=np.float32)) @ weights().transpose(1, 2)
        first = z.pow(2).mean((1, 2))
        for _ in range(depth - 1):
            z = torch.relu(z) @ weights().transpose(1, 2)
        ratios.append(z.pow(2).mean((1, 2)) / first)
    ratio = torch.cat(ratios).double().numpy()
    log, theory = np.log(ratio), ac.he_log_ratio_variance(width, depth, inputs)
    se = lambda x: x.std(ddof=1) / math.sqrt(nets)  # noqa: E731
    assert abs(ratio.mean() - 1) < 3 * se(ratio)
    assert log.var(ddof=1) == pytest.approx(theory, rel=0.15)  # sampling error of a variance over 1500 nets ≈ 5%
    assert abs(log.mean() + theory / 2) < 3 * se(log)
    assert theory > 1.2 * ac.he_log_ratio_variance(width, depth // 2, inputs)  # it grows with depth: not vacuous


def test_A4s_per_seed_ratio_is_reproduced_by_a_plain_loop_on_the_same_streams():
    """The measurement itself: He-uniform weights drawn layer by layer as U(±√(6/n)), no shared
    draw, no rescaled product, float64; the unit's ratio agrees to float32 rounding."""
    from dlclaims.rng import stream

    cfg = ac.Config(width=64, depth=12, inputs=100, study_inputs=32, seeds=1)
    layers = ac.run_unit(cfg, dict(seed=3))["layers"]
    measured = layers[layers.variant == "he_relu"].set_index("layer").mean_square
    x = torch.randn(cfg.inputs, cfg.width, generator=stream(3, "inputs")).double()
    u = torch.empty(cfg.depth, cfg.width, cfg.width).uniform_(-1, 1, generator=stream(3, "weights", "uniform"))
    h, expected = x, []
    for w in u.double() * math.sqrt(6 / cfg.width):
        z = h @ w.T
        expected.append(float((z ** 2).mean()))
        h = torch.relu(z)
    assert measured.tolist() == pytest.approx(expected, rel=1e-4)
    assert measured.iloc[-1] / measured.iloc[0] == pytest.approx(expected[-1] / expected[0], rel=1e-4)


def test_the_facts_put_A4s_theory_beside_the_measurement():
    cfg = ac.Config(depth=DEPTH, seeds=SEEDS)
    named = ac.facts(synthetic(), cfg)
    variance = ac.he_log_ratio_variance(cfg.width, cfg.depth, cfg.inputs)
    assert named["he_theory_geometric"] == pytest.approx(math.exp(-variance / 2))
    assert named["he_theory_log_sd"] == pytest.approx(math.sqrt(variance))
    assert ac.he_log_ratio_variance(2048, 50, 512) == pytest.approx(0.1027, abs=5e-4)  # the method text's 0.950
    # synthetic he_relu ratios are 1 for every seed: the log mean sits Var/2 above the theory's −Var/2
    assert named["he_geometric_t"] > 0 and 0 <= named["he_geometric_p"] <= 1


def test_the_table_on_which_A4_fails_passed_the_old_per_layer_rule():
    """The old A4 (per-layer geometric mean in [0.9, 1.1]) could not see a 5% mis-scaled init."""
    tables = synthetic(FAILING["A4"])
    q = ac.by_layer(tables["layers"], "he_relu", "mean_square")
    per_layer_at_50 = ac.geometric_mean_ratio(q) ** ((DEPTH - 1) / 49)  # the same drift spread over 49 layers
    assert np.all((0.9 <= per_layer_at_50) & (per_layer_at_50 <= 1.1))
    assert verdicts(tables)[1]["A4"].ci_high < 0.5


def test_A5_reads_the_linear_output_not_the_normalised_one():
    # BN's normalised output has share 0 by construction: a growing share fed to BN must still fail
    tables = synthetic({**FAILING["A5"], ("bn_relu", "share"): lambda l: 0.0})
    assert verdicts(tables)[0]["A5"] == FAILS


def test_every_field_of_the_method_text_is_a_claim_a_config_value_or_a_fact():
    from dlclaims.suite import method_text

    named = ac.facts(synthetic(), ac.Config(depth=DEPTH, seeds=SEEDS))
    known = set(CLAIMS) | {f"cfg.{f}" for f in ac.Config.__dataclass_fields__} | set(named)
    fields = method_text.fields(contract.method_text_path("activation-collapse").read_text())
    assert fields and [f for f in fields if f not in known and f.rpartition(".")[0] not in CLAIMS] == []


def test_the_facts_agree_with_the_claims_they_sit_beside():
    tables = synthetic()
    named, (_, estimates) = ac.facts(tables, ac.Config(depth=DEPTH, seeds=SEEDS)), verdicts(tables)
    # A6b is the geometric mean of per-seed ratios, the facts the ratio of geometric means: equal
    assert named["old_tanh_activation_var_change"] / named["xavier_tanh_activation_var_change"] == \
        pytest.approx(estimates["A6b"].value)
    assert named["he_ratio_min"] <= estimates["A4"].value <= named["he_ratio_max"]
    assert named["old_tanh_activation_var_change"] == pytest.approx(1 / estimates["A6a"].value)


def test_validate_refuses_a_net_shallower_than_glorots():
    with pytest.raises(ValueError, match="Glorot"):
        ac.validate(ac.Config(depth=4))
    with pytest.raises(ValueError, match="sweep"):
        ac.validate(ac.Config(sweep_depths=(60,)))
    ac.validate(ac.FULL)
    ac.validate(ac.QUICK)


@pytest.mark.parametrize("change, match", [
    (dict(inputs=1), "--inputs 1 "),  # one input: every channel is one constant, share 1 (A1 would hold)
    (dict(inputs=ac.MIN_SHARE_INPUTS - 1), "share ≈ 1/inputs"),
    (dict(inputs=99), "10-way head"),  # 10 per class for a head at chance
    (dict(width=1), "--width 1 "),  # one channel: share 0 by construction (A3, A5b would hold)
    (dict(width=ac.MIN_WIDTH - 1), "too narrow"),
    (dict(classes=2), "chance"),  # chance 1/2 already meets A2's "most inputs"
    (dict(glorot_depth=10), "halving per layer"),  # A6a's 1/16 is for 4 transitions
])
def test_validate_refuses_sizes_that_make_a_claim_hold_by_construction(change, match):
    with pytest.raises(ValueError, match=match) as err:
        ac.validate(ac.Config(**change))
    assert "\n" not in str(err.value)
    ac.validate(ac.Config(inputs=100, width=ac.MIN_WIDTH))  # the smallest set-up allowed


def test_a_run_with_one_input_exits_2_with_one_line(capsys, tmp_path):
    """Issue 30: a degenerate size is refused before anything is built (A1 would hold at --inputs 1)."""
    from dlclaims.suite import cli

    assert cli.main(["run", "activation-collapse", "--inputs", "1", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("dlclaims: error: --inputs 1 ") and "\n" not in err
    assert not (tmp_path / "x").exists()


def test_one_input_would_make_A1_hold_by_construction():
    """Why validate refuses it: with one input each channel is one number, so its share is 1."""
    z = torch.randn(1, 64, generator=torch.Generator().manual_seed(0))
    assert ac.channel_moments(z)[0] == pytest.approx(1.0)


# --- the quick run: shapes, columns, units ----------------------------------------------------

def test_quick_run_writes_the_results_contract(quick_results):
    out = quick_results / "activation-collapse"
    claims = pd.read_csv(out / "claims.csv")
    assert claims.claim.tolist() == [c.id for c in ac.CLAIMS]
    for name in ("layers.csv", "summary.csv", "init_study.csv", "densities.csv", "meta.json",
                 *(f.__name__.removeprefix("figure_") + ".png" for f in ac.FIGURES)):
        assert (out / name).is_file(), name
    layers = pd.read_csv(out / "layers.csv")
    assert set(layers.variant) == set(ac.PAGE_VARIANTS)
    assert layers.seed.nunique() == ac.QUICK.seeds and layers.layer.max() == ac.QUICK.depth
    study = pd.read_csv(out / "init_study.csv")
    assert sorted(study.depth.unique()) == ac.study_depths(ac.QUICK) == [5, 50]
    assert study.groupby(["variant", "seed", "depth"]).layer.max().eq(
        study.groupby(["variant", "seed", "depth"]).depth.first()).all()
    # forward quantities of the 5-block net are the 50-block net's first 5 blocks
    five, fifty = (study[(study.depth == d) & (study.layer <= 5)].reset_index(drop=True) for d in (5, 50))
    pd.testing.assert_series_equal(five.activation_var, fifty.activation_var)
