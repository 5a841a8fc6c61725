"""landscape-depth: the closed forms (ReLU kernel, its gradient, GOE at n = 1, 2, the PCA optimum and its
nearest saddle), heavy ball against torch.optim.SGD, the clipping rules, each claim's rule on
hand-made tables (it can hold and it can fail); the quick run is tests/test_runner.py's."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from dlclaims.suite import claims, contract

ld = contract.load("landscape-depth")
F64 = torch.float64


# --- the closed forms -----------------------------------------------------------------------------

def test_relu_kernel_matches_monte_carlo_and_its_diagonal():
    g = torch.Generator().manual_seed(0)
    W = torch.randn(1, 3, 5, generator=g, dtype=F64)
    x = torch.randn(400_000, 5, generator=g, dtype=F64)
    relu = torch.relu(x @ W[0].T)
    mc = relu.T @ relu / len(x)
    assert torch.allclose(ld.relu_kernel(W, W)[0], mc, rtol=0.02, atol=0.01)
    assert torch.allclose(torch.diagonal(ld.relu_kernel(W, W)[0]), W[0].norm(dim=1) ** 2 / 2, rtol=1e-6)


def test_teacher_student_gradient_is_the_loss_derivative_and_vanishes_at_the_teacher():
    g = torch.Generator().manual_seed(1)
    W = torch.randn(2, 4, 4, generator=g, dtype=F64) / 2
    V = torch.eye(4, dtype=F64).expand(2, 4, 4).contiguous()
    grad = ld.ts_grad(W, V)
    h = 1e-6
    for i, j in ((0, 0), (1, 3), (3, 2)):
        e = torch.zeros_like(W)
        e[:, i, j] = h
        fd = (ld.ts_loss(W + e, V) - ld.ts_loss(W - e, V)) / (2 * h)
        assert torch.allclose(grad[:, i, j], fd, rtol=1e-6, atol=1e-9)
    assert float(ld.ts_loss(V, V).abs().max()) < 1e-12
    assert float(ld.ts_grad(V, V).abs().max()) < 1e-12
    assert float(ld.smallest_hessian_ratio(V[:1], V[:1]).min()) > -ld.CONVEX_TOL  # the global minimum is PSD


def test_goe_share_of_positive_definite_matrices_at_n_1_and_2():
    n_draws = 200_000
    for n, exact in ((1, 0.5), (2, (2 - math.sqrt(2)) / 4)):
        p = ld.goe_minima(n, n_draws, np.random.default_rng(n)) / n_draws
        assert abs(p - exact) < 4 * math.sqrt(exact * (1 - exact) / n_draws)


def test_pca_optimum_and_its_nearest_saddle_are_critical_points_of_the_autoencoder():
    C = ld.digits_covariance()
    lam, U = np.linalg.eigh(C)
    lam, U = lam[::-1], U[:, ::-1]
    k = 8
    best, swapped = U[:, :k], np.concatenate([U[:, :k - 1], U[:, k:k + 1]], axis=1)
    for E, target in ((best, lam[k:].sum()), (swapped, lam[k:].sum() + lam[k - 1] - lam[k])):
        A, B = E.T[None], E[None]
        assert ld.ae_loss(A, B, C)[0] == pytest.approx(target, rel=1e-12)
        RC = (np.eye(64) - B @ A) @ C
        assert np.abs(B.transpose(0, 2, 1) @ RC).max() < 1e-12 and np.abs(RC @ A.transpose(0, 2, 1)).max() < 1e-12


def test_heavy_ball_is_torch_sgd_with_momentum():
    x0 = np.array([1.7, 2.9])
    for beta in (0.0, 0.9):
        ours, _ = ld.heavy_ball(ld.well_grad, x0, 0.01, beta, 200)
        x = torch.tensor(x0, dtype=F64, requires_grad=True)
        opt = torch.optim.SGD([x], lr=0.01, momentum=beta)
        for _ in range(200):
            opt.zero_grad()
            ((x**2 - 1) ** 2 + 0.3 * x).sum().backward()
            opt.step()
        assert np.allclose(ours, x.detach().numpy(), rtol=0, atol=1e-12)


def test_noise_free_gd_never_escapes_and_the_linearised_time_is_logarithmic():
    steps = ld.escape_steps(0.0, 0.1, 500, np.random.default_rng(0), 5)
    assert np.isinf(steps).all()
    t1, t2 = ld.linear_escape_time(1e-6, 0.1), ld.linear_escape_time(1e-8, 0.1)
    assert t2 - t1 == pytest.approx(math.log(100) / math.log(1.1))


def test_clipping_rules_on_a_vector_by_hand():
    g = np.array([[10.0, 1.0, 1.0, 1.0]])
    assert ld.cosine(g * min(1, 1 / np.linalg.norm(g)), g)[0] == pytest.approx(1.0, abs=1e-15)
    clipped = np.clip(g, -1, 1)  # value clipping at 1: (1, 1, 1, 1)
    assert ld.cosine(clipped, g)[0] == pytest.approx(13 / (2 * math.sqrt(103)))


# --- the rules on hand-made tables ----------------------------------------------------------------

CFG = ld.Config(goe_n_max=4, goe_boot=200, sigmas=(1e-8, 1e-4), slope_sigmas=(1e-8, 1e-4, 1e-2), etas=(0.01,),
                ae_steps=(1000, 10000), ts_sizes=(12,), clip_shares=(0.01,), init_widths=(64,))


def hand_tables(escape_share=1.0, hb_global=0.7, stuck=0, plain_y=0.0, acc_spread=0.02, plain_deep=1.6,
                residual_deep=0.85, shallow_final=1.0, small_spread=0.04, large_acc_spread=0.004, still_moving=0.001,
                raw_spikes=8, cliff=50.0, clipped_loss=1.9):
    n = np.arange(1, 5)
    goe = pd.DataFrame(dict(n=n, draws=10**6, minima=np.round(1e6 * np.exp(-ld.THETA * n**2)).astype(int)))
    rows = []
    for sigma in CFG.slope_sigmas:
        t = ld.linear_escape_time(sigma, CFG.eta_saddle)
        for i in range(100):
            steps = t + (i % 5) if i < 100 * escape_share else math.inf
            rows.append(dict(sigma=sigma, draw=i, escape_step=steps, budget=int(10 * t), linear_time=t))
    well = pd.DataFrame([dict(eta=0.01, method=m, start=i, x0=2.0, x_final=-1.0 if win else 0.96, global_well=win,
                              local_well=not win, diverged=False)
                         for m in ("gd", "heavy_ball") for i in range(100)
                         for win in [m == "heavy_ball" and i < 100 * hb_global]])
    ae = pd.DataFrame([dict(seed=s, step=st, loss=1.53, optimum=1.53, saddle_excess=0.014,
                            excess_over_gap=1e-3 if st == 10000 else 0.5) for s in range(5) for st in CFG.ae_steps])
    ts = pd.DataFrame(dict(k=12, init=np.arange(200), initial_loss=1.0, final_loss=0.0, loss_ratio=0.0, grad_norm=0.0,
                           hessian_ratio=0.0, reached=np.arange(200) >= 100, stuck=np.arange(200) < stuck))
    clip = pd.DataFrame([*[dict(rule="norm", share=0.0, gradient=i, cosine=1.0) for i in range(50)],
                         *[dict(rule="value", share=0.01, gradient=i, cosine=0.9 + 0.001 * (i % 3)) for i in range(50)]])
    acc = 0.65 + acc_spread * np.linspace(-1.5, 1.5, 20)  # sd ≈ 0.9 × acc_spread
    runs = pd.DataFrame(dict(width=64, seed=np.arange(20), test_accuracy=acc, train_loss=0.005, initial_loss=2.3,
                             steps=3000))
    depth = pd.DataFrame([dict(depth=d, kind=kind, seed=s, step=step, train_loss=loss * (1 + 0.02 * (s % 3 - 1)))
                          for kind, deep in (("plain", plain_deep), ("residual", residual_deep))
                          for d in (CFG.depth_base, *CFG.depths) for s in range(10)
                          for step, loss in ((0, 2.3), (CFG.depth_steps, shallow_final * (1 if d == CFG.depth_base else deep)))])
    identity = pd.DataFrame([dict(kind="residual", depth=32, max_abs_change=0.0, max_abs_grad_change=0.0, grad_norm_ratio=1.0),
                             dict(kind="plain", depth=32, max_abs_change=3.0, max_abs_grad_change=2.0, grad_norm_ratio=0.5)])
    line = np.linspace(-1.5, 1.5, CFG.width_seeds)  # sd ≈ 0.96 × the spread's scale at 10 seeds
    width = pd.DataFrame([dict(width=w, seed=s, steps=st, train_loss=loss + sd * line[s], late_loss=loss + sd * line[s]
                               + still_moving, test_accuracy=0.42 + acc * line[s])
                          for w, loss, sd, acc in ((CFG.width_small, 1.4, small_spread, 0.02),
                                                   (CFG.width_large, 0.05, 0.001, large_acc_spread))
                          for s in range(CFG.width_seeds) for st in CFG.width_steps])
    rnn = pd.DataFrame([dict(rho=2.0, lr=lr, clipped=clipped, seed=s, spike=not clipped and s < raw_spikes,
                             spikes=int(not clipped and s < raw_spikes), finite=True,
                             cliff_ratio=cliff * (1 + 0.1 * (s % 3)), median_grad=1.0, max_grad=cliff,
                             final_loss=(clipped_loss if clipped else 2.6) + 0.01 * (s % 4), initial_loss=2.4)
                        for lr in CFG.rnn_lrs for clipped in (False, True) for s in range(CFG.rnn_seeds)])
    return {"width": width, "rnn": rnn, "init_seeds": runs, "depth": depth, "identity": identity, "goe": goe, "saddle_plain": pd.DataFrame([dict(steps=2000, max_abs_y=plain_y, final_x=0.0)]),
            "saddle_escape": pd.DataFrame(rows),
            "plateau": pd.DataFrame([dict(max_move_on_plateau=0.0, gd_lowest_from_4=2.0, hb_lowest_from_4=-2.0)]),
            "well": well, "autoencoder": ae, "teacher_student": ts, "clipping": clip}


FALSE_CASES = [
    ("noise escapes only half the time", dict(escape_share=0.5), {"I3b"}),
    ("momentum wins no start", dict(hb_global=0.05), {"I4b"}),
    ("a third of the inits stuck", dict(stuck=60), {"I6"}),
    ("every init ends within two test examples", dict(acc_spread=0.002), {"I8"}),
    ("a deep plain net trains as well as a shallow one", dict(plain_deep=1.05), {"I9a"}),
    ("a deep residual net trains worse than a shallow one", dict(residual_deep=1.6), {"I9b"}),
    ("small and large nets spread alike", dict(small_spread=0.0012), {"I7a"}),
    ("wide nets differ by 3 points of test accuracy", dict(large_acc_spread=0.03), {"I7b"}),
    ("unclipped runs spike no more often than clipped ones", dict(raw_spikes=1), {"I12a"}),
]


def verdicts(tables):
    table = claims.evaluate(ld.CLAIMS, ld.estimate(tables, CFG), CFG)
    return dict(zip(table.claim, table.verdict))


def hand_made_cases():
    """The lecture holding on every row, and each lecture row made false by hand (tests/test_estimates.py)."""
    return [("every row holds", hand_tables(), CFG), *[(label, hand_tables(**change), CFG) for label, change, _ in FALSE_CASES]]


def test_every_row_holds_on_the_theory_tables():
    got = verdicts(hand_tables())
    assert {c: v for c, v in got.items() if v != "holds"} == {}


@pytest.mark.parametrize("label, change, failing", FALSE_CASES, ids=[c[0] for c in FALSE_CASES])
def test_each_rule_fails_where_its_claim_is_false(label, change, failing):
    got = verdicts(hand_tables(**change))
    assert {c for c, v in got.items() if v != "holds"} == failing
    assert {got[c] for c in failing} == {"fails"}


def test_a_saddle_that_leaks_makes_the_noise_row_untestable():
    got = verdicts(hand_tables(plain_y=0.3))
    assert got["I3a"] == "fails" and got["I3b"] == "untestable"


def test_the_goe_slope_is_the_models_theta():
    est = ld.estimate(hand_tables(), CFG)
    assert est["I1a"].value == pytest.approx(-ld.THETA, abs=0.01)
    assert est["I1b"].value == pytest.approx((3**2 - 4**2) / (2**2 - 3**2), rel=0.05)  # 7/5 on an exact n² law


def test_an_untrained_shallow_net_makes_the_depth_rows_untestable():
    got = verdicts(hand_tables(shallow_final=2.0))
    assert got["I9p"] == "fails" and got["I9a"] == got["I9b"] == "untestable"


# --- plain vs residual nets (I9, I10) ----------------------------------------------------------------

def test_the_batched_net_is_an_ordinary_mlp_per_seed():
    """Seed 1 of the stacked forward pass equals nn.Linear layers carrying the same weights."""
    params = ld.init_params(40, 16, 10, 4, residual=False, seeds=range(3))
    x = torch.randn(3, 7, 40, generator=torch.Generator().manual_seed(0))
    layers = []
    for w, b in zip(params[0::2], params[1::2]):
        lin = torch.nn.Linear(w.shape[1], w.shape[2])
        lin.weight.data, lin.bias.data = w[1].detach().T.clone(), b[1, 0].detach().clone()
        layers += [lin, torch.nn.ReLU()]
    reference = torch.nn.Sequential(*layers[:-1])
    with torch.no_grad():
        assert torch.allclose(ld.depth.forward(params, x, 4, False)[1], reference(x[1]), atol=1e-5)


def test_plain_and_residual_nets_share_their_weights_and_the_branches_start_at_zero():
    plain = ld.init_params(40, 16, 10, 4, residual=False, seeds=range(2))
    res = ld.init_params(40, 16, 10, 4, residual=True, seeds=range(2))
    for i, (a, b) in enumerate(zip(plain, res)):
        layer = (i - 2) // 2
        if i % 2 == 0 and 0 <= layer < 4 and layer % 2 == 1:
            assert b.abs().max() == 0 and a.abs().max() > 0
        else:
            assert torch.equal(a, b)
    he = ld.init_params(400, 400, 10, 2, residual=False, seeds=range(1))[2]
    assert he.var().item() == pytest.approx(2 / 400, rel=0.02)  # He's fan-in variance


def test_the_zero_branch_trunk_is_the_identity_and_a_nonzero_one_is_not():
    table = ld.identity_table(ld.Config(depths=(8,), depth_width=16)).set_index("kind")
    assert table.max_abs_change["residual"] == 0 and table.max_abs_grad_change["residual"] == 0
    assert table.max_abs_change["plain"] > 0.1 and table.max_abs_grad_change["plain"] > 0.1
    params = [p.detach().double() for p in ld.init_params(16, 16, 10, 2, residual=True, seeds=range(1))]
    params[4] = torch.full_like(params[4], 0.01)
    h = torch.randn(1, 5, 16, dtype=torch.float64)
    assert (ld.depth.trunk(params, h, 2, True) - h).abs().max() > 1e-4


def test_a_short_depth_run_records_every_seed_and_lowers_the_loss():
    cfg = ld.Config(depth_seeds=2, depth_steps=30, depth_width=16)
    runs = ld.depth_table(cfg, 2, residual=False)
    assert sorted(runs.step.unique()) == [0, 15, 30] and len(runs) == 6
    assert ld.trained_share(runs, "plain", 2).value < 0.95


def test_unfinished_runs_or_no_cliffs_make_their_rows_untestable():
    got = verdicts(hand_tables(still_moving=0.05))
    assert got["I7p"] == "fails" and got["I7a"] == got["I7b"] == "untestable"
    got = verdicts(hand_tables(cliff=2.0))
    assert got["I12p"] == "fails" and got["I12a"] == got["I12b"] == "untestable"
    got = verdicts(hand_tables(clipped_loss=math.log(10) - 0.02))  # cliffs, but a net that learned nothing
    assert got["I12p"] == "holds" and got["I12-learns"] == "fails" and got["I12a"] == got["I12b"] == "untestable"


# --- the spread against width (I7) and the RNN (I12) -----------------------------------------------------

def test_hand_written_adam_is_torch_adam():
    g = torch.Generator().manual_seed(3)
    w0 = torch.randn(2, 5, 3, generator=g)
    target = torch.randn(2, 5, 3, generator=g)
    ours = [w0.clone().requires_grad_()]
    ref = w0.clone().requires_grad_()
    opt = torch.optim.Adam([ref], lr=3e-3)
    m, v = [torch.zeros_like(w0)], [torch.zeros_like(w0)]
    for step in range(1, 51):
        (grad,) = torch.autograd.grad(((ours[0] - target) ** 4).sum(), ours)
        ld.mlps.adam_step_(ours, [grad], m, v, step, 3e-3)
        opt.zero_grad()
        ((ref - target) ** 4).sum().backward()
        opt.step()
    assert torch.allclose(ours[0], ref.detach(), atol=1e-6)


def test_the_stacked_width_net_is_an_ordinary_mlp_per_seed():
    params = ld.mlps.width_params(40, 8, 10, range(3))
    x = torch.randn(3, 6, 40, generator=torch.Generator().manual_seed(4))
    ref = torch.nn.Sequential(torch.nn.Linear(40, 8), torch.nn.ReLU(), torch.nn.Linear(8, 8), torch.nn.ReLU(),
                              torch.nn.Linear(8, 10))
    for lin, w, b in zip([ref[0], ref[2], ref[4]], params[0::2], params[1::2]):
        lin.weight.data, lin.bias.data = w[2].detach().T.clone(), b[2, 0].detach().clone()
    with torch.no_grad():
        assert torch.allclose(ld.mlps.width_forward(params, x)[2], ref(x[2]), atol=1e-5)
    assert params[0].abs().max() <= 1 / math.sqrt(40)  # PyTorch's default bound 1/√fan_in


def test_the_batched_rnn_is_torch_rnn_and_norm_clipping_is_torchs():
    params = ld.rnn.init_params(16, 2.0, range(2), copies=2)
    assert torch.equal(params[1][0], params[1][1]) and not torch.equal(params[1][0], params[1][2])  # copies share a seed
    x = torch.randn(4, 5, 40, generator=torch.Generator().manual_seed(5))
    ref = torch.nn.RNN(1, 16, nonlinearity="tanh", batch_first=True)
    ref.weight_ih_l0.data, ref.weight_hh_l0.data = params[0][3].detach().T.clone(), params[1][3].detach().T.clone()
    ref.bias_ih_l0.data, ref.bias_hh_l0.data = params[2][3, 0].detach().clone(), torch.zeros(16)
    with torch.no_grad():
        _, h = ref(x[3, :, :, None])
        assert torch.allclose(ld.rnn.forward(params, x)[3], h[0] @ params[3][3] + params[4][3], atol=1e-5)
    grads = [torch.randn(3, 4, 4, generator=torch.Generator().manual_seed(6))]
    norm, scale = ld.rnn.clip_scale(grads, torch.tensor([1.0, math.inf, 1e6]))
    t = torch.nn.Parameter(torch.zeros(4, 4))
    t.grad = grads[0][0].clone()
    torch.nn.utils.clip_grad_norm_([t], 1.0)
    assert torch.allclose(grads[0][0] * scale[0], t.grad, atol=1e-6)
    assert scale[1] == 1 and scale[2] == 1 and norm[0] == pytest.approx(float(grads[0][0].norm()), rel=1e-6)


def test_the_spike_rule_on_hand_made_loss_curves():
    calm = np.linspace(2.3, 1.0, 300)
    summary = ld.rnn.run_summary(calm, np.ones(300))
    assert not summary["spike"] and summary["cliff_ratio"] == 1.0
    thrown = calm.copy()
    thrown[200:215] = 4.0  # one cliff: a window's mean above 2 × the lowest before it
    norms = np.ones(300)
    norms[199] = 50.0
    summary = ld.rnn.run_summary(thrown, norms)
    assert summary["spike"] and summary["cliff_ratio"] == 50.0
    noisy = calm + 0.3 * np.random.default_rng(0).standard_normal(300)  # mini-batch noise is no spike
    assert not ld.rnn.run_summary(noisy, np.ones(300))["spike"]
    assert ld.rnn.run_summary(np.r_[calm[:-1], np.nan], np.ones(300))["spike"]
