"""The report: verdicts counted per kind, checks shown as exact, amendments under their claims,
and a damaged results file named in one line with results/README.md left as it was."""

import json

import pandas as pd
import pytest

from dlclaims.suite import cli, report


def _edit_claims(root, **changes):
    path = root / "activation-collapse" / "claims.csv"
    table = pd.read_csv(path)
    for column, values in changes.items():
        table[column] = values
    table.to_csv(path, index=False)
    return table


def test_report_summarises_every_claim_with_figures(results_copy):
    assert cli.main(["report", "--results", str(results_copy)]) == 0
    text = (results_copy / "README.md").read_text()
    claims = pd.read_csv(results_copy / "activation-collapse" / "claims.csv")
    for claim in claims.claim:
        assert f"| {claim} " in text
    assert "![channel_densities](activation-collapse/channel_densities.png)" in text
    assert "Every channel has chosen a constant value" in text  # the lecture's sentence
    assert "smoke run: its verdicts are not the baseline's" in text


def test_summary_counts_verdicts_per_kind_and_shows_checks_as_exact(results_copy):
    n = len(pd.read_csv(results_copy / "activation-collapse" / "claims.csv"))
    kinds = ["lecture"] * (n - 3) + ["derived", "check", "check"]
    verdicts = ["holds"] * (n - 3) + ["fails", "holds", "inconclusive"]
    table = _edit_claims(results_copy, kind=kinds, verdict=verdicts)
    text = report.build(results_copy)
    assert (f"lecture claims: {n - 3} holds, 0 fails, 0 inconclusive; derived rows: 0 holds, 1 fails, "
            f"0 inconclusive; checks: 1 holds, 0 fails, 1 inconclusive") in text
    check_row = table.iloc[-1]
    assert f"{check_row.value:.4g} (exact)" in text
    assert "### Checks: identities and methods checks" in text


def test_amendments_are_printed_under_their_claim(results_copy):
    path = results_copy / "activation-collapse" / "meta.json"
    meta = json.loads(path.read_text())
    meta["amendments"] = [dict(claim="A1", date="2026-11-20", old="share | ≥ 0.8", new="share | ≥ 0.9",
                               why="a stated reason")]
    path.write_text(json.dumps(meta))
    text = report.build(results_copy)
    assert "**A1 amended 2026-11-20**: was *share | ≥ 0.8*; now *share | ≥ 0.9*. Why: a stated reason" in text


@pytest.mark.parametrize("damage, names", [
    (lambda d: (d / "claims.csv").write_text("claim,value\n\"unclosed"), "claims.csv"),
    (lambda d: (d / "claims.csv").write_text("claim,kind\nA1,lecture\n"), "missing column"),
    (lambda d: (d / "meta.json").write_text('{"analysis": "activation-collapse", '), "meta.json"),
    (lambda d: (d / "claims.csv").write_bytes((d / "claims.csv").read_bytes()[:-60]), "truncated"),
])
def test_damaged_results_are_one_line_exit_2_and_the_report_stays(results_copy, capsys, damage, names):
    assert cli.main(["report", "--results", str(results_copy)]) == 0
    before = (results_copy / "README.md").read_bytes()
    capsys.readouterr()
    damage(results_copy / "activation-collapse")
    assert cli.main(["report", "--results", str(results_copy)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and names in err[0], err
    assert (results_copy / "README.md").read_bytes() == before
    assert cli.main(["check", "--results", str(results_copy)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_an_inconclusive_row_says_how_many_seeds_would_decide_it(results_copy):
    d = results_copy / "activation-collapse"
    claims = pd.read_csv(d / "claims.csv")
    verdicts = ["inconclusive", "inconclusive"] + ["holds"] * (len(claims) - 2)
    _edit_claims(results_copy, verdict=verdicts)
    first, second, third = claims.claim[:3]
    pd.DataFrame(dict(claim=[first, second, third], seeds=[10, 10, 10],
                      seeds_to_decide=[166.0, float("inf"), 12.0])).to_csv(d / "claim_seeds.csv", index=False)
    text = report.build(results_copy)
    assert f"- **{first}** (10 seeds): about 166 seeds would decide it at the measured spread" in text
    assert f"- **{second}** (10 seeds): its mean sits on the threshold" in text
    assert f"- **{third}**" not in text  # it holds: nothing to decide
