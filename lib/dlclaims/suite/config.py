"""From the command line to an analysis's ``Config``: the flags, their types, the checks.

Each argument type names the bad value and what is allowed, in one line (exit status 2).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import re
import typing
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from dlclaims.suite import contract
from dlclaims.suite.contract import UsageError

MIN_SEEDS = 2
MAX_SEEDS = 10_000  # far beyond any anchor paper; more is a typo, refused before anything is built


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


# --- argument types ----------------------------------------------------------------------------

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


def signed_int(text: str) -> int:
    return _number(text, int, "an integer")


def positive_float(text: str) -> float:
    value = _number(text, float, "a positive number")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not allowed; expected a positive number")
    return value


def nonnegative_float(text: str) -> float:
    value = _number(text, float, "a number ≥ 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is not allowed; expected a number ≥ 0")
    return value


def signed_float(text: str) -> float:
    return _number(text, float, "a number")


def probability(text: str) -> float:
    """A keep probability: in (0, 1]."""
    value = _number(text, float, "a probability in (0, 1]")
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed; expected a probability in (0, 1]")
    return value


TRUE, FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def boolean(text: str) -> bool:
    """``true``/``false`` (also yes/no, on/off, 1/0), any case: never the truthy string 'False'."""
    word = text.strip().lower()
    if word in TRUE:
        return True
    if word in FALSE:
        return False
    raise argparse.ArgumentTypeError(f"'{text}' is not a truth value; expected true or false")


def tuple_of(parse: Callable[[str], Any]) -> Callable[[str], tuple]:
    """Comma-separated values, each checked by ``parse``: ``--depths 2,5,10`` → (2, 5, 10)."""

    def parse_tuple(text: str) -> tuple:
        items = [t for t in re.split(r"[,\s]+", text.strip()) if t]
        if not items:
            raise argparse.ArgumentTypeError(f"'{text}' is empty; expected comma-separated values")
        return tuple(parse(t) for t in items)

    return parse_tuple


SCALARS: dict[Any, Callable[[str], Any]] = {int: positive_int, float: positive_float, bool: boolean, str: str}


def parser_for_type(annotation: Any) -> Callable[[str], Any]:
    """The default argument type of a Config field from its annotation (a type or, under
    ``from __future__ import annotations``, its text): int/float positive, bool true/false,
    ``tuple[X, ...]`` comma-separated X."""
    if isinstance(annotation, str):
        text = annotation.replace(" ", "")
        match = re.fullmatch(r"(?:typing\.)?[Tt]uple\[(\w+)(?:,\.\.\.)?\]", text)
        if match:
            return tuple_of(parser_for_type(match.group(1)))
        return {"int": positive_int, "float": positive_float, "bool": boolean}.get(text, str)
    if typing.get_origin(annotation) is tuple:
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return tuple_of(parser_for_type(args[0] if args else str))
    return SCALARS.get(annotation, str)


def _parse_for(field: dataclasses.Field) -> Callable[[str], Any]:
    return field.metadata.get("parse") or parser_for_type(field.type)


def output_dir(text: str) -> Path:
    """A results root: any path but the empty one (which would write into the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path is not allowed; give a folder, e.g. --out /tmp/results")
    return Path(text)


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _shown(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def parser_for(module: ModuleType) -> Parser:
    name = contract.name_of(module)
    parser = Parser(
        prog=f"dlclaims run {name}",
        description=(module.__doc__ or "").strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    levels = contract.fidelities(module)
    parser.add_argument("--fidelity", choices=levels, default="default",
                        help="quick: a smoke run (seconds; its verdicts are not the baseline's); default: the "
                             "committed baseline; full: the anchor papers' scale, written to "
                             f"{contract.full_results_root().name}/ (default: default)")
    parser.add_argument("--quick", action="store_const", dest="fidelity", const="quick",
                        help="same as --fidelity quick")
    fields = {f.name: f for f in dataclasses.fields(module.Config)}
    if "seeds" in fields:
        parser.add_argument("--seeds", type=positive_int, default=None, metavar="N",
                            help=f"independent seeds (default {fields['seeds'].default}; at least {MIN_SEEDS})")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help=f"where tensors live (default cpu; this analysis runs on: "
                             f"{', '.join(contract.devices(module))})")
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
    parser.add_argument("--out", type=output_dir, default=None, metavar="DIR",
                        help=f"results root; writes DIR/{name}/ (default: {contract.results_root()}, the committed "
                             f"baseline, for a default run of the committed configuration; full fidelity: "
                             f"{contract.full_results_root()}; any other run (quick, changed seeds or sizes): "
                             f"{contract.scratch_results_root()})")
    own = parser.add_argument_group(f"{name} options")
    for field in fields.values():
        if "help" in field.metadata and field.name not in ("seeds", "device"):
            quick = getattr(module.QUICK, field.name)
            own.add_argument(f"--{field.name.replace('_', '-')}", dest=f"cfg_{field.name}", type=_parse_for(field),
                             default=None, metavar=field.metadata.get("metavar", "X"),
                             choices=field.metadata.get("choices"),
                             help=f"{field.metadata['help']} (default {_shown(field.default)}"
                                  + (f"; quick {_shown(quick)}" if quick != field.default else "") + ")")
    return parser


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
    if "seeds" in fields and cfg.seeds > MAX_SEEDS:
        raise UsageError(f"--seeds {cfg.seeds} is more than {MAX_SEEDS}; a typo? (a run of that size is refused "
                         f"before anything is built)")
    if hasattr(module, "validate"):
        try:
            module.validate(cfg)
        except ValueError as err:
            raise UsageError(str(err)) from None
    return cfg
