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
import json
import os
import pickle
import random
import sys
import time
import traceback
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from types import ModuleType
from typing import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from dlclaims import analysis, results
from dlclaims import claims as claims_mod
from dlclaims.progress import progress
from dlclaims.threads import one_thread

Tables = dict[str, pd.DataFrame]


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
    where = f"analyses/{Path(module.__file__).name}"
    if not units:
        raise analysis.ContractError(f"{where}: units(cfg) returned no units")
    for unit in units:
        if not isinstance(unit, dict):
            raise analysis.ContractError(f"{where}: a unit must be a dict of plain values, got {unit!r}")
    labels = [json.dumps(u, sort_keys=True, default=str) for u in units]
    if len(set(labels)) != len(labels):
        raise analysis.ContractError(f"{where}: units(cfg) returned the same unit twice")


def execute_unit(path: str, module_name: str, cfg_blob: bytes, unit: dict) -> tuple[Tables, float]:
    """Run one unit wherever it lands (this process, a pool worker, a Dask worker)."""
    module = analysis.load_path(Path(path), module_name)
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


# --- executors -------------------------------------------------------------------------------

def _init_worker() -> None:
    """A pool worker: one torch thread and one BLAS thread for its whole life."""
    from threadpoolctl import threadpool_limits
    import torch

    torch.set_num_threads(1)
    global _BLAS_LIMIT
    _BLAS_LIMIT = threadpool_limits(1)


class InProcess(Executor):
    """The executor for one worker: units run here, one after another, in unit order."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 — handed to the caller through the future
            if isinstance(err, KeyboardInterrupt):
                raise
            future.set_exception(err)
        return future


@contextlib.contextmanager
def executor(workers: int, scheduler: str | None = None) -> Iterator[Executor]:
    """A ``concurrent.futures.Executor`` for the units: in-process for one worker, a spawned
    process pool (forked from a preloaded server) for several, or a Dask cluster (``scheduler``: an address or 'local')."""
    if scheduler:
        from dlclaims import cluster

        with cluster.dask_executor(scheduler, workers) as ex:
            yield ex
    elif workers == 1:
        yield InProcess()
    else:
        # a fork server that has imported torch once: workers start in milliseconds, not seconds,
        # and fork from a process that never ran a torch thread pool (fork-safe)
        context = get_context("forkserver")
        context.set_forkserver_preload(["dlclaims.runner"])
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker)
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


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

def run(module: ModuleType, argv: Sequence[str], quiet: bool = False, figures: bool = True) -> Path:
    """Parse ``argv``, run the units, judge the claims, write ``<out>/<name>/`` atomically.

    Raises :class:`analysis.UsageError` for bad input before anything is computed or written,
    :class:`UnitError` if a unit raises (previous results intact), :class:`FigureError` if a
    figure fails (the new tables are written).
    """
    name = analysis.name_of(module)
    argv = list(argv)
    args = analysis.parser_for(module).parse_args(argv)
    if args.device not in analysis.devices(module):
        raise analysis.UsageError(f"{name} does not support --device {args.device}; it runs on "
                                  f"{', '.join(analysis.devices(module))}")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise analysis.UsageError("--device cuda was asked for but no CUDA device is available; use --device cpu")
    cfg = analysis.configure(module, args)
    units = list(module.units(cfg))
    check_units(module, units)
    workers = min(args.workers or analysis.default_workers(), len(units))
    if args.dry_run:
        from dlclaims import cluster

        print(cluster.dry_run_report(module, args.fidelity, units, workers))
        return Path()
    default_root = analysis.full_results_root() if args.fidelity == "full" else analysis.results_root()
    root = Path(args.out) if args.out is not None else default_root
    try:
        results.check_writable(root)
    except PermissionError as err:
        raise analysis.UsageError(str(err)) from None
    target = root / name
    results.recover(target)
    if args.fidelity == "quick" and not quiet:
        print(f"{name}: --quick is a smoke run; its verdicts are not the baseline's", file=sys.stderr)

    started = time.perf_counter()
    with executor(workers, args.scheduler) as ex:
        done = run_units(module, cfg, units, ex, desc=f"{name} units")
    tables = concatenate([t for t, _ in done])
    if hasattr(module, "combine"):
        tables = {**tables, **module.combine(tables, cfg)}
    verdicts = claims_mod.evaluate(module.CLAIMS, module.estimate(tables, cfg))
    compute_seconds = time.perf_counter() - started

    meta = dict(
        analysis=name,
        title=module.TITLE,
        lecture=module.LECTURE,
        notes=getattr(module, "NOTES", ""),
        fidelity=args.fidelity,
        argv=_strip_run_options(argv),
        config=dataclasses.asdict(cfg),
        amendments=[dataclasses.asdict(a) for a in getattr(module, "AMENDMENTS", [])],
        compute_seconds=round(compute_seconds, 2),
        workers=workers,
        executor="dask" if args.scheduler else ("in-process" if workers == 1 else "process pool"),
        unit_seconds=[dict(unit=unit_label(u), seconds=round(s, 3)) for u, (_, s) in zip(units, done)],
        **results.environment(),
    )
    failed: list[str] = []
    with results.atomic_directory(target) as scratch:
        results.write_results(scratch, tables, verdicts, meta)
        if figures and not args.no_figures:
            failed = draw_figures(module, results.read_tables(scratch), scratch)
    if not quiet:
        show = verdicts[["claim", "kind", "value", "ci_low", "ci_high", "verdict"]]
        print(f"\n{name}: {module.TITLE}  ({compute_seconds:.1f} s, {len(units)} units on {workers} "
              f"worker{'s' if workers > 1 else ''})")
        from tabulate import tabulate

        print(tabulate(show, headers="keys", showindex=False, floatfmt=".4g"))
        print(f"wrote {target}/")
    if failed:
        raise FigureError(f"tables and claims written to {target}/, but figure(s) failed: {'; '.join(failed)}")
    return target


def figure_file(fn) -> str:
    return fn.__name__.removeprefix("figure_") + ".png"


def draw_figures(module: ModuleType, tables: Tables, directory: Path) -> list[str]:
    """Draw every figure; a failing one is named (with its error) and the others still drawn."""
    from dlclaims import plots

    failed = []
    for fn in module.FIGURES:
        try:
            plots.save(fn(tables), Path(directory) / figure_file(fn))
        except Exception as err:  # noqa: BLE001 — reported by name, the run exits non-zero
            plots.close_all()
            failed.append(f"{fn.__name__}: {type(err).__name__}: {err}")
    return failed


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
