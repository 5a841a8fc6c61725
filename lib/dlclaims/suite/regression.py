"""The regression check (``dlclaims check``): regenerate an analysis at its committed fidelity and compare tables.

Each analysis may declare per-column tolerances (``TOLERANCES``); text columns and
verdicts must match exactly, numbers within ``|new - old| <= atol + rtol * |old|``.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

from dlclaims.suite import claims, config, contract, results, runner
from dlclaims.suite.contract import Tol

DEFAULT = Tol()
MAX_LINES_PER_TABLE = 8


def tolerance(module: ModuleType | None, table: str, column: str) -> Tol:
    declared = getattr(module, "TOLERANCES", {}) if module is not None else {}
    for key in (table, "*"):
        if column in declared.get(key, {}):
            return declared[key][column]
    return getattr(module, "DEFAULT_TOLERANCE", DEFAULT)


def compare_tables(name: str, old: pd.DataFrame, new: pd.DataFrame, module: ModuleType | None = None) -> list[str]:
    """Readable differences between a committed and a regenerated table (empty if none)."""
    if list(old.columns) != list(new.columns):
        return [f"{name}.csv: columns changed: {list(old.columns)} -> {list(new.columns)}"]
    if len(old) != len(new):
        return [f"{name}.csv: {len(old)} rows committed, {len(new)} regenerated"]
    keys = [c for c in old.columns if not pd.api.types.is_float_dtype(old[c])][:4]
    problems: list[str] = []
    for column in old.columns:
        a, b = old[column], new[column]
        numeric = pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b)
        if numeric:
            tol = tolerance(module, name, column)
            x, y = a.to_numpy(float), b.to_numpy(float)
            # non-finite values must match exactly: inf − inf is NaN, and rtol·|inf| admits anything
            same = (x == y) | (np.isnan(x) & np.isnan(y))
            with np.errstate(invalid="ignore"):
                close = np.isfinite(x) & np.isfinite(y) & (np.abs(y - x) <= tol.atol + tol.rtol * np.abs(x))
            bad = ~same & ~close
        else:
            # an empty cell reads back as missing, and missing != missing: compare as text
            bad = (a.fillna("").astype(str) != b.fillna("").astype(str)).to_numpy()
        for i in np.flatnonzero(bad):
            where = ", ".join(f"{k}={old[k].iloc[i]}" for k in keys if k != column)
            if numeric:
                detail = f"committed {x[i]:.6g}, regenerated {y[i]:.6g} (tolerance {tol.atol:g} + {tol.rtol:g}·|committed|)"
            else:
                detail = f"committed '{a.iloc[i]}', regenerated '{b.iloc[i]}'"
            problems.append(f"{name}.csv row {i} ({where}) {column}: {detail}")
    if len(problems) > MAX_LINES_PER_TABLE:
        problems = problems[:MAX_LINES_PER_TABLE] + [f"{name}.csv: ... and {len(problems) - MAX_LINES_PER_TABLE} more"]
    return problems


def compare_directories(committed: Path, regenerated: Path, module: ModuleType | None = None) -> list[str]:
    old, new = results.read_tables(committed), results.read_tables(regenerated)
    problems = []
    for missing in sorted(set(old) - set(new)):
        problems.append(f"{missing}.csv: committed but not regenerated")
    for added in sorted(set(new) - set(old)):
        problems.append(f"{added}.csv: regenerated but not committed")
    for table in sorted(set(old) & set(new)):
        problems += compare_tables(table, old[table], new[table], module)
    return problems


def ledger(name: str, root: Path | None = None) -> list[str]:
    """Changes of ``name``'s rows against its committed ``claims.csv`` (kind, statement, rule,
    premise, the set-up values each names at the committed fidelity; rows added or removed)
    that no ledger entry records."""
    root = Path(root) if root is not None else contract.results_root()
    module = contract.load(name)
    committed = root / name
    if not (committed / results.CLAIMS_FILE).exists():
        return []
    cfg = None
    if (committed / results.META_FILE).exists():
        argv = [a for a in results.read_meta(committed)["argv"] if a != "--no-figures"]
        cfg = config.configure(module, config.parser_for(module).parse_args(argv))
    return claims.ledger_problems(results.read_claims(committed), module.CLAIMS,
                                  getattr(module, "AMENDMENTS", []), cfg)


def check(name: str, root: Path | None = None) -> list[str]:
    """Regenerate ``name`` with the arguments recorded in its meta.json; list the drift,
    unrecorded rule changes first."""
    root = Path(root) if root is not None else contract.results_root()
    committed = root / name
    if not (committed / results.META_FILE).exists():
        raise results.ResultsError(f"{committed}: no {results.META_FILE}, so no committed baseline to check against; "
                                   f"regenerate it with 'dlclaims run {name}'")
    module = contract.load(name)
    argv = results.read_meta(committed)["argv"]
    # a damaged baseline is named before minutes of compute: every table readable, every claims
    # row consistent, no declared row missing unless the ledger records it as added
    results.read_tables(committed)
    added = {a.claim for a in getattr(module, "AMENDMENTS", []) if isinstance(a, claims.Added)}
    results.read_claims(committed, [c.id for c in module.CLAIMS if c.id not in added])
    problems = ledger(name, root)
    with tempfile.TemporaryDirectory(prefix="dlclaims-check-") as scratch:
        with contextlib.redirect_stdout(io.StringIO()):
            # tables only: check compares tables, and figures are most of a short run
            regenerated = runner.run(module, [*argv, "--no-figures", "--out", scratch], quiet=True)
        return problems + compare_directories(committed, regenerated, module)
