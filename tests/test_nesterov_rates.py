"""nesterov-rates: the worst cases, the counterexample and the helpers on hand-computed cases,
each claim's rule on hand-made tables (it can fail and it can hold), and a --quick smoke run
(shapes only: quick verdicts are not the baseline's)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from dlclaims.suite import claims, contract

nr = contract.load("nesterov-rates")
wc, rates, lessard, step_sizes, objectives = nr.worst_cases, nr.rates, nr.lessard, nr.step_sizes, nr.objectives
F64 = torch.float64


# --- the instances ---------------------------------------------------------------------------

def test_nesterov_worst_case_matches_its_dense_form():
    k = 9
    apply = wc.nesterov_matrix(L=2.0)
    A = (2.0 / 4) * (2 * torch.eye(k, dtype=F64) - torch.diag(torch.ones(k - 1, dtype=F64), 1)
                     - torch.diag(torch.ones(k - 1, dtype=F64), -1))
    x = torch.randn(k, dtype=F64, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(apply(x), A @ x)
    # x* solves A x = (L/4) e1, and ‖A‖ ≤ L
    e1 = torch.zeros(k, dtype=F64)
    e1[0] = 2.0 / 4
    assert torch.allclose(A @ wc.nesterov_minimiser(k), e1)
    assert torch.linalg.eigvalsh(A).max() <= 2.0


def test_krylov_lower_bound_holds_for_nag_on_the_worst_case():
    """Any first-order method from 0: f(x_T) − f* ≥ 3 L R²/(32 (T+1)²) on dimension 2T+1."""
    for T in (4, 16, 50):
        x_star = wc.nesterov_minimiser(2 * T + 1)
        f = objectives.quadratic(wc.nesterov_matrix(), x_star)
        R2 = float((x_star**2).sum())
        (_, gap), = wc.run_convex(f, torch.zeros(2 * T + 1, dtype=F64), "nag", T, [T], 1.0)
        assert float(gap) >= 3 * R2 / (32 * (T + 1) ** 2)
        assert float(gap) <= 2 * R2 / (T + 1) ** 2


def test_huber_is_L_smooth_and_convex_with_a_continuous_value():
    delta, L = torch.tensor([[0.3]], dtype=F64), 2.0
    f = wc.huber(delta, L)
    x = torch.linspace(-2, 2, 4001, dtype=F64)[:, None]
    g = f.grad(x)[:, 0]
    slopes = torch.diff(g) / torch.diff(x[:, 0])
    assert slopes.min() >= 0 and slopes.max() <= L + 1e-9
    assert float(f.gap(x).min()) >= 0 and float(f.gap(torch.zeros(1, 1, dtype=F64))) == 0.0
    inside, outside = f.gap(torch.tensor([[0.3 - 1e-12]], dtype=F64)), f.gap(torch.tensor([[0.3 + 1e-12]], dtype=F64))
    assert float(inside) == pytest.approx(float(outside), abs=1e-11)
    # the value is the integral of the gradient: L δ|x| − L δ²/2 outside, L x²/2 inside
    assert float(f.gap(torch.tensor([[1.0]], dtype=F64))) == pytest.approx(L * 0.3 * 1.0 - L * 0.09 / 2)
    assert float(f.gap(torch.tensor([[0.3]], dtype=F64))) == pytest.approx(L * 0.09 / 2)


def test_gd_on_drori_teboulles_huber_reaches_their_exact_worst_case():
    """δ = R/(2T+1): x_T = R(T+1)/(2T+1) is still outside, f(x_T) = L R²/(4T+2) exactly."""
    for T in (1, 7, 100):
        delta = torch.tensor([[1 / (2 * T + 1)]], dtype=F64)
        (_, gap), = wc.run_convex(wc.huber(delta), torch.ones(1, 1, dtype=F64), "gd", T, [T], 1.0)
        assert float(gap) == pytest.approx(1 / (4 * T + 2), rel=1e-12)


def test_exact_lower_bound_by_hand_and_between_the_other_bounds():
    assert wc.exact_lower_bound(1) == pytest.approx(1 / 8)  # θ₁ = (1 + √9)/2 = 2
    theta1 = (1 + math.sqrt(5)) / 2  # T = 2: θ₁ by the inner rule, θ₂ by the last
    assert wc.exact_lower_bound(2) == pytest.approx(1 / (2 * ((1 + math.sqrt(1 + 8 * theta1**2)) / 2) ** 2))
    for T in (4, 64, 1024):
        lb = wc.exact_lower_bound(T)
        assert 3 / (32 * (T + 1) ** 2) < lb <= 1 / ((T + 1) * (T + 1 + math.sqrt(2))) < 2 / (T + 1) ** 2


def test_one_dimensional_worst_cases_reach_their_closed_forms():
    table = wc.with_bounds(wc.e1_one_dimensional(nr.QUICK))
    quad = table[(table.instance == "worst_1d_quadratic") & (table.method == "gd")]
    ratio = quad.gap_over_LR2 / quad.closed_form_gd_1d
    assert (ratio <= 1 + 1e-12).all() and (ratio > 0.999).all()
    hub = table[(table.instance == "worst_1d_huber") & (table.method == "gd")]
    assert np.allclose(hub.gap_over_LR2, 1 / (4 * hub.horizon + 2), rtol=1e-12)
    assert np.allclose(hub.parameter, 1 / (2 * hub.horizon + 1))  # the worst kink is theirs


def test_envelope_takes_the_worst_instance_per_method_and_horizon():
    worst = pd.DataFrame(dict(instance=["a", "b", "a", "b", "a", "b"], method=["gd"] * 4 + ["nag"] * 2,
                              horizon=[4, 4, 8, 8, 4, 4], gap_over_LR2=[0.1, 0.2, 0.05, 0.01, 0.3, 0.4]))
    top = wc.envelope(worst)
    assert top[["method", "horizon", "worst_instance", "gap_over_LR2"]].values.tolist() == [
        ["gd", 4, "b", 0.2], ["gd", 8, "a", 0.05], ["nag", 4, "b", 0.4]]


# --- E2 - E5 helpers -------------------------------------------------------------------------

def test_lessard_function_is_smooth_and_strongly_convex():
    x = torch.linspace(-4, 5, 2001, dtype=F64)
    g = lessard.lessard_grad(x)
    slopes = torch.diff(g) / torch.diff(x)
    assert slopes.min() >= 1 - 1e-9 and slopes.max() <= 25 + 1e-9
    for b in (1.0, 2.0):  # f is the integral of the gradient: continuous at the breakpoints
        left, right = lessard.lessard_f(torch.tensor(b - 1e-9, dtype=F64)), lessard.lessard_f(torch.tensor(b, dtype=F64))
        assert abs(float(left - right)) < 1e-6


def test_heavy_ball_cycles_on_lessard_while_nag_converges():
    paths = lessard.lessard_runs(torch.tensor([3.2], dtype=F64), 600)
    hb_tail = paths["heavy_ball"][-60:, 0].numpy()
    assert lessard.detect_cycle(hb_tail) == 3
    assert np.ptp(hb_tail) > 1
    assert abs(float(paths["nag"][-1, 0])) < 1e-12


def test_detect_cycle():
    assert lessard.detect_cycle(np.tile([1.0, 2.0, 3.0], 20)) == 3
    assert lessard.detect_cycle(np.zeros(30)) == 1
    assert lessard.detect_cycle(np.linspace(0, 1, 40)) == 0


def test_iterations_to_counts_the_first_hit():
    # GD on λx²/2 with λ = 0.5, η = 1: gap ratio 0.25^k ≤ 1e-3 first at k = 5
    state = torch.ones(1, 1, dtype=F64)
    its = rates.iterations_to(lambda s, k: (s[0] * 0.5,), (state,), lambda x: 0.25 * (x * x).sum(-1), 1e-3, 100)
    assert its.tolist() == [5.0]
    never = rates.iterations_to(lambda s, k: s, (state,), lambda x: (x * x).sum(-1), 1e-3, 10)
    assert math.isnan(never[0])


def test_e2_slopes_recover_a_known_power_law():
    kappas = [10.0, 100.0, 1000.0]
    rows = [dict(problem="quadratic", start="balanced", method="gd", seed=s, kappa=k, iterations=(s + 2) * k**0.75)
            for s in range(3) for k in kappas]
    slopes = rates.e2_slopes(pd.DataFrame(rows))
    assert np.allclose(slopes.iterations_slope, 0.75)
    assert slopes.seed.tolist() == [0, 1, 2]


def test_logistic_gradient_matches_autograd():
    X, y, lam, L, null = rates.logistic_problem(0, 100.0, 8, 16)
    w = np.random.default_rng(0).standard_normal(16)
    wt = torch.tensor(w, requires_grad=True)
    loss = torch.nn.functional.softplus(-torch.tensor(y) * (torch.tensor(X) @ wt)).mean() + lam / 2 * (wt * wt).sum()
    loss.backward()
    f, g, _ = rates.logistic_loss_np(w, X, y, lam)
    assert f == pytest.approx(loss.detach().item(), rel=1e-12)
    assert np.allclose(g, wt.grad.numpy(), atol=1e-12)
    assert L / lam == pytest.approx(100.0)
    assert np.allclose(X @ null, 0, atol=1e-12)  # the projector really is onto the null space


def test_validate_rejects_configs_too_small_for_a_slope():
    with pytest.raises(ValueError):
        nr.validate(nr.Config(max_horizon=32))
    with pytest.raises(ValueError):
        nr.validate(nr.Config(kappa_max=50.0))
    nr.validate(nr.QUICK)
    nr.validate(nr.FULL)


# --- the rules on hand-made tables -----------------------------------------------------------

HORIZONS = [4, 8, 16, 32, 64, 128, 256]


def hand_tables(gd_gap=lambda T: 1 / (4 * T + 2), nag_gap=lambda T: 1 / (T + 1) ** 2, e2=(1.0, 0.5, 0.5, 1.0, 0.5),
                cycling=True, final_gap=0.0, form_diff=1e-15, decreases=True, diverges=True) -> dict:
    """Every table estimate() reads, built by hand; E2 slopes per seed are the given means ± 0.01."""
    rows = []
    for T in HORIZONS:
        rows += [dict(instance="worst_1d_huber", method="gd", horizon=T, dimension=1, parameter=0.0,
                      gap_over_LR2=gd_gap(T)),
                 dict(instance="worst_1d_huber", method="nag", horizon=T, dimension=1, parameter=0.0,
                      gap_over_LR2=nag_gap(T)),
                 dict(instance="nesterov_worst", method="nag", horizon=T, dimension=2 * T + 1, parameter=math.nan,
                      gap_over_LR2=0.3 / (T + 1) ** 2)]
    worst = wc.with_bounds(pd.DataFrame(rows))
    slopes = pd.DataFrame([dict(problem=p, start="balanced", method=m, seed=s, iterations_slope=v + d)
                           for (p, m), v in zip([("quadratic", "gd"), ("quadratic", "nag"), ("quadratic", "heavy_ball"),
                                                 ("logistic", "gd"), ("logistic", "nag")], e2)
                           for s, d in enumerate((-0.01, 0.0, 0.01))])
    lessard = pd.DataFrame([dict(method=m, cycling=cycling if m == "heavy_ball" else False,
                                 final_gap=final_gap if m != "heavy_ball" else 1.0)
                            for m in ("heavy_ball", "nag", "gd") for _ in range(100)])
    forms = pd.DataFrame(dict(compared_with=["look_ahead_003", "velocity_000", "torch_sgd"], max_abs_diff=form_diff))
    runs = pd.DataFrame([dict(eta_times_L=e, seed=s, decreases_every_step=decreases if e < 2 else False,
                              diverges=diverges if e > 2 else False) for e in (1.0, 1.9, 2.1, 2.4) for s in range(50)])
    tables = dict(worst_case=worst, iteration_slopes=slopes, lessard=lessard, nesterov_forms=forms, step_sizes=runs)
    return tables | {"worst_case_envelope": wc.envelope(worst)}


def verdicts(tables) -> dict[str, str]:
    table = claims.evaluate(nr.CLAIMS, nr.estimate(tables, nr.QUICK))
    return dict(zip(table.claim, table.verdict))


def test_every_rule_holds_on_a_table_where_the_theory_holds():
    assert set(verdicts(hand_tables()).values()) == {"holds"}


# (label, change to the theory's tables, the rows that then fail)
FALSE_CASES = [
    ("GD only O(1/√T)", dict(gd_gap=lambda T: T**-0.5), {"E1a", "E1c", "E1f"}),  # over its bound, off the tight one
    ("GD at NAG's rate", dict(gd_gap=lambda T: 0.5 / (T + 1) ** 2), {"E1a", "E1f"}),  # E1a's band excludes −2
    ("NAG only O(1/T)", dict(nag_gap=lambda T: 0.1 / T), {"E1b", "E1d"}),  # E1b's band excludes −1
    ("GD 1.2 × its bound", dict(gd_gap=lambda T: 0.6 / T), {"E1c", "E1f"}),  # the right rate, over the bound
    ("NAG 1.2 × its bound", dict(nag_gap=lambda T: 2.4 / (T + 1) ** 2), {"E1d"}),
    ("GD 1% off the exact worst case", dict(gd_gap=lambda T: 1.01 / (4 * T + 2)), {"E1f"}),
    ("GD on quadratics ∝ κ^0.7", dict(e2=(0.7, 0.5, 0.5, 1.0, 0.5)), {"E2a"}),
    ("NAG on quadratics ∝ κ^0.9", dict(e2=(1.0, 0.9, 0.5, 1.0, 0.5)), {"E2b"}),
    ("heavy ball ∝ κ^0.9", dict(e2=(1.0, 0.5, 0.9, 1.0, 0.5)), {"E2c"}),
    ("GD on logistic ∝ κ^1.4", dict(e2=(1.0, 0.5, 0.5, 1.4, 0.5)), {"E2d"}),
    ("NAG on logistic ∝ κ^0.3", dict(e2=(1.0, 0.5, 0.5, 1.0, 0.3)), {"E2e"}),
    ("NAG as slow as GD in κ", dict(e2=(1.0, 1.0, 0.5, 1.0, 1.0)), {"E2b", "E2e"}),  # bands 0.3 apart
    ("heavy ball never cycles", dict(cycling=False), {"E3a"}),
    ("NAG and GD stall", dict(final_gap=1e-3), {"E3b"}),
    ("forms disagree", dict(form_diff=1e-6), {"E4a", "E4b"}),
    ("GD below 2/L increases f", dict(decreases=False), {"E5a"}),
    ("GD above 2/L converges", dict(diverges=False), {"E5b"}),
]


def hand_made_cases():
    """The theory's tables (every row holds) and each claim made false by hand (tests/test_estimates.py)."""
    return [("the theory", hand_tables(), nr.QUICK),
            *[(label, hand_tables(**change), nr.QUICK) for label, change, _ in FALSE_CASES]]


@pytest.mark.parametrize("label, change, failing", FALSE_CASES, ids=[c[0] for c in FALSE_CASES])
def test_each_rule_fails_where_its_claim_is_false(label, change, failing):
    got = verdicts(hand_tables(**change))
    assert {c for c, v in got.items() if v != "holds"} == failing
    assert {got[c] for c in failing} == {"fails"}


def test_e1c_is_the_largest_gap_over_its_bound_and_the_lower_bound_ratio_is_e1d_times_64_3():
    tables = hand_tables()
    est = nr.estimate(tables, nr.QUICK)
    T = max(HORIZONS)
    assert est["E1c"].value == pytest.approx(2 * T / (4 * T + 2))  # the bound is twice GD's exact worst case
    assert est["E1d"].value == pytest.approx(0.5)
    ratio = nr.nag_over_lower_bound(tables["worst_case_envelope"]).value
    assert ratio == pytest.approx(32 / 3)  # 1/(T+1)² over 3/(32 (T+1)²)
    assert ratio == pytest.approx(est["E1d"].value * 64 / 3)  # why E1e was retired


def test_the_rate_rows_are_lecture_rows_whose_bands_exclude_each_other():
    rules = {c.id: c.rule for c in nr.CLAIMS}
    assert {c.id for c in nr.CLAIMS if c.kind == "check"} >= {"E1c", "E1d", "E1f", "E4a", "E4b"}
    for gd, nag in (("E1a", "E1b"), ("E2a", "E2b"), ("E2d", "E2e")):
        assert rules[gd].hi < rules[nag].lo or rules[nag].hi < rules[gd].lo
        assert rules[gd].why and rules[nag].why
        assert rules[gd].lo < rules[gd].null < rules[gd].hi and rules[nag].lo < rules[nag].null < rules[nag].hi


def test_amendments_lead_from_the_old_rule_to_the_declared_one():
    declared = {c.id: c.signature for c in nr.CLAIMS}
    for a in nr.AMENDMENTS:
        if isinstance(a, claims.Amendment) and a.what == "rule" and a.date >= "2026-11-23":
            assert a.new == declared[a.claim], a.claim
        if isinstance(a, claims.Amendment):
            assert a.was and a.now, a.claim
    assert {a.claim for a in nr.AMENDMENTS} >= {"E1a", "E1b", "E1c", "E1d", "E1e", "E2a", "E2b", "E2c", "E2d", "E2e"}
    assert [a.claim for a in nr.AMENDMENTS if isinstance(a, claims.Retired)] == ["E1e"]


# --- the smoke run: shapes, not verdicts -----------------------------------------------------

def test_quick_run_writes_every_table_claim_and_figure(quick_run):
    out = quick_run("nesterov-rates")
    table = pd.read_csv(out / "claims.csv")
    assert table.claim.tolist() == [c.id for c in nr.CLAIMS]
    assert table.kind.tolist() == [c.kind for c in nr.CLAIMS]
    for png in ("gap_vs_horizon", "iterations_vs_kappa", "lessard_cycle", "zigzag", "step_sizes"):
        assert (out / f"{png}.png").is_file(), png
    cfg, grid = nr.QUICK, wc.horizon_grid(nr.QUICK)
    worst = pd.read_csv(out / "worst_case.csv")
    assert len(worst) == 3 * 2 * len(grid)
    assert set(worst.instance) == set(wc.INSTANCES)
    assert len(pd.read_csv(out / "worst_case_envelope.csv")) == 2 * len(grid)
    its = pd.read_csv(out / "iterations.csv")
    assert len(its) == cfg.seeds * cfg.kappas * (3 * 2 + 3)  # quadratics: two starts; logistic: balanced
    assert len(pd.read_csv(out / "iteration_slopes.csv")) == cfg.seeds * 9
    forms = pd.read_csv(out / "nesterov_forms.csv")
    assert forms[["schedule", "compared_with"]].values.tolist() == [
        ["constant", "look_ahead_003"], ["constant", "velocity_000"], ["constant", "torch_sgd"],
        ["convex", "look_ahead_003"], ["convex", "velocity_000"]]
    assert len(pd.read_csv(out / "lessard.csv")) == 3 * cfg.lessard_starts
    assert len(pd.read_csv(out / "step_sizes.csv")) == len(step_sizes.ETA_TIMES_L) * cfg.eta_seeds
    meta = json.loads((out / "meta.json").read_text())
    assert [u["unit"] for u in meta["unit_seconds"]] == [
        " ".join(f"{k}={v}" for k, v in u.items()) for u in nr.units(cfg)]


def test_the_method_text_is_filled_from_a_quick_run(quick_run):
    from dlclaims.suite import report, results

    out = quick_run("nesterov-rates")
    text = report.method(out, results.read_meta(out), results.read_claims(out))
    assert text and "{{" not in text
    facts = dict(pd.read_csv(out / "facts.csv").values.tolist())
    assert int(facts["huber_worst_from_T"]) == 4  # the Huber function is the worst at every T on the grid
    assert int(facts["lessard_period"]) == 3  # Lessard et al.'s period-3 cycle
    T = nr.QUICK.max_horizon  # above the best any method can do, below NAG's guarantee over it
    assert 1 < float(facts["nag_over_exact_lower_bound"]) <= 2 / (T + 1) ** 2 / wc.exact_lower_bound(T)


@pytest.mark.bench
@pytest.mark.parametrize("threads", [1, 0])
@pytest.mark.parametrize("how", ["mul_sum", "einsum"])
def test_bench_batched_matvec(benchmark, how, threads):
    """Why matvec() multiplies and sums: the logistic batch shape, one torch thread (the
    runner's) vs torch's default (threads = 0)."""
    X = torch.randn(70, 16, 32, dtype=F64)
    w = torch.randn(70, 32, dtype=F64)
    f = (lambda: objectives.matvec(X, w)) if how == "mul_sum" else (lambda: torch.einsum("bnd,bd->bn", X, w))
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        benchmark(f)
    finally:
        torch.set_num_threads(before)
