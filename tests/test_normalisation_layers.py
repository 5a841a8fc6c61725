"""normalisation-layers: exact studies against a hand-written float64 BN forward, every row through
`estimate` on hand-made tables where it holds and where it fails (`hand_made_cases()` for
tests/test_estimates.py), and a --quick smoke run."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from dlclaims.suite import contract
from dlclaims.suite.claims import Estimate, evaluate, headline

nl = contract.load("normalisation-layers")
RULES = {c.id: c.rule for c in nl.CLAIMS}


CLAIMS = {c.id: c for c in nl.CLAIMS}


def verdict(claim: str, est) -> str:
    """The row's own verdict (a scoped row's at its headline value), premises aside."""
    return RULES[claim].verdict(headline(CLAIMS[claim], est))


def bn_forward(x, gamma, beta, mean=None, var=None, eps=1e-5):
    """Batch norm written out in float64: batch statistics unless mean/var are given."""
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(0) if mean is None else mean
    var = x.var(0) if var is None else var
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


# --- exact studies against independent computations ------------------------------------------

def test_torch_running_variance_is_the_lecture_formula_and_8_over_7_at_m_8():
    g = torch.Generator().manual_seed(0)
    batches = torch.randn(30, 8, 5, dtype=torch.float64, generator=g) * 3
    var_b = batches.var(1, unbiased=False)
    assert nl.exact.torch_running_var_gap(batches, var_b) < 1e-13
    bn = nn.BatchNorm1d(5, momentum=None, affine=False, dtype=torch.float64)
    for x in batches:
        bn(x)
    plain = np.mean([np.var(b.numpy(), axis=0) for b in batches], axis=0)  # numpy, population variance
    np.testing.assert_allclose(bn.running_var.numpy() / plain, 8 / 7, rtol=1e-13)


def test_fold_matches_the_hand_written_eval_forward_and_the_plus_sign_does_not():
    g = torch.Generator().manual_seed(1)
    lin, bn = nn.Linear(4, 3, dtype=torch.float64), nn.BatchNorm1d(3, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([0.5, -2.0, 1.5], dtype=torch.float64))
        bn.bias.copy_(torch.tensor([0.1, 0.2, -0.3], dtype=torch.float64))
        bn.running_mean.copy_(torch.tensor([1.0, -1.0, 2.0], dtype=torch.float64))
        bn.running_var.copy_(torch.tensor([4.0, 0.25, 9.0], dtype=torch.float64))
    bn.eval()
    x = torch.randn(7, 4, dtype=torch.float64, generator=g)
    with torch.no_grad():
        z = lin(x).numpy()
        expected = bn_forward(z, bn.weight.numpy(), bn.bias.numpy(), bn.running_mean.numpy(), bn.running_var.numpy())
        w, b = nl.exact.fold(lin.weight, lin.bias, bn)
        np.testing.assert_allclose((x @ w.T + b).numpy(), expected, atol=1e-13)
        w, b = nl.exact.fold(lin.weight, lin.bias, bn, sign=+1.0)  # the minus lost
        err = Estimate.exact(float(np.abs((x @ w.T + b).numpy() - expected).max()))
    assert verdict("G2", err) == "fails"


def test_identity_error_is_the_hand_written_one_and_the_printed_gamma_fails():
    x = 3 + 2 * torch.randn(64, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    var, mean = x.var(0, unbiased=False), x.mean(0)
    printed = nl.exact.identity_error(x, var, mean)
    hand = np.abs(bn_forward(x.numpy(), var.numpy(), mean.numpy()) - x.numpy()).max()
    assert printed == pytest.approx(hand, rel=1e-12)
    assert verdict("G3", Estimate.exact(printed)) == "fails"
    corrected = nl.exact.identity_error(x, torch.sqrt(var + 1e-5), mean)
    assert verdict("G3b", Estimate.exact(corrected)) == "holds"


def test_output_moment_deviation_on_a_hand_case():
    # two units; unit 0 has mean 1 (β = 0) and std 2 (|γ| = 1): deviation max(1, 1) = 1
    y = torch.tensor([[-1.0, 0.0], [3.0, 0.0]], dtype=torch.float64)
    assert nl.exact.output_moment_deviation(y, torch.tensor([1.0, 1.0]), torch.tensor([0.0, 0.0])) == pytest.approx(1.0)
    y = torch.tensor([[1.0, 5.0], [-1.0, 7.0]], dtype=torch.float64)
    assert nl.exact.output_moment_deviation(y, torch.tensor([-1.0, 1.0]), torch.tensor([0.0, 6.0])) == pytest.approx(0.0)


def test_companion_study_bn_output_is_the_hand_written_forward():
    cfg = nl.Config(companions=3)
    rows, samples = nl.exact.companion_study(cfg, torch.Generator().manual_seed(3))
    table, samples = pd.DataFrame(rows), pd.DataFrame(samples)
    assert set(table.norm) == {"bn", "ln", "gn", "in"} and set(table.m) == set(nl.exact.G6_MS)
    # re-draw the same stream by hand: 3 companion sets at m = 2, then at m = 4
    g = torch.Generator().manual_seed(3)
    mu = torch.randn(64, dtype=torch.float64, generator=g)
    sd = torch.exp(torch.empty(64, dtype=torch.float64).uniform_(-1, 1, generator=g))
    x0 = mu + sd * torch.randn(1, 64, dtype=torch.float64, generator=g)
    for _ in range(3):
        torch.randn(1, 64, dtype=torch.float64, generator=g)
    hand = []
    for _ in range(3):
        batch = torch.cat([x0, mu + sd * torch.randn(3, 64, dtype=torch.float64, generator=g)]).numpy()
        hand.append(bn_forward(batch, 1.0, 0.0)[0, 0])
    got = samples[(samples.norm == "bn") & (samples.m == 4)].sort_values("draw").output.to_numpy()
    np.testing.assert_allclose(got, hand, atol=1e-13)
    bn4 = table[(table.norm == "bn") & (table.m == 4) & (table.feature == 0)]["std"].iloc[0]
    assert bn4 == pytest.approx(np.std(hand, ddof=1), rel=1e-10)


def test_bias_growth_with_detached_mean_is_linear_and_loss_constant():
    rows, graph_grad = nl.exact.bias_growth_study(torch.Generator().manual_seed(14), steps=20)
    growth = pd.DataFrame(rows)
    steps = growth.bias_norm.to_numpy()
    np.testing.assert_allclose(np.diff(steps), steps[1], rtol=1e-9)  # constant increments
    assert graph_grad < 1e-12


# --- statistics and rules on hand-made tables ------------------------------------------------
# Every table `estimate` reads, built by hand with known values; by default every row holds.
# Each test changes one table and reads the row's value and verdict from `estimate` itself.

CFG = nl.Config()
FAIL_EVERYWHERE_BUT = (1.0,)  # init scales where a net trains


def g1_table(corrected, plain=lambda m: (m - 1) / m, std_ratio=0.9):
    rows = []
    rng = np.random.default_rng(0)
    for m in nl.exact.G1_MS:
        for j in range(50):
            noise = rng.normal() * 1e-3
            rows.append(dict(m=m, channel=j, corrected_ratio=corrected(m) + noise, plain_ratio=plain(m) + noise,
                             std_ratio=std_ratio + noise))
    return pd.DataFrame(rows)


def exact_checks(**values):
    checks = {**dict(G1c=1e-15, G2=1e-15, G2b=1e-7, G3=1e-15, G3b=1e-15, G5c=1e-15, G14c=1e-17), **values}
    return pd.DataFrame(dict(check=list(checks), m=0, value=list(checks.values())))


def moments(resolved_deviation=1e-5):
    """Three weight scales; only a = 1 has σ² ≫ ε (G4's domain), a = 10^−3 is G4b's, a = 10^−2
    (σ² = 10ε) G4d's."""
    return pd.DataFrame(dict(scale=[1e-3, 1e-2, 1.0], min_var=[1e-6, 1e-4, 1.0],
                             train_deviation=[0.5, 0.02, resolved_deviation], eval_deviation=[5.0, 5.0, 0.01]))


def weight_scale(rel_diff=1e-7, power=1.0):
    a = np.array(nl.exact.G5_SCALES)
    return pd.DataFrame(dict(scale=a, rel_diff=rel_diff, grad_norm=3.0 / a ** power))


def scale_sgd(delta=(0.1, 0.1)):
    return pd.DataFrame(dict(eps=nl.exact.TINY_EPS, step=[0, 1], norm_sq=[1.0, 1.1], delta=list(delta),
                             lr2_grad_sq=[0.1, 0.1]))


def companions(bn_std=lambda m: 1 / math.sqrt(m), other_std=0.0):
    rows = []
    for norm in ("bn", "ln", "gn", "in"):
        for m in nl.exact.G6_MS:
            for f in range(8):
                std = bn_std(m) * (1 + 0.01 * f) if norm == "bn" else other_std
                rows.append(dict(norm=norm, m=m, feature=f, std=std))
    return pd.DataFrame(rows)


def sweep(bn_small=0.6, gn_small=0.9, train_mode=0.5):
    """BN and GN at B = 2, 4 (G7's headline) and 32; the small batches carry the given accuracies."""
    rows = []
    for seed, jitter in enumerate((0.0, 0.01, -0.01)):
        for norm in nl.trainings.SWEEP_NORMS:
            for batch in (2, 4, 32):
                acc = 0.9 + jitter
                if batch < 32:
                    acc = {"bn": bn_small, "gn": gn_small}.get(norm, 0.9) + jitter * (2 if norm == "bn" else 1)
                rows.append(dict(seed=seed, norm=norm, batch=batch, test_acc=acc,
                                 train_mode_acc=train_mode + jitter if norm == "bn" else math.nan))
    return pd.DataFrame(rows)


def sigmoid_table(r2_init=0.98, r2_trained=0.7, affine_acc=0.95, spread=0.002):
    rows = []
    for seed, j in enumerate((0.0, spread, -spread)):
        rows += [dict(seed=seed, variant="bn_affine", r2_init=r2_init + j, r2_trained=r2_trained + 2 * j,
                      test_acc=affine_acc + j),
                 dict(seed=seed, variant="bn_plain", r2_init=r2_init + j, r2_trained=0.99, test_acc=0.9),
                 dict(seed=seed, variant="none", r2_init=0.9 + j / 2, r2_trained=0.9, test_acc=0.8)]
    return pd.DataFrame(rows)


def pairs(column, a_name, b_name, a, b, spread=0.002):
    rows = []
    for seed, j in enumerate((0.0, spread, -spread)):
        rows += [{"seed": seed, column: a_name, "test_acc": a + j},
                 {"seed": seed, column: b_name, "test_acc": b + j / 2}]
    return pd.DataFrame(rows)


def init_scale(bn_works=nl.trainings.SCALES, none_works=FAIL_EVERYWHERE_BUT, bn_jitter=0.01):
    rows = []
    for seed in range(3):
        for scale in nl.trainings.SCALES:
            rows.append(dict(seed=seed, norm="bn", scale=scale,
                             test_acc=0.9 - bn_jitter * seed if scale in bn_works else 0.1))
            rows.append(dict(seed=seed, norm="none", scale=scale, test_acc=0.9 if scale in none_works else 0.1))
    return pd.DataFrame(rows)


def deep(first_over_last=2.0, trained=1.5, bn_gain_power=1.0, none_gain_power=20.0):
    """Two-layer gradient tables: BN's first/last ratio at init at every depth of CFG (grown
    ``first_over_last``× at the deepest), after training ``trained``; the gradient ∝ 1/gain^p."""
    rows = []
    deepest = max(CFG.deep_depths)

    def add(seed, study, norm, depth, gain, step, first, last):
        rows.extend([dict(seed=seed, study=study, norm=norm, depth=depth, gain=gain, step=step, layer=1,
                          grad_norm=first),
                     dict(seed=seed, study=study, norm=norm, depth=depth, gain=gain, step=step, layer=2,
                          grad_norm=last)])

    for seed, j in enumerate((1.0, 1.1, 0.9)):
        for depth in CFG.deep_depths:
            add(seed, "depth", "bn", depth, 1.0, 0, first_over_last ** (depth / deepest) * j, 1.0)
            add(seed, "depth", "none", depth, 1.0, 0, j, 1.0)
        for gain in nl.GAINS:
            for norm, power in (("bn", bn_gain_power), ("none", none_gain_power)):
                add(seed, "gain", norm, deepest, gain, 0, j * gain ** -power, gain ** -power)
        add(seed, "training", "bn", deepest, 1.0, CFG.deep_steps, trained * j, 1.0)
    return pd.DataFrame(rows)


def ics(bn_level=0.4):
    rows = []
    for seed, j in enumerate((1.0, 1.05, 0.95)):
        for layer in (2, 3):
            rows += [dict(seed=seed, norm="bn", step=0, layer=layer, ics=bn_level * j, ics_abs=3 * bn_level * j),
                     dict(seed=seed, norm="none", step=0, layer=layer, ics=0.2, ics_abs=0.3)]
    return pd.DataFrame(rows)


def dropout(bn_dropout=0.90, bn=0.90, none_dropout=0.90, none=0.85, at=None):
    """G13's accuracies with BN and (G13d, the premise) without, without dropout and with dropout
    at every rate of CFG; ``at`` (a dict p → (bn_dropout, none_dropout)) overrides single rates."""
    parts = []
    for p in CFG.dropout_rates:
        with_bn, with_none = (at or {}).get(p, (bn_dropout, none_dropout))
        parts += [pairs("variant", "bn_dropout", "bn", with_bn, bn).assign(p=p),
                  pairs("variant", "none_dropout", "none", with_none, none).assign(p=p)]
    table = pd.concat(parts, ignore_index=True)
    table.loc[~table.variant.str.endswith("_dropout"), "p"] = 0.0
    return table.drop_duplicates(["seed", "variant", "p"], ignore_index=True)


def variance_shift(with_dropout=(1.5, 1.6, 1.55), without=(1.0, 1.01, 0.99)):
    return pd.DataFrame(dict(seed=[0, 1, 2] * 2, variant=["bn_dropout"] * 3 + ["bn"] * 3,
                             ratio=[*with_dropout, *without]))


def bias_growth(linear=True):
    steps = np.arange(201)
    return pd.DataFrame(dict(step=steps, bias_norm=0.3 * steps if linear else 1 - np.exp(-steps / 10), loss=1.0))


def layernorm(ln=0.95, bn=0.95, none=0.9, spread=0.003):
    rows = []
    for seed, j in enumerate((0.0, spread, -spread)):
        rows += [dict(seed=seed, norm="ln", test_acc=ln + j), dict(seed=seed, norm="bn", test_acc=bn + j / 2),
                 dict(seed=seed, norm="none", test_acc=none + j / 3)]
    return pd.DataFrame(rows)


def tables(**changed) -> dict[str, pd.DataFrame]:
    """Every table `estimate` reads: by default one where every row holds, ``changed`` replaced."""
    default = dict(running_variance=g1_table(lambda m: 1.0), exact=exact_checks(), moments=moments(),
                   weight_scale=weight_scale(), scale_sgd=scale_sgd(), companions=companions(), sweep=sweep(),
                   sigmoid=sigmoid_table(), placement=pairs("placement", "before", "after", 0.95, 0.90),
                   init_scale=init_scale(), deep_gradients=deep(), ics=ics(), dropout=dropout(),
                   variance_shift=variance_shift(), bias_growth=bias_growth(), layernorm=layernorm())
    unknown = set(changed) - set(default)
    assert not unknown, unknown
    return {**default, **changed}


def lecture_rows_fail() -> dict[str, pd.DataFrame]:
    """Every lecture row fails, its premise (G10c, G13d) holding."""
    return tables(running_variance=g1_table(lambda m: (m - 1) / m),
                  exact=exact_checks(G2=1.0, G3=7.6), moments=moments(resolved_deviation=0.01),
                  weight_scale=weight_scale(rel_diff=0.3, power=0.5), scale_sgd=scale_sgd(delta=(0.2, 0.1)),
                  companions=companions(bn_std=lambda m: 1e-12, other_std=0.05),
                  sweep=sweep(bn_small=0.9, gn_small=0.9, train_mode=0.95),
                  sigmoid=sigmoid_table(r2_init=0.8, r2_trained=0.9, affine_acc=0.85),  # G8b untestable here
                  placement=pairs("placement", "before", "after", 0.95, 0.95),
                  # both nets fail at the same three scales: no gain, and room for one (G10c holds)
                  init_scale=init_scale(bn_works=(0.3, 1.0), none_works=(0.3, 1.0)),
                  deep_gradients=deep(1e4, trained=100, bn_gain_power=5), ics=ics(0.01), dropout=dropout(bn_dropout=0.95, bn=0.90),
                  bias_growth=bias_growth(linear=False), layernorm=layernorm(ln=0.85))


def no_room_for_g10_and_g13() -> dict[str, pd.DataFrame]:
    """The plain net fails at one init scale only, dropout does not help it, the plain net's
    gradient size does not depend on the gain: G10c, G13d and G11b fail."""
    return tables(init_scale=init_scale(none_works=(0.1, 0.3, 1.0, 3.0)), dropout=dropout(none_dropout=0.85),
                  deep_gradients=deep(none_gain_power=1.0))


def units_stay_linear() -> dict[str, pd.DataFrame]:
    """G8 holds (the units start linear) and training leaves them there: G8b fails with its premise."""
    return tables(sigmoid=sigmoid_table(r2_trained=0.97))


def hand_made_cases():
    """(label, tables, cfg) for tests/test_estimates.py: each lecture row holds on one, fails on another."""
    return [("every row holds", tables(), CFG), ("every lecture row fails", lecture_rows_fail(), CFG),
            ("no room for G10, G11d and G13", no_room_for_g10_and_g13(), CFG),
            ("sigmoid units stay linear", units_stay_linear(), CFG)]


def estimates(**changed) -> dict[str, Estimate]:
    return nl.estimate(tables(**changed), CFG)


def verdicts(table_set: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Every row's verdict through `estimate` and `evaluate` (premises included)."""
    table = evaluate(nl.CLAIMS, nl.estimate(table_set, CFG), CFG)
    return dict(zip(table.claim, table.verdict))


def test_every_row_holds_on_the_default_tables():
    assert {claim: v for claim, v in verdicts(tables()).items() if v != "holds"} == {}


def test_every_lecture_row_fails_on_its_negative_table_while_its_premise_holds():
    seen = verdicts(lecture_rows_fail())
    lecture = [c.id for c in nl.CLAIMS if c.kind == "lecture" and c.id != "G8b"]
    assert {claim: seen[claim] for claim in lecture if seen[claim] != "fails"} == {}
    assert seen["G10c"] == "holds" and seen["G13d"] == "holds" and seen["G11b"] == "holds"
    assert seen["G8b"] == "untestable"  # G8 fails there: the units never were linear
    linear = verdicts(units_stay_linear())
    assert (linear["G8"], linear["G8b"]) == ("holds", "fails")


def test_without_its_positive_control_a_row_is_untestable():
    seen = verdicts(no_room_for_g10_and_g13())
    assert (seen["G10c"], seen["G13d"], seen["G11b"]) == ("fails", "fails", "fails")
    assert (seen["G10"], seen["G13"], seen["G11d"]) == ("untestable", "untestable", "untestable")
    assert seen["G10b"] == "holds"  # the other rows of those tables keep their verdicts


def test_g1_holds_for_the_corrected_estimator_and_fails_for_the_plain_one():
    good = estimates()
    assert verdict("G1", good["G1"]) == "holds"
    # negative control: the plain average fed as if corrected (ratio (m−1)/m, 0.5 at m = 2)
    bad = estimates(running_variance=g1_table(lambda m: (m - 1) / m))
    assert verdict("G1", bad["G1"]) == "fails"  # m = 2 (0.5) … m = 32 (0.97): every m below 0.99
    half = estimates(running_variance=g1_table(lambda m: 1.0 if m > 2 else 0.5, lambda m: 1.0))
    assert verdict("G1", half["G1"]) == "fails"  # one m fails wholly: the claim fails at that m
    assert half["G1"].value == pytest.approx(0.5, abs=0.01)
    straddle = estimates(running_variance=g1_table(lambda m: 1.0 if m > 2 else 0.99))
    assert verdict("G1", straddle["G1"]) == "inconclusive"  # one m on the boundary, the rest inside


def test_folded_interval():
    assert nl.folded(Estimate(-0.2, -0.3, -0.1)) == Estimate(0.2, 0.1, 0.3)
    assert nl.folded(Estimate(0.01, -0.02, 0.04)) == Estimate(0.01, 0.0, 0.04)
    assert nl.folded(Estimate(0.1, 0.05, 0.2)) == Estimate(0.1, 0.05, 0.2)


def test_g4_rows():
    est = estimates()
    assert est["G4"].value == pytest.approx(1e-5)  # only a = 1 has σ² ≥ 1000ε
    assert verdict("G4", est["G4"]) == "holds" and verdict("G4b", est["G4b"]) == "holds"
    assert est["G4c"].value == 5.0
    assert est["G4d"].value == 0.02 and verdict("G4d", est["G4d"]) == "holds"  # σ² = 10ε: ε shows
    bad = estimates(moments=moments(resolved_deviation=0.01))  # a previous-layer dependence where σ² ≫ ε
    assert verdict("G4", bad["G4"]) == "fails"


def test_g5_rows():
    est = estimates()
    assert est["G5b"].value == pytest.approx(-1)
    assert verdict("G5", est["G5"]) == "holds" and verdict("G5b", est["G5b"]) == "holds"
    assert verdict("G5d", est["G5d"]) == "holds"
    # a BN that is not scale invariant: output changes, gradient does not shrink as 1/a
    bad = estimates(weight_scale=weight_scale(rel_diff=0.3, power=0.5), scale_sgd=scale_sgd(delta=(0.2, 0.1)))
    assert bad["G5b"].value == pytest.approx(-0.5) and bad["G5d"].value == pytest.approx(1.0)
    assert verdict("G5", bad["G5"]) == "fails" and verdict("G5b", bad["G5b"]) == "fails"
    assert verdict("G5d", bad["G5d"]) == "fails"


def test_g6_rows():
    est = estimates()
    assert est["G6b"].value == pytest.approx(-0.5)
    assert verdict("G6", est["G6"]) == "holds" and verdict("G6b", est["G6b"]) == "holds"
    assert verdict("G6c", est["G6c"]) == "holds"
    # negative controls: BN batch-independent, LN batch-dependent
    bad = estimates(companions=companions(bn_std=lambda m: 1e-12, other_std=0.05))
    assert verdict("G6", bad["G6"]) == "fails" and verdict("G6c", bad["G6c"]) == "fails"


def test_g7_rows():
    est = estimates()
    assert set(est["G7"]) == {2, 4}  # every batch below the reference, headline at 4
    assert est["G7"][4].value == pytest.approx(0.3) and est["G7"][2].value == pytest.approx(0.3)  # BN drops 0.3
    assert verdict("G7", est["G7"]) == "holds" and verdict("G7b", est["G7b"]) == "holds"
    bad = estimates(sweep=sweep(bn_small=0.9, gn_small=0.9, train_mode=0.95))
    assert verdict("G7", bad["G7"]) == "fails" and verdict("G7b", bad["G7b"]) == "fails"
    small_gain = estimates(sweep=sweep(bn_small=0.88, gn_small=0.9))  # 2 points: under the 5-point margin
    assert verdict("G7", small_gain["G7"]) == "fails"


def test_g8_rows():
    est = estimates()
    assert est["G8b"].value == pytest.approx(0.7) and est["G8c"].value == pytest.approx(0.05)
    for row in ("G8", "G8b", "G8c", "G8d"):
        assert verdict(row, est[row]) == "holds", row
    bad = estimates(sigmoid=sigmoid_table(r2_init=0.8, r2_trained=0.99, affine_acc=0.85))
    for row in ("G8", "G8b", "G8c", "G8d"):
        assert verdict(row, bad[row]) == "fails", row
    # inside the margins: trained R² 0.97 is still the linear regime; half a point is no effect
    slight = estimates(sigmoid=sigmoid_table(r2_trained=0.97, affine_acc=0.905, spread=0.0))
    assert verdict("G8b", slight["G8b"]) == "fails" and verdict("G8c", slight["G8c"]) == "fails"


def test_g9_is_the_folded_paired_placement_difference():
    def g9(before, after):
        return estimates(placement=pairs("placement", "before", "after", before, after))["G9"]

    assert g9(0.95, 0.90).value == pytest.approx(0.05) and g9(0.90, 0.95).value == pytest.approx(0.05)
    assert verdict("G9", g9(0.95, 0.90)) == "holds" and verdict("G9", g9(0.90, 0.95)) == "holds"
    same = g9(0.95, 0.95)
    assert same.ci_low == 0.0 and verdict("G9", same) == "fails"


def test_g10_rows():
    est = estimates()
    assert est["G10"].value == pytest.approx(0.8) and est["G10c"].value == pytest.approx(0.8)
    assert verdict("G10", est["G10"]) == "holds" and verdict("G10b", est["G10b"]) == "holds"
    same = estimates(init_scale=init_scale(bn_works=(0.1, 0.3, 1.0, 3.0), none_works=(0.1, 0.3, 1.0, 3.0),
                                           bn_jitter=0.0))
    assert same["G10"].value == pytest.approx(0.0) and same["G10c"].value == pytest.approx(0.2)
    assert verdict("G10", same["G10"]) == "fails" and verdict("G10b", same["G10b"]) == "fails"
    assert verdict("G10c", same["G10c"]) == "fails"


def test_g10b_spread_is_judged_up_to_each_largest_scale():
    # BN trains up to ×3 and fails at ×10: the spread is 0 up to ×1 and ×3, 0.8 with ×10 (the headline)
    est = estimates(init_scale=init_scale(bn_works=(0.1, 0.3, 1.0, 3.0), bn_jitter=0.0))
    assert set(est["G10b"]) == {1.0, 3.0, 10.0}
    assert est["G10b"][3.0].value == pytest.approx(0.0) and est["G10b"][10.0].value == pytest.approx(0.8)
    assert RULES["G10b"].verdict(est["G10b"][3.0]) == "holds" and verdict("G10b", est["G10b"]) == "fails"
    at_three = estimates(init_scale=init_scale(bn_works=(0.1, 0.3, 1.0), bn_jitter=0.0))["G10b"]
    assert at_three[1.0].value == pytest.approx(0.0) and at_three[3.0].value == pytest.approx(0.8)


def test_g11_rows():
    est = estimates()
    assert set(est["G11"]) == set(CFG.deep_depths) and est["G11"][50].value == pytest.approx(2.0, rel=0.01)
    for row in ("G11", "G11b", "G11c", "G11d"):
        assert verdict(row, est[row]) == "holds", row
    # the span over gains 0.7 … 1.4 of a gradient ∝ gain^−p is p·log10(2)
    assert est["G11d"].value == pytest.approx(np.log10(2)) and est["G11b"].value == pytest.approx(20 * np.log10(2))
    bad = estimates(deep_gradients=deep(1e4, trained=100, bn_gain_power=5))
    assert bad["G11"][50].value == pytest.approx(1e4, rel=0.01) and bad["G11"][5].value < 10
    for row in ("G11", "G11c", "G11d"):
        assert verdict(row, bad[row]) == "fails", row


def test_g12_rows():
    est = estimates()
    assert est["G12"].value == pytest.approx(0.4, rel=1e-3)  # BN's own relative ICS
    assert est["G12c"].value == pytest.approx(2.0, rel=1e-3) and est["G12b"].value == pytest.approx(4.0, rel=1e-3)
    for row in ("G12", "G12b", "G12c"):
        assert verdict(row, est[row]) == "holds", row
    assert verdict("G12", estimates(ics=ics(0.01))["G12"]) == "fails"  # ICS eliminated


def test_g13_rows():
    est = estimates()
    assert set(est["G13"]) == set(est["G13d"]) == set(CFG.dropout_rates) and 0.5 in CFG.dropout_rates
    assert est["G13"][0.5].value == pytest.approx(0.0) and est["G13d"][0.5].value == pytest.approx(0.05)
    for row in ("G13", "G13b", "G13c", "G13d"):
        assert verdict(row, est[row]) == "holds", row
    helpful = estimates(dropout=dropout(bn_dropout=0.95, bn=0.90),
                        variance_shift=variance_shift(with_dropout=(1, 1, 1)))
    assert verdict("G13", helpful["G13"]) == "fails" and verdict("G13b", helpful["G13b"]) == "fails"


def test_g13_is_judged_at_the_lecture_rate_and_each_rate_pairs_its_own_runs():
    # dropout 0.1 helps the plain net (0.90 vs 0.85) and BN (0.95 vs 0.90); 0.5 hurts the plain net
    rates = dropout(at={0.1: (0.95, 0.90), 0.2: (0.90, 0.90), 0.5: (0.90, 0.70)})
    est = estimates(dropout=rates)
    assert est["G13"][0.1].value == pytest.approx(0.05) and est["G13d"][0.1].value == pytest.approx(0.05)
    assert est["G13"][0.2].value == pytest.approx(0.0) and est["G13d"][0.5].value == pytest.approx(-0.15)
    assert RULES["G13"].verdict(est["G13"][0.1]) == "fails" and RULES["G13d"].verdict(est["G13d"][0.1]) == "holds"
    seen = verdicts(tables(dropout=rates))  # the headline is 0.5, where the premise fails
    assert (seen["G13d"], seen["G13"]) == ("fails", "untestable")


def test_g14_rows():
    assert verdict("G14", estimates()["G14"]) == "holds"
    assert verdict("G14", estimates(bias_growth=bias_growth(linear=False))["G14"]) == "fails"


def test_g15_rows_are_paired_differences_through_estimate():
    est = estimates()
    assert est["G15"].value == pytest.approx(0.0) and est["G15b"].value == pytest.approx(0.05)
    assert verdict("G15", est["G15"]) == "holds" and verdict("G15b", est["G15b"]) == "holds"
    bad = estimates(layernorm=layernorm(ln=0.85))
    assert bad["G15"].value == pytest.approx(-0.1) and bad["G15b"].value == pytest.approx(-0.05)
    assert verdict("G15", bad["G15"]) == "fails" and verdict("G15b", bad["G15b"]) == "fails"
    one_digit = estimates(layernorm=layernorm(none=0.945, spread=0.0))  # half a point better: under the margin
    assert verdict("G15b", one_digit["G15b"]) == "fails"


def test_validate_refuses_a_sweep_without_the_reference_batch():
    with pytest.raises(ValueError, match="32"):
        nl.validate(nl.Config(batches=(2, 8)))


def test_validate_refuses_scopes_without_their_headline():
    with pytest.raises(ValueError, match="0.5"):
        nl.validate(nl.Config(dropout_rates=(0.1, 0.2)))
    with pytest.raises(ValueError, match="×1"):
        nl.validate(nl.Config(init_scales=(0.1, 3.0, 10.0)))


# --- smoke -----------------------------------------------------------------------------------

def test_quick_run_writes_every_table_claim_and_figure(quick_run):
    out = quick_run("normalisation-layers")
    claims = pd.read_csv(out / "claims.csv")
    assert claims.claim.tolist() == [c.id for c in nl.CLAIMS]
    assert set(claims.kind) == {"lecture", "derived", "check"}
    for name in ("sweep", "sigmoid", "placement", "init_scale", "layernorm", "ics", "deep_gradients", "dropout",
                 "variance_shift", "running_variance", "exact", "moments", "weight_scale", "scale_sgd",
                 "companions", "companion_samples", "bias_growth"):
        assert (out / f"{name}.csv").is_file(), name
    for fig in nl.FIGURES:
        assert (out / f"{fig.__name__.removeprefix('figure_')}.png").is_file()
    sweep_table = pd.read_csv(out / "sweep.csv")
    assert set(sweep_table.norm) == set(nl.trainings.SWEEP_NORMS) and sweep_table.seed.nunique() == nl.QUICK.seeds
    assert set(sweep_table.batch) == set(nl.QUICK.batches)
