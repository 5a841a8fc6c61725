"""`dlclaims show CLAIM`: one claim from the results alone, as text and as JSON, without torch."""

import json
import math
import subprocess
import sys

import pandas as pd
import pytest

from dlclaims.suite import cli


def test_show_prints_the_claim_its_rule_value_seeds_and_lecture(results_copy, capsys):
    claims = pd.read_csv(results_copy / "activation-collapse" / "claims.csv")
    row = claims.iloc[0]
    assert cli.main(["show", row.claim.lower(), "--results", str(results_copy)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{row.claim} ({row.kind})")
    for text in (row.statement, row.rule, row.verdict, "lecture:", "per seed"):
        assert text in out


def test_show_json_parses_and_matches_claims_csv(results_copy, capsys):
    claims = pd.read_csv(results_copy / "activation-collapse" / "claims.csv").set_index("claim")
    claim = claims.index[0]
    assert cli.main(["show", claim, "--json", "--results", str(results_copy)]) == 0
    view = json.loads(capsys.readouterr().out)
    assert view["claim"] == claim and view["family"] == "activation-collapse"
    assert view["value"] == pytest.approx(claims.value[claim])
    samples = pd.read_csv(results_copy / "activation-collapse" / "claim_samples.csv")
    assert view["samples"] == pytest.approx(list(samples[samples.claim == claim].value))
    seeds = pd.read_csv(results_copy / "activation-collapse" / "claim_seeds.csv").set_index("claim")
    if claim in seeds.index and seeds.summary[claim] == "mean":  # the samples are what the interval averaged
        assert sum(view["samples"]) / len(view["samples"]) == pytest.approx(seeds.per_seed_mean[claim])
    assert all(not (isinstance(v, float) and math.isnan(v)) for v in view.values())


def test_an_unknown_claim_is_one_line_exit_2(results_copy, capsys):
    assert cli.main(["show", "A999", "--results", str(results_copy)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no claim 'A999'" in err[0]


def test_list_show_and_version_never_import_torch_or_an_analysis():
    code = ("import sys; from dlclaims.suite import cli; cli.main(['list']); "
            "assert 'torch' not in sys.modules and 'pandas' not in sys.modules, sorted(sys.modules); "
            "assert not any(m.startswith('dlclaims_analyses') for m in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "activation-collapse" in out
    version = subprocess.run([sys.executable, "-m", "dlclaims", "--version"], capture_output=True,
                             text=True)
    assert version.returncode == 0 and version.stdout.startswith("dlclaims ")


def test_progress_outside_a_terminal_is_a_line_every_few_seconds(capsys):
    from dlclaims.suite.progress import Ticker

    quiet = Ticker(10, "family", every=3600, enabled=True)
    assert [quiet.tick() for _ in range(10)] == [None] * 10  # work shorter than the interval prints nothing
    ticker = Ticker(4, "family", every=0.0, enabled=True)
    lines = [ticker.tick() for _ in range(4)]
    assert lines[0].startswith("family: 1/4 units, ") and "left" in lines[0]
    assert lines[-1].startswith("family: 4/4 units") and "left" not in lines[-1]
    assert capsys.readouterr().err.splitlines() == lines
    assert Ticker(4, "x", every=0.0, enabled=False).tick() is None  # in a terminal the bar shows it


def test_a_figure_title_states_its_claims_results_with_one_estimate_per_run():
    from dlclaims.suite import plots
    from dlclaims.suite.claims import Claim, Estimate, Scope, at_least, at_most

    claims = [Claim("X1", "derived", "s", "f", at_least(0.5)),
              Claim("X2", "derived", "s", "f", at_most(1.0), scope=Scope("width", 64))]
    calls = []

    def estimate(tables, cfg):
        calls.append(1)
        return {"X1": Estimate(0.8, 0.7, 0.9), "X2": {32: Estimate(0.2, 0.1, 0.3), 64: Estimate(2.0, 1.5, 2.5)}}

    tables, cfg = {}, object()
    assert plots.result_line(claims, estimate, tables, cfg, "X1") == "X1 0.8 [0.7, 0.9] holds"
    assert plots.result_line(claims, estimate, tables, cfg, "X1", "X2") == ("X1 0.8 [0.7, 0.9] holds; "
                                                                          "X2 2 [1.5, 2.5] fails")  # the headline
    assert len(calls) == 1
    claims.append(Claim("X3", "derived", "s", "f", at_least(0.0), premise="X2"))  # X2 fails: X3 untestable
    calls.clear()
    estimate_x3 = lambda tables, cfg: {**estimate(tables, cfg), "X3": Estimate(1.0, 0.9, 1.1)}  # noqa: E731
    assert plots.result_line(claims, estimate_x3, tables, cfg, "X3") == "X3 1 [0.9, 1.1] untestable"
