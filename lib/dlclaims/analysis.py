"""How an analysis plugs in: discovery, the shared command line, and the run itself.

An analysis is one file ``analyses/<name_with_underscores>.py``; its CLI name has dashes.
It reads top to bottom like a method section and defines, at module level:

``TITLE``        one line for the report;
``LECTURE``      the lecture sentence(s) it tests, quoted;
``NOTES``        (optional) markdown for the report: the setup and why it was chosen;
``CLAIMS``       list of :class:`dlclaims.claims.Claim`, declared before anything runs;
``TOLERANCES``   (optional) ``{table: {column: Tol}}`` for the regression check,
                 ``"*"`` as table name applies to every table;
``Config``       a dataclass of everything the run depends on;
``configure(args) -> Config``           from the parsed arguments (``args.quick``,
                 ``args.seeds`` (None = the analysis default), ``args.device``, and its own);
``add_arguments(parser)``               (optional) its own options;
``compute(cfg) -> {table: DataFrame}``  tidy tables, one row per measurement;
``estimate(tables, cfg) -> {claim id: Estimate}``  the claim statistics, from the tables;
``figures(tables, directory)``          PNGs drawn from the tables alone.

and ends with ``if __name__ == "__main__": raise SystemExit(analysis.main(sys.modules[__name__]))``.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from types import ModuleType
from typing import Sequence

from tabulate import tabulate

from dlclaims import claims as claims_mod
from dlclaims import results

REPO = Path(__file__).resolve().parents[2]


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def analyses_dir() -> Path:
    return Path(os.environ.get("DLCLAIMS_ANALYSES", REPO / "analyses"))


def results_root() -> Path:
    return Path(os.environ.get("DLCLAIMS_RESULTS", REPO / "results"))


def names() -> list[str]:
    return sorted(p.stem.replace("_", "-") for p in analyses_dir().glob("[a-z]*.py"))


def load(name: str) -> ModuleType:
    """Import ``analyses/<name>.py`` by its CLI name."""
    if name not in names():
        raise UsageError(f"unknown analysis '{name}'; choose from: {', '.join(names()) or '(none)'}")
    module_name = f"dlclaims_analyses.{name.replace('-', '_')}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = analyses_dir() / f"{name.replace('-', '_')}.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def name_of(module: ModuleType) -> str:
    return Path(module.__file__).stem.replace("_", "-")


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


def parser_for(module: ModuleType) -> Parser:
    name = name_of(module)
    parser = Parser(
        prog=f"dlclaims run {name}",
        description=(module.__doc__ or "").strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true",
                        help="small, fast fidelity for smoke tests (verdicts still computed, with less power)")
    parser.add_argument("--seeds", type=positive_int, default=None, metavar="N",
                        help="number of independent seeds/replicates (default: the analysis's own)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help=f"results root; writes DIR/{name}/ (default: {results_root()})")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="where tensors live (default: cpu; CI has no GPU)")
    if hasattr(module, "add_arguments"):
        module.add_arguments(parser)
    return parser


def _config_dict(cfg) -> dict:
    return asdict(cfg) if is_dataclass(cfg) else dict(vars(cfg))


def run(module: ModuleType, argv: Sequence[str], quiet: bool = False) -> Path:
    """Parse ``argv``, compute, judge the claims, write ``<out>/<name>/`` atomically.

    Raises :class:`UsageError` for bad input before anything is computed or written.
    """
    name = name_of(module)
    args = parser_for(module).parse_args(list(argv))
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise UsageError("--device cuda was asked for but no CUDA device is available; use --device cpu")
    root = args.out if args.out is not None else results_root()
    try:
        results.check_writable(root)
    except PermissionError as err:
        raise UsageError(str(err)) from None
    try:
        cfg = module.configure(args)
    except ValueError as err:
        raise UsageError(str(err)) from None

    started = time.perf_counter()
    tables = module.compute(cfg)
    estimates = module.estimate(tables, cfg)
    verdicts = claims_mod.evaluate(module.CLAIMS, estimates)
    compute_seconds = time.perf_counter() - started

    recorded_argv = [a for a in _strip_out(list(argv))]
    meta = dict(
        analysis=name,
        title=module.TITLE,
        lecture=module.LECTURE,
        notes=getattr(module, "NOTES", ""),
        fidelity="quick" if args.quick else "default",
        argv=recorded_argv,
        config=_config_dict(cfg),
        compute_seconds=round(compute_seconds, 2),
        **results.environment(),
    )
    target = Path(root) / name
    with results.atomic_directory(target) as scratch:
        results.write_results(scratch, tables, verdicts, meta)
        module.figures(results.read_tables(scratch), scratch)
    if not quiet:
        show = verdicts[["claim", "value", "ci_low", "ci_high", "verdict"]]
        print(f"\n{name}: {module.TITLE}  ({compute_seconds:.1f} s)")
        print(tabulate(show, headers="keys", showindex=False, floatfmt=".4g"))
        print(f"wrote {target}/")
    return target


def _strip_out(argv: list[str]) -> list[str]:
    """The arguments that decide the numbers: everything but where they are written."""
    kept, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == "--out":
            skip = True
            continue
        if a.startswith("--out="):
            continue
        kept.append(a)
    return kept


def main(module: ModuleType, argv: Sequence[str] | None = None) -> int:
    """Entry point for ``python analyses/<name>.py``: one-line errors, exit 2."""
    try:
        run(module, sys.argv[1:] if argv is None else argv)
    except UsageError as err:
        print(f"dlclaims run {name_of(module)}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; previous results left intact", file=sys.stderr)
        return 130
    return 0
