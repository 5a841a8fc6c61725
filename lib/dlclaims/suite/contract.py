"""The analysis contract: what an analysis file declares, how it is found, loaded and checked.

An analysis is one file ``analyses/<name_with_underscores>.py`` (its CLI name has dashes; a
file whose name starts with ``_`` is a helper, not an analysis), or, for a family too large for
one readable file, a folder ``analyses/<name_with_underscores>/`` whose ``__init__.py`` owns the
claims, ``estimate`` and figures and imports its sub-experiments relatively. Its method text
lies beside it in ``analyses/<name_with_underscores>.md``. :class:`Analysis` below is the contract as typed
signatures, each member with its one-line rule; :func:`check_contract` enforces it when the
file is loaded, before any compute. Turning flags into a ``Config`` is :mod:`.config`'s job,
running the units :mod:`.runner`'s.

The file ends with::

    if __name__ == "__main__":
        raise SystemExit(cli.main_for(__file__))
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, Sequence

from dlclaims.suite import claims as claims_mod

if TYPE_CHECKING:  # pandas loads only where tables are made: `dlclaims list` stays instant
    import pandas as pd

REPO = Path(__file__).resolve().parents[3]
FIDELITIES = ("quick", "default", "full")
RESERVED_TABLES = ("claims", "claim_seeds", "claim_samples", "claim_scope", "facts")  # written by the runner, never by an analysis

Tables = dict[str, "pd.DataFrame"]
Unit = dict[str, Any]


class Analysis(Protocol):
    """What ``analyses/<name>.py`` declares at module level (optional members marked so)."""

    TITLE: str                           # one line for the report
    LECTURE: str                         # the lecture sentence(s) tested, quoted
    Config: type                         # a frozen dataclass of everything the run depends on;
                                         #   fields made with option() are flags (``--width``)
    QUICK: Any                           # the Config of a smoke run (--quick); FULL: optional,
                                         #   the anchor papers' scale (--fidelity full)
    CLAIMS: Sequence[claims_mod.Claim]   # declared before anything runs; ids unique
    FIGURES: Sequence[Callable]          # figure_<name>(tables, cfg) -> Figure, one PNG each

    def units(self, cfg) -> list[Unit]:
        """Independent units of work, each a small dict of plain values that names it."""

    def run_unit(self, cfg, unit: Unit) -> Tables:
        """One unit's tidy tables; random draws from ``rng.stream(seed, name)`` only."""

    def estimate(self, tables: Tables, cfg) -> Mapping[str, claims_mod.Estimate]:
        """Exactly one estimate per CLAIMS id (per scope value), from the tables alone."""

    # optional:
    # FULL: Config                         the anchor papers' scale
    # DEVICES: tuple[str, ...]             where it can run, default ("cpu",)
    # AMENDMENTS: list[Amendment | Added | Retired]   the ledger: changes after a baseline existed
    # TOLERANCES: {table: {column: Tol}}   regression-check tolerances ("*": every table);
    #                                      DEFAULT_TOLERANCE: Tol
    # combine(tables, cfg) -> Tables       tables derived from all units' tables
    # facts(tables, cfg) -> {name: number}  named numbers the method text cites ({{name}}),
    #                                      written to facts.csv (see suite/method_text.py)
    # validate(cfg) -> None                raises ValueError for a config that cannot run


REQUIRED = ("TITLE", "LECTURE", "Config", "QUICK", "CLAIMS", "units", "run_unit", "estimate", "FIGURES")


@dataclasses.dataclass(frozen=True)
class Tol:
    """Regression-check tolerance of a numeric column: ``|new − old| ≤ atol + rtol·|old|``."""

    rtol: float = 1e-4
    atol: float = 1e-8


class ResultsError(Exception):
    """A results file that cannot be read: names the file and the problem in one line."""


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit status 2."""


class ContractError(UsageError):
    """An analysis file that does not follow the contract: one line, before any compute."""


def option(default: Any, help: str, parse: Callable[[str], Any] | None = None, **kw) -> Any:
    """A Config field that is also a command-line flag (``width`` → ``--width``).

    ``parse`` checks and converts the text; by default from the field's type (see
    :func:`dlclaims.suite.config.parser_for_type`): positive ``int``/``float``, ``bool``
    as true/false, ``tuple[...]`` as comma-separated values.
    """
    return dataclasses.field(default=default, metadata=dict(help=help, parse=parse, **kw))


# --- finding and loading -----------------------------------------------------------------------

def analyses_dir() -> Path:
    return Path(os.environ.get("DLCLAIMS_ANALYSES", REPO / "analyses"))


def results_root() -> Path:
    return Path(os.environ.get("DLCLAIMS_RESULTS", REPO / "results"))


def scratch_results_root() -> Path:
    """Where a run that is not the committed configuration writes by default (quick, changed
    seeds or sizes): never over the baseline."""
    return Path(os.environ.get("DLCLAIMS_SCRATCH_RESULTS", REPO / "results-scratch"))


def full_results_root() -> Path:
    """Where ``--fidelity full`` writes by default: never over the committed baseline."""
    return Path(os.environ.get("DLCLAIMS_FULL_RESULTS", REPO / "results-full"))


def names() -> list[str]:
    """Every analysis's CLI name: ``analyses/[a-z]*.py`` and ``analyses/[a-z]*/__init__.py``
    (``_helpers.py`` are not analyses)."""
    files = [p.stem for p in analyses_dir().glob("[a-z]*.py")]
    folders = [p.parent.name for p in analyses_dir().glob("[a-z]*/__init__.py")]
    return sorted(s.replace("_", "-") for s in files + folders)


def path_of(name: str) -> Path:
    """The file that defines analysis ``name``: ``<stem>.py`` or ``<stem>/__init__.py``."""
    stem = analyses_dir() / name.replace("-", "_")
    return stem.with_suffix(".py") if stem.with_suffix(".py").exists() else stem / "__init__.py"


def title_of(name: str) -> str:
    """The analysis's ``TITLE``, read from its file without importing it (no torch, no units)."""
    import ast

    path = path_of(name)
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except (OSError, SyntaxError) as err:
        return f"(cannot be read: {type(err).__name__})"
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "TITLE" for t in node.targets):
            try:
                return str(ast.literal_eval(node.value))
            except ValueError:
                break
    return "(no literal TITLE)"


def module_name_of(name: str) -> str:
    return f"dlclaims_analyses.{name.replace('-', '_')}"


def load_path(path: Path, module_name: str) -> ModuleType:
    """Import an analysis file under a fixed module name (workers load it the same way)."""
    if module_name in sys.modules:
        return sys.modules[module_name]
    package = module_name.rpartition(".")[0]
    if package and package not in sys.modules:  # so pickle can import the Config class by name
        sys.modules[package] = ModuleType(package)
        sys.modules[package].__path__ = []
    path = Path(path)
    folder = [str(path.parent)] if path.name == "__init__.py" else None  # a family as a folder
    spec = importlib.util.spec_from_file_location(module_name, path, submodule_search_locations=folder)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def load(name: str) -> ModuleType:
    """Import ``analyses/<name>.py`` by its CLI name and check its contract."""
    if name not in names():
        raise UsageError(f"unknown analysis '{name}'; choose from: {', '.join(names()) or '(none)'}")
    path = path_of(name)
    try:
        module = load_path(path, module_name_of(name))
    except Exception as err:  # noqa: BLE001 — any error at import is the file's: one line
        first = (str(err).strip().splitlines() or [""])[0]
        raise ContractError(f"analyses/{path.relative_to(analyses_dir())}: cannot be imported "
                            f"({type(err).__name__}: {first})") from None
    check_contract(module)
    return module


def _stem(module: ModuleType) -> str:
    path = Path(module.__file__)
    return path.parent.name if path.name == "__init__.py" else path.stem


def name_of(module: ModuleType) -> str:
    return _stem(module).replace("_", "-")


def method_text_path(name: str) -> Path:
    """``analyses/<stem>.md``: the method text the report renders (template fields filled)."""
    return analyses_dir() / f"{name.replace('-', '_')}.md"


def where(module: ModuleType) -> str:
    path = Path(module.__file__)
    return f"analyses/{path.parent.name}/" if path.name == "__init__.py" else f"analyses/{path.name}"


def check_contract(module: ModuleType) -> None:
    """Raise :class:`ContractError` naming the first missing or malformed piece."""

    def bad(what: str) -> ContractError:
        return ContractError(f"{where(module)}: {what} (see the contract in lib/dlclaims/suite/contract.py)")

    missing = [piece for piece in REQUIRED if not hasattr(module, piece)]
    if missing:
        raise bad(f"missing {', '.join(missing)}")
    if not (isinstance(module.TITLE, str) and isinstance(module.LECTURE, str)):
        raise bad("TITLE and LECTURE must be strings")
    if not (isinstance(module.Config, type) and dataclasses.is_dataclass(module.Config)):
        raise bad("Config must be a dataclass")
    for fidelity in ("QUICK", "FULL"):
        if hasattr(module, fidelity) and not isinstance(getattr(module, fidelity), module.Config):
            raise bad(f"{fidelity} must be a Config")
    for fn in ("units", "run_unit", "estimate"):
        if not callable(getattr(module, fn)):
            raise bad(f"{fn} must be a function")
    if not all(callable(f) for f in module.FIGURES):
        raise bad("FIGURES must be a list of functions")
    claims = module.CLAIMS
    if not claims or not all(isinstance(c, claims_mod.Claim) for c in claims):
        raise bad("CLAIMS must be a non-empty list of Claim")
    ids = [c.id for c in claims]
    if len(set(ids)) != len(ids):
        raise bad(f"duplicate claim ids {sorted({i for i in ids if ids.count(i) > 1})}")
    entries = getattr(module, "AMENDMENTS", [])
    retired = {e.claim for e in entries if isinstance(e, claims_mod.Retired)}
    for entry in entries:
        if not isinstance(entry, (claims_mod.Amendment, claims_mod.Added, claims_mod.Retired)):
            raise bad("AMENDMENTS must be a list of Amendment, Added and Retired entries")
        if isinstance(entry, claims_mod.Retired) and entry.claim in ids:
            raise bad(f"'{entry.claim}' is retired but still declared")
        if not isinstance(entry, claims_mod.Retired) and entry.claim not in ids and entry.claim not in retired:
            raise bad(f"ledger entry for undeclared claim '{entry.claim}' (a retired row keeps its history "
                      f"beside its Retired entry)")
    fields = {f.name for f in dataclasses.fields(module.Config)}
    for claim in claims:
        if claim.premise is not None and claim.premise not in ids:
            raise bad(f"claim {claim.id}: premise '{claim.premise}' is not a declared claim")
        unknown = [name for name in claim.setup if name not in fields]
        if claim.scope is not None and claim.scope.knob not in fields:
            unknown.append(claim.scope.knob)
        if unknown:
            raise bad(f"claim {claim.id}: {', '.join(unknown)} not a Config field")


def check_estimate_ids(module: ModuleType, estimates: Mapping) -> None:
    """One line naming the ids where ``estimate`` and ``CLAIMS`` disagree."""
    declared = [c.id for c in module.CLAIMS]
    missing = [i for i in declared if i not in estimates]
    extra = sorted(set(estimates) - set(declared))
    if missing or extra:
        parts = ([f"no estimate for declared claim(s) {', '.join(missing)}"] if missing else []) + \
                ([f"estimate for undeclared claim(s) {', '.join(extra)}"] if extra else [])
        raise ContractError(f"{where(module)}: estimate(): {'; '.join(parts)}")


def dry_estimate(module: ModuleType, cfg) -> None:
    """Check the claim ids before any unit runs, where ``estimate`` can run on no tables.

    Most estimates need their tables and raise on empty ones; those are checked right after
    the units instead (:func:`check_estimate_ids`)."""
    empty: Tables = {}
    try:
        estimates = module.estimate(empty, cfg)
    except Exception:  # noqa: BLE001 — needs real tables: checked after the run
        return
    if isinstance(estimates, Mapping):
        check_estimate_ids(module, estimates)


def check_tables(module: ModuleType, tables: Mapping[str, Any]) -> None:
    """A table named like a file the runner writes is one line, before anything is written."""
    clash = [name for name in tables if name in RESERVED_TABLES]
    if clash:
        raise ContractError(f"{where(module)}: table name(s) {', '.join(clash)} are reserved "
                            f"({', '.join(RESERVED_TABLES)} are written by the runner); rename them")


def devices(module: ModuleType) -> tuple[str, ...]:
    return tuple(getattr(module, "DEVICES", ("cpu",)))


def fidelities(module: ModuleType) -> list[str]:
    return [f for f in FIDELITIES if f == "default" or hasattr(module, f.upper())]
