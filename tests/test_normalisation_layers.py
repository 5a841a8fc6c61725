"""normalisation-layers: exact studies against a hand-written float64 BN forward, every lecture
rule on hand-made tables where it holds and where it fails, and a --quick smoke run."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from dlclaims.suite import contract
from dlclaims.suite.claims import Estimate

nl = contract.load("normalisation-layers")
RULES = {c.id: c.rule for c in nl.CLAIMS}


def verdict(claim: str, est: Estimate) -> str:
    return RULES[claim].verdict(est)


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

def g1_table(corrected, plain):
    rows = []
    rng = np.random.default_rng(0)
    for m in nl.exact.G1_MS:
        for j in range(50):
            noise = rng.normal() * 1e-3
            rows.append(dict(m=m, channel=j, corrected_ratio=corrected(m) + noise, plain_ratio=plain(m) + noise,
                             std_ratio=0.9 + noise))
    return pd.DataFrame(rows)


def g1_estimates(var):
    return {row: nl.variance_ratio_at_every_m(var, column, nl.RULES[row])
            for row, column in (("G1", "corrected_ratio"), ("G1b", "plain_ratio"))}


def test_g1_holds_for_the_corrected_estimator_and_fails_for_the_plain_one():
    good = g1_estimates(g1_table(lambda m: 1.0, lambda m: (m - 1) / m))
    assert verdict("G1", good["G1"]) == "holds" and verdict("G1b", good["G1b"]) == "holds"
    # negative control: the plain average fed as if corrected (ratio (m−1)/m, 0.5 at m = 2)
    bad = g1_estimates(g1_table(lambda m: (m - 1) / m, lambda m: (m - 1) / m))
    assert verdict("G1", bad["G1"]) == "fails"  # m = 2 (0.5) … m = 32 (0.97): every m below 0.99
    half = g1_estimates(g1_table(lambda m: 1.0 if m > 2 else 0.5, lambda m: 1.0))
    assert verdict("G1", half["G1"]) == "fails"  # one m fails wholly: the claim fails at that m
    assert half["G1"].value == pytest.approx(0.5, abs=0.01)
    straddle = g1_estimates(g1_table(lambda m: 1.0 if m > 2 else 0.99, lambda m: 1.0))
    assert verdict("G1", straddle["G1"]) == "inconclusive"  # one m on the boundary, the rest inside


def test_folded_interval():
    assert nl.folded(Estimate(-0.2, -0.3, -0.1)) == Estimate(0.2, 0.1, 0.3)
    assert nl.folded(Estimate(0.01, -0.02, 0.04)) == Estimate(0.01, 0.0, 0.04)
    assert nl.folded(Estimate(0.1, 0.05, 0.2)) == Estimate(0.1, 0.05, 0.2)


def test_g4_rows():
    moments = pd.DataFrame(dict(scale=[1e-3, 1e-2, 1.0], min_var=[1e-6, 1e-4, 1.0],
                                train_deviation=[0.5, 0.02, 1e-5], eval_deviation=[5.0, 5.0, 0.01]))
    assert verdict("G4", nl.train_deviation_where_resolved(moments)) == "holds"
    assert verdict("G4b", nl.train_deviation_at_smallest_scale(moments)) == "holds"
    moments.loc[2, "train_deviation"] = 0.01  # a previous-layer dependence where σ² ≫ ε
    assert verdict("G4", nl.train_deviation_where_resolved(moments)) == "fails"


def g5_estimates(scales, sgd):
    return {"G5": nl.output_change_over_scales(scales), "G5b": nl.gradient_slope_over_scales(scales),
            "G5d": nl.norm_growth_identity_gap(sgd)}


def test_g5_rows():
    a = np.array(nl.exact.G5_SCALES)
    scales = pd.DataFrame(dict(scale=a, rel_diff=1e-7, grad_norm=3.0 / a))
    sgd = pd.DataFrame(dict(eps=nl.exact.TINY_EPS, step=[0, 1], norm_sq=[1.0, 1.1], delta=[0.1, 0.1],
                            lr2_grad_sq=[0.1, 0.1]))
    est = g5_estimates(scales, sgd)
    assert est["G5b"].value == pytest.approx(-1)
    assert verdict("G5", est["G5"]) == "holds" and verdict("G5b", est["G5b"]) == "holds"
    assert verdict("G5d", est["G5d"]) == "holds"
    # a BN that is not scale invariant: output changes, gradient does not shrink
    bad = g5_estimates(scales.assign(rel_diff=0.3, grad_norm=3.0 / np.sqrt(a)), sgd.assign(delta=[0.2, 0.1]))
    assert verdict("G5", bad["G5"]) == "fails" and verdict("G5b", bad["G5b"]) == "fails"
    assert verdict("G5d", bad["G5d"]) == "fails"


def companions(bn_std, other_std):
    rows = []
    for norm in ("bn", "ln", "gn", "in"):
        for m in nl.exact.G6_MS:
            for f in range(8):
                std = bn_std(m) * (1 + 0.01 * f) if norm == "bn" else other_std
                rows.append(dict(norm=norm, m=m, feature=f, std=std))
    return pd.DataFrame(rows)


def g6_estimates(comp):
    return {"G6": nl.bn_companion_std(comp, m=32),
            "G6b": nl.companion_noise_slope(comp), "G6c": nl.batch_independent_std(comp)}


def test_g6_rows():
    est = g6_estimates(companions(lambda m: 1 / math.sqrt(m), 0.0))
    assert verdict("G6", est["G6"]) == "holds" and verdict("G6b", est["G6b"]) == "holds"
    assert verdict("G6c", est["G6c"]) == "holds"
    # negative controls: BN batch-independent, LN batch-dependent
    bad = g6_estimates(companions(lambda m: 1e-12, 0.05))
    assert verdict("G6", bad["G6"]) == "fails" and verdict("G6c", bad["G6c"]) == "fails"


def sweep(bn_small, gn_small, train_mode):
    rows = []
    for seed, jitter in enumerate((0.0, 0.01, -0.01)):
        for norm in nl.trainings.NORMS:
            for batch in (2, 32):
                acc = 0.9 + jitter
                if batch == 2:
                    acc = {"bn": bn_small, "gn": gn_small}.get(norm, 0.9) + jitter * (2 if norm == "bn" else 1)
                rows.append(dict(seed=seed, norm=norm, batch=batch, test_acc=acc,
                                 train_mode_acc=train_mode + jitter if norm == "bn" else math.nan))
    return pd.DataFrame(rows)


def g7_estimates(table):
    return {"G7": nl.bn_minus_gn_drop(table), "G7b": nl.eval_minus_train_mode_at_smallest_batch(table)}


def test_g7_rows():
    est = g7_estimates(sweep(bn_small=0.6, gn_small=0.9, train_mode=0.5))
    assert est["G7"].value == pytest.approx(0.3)
    assert verdict("G7", est["G7"]) == "holds" and verdict("G7b", est["G7b"]) == "holds"
    bad = g7_estimates(sweep(bn_small=0.9, gn_small=0.9, train_mode=0.95))
    assert verdict("G7", bad["G7"]) == "fails" and verdict("G7b", bad["G7b"]) == "fails"


def sigmoid_table(r2_init, r2_trained, affine_acc):
    rows = []
    for seed, j in enumerate((0.0, 0.002, -0.002)):
        rows += [dict(seed=seed, variant="bn_affine", r2_init=r2_init + j, r2_trained=r2_trained + 2 * j,
                      test_acc=affine_acc + j),
                 dict(seed=seed, variant="bn_plain", r2_init=r2_init + j, r2_trained=0.99, test_acc=0.9),
                 dict(seed=seed, variant="none", r2_init=0.9 + j / 2, r2_trained=0.9, test_acc=0.8)]
    return pd.DataFrame(rows)


def g8_estimates(sig):
    return {"G8": nl.r2_at_init_without_affine(sig),
            "G8b": nl.paired(sig, ("r2_trained", "r2_init"), variant=("bn_affine", "bn_affine")),
            "G8c": nl.paired(sig, "test_acc", variant=("bn_affine", "bn_plain")),
            "G8d": nl.paired(sig, "r2_init", variant=("bn_plain", "none"))}


def test_g8_rows():
    est = g8_estimates(sigmoid_table(0.98, 0.7, 0.95))
    for row in ("G8", "G8b", "G8c", "G8d"):
        assert verdict(row, est[row]) == "holds", row
    bad = g8_estimates(sigmoid_table(0.8, 0.9, 0.85))
    for row in ("G8", "G8b", "G8c", "G8d"):
        assert verdict(row, bad[row]) == "fails", row


def pairs(column, a_name, b_name, a, b, spread=0.002):
    rows = []
    for seed, j in enumerate((0.0, spread, -spread)):
        rows += [{"seed": seed, column: a_name, "test_acc": a + j},
                 {"seed": seed, column: b_name, "test_acc": b + j / 2}]
    return pd.DataFrame(rows)


def g13_estimates(drop, shift):
    return {"G13": nl.paired(drop, "test_acc", variant=("bn_dropout", "bn")),
            "G13b": nl.variance_shift(shift, "bn_dropout"), "G13c": nl.variance_shift(shift, "bn")}


def test_g9_g13_g15_contrasts_through_estimate_helpers():
    def g9(before, after):
        place = pairs("placement", "before", "after", before, after)
        diff = nl.stats.paired_difference(nl.stats.per_seed(place, "test_acc", placement="before"),
                                          nl.stats.per_seed(place, "test_acc", placement="after"))
        return verdict("G9", nl.folded(diff))

    assert g9(0.95, 0.90) == "holds" and g9(0.90, 0.95) == "holds" and g9(0.95, 0.95) == "fails"
    shift = pd.DataFrame(dict(seed=[0, 1, 2] * 2, variant=["bn_dropout"] * 3 + ["bn"] * 3,
                              ratio=[1.5, 1.6, 1.55, 1.0, 1.01, 0.99]))
    est = g13_estimates(pairs("variant", "bn_dropout", "bn", 0.90, 0.90), shift)
    assert verdict("G13", est["G13"]) == "holds" and verdict("G13b", est["G13b"]) == "holds"
    assert verdict("G13c", est["G13c"]) == "holds"
    helpful = g13_estimates(pairs("variant", "bn_dropout", "bn", 0.95, 0.90), shift.assign(ratio=1.0))
    assert verdict("G13", helpful["G13"]) == "fails" and verdict("G13b", helpful["G13b"]) == "fails"


def g10_estimates(scale):
    return {"G10": nl.works_fraction_bn_minus_none(scale), "G10b": nl.bn_spread_over_init_scales(scale)}


def test_g10_rows():
    rows = []
    for seed in range(3):
        for scale in nl.trainings.SCALES:
            rows.append(dict(seed=seed, norm="bn", scale=scale, test_acc=0.9 - 0.01 * seed))
            rows.append(dict(seed=seed, norm="none", scale=scale, test_acc=0.9 if scale == 1.0 else 0.1))
    est = g10_estimates(pd.DataFrame(rows))
    assert est["G10"].value == pytest.approx(0.8)
    assert verdict("G10", est["G10"]) == "holds" and verdict("G10b", est["G10b"]) == "holds"
    same = pd.DataFrame(rows).assign(test_acc=lambda t: np.where(t.scale == 10.0, 0.1, 0.9))
    bad = g10_estimates(same)
    assert verdict("G10", bad["G10"]) == "fails" and verdict("G10b", bad["G10b"]) == "fails"


def test_g11_rows():
    def deep(first_over_last):
        rows = []
        for seed, j in enumerate((1.0, 1.1, 0.9)):
            for norm in ("bn", "none"):
                ratio = first_over_last * j if norm == "bn" else 1.0 * j
                rows += [dict(seed=seed, norm=norm, layer=1, grad_norm=ratio),
                         dict(seed=seed, norm=norm, layer=2, grad_norm=1.0)]
        return pd.DataFrame(rows)

    ok = deep(2.0)
    assert verdict("G11", nl.first_over_last_layer_gradient(ok, "bn")) == "holds"
    assert verdict("G11b", nl.first_over_last_layer_gradient(ok, "none")) == "holds"
    assert verdict("G11", nl.first_over_last_layer_gradient(deep(1e4), "bn")) == "fails"


def test_g12_rows():
    def ics(bn_level):
        rows = []
        for seed, j in enumerate((1.0, 1.05, 0.95)):
            for layer in (2, 3):
                rows += [dict(seed=seed, norm="bn", step=0, layer=layer, ics=bn_level * j),
                         dict(seed=seed, norm="none", step=0, layer=layer, ics=0.2)]
        return pd.DataFrame(rows)

    assert verdict("G12", nl.ics_ratio_bn_over_none(ics(0.4))) == "holds"
    assert verdict("G12b", nl.ics_ratio_bn_over_none(ics(0.4))) == "holds"
    assert verdict("G12", nl.ics_ratio_bn_over_none(ics(0.01))) == "fails"  # ICS eliminated


def test_g14_rows():
    linear = pd.DataFrame(dict(step=range(201), bias_norm=0.3 * np.arange(201), loss=1.0))
    assert verdict("G14", nl.bias_growth_ratio(linear)) == "holds"
    saturating = linear.assign(bias_norm=1 - np.exp(-np.arange(201) / 10))
    assert verdict("G14", nl.bias_growth_ratio(saturating)) == "fails"


def test_g15_rows():
    def ln_table(ln, bn, none):
        rows = []
        for seed, j in enumerate((0.0, 0.003, -0.003)):
            rows += [dict(seed=seed, norm="ln", test_acc=ln + j), dict(seed=seed, norm="bn", test_acc=bn + j / 2),
                     dict(seed=seed, norm="none", test_acc=none + j / 3)]
        return pd.DataFrame(rows)

    def est(table):
        acc = {n: nl.stats.per_seed(table, "test_acc", norm=n) for n in ("ln", "bn", "none")}
        return (nl.stats.paired_difference(acc["ln"], acc["bn"]), nl.stats.paired_difference(acc["ln"], acc["none"]))

    good, good_b = est(ln_table(0.95, 0.95, 0.9))
    assert verdict("G15", good) == "holds" and verdict("G15b", good_b) == "holds"
    bad, bad_b = est(ln_table(0.85, 0.95, 0.9))
    assert verdict("G15", bad) == "fails" and verdict("G15b", bad_b) == "fails"


def test_every_lecture_row_is_tested_above():
    lecture = {c.id for c in nl.CLAIMS if c.kind == "lecture"}
    assert lecture == {"G1", "G2", "G3", "G4", "G5", "G6", "G6c", "G7", "G8", "G8b", "G8c", "G9", "G10", "G11",
                       "G12", "G13", "G14", "G15", "G15b"}


def test_validate_refuses_a_sweep_without_the_reference_batch():
    with pytest.raises(ValueError, match="32"):
        nl.validate(nl.Config(batches=(2, 8)))


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
    assert set(sweep_table.norm) == set(nl.trainings.NORMS) and sweep_table.seed.nunique() == nl.QUICK.seeds
    assert set(sweep_table.batch) == set(nl.QUICK.batches)
