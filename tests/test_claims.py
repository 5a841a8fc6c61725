import math

import pytest

from dlclaims.claims import Claim, Estimate, at_least, at_most, between, evaluate


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
    assert "[0.5, 2]" in between(0.5, 2).describe()


def test_evaluate_requires_exactly_the_declared_claims():
    claims = [Claim("X1", "s", "stat", at_least(0))]
    table = evaluate(claims, {"X1": Estimate(1, 0.5, 1.5)})
    assert list(table.columns) == ["claim", "statement", "statistic", "value", "ci_low", "ci_high", "rule", "verdict"]
    assert table.verdict.tolist() == ["holds"]
    with pytest.raises(ValueError, match="missing"):
        evaluate(claims, {})
    with pytest.raises(ValueError, match="undeclared"):
        evaluate(claims, {"X1": Estimate.exact(1), "X2": Estimate.exact(1)})


def test_estimate_outside_its_interval_is_rejected():
    with pytest.raises(ValueError):
        Estimate(2.0, 0.0, 1.0)
