"""An analysis's method text (``analyses/<name>.md``): every measured number a template field.

The report fills each ``{{field}}`` from the results folder, so the text can never contradict
its own tables. A field is, optionally followed by ``:format`` (a Python format spec):

``{{B2}}``                      the claim's value with its 95% interval, as in the verdict table;
``{{B2.value}}``                one column of its ``claims.csv`` row (``ci_low``, ``ci_high``,
                                ``verdict``, ``rule``…);
``{{cfg.width}}``               a value of the run's configuration (``meta.json``);
``{{name}}``                    a named number of the analysis's ``facts(tables, cfg)``
                                (``facts.csv``).

A number typed by hand is allowed only where it is not a result: in a ``$…$`` formula, a
`` `code` `` span, a quoted ``>`` line, or an *anchors table* (a markdown table whose header
names a ``source`` column: the anchor paper's value beside ours). :func:`hand_typed_numbers`
finds the others; a test keeps every method file free of them.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    import pandas as pd

FIELD = re.compile(r"\{\{\s*([A-Za-z0-9_.\-'′]+)\s*(?::([^}]*))?\}\}")  # ids like F9b′
# a decimal or scientific number: what a result looks like (integers are counts, depths, years)
RESULT_NUMBER = re.compile(r"(?<![\w.])[-−]?\d+(?:\.\d+(?:[eE][-−+]?\d+)?|[eE][-−+]?\d+)(?![\w.])|(?<![\w.])\.\d+")


class FieldError(ValueError):
    """A field the results cannot fill: names the field and the file."""


def fields(text: str) -> list[str]:
    return [m.group(1) for m in FIELD.finditer(text)]


def number(x) -> str:
    """The report's number format: four significant digits, '–' for missing."""
    if isinstance(x, str):
        return x
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.4g}"


def value_with_ci(value, low, high) -> str:
    if low == high or any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        return number(value)
    return f"{number(value)} [{number(low)}, {number(high)}]"


def _formatted(value, spec: str | None) -> str:
    if not spec:
        return number(value) if not isinstance(value, str) else value
    try:
        return format(float(value) if not isinstance(value, (int, float)) else value, spec)
    except (TypeError, ValueError):
        return str(value)


def _fact(value: str):
    try:
        return float(value)
    except ValueError:
        return value


def fill(text: str, claims: pd.DataFrame, config: Mapping, facts: Mapping[str, str], where: str = "") -> str:
    """``text`` with every field replaced; :class:`FieldError` names the first unknown one."""
    rows = {str(r.claim): r for r in claims.itertuples()}

    def one(m: re.Match) -> str:
        name, spec = m.group(1), m.group(2)
        if name in rows:
            r = rows[name]
            return _formatted(r.value, spec) if spec else value_with_ci(r.value, r.ci_low, r.ci_high)
        head, _, attr = name.rpartition(".")
        if head in rows and hasattr(rows[head], attr):
            return _formatted(getattr(rows[head], attr), spec)
        if head == "cfg" and attr in config:
            value = config[attr]
            return ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else _formatted(value, spec)
        if name in facts:
            return _formatted(_fact(facts[name]), spec)
        raise FieldError(f"{where or 'method text'}: unknown field {{{{{name}}}}}: not a claim id, "
                         f"claim column, cfg value or fact of this run")

    return FIELD.sub(one, text)


def _anchor_tables_removed(text: str) -> str:
    out, in_anchor = [], False
    lines = text.splitlines()
    for i, line in enumerate(lines):
        is_row = line.lstrip().startswith("|")
        if is_row and not in_anchor and "source" in line.lower() and i + 1 < len(lines) \
                and re.match(r"^\s*\|[\s:|-]+\|\s*$", lines[i + 1]):
            in_anchor = True
        if in_anchor and not is_row:
            in_anchor = False
        if not in_anchor:
            out.append(line)
    return "\n".join(out)


def hand_typed_numbers(text: str) -> list[str]:
    """Decimal or scientific numbers outside fields, formulas, code, quotes and anchors tables."""
    text = FIELD.sub(" ", text)
    text = _anchor_tables_removed(text)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$\n]+\$", " ", text)
    text = re.sub(r"`[^`\n]+`", " ", text)
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))
    return RESULT_NUMBER.findall(text)
