"""The bn-hessian analysis: its helpers and every claim's statistic on hand-made tables
with known answers (each lecture rule seen to hold and to fail), and a --quick smoke run."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from dlclaims.methods import nets, training
from dlclaims.rng import stream
from dlclaims.suite import claims, contract, stats
from dlclaims.threads import one_thread

bh = contract.load("bn-hessian")
models, measure = bh.models, bh.measure


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():
        yield


# --- models ----------------------------------------------------------------------------------

def test_frozen_bn_refreshes_statistics_over_the_training_set_on_a_copy():
    g = torch.Generator().manual_seed(0)
    net = nets.mlp([5, 7, 3], batch_norm=True, generator=g, bn_affine=False)
    x = torch.randn(1200, 5, generator=g) * 2 + 1
    before = {k: v.clone() for k, v in net.state_dict().items()}
    frozen = models.frozen(net, x)
    with torch.no_grad():
        pre = net[0](x)
    # chunks of 500, 500 and 200: the cumulative average weights chunk means equally
    chunks = [pre[:500], pre[500:1000], pre[1000:]]
    torch.testing.assert_close(frozen[1].running_mean, sum(c.mean(0) for c in chunks) / 3, rtol=1e-5, atol=1e-6)
    assert not frozen.training
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k


@pytest.mark.parametrize("model", ["conv", "mlp", "small"])
def test_the_same_seed_draws_the_same_weights_with_and_without_bn(model):
    cfg = bh.QUICK
    plain, bn = models.build(model, False, cfg, seed=3), models.build(model, True, cfg, seed=3)
    weights = lambda net: [m.weight for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(weights(plain)) == len(weights(bn))
    for a, b in zip(weights(plain), weights(bn)):
        assert torch.equal(a, b)
    other = models.build(model, False, cfg, seed=4)
    assert not torch.equal(weights(plain)[0], weights(other)[0])


@pytest.mark.parametrize("model", ["conv", "mlp"])
def test_the_no_bn_and_bn_nets_of_a_seed_see_the_same_batches(model, monkeypatch):
    drawn: list[list[torch.Tensor]] = []
    draw = training.random_batches

    def recorded(*args):
        drawn[-1].extend(batches := list(draw(*args)))
        return iter(batches)

    monkeypatch.setattr(training, "random_batches", recorded)
    for bn, seed in ((False, 3), (True, 3), (False, 4)):
        drawn.append([])
        models.trained(model, bn, bh.QUICK, seed)
    assert len(drawn[0]) == len(drawn[1]) > 0 and all(torch.equal(a, b) for a, b in zip(drawn[0], drawn[1]))
    assert not torch.equal(drawn[0][0], drawn[2][0])


def test_page_bn_has_no_affine_parameters():
    for model in ("conv", "mlp"):
        bn = models.build(model, True, bh.Config(), seed=0)
        norms = [m for m in bn.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        assert norms and all(m.weight is None and m.bias is None for m in norms)


def test_default_models_are_the_declared_ones():
    cfg = bh.Config()
    mlp = models.build("mlp", False, cfg, seed=0)
    assert [m.out_features for m in mlp if isinstance(m, nn.Linear)] == [256] * 6 + [10]
    x_train = models.dataset(cfg.dataset, "conv", cfg.conv_pool)[0]
    assert tuple(x_train.shape[1:]) == (1, 14, 14) and len(x_train) == 4000
    assert cfg.hessian_batch == 256 and not cfg.bn_affine


def test_santurkar_measures_at_every_checkpoint_of_both_variants():
    cfg = bh.QUICK
    rows = pd.DataFrame(measure.santurkar(cfg, seed=0))
    checkpoints = list(range(0, cfg.santurkar_steps, cfg.santurkar_every))
    for variant in ("no_bn", "bn"):
        part = rows[rows.variant == variant]
        assert sorted(part.step.unique()) == checkpoints
        assert len(part) == len(checkpoints) * (1 + len(measure.ETA_FACTORS))
    assert np.isfinite(rows.loss).all() and (rows[rows.eta_factor > 0].beta > 0).all()


# --- B6: the stability rule -------------------------------------------------------------------

def test_stability_excludes_chance_level_divergent_and_short_runs():
    steps = 20
    good = [2.3] + [0.9] * 19
    assert measure.is_stable(good, steps)
    assert not measure.is_stable([2.3] + [2.23] * 19, steps)  # at chance: the old rule counted it
    assert not measure.is_stable([2.3] + [1.2] * 19, steps)  # above half the initial loss
    assert not measure.is_stable([2.3, 30.0], steps)  # stopped: diverged
    assert not measure.is_stable([2.3] + [0.5] * 9 + [math.nan] + [0.5] * 9, steps)


def test_training_stops_once_the_loss_diverges():
    cfg = bh.QUICK
    x, y = models.dataset(cfg.dataset, "small", cfg.conv_pool)[:2]
    net = models.build("small", False, cfg, seed=0)
    losses = models.train(net, x, y, cfg, stream(0, "test", "batches"), 50, lr=1e4, momentum=0.0,
                          diverged=measure.DIVERGED)
    assert len(losses) < 50
    assert not math.isfinite(losses[-1]) or losses[-1] > measure.DIVERGED * losses[0]


def test_largest_stable_rate_per_seed_and_below_the_grid_when_none_is():
    rows = [dict(variant="bn", seed=s, lr=lr, stable=st) for s, lr, st in
            [(0, 0.1, True), (0, 0.2, False), (0, 0.4, True), (1, 0.1, False), (1, 0.2, False), (1, 0.4, False)]]
    out = bh.largest_stable(pd.DataFrame(rows), "bn", base=0.1)
    np.testing.assert_allclose(out, [0.4, 0.1 / math.sqrt(2)])


def test_learning_rate_grid_is_sqrt2():
    rates = measure.learning_rates(bh.Config())
    np.testing.assert_allclose(np.diff(np.log2(rates)), 0.5)
    assert rates[0] == pytest.approx(0.1) and rates[-1] == pytest.approx(12.8)


# --- every claim's statistic on hand-made tables ----------------------------------------------

def fake_tables(seeds=10, overlap=None, lam=None, chosen=None, unchanged=0.99, stable=None, sant=None,
                power=(1e-5, 0.999), untrained=0) -> dict[str, pd.DataFrame]:
    """Tables as the units write them, with per-seed values drawn around given means."""
    rng = np.random.default_rng(0)
    overlap = overlap or {"no_bn": 0.8, "bn": 0.1, "frozen_bn": 0.8}
    lam = lam or {"no_bn": 40.0, "bn": 4.0}
    chosen = chosen or {"no_bn": 0.7, "bn": 0.15}
    stable = stable or {"no_bn": 0.4, "bn": 3.2}
    sant = sant or {"no_bn": 1.0, "bn": 0.3}
    spectrum, summary, pert = [], [], []
    for model in models.MODELS:
        for seed in range(seeds):
            jitter = 1 + 0.05 * rng.standard_normal()  # shared by the variants of a seed: paired
            for variant in models.VARIANTS:
                for i in range(1, 11):
                    spectrum.append(dict(model=model, state="trained", variant=variant, seed=seed, index=i,
                                         eigenvalue=10.0 / i, residual=0.0,
                                         overlap=min(1.0, overlap[variant] * jitter) if i <= 5 else 0.0))
                summary.append(dict(model=model, state="trained", variant=variant, seed=seed,
                                    lambda_max=lam.get(variant, 10.0) * jitter))
                for kind in ("random", "targeted"):
                    for k in range(10):
                        frac = chosen.get(variant, 0.1) * jitter if kind == "targeted" else 0.1
                        pert.append(dict(model=model, variant=variant, seed=seed, kind=kind, target=k,
                                         fraction_chosen=min(frac, 1.0), fraction_unchanged=unchanged))
    # stable up to stable[v]; finite (all 50 steps, below 10× the initial loss) up to twice that
    lr = [dict(variant=v, seed=s, lr=r, stable=r <= stable[v] * (1 + 0.0 * s), steps=50 if r <= 2 * stable[v] else 7,
               final_loss=0.3 if r <= 2 * stable[v] else math.inf)
          for v in ("no_bn", "bn") for s in range(8) for r in 0.1 * np.sqrt(2) ** np.arange(15)]
    # the loss before the step falls from 1.0 to 0.4 between the checkpoints: both nets train (B0-santurkar)
    santurkar = [dict(variant=v, seed=s, step=step, eta_factor=f, loss=(0.4 if step else 1.0) + f * sant[v] * (1 + 0.05 * s),
                      gradient_change=f * sant[v], beta=sant[v] * (1 + 0.01 * s))
                 for v in ("no_bn", "bn") for s in range(5) for step in (0, 20) for f in (0.0, 0.5, 4.0)]
    solvers = pd.DataFrame([dict(method="power", variant="bn", max_relative_difference=power[0],
                                 mean_vector_overlap=power[1])])
    # the last ``untrained`` seeds' no-BN nets stay at chance
    final = lambda v, s: 2.3 if v == "no_bn" and s >= seeds - untrained else 0.5
    training = [dict(model=m, variant=v, seed=s, step=step, loss=loss) for m in models.MODELS for v in ("no_bn", "bn")
                for s in range(seeds) for step, loss in ((0, 2.3), (90, 1.0), (-1, final(v, s)))]
    wide = dict(width=bh.WIDE)  # the width sweep's nets: the conv net's rows again, at the headline width
    frozen_steps = [dict(model="mlp", variant="frozen_bn", seed=s, steps=st, index=i, eigenvalue=10.0 / i,
                         overlap=overlap["frozen_bn"] if i <= 5 else 0.0) for s in range(seeds) for st in (300, 500)
                    for i in range(1, 11)]
    return {"training": pd.DataFrame(training), "spectrum": pd.DataFrame(spectrum),
            "training_width": pd.DataFrame([r | wide for r in training if r["model"] == "conv"]),
            "perturbation_width": pd.DataFrame([r | wide for r in pert if r["model"] == "conv"]),
            "frozen_steps": pd.DataFrame(frozen_steps),
            "hessian_summary": pd.DataFrame(summary),
            "perturbation": pd.DataFrame(pert), "lr_stress": pd.DataFrame(lr), "santurkar": pd.DataFrame(santurkar),
            "solvers": solvers}


WRONG = dict(overlap={"no_bn": 0.2, "bn": 0.2, "frozen_bn": 0.1}, lam={"no_bn": 4.0, "bn": 4.0},
             chosen={"no_bn": 0.15, "bn": 0.7}, unchanged=0.5, stable={"no_bn": 1.0, "bn": 1.0},
             sant={"no_bn": 0.3, "bn": 1.0}, power=(0.5, 0.2))  # every lecture sentence false, the nets trained


def hand_made_cases():
    """The lecture right, then wrong, on nets that all trained (B0 and B0-mlp hold in both)."""
    return [("the lecture is right", fake_tables(), bh.Config()),
            ("the lecture is wrong", fake_tables(**WRONG), bh.Config())]


def verdicts(tables) -> dict[str, str]:
    table = claims.evaluate(bh.CLAIMS, bh.estimate(tables, bh.Config()))
    return dict(zip(table.claim, table.verdict))


def test_every_claim_holds_where_the_lecture_is_right():
    tables = fake_tables()
    est = bh.estimate(tables, bh.Config())
    assert est["B1a"].value == pytest.approx(0.8, abs=0.03)
    assert est["B2"].value == pytest.approx(0.1 / 0.8, rel=1e-9)  # the seed's jitter cancels when paired
    assert est["B3-mlp"].value == pytest.approx(0.1, rel=1e-9)
    assert est["B5d"][bh.WIDE].value == pytest.approx(0.7 - 0.15, abs=0.03)
    assert est["B6"].value == pytest.approx(0.1 * math.sqrt(2) ** 10 / (0.1 * math.sqrt(2) ** 4))
    assert est["B7c"].value == pytest.approx(0.3, rel=1e-9)
    assert est["B4a"] == claims.Estimate.exact(1e-5)
    assert set(verdicts(tables).values()) == {"holds"}


def test_every_claim_fails_where_the_lecture_is_wrong_and_the_nets_trained():
    out = verdicts(fake_tables(**WRONG))
    assert out["B0"] == out["B0-mlp"] == "holds"
    assert {c: v for c, v in out.items() if v != "fails" and not c.startswith("B0")} == {}


def test_rows_on_nets_that_did_not_train_are_untestable():
    """Three of ten seeds' no-BN nets dead: B0 and B0-mlp fail, so B1-B5 cannot be judged; B4, B6, B7 still are."""
    out = verdicts(fake_tables(**WRONG, untrained=3))
    assert out["B0"] == out["B0-mlp"] == "fails"
    premised = {c.id for c in bh.CLAIMS if c.premise in ("B0", "B0-mlp", "B0-wide")}
    assert premised == {c.id for c in bh.CLAIMS if c.id[:2] in ("B1", "B2", "B3", "B5")}
    assert {out[c] for c in premised} == {"untestable"}
    others = {"B0", "B0-mlp", "B0-lr", "B0-santurkar"}
    assert {v for c, v in out.items() if c not in premised | others} == {"fails"}
    assert out["B0-lr"] == out["B0-santurkar"] == "holds"


def test_b6_needs_a_grid_that_brackets_both_limits_with_room_for_a_factor_of_4():
    """B0-lr: a no-BN net still stable at the grid's largest rate (its limit unseen), or one so
    near the top that a factor of 4 cannot fit, leaves B6 and B6-finite untestable."""
    top = 0.1 * math.sqrt(2) ** 14
    for no_bn in (top, top / 2):
        out = verdicts(fake_tables(stable={"no_bn": no_bn, "bn": 3.2}))
        assert out["B0-lr"] == "fails" and out["B6"] == out["B6-finite"] == "untestable"
    lr = fake_tables()["lr_stress"]
    np.testing.assert_array_equal(bh.per_seed.grid_brackets(lr, 0.1, 4.0), np.ones(8))
    assert bh.per_seed.grid_brackets(lr, 0.1, 100.0).sum() == 0  # 0.4 × 100 is past the grid


def test_b7_needs_nets_that_train():
    """B0-santurkar: a net whose loss before the step does not halve between the first and the
    last checkpoint leaves B7 untestable."""
    tables = fake_tables()
    sant = tables["santurkar"]
    sant.loc[(sant.variant == "no_bn") & (sant.step == 20), "loss"] += 0.3  # 0.7 > ½ of 1.0
    out = verdicts(tables)
    assert out["B0-santurkar"] == "fails" and {out[c] for c in ("B7a", "B7b", "B7c")} == {"untestable"}
    np.testing.assert_array_equal(bh.per_seed.santurkar_trained(sant), np.zeros(5))


def test_the_smoothness_rows_need_a_factor_of_two():
    """B7: BN / no BN = 0.7 is a reduction, but not the 'significantly smoother' the rows declare."""
    out = verdicts(fake_tables(sant={"no_bn": 1.0, "bn": 0.7}))
    assert {out[c] for c in ("B7a", "B7b", "B7c")} == {"fails"}


def test_the_overlap_claims_use_v1_to_v5_only():
    tables = fake_tables()
    spec = tables["spectrum"]
    spec.loc[spec["index"] > 5, "overlap"] = 1.0  # v6..v10 fully inside: must not count
    assert bh.estimate(tables, bh.Config())["B1b"].value == pytest.approx(0.8, abs=0.03)


def test_b5_is_judged_at_every_width_on_that_widths_trained_seeds():
    """The narrow (Hessian) net's B5 stays in the strip; the wide net's seeds that did not train
    leave B5 at that width and make B0-wide fail, whatever the narrow net did."""
    tables = fake_tables()
    est = bh.estimate(tables, bh.Config())
    assert list(est["B5b"]) == ["8-16-16-32", bh.WIDE]
    assert est["B5b"][bh.WIDE].value == pytest.approx(est["B5b"]["8-16-16-32"].value)
    wide = tables["training_width"]
    wide.loc[(wide.seed >= 7) & (wide.variant == "no_bn") & (wide.step == -1), "loss"] = 2.3
    perturbation = tables["perturbation_width"]
    perturbation.loc[perturbation.seed >= 7, "fraction_chosen"] = 0.0  # would pull the mean down if counted
    est = bh.estimate(tables, bh.Config())
    assert est["B0-wide"].value == pytest.approx(0.7) and est["B0"].value == 1
    kept = perturbation[(perturbation.seed < 7) & (perturbation.variant == "no_bn") & (perturbation.kind == "targeted")]
    assert est["B5b"][bh.WIDE].value == pytest.approx(kept.groupby("seed").fraction_chosen.mean().mean())


def test_b1b_mlp_is_judged_at_the_declared_steps_with_more_steps_beside():
    tables = fake_tables()
    tables["frozen_steps"].loc[tables["frozen_steps"].steps == 500, "overlap"] = 0.2
    est = bh.estimate(tables, bh.Config())["B1b-mlp"]
    assert list(est) == [100, 300, 500]
    assert est[100].value == pytest.approx(0.8, abs=0.03) and est[500].value == pytest.approx(0.2)


def test_the_steps_unit_continues_the_hessian_units_training_exactly():
    """B1b-mlp's scope: the first train_steps steps of the steps unit are the Hessian unit's net,
    so its frozen-BN spectrum at train_steps is the Hessian unit's."""
    cfg = replace(bh.QUICK, steps_sweep=(bh.QUICK.train_steps,))
    ours = measure.steps_unit(cfg, 1)["frozen_steps"]
    theirs = stats.select(measure.hessian_unit(cfg, "mlp", 1)["spectrum"], variant="frozen_bn")
    np.testing.assert_allclose(ours.eigenvalue.to_numpy()[:3], theirs.eigenvalue.to_numpy()[:3], rtol=1e-3)


def test_units_run_with_denormals_flushed_and_leave_the_default_behind(monkeypatch):
    """run_unit flushes float32 denormals to zero (softplus with β = 10 makes many in the no-BN
    nets, and each is tens of times slower), restores torch's default afterwards, and the flush
    moves no number of a unit's tables."""
    tiny = torch.tensor(1e-39)  # a float32 denormal: the smallest normal float is 1.18e-38
    seen = {}

    def probe(cfg, model, seed):
        seen["product"] = float(tiny * 1.0)
        return {}

    with monkeypatch.context() as patch:
        patch.setattr(measure, "hessian_unit", probe)
        bh.run_unit(bh.QUICK, dict(part="hessian", model="conv", seed=0))
    assert seen["product"] == 0.0
    assert float(tiny * 1.0) == pytest.approx(1e-39, rel=1e-3)  # the default is back
    cfg = bh.QUICK
    width = cfg.perturb_channels[0]
    flushed = bh.run_unit(cfg, dict(part="width", width=measure.width_label(width), seed=1))
    plain = measure.width_unit(cfg, width, 1)
    assert flushed.keys() == plain.keys()
    for name in plain:
        pd.testing.assert_frame_equal(flushed[name], plain[name], check_exact=True)


def test_the_mlp_hessian_unit_trains_on_for_the_steps_sweep_as_a_fresh_run_would():
    """The default run has no steps units: each MLP Hessian unit trains its BN net on after its
    Hessian work (perturbations restore the weights), bit for bit the stand-alone run that
    trains the first train_steps steps again."""
    cfg = bh.QUICK
    assert cfg.steps_sweep and not any(u["part"] == "steps" for u in bh.units(cfg))
    merged = measure.hessian_unit(cfg, "mlp", 1)["frozen_steps"]
    alone = measure.steps_unit(cfg, 1)["frozen_steps"]
    assert len(merged) == cfg.k * len(cfg.steps_sweep)
    pd.testing.assert_frame_equal(merged, alone, check_exact=True)
    assert "frozen_steps" not in measure.hessian_unit(cfg, "conv", 1)


def test_b6_finite_counts_runs_that_stay_finite_without_learning():
    rows = [dict(variant="bn", seed=0, lr=lr, steps=st, final_loss=f) for lr, st, f in
            [(0.1, 50, 2.2), (0.2, 50, 2.3), (0.4, 12, math.inf)]]
    np.testing.assert_allclose(bh.largest_finite(pd.DataFrame(rows), "bn", 0.1, 50), [0.2])


def test_b2_is_paired_by_seed():
    """Seeds differ tenfold in overlap but every seed has BN / no BN = 0.2: the paired ratio is exact."""
    tables = fake_tables()
    spec = tables["spectrum"]
    scale = 0.05 + 0.09 * spec.seed
    spec.loc[spec.variant == "no_bn", "overlap"] = scale[spec.variant == "no_bn"]
    spec.loc[spec.variant == "bn", "overlap"] = 0.2 * scale[spec.variant == "bn"]
    est = bh.estimate(tables, bh.Config())["B2"]
    assert est.value == pytest.approx(0.2) and est.ci_high - est.ci_low < 1e-9


def test_santurkar_summary_takes_ranges_over_the_step_sizes():
    rows = [dict(variant="bn", seed=0, step=0, eta_factor=f, loss=l, gradient_change=c, beta=b)
            for f, l, c, b in [(0.0, 1.0, 0.0, math.nan), (0.5, 0.8, 1.0, 4.0), (4.0, 1.5, 3.0, 2.0)]]
    out = bh.santurkar_per_seed(pd.DataFrame(rows)).iloc[0]
    assert [out.loss_range, out.gradient_change, out.beta] == pytest.approx([0.7, 3.0, 4.0])


def test_units_are_balanced_and_named():
    cfg = bh.Config()
    units = bh.units(cfg)
    assert sum(u["part"] == "hessian" for u in units) == 2 * cfg.seeds >= 20
    assert sum(u["part"] == "lr_stress" for u in units) >= 8
    # the longest units first: seed 0's Hessian units (with the init spectra and projections), then power
    assert [u["part"] for u in units[:5]] == ["hessian"] * 2 + ["power"] * 3 and units[0]["seed"] == 0
    assert len({tuple(sorted(u.items())) for u in units}) == len(units)


def test_k_below_the_claims_is_refused():
    with pytest.raises(ValueError, match="v1..v5"):
        bh.validate(bh.Config(k=3))


# --- a smoke run ------------------------------------------------------------------------------

def test_quick_run_writes_every_table_and_figure(quick_run):
    target = quick_run("bn-hessian")
    claims_table = pd.read_csv(target / "claims.csv")
    assert claims_table.claim.tolist() == [c.id for c in bh.CLAIMS]
    assert set(claims_table[claims_table.claim.str.startswith("B4")].kind) == {"check"}
    spectrum = pd.read_csv(target / "spectrum.csv")
    assert set(spectrum.state) == {"init", "trained"} and set(spectrum.model) == set(models.MODELS)
    assert spectrum.overlap.between(0, 1 + 1e-9).all()
    solvers = pd.read_csv(target / "solvers.csv")
    assert set(solvers.method) == {"power", "lanczos"} and (solvers.matvecs > 0).all()
    seeds = pd.read_csv(target / "claim_seeds.csv")  # the runner's: rows with per-seed samples
    assert set(seeds.claim) <= {c.id for c in bh.CLAIMS if c.kind != "check"} and (seeds.seeds >= 2).all()
    assert sorted(p.name for p in target.glob("*.png")) == sorted(
        f.__name__.removeprefix("figure_") + ".png" for f in bh.FIGURES)


def test_a_seed_enters_only_if_both_its_nets_reach_half_their_initial_loss():
    rows = [dict(model="conv", variant=v, seed=s, step=step, loss=loss) for v, s, first, last in
            [("no_bn", 0, 2.3, 1.1), ("no_bn", 1, 2.3, 1.2), ("no_bn", 2, 2.3, 0.2),
             ("bn", 0, 2.2, 0.3), ("bn", 1, 2.4, 0.3), ("bn", 2, 2.4, 1.3)]
            for step, loss in ((0, first), (-1, last))]
    assert bh.trained_seeds(pd.DataFrame(rows), "conv") == [0]
    assert bh.trained_fraction(pd.DataFrame(rows), "conv") == pytest.approx(1 / 3)


def test_a_dead_net_is_left_out_of_the_claims_and_counted_by_b0():
    """The case that made B3 7.1 [0.002, 2.6e4]: one no-BN net dead at chance with λmax ≈ 0."""
    tables = fake_tables(untrained=1)
    summary = tables["hessian_summary"]
    dead = (summary.model == "conv") & (summary.seed == 9) & (summary.variant == "no_bn")
    summary.loc[dead, "lambda_max"] = 3e-15
    est = bh.estimate(tables, bh.Config())
    assert est["B3"].value == pytest.approx(0.1, rel=1e-9) and est["B0"].value == pytest.approx(0.9)
    assert stats.seed_table(bh.CLAIMS, est).set_index("claim").seeds["B3"] == 9
    assert verdicts(tables)["B0"] == "holds" and verdicts(fake_tables(untrained=3))["B0"] == "fails"
