"""dropout-scaling: its statistics on hand-made tables (each lecture rule seen to fail and to hold),
its pieces on small cases, the CLI's flags, and a --quick smoke run (shapes only)."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from dlclaims.methods import data
from dlclaims.suite import config, contract, runner, stats
from dlclaims.suite import claims as claims_mod
from dlclaims.threads import one_thread

ds = contract.load("dropout-scaling")
CLAIM_IDS = ["D1a", "D1c", "D2a", "D2b", "D2c", "D2d", "D3a", "D3b", "D3c", "D3d", "D3e", "D3f", "D3g", "D4",
             "D4c"]
TINY = ds.Config(dataset="digits", hidden=16, seeds=2, epochs=2, small_train=100, small_epochs=2,
                 small_batch_size=50, evaluations=2, mc_passes=8)


# --- smoke: the quick run's shapes -------------------------------------------------------------

def test_quick_run_writes_claims_tables_and_figures(quick_run):
    out = quick_run("dropout-scaling")
    claims = pd.read_csv(out / "claims.csv")
    assert claims.claim.tolist() == CLAIM_IDS
    assert claims.set_index("claim").kind.to_dict() == {c.id: c.kind for c in ds.CLAIMS}
    for name in ("curves", "scaling", "mc", "layers", "activations", "k_star", "enumeration"):
        assert (out / f"{name}.csv").is_file(), name
    for fn in ds.FIGURES:
        assert (out / f"{fn.__name__.removeprefix('figure_')}.png").is_file(), fn.__name__
    seeds = ds.QUICK.seeds
    curves = pd.read_csv(out / "curves.csv")
    assert curves.groupby(["run", "variant"]).seed.nunique().tolist() == [seeds] * 4
    layers = pd.read_csv(out / "layers.csv")
    assert sorted(layers.masks.unique()) == [50, ds.QUICK.mc_passes] and len(layers) == seeds * 2 * 3
    mc = pd.read_csv(out / "mc.csv")
    assert mc.k.max() == ds.QUICK.mc_passes and mc.seed.nunique() == seeds
    k_star = pd.read_csv(out / "k_star.csv")
    assert len(k_star) == seeds * len(ds.QUICK.delta) and set(k_star.columns) >= {"k_star", "censored", "delta", "target"}


def test_units_are_seed_by_run_by_variant_heavy_first():
    units = ds.units(replace(ds.QUICK, seeds=2))
    assert len(units) == 2 * 2 * 2
    assert units[:2] == [dict(seed=0, run="full", variant="dropout"), dict(seed=1, run="full", variant="dropout")]
    assert {(u["run"], u["variant"]) for u in units[2:]} == {("full", "control"), ("small", "dropout"),
                                                             ("small", "control")}


# --- the CLI -------------------------------------------------------------------------------

@pytest.mark.parametrize("flag, value, message", [("--keep-input", "0", "0"), ("--keep-hidden", "1.5", "1.5"),
                                                  ("--keep-input", "x", "x"), ("--mc-passes", "3", "at least 4")])
def test_bad_keep_or_passes_is_a_usage_error_before_anything_runs(tmp_path, flag, value, message):
    with pytest.raises(contract.UsageError, match=message):
        runner.run(ds, ["--quick", flag, value, "--out", str(tmp_path)], quiet=True)
    assert not any(tmp_path.iterdir())


def test_keep_flags_reach_the_config():
    args = config.parser_for(ds).parse_args(["--quick", "--keep-input", "1", "--keep-hidden", "0.25"])
    cfg = config.configure(ds, args)
    assert (cfg.keep_input, cfg.keep_hidden, cfg.dataset) == (1.0, 0.25, "digits")
    assert config.configure(ds, config.parser_for(ds).parse_args([])).dataset == "mnist"
    assert ds.FULL.hidden > ds.Config().hidden and ds.FULL.seeds > ds.Config().seeds


# --- the pieces ----------------------------------------------------------------------------

def test_variants_of_one_seed_start_from_the_same_net_and_seeds_differ():
    a, b, c = (ds.init_params([5, 4, 4, 3], s) for s in (0, 0, 1))
    assert all(torch.equal(wa, wb) for (wa, _), (wb, _) in zip(a, b))
    assert not torch.equal(a[0][0], c[0][0])
    assert ds.keeps_of(TINY, "dropout", 3) == [0.8, 0.5, 0.5] and ds.keeps_of(TINY, "control", 3) == [1.0] * 3


def test_control_nets_are_the_same_in_every_mode_and_dropout_nets_are_not():
    params = [(w.detach(), b.detach()) for w, b in ds.init_params([5, 4, 4, 3], 0)]
    x = torch.randn(10, 5, generator=torch.Generator().manual_seed(0))
    for variant, same in (("control", True), ("dropout", False)):
        keeps = ds.keeps_of(TINY, variant, 3)
        out = {how: ds.nets.forward(params, x, keeps, how, torch.Generator().manual_seed(1))
               for how in ("train", "scaled", "unscaled")}
        for how in ("train", "scaled"):
            assert torch.allclose(out[how], out["unscaled"]) == same, (variant, how)


def test_inverted_form_matches_weight_scaling_and_without_biases_no_class_changes():
    g = torch.Generator().manual_seed(2)
    params = [(w.detach(), b.detach()) for w, b in ds.init_params([5, 16, 16, 3], 3)]
    x, y = 3 * torch.randn(300, 5, generator=g), torch.randint(3, (300,), generator=g)
    table = ds.scaling_study(params, [0.8, 0.5, 0.5], x, y, seed=3).set_index("mode")
    assert table.loc["inverted", "relative_difference"] < 1e-6
    assert table.loc["inverted", "nll"] == pytest.approx(table.loc["weight_scaled", "nll"], abs=1e-5)
    assert table.loc["unscaled_no_bias", "class_changes"] == 0.0  # positive homogeneity
    assert table.loc["unscaled_no_bias", "relative_difference"] > 1  # the logits are 1/0.2 = 5 times larger
    assert table.loc["unscaled", "class_changes"] > 0  # the negative control: biases do move the argmax


def test_ensemble_vs_k_groups_passes_and_averages_softmax():
    # two passes, one digit of class 0: pass 1 says class 0 (0.9), pass 2 class 1 (0.8)
    probs = torch.tensor([[[0.9, 0.1]], [[0.2, 0.8]]])
    table = ds.ensemble_vs_k(probs, torch.tensor([0]), [1, 2]).set_index("k")
    assert table.loc[1, "groups"] == 2 and table.loc[1, "accuracy"] == pytest.approx(0.5)
    assert table.loc[1, "nll"] == pytest.approx(-(np.log(0.9) + np.log(0.2)) / 2)
    assert table.loc[2, "accuracy"] == 1.0  # mean (0.55, 0.45) picks class 0
    assert table.loc[2, "nll"] == pytest.approx(-np.log(0.55))


def test_mask_grid_ends_at_the_number_of_passes():
    assert ds.mask_grid(1000)[-1] == 1000 and ds.mask_grid(8) == [1, 2, 3, 5, 7, 8]


def test_k_star_is_the_first_k_within_delta_and_never_is_censored_not_invented():
    # weight scaling 0.90: with δ = 0.01 the target is 0.89, with δ = 0.001 (one of 1000 digits) 0.899
    mc = pd.DataFrame(dict(seed=[0] * 4 + [1] * 4, k=[1, 10, 100, 1000] * 2,
                           accuracy=[0.80, 0.885, 0.891, 0.899, 0.80, 0.85, 0.88, 0.889]))
    scaling = pd.DataFrame(dict(seed=[0, 1], mode="weight_scaled", accuracy=[0.90, 0.90]))
    table = ds.k_star(mc, scaling, (0.0, 0.001, 0.01)).set_index(["seed", "delta"])
    assert table.loc[(0, 0.01), "k_star"] == 100 and not table.loc[(0, 0.01), "censored"]
    assert table.loc[(0, 0.001), "k_star"] == 1000 and table.loc[(0, 0.0), "k_star"] == np.inf
    assert table.loc[(1, 0.01), "k_star"] == np.inf and table.loc[(1, 0.01), "censored"]
    assert table.single_mask_gap.tolist() == pytest.approx([0.1] * 6)


def test_delta_is_an_accuracy_so_k_star_does_not_move_with_the_number_of_test_digits():
    """The same ensemble accuracies on 1000 or on 10 000 test digits give the same k*: δ is declared as an
    accuracy (0.001 = one of 1000 digits), not as a count of digits or a share of the single-mask gap."""
    mc = pd.DataFrame(dict(seed=0, k=[1, 10, 50, 200, 1000], accuracy=[0.85, 0.897, 0.8992, 0.8996, 0.9001]))
    scaling = pd.DataFrame(dict(seed=[0], mode="weight_scaled", accuracy=[0.90]))
    cfg = ds.Config()
    by_delta = ds.k_star_by_delta(ds.k_star(mc, scaling, cfg.delta), cfg)
    assert [by_delta[d].value for d in cfg.delta] == [1000, 50, 50, 10, 10]
    assert ds.DELTA_ONE_DIGIT in cfg.delta and cfg.delta == tuple(sorted(cfg.delta))


def test_median_ci_is_distribution_free_and_keeps_censored_values_infinite():
    est = stats.median_ci([6, 1, 5, 2, 4, 3])
    assert (est.value, est.ci_low, est.ci_high) == (3.5, 1.0, 6.0)  # order statistics 1 and 6: 96.9%
    censored = stats.median_ci([10, 20, 30, 50, np.inf, np.inf])
    assert (censored.value, censored.ci_low, censored.ci_high) == (40.0, 10.0, np.inf)
    assert np.isnan(stats.median_ci([1, 2, 3, 4, 5]).ci_low)  # five values cannot give 95%


def _random_dropout_nets(seeds, hidden=64):
    split = data.split("digits")
    nets = [[(w.detach(), b.detach()) for w, b in ds.init_params([64, hidden, hidden, 10], s)] for s in range(seeds)]
    return split, nets, [0.8, 0.5, 0.5]


def test_d1_relative_bias_does_not_drift_with_the_number_of_masks_but_mean_z2_does():
    """Issue 12: D1's verdict must not depend on M. Two values of M from the same passes."""
    split, nets, keeps = _random_dropout_nets(3)
    rows = []
    with one_thread():
        for s, params in enumerate(nets):
            _, moments = ds.monte_carlo(params, keeps, split.x_test, 400, torch.Generator().manual_seed(s), (50,))
            rows.append(ds.layer_study(params, keeps, split.x_test, moments, s)[0])
    layers = pd.concat(rows)
    at = {m: layers[layers.masks == m].groupby("layer").mean(numeric_only=True) for m in (50, 400)}
    assert 0.9 < at[50].mean_z2[1] < 1.1 and 0.9 < at[400].mean_z2[1] < 1.1  # layer 1: exact at both M
    for layer in (2, 3):
        assert at[400].relative_bias[layer] > 0.05  # a real bias behind the ReLU (about 0.1 on random nets) ...
        assert at[400].relative_bias[layer] == pytest.approx(at[50].relative_bias[layer], rel=0.15)  # ... whatever M
        assert at[400].mean_z2[layer] - 1 > 4 * (at[50].mean_z2[layer] - 1)  # z² − 1 grows like M (× 8 here)


def test_enumeration_study_is_exact():
    assert ds.enumeration_study().max_abs_difference.max() < 1e-12


def test_a_unit_is_deterministic_and_carries_only_its_own_tables():
    unit = dict(seed=1, run="full", variant="dropout")
    with one_thread():
        a, b = ds.run_unit(TINY, unit), ds.run_unit(TINY, unit)
    assert set(a) == {"curves", "scaling", "mc", "layers"}  # seed 1: no scatter points
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert set(a["scaling"].seed) == {1} and set(a["layers"].masks) == {TINY.mc_passes}
    assert set(ds.run_unit(TINY, dict(seed=0, run="small", variant="control"))) == {"curves"}


# --- the rules on hand-made tables: each lecture row fails on one, holds on another ---------------

def hand_made(seeds=6, rel_bias=0.03, nll_hurt=0.5, acc_hurt=0.0, mc_acc=0.0, k_reach=30, nll_excess=0.004,
              single_gap=0.04, single_nll=0.3, gap_control=0.6, gap_dropout=0.2):
    """A full set of tables with known answers; a small spread over seeds keeps the intervals finite.
    ``k_reach``: the k from which the ensemble is within δ (None: never, censored), or one per seed;
    ``single_gap`` / ``single_nll``: one mask's accuracy below / NLL above weight scaling's (nats);
    ``nll_excess``: the largest ensemble's NLL above weight scaling's (nats)."""
    jitter = np.linspace(-1, 1, seeds)
    reach = list(k_reach) if isinstance(k_reach, (list, tuple)) else [k_reach] * seeds
    ws_acc, ws_nll = 0.94 + 0.002 * jitter, 0.2 + 0.01 * jitter
    layers = pd.DataFrame([dict(seed=s, masks=1000, layer=l, keep=0.5, mean_z2=1 + 0.01 * jitter[s] if l == 1 else 3,
                                relative_bias=0.001 if l == 1 else rel_bias * (1 + 0.05 * jitter[s]))
                           for s in range(seeds) for l in (1, 2, 3)])
    scaling = pd.DataFrame(
        [dict(seed=s, mode=m, accuracy=a, nll=n, relative_difference=r, class_changes=c)
         for s in range(seeds)
         for m, a, n, r, c in (("weight_scaled", ws_acc[s], ws_nll[s], 0.0, 0.0),
                               ("unscaled", ws_acc[s] - acc_hurt, ws_nll[s] + nll_hurt * (1 + 0.1 * jitter[s]), 2, .01),
                               ("inverted", ws_acc[s], ws_nll[s], 1e-7, 0.0),
                               ("unscaled_no_bias", ws_acc[s], ws_nll[s], 4, 0.0))])
    ks = [1, 2, 5, 10, 20, 30, 50, 100, 200, 500, 1000]
    mc = pd.DataFrame(
        [dict(seed=s, k=k, groups=1000 // k,
              accuracy=(ws_acc[s] - single_gap if k == 1 else
                        ws_acc[s] - (0.0005 if reach[s] is not None and k >= reach[s] else 0.02))
              + (mc_acc + 0.001 * jitter[s] if k == 1000 else 0.0),
              nll=ws_nll[s] + (nll_excess + 0.001 * jitter[s] if k == 1000 else single_nll if k == 1 else 0.08))
         for s in range(seeds) for k in ks])
    curves = pd.DataFrame(
        [dict(run="small", variant=v, seed=s, epoch=150, split=part, accuracy=0.9,
              nll=0.05 + (gap * (1 + 0.05 * jitter[s]) if part == "test" else 0.0))
         for s in range(seeds) for v, gap in (("dropout", gap_dropout), ("control", gap_control))
         for part in ("train", "test")])
    tables = dict(layers=layers, scaling=scaling, mc=mc, curves=curves)
    tables |= dict(k_star=ds.k_star(mc, scaling), enumeration=pd.DataFrame(dict(max_abs_difference=[1e-16])))
    return tables


ALL_TRUE = dict(acc_hurt=0.05)  # D2a (derived) true as well: omitting the scale costs 5 points
# label: (the tables' departure from ALL_TRUE, the verdicts it must give; every other row holds). A censored
# seed's ensemble stays 2 points below weight scaling, so D3a moves with D3b there.
CASES = {
    "every claim true": ({}, {}),
    "D1c: weight scaling 30% off the expected input deeper in the net": (dict(rel_bias=0.3), dict(D1c="fails")),
    "D2b: omitting the scale leaves the NLL as it is": (dict(nll_hurt=0.0), dict(D2b="fails")),
    "D2b: omitting the scale raises the NLL by less than the margin (0.02 nats)": (dict(nll_hurt=0.02),
                                                                                 dict(D2b="fails")),
    "D2a: omitting the scale leaves accuracy as it is": (dict(acc_hurt=0.0), dict(D2a="fails")),
    "D3a: the ensemble 5 points below weight scaling": (dict(mc_acc=-0.05), dict(D3a="fails")),
    "D3b: within δ only from 500 masks": (dict(k_reach=500), dict(D3b="fails")),
    "D3b censored: no seed ever within δ": (dict(k_reach=None), dict(D3b="fails", D3e="fails", D3a="fails")),
    "D3b censored: four seeds at 500 masks, two never": (dict(k_reach=[500, 500, 500, 500, None, None]),
                                                         dict(D3b="fails", D3e="inconclusive", D3a="inconclusive")),
    "D3b censored: four seeds at 30 masks, two never (the interval is unbounded above)": (
        dict(k_reach=[30, None, 30, 30, None, 30]), dict(D3b="inconclusive", D3e="inconclusive", D3a="inconclusive")),
    "D3d: the ensemble's NLL 0.1 nats above weight scaling's": (dict(nll_excess=0.1), dict(D3d="fails")),
    "D3d: the ensemble's NLL 0.1 nats below weight scaling's": (dict(nll_excess=-0.1), dict(D3d="fails")),
    "D4: dropout widens the train-test gap": (dict(gap_control=0.2, gap_dropout=0.6), dict(D4="fails")),
    "D4: dropout shrinks the gap by less than the margin (0.02 nats)": (dict(gap_control=0.6, gap_dropout=0.58),
                                                                        dict(D4="fails")),
    "premise D4c: the net without dropout does not overfit": (
        dict(gap_control=0.02, gap_dropout=0.0), dict(D4c="fails", D4="untestable")),
    "premise D3f: one mask as accurate as weight scaling": (
        dict(single_gap=0.0), dict(D3f="fails", D3a="untestable", D3b="untestable", D3e="untestable")),
    "premise D3g: one mask's NLL within 0.05 nats of weight scaling's": (
        dict(single_nll=0.01), dict(D3g="fails", D3d="untestable")),
}


def hand_made_cases():
    """(label, tables, cfg) for tests/test_estimates.py: every lecture row holds on one and fails on another."""
    return [(label, hand_made(**{**ALL_TRUE, **change}), ds.Config()) for label, (change, _) in CASES.items()]


def verdicts(**kw) -> dict[str, str]:
    table = claims_mod.evaluate(ds.CLAIMS, ds.estimate(hand_made(**kw), ds.Config()))
    return dict(zip(table.claim, table.verdict))


def test_on_a_table_where_every_claim_is_true_every_row_holds():
    assert set(verdicts(**ALL_TRUE).values()) == {"holds"}


@pytest.mark.parametrize("label", [label for label in CASES if label != "every claim true"])
def test_each_hand_made_case_moves_exactly_the_rows_it_names(label):
    change, expected = CASES[label]
    got = verdicts(**{**ALL_TRUE, **change})
    assert got == {c.id: expected.get(c.id, "holds") for c in ds.CLAIMS}


def test_the_hand_made_estimates_have_their_known_values():
    est = ds.estimate(hand_made(), ds.Config())
    assert est["D1c"].value == pytest.approx(0.03 * (1 + 0.05 * np.linspace(-1, 1, 6)).mean())
    assert est["D2b"].value == pytest.approx(0.5)
    assert est["D3b"][ds.DELTA_ONE_DIGIT].value == 30 and est["D3e"].value == 0
    assert [est["D3b"][d].value for d in (0.001, 0.002, 0.005, 0.01)] == [30] * 4  # 2 points off before k = 30
    assert est["D3d"].value == pytest.approx(0.004)
    assert est["D3f"].value == pytest.approx(0.04) and est["D3g"].value == pytest.approx(0.3)
    assert est["D4"].value == pytest.approx(0.4) and est["D4c"].value == pytest.approx(0.6)


def test_censored_seeds_stay_censored_and_fail_the_median_when_all_never_get_there():
    v = verdicts(acc_hurt=0.05, k_reach=None)
    assert (v["D3b"], v["D3e"]) == ("fails", "fails")
    est = ds.estimate(hand_made(k_reach=None), ds.Config())
    assert est["D3b"][ds.DELTA_ONE_DIGIT].value == np.inf and est["D3e"].value == 1.0
    two_never = ds.estimate(hand_made(k_reach=[30, None, 30, 30, None, 30]), ds.Config())["D3b"][ds.DELTA_ONE_DIGIT]
    assert (two_never.value, two_never.ci_low, two_never.ci_high) == (30, 30, np.inf)  # order statistics 1 and 6


def test_the_rule_changes_against_the_first_baseline_are_recorded_in_the_ledger():
    """The ledger as committed before issue 12 (the three rows whose statistic or rule changed)."""
    region = "holds if the 95% CI is {}; fails if it lies wholly outside"
    before = pd.DataFrame(dict(
        claim=["D1a", "D3b", "D3d"],
        statistic=["layer 1: mean over units and test digits of (MC mean − p × full)² / SE², 200 masks (≈ 1 if exact)",
                   "k*: smallest k with MC accuracy ≥ weight scaling's; geometric mean over seeds",
                   "test NLL of the MC average over the largest k masks − weight scaling (nats)"],
        rule=[region.format("in [0.9, 1.1]"), region.format("in [10, 200]"), region.format("in [-0.05, 0.05]")]))
    def rule_changes(entries):  # the rows this old ledger lacks are test_every_change_since_the_first_baseline's
        return [p for p in claims_mod.ledger_problems(before, ds.CLAIMS, entries) if p.startswith("rule changed")]

    assert len(rule_changes([])) == 3  # without amendments: refused
    assert rule_changes(ds.AMENDMENTS) == []
    assert {a.claim for a in ds.AMENDMENTS} >= {"D1a", "D1c", "D3b", "D3d", "D4"}


def _first_baseline() -> pd.DataFrame:
    """results/dropout-scaling/claims.csv at commit c90b86a (before kinds: every row a lecture row)."""
    region = "holds if the 95% CI is {}; fails if it lies wholly outside"
    rows = [
        ("D1a", "Under dropout a unit's expected input is p times its full input: exact in the first layer",
         "layer 1: mean over units and test digits of (MC mean − p × full)² / SE², 200 masks (≈ 1 if exact)",
         "in [0.9, 1.1]"),
        ("D1b", "Deeper, behind a nonlinearity, p × full is only an approximation of the expected input",
         "layer 2: the same mean z² (≫ 1 when the gap is real, not MC noise)", "≥ 2"),
        ("D1c", "... but a close one",
         "relative bias (MC noise removed) of p × full vs the MC mean, worst of layer 2 and the logits", "≤ 0.1"),
        ("D2a", "Omitting the test-time scaling hurts: accuracy",
         "test accuracy with weight scaling − without (classic dropout nets)", "≥ 0.01"),
        ("D2b", "Omitting the test-time scaling hurts: NLL", "test NLL without weight scaling − with (nats)", "≥ 0.05"),
        ("D2c", "Scaling by p at test time and dividing by p in training (inverted dropout) are the same function",
         "max |logit difference| / max |logit|, classic nets vs their inverted-dropout form (weights p·W)", "≤ 1e-05"),
        ("D3a", "Weight scaling approximates the ensemble of sub-networks: accuracy",
         "test accuracy of the MC average over the largest k masks − weight scaling", "in [-0.01, 0.01]"),
        ("D3b", "MC averaging reaches weight scaling's accuracy at about k = 50 masks (Srivastava et al.)",
         "k*: smallest k with MC accuracy ≥ weight scaling's; geometric mean over seeds", "in [10, 200]"),
        ("D3c", "For one softmax layer weight scaling IS the normalised geometric mean over all 2^N sub-networks",
         "max |difference| of class probabilities, all masks enumerated (N ≤ 12, float64)", "≤ 1e-10"),
        ("D3d", "Weight scaling approximates the ensemble of sub-networks: NLL",
         "test NLL of the MC average over the largest k masks − weight scaling (nats)", "in [-0.05, 0.05]"),
        ("D4a", "Dropout (keep 0.8 input / 0.5 hidden) reduces overfitting on a small training set",
         "train − test accuracy gap without dropout − with dropout (500 training digits)", "≥ 0"),
        ("D4b", "... and improves test accuracy there", "test accuracy with dropout − without (500 training digits)",
         "≥ 0"),
    ]
    return pd.DataFrame([dict(claim=c, kind="lecture", statement=st, statistic=stat, rule=region.format(r))
                         for c, st, stat, r in rows])


def test_every_change_since_the_first_baseline_has_a_ledger_entry():
    """From c90b86a to today: kinds, statements, rules, added and retired rows (some recorded late)."""
    first = _first_baseline()
    assert len(claims_mod.ledger_problems(first, ds.CLAIMS, [])) > 10
    assert claims_mod.ledger_problems(first, ds.CLAIMS, ds.AMENDMENTS) == []
    late = {(type(a).__name__, a.claim, getattr(a, "what", "")) for a in ds.AMENDMENTS if a.late}
    assert {("Amendment", "D2a", "kind"), ("Amendment", "D2a", "statement"), ("Retired", "D1b", ""),
            ("Retired", "D4a", ""), ("Retired", "D4b", ""), ("Added", "D3e", "")} <= late


def test_every_amendment_says_its_verdict_before_and_after_and_every_retired_row_its_last():
    for a in ds.AMENDMENTS:
        if isinstance(a, claims_mod.Amendment):
            assert a.was and a.now, (a.claim, a.date, a.what)
        if isinstance(a, claims_mod.Retired):
            assert a.was, a.claim


def test_every_comparison_of_a_lecture_row_excludes_a_declared_neighbourhood_of_no_effect():
    for c in ds.CLAIMS:
        if c.kind == "lecture" and c.id != "D3b":  # D3b is a count of masks, not a comparison
            assert np.isfinite(c.rule.null) and c.rule.why, c.id
        assert c.premise is None or c.premise in {x.id for x in ds.CLAIMS}
    premises = {c.id: c.premise for c in ds.CLAIMS if c.premise}
    assert premises == dict(D3a="D3f", D3b="D3f", D3e="D3f", D3d="D3g", D4="D4c")
