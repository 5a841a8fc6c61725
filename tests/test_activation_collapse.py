"""activation-collapse: its statistics on hand-computed cases, and a --quick smoke run."""

import math
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch

from dlclaims import analysis

ac = analysis.load("activation-collapse")


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


def test_xavier_relu_is_he_relu_scaled_by_two_to_the_minus_half_per_layer():
    """ReLU is positively homogeneous: with shared draws the two networks differ by 2^(-l/2)."""
    g = torch.Generator().manual_seed(0)
    x, draws = torch.randn(16, 32, generator=g), torch.rand(6, 32, 32, generator=g) * 2 - 1
    he, xavier = ac.VARIANTS["he_relu"], ac.VARIANTS["xavier_relu"]
    zh = [z for z, _ in ac.forward(x, draws, ac.weight_scale(he, 32), he)]
    zx = [z for z, _ in ac.forward(x, draws, ac.weight_scale(xavier, 32), xavier)]
    for layer, (a, b) in enumerate(zip(zh, zx), start=1):
        torch.testing.assert_close(b, a * 2 ** (-layer / 2))


def test_quick_run_writes_the_results_contract(quick_results):
    out = quick_results / "activation-collapse"
    claims = pd.read_csv(out / "claims.csv")
    assert claims.claim.tolist() == ["A1", "A2", "A3", "A4", "A5", "A6a", "A6b", "A6c", "A6d"]
    assert set(claims.verdict) <= {"holds", "fails", "inconclusive"}
    assert (claims.ci_low <= claims.value).all() and (claims.value <= claims.ci_high).all()
    for name in ("layers.csv", "summary.csv", "init_study.csv", "densities.csv", "meta.json",
                 "channel_densities.png", "collapse_vs_depth.png", "variance_vs_depth.png"):
        assert (out / name).is_file(), name
    layers = pd.read_csv(out / "layers.csv")
    assert set(layers.variant) == set(ac.PAGE_VARIANTS) and layers.seed.nunique() == 5


def test_same_command_twice_gives_byte_identical_csvs(quick_results, tmp_path):
    again = analysis.run(ac, ["--quick", "--out", str(tmp_path)], quiet=True)
    for csv in sorted((quick_results / "activation-collapse").glob("*.csv")):
        assert (again / csv.name).read_bytes() == csv.read_bytes(), csv.name


def test_ctrl_c_during_a_run_leaves_previous_results_intact(results_copy):
    target = results_copy / "activation-collapse"
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    # a default-fidelity run takes about a minute; interrupt it while it computes
    proc = subprocess.Popen([sys.executable, "-m", "dlclaims", "run", "activation-collapse",
                             "--out", str(results_copy)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "CI": "1"})
    time.sleep(6)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0, "the run finished before it could be interrupted"
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert sorted(p.name for p in results_copy.iterdir()) == ["activation-collapse"]
