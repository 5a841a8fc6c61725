"""The bn-hessian analysis: its helpers, and a smoke run at --quick fidelity."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch
from torch import nn

from dlclaims import analysis, nets
from dlclaims.threads import one_thread

bn_hessian = analysis.load("bn-hessian")


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():
        yield


def test_refreshed_statistics_are_the_exact_training_set_moments_and_leave_the_original_alone():
    g = torch.Generator().manual_seed(0)
    net = nets.mlp([5, 7, 3], batch_norm=True, generator=g)
    x = torch.randn(1200, 5, generator=g) * 2 + 1
    before = {k: v.clone() for k, v in net.state_dict().items()}
    frozen = bn_hessian.refresh_statistics(net, x)
    with torch.no_grad():
        pre = net[0](x)
    # chunks of 500, 500 and 200: the cumulative average weights chunk means equally, so
    # compare with that, which is what eval mode will use
    chunks = [pre[:500], pre[500:1000], pre[1000:]]
    torch.testing.assert_close(frozen[1].running_mean, sum(c.mean(0) for c in chunks) / 3, rtol=1e-5, atol=1e-6)
    assert not frozen.training
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_the_same_seed_draws_the_same_conv_weights_with_and_without_bn():
    cfg = bn_hessian.Config()
    plain = bn_hessian.build("conv", False, cfg, 28, 784, seed=3)
    bn = bn_hessian.build("conv", True, cfg, 28, 784, seed=3)
    convs = lambda net: [m.weight for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    for a, b in zip(convs(plain), convs(bn)):
        assert torch.equal(a, b)


def test_geometric_mean_interval():
    est = bn_hessian.geometric_mean_ci([2.0, 8.0])
    assert math.isclose(est.value, 4.0) and est.ci_low < 4.0 < est.ci_high


def test_santurkar_summary_takes_ranges_over_the_step_sizes():
    rows = [dict(variant="bn", seed=0, step=0, eta_factor=f, loss=l, gradient_change=c, beta=b)
            for f, l, c, b in [(0.0, 1.0, 0.0, math.nan), (0.5, 0.8, 1.0, 4.0), (4.0, 1.5, 3.0, 2.0)]]
    out = bn_hessian.santurkar_per_seed(pd.DataFrame(rows))
    assert out.loc[(0, "bn")].tolist() == pytest.approx([0.7, 3.0, 4.0])


def test_quick_run_writes_every_claim(tmp_path):
    target = analysis.run(bn_hessian, ["--quick", "--out", str(tmp_path)], quiet=True)
    claims = pd.read_csv(target / "claims.csv")
    assert [c.id for c in bn_hessian.CLAIMS] == claims.claim.tolist()
    assert set(claims.verdict) <= {"holds", "fails", "inconclusive"}
    assert {"B1a", "B3", "B4a", "B5b", "B6", "B7c"} <= set(claims.claim)
    spectrum = pd.read_csv(target / "spectrum.csv")
    assert spectrum.overlap.between(0, 1 + 1e-9).all()
    assert sorted(p.name for p in target.glob("*.png")) == [
        "lr_stress.png", "overlap_conv.png", "overlap_mlp.png", "perturbations.png", "santurkar.png", "spectra.png"]
