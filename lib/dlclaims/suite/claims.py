"""Claims: declared before the run, judged from measurements with uncertainty.

An analysis lists its claims at module level (id, kind, statement, statistic, rule); after
the run it supplies one :class:`Estimate` per claim, and :func:`evaluate` computes verdicts.
The rule looks at the whole confidence interval, so a verdict can come out ``fails``:

- ``holds``        the interval lies inside the allowed region;
- ``fails``        the interval lies wholly outside it;
- ``inconclusive`` the interval straddles a boundary (or the estimate is NaN).

Each claim has a kind, so the report never counts an identity as evidence for a lecture:

- ``lecture``  a sentence of a lecture (quoted in the catalogue); its rule must be able to fail;
- ``derived``  a consequence the suite adds to explain or bound a lecture claim;
- ``check``    an identity or a methods check whose value is exact up to rounding.

The committed ``claims.csv`` is the ledger of what was declared. A claim whose statistic or
rule changes after it was first committed carries an :class:`Amendment` (old, new, why);
``dlclaims check`` and the test suite refuse a change that has none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pandas as pd

HOLDS, FAILS, INCONCLUSIVE = "holds", "fails", "inconclusive"
LECTURE, DERIVED, CHECK = "lecture", "derived", "check"
KINDS = (LECTURE, DERIVED, CHECK)
SCALES = ("mean", "log")
CLAIM_COLUMNS = ["claim", "kind", "statement", "statistic", "value", "ci_low", "ci_high", "rule", "verdict"]


@dataclass(frozen=True)
class Estimate:
    """A measured statistic with its confidence interval (95% unless said otherwise).

    ``samples`` are the per-seed values the interval was computed from, on the interval's
    own ``scale`` ("mean": the statistic is their mean; "log": the statistic is the exp of
    their mean, a geometric mean); the runner writes them to ``claim_seeds.csv`` with the
    seed count that would decide the row at their spread.
    """

    value: float
    ci_low: float
    ci_high: float
    samples: tuple[float, ...] = field(default=(), compare=False, repr=False)
    scale: str = field(default="mean", compare=False, repr=False)

    @classmethod
    def exact(cls, value: float) -> "Estimate":
        """A deterministic quantity (e.g. a max abs difference): the interval is the point."""
        return cls(float(value), float(value), float(value))

    def __post_init__(self) -> None:
        if not any(math.isnan(x) for x in (self.value, self.ci_low, self.ci_high)):
            if not self.ci_low <= self.value <= self.ci_high:
                raise ValueError(f"estimate {self.value} outside its interval [{self.ci_low}, {self.ci_high}]")
        if self.scale not in SCALES:
            raise ValueError(f"estimate scale '{self.scale}' is not one of {', '.join(SCALES)}")


@dataclass(frozen=True)
class Rule:
    """The allowed region [lo, hi] for a statistic; either side may be infinite."""

    lo: float = -math.inf
    hi: float = math.inf

    def region(self) -> str:
        """The region in a few characters: '≤ 0.05', '≥ 0.9', 'in [0.5, 2]'."""
        if math.isinf(self.lo) and math.isinf(self.hi):
            return "anything"
        if math.isinf(self.lo):
            return f"≤ {self.hi:g}"
        if math.isinf(self.hi):
            return f"≥ {self.lo:g}"
        return f"in [{self.lo:g}, {self.hi:g}]"

    def describe(self) -> str:
        return f"holds if the 95% CI is {self.region()}; fails if it lies wholly outside"

    def nearest_boundary(self, value: float) -> float:
        """The finite end of the region closest to ``value`` (NaN if neither is finite)."""
        ends = [b for b in (self.lo, self.hi) if math.isfinite(b)]
        if not ends or math.isnan(value):
            return math.nan
        return min(ends, key=lambda b: abs(b - value))

    def can_fail(self) -> bool:
        return not (math.isinf(self.lo) and math.isinf(self.hi))

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
    """One claim row: its catalogue id, kind, the sentence, what is measured and the rule."""

    id: str
    kind: str
    statement: str
    statistic: str
    rule: Rule

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id}: kind '{self.kind}' is not one of {', '.join(KINDS)}")
        if self.kind == LECTURE and not self.rule.can_fail():
            raise ValueError(f"claim {self.id}: a lecture claim needs a rule that can fail")

    @property
    def signature(self) -> str:
        """What the ledger compares: the statistic and the rule's region."""
        return signature(self.statistic, self.rule.region())


def signature(statistic: str, region: str) -> str:
    return f"{statistic} | {region}"


@dataclass(frozen=True)
class Amendment:
    """A change of a claim's statistic or rule after it was first committed, and why.

    ``old`` and ``new`` are signatures (``statistic | region``) as the ledger shows them;
    historical amendments made before the ledger existed describe them in words.
    """

    claim: str
    date: str
    old: str
    new: str
    why: str


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
                kind=claim.kind,
                statement=claim.statement,
                statistic=claim.statistic,
                value=est.value,
                ci_low=est.ci_low,
                ci_high=est.ci_high,
                rule=claim.rule.region(),
                verdict=claim.rule.verdict(est),
            )
        )
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def rule_changes(committed: pd.DataFrame, claims: Sequence[Claim],
                 amendments: Sequence[Amendment] = ()) -> list[str]:
    """Claims whose declared statistic or rule differs from the committed ledger without an
    amendment saying so (old = the committed signature, new = the declared one).

    A claim that is new, or was removed, is not a rule change.
    """
    recorded = {(a.claim, a.old, a.new) for a in amendments}
    problems = []
    for claim in claims:
        rows = committed[committed.claim == claim.id]
        if rows.empty:
            continue
        row = rows.iloc[0]
        old = signature(str(row.statistic), _committed_region(str(row.rule)))
        if old == claim.signature or (claim.id, old, claim.signature) in recorded:
            continue
        problems.append(
            f"rule changed for {claim.id}: committed '{old}', declared '{claim.signature}'; "
            f"record it in AMENDMENTS as Amendment({claim.id!r}, 'YYYY-MM-DD', old={old!r}, "
            f"new={claim.signature!r}, why='...')"
        )
    return problems


def _committed_region(rule: str) -> str:
    """The region of a committed rule cell (ledgers before kinds stored the long sentence)."""
    prefix, suffix = "holds if the 95% CI is ", "; fails if it lies wholly outside"
    if rule.startswith(prefix) and rule.endswith(suffix):
        return rule[len(prefix):-len(suffix)]
    return rule
