import math

import pytest

import pandas as pd

from dlclaims.suite.claims import (Added, Amendment, Claim, Estimate, Retired, Rule, Scope, at_least, at_most, between,
                                   evaluate, exceeds, falls_below, ledger_problems, scope_table,
                                   within)


def test_verdict_looks_at_the_whole_interval():
    rule = at_least(0.9)
    assert rule.verdict(Estimate(0.95, 0.92, 0.98)) == "holds"
    assert rule.verdict(Estimate(0.85, 0.80, 0.88)) == "fails"
    assert rule.verdict(Estimate(0.91, 0.85, 0.97)) == "inconclusive"
    assert rule.verdict(Estimate(math.nan, math.nan, math.nan)) == "inconclusive"
    assert at_most(0.05).verdict(Estimate(0.2, 0.1, 0.3)) == "fails"
    assert between(0.9, 1.1).verdict(Estimate(1.0, 0.95, 1.05)) == "holds"
    assert between(0.9, 1.1).verdict(Estimate(1.3, 1.2, 1.4)) == "fails"
    assert between(0.9, 1.1).verdict(Estimate.exact(1.1)) == "holds"


def test_rule_description_names_the_region():
    assert "≥ 0.9" in at_least(0.9).describe()
    assert between(0.5, 2).region() == "in [0.5, 2]"
    assert at_most(0.05).region() == "≤ 0.05"


def test_evaluate_requires_exactly_the_declared_claims():
    claims = [Claim("X1", "lecture", "s", "stat", exceeds(0, 0.1, "a reason"))]
    table = evaluate(claims, {"X1": Estimate(1, 0.5, 1.5)})
    assert list(table.columns) == ["claim", "kind", "statement", "statistic", "value", "ci_low", "ci_high", "rule",
                                   "premise", "setup", "verdict"]
    assert table.kind.tolist() == ["lecture"] and table.rule.tolist() == ["≥ 0.1"]
    assert table.verdict.tolist() == ["holds"]
    with pytest.raises(ValueError, match="missing"):
        evaluate(claims, {})
    with pytest.raises(ValueError, match="undeclared"):
        evaluate(claims, {"X1": Estimate.exact(1), "X2": Estimate.exact(1)})


def test_estimate_outside_its_interval_is_rejected():
    with pytest.raises(ValueError):
        Estimate(2.0, 0.0, 1.0)


def test_a_claim_has_a_known_kind_and_a_lecture_rule_can_fail():
    with pytest.raises(ValueError, match="kind 'quote'"):
        Claim("X1", "quote", "s", "stat", at_least(0))
    with pytest.raises(ValueError, match="can fail"):
        Claim("X1", "lecture", "s", "stat", Rule())
    Claim("X1", "derived", "s", "stat", Rule())  # a derived row may be descriptive


def _ledger(statistic="share at the last layer", rule="holds if the 95% CI is ≥ 0.9; fails if it lies wholly outside"):
    return pd.DataFrame([dict(claim="A1", statistic=statistic, rule=rule)])


def test_an_unrecorded_rule_change_is_refused_and_a_recorded_one_accepted():
    same = Claim("A1", "lecture", "s", "share at the last layer", at_least(0.9))
    assert ledger_problems(_ledger(), [same]) == []
    assert ledger_problems(_ledger(rule="≥ 0.9"), [same]) == []  # the compact form of newer ledgers
    moved = Claim("A1", "lecture", "s", "share at the last layer", at_least(0.8))
    problems = ledger_problems(_ledger(), [moved])
    assert len(problems) == 1 and "rule changed for A1" in problems[0] and "Amendment('A1'" in problems[0]
    restated = Claim("A1", "lecture", "s", "share at layer 5", at_least(0.9))
    assert len(ledger_problems(_ledger(), [restated])) == 1
    amendment = Amendment("A1", "2026-11-23", old="share at the last layer | ≥ 0.9",
                          new="share at the last layer | ≥ 0.8", why="a reason")
    assert ledger_problems(_ledger(), [moved], [amendment]) == []
    wrong_old = Amendment("A1", "2026-11-23", old="something else | ≥ 0.9", new="share at the last layer | ≥ 0.8",
                          why="a reason")
    assert len(ledger_problems(_ledger(), [moved], [wrong_old])) == 1
    new = Claim("A9", "lecture", "s", "new", at_least(0.5))
    assert len(ledger_problems(_ledger(), [same, new])) == 1  # a new row needs an Added entry
    assert ledger_problems(_ledger(), [same, new], [Added("A9", "2026-12-02", why="a reason")]) == []


# --- effect sizes ------------------------------------------------------------------------------

@pytest.mark.parametrize("rule", [at_least(0), at_most(0), at_most(1), at_least(1), at_least(0.3, null=0.3, why="x")])
def test_a_sign_only_lecture_rule_is_refused(rule):
    with pytest.raises(ValueError, match="sign-only"):
        Claim("X1", "lecture", "s", "difference", rule)
    Claim("X1", "derived", "s", "difference", rule)  # a derived row may describe a sign


def test_a_margin_needs_its_reason_and_builds_the_region_from_no_effect():
    assert exceeds(0, 0.0056, "two test images of 360").region() == "≥ 0.0056"
    assert falls_below(1, 0.5, "half").region() == "≤ 0.5"
    assert within(0, 0.01, "an equivalence band").region() == "in [-0.01, 0.01]"
    with pytest.raises(ValueError, match="reason"):
        Claim("X1", "lecture", "s", "difference", at_least(0.01, null=0.0))
    # the reason is not part of what the ledger signs
    assert exceeds(0, 0.1, "one").region() == exceeds(0, 0.1, "another").region()


# --- premises and scope -------------------------------------------------------------------------

def test_a_claim_whose_premise_does_not_hold_is_untestable():
    control = Claim("P", "derived", "the effect can show", "positive control", at_least(0.5))
    claim = Claim("X", "lecture", "s", "difference", exceeds(0, 0.1, "a reason"), premise="P")
    after = Claim("Y", "derived", "s", "difference", at_least(0.2), premise="X")
    ok = {"P": Estimate(0.9, 0.8, 1.0), "X": Estimate(0.3, 0.2, 0.4), "Y": Estimate(0.3, 0.25, 0.35)}
    assert evaluate([control, claim, after], ok).verdict.tolist() == ["holds", "holds", "holds"]
    for premise in (Estimate(0.1, 0.0, 0.2), Estimate(0.5, 0.3, 0.7)):  # fails, inconclusive
        table = evaluate([control, claim, after], {**ok, "P": premise})
        assert table.verdict.tolist()[1:] == ["untestable", "untestable"]
        assert table.premise.tolist() == ["", "P", "X"]
    with pytest.raises(ValueError, match="own premise"):
        Claim("X", "lecture", "s", "d", exceeds(0, 0.1, "r"), premise="X")


def test_a_scoped_claim_is_judged_at_every_value_and_headlined_at_the_lectures():
    claim = Claim("B5", "lecture", "s", "fraction", at_least(0.2), scope=Scope("width", 64, "Page's widths"))
    by_width = {8: Estimate(0.15, 0.12, 0.18), 32: Estimate(0.21, 0.17, 0.25), 64: Estimate(0.37, 0.33, 0.41)}
    row = evaluate([claim], {"B5": by_width}).iloc[0]
    assert (row.value, row.verdict) == (0.37, "holds")
    strip = scope_table([claim], {"B5": by_width})
    assert strip.verdict.tolist() == ["fails", "inconclusive", "holds"] and strip.headline.tolist() == [False, False, True]
    missing = evaluate([Claim("B5", "lecture", "s", "f", at_least(0.2), scope=Scope("width", 512))], {"B5": by_width})
    assert missing.verdict.tolist() == ["inconclusive"]


# --- the ledger signs kind, statement, rule, premise and set-up ---------------------------------

def _committed(**row):
    base = dict(claim="A1", kind="lecture", statement="s", statistic="share", rule="≥ 0.9", premise="",
                setup="width=2048; depth=50", verdict="holds")
    return pd.DataFrame([{**base, **row}])


class Cfg:
    width, depth = 2048, 50


@pytest.mark.parametrize("change, what", [
    (dict(kind="derived"), "kind"),
    (dict(statement="a different sentence"), "statement"),
    (dict(rule=at_least(0.8)), "rule"),
    (dict(premise="A0"), "premise"),
])
def test_every_signed_part_changed_without_an_entry_is_refused(change, what):
    declared = dict(id="A1", kind="lecture", statement="s", statistic="share", rule=at_least(0.9),
                    setup=("width", "depth"))
    claim = Claim(**{**declared, **change})
    extra = [Claim("A0", "derived", "c", "control", at_least(0.5))] if what == "premise" else []
    problems = ledger_problems(_committed(), [claim, *extra], [Added("A0", "2026-12-02", "control")], Cfg)
    assert len(problems) == 1 and problems[0].startswith(f"{what} changed for A1")
    old_text = {"kind": "lecture", "statement": "s", "rule": "share | ≥ 0.9", "premise": ""}[what]
    new_text = claim.signed(Cfg)[what]
    entry = Amendment("A1", "2026-12-02", old=old_text, new=new_text, why="a reason", what=what,
                      was="0.95 [0.92, 0.98] holds", now="0.95 [0.92, 0.98] holds")
    assert ledger_problems(_committed(), [claim, *extra], [entry, Added("A0", "2026-12-02", "control")], Cfg) == []


def test_a_changed_set_up_value_needs_an_amendment():
    claim = Claim("A1", "lecture", "s", "share", at_least(0.9), setup=("width", "depth"))
    assert ledger_problems(_committed(), [claim], [], Cfg) == []

    class Narrow:
        width, depth = 256, 50

    problems = ledger_problems(_committed(), [claim], [], Narrow)
    assert len(problems) == 1 and "setup changed for A1" in problems[0] and "width=256" in problems[0]
    entry = Amendment("A1", "2026-12-02", old="width=2048; depth=50", new="width=256; depth=50", why="r", what="setup")
    assert ledger_problems(_committed(), [claim], [entry], Narrow) == []


def test_a_removed_row_needs_a_retired_entry():
    assert len(ledger_problems(_committed(), [], [])) == 1
    assert ledger_problems(_committed(), [], [Retired("A1", "2026-12-02", why="r", was="0.9 holds")]) == []
