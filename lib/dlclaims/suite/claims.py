"""Claims: declared before the run, judged from measurements with uncertainty.

An analysis lists its claims at module level (id, kind, statement, statistic, rule, and where
needed a premise, the set-up values it depends on and a scope); after the run it supplies one
:class:`Estimate` per claim (per scope value), and :func:`evaluate` computes verdicts. The rule
looks at the whole confidence interval, so a verdict can come out ``fails``:

- ``holds``        the interval lies inside the allowed region;
- ``fails``        the interval lies wholly outside it;
- ``inconclusive`` the interval straddles a boundary (or the estimate is NaN);
- ``untestable``   the claim's premise (a positive control showing the effect can appear in
                   this set-up) does not hold, so the set-up cannot judge the claim at all.

Each claim has a kind, so the report never counts an identity as evidence for a lecture:

- ``lecture``  a sentence of a lecture (quoted in the catalogue); its rule must be able to fail,
               and a comparison must exclude a declared neighbourhood of "no effect" (a margin
               with its one-line reason, :func:`exceeds`, :func:`falls_below`, :func:`within`);
- ``derived``  a consequence or control the suite adds, or a judgement outside the lecture's set-up;
- ``check``    an identity, a theorem bound or a methods check: it can only fail through a bug.

A claim with a :class:`Scope` names the knob it does not mention but that can move its verdict
(width, steps, δ…): the estimate is computed at every swept value, the report shows the verdict
at each, and the headline is the one at the value the lecture means.

The committed ``claims.csv`` is the ledger: it signs each row's kind, statement, statistic,
rule, premise and set-up values. Any later change is an :class:`Amendment` (what, old, new, why,
and the verdict before → after); a new row is :class:`Added`, a removed one :class:`Retired`.
``dlclaims check`` and the test suite refuse a change that has no entry (:func:`ledger_problems`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence, Union

if TYPE_CHECKING:
    import pandas as pd

HOLDS, FAILS, INCONCLUSIVE, UNTESTABLE = "holds", "fails", "inconclusive", "untestable"
VERDICTS = (HOLDS, FAILS, INCONCLUSIVE, UNTESTABLE)
LECTURE, DERIVED, CHECK = "lecture", "derived", "check"
KINDS = (LECTURE, DERIVED, CHECK)
SCALES = ("mean", "log")
CLAIM_COLUMNS = ["claim", "kind", "statement", "statistic", "value", "ci_low", "ci_high", "rule", "premise",
                 "setup", "verdict"]
SCOPE_COLUMNS = ["claim", "knob", "at", "headline", "value", "ci_low", "ci_high", "verdict"]
SIGNED = ("kind", "statement", "rule", "premise", "setup")  # what the ledger compares, per row


@dataclass(frozen=True)
class Estimate:
    """A measured statistic with its confidence interval (95% unless said otherwise).

    ``samples`` are the per-seed values the interval was computed from (``n`` their count where
    the interval came from elsewhere, a bootstrap or a proportion), on the interval's own ``scale`` ("mean": the statistic is their mean; "log": the statistic is the exp of
    their mean, a geometric mean); the runner writes them to ``claim_seeds.csv`` with the
    seed count that would decide the row at their spread.
    """

    value: float
    ci_low: float
    ci_high: float
    samples: tuple[float, ...] = field(default=(), compare=False, repr=False)
    scale: str = field(default="mean", compare=False, repr=False)
    n: int = field(default=0, compare=False, repr=False)  # replicates behind an interval without samples

    @property
    def replicates(self) -> int:
        return len(self.samples) or self.n

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
    """The allowed region [lo, hi] for a statistic; either side may be infinite.

    ``null`` is the statistic's "no effect" value for a comparison (0 for a difference, 1 for a
    ratio) and ``why`` the one-line reason for the margin between it and the region; neither
    is part of the region the ledger signs."""

    lo: float = -math.inf
    hi: float = math.inf
    null: float = field(default=math.nan, compare=False)
    why: str = field(default="", compare=False)

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

    def can_fail(self) -> bool:
        return not (math.isinf(self.lo) and math.isinf(self.hi))

    def one_sided(self) -> bool:
        return math.isinf(self.lo) != math.isinf(self.hi)

    def sign_only(self) -> bool:
        """A one-sided rule whose threshold is its own "no effect" value (declared, or else 0
        or 1, the null of a difference or a ratio): any effect at all, however small, passes."""
        if not self.one_sided():
            return False
        threshold = self.hi if math.isinf(self.lo) else self.lo
        return threshold == self.null if math.isfinite(self.null) else threshold in (0.0, 1.0)

    def verdict(self, estimate: Estimate) -> str:
        lo, hi = estimate.ci_low, estimate.ci_high
        if any(math.isnan(x) for x in (estimate.value, lo, hi)):
            return INCONCLUSIVE
        if self.lo <= lo and hi <= self.hi:
            return HOLDS
        if hi < self.lo or lo > self.hi:
            return FAILS
        return INCONCLUSIVE

    def nearest_boundary(self, value: float) -> float:
        """The finite end of the region closest to ``value`` (NaN if neither is finite)."""
        ends = [b for b in (self.lo, self.hi) if math.isfinite(b)]
        if not ends or math.isnan(value):
            return math.nan
        return min(ends, key=lambda b: abs(b - value))


def at_least(threshold: float, null: float = math.nan, why: str = "") -> Rule:
    return Rule(lo=threshold, null=null, why=why)


def at_most(threshold: float, null: float = math.nan, why: str = "") -> Rule:
    return Rule(hi=threshold, null=null, why=why)


def between(lo: float, hi: float, null: float = math.nan, why: str = "") -> Rule:
    if lo > hi:
        raise ValueError(f"empty rule region [{lo}, {hi}]")
    return Rule(lo=lo, hi=hi, null=null, why=why)


def rule_of_region(text: str) -> Rule:
    """The rule a region text describes ('≥ 0.9', '≤ 0.05', 'in [0.5, 2]', 'anything'; the long
    sentence of older ledgers too): the inverse of :meth:`Rule.region`."""
    text = _committed_region(text.strip())
    try:
        if text == "anything":
            return Rule()
        if text.startswith("≥ "):
            return at_least(float(text[2:]))
        if text.startswith("≤ "):
            return at_most(float(text[2:]))
        if text.startswith("in [") and text.endswith("]"):
            lo, hi = (float(t) for t in text[4:-1].split(","))
            return between(lo, hi)
    except ValueError:
        pass
    raise ValueError(f"not a rule region: '{text}'")


def exceeds(null: float, margin: float, why: str) -> Rule:
    """An effect above "no effect" by more than ``margin``: region ≥ null + margin."""
    return at_least(null + margin, null, why)


def falls_below(null: float, margin: float, why: str) -> Rule:
    """An effect below "no effect" by more than ``margin``: region ≤ null − margin."""
    return at_most(null - margin, null, why)


def within(null: float, margin: float, why: str) -> Rule:
    """"No difference": an equivalence band of half-width ``margin`` around ``null``."""
    return between(null - margin, null + margin, null, why)


@dataclass(frozen=True)
class Scope:
    """The knob (a Config field) that can move a claim's verdict though the claim does not
    name it; the estimate gives one value per swept setting, the headline is at ``lecture``."""

    knob: str
    lecture: Any
    why: str = ""


@dataclass(frozen=True)
class Claim:
    """One claim row: its catalogue id, kind, the sentence, what is measured and the rule;
    ``premise`` the id of a control row that must hold for this one to be testable, ``setup``
    the Config fields its verdict depends on (signed by the ledger), ``scope`` its knob."""

    id: str
    kind: str
    statement: str
    statistic: str
    rule: Rule
    premise: str | None = None
    setup: tuple[str, ...] = ()
    scope: Scope | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id}: kind '{self.kind}' is not one of {', '.join(KINDS)}")
        if self.kind == LECTURE and not self.rule.can_fail():
            raise ValueError(f"claim {self.id}: a lecture claim needs a rule that can fail")
        if self.kind == LECTURE and self.rule.sign_only():
            raise ValueError(f"claim {self.id}: '{self.rule.region()}' is a sign-only lecture rule; exclude a "
                             f"declared neighbourhood of no effect (exceeds / falls_below / within, with a reason)")
        if math.isfinite(self.rule.null) and not self.rule.why:
            raise ValueError(f"claim {self.id}: the margin around no effect ({self.rule.null:g}) needs its reason (why=)")
        if self.premise == self.id:
            raise ValueError(f"claim {self.id}: a claim cannot be its own premise")

    @property
    def signature(self) -> str:
        """The legacy ledger key of the rule: the statistic and the rule's region."""
        return signature(self.statistic, self.rule.region())

    def setup_text(self, cfg) -> str:
        """The set-up values the claim names, as the ledger stores them: 'lr=0.05; steps=150'."""
        if cfg is None or not self.setup:
            return ""
        return "; ".join(f"{name}={_plain(getattr(cfg, name))}" for name in self.setup)

    def signed(self, cfg) -> dict[str, str]:
        """The parts of the row the ledger signs (see :data:`SIGNED`)."""
        return dict(kind=self.kind, statement=self.statement, rule=self.signature, premise=self.premise or "",
                    setup=self.setup_text(cfg))


def _plain(value) -> str:
    if isinstance(value, (tuple, list)):
        return ",".join(map(_plain, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def signature(statistic: str, region: str) -> str:
    return f"{statistic} | {region}"


@dataclass(frozen=True)
class Amendment:
    """A change to a committed row, and why: ``what`` changed (``rule`` — the statistic and the
    region, as ``statistic | region`` —, ``kind``, ``statement``, ``premise`` or ``setup``), the
    committed ``old`` and the declared ``new`` text, and the row's value and verdict before and
    after (``was`` → ``now``). ``late``: recorded after the fact (an audit found it unrecorded)."""

    claim: str
    date: str
    old: str
    new: str
    why: str
    what: str = "rule"
    was: str = ""
    now: str = ""
    late: bool = False


@dataclass(frozen=True)
class Added:
    """A row added to a family that already had a baseline."""

    claim: str
    date: str
    why: str
    late: bool = False


@dataclass(frozen=True)
class Retired:
    """A row removed from a family's baseline; ``was`` its last value and verdict."""

    claim: str
    date: str
    why: str
    was: str = ""
    late: bool = False


LedgerEntry = Union[Amendment, Added, Retired]


def headline(claim: Claim, estimate) -> Estimate:
    """The estimate the verdict is judged on: for a scoped claim, the one at the lecture's value."""
    if claim.scope is None:
        return estimate
    for at, est in estimate.items():
        if str(at) == str(claim.scope.lecture):
            return est
    return Estimate(math.nan, math.nan, math.nan)


def evaluate(claims: Sequence[Claim], estimates: Mapping[str, Any], cfg=None) -> pd.DataFrame:
    """The ``claims.csv`` table: one row per declared claim, verdict computed from data; a
    claim whose premise did not hold is ``untestable``."""
    missing = [c.id for c in claims if c.id not in estimates]
    extra = sorted(set(estimates) - {c.id for c in claims})
    if missing or extra:
        raise ValueError(f"estimates do not match the declared claims: missing {missing}, undeclared {extra}")
    verdicts: dict[str, str] = {}
    rows = []
    for claim in claims:
        est = headline(claim, estimates[claim.id])
        verdicts[claim.id] = claim.rule.verdict(est)
        rows.append(dict(claim=claim.id, kind=claim.kind, statement=claim.statement, statistic=claim.statistic,
                         value=est.value, ci_low=est.ci_low, ci_high=est.ci_high, rule=claim.rule.region(),
                         premise=claim.premise or "", setup=claim.setup_text(cfg), verdict=verdicts[claim.id]))
    for row in rows:
        row["verdict"] = with_premise(row["claim"], verdicts, {c.id: c.premise for c in claims})
    import pandas as pd

    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def with_premise(claim: str, verdicts: Mapping[str, str], premises: Mapping[str, str | None],
                 seen: tuple = ()) -> str:
    """``claim``'s verdict, ``untestable`` where its premise (or the premise's own) did not hold."""
    premise = premises.get(claim)
    if not premise or premise in seen:
        return verdicts[claim]
    if with_premise(premise, verdicts, premises, seen + (claim,)) != HOLDS:
        return UNTESTABLE
    return verdicts[claim]


def scope_table(claims: Sequence[Claim], estimates: Mapping[str, Any]) -> pd.DataFrame:
    """``claim_scope.csv``: every scoped claim judged at every swept value of its knob."""
    rows = []
    for claim in claims:
        if claim.scope is None:
            continue
        for at, est in estimates[claim.id].items():
            rows.append(dict(claim=claim.id, knob=claim.scope.knob, at=str(at),
                             headline=str(at) == str(claim.scope.lecture), value=est.value, ci_low=est.ci_low,
                             ci_high=est.ci_high, verdict=claim.rule.verdict(est)))
    import pandas as pd

    return pd.DataFrame(rows, columns=SCOPE_COLUMNS)


def ledger_problems(committed: pd.DataFrame, claims: Sequence[Claim], entries: Sequence[LedgerEntry] = (),
                    cfg=None) -> list[str]:
    """Every difference between the committed ledger and the declared claims that no entry
    records: a changed kind, statement, rule (statistic | region), premise or set-up value
    without an :class:`Amendment` from the committed to the declared text, a declared row not
    in the baseline without :class:`Added`, a committed row no longer declared without
    :class:`Retired`. Parts a baseline does not record (older ledgers) are not compared."""
    if committed.empty:
        return []
    amended = {(a.claim, a.what, a.old, a.new) for a in entries if isinstance(a, Amendment)}
    added = {a.claim for a in entries if isinstance(a, Added)}
    retired = {a.claim for a in entries if isinstance(a, Retired)}
    declared = {c.id for c in claims}
    problems = []
    for claim in claims:
        rows = committed[committed.claim == claim.id]
        if rows.empty:
            if claim.id not in added:
                problems.append(f"{claim.id} is not in the committed baseline; record it in AMENDMENTS as "
                                f"Added({claim.id!r}, 'YYYY-MM-DD', why='...')")
            continue
        old = committed_signed(rows.iloc[0])
        for what, new in claim.signed(cfg).items():
            if what not in old or old[what] == new or (claim.id, what, old[what], new) in amended:
                continue
            if what == "setup" and cfg is None:
                continue
            problems.append(f"{what} changed for {claim.id}: committed '{old[what]}', declared '{new}'; record it in "
                            f"AMENDMENTS as Amendment({claim.id!r}, 'YYYY-MM-DD', old={old[what]!r}, new={new!r}, "
                            f"why='...', what={what!r}, was='<value [CI] verdict>', now='...')")
    for gone in committed.claim[~committed.claim.isin(declared)]:
        if gone not in retired:
            problems.append(f"{gone} is in the committed baseline but no longer declared; record it in AMENDMENTS "
                            f"as Retired({gone!r}, 'YYYY-MM-DD', why='...', was='<value [CI] verdict>')")
    return problems


def committed_signed(row) -> dict[str, str]:
    """The signed parts of a committed ``claims.csv`` row (those its ledger recorded)."""
    out = {"rule": signature(str(row.statistic), _committed_region(str(row.rule)))}
    for what in ("kind", "statement", "premise", "setup"):
        if what in row.index:
            value = row[what]
            out[what] = "" if isinstance(value, float) and math.isnan(value) else str(value)
    return out


def _committed_region(rule: str) -> str:
    """The region of a committed rule cell (ledgers before kinds stored the long sentence)."""
    prefix, suffix = "holds if the 95% CI is ", "; fails if it lies wholly outside"
    if rule.startswith(prefix) and rule.endswith(suffix):
        return rule[len(prefix):-len(suffix)]
    return rule
