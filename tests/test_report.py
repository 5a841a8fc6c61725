"""The report: verdicts counted per kind, checks shown as exact, amendments under their claims,
and a damaged results file named in one line with results/README.md left as it was."""

import json

import pandas as pd
import pytest

from dlclaims.suite import cli, report


def _edit_claims(root, **changes):
    """Change columns of the quick run's claims.csv; a changed verdict gets a rule that gives
    it, so the row stays consistent (the strict reader refuses a verdict its rule does not give)."""
    path = root / "activation-collapse" / "claims.csv"
    table = pd.read_csv(path)
    if "premise" not in changes:  # the edits judge each row alone
        table["premise"] = ""
    for column, values in changes.items():
        table[column] = values
    for i, row in table.iterrows():
        table.loc[i, "rule"] = _rule_giving(row)
    table.to_csv(path, index=False)
    return table


def _rule_giving(row) -> str:
    lo, hi = row.ci_low, row.ci_high
    if row.verdict == "holds":
        return "anything" if pd.isna(lo) else f"in [{lo - 1:g}, {hi + 1:g}]"
    if row.verdict == "fails":
        return f"≥ {hi + 1:g}"
    if row.verdict == "inconclusive":
        return row.rule if pd.isna(lo) else f"≥ {row.value:g}" if lo < row.value else f"≤ {row.value:g}"
    return row.rule


def test_report_summarises_every_claim_with_figures(results_copy):
    assert cli.main(["report", "--results", str(results_copy)]) == 0
    text = (results_copy / "README.md").read_text()
    claims = pd.read_csv(results_copy / "activation-collapse" / "claims.csv")
    for claim in claims.claim:
        assert f"| [{claim}](#claim-{claim.lower()}) " in text  # the summary links each claim to its row
        assert f'<a id="claim-{claim.lower()}"></a>{claim} ' in text
    assert "![channel_densities](activation-collapse/channel_densities.png)" in text
    assert "*Figure `channel_densities`: claims A1" in text  # each figure names the claims it supports
    assert "Every channel has chosen a constant value" in text  # the lecture's sentence
    assert "smoke run: its verdicts are not the baseline's" in text


def test_summary_counts_verdicts_per_kind_and_shows_checks_as_exact(results_copy):
    n = len(pd.read_csv(results_copy / "activation-collapse" / "claims.csv"))
    kinds = ["lecture"] * (n - 3) + ["derived", "check", "check"]
    verdicts = ["holds"] * (n - 3) + ["fails", "holds", "inconclusive"]
    committed = pd.read_csv(results_copy / "activation-collapse" / "claims.csv")
    exact = n - 2  # this check is exact: its interval is its value
    low, high = committed.ci_low.copy(), committed.ci_high.copy()
    low[exact] = high[exact] = committed.value[exact]
    table = _edit_claims(results_copy, kind=kinds, verdict=verdicts, ci_low=low, ci_high=high)
    text = report.build(results_copy)
    assert (f"lecture claims: {n - 3} holds, 0 fails, 0 inconclusive, 0 untestable; derived rows: 0 holds, 1 fails, "
            f"0 inconclusive, 0 untestable; checks: 1 holds, 0 fails, 1 inconclusive, 0 untestable") in text
    row = next(line for line in text.splitlines() if f"[{table.claim[exact]}](#" in line)
    cells = [c.strip() for c in row.split("|")]
    assert f"{table.value[exact]:.4g}" in cells and "exact" in cells  # the value alone; its distance says exact
    assert "### Checks: identities and methods checks" in text


def test_amendments_are_printed_under_their_claim(results_copy):
    path = results_copy / "activation-collapse" / "meta.json"
    meta = json.loads(path.read_text())
    meta["amendments"] = [dict(claim="A1", date="2026-11-20", old="share | ≥ 0.8", new="share | ≥ 0.9",
                               why="a stated reason")]
    path.write_text(json.dumps(meta))
    text = report.build(results_copy)
    assert "**A1 amended 2026-11-20** (rule): was *share | ≥ 0.8*; now *share | ≥ 0.9*. Why: a stated reason" in text


def test_every_ledger_entry_is_printed_with_the_verdict_before_and_after(results_copy):
    path = results_copy / "activation-collapse" / "meta.json"
    meta = json.loads(path.read_text())
    meta["amendments"] = [
        dict(entry="amendment", claim="A1", date="2026-12-02", old="lecture", new="derived", why="a reason",
             what="kind", was="0.5 [0.4, 0.6] fails", now="0.5 [0.4, 0.6] fails", late=True),
        dict(entry="added", claim="A2", date="2026-12-02", why="new row", late=False),
        dict(entry="retired", claim="A9", date="2026-12-02", why="merged", was="0.1 holds", late=True)]
    path.write_text(json.dumps(meta))
    text = report.build(results_copy)
    assert ("**A1 amended 2026-12-02** (recorded late) (kind): was *lecture*; now *derived*. Verdict: "
            "0.5 [0.4, 0.6] fails → 0.5 [0.4, 0.6] fails. Why: a reason") in text
    assert "**A2 added 2026-12-02**. Why: new row" in text
    assert "**A9 retired 2026-12-02** (recorded late). Last: 0.1 holds. Why: merged" in text


def test_an_untestable_row_names_its_premise_and_is_counted_apart(results_copy):
    claims = pd.read_csv(results_copy / "activation-collapse" / "claims.csv")
    first, second = claims.claim[:2]
    premise = [""] + [first] + [""] * (len(claims) - 2)
    verdicts = ["fails", "untestable"] + ["holds"] * (len(claims) - 2)
    _edit_claims(results_copy, premise=premise, verdict=verdicts)
    text = report.build(results_copy)
    assert f"- **{second}** is untestable here: its premise **{first}**" in text
    assert "1 untestable" in text and "⊘ untestable" in text


def test_a_scope_strip_shows_the_verdict_at_every_value_and_where_it_changes(results_copy):
    d = results_copy / "activation-collapse"
    pd.DataFrame(dict(claim="A2", knob="width", at=["8", "32", "64"], headline=[False, False, True],
                      value=[0.15, 0.21, 0.37], ci_low=[0.12, 0.17, 0.33], ci_high=[0.18, 0.25, 0.41],
                      verdict=["fails", "inconclusive", "holds"])).to_csv(d / "claim_scope.csv", index=False)
    text = report.build(results_copy)
    assert ("- **A2** by `width`: 8 ❌ 0.15 [0.12, 0.18] · 32 ❔ 0.21 [0.17, 0.25] · 64 (lecture) ✅ 0.37 [0.33, 0.41]; "
            "the verdict changes between 8 → 32, 32 → 64") in text


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


def test_the_distance_counts_interval_half_widths_to_the_nearest_boundary():
    from dlclaims.suite.claim_view import distance, distance_text, effect_note

    assert distance(0.8, 0.7, 0.9, "≥ 0.5") == pytest.approx(3.0)       # holds: 0.3 / 0.1
    assert distance(0.4, 0.2, 0.5, "≥ 0.5") == pytest.approx(-1.0)      # outside, upper half-width 0.1
    assert distance(0.1, 0.05, 0.2, "≤ 0.4", log=True) == pytest.approx(2.0)  # log(4) / log(2)
    assert distance_text(-250.0) == "< −100" and distance_text(-0.44) == "−0.4"
    assert distance(0.52, 0.42, 0.62, "≥ 0.5") == pytest.approx(0.2)    # undecided
    assert distance(1.0, 0.95, 1.1, "in [0.5, 2]") == pytest.approx(10)  # nearest end 0.5, lower half 0.05
    assert distance_text(distance(3.0, 3.0, 3.0, "≤ 1e-12")) == "exact"
    assert distance_text(distance(0.1, 0.0, 0.2, "anything")) == ""
    note = {"null": 0.0}
    assert effect_note(0.01, "≥ 0.02", note, "lecture") == "small"      # inside the declared margin
    assert effect_note(0.05, "≥ 0.02", note, "lecture") == ""
    assert effect_note(0.001, "≥ 0", None, "derived") == "no margin"     # a sign-only derived rule
    assert effect_note(0.001, "≥ 0", None, "check") == ""


def test_lecture_ids_become_course_names_and_numbers_stay():
    from dlclaims.suite.lectures import cite

    assert cite('"x" (003); 004\'s slide; `000`') == '"x" (Tsinghua IIIS); Harbour Space\'s slide; `JHU EN.601.482`'
    numbers = "0.003, 1,000, 1e-004, [0.001, 0.004], 1_000, v0.002, K = 20 000, 20\u202f000"
    assert cite(numbers) == numbers


def test_the_report_names_no_issue_and_no_bare_lecture_id(results_copy):
    import re

    text = report.build(results_copy)
    assert not re.search(r"\bissues? \d", text, re.IGNORECASE)
    assert not re.search(r"\((00[0-4])\)|(?<![\w.,/+\-])00[0-4]'s", text)
    assert "**Tsinghua IIIS**: Tsinghua University IIIS" in text  # the key, once
