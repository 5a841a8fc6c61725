"""Claims: declared before the run, judged from measurements with uncertainty.

An analysis lists its claims at module level (id, statement, statistic, rule); after the
run it supplies one :class:`Estimate` per claim, and :func:`evaluate` computes verdicts.
The rule looks at the whole confidence interval, so a verdict can come out ``fails``:

- ``holds``        the interval lies inside the allowed region;
- ``fails``        the interval lies wholly outside it;
- ``inconclusive`` the interval straddles a boundary (or the estimate is NaN).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import pandas as pd

HOLDS, FAILS, INCONCLUSIVE = "holds", "fails", "inconclusive"
CLAIM_COLUMNS = ["claim", "statement", "statistic", "value", "ci_low", "ci_high", "rule", "verdict"]


@dataclass(frozen=True)
class Estimate:
    """A measured statistic with its confidence interval (95% unless said otherwise)."""

    value: float
    ci_low: float
    ci_high: float

    @classmethod
    def exact(cls, value: float) -> "Estimate":
        """A deterministic quantity (e.g. a max abs difference): the interval is the point."""
        return cls(float(value), float(value), float(value))

    def __post_init__(self) -> None:
        if not any(math.isnan(x) for x in (self.value, self.ci_low, self.ci_high)):
            if not self.ci_low <= self.value <= self.ci_high:
                raise ValueError(f"estimate {self.value} outside its interval [{self.ci_low}, {self.ci_high}]")


@dataclass(frozen=True)
class Rule:
    """The allowed region [lo, hi] for a statistic; either side may be infinite."""

    lo: float = -math.inf
    hi: float = math.inf

    def describe(self) -> str:
        if math.isinf(self.lo):
            region = f"≤ {self.hi:g}"
        elif math.isinf(self.hi):
            region = f"≥ {self.lo:g}"
        else:
            region = f"in [{self.lo:g}, {self.hi:g}]"
        return f"holds if the 95% CI is {region}; fails if it lies wholly outside"

    def verdict(self, estimate: Estimate) -> str:
        lo, hi = estimate.ci_low, estimate.ci_high
        if any(math.isnan(x) for x in (estimate.value, lo, hi)):
            return INCONCLUSIVE
        if self.lo <= lo and hi <= self.hi:
            return HOLDS
        if hi < self.lo or lo > self.hi:
            return FAILS
        return INCONCLUSIVE


def at_least(threshold: float) -> Rule:
    return Rule(lo=threshold)


def at_most(threshold: float) -> Rule:
    return Rule(hi=threshold)


def between(lo: float, hi: float) -> Rule:
    if lo > hi:
        raise ValueError(f"empty rule region [{lo}, {hi}]")
    return Rule(lo=lo, hi=hi)


@dataclass(frozen=True)
class Claim:
    """One lecture claim: its catalogue id, the sentence, what is measured and the rule."""

    id: str
    statement: str
    statistic: str
    rule: Rule


def evaluate(claims: Sequence[Claim], estimates: Mapping[str, Estimate]) -> pd.DataFrame:
    """The ``claims.csv`` table: one row per declared claim, verdict computed from data."""
    missing = [c.id for c in claims if c.id not in estimates]
    extra = sorted(set(estimates) - {c.id for c in claims})
    if missing or extra:
        raise ValueError(f"estimates do not match the declared claims: missing {missing}, undeclared {extra}")
    rows = []
    for claim in claims:
        est = estimates[claim.id]
        rows.append(
            dict(
                claim=claim.id,
                statement=claim.statement,
                statistic=claim.statistic,
                value=est.value,
                ci_low=est.ci_low,
                ci_high=est.ci_high,
                rule=claim.rule.describe(),
                verdict=claim.rule.verdict(est),
            )
        )
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)
