"""Smoke test of the sgd-uncertainty analysis at --quick fidelity."""

import pandas as pd
import pytest

from dlclaims import analysis


def test_quick_run_writes_all_claims(tmp_path):
    module = analysis.load("sgd-uncertainty")
    out = analysis.run(module, ["--quick", "--chains", "16", "--steps", "1000", "--out", str(tmp_path)], quiet=True)
    claims = pd.read_csv(out / "claims.csv")
    assert set(claims.claim) == {c.id for c in module.CLAIMS}
    assert set(claims.verdict) <= {"holds", "fails", "inconclusive"}
    assert {"gap_vs_k.png", "plateau_vs_h.png", "schedules.png", "plateau_vs_b.png"} <= {p.name for p in out.iterdir()}


def test_bad_arguments_are_refused(tmp_path):
    module = analysis.load("sgd-uncertainty")
    with pytest.raises(analysis.UsageError):
        analysis.run(module, ["--chains", "1", "--out", str(tmp_path)], quiet=True)
