"""The analysis contract: what an analysis file declares, how it is found, loaded and checked,
and how the command line becomes its config. Running it is :mod:`dlclaims.runner`'s job.

An analysis is one file ``analyses/<name_with_underscores>.py``; its CLI name has dashes.
It reads top to bottom like a method section and declares, at module level:

``TITLE``            one line for the report;
``LECTURE``          the lecture sentence(s) it tests, quoted;
``NOTES``            (optional) markdown for the report: the set-up and why it was chosen;
``Config``           a frozen dataclass of everything the run depends on; fields made with
                     :func:`option` become command-line flags (``--width``); a ``seeds`` field
                     gets ``--seeds``, a ``device`` field ``--device``;
``QUICK``            the ``Config`` of a smoke run (``--quick``); ``FULL`` (optional) the
                     anchor papers' scale (``--fidelity full``);
``DEVICES``          (optional) where it can run, default ``("cpu",)``;
``CLAIMS``           list of :class:`dlclaims.claims.Claim`, declared before anything runs;
``AMENDMENTS``       (optional) list of :class:`dlclaims.claims.Amendment`: the ledger of rule changes;
``TOLERANCES``       (optional) ``{table: {column: Tol}}`` for the regression check (``"*"``: every
                     table), and ``DEFAULT_TOLERANCE``;
``units(cfg) -> list[dict]``                 independent units of work (seed × variant, typically),
                     each a small dict of plain values that names it;
``run_unit(cfg, unit) -> {table: DataFrame}``  one unit's tidy tables; seeds its own generators
                     from the unit, never from shared state;
``combine(tables, cfg) -> {table: DataFrame}``  (optional) tables derived from all units' tables;
``estimate(tables, cfg) -> {claim id: Estimate}``  the claim statistics, from the tables;
``FIGURES``          list of functions ``figure_<name>(tables) -> Figure``, one per PNG;
``validate(cfg)``    (optional) raises ``ValueError`` for a config that cannot run;

and ends with ``if __name__ == "__main__": raise SystemExit(analysis.main(sys.modules[__name__]))``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import math
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Sequence

from dlclaims import claims as claims_mod

REPO = Path(__file__).resolve().parents[2]
FIDELITIES = ("quick", "default", "full")
MIN_SEEDS = 2
REQUIRED = ("TITLE", "LECTURE", "Config", "QUICK", "CLAIMS", "units", "run_unit", "estimate", "FIGURES")


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit status 2."""


class ContractError(UsageError):
    """An analysis file that does not follow the contract: one line, before any compute."""


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def analyses_dir() -> Path:
    return Path(os.environ.get("DLCLAIMS_ANALYSES", REPO / "analyses"))


def results_root() -> Path:
    return Path(os.environ.get("DLCLAIMS_RESULTS", REPO / "results"))


def full_results_root() -> Path:
    """Where ``--fidelity full`` writes by default: never over the committed baseline."""
    return Path(os.environ.get("DLCLAIMS_FULL_RESULTS", REPO / "results-full"))


def names() -> list[str]:
    return sorted(p.stem.replace("_", "-") for p in analyses_dir().glob("[a-z]*.py"))


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
    spec = importlib.util.spec_from_file_location(module_name, path)
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
    module = load_path(analyses_dir() / f"{name.replace('-', '_')}.py", module_name_of(name))
    check_contract(module)
    return module


def name_of(module: ModuleType) -> str:
    return Path(module.__file__).stem.replace("_", "-")


def check_contract(module: ModuleType) -> None:
    """Raise :class:`ContractError` naming the first missing or malformed piece."""
    where = f"analyses/{Path(module.__file__).name}"

    def bad(what: str) -> ContractError:
        return ContractError(f"{where}: {what} (see the contract in lib/dlclaims/analysis.py)")

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
    for amendment in getattr(module, "AMENDMENTS", []):
        if not isinstance(amendment, claims_mod.Amendment):
            raise bad("AMENDMENTS must be a list of Amendment")
        if amendment.claim not in ids:
            raise bad(f"amendment for undeclared claim '{amendment.claim}'")


def devices(module: ModuleType) -> tuple[str, ...]:
    return tuple(getattr(module, "DEVICES", ("cpu",)))


def fidelities(module: ModuleType) -> list[str]:
    return [f for f in FIDELITIES if f == "default" or hasattr(module, f.upper())]


# --- argument types: each names the bad value and what is allowed -------------------------

def _number(text: str, kind, what: str):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number; expected {what}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not finite; expected {what}")
    return value


def positive_int(text: str) -> int:
    value = _number(text, int, "a positive integer")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not allowed; expected a positive integer")
    return value


def positive_float(text: str) -> float:
    value = _number(text, float, "a positive number")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not allowed; expected a positive number")
    return value


def probability(text: str) -> float:
    """A keep probability: in (0, 1]."""
    value = _number(text, float, "a probability in (0, 1]")
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed; expected a probability in (0, 1]")
    return value


def option(default: Any, help: str, parse: Callable[[str], Any] | None = None, **kw) -> Any:
    """A Config field that is also a command-line flag (``width`` → ``--width``).

    ``parse`` checks and converts the text; by default positive integers for ``int`` fields
    and positive numbers for ``float`` fields.
    """
    return dataclasses.field(default=default, metadata=dict(help=help, parse=parse, **kw))


def _parse_for(field: dataclasses.Field) -> Callable[[str], Any]:
    if field.metadata.get("parse"):
        return field.metadata["parse"]
    kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
    return {"int": positive_int, "float": positive_float}.get(kind, str)


def parser_for(module: ModuleType) -> Parser:
    name = name_of(module)
    parser = Parser(
        prog=f"dlclaims run {name}",
        description=(module.__doc__ or "").strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    levels = fidelities(module)
    parser.add_argument("--fidelity", choices=levels, default="default",
                        help="quick: a smoke run (seconds; its verdicts are not the baseline's); default: the "
                             "committed baseline; full: the anchor papers' scale, written to "
                             f"{full_results_root().name}/ (default: default)")
    parser.add_argument("--quick", action="store_const", dest="fidelity", const="quick",
                        help="same as --fidelity quick")
    fields = {f.name: f for f in dataclasses.fields(module.Config)}
    if "seeds" in fields:
        parser.add_argument("--seeds", type=positive_int, default=None, metavar="N",
                            help=f"independent seeds (default {fields['seeds'].default}; at least {MIN_SEEDS})")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help=f"where tensors live (default cpu; this analysis runs on: {', '.join(devices(module))})")
    parser.add_argument("--workers", type=positive_int, default=None, metavar="N",
                        help="processes running units in parallel, one torch thread each "
                             f"(default: the number of cores, {default_workers()}; 1 runs in this process)")
    parser.add_argument("--scheduler", default=os.environ.get("DLCLAIMS_SCHEDULER"), metavar="ADDRESS",
                        help="run units on a Dask cluster: a scheduler address (tcp://host:8786), or 'local' "
                             "for a LocalCluster of --workers processes (default: $DLCLAIMS_SCHEDULER, else "
                             "the local process pool); needs pip install -e '.[dask]'")
    parser.add_argument("--no-figures", action="store_true",
                        help="write the tables and claims only (figures can be drawn later: dlclaims report --redraw)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the units and an estimate of their cost, compute nothing")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help=f"results root; writes DIR/{name}/ (default: {results_root()}; "
                             f"full fidelity: {full_results_root()})")
    own = parser.add_argument_group(f"{name} options")
    for field in fields.values():
        if "help" in field.metadata and field.name not in ("seeds", "device"):
            own.add_argument(f"--{field.name.replace('_', '-')}", dest=f"cfg_{field.name}", type=_parse_for(field),
                             default=None, metavar=field.metadata.get("metavar", "X"),
                             choices=field.metadata.get("choices"),
                             help=f"{field.metadata['help']} (default {field.default}"
                                  + (f"; quick {getattr(module.QUICK, field.name)}"
                                     if getattr(module.QUICK, field.name) != field.default else "") + ")")
    return parser


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def configure(module: ModuleType, args: argparse.Namespace):
    """The Config of this run: the fidelity's base, then every flag given, then checks."""
    base = {"quick": getattr(module, "QUICK", None), "full": getattr(module, "FULL", None)}.get(args.fidelity)
    cfg = base if base is not None else module.Config()
    fields = {f.name for f in dataclasses.fields(module.Config)}
    overrides = {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg_") and v is not None}
    if getattr(args, "seeds", None) is not None:
        overrides["seeds"] = args.seeds
    if "device" in fields:
        overrides["device"] = args.device
    cfg = dataclasses.replace(cfg, **overrides)
    if "seeds" in fields and cfg.seeds < MIN_SEEDS:
        raise UsageError(f"--seeds {cfg.seeds} is too few for a confidence interval; expected at least {MIN_SEEDS}")
    if hasattr(module, "validate"):
        try:
            module.validate(cfg)
        except ValueError as err:
            raise UsageError(str(err)) from None
    return cfg


def run(module: ModuleType, argv: Sequence[str], quiet: bool = False, figures: bool = True) -> Path:
    """Run an analysis as ``dlclaims run`` does (see :func:`dlclaims.runner.run`)."""
    from dlclaims import runner

    return runner.run(module, argv, quiet=quiet, figures=figures)


def main(module: ModuleType, argv: Sequence[str] | None = None) -> int:
    """Entry point for ``python analyses/<name>.py``: same as ``dlclaims run <name>``."""
    from dlclaims import cli

    return cli.main(["run", name_of(module), *(sys.argv[1:] if argv is None else argv)])
