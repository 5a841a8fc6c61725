import math

import pytest

import pandas as pd

from dlclaims.suite.claims import Amendment, Claim, Estimate, Rule, at_least, at_most, between, evaluate, rule_changes


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
    claims = [Claim("X1", "lecture", "s", "stat", at_least(0))]
    table = evaluate(claims, {"X1": Estimate(1, 0.5, 1.5)})
    assert list(table.columns) == ["claim", "kind", "statement", "statistic", "value", "ci_low", "ci_high", "rule",
                                   "verdict"]
    assert table.kind.tolist() == ["lecture"] and table.rule.tolist() == ["≥ 0"]
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
    assert rule_changes(_ledger(), [same]) == []
    assert rule_changes(_ledger(rule="≥ 0.9"), [same]) == []  # the compact form of newer ledgers
    moved = Claim("A1", "lecture", "s", "share at the last layer", at_least(0.8))
    problems = rule_changes(_ledger(), [moved])
    assert len(problems) == 1 and "rule changed for A1" in problems[0] and "Amendment('A1'" in problems[0]
    restated = Claim("A1", "lecture", "s", "share at layer 5", at_least(0.9))
    assert len(rule_changes(_ledger(), [restated])) == 1
    amendment = Amendment("A1", "2026-11-23", old="share at the last layer | ≥ 0.9",
                          new="share at the last layer | ≥ 0.8", why="a reason")
    assert rule_changes(_ledger(), [moved], [amendment]) == []
    wrong_old = Amendment("A1", "2026-11-23", old="something else | ≥ 0.9", new="share at the last layer | ≥ 0.8",
                          why="a reason")
    assert len(rule_changes(_ledger(), [moved], [wrong_old])) == 1
    assert rule_changes(_ledger(), [Claim("A9", "lecture", "s", "new", at_least(0))]) == []  # new claims are free
