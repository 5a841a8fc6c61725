"""regularisation-data: every lecture row on hand-made tables where it holds and where it fails,
the Adam step against torch.optim.Adam, the dropped-weight bookkeeping, and the K7/K14
statistics on cases with a known answer."""

import numpy as np
import pandas as pd
import pytest
import torch

from dlclaims.suite import claims, contract

rd = contract.load("regularisation-data")
networks = __import__(rd.__name__ + ".networks", fromlist=["networks"])
CFG = rd.Config(seeds=4, n_train=(500, 2000), steps=1000)
SEEDS = range(4)
WOBBLE = np.array([-1.0, 1.0, -0.5, 0.5]) * 1e-3  # seed-to-seed spread of a hand-made value


def hand_tables(k3a=0.05, k4_momentum=0.0, rise=0.5, bias=0.0, aug_gain=0.1, inv_gain=0.3, tta_gain=0.03,
                auroc=0.8, trade=1.0, slope=-0.5, below_small=0.3, k10_gain=0.05, k11_gap=0.3, k12_gap=0.05,
                k1_removed=0.5, k5_spared=0.5):
    l2 = pd.DataFrame([dict(task=t, seed=s, keep=k, to_closed_form=0.005, ols_to_closed_form=0.3, to_wager=0.03,
                            to_best_ridge=k3a + w, best_lambda=0.01, to_mle=1.0)
                       for t in ("linear", "logistic") for s, w in zip(SEEDS, WOBBLE) for k in CFG.keep])
    k4 = pd.DataFrame([dict(optimiser=o, steps=100, grad_max=0.0, update_max=0.0, moved=0, dropped=100,
                            moved_share=k4_momentum if o == "momentum" else 0.0) for o in CFG.optimiser])
    curve_rows = []
    for n in CFG.n_train:
        for a in ("none", "shift"):
            for s, w in zip(SEEDS, WOBBLE):
                for step in range(0, CFG.steps + 1, 100):
                    val = (0.5 + rise * (step - 500) / 500 if step >= 500 else 1.0 - 0.5 * step / 500) + w
                    curve_rows.append(dict(seed=s, n_train=n, augment=a, step=step, train_loss=0.01, val_loss=val,
                                           val_acc=0.6, held_out_acc=0.6))
    tag = [dict(seed=s, n_train=n, augment=a) for n in CFG.n_train for a in ("none", "shift") for s in SEEDS]
    selection = pd.DataFrame([dict(**t, select_size=z, bias=bias + w, span=0.05)
                              for t, w in zip(tag, np.tile(WOBBLE, 4)) for z in CFG.select_size])
    noise = pd.DataFrame([dict(**t, n_val=v, change_sd=0.2 * (v / 20) ** slope * (1 + w),
                               below_share=below_small if v == 20 else 0.0)
                          for t, w in zip(tag, np.tile(WOBBLE, 4)) for v in CFG.n_val])
    shifts = pd.DataFrame([dict(**t, train_acc=1.0, test_acc=0.5 + (aug_gain if t["augment"] == "shift" else 0) + w,
                                invariant_share=0.3 + (inv_gain if t["augment"] == "shift" else 0) + w,
                                single_acc=0.5, tta_acc=0.5 + tta_gain + w, disagree_share=0.3, errors=900,
                                auroc_tta=auroc + w, auroc_single=0.7)
                           for t, w in zip(tag, np.tile(WOBBLE, 4))])
    lams = np.geomspace(1e-6, 10, 5)
    bv = pd.DataFrame([dict(n=n, lam=lam, bias2=0.01 * (i + 1) ** trade, variance=1.0 / (i + 1))
                       for n in CFG.bv_n for i, lam in enumerate(lams)])
    boot = pd.DataFrame([dict(n=n, replicate=b, rho_variance=-1.0, rho_bias2=1.0 if trade > 0 else -1.0)
                         for n in CFG.bv_n for b in range(20)])
    per_set = pd.DataFrame([dict(n=n, lam=lam, set=s, error=1.0 + CFG.bv_noise**2 + w, fit_error=1.0 + w)
                            for n in CFG.bv_n for lam in lams for s, w in zip(SEEDS, WOBBLE)])
    probes = pd.DataFrame([dict(seed=s, labels=k, source_acc=0.98 + w, probe_source_2=0.9 + w, probe_random_2=0.8,
                                probe_random_1=0.8, probe_source_1=0.9 + k12_gap + w, scratch=0.9 - k10_gain,
                                probe_shuffled_2=0.8 - w, shuffled_source_acc=0.2)
                           for s, w in zip(SEEDS, WOBBLE) for k in CFG.labels])
    ft = pd.DataFrame([dict(seed=s, rate=r, steps=t, source_acc_before=0.98, target_acc=0.9 + w,
                            forgetting=0.5 + w - (k11_gap if r == "lr/10" else 0.0))
                       for s, w in zip(SEEDS, WOBBLE) for r in ("lr", "lr/10") for t in CFG.tr_ft_steps])
    reg = pd.DataFrame([dict(seed=s, n_train=n, regulariser=r, strength=lam, train_acc=1.0,
                             weight_norm=30.0 - 10 * (r != "none") + w,
                             test_acc=1 - 0.6 * (1 - k1_removed if r != "none" else 1.0) + w)
                        for n in CFG.n_train for s, w in zip(SEEDS, WOBBLE)
                        for r, lam in [("none", 0.0), *[("weight_decay", lam) for lam in CFG.weight_decay]]])
    ablation = pd.DataFrame([dict(seed=s, n_train=500, regulariser=r, strength=0.5 * (r == "dropout"), share=f,
                                  base_acc=0.4, lost=0.15 * (1 - k5_spared if r == "dropout" else 1.0) + w,
                                  lost_rescaled=(0.05 if r == "dropout" else 0.15) + w)
                             for s, w in zip(SEEDS, WOBBLE) for r in ("none", "dropout") for f in CFG.ablate])
    return {"regularised": reg, "ablation": ablation,
            "transfer_probes": probes, "fine_tuning": ft, "dropout_l2": l2, "dropped_units": k4, "curves": pd.DataFrame(curve_rows), "selection": selection,
            "noise": noise, "shifts": shifts, "bias_variance": bv, "bv_bootstrap": boot, "bv_sets": per_set}


FALSE = dict(k3a=0.3, k4_momentum=0.9, rise=0.0, bias=0.05, aug_gain=0.0, inv_gain=0.0, tta_gain=-0.01, auroc=0.5,
             trade=-1.0, slope=0.0, below_small=0.0, k10_gain=0.0, k11_gap=0.0, k12_gap=0.0, k1_removed=0.0,
             k5_spared=0.0)
FAILING = {"k3a": "K3a", "k4_momentum": "K4b", "rise": "K6", "bias": "K7", "aug_gain": "K8a", "inv_gain": "K8b",
           "tta_gain": "K9a", "auroc": "K9b", "trade": "K13b", "slope": "K14a", "below_small": "K14b",
           "k10_gain": "K10", "k11_gap": "K11", "k12_gap": "K12", "k1_removed": "K1b", "k5_spared": "K5"}


def verdicts(tables):
    table = claims.evaluate(rd.CLAIMS, rd.estimate(tables, CFG), CFG)
    return dict(zip(table.claim, table.verdict))


def hand_made_cases():
    return [("every claim true", hand_tables(), CFG),
            *[(f"{FAILING[k]} false", hand_tables(**{k: v}), CFG) for k, v in FALSE.items()]]


def test_every_row_holds_on_the_true_tables():
    assert {c: v for c, v in verdicts(hand_tables()).items() if v != "holds"} == {}


@pytest.mark.parametrize("knob", list(FALSE))
def test_each_lecture_row_fails_alone_where_it_is_false(knob):
    got = verdicts(hand_tables(**{knob: FALSE[knob]}))
    assert {c for c, v in got.items() if v != "holds"} == {FAILING[knob]}
    assert got[FAILING[knob]] == "fails"


def test_adam_step_matches_torch_optim_adam():
    g = torch.Generator().manual_seed(0)
    ours = [torch.randn(3, 4, generator=g, dtype=torch.float64)]
    ref = [ours[0].clone().requires_grad_()]
    opt = torch.optim.Adam(ref, lr=1e-2)
    state = [(torch.zeros_like(ours[0]), torch.zeros_like(ours[0]))]
    for t in range(1, 6):
        grad = torch.randn(3, 4, generator=g, dtype=torch.float64)
        networks.adam_step_(ours, [grad], state, 1e-2, t)
        ref[0].grad = grad.clone()
        opt.step()
    assert torch.allclose(ours[0], ref[0].detach(), atol=1e-14)


def test_dropped_mask_marks_rows_and_columns_of_dropped_units():
    params = networks.init_mlp((3, 4, 4, 2), torch.Generator().manual_seed(0))
    masks = [torch.tensor([1.0, 0.0, 1.0, 1.0]), torch.tensor([0.0, 1.0, 1.0, 1.0])]
    w1, b1, w2, b2, w3, b3 = networks.dropped_mask(params, masks)
    assert w1[:, 1].all() and w1.sum() == 3 and b1.tolist() == [False, True, False, False]
    assert w2[1, :].all() and w2[:, 0].all() and w2.sum() == 4 + 4 - 1
    assert w3[0, :].all() and w3.sum() == 2 and not b3.any()


def test_selection_on_a_small_set_is_optimistic_when_checkpoints_are_equally_good():
    """Exchangeable checkpoints with independent hits: selecting on 50 digits is optimistic, and
    the bias shrinks with the selecting set."""
    rng = np.random.default_rng(0)
    hits = rng.random((30, 2000)) < 0.6
    steps = np.arange(30) * 25
    cfg = rd.Config(resplits=50)
    many = networks.selection(cfg, 0, steps, hits).set_index("select_size").bias
    assert many[50] > 0.05 and abs(many[1000]) < many[50] / 3


def test_noise_slope_is_minus_half_for_independent_losses():
    rng = np.random.default_rng(1)
    losses = rng.exponential(size=(40, 2000))
    cfg = rd.Config(steps=1000, eval_every=25, val_subsets=200)
    table = networks.noise(cfg, 0, np.arange(40) * 25, losses, np.full(40, 0.5))
    slope = np.polyfit(np.log(table.n_val), np.log(table.change_sd), 1)[0]
    assert slope == pytest.approx(-0.5, abs=0.06)


def test_probe_matches_a_hand_separable_case_and_features_are_relu_layers():
    transfer = __import__(rd.__name__ + ".transfer", fromlist=["transfer"])
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(5, 8)) * 5
    y = np.repeat(np.arange(5), 20)
    x = centres[y] + rng.normal(size=(100, 8)) * 0.1
    assert transfer.probe(x, y, x, y) == 1.0
    assert transfer.probe(x, rng.permutation(y), x, y) < 0.6  # shuffled labels: nothing to learn
    params = networks.init_mlp((8, 6, 6, 5), torch.Generator().manual_seed(0))
    xt = torch.from_numpy(x).float()
    h1 = torch.relu(xt @ params[0] + params[1])
    assert np.allclose(transfer.features(params, xt, 1), h1.detach().numpy())
    assert np.allclose(transfer.features(params, xt, 2), torch.relu(h1 @ params[2] + params[3]).detach().numpy())


def test_transfer_split_is_disjoint_and_stratified():
    transfer = __import__(rd.__name__ + ".transfer", fromlist=["transfer"])
    cfg = rd.Config()
    sp = transfer.split(cfg)
    x, y = transfer.data.arrays(cfg.tr_data)
    assert sp["src_train"][0].shape[1] == 784
    assert sorted(set(sp["src_train"][1].tolist())) == list(range(5)) == sorted(set(sp["pool"][1].tolist()))
    assert np.bincount(sp["src_test"][1].numpy()).tolist() == [cfg.tr_source_test] * 5
    assert np.bincount(sp["tgt_test"][1].numpy()).tolist() == [cfg.tr_target_test] * 5
    assert len(sp["src_train"][1]) + len(sp["src_test"][1]) + len(sp["pool"][1]) + len(sp["tgt_test"][1]) == len(y)
    assert min(np.bincount(sp["pool"][1])) >= max(cfg.labels)  # the largest label count fits
    rows = lambda a: {r.tobytes() for r in np.asarray(a)}  # noqa: E731 — no image in two parts
    parts = [rows(sp["src_train"][0]), rows(sp["src_test"][0]), rows(sp["pool"][0]), rows(sp["tgt_test"][0])]
    assert sum(map(len, parts)) == len(set().union(*parts))


def test_a_split_the_classes_cannot_give_is_refused():
    transfer = __import__(rd.__name__ + ".transfer", fromlist=["transfer"])
    with pytest.raises(ValueError, match="smallest class"):
        transfer.split(rd.Config(tr_target_test=401))  # 401 + 100 labels > 500 digits per class
    assert len(transfer.split(rd.Config(tr_target_test=400))["pool"][1]) == 5 * 100  # exactly fits


def test_denormals_are_flushed_inside_the_transfer_unit_only():
    transfer = __import__(rd.__name__ + ".transfer", fromlist=["transfer"])
    tiny = torch.tensor([1e-39])  # a float32 denormal
    with transfer.flushed_denormals():
        assert float(tiny * 1.0) == 0.0
    assert float(tiny * 1.0) > 0.0  # restored: the other units' arithmetic is untouched


def test_the_shuffled_control_shares_init_and_batches_and_only_the_labels_differ():
    transfer = __import__(rd.__name__ + ".transfer", fromlist=["transfer"])
    cfg = rd.Config(tr_source_steps=0)
    sp = transfer.split(cfg)
    sizes = (784, 8, 8, 5)
    real, shuffled = transfer.pretrain(cfg, 2, sp, sizes), transfer.pretrain(cfg, 2, sp, sizes, shuffled=True)
    assert all(torch.equal(a, b) for a, b in zip(real, shuffled))  # same start
    cfg = rd.Config(tr_source_steps=3)
    real, shuffled = transfer.pretrain(cfg, 2, sp, sizes), transfer.pretrain(cfg, 2, sp, sizes, shuffled=True)
    assert not torch.equal(real[-1], shuffled[-1])  # different labels move the head differently


def test_ablation_of_duplicated_units_loses_nothing_once_rescaled():
    """A net whose hidden units are copies of one another is perfectly redundant: zeroing any
    share and rescaling the survivors by 1/(1 − f) gives back the same logits (lost 0), while
    zeroing alone shrinks the logits toward the bias and changes predictions."""
    g = torch.Generator().manual_seed(0)
    width, x = 8, torch.randn(200, 5, generator=g)
    w1 = 2 * torch.randn(5, 1, generator=g).repeat(1, width)  # every hidden unit is r = relu(x·w)
    w2 = torch.full((width, width), 1.0 / width)  # every second-layer unit is r again
    w3 = torch.linspace(1, -1, 10).repeat(width, 1) / width  # logits r·c + b: class 0 if r > 1, else class 9
    b3 = torch.linspace(-1, 1, 10)
    params = [w1, torch.zeros(width), w2, torch.zeros(width), w3, b3]
    y = networks.forward(params, x).argmax(1)
    cfg = rd.Config(width=width, ablate=(0.25, 0.5), ablation_draws=3)
    table = networks.ablation(cfg, 0, params, x, y)
    assert table.base_acc.tolist() == [1.0, 1.0]
    assert table.lost_rescaled.abs().max() < 1e-12
    r = torch.relu(x @ w1[:, 0])
    assert table.lost.iloc[-1] == pytest.approx(float(((r > 1) & (r < 4)).float().mean()))  # unscaled: r → r/4


def test_weight_norm_is_the_norm_of_the_weight_matrices_alone():
    params = networks.init_mlp((4, 3, 2), torch.Generator().manual_seed(1))
    with torch.no_grad():
        params[1] += 100.0  # biases are left out
        expected = torch.linalg.vector_norm(torch.cat([params[0].flatten(), params[2].flatten()]))
    assert networks.weight_norm(params) == pytest.approx(float(expected), rel=1e-6)


def test_regularised_net_at_zero_strength_is_the_unaugmented_net():
    """K1's pairing: λ = 0 reproduces the unaugmented net of the same seed exactly (same init,
    digits and batches), and dropout changes it."""
    cfg = rd.Config(steps=60, eval_every=6, n_train=(500,), ablation_draws=2)
    plain = networks.mnist1d_unit(cfg, 3, 500, "none")["regularised"].iloc[0]
    zero = networks.regularised_unit(cfg, 3, 500, "weight_decay", 0.0)["regularised"].iloc[0]
    decayed = networks.regularised_unit(cfg, 3, 500, "weight_decay", 0.05)["regularised"].iloc[0]
    dropped = networks.regularised_unit(cfg, 3, 500, "dropout", 0.5)["regularised"].iloc[0]
    assert (zero.weight_norm, zero.test_acc, zero.train_acc) == (plain.weight_norm, plain.test_acc, plain.train_acc)
    assert decayed.weight_norm < plain.weight_norm and dropped.weight_norm != plain.weight_norm
