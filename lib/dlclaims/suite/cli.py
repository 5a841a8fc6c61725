"""``dlclaims``: list, run, check, show and report the lecture-claim analyses.

Bad input gets one line on stderr naming the bad value and what is allowed, exit 2,
and nothing in results/ changes. ``list``, ``show``, ``--help`` and ``--version`` never import
torch or an analysis (they read the files), so they answer at once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Sequence

from dlclaims.suite import config, contract
from dlclaims.suite.contract import UsageError

EPILOG = """examples:
  dlclaims list
  dlclaims show B2                            (one claim: quote, rule, value, seeds, scope, ledger, figures)
  dlclaims run activation-collapse --quick
  dlclaims run activation-collapse --help     (the analysis's own options)
  dlclaims run --all --workers 8              (every analysis as one job; --only/--skip select)
  dlclaims check activation-collapse
  dlclaims report --html                      (also results/report.html, for a browser)"""


def build_parser() -> config.Parser:
    parser = config.Parser(prog="dlclaims", description=__doc__.strip().splitlines()[0], epilog=EPILOG,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=config.Parser)
    sub.required = True
    parser.add_argument("--version", action="version", version=f"dlclaims {version()}")
    sub.add_parser("list", help="list the analyses and their titles")
    run = sub.add_parser("run", help="run one analysis and write results/NAME/", add_help=False,
                         description="Run one analysis. `dlclaims run NAME --help` lists its options.")
    run.add_argument("name", nargs="?", help="analysis name (see `dlclaims list`)")
    run.add_argument("rest", nargs=argparse.REMAINDER, help="the analysis's options")
    checker = sub.add_parser("check", help="regenerate tables and compare with the committed ones",
                           description="Regenerate each analysis at the fidelity its committed results were made "
                                       "with and compare every table under the analysis's declared tolerances. "
                                       "Exit 1 on drift, with a readable diff.")
    checker.add_argument("name", nargs="*", help="analyses to check (default: all with committed results)")
    checker.add_argument("--results", type=Path, default=None, metavar="DIR",
                       help=f"results root holding the baseline (default: {contract.results_root()})")
    report = sub.add_parser("report", help="write results/README.md from the tables",
                            description="Write the report (results/README.md) from the result tables.")
    report.add_argument("--results", type=Path, default=None, metavar="DIR", help="results root")
    report.add_argument("--redraw", action="store_true", help="also redraw every figure from its tables")
    report.add_argument("--html", action="store_true",
                        help="also write report.html: the summary filterable by family, kind and verdict, each "
                             "claim expandable, the figures inline (one static file, no server)")
    show = sub.add_parser("show", help="everything about one claim: quote, rule, value, seeds, scope, ledger, figures",
                          description="Print one claim from the committed results: the lecture quote with its "
                                      "course, kind, statistic, rule and margin, value with interval, per-seed "
                                      "values, the scope strip, the premise, seeds-to-decide, the ledger entries "
                                      "and its figures.")
    show.add_argument("claim", help="a claim id, e.g. B2 or G11 (case-insensitive)")
    show.add_argument("--json", action="store_true", help="print it as JSON, for scripts")
    show.add_argument("--results", type=Path, default=None, metavar="DIR", help="results root")
    return parser


def version() -> str:
    from importlib import metadata

    try:
        return metadata.version("dlclaims")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def cmd_list() -> int:
    """Each analysis with its TITLE, read from the file (an analysis that does not parse says so)."""
    for name in contract.names():
        print(f"{name:26s} {contract.title_of(name)}")
    return 0


def cmd_run(name: str | None, rest: Sequence[str]) -> int:
    if name is None or name in ("-h", "--help"):
        print("usage: dlclaims run NAME [--quick | --fidelity {quick,default,full}] [--seeds N] [--workers N]\n"
              "                        [--scheduler ADDRESS] [--dry-run] [--out DIR] [--device {cpu,cuda}] [options]\n\n"
              "analyses: " + ", ".join(contract.names()) + "\n`dlclaims run NAME --help` lists NAME's options.")
        return 0 if name else 2
    from dlclaims.suite import runner

    runner.run(contract.load(name), rest)
    return 0


def cmd_check(names: Sequence[str], root: Path | None) -> int:
    from dlclaims.suite import regression, results

    root = root if root is not None else contract.results_root()
    if not root.is_dir():
        raise UsageError(f"results directory '{root}' does not exist")
    names = list(names) or [p.name for p in sorted(root.iterdir()) if (p / results.META_FILE).exists()]
    if not names:
        raise UsageError(f"nothing to check: no results folder with a meta.json in '{root}'")
    failed = False
    for name in names:
        contract.load(name)  # unknown names are a usage error, before any work
    for name in names:
        problems = regression.check(name, root)
        status = "ok" if not problems else f"DRIFT ({len(problems)} differences)"
        print(f"check {name}: {status}")
        for line in problems:
            print(f"  {line}")
        failed |= bool(problems)
    return 1 if failed else 0


def cmd_report(root: Path | None, redraw: bool, html: bool = False) -> int:
    from dlclaims.suite import report, results, runner

    root = root if root is not None else contract.results_root()
    if not root.is_dir():
        raise UsageError(f"results directory '{root}' does not exist")
    if redraw:
        for d in report.families(root):
            module = contract.load(d.name)
            cfg = runner.config_of(module, results.read_meta(d))
            failed = runner.draw_figures(module, results.read_tables(d), cfg, d)
            if failed:
                raise runner.FigureError(f"{d.name}: figure(s) failed: {'; '.join(failed)}")
    print(f"wrote {report.write(root)}")
    if html:
        from dlclaims.suite import html_report

        print(f"wrote {html_report.write(root)}")
    return 0


def cmd_show(claim: str, root: Path | None, as_json: bool) -> int:
    from dlclaims.suite import claim_view

    view = claim_view.find(root if root is not None else contract.results_root(), claim)
    print(json.dumps(claim_view.plain(view), indent=2, allow_nan=False) if as_json else claim_view.text(view))
    return 0


def main_for(path: str, argv: Sequence[str] | None = None) -> int:
    """The entry point of ``python analyses/<name>.py`` (or of a folder family's
    ``__main__.py``: ``python analyses/<name>``): the same as ``dlclaims run <name>``."""
    path = Path(path)
    stem = path.parent.name if path.name in ("__init__.py", "__main__.py") else path.stem
    return main(["run", stem.replace("_", "-"), *(sys.argv[1:] if argv is None else argv)])


ALL_USAGE = """usage: dlclaims run --all [--only A,B | --skip C] [--workers N] [--scheduler ADDRESS] [--dry-run]
                       [--quick | --fidelity {quick,default,full}] [--no-figures] [--out DIR]

Every analysis (or those selected) as one job: all their units on one executor, longest first;
each family's tables, claims and figures written as soon as its own units are done. A failing
family is named and keeps its previous results; the others go on (exit 1 if any failed)."""


def all_parser() -> config.Parser:
    parser = config.Parser(prog="dlclaims run --all", add_help=False)
    parser.add_argument("--only", type=lambda s: [n for n in s.split(",") if n], default=None)
    parser.add_argument("--skip", type=lambda s: [n for n in s.split(",") if n], default=[])
    parser.add_argument("--workers", type=config.positive_int, default=None)
    parser.add_argument("--scheduler", default=os.environ.get("DLCLAIMS_SCHEDULER"))
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("-h", "--help", action="store_true")
    return parser


def cmd_run_all(argv: Sequence[str]) -> int:
    known, rest = all_parser().parse_known_args(list(argv))
    if known.help:
        print(ALL_USAGE)
        return 0
    names = known.only if known.only is not None else contract.names()
    for name in [*names, *known.skip]:
        if name not in contract.names():
            raise UsageError(f"unknown analysis '{name}'; choose from: {', '.join(contract.names())}")
    names = [n for n in names if n not in known.skip]
    if not names:
        raise UsageError("no analysis selected (--only and --skip leave none)")
    from dlclaims.suite import results, runner

    workers = known.workers or config.default_workers()
    plans = [runner.plan(contract.load(name), rest, workers_default=workers) for name in names]
    if known.dry_run:
        print(runner.suite_dry_run(plans, workers))
        return 0
    started = time.perf_counter()
    outcomes = runner.run_all(plans, workers, known.scheduler)
    wall = time.perf_counter() - started
    failed = [o for o in outcomes if o.error]
    if not failed:
        for root in {p.target.parent for p in plans}:
            (root / results.SUITE_FILE).write_text(json.dumps(dict(
                families=[p.name for p in plans], workers=workers, executor="dask" if known.scheduler else "pool",
                wall_seconds=round(wall, 1)), indent=2) + "\n")
    print(f"{len(outcomes) - len(failed)} of {len(plans)} families written in {wall:.0f} s"
          f" on {workers} worker(s)" + (f"; failed: {', '.join(o.name for o in failed)}" if failed else ""))
    for o in failed:
        print(f"dlclaims: error: {o.name}: {o.error}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["run"] and argv[1:2] in (["-h"], ["--help"]):  # `run` passes its own flags on
        return cmd_run(argv[1], [])
    try:
        if argv[:2] == ["run", "--all"]:
            return cmd_run_all(argv[2:])
        args = build_parser().parse_args(argv)
        if args.command == "list":
            return cmd_list()
        if args.command == "run":
            return cmd_run(args.name, args.rest)
        if args.command == "check":
            return cmd_check(args.name, args.results)
        if args.command == "show":
            return cmd_show(args.claim, args.results, args.json)
        return cmd_report(args.results, args.redraw, args.html)
    except (UsageError, contract.ResultsError) as err:
        print(f"dlclaims: error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # a unit or a figure failed: named in one line, exit 1
        runner = sys.modules.get("dlclaims.suite.runner")
        if runner is None or not isinstance(err, (runner.UnitError, runner.FigureError)):
            raise
        print(f"dlclaims: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("dlclaims: interrupted; previous results left intact", file=sys.stderr)
        return 130
