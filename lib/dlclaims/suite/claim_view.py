"""One claim, everything about it, from a results folder alone (``dlclaims show B2``): the lecture
quote with its course, kind, statistic, rule and margin, value with interval, per-seed values,
the scope strip, the premise, seeds-to-decide, the ledger entries and the figures. Reads CSV and
JSON with the standard library only, so it answers at once."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from dlclaims.suite.claims import rule_of_region
from dlclaims.suite.contract import ResultsError
from dlclaims.suite.lectures import cite

View = dict[str, Any]


def rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    try:
        with path.open(newline="") as f:
            return list(csv.DictReader(f))
    except (OSError, csv.Error, UnicodeDecodeError) as err:
        raise ResultsError(f"{path}: cannot be read ({err})") from None


def _float(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else math.nan
    except ValueError:
        return math.nan


def _families(root: Path) -> list[Path]:
    if not root.is_dir():
        raise ResultsError(f"results directory '{root}' does not exist; run `make all` (or `dlclaims run NAME`)")
    return sorted(p for p in root.iterdir() if (p / "claims.csv").is_file())


def find(root: Path, claim: str) -> View:
    """The view of ``claim`` (case-insensitive) in whichever family of ``root`` declares it."""
    wanted = claim.strip().lower()
    known = []
    for d in _families(Path(root)):
        for row in rows(d / "claims.csv"):
            known.append(row["claim"])
            if row["claim"].lower() == wanted:
                return view(d, row)
    close = sorted(k for k in known if k.lower().startswith(wanted[:1]))[:12]
    raise ResultsError(f"no claim '{claim}' in {root}" + (f"; claims starting alike: {', '.join(close)}" if close else
                                                          "; `dlclaims report` lists every claim"))


def distance(value: float, low: float, high: float, region: str, log: bool = False) -> float:
    """How far the value sits from the rule's nearest boundary, in half-widths of its interval on
    that side: > 1 inside the region (holds), < −1 outside (fails), between them undecided; inf for
    an exact value (zero-width interval), NaN where the rule has no finite boundary. ``log``: the
    interval is a geometric mean's, symmetric in log units, so the distance is measured there."""
    rule = rule_of_region(region)
    b = rule.nearest_boundary(value)
    if math.isnan(b) or any(math.isnan(x) for x in (value, low, high)):
        return math.nan
    inside = rule.lo <= value <= rule.hi
    if log and min(value, low, high, b) > 0:
        value, low, high, b = (math.log(x) for x in (value, low, high, b))
    half = (value - low) if b < value else (high - value)
    if half <= 0:
        return math.inf if inside else -math.inf
    return (1 if inside else -1) * abs(value - b) / half


def effect_note(value: float, region: str, note: dict | None, kind: str) -> str:
    """'small' where a comparison's effect lies within its own declared margin of "no effect";
    'no margin' where a derived row's one-sided rule sits on 0 or 1 with no declared margin."""
    rule = rule_of_region(region)
    null = (note or {}).get("null")
    one_sided = math.isinf(rule.lo) != math.isinf(rule.hi)
    threshold = rule.hi if math.isinf(rule.lo) else rule.lo
    if null is not None and one_sided and not math.isnan(value):
        margin = abs(threshold - null)
        return "small" if abs(value - null) < margin else ""
    if kind != "check" and one_sided and null is None and threshold in (0.0, 1.0):
        return "no margin"
    return ""


def view(d: Path, row: dict[str, str]) -> View:
    """Everything the folder ``d`` records about one claims.csv ``row``."""
    try:
        meta = json.loads((d / "meta.json").read_text())
    except (OSError, ValueError) as err:
        raise ResultsError(f"{d / 'meta.json'}: cannot be read ({err})") from None
    cid = row["claim"]
    note = meta.get("claims", {}).get(cid, {})
    value, low, high = (_float(row[k]) for k in ("value", "ci_low", "ci_high"))
    by_id = {r["claim"]: r for r in rows(d / "claims.csv")}
    premise = row.get("premise") or ""
    seeds = next((r for r in rows(d / "claim_seeds.csv") if r["claim"] == cid), None)
    samples = [_float(r["value"]) for r in rows(d / "claim_samples.csv") if r["claim"] == cid]
    scope = [dict(at=r["at"], lecture=r["headline"] == "True", value=_float(r["value"]), ci_low=_float(r["ci_low"]),
                  ci_high=_float(r["ci_high"]), verdict=r["verdict"])
             for r in rows(d / "claim_scope.csv") if r["claim"] == cid]
    figures = [str(d / f) for f in note.get("figures", []) if (d / f).is_file()]
    return dict(
        claim=cid, family=d.name, title=meta.get("title", ""), kind=row["kind"], statement=cite(row["statement"]),
        lecture=cite(meta.get("lecture", "")), statistic=cite(row["statistic"]), rule=row["rule"],
        margin=dict(null=note.get("null"), why=note.get("why", "")) if note.get("why") else None,
        value=value, ci_low=low, ci_high=high, verdict=row["verdict"],
        distance=distance(value, low, high, row["rule"], log=bool(seeds) and seeds.get("summary") == "log"), effect=effect_note(value, row["rule"], note, row["kind"]),
        setup=row.get("setup", ""),
        premise=dict(claim=premise, statement=cite(by_id[premise]["statement"]), value=_float(by_id[premise]["value"]),
                     verdict=by_id[premise]["verdict"]) if premise in by_id else None,
        seeds=int(_float(seeds["seeds"])) if seeds else len(samples) or None,
        seeds_to_decide=_float(seeds["seeds_to_decide"]) if seeds and row["verdict"] == "inconclusive" else None,
        samples=samples,
        scope=dict(knob=(note.get("scope") or {}).get("knob") or (scope and "knob") or "",
                   why=(note.get("scope") or {}).get("why", ""), strip=scope) if scope else None,
        ledger=[{k: cite(v) if isinstance(v, str) else v for k, v in a.items()}
                for a in meta.get("amendments", []) if a.get("claim") == cid],
        figures=figures, fidelity=meta.get("fidelity", ""), commit=meta.get("git_commit", ""))


def plain(v: Any) -> Any:
    """The view with NaN as null and ±inf as "inf"/"-inf", so every JSON reader parses it."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def _num(x: float) -> str:
    from dlclaims.suite.method_text import number

    return number(x)


def value_text(v: View) -> str:
    if v["ci_low"] == v["ci_high"] or any(math.isnan(x) for x in (v["ci_low"], v["ci_high"])):
        return _num(v["value"])
    return f"{_num(v['value'])} [{_num(v['ci_low'])}, {_num(v['ci_high'])}]"


def distance_text(d: float) -> str:
    """'+3.1', '−0.4'; '> +100' beyond a hundred half-widths (more digits say nothing); 'exact'."""
    if math.isnan(d):
        return ""
    if math.isinf(d):
        return "exact"
    if abs(d) >= 100:
        return "> +100" if d > 0 else "< −100"
    return f"{d:+.1f}".replace("-", "−")


def log_scale(d: Path) -> set[str]:
    """The claims of folder ``d`` whose interval is a geometric mean's (``claim_seeds.csv``)."""
    return {r["claim"] for r in rows(d / "claim_seeds.csv") if r.get("summary") == "log"}


def text(v: View) -> str:
    """The view as ``dlclaims show`` prints it."""
    lines = [f"{v['claim']} ({v['kind']}) — {v['title']} [{v['family']}]", "",
             f"  claim      {v['statement']}", f"  statistic  {v['statistic']}", f"  rule       {v['rule']}"]
    if v["margin"]:
        null = f"no effect = {v['margin']['null']:g}; " if v["margin"]["null"] is not None else ""
        lines.append(f"  margin     {null}{v['margin']['why']}")
    lines.append(f"  value      {value_text(v)}  (95% CI)")
    verdict = v["verdict"] + (f"  — {distance_text(v['distance'])} CI half-widths from the rule's boundary"
                              if distance_text(v["distance"]) not in ("", "exact") else "")
    if v["effect"] == "small":
        verdict += "  — the effect is smaller than its declared margin"
    elif v["effect"] == "no margin":
        verdict += "  — a sign-only rule (no declared margin)"
    lines.append(f"  verdict    {verdict}")
    if v["premise"]:
        p = v["premise"]
        lines.append(f"  premise    {p['claim']} ({p['statement']}): {_num(p['value'])}, {p['verdict']}"
                     + ("" if p["verdict"] == "holds" else " — so this row is untestable here"))
    if v["setup"]:
        lines.append(f"  set-up     {v['setup']}")
    if v["samples"]:
        shown = ", ".join(_num(x) for x in v["samples"][:30]) + (" …" if len(v["samples"]) > 30 else "")
        lines.append(f"  per seed   ({len(v['samples'])}) {shown}")
    elif v["seeds"]:
        lines.append(f"  replicates {v['seeds']}")
    if v["seeds_to_decide"] is not None:
        n = v["seeds_to_decide"]
        lines.append("  to decide  " + (f"about {n:.0f} seeds at the measured spread" if math.isfinite(n) else
                                        "not by more seeds (the mean sits on the boundary)" if math.isinf(n) else
                                        "not estimated (the interval is not a mean over seeds)"))
    if v["scope"]:
        lines += ["", f"  scope: the verdict at each value of `{v['scope']['knob']}`"
                      + (f" ({v['scope']['why']})" if v["scope"]["why"] else "")]
        for s in v["scope"]["strip"]:
            lo, hi = s["ci_low"], s["ci_high"]
            lines.append(f"    {s['at']:>10}{' (lecture)' if s['lecture'] else '          '}  "
                         f"{_num(s['value'])} [{_num(lo)}, {_num(hi)}]  {s['verdict']}")
    if v["ledger"]:
        lines += ["", "  ledger:"]
        for a in v["ledger"]:
            entry = a.get("entry", "amendment")
            head = f"    {a['date']} {entry}" + (f" ({a.get('what', 'rule')})" if entry == "amendment" else "")
            if entry == "amendment":
                head += f": {a['old']} → {a['new']}"
            if a.get("was") or a.get("now"):
                head += f"; verdict {a.get('was') or '?'} → {a.get('now') or '?'}"
            lines += [head, f"      why: {a['why']}"]
    lines += ["", "  lecture:"] + ["    " + line for line in v["lecture"].strip().splitlines()]
    if v["figures"]:
        lines += ["", "  figures:"] + [f"    {f}" for f in v["figures"]]
    lines.append(f"\n  from the {v['fidelity']} run at commit {v['commit']}")
    return "\n".join(lines)
