"""The runner owns the skeleton of every analysis run:

flags → config → units → an executor runs them (in this process, a local process pool, or a
Dask cluster) → tables concatenated in unit order → claims judged → results written
atomically (tables first) → figures drawn, one function each.

Units are shipped to workers by name: a worker loads the analysis file itself and unpickles
the config after that, so nothing but plain values and tables crosses a process boundary,
and each unit runs with one torch thread and seeds set from its own identity. The tables are
therefore byte-identical whatever the executor and the number of workers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import math
import os
import pickle
import random
import statistics
import sys
import time
import traceback
from concurrent.futures import Executor, as_completed
from pathlib import Path
from types import ModuleType
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from dlclaims.suite import claims as claims_mod
from dlclaims.suite import config, contract, results, stats
from dlclaims.suite.contract import ContractError, Tables, UsageError
from dlclaims.suite.executors import executor
from dlclaims.suite.progress import Ticker, progress
from dlclaims.threads import one_thread


class UnitError(Exception):
    """A unit raised: names the unit and the error, in one line."""


class FigureError(Exception):
    """One or more figures could not be drawn; the tables were written."""


# --- units -----------------------------------------------------------------------------------

def unit_label(unit: Mapping) -> str:
    return " ".join(f"{k}={v}" for k, v in unit.items()) or "(the only unit)"


def unit_seed(name: str, unit: Mapping) -> int:
    """A seed from the unit's identity alone: stable across processes, machines and runs."""
    key = json.dumps([name, dict(unit)], sort_keys=True, default=str).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:4], "little")


def check_units(module: ModuleType, units: Sequence) -> None:
    where = contract.where(module)
    if not units:
        raise ContractError(f"{where}: units(cfg) returned no units")
    for unit in units:
        if not isinstance(unit, dict):
            raise ContractError(f"{where}: a unit must be a dict of plain values, got {unit!r}")
    labels = [json.dumps(u, sort_keys=True, default=str) for u in units]
    if len(set(labels)) != len(labels):
        raise ContractError(f"{where}: units(cfg) returned the same unit twice")


def execute_unit(path: str, module_name: str, cfg_blob: bytes, unit: dict) -> tuple[Tables, float]:
    """Run one unit wherever it lands (this process, a pool worker, a Dask worker)."""
    module = contract.load_path(Path(path), module_name)
    cfg = pickle.loads(cfg_blob)  # after the load: the Config class lives in the analysis
    seed = unit_seed(module_name, unit)
    with one_thread():
        import torch

        torch.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)
        started = time.perf_counter()
        try:
            tables = module.run_unit(cfg, unit)
        except Exception as err:
            detail = "".join(traceback.format_exception(err)) if os.environ.get("DLCLAIMS_TRACEBACK") else ""
            raise UnitError(f"unit {unit_label(unit)} failed: {type(err).__name__}: {err}"
                            + (f"\n{detail}" if detail else "")) from None
        return {k: v for k, v in tables.items()}, time.perf_counter() - started


def run_units(module: ModuleType, cfg, units: list[dict], ex: Executor, desc: str) -> list[tuple[Tables, float]]:
    """Every unit's tables and seconds, in unit order, whatever order they finish in."""
    blob = pickle.dumps(cfg)
    path, module_name = str(Path(module.__file__).resolve()), module.__name__
    futures = {ex.submit(execute_unit, path, module_name, blob, unit): i for i, unit in enumerate(units)}
    done: list = [None] * len(units)
    try:
        for future in progress(as_completed(futures), desc=desc, total=len(units)):
            done[futures[future]] = future.result()
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    return done


def concatenate(parts: Sequence[Tables]) -> Tables:
    """One table per name: the units' tables stacked in unit order."""
    order: list[str] = []
    for part in parts:
        order += [name for name in part if name not in order]
    return {name: pd.concat([p[name] for p in parts if name in p], ignore_index=True) for name in order}


# --- the run ---------------------------------------------------------------------------------

def judge(module: ModuleType, tables: Tables, cfg) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The claims table and the runner's own tables beside it (those with rows): per-claim seed
    counts (:func:`stats.seed_table`), per-seed values (:func:`stats.sample_table`) and the scope
    strip (:func:`claims.scope_table`); a claim-id mismatch or a reserved table name is one line."""
    contract.check_tables(module, tables)
    estimates = module.estimate(tables, cfg)
    contract.check_estimate_ids(module, estimates)
    beside = {results.SEEDS_TABLE: stats.seed_table(module.CLAIMS, estimates),
              results.SAMPLES_TABLE: stats.sample_table(module.CLAIMS, estimates),
              results.SCOPE_TABLE: claims_mod.scope_table(module.CLAIMS, estimates)}
    return claims_mod.evaluate(module.CLAIMS, estimates, cfg), {k: t for k, t in beside.items() if len(t)}


def claim_notes(module: ModuleType) -> dict[str, dict]:
    """What ``claims.csv`` does not sign but a reader of one claim needs (``dlclaims show``, the
    report): the margin's "no effect" value and reason, the scope knob, the figures that draw it."""
    figures = {figure_file(fn): list(getattr(fn, "claims", ())) for fn in getattr(module, "FIGURES", [])}
    notes = {}
    for c in module.CLAIMS:
        notes[c.id] = dict(
            null=c.rule.null if math.isfinite(c.rule.null) else None, why=c.rule.why,
            scope=dict(knob=c.scope.knob, lecture=str(c.scope.lecture), why=c.scope.why) if c.scope else None,
            figures=[f for f, ids in figures.items() if c.id in ids])
    return notes


def facts(module: ModuleType, tables: Tables, cfg) -> pd.DataFrame | None:
    """The analysis's named numbers for its method text (``facts(tables, cfg)``), as a table."""
    if not hasattr(module, "facts"):
        return None
    named = module.facts(tables, cfg)
    return pd.DataFrame(dict(name=list(named), value=[_fact_text(v) for v in named.values()]))


def _fact_text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.4g}"


@dataclasses.dataclass
class Plan:
    """One family's run, decided before any unit runs: its config, units and where it writes."""

    module: ModuleType
    args: Any
    argv: list[str]
    cfg: Any
    units: list[dict]
    workers: int
    target: Path
    why_scratch: str

    @property
    def name(self) -> str:
        return contract.name_of(self.module)


def plan(module: ModuleType, argv: Sequence[str], workers_default: int | None = None) -> Plan:
    """Parse ``argv`` for ``module`` and decide everything a run needs; :class:`UsageError`
    for bad input, before anything is computed or written."""
    name = contract.name_of(module)
    argv = list(argv)
    flags = {a.split("=", 1)[0] for a in argv}
    if "--quick" in flags and "--fidelity" in flags:
        raise UsageError("--quick and --fidelity were both given; --quick is --fidelity quick: use one")
    args = config.parser_for(module).parse_args(argv)
    if args.device not in contract.devices(module):
        raise UsageError(f"{name} does not support --device {args.device}; it runs on "
                         f"{', '.join(contract.devices(module))}")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise UsageError("--device cuda was asked for but no CUDA device is available; use --device cpu")
    cfg = config.configure(module, args)
    units = list(module.units(cfg))
    check_units(module, units)
    workers = min(args.workers or workers_default or config.default_workers(), len(units))
    contract.dry_estimate(module, cfg)
    root, why_scratch = results_root_for(module, args, argv)
    return Plan(module, args, argv, cfg, units, workers, root / name, why_scratch)


def run(module: ModuleType, argv: Sequence[str], quiet: bool = False, figures: bool = True) -> Path:
    """Parse ``argv``, run the units, judge the claims, write ``<out>/<name>/`` atomically.

    Raises :class:`UsageError` for bad input before anything is computed or written,
    :class:`UnitError` if a unit raises (previous results intact), :class:`FigureError` if a
    figure fails (the new tables are written).
    """
    p = plan(module, argv)
    if p.args.dry_run:
        print(dry_run_report(module, p.args.fidelity, p.units, p.workers))
        return Path()
    writable(p.target.parent)
    if p.args.fidelity == "quick" and not quiet:
        print(f"{p.name}: --quick is a smoke run; its verdicts are not the baseline's", file=sys.stderr)
    with results.locked(p.target.parent):
        results.recover(p.target)
        started = time.perf_counter()
        with executor(p.workers, p.args.scheduler) as ex:
            done = run_units(module, p.cfg, p.units, ex, desc=f"{p.name} units")
        return finish(p, done, time.perf_counter() - started, quiet=quiet, figures=figures)


def writable(root: Path) -> None:
    try:
        results.check_writable(root)
    except PermissionError as err:
        raise UsageError(str(err)) from None


def results_root_for(module: ModuleType, args, argv: Sequence[str]) -> tuple[Path, str]:
    """Where a run writes, and why not the baseline: only a default- or full-fidelity run of
    the committed configuration writes into ``results/`` (``results-full/`` for full); any
    other run (quick, changed seeds or sizes) goes to the scratch root unless ``--out`` says."""
    if args.out is not None:
        return Path(args.out), ""
    changed = [a.split("=", 1)[0] for a in argv if a.startswith("--") and a.split("=", 1)[0] not in _BASELINE_OPTIONS]
    if args.fidelity == "quick":
        return contract.scratch_results_root(), "--quick"
    if changed:
        return contract.scratch_results_root(), f"changed {', '.join(dict.fromkeys(changed))}"
    return (contract.full_results_root() if args.fidelity == "full" else contract.results_root()), ""


# flags that do not change what a run computes (or that pick the committed fidelity)
_BASELINE_OPTIONS = {"--fidelity", "--workers", "--scheduler", "--no-figures", "--device", "--dry-run"}


def finish(p: Plan, done: list[tuple[Tables, float]], compute_seconds: float, quiet: bool = False,
           figures: bool = True) -> Path:
    """From every unit's tables to the family's results folder, swapped in atomically: the
    tables concatenated in unit order, the claims judged, meta, then the figures."""
    module, cfg, units = p.module, p.cfg, p.units
    tables = concatenate([t for t, _ in done])
    if hasattr(module, "combine"):
        tables = {**tables, **module.combine(tables, cfg)}
    verdicts, beside = judge(module, tables, cfg)
    named = facts(module, tables, cfg)
    meta = dict(
        analysis=p.name,
        title=module.TITLE,
        lecture=module.LECTURE,
        fidelity=p.args.fidelity,
        argv=_strip_run_options(p.argv),
        config=dataclasses.asdict(cfg),
        amendments=[dict(entry=type(a).__name__.lower(), **dataclasses.asdict(a))
                    for a in getattr(module, "AMENDMENTS", [])],
        claims=claim_notes(module),
        compute_seconds=round(compute_seconds, 2),
        workers=p.workers,
        executor="dask" if p.args.scheduler else ("in-process" if p.workers == 1 else "process pool"),
        unit_seconds=[dict(unit=unit_label(u), seconds=round(s, 3)) for u, (_, s) in zip(units, done)],
        **results.environment(),
    )
    written = {**tables, **beside,
               **({results.FACTS_TABLE: named} if named is not None else {})}
    failed: list[str] = []
    with results.atomic_directory(p.target) as scratch:
        results.write_results(scratch, written, verdicts, meta)
        if figures and not p.args.no_figures:
            failed = draw_figures(module, results.read_tables(scratch), cfg, scratch)
    if not quiet:
        show = verdicts[["claim", "kind", "value", "ci_low", "ci_high", "verdict"]]
        print(f"\n{p.name}: {module.TITLE}  ({compute_seconds:.1f} s, {len(units)} units on {p.workers} "
              f"worker{'s' if p.workers > 1 else ''})")
        from tabulate import tabulate

        print(tabulate(show, headers="keys", showindex=False, floatfmt=".4g"))
        print(f"wrote {p.target}/" + (f" (not the committed baseline: {p.why_scratch})" if p.why_scratch else ""))
    if failed:
        raise FigureError(f"tables and claims written to {p.target}/, but figure(s) failed: {'; '.join(failed)}")
    return p.target


# --- the whole suite as one job ------------------------------------------------------------------

@dataclasses.dataclass
class Outcome:
    """What became of one family in a suite run."""

    name: str
    target: Path | None
    error: str = ""


def recorded_seconds(p: Plan) -> list[float]:
    """Each unit's seconds in the family's committed run (by its label); the committed mean
    for a unit that did not run there; 0 where the family has no committed run."""
    try:
        meta = results.read_meta(contract.results_root() / p.name)
        recorded = {u["unit"]: float(u["seconds"]) for u in meta.get("unit_seconds", [])}
    except (results.ResultsError, KeyError, TypeError, ValueError):
        recorded = {}
    mean = statistics.fmean(recorded.values()) if recorded else 0.0
    return [recorded.get(unit_label(u), mean) for u in p.units]


def run_all(plans: Sequence[Plan], workers: int, scheduler: str | None, quiet: bool = False,
            figures: bool = True) -> list[Outcome]:
    """Every family's units on one executor, longest first (by the recorded unit seconds);
    each family's results written as soon as its own units are done, while the others still
    run; a failing unit or figure is named and fails its family only (its previous results
    stay), the others go on."""
    order = sorted(((s, k, i) for k, p in enumerate(plans) for i, s in enumerate(recorded_seconds(p))),
                   key=lambda t: (-t[0], t[1], t[2]))
    done: list[list] = [[None] * len(p.units) for p in plans]
    left = [len(p.units) for p in plans]
    failed: dict[int, str] = {}
    outcomes: list[Outcome | None] = [None] * len(plans)
    started = [time.perf_counter()] * len(plans)
    total = sum(left)
    roots = sorted({p.target.parent for p in plans})
    for root in roots:
        writable(root)
    with contextlib.ExitStack() as stack:
        for root in roots:
            stack.enter_context(results.locked(root))
        for p in plans:
            results.recover(p.target)
        ex = stack.enter_context(executor(workers, scheduler))
        blobs = [pickle.dumps(p.cfg) for p in plans]
        futures = {}
        for _, k, i in order:
            p = plans[k]
            future = ex.submit(execute_unit, str(Path(p.module.__file__).resolve()), p.module.__name__, blobs[k],
                               p.units[i])
            futures[future] = (k, i)
        finished = 0
        ticker = Ticker(total, "suite", enabled=None if not quiet else False)
        try:
            for future in as_completed(futures):
                k, i = futures[future]
                finished += 1
                ticker.tick()
                if k in failed:
                    continue
                try:
                    done[k][i] = future.result()
                except UnitError as err:
                    failed[k] = str(err)
                    for other, (kk, _) in futures.items():
                        if kk == k:
                            other.cancel()
                    outcomes[k] = Outcome(plans[k].name, None, str(err))
                    _progress(quiet, f"{plans[k].name}: FAILED ({err}); its previous results stay", finished, total)
                    continue
                left[k] -= 1
                if left[k] == 0:
                    outcomes[k] = _finish_one(plans[k], done[k], time.perf_counter() - started[k], quiet, figures)
                    _progress(quiet, f"{plans[k].name}: " + ("written" if not outcomes[k].error else
                                                            f"FAILED ({outcomes[k].error})"), finished, total)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return [o for o in outcomes if o is not None]


def _finish_one(p: Plan, done, seconds: float, quiet: bool, figures: bool) -> Outcome:
    try:
        with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
            return Outcome(p.name, finish(p, done, seconds, quiet=True, figures=figures))
    except FigureError as err:
        return Outcome(p.name, p.target, str(err))
    except (contract.ContractError, ValueError) as err:
        return Outcome(p.name, None, f"{type(err).__name__}: {err}")


def _progress(quiet: bool, text: str, finished: int, total: int) -> None:
    if not quiet:
        print(f"[{finished}/{total} units] {text}", flush=True)


def suite_dry_run(plans: Sequence[Plan], workers: int) -> str:
    """The units of every family and the wall time the suite would take: at least the longest
    unit and at least the total over the workers (longest-first scheduling comes close to the
    larger of the two), at ``workers`` and, on paper, at 8, 64 and 256 workers."""
    seconds = [s for p in plans for s in recorded_seconds(p)]
    total, longest = sum(seconds), max(seconds, default=0.0)
    lines = [f"{len(plans)} families, {len(seconds)} units: {total:.0f} unit-seconds recorded, longest unit "
             f"{longest:.0f} s"]
    for p, s in zip(plans, (recorded_seconds(p) for p in plans)):
        lines.append(f"  {p.name:24s} {len(p.units):4d} units  {sum(s):7.0f} unit-s  longest {max(s, default=0):5.0f} s")
    for n in sorted({workers, 8, 64, 256}):
        bound = max(longest, total / n)
        lines.append(f"  on {n:3d} workers: at least {bound / 60:5.1f} min (max(longest unit, total / {n}))")
    measured = "no whole-suite run recorded in this results root yet"
    suite = contract.results_root() / results.SUITE_FILE
    try:
        last = json.loads(suite.read_text())
        measured = (f"{last['wall_seconds'] / 60:.1f} min on {last['workers']} worker(s) for "
                    f"{len(last['families'])} families (the last `run --all` into {suite.parent})")
    except (OSError, ValueError, KeyError, TypeError):
        pass
    lines.append(f"  measured: {measured}")
    return "\n".join(lines)


def figure_file(fn) -> str:
    return fn.__name__.removeprefix("figure_") + ".png"


def draw_figures(module: ModuleType, tables: Tables, cfg, directory: Path) -> list[str]:
    """Draw every figure from ``(tables, cfg)``; a failing one is named (with its error) and
    the others still drawn."""
    from dlclaims.suite import plots

    failed = []
    for fn in module.FIGURES:
        try:
            plots.save(fn(tables, cfg), Path(directory) / figure_file(fn))
        except Exception as err:  # noqa: BLE001 — reported by name, the run exits non-zero
            plots.close_all()
            failed.append(f"{fn.__name__}: {type(err).__name__}: {err}")
    return failed


def config_of(module: ModuleType, meta: Mapping):
    """The Config a results folder was made with, from its meta.json (for redrawing figures)."""
    names = {f.name for f in dataclasses.fields(module.Config)}
    values = {}
    for key, value in meta.get("config", {}).items():
        if key in names:
            default = getattr(module.Config(), key)
            values[key] = tuple(value) if isinstance(default, tuple) and isinstance(value, list) else value
    return dataclasses.replace(module.Config(), **values)


def dry_run_report(module: ModuleType, fidelity: str, units: list[dict], workers: int) -> str:
    """The units a run would compute and what they would cost: each unit's recorded seconds
    from the committed run where a unit of the same identity ran there, the committed mean
    for the others; the wall time on ``workers`` is at least the longest unit and at least
    the total over the workers. Units of another fidelity differ in size, which the estimate
    says (smaller for quick: an upper bound; larger for full: a lower bound)."""
    name = contract.name_of(module)
    lines = [f"{name}: fidelity {fidelity}, {len(units)} units, {workers} worker(s)"]
    lines += [f"  {i:4d}  {unit_label(u)}" for i, u in enumerate(units[:20])]
    if len(units) > 20:
        lines.append(f"  ... and {len(units) - 20} more")
    try:
        meta = results.read_meta(contract.results_root() / name)
        recorded = {u["unit"]: float(u["seconds"]) for u in meta.get("unit_seconds", [])}
    except (results.ResultsError, KeyError, TypeError, ValueError):
        meta, recorded = {}, {}
    if not recorded:
        lines.append("estimated cost: unknown (no committed run with per-unit times to scale from)")
        return "\n".join(lines)
    mean = statistics.fmean(recorded.values())
    seconds = [recorded.get(unit_label(u), mean) for u in units]
    matched = sum(unit_label(u) in recorded for u in units)
    total = sum(seconds)
    wall = max(max(seconds), total / workers)
    size = {"quick": "; quick units are smaller, so take it as an upper bound",
            "full": "; full units are larger, so take it as a lower bound"}.get(fidelity, "") \
        if fidelity != meta.get("fidelity") else ""
    lines.append(f"estimated cost: {total:.0f} unit-seconds, about {wall / 60:.1f} min on {workers} worker(s) "
                 f"(at least the longest unit, {max(seconds):.0f} s), from the committed {meta['fidelity']} run: "
                 f"{matched} of {len(units)} units by their own recorded time, the rest at its mean of "
                 f"{mean:.2f} s{size}")
    return "\n".join(lines)


# Options that decide where and how units run, not what they compute.
_RUN_OPTIONS = {"--out": True, "--workers": True, "--scheduler": True, "--device": False, "--dry-run": False,
                "--no-figures": False}


def _strip_run_options(argv: list[str]) -> list[str]:
    """The arguments that decide the numbers: what ``dlclaims check`` replays."""
    kept, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        flag = a.split("=", 1)[0]
        if flag in _RUN_OPTIONS and flag != "--device":
            skip = _RUN_OPTIONS[flag] and "=" not in a
            continue
        kept.append(a)
    return kept
