"""Running units beyond one machine: a Dask cluster as the executor, and cost estimates.

``--scheduler local`` starts a ``LocalCluster`` of ``--workers`` processes (one thread each,
one torch thread each); any other value is a running scheduler's address (``tcp://host:8786``,
e.g. one started by dask-jobqueue on SLURM). Dask's ``Client.get_executor()`` is a
``concurrent.futures.Executor``, so the runner maps units over it exactly as over its own
process pool; a worker lost mid-run has its units re-run elsewhere by the scheduler.

Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``. That setting turns off
glibc's adaptive mmap threshold, so every large tensor torch frees goes back to the kernel
and the next allocation page-faults it in again: measured on one bn-hessian unit, 16.7 s in
a Dask worker against 6.5 s in a plain process, and a whole default run 308 s on a
LocalCluster of 2 against 149 s on the process pool. The local cluster starts its workers
without it; workers of a running scheduler that have it get a one-line warning.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
from pathlib import Path
from types import ModuleType
from typing import Iterator

from dlclaims import analysis, results

TRIM_SETTING = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
MISSING = ("--scheduler needs the Dask extra, which is not installed; run "
           "`.venv/bin/pip install -e '.[dask]'` (make test installs it)")


@contextlib.contextmanager
def dask_executor(scheduler: str, workers: int) -> Iterator:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise analysis.UsageError(MISSING) from None
    if scheduler == "local":
        import dask

        with dask.config.set({TRIM_SETTING: None}), LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                silence_logs=40) as local, Client(local) as client:
            client.run(_one_thread)
            yield client.get_executor(pure=False)
    else:
        try:
            client = Client(scheduler, timeout=float(os.environ.get("DLCLAIMS_SCHEDULER_TIMEOUT", 10)))
        except (OSError, TimeoutError, ValueError) as err:
            raise analysis.UsageError(f"cannot reach the Dask scheduler at '{scheduler}' ({err})") from None
        with client:
            client.run(_one_thread)
            trimmed = sorted({v for v in client.run(_trim_threshold).values() if v is not None})
            if trimmed:
                print(f"dlclaims: warning: the Dask workers run with MALLOC_TRIM_THRESHOLD_={trimmed[0]}, which made "
                      f"torch units 2-2.5x slower here; start them with the Dask setting {TRIM_SETTING}: null",
                      file=sys.stderr)
            yield client.get_executor(pure=False)


def _trim_threshold() -> str | None:
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def _one_thread() -> None:
    from dlclaims.runner import _init_worker

    _init_worker()


def dry_run_report(module: ModuleType, fidelity: str, units: list[dict], workers: int) -> str:
    """The units a run would compute and what they would cost, from the committed default
    run's per-unit times (the mean unit time, scaled by the unit count; units of a bigger
    fidelity are bigger too, so it is a lower bound there)."""
    name = analysis.name_of(module)
    lines = [f"{name}: fidelity {fidelity}, {len(units)} units, {workers} worker(s)"]
    lines += [f"  {i:4d}  " + " ".join(f"{k}={v}" for k, v in u.items()) for i, u in enumerate(units[:20])]
    if len(units) > 20:
        lines.append(f"  ... and {len(units) - 20} more")
    try:
        meta = results.read_meta(analysis.results_root() / name)
        per_unit = [u["seconds"] for u in meta.get("unit_seconds", [])]
    except results.ResultsError:
        per_unit = []
    if per_unit:
        mean = statistics.fmean(per_unit)
        total = mean * len(units)
        lines.append(f"estimated cost: {total:.0f} unit-seconds ({total / workers / 60:.1f} min on {workers} "
                     f"worker(s)), from the committed {meta['fidelity']} run's mean of {mean:.2f} s a unit"
                     + ("; full units are larger, so take it as a lower bound" if fidelity == "full" else ""))
    else:
        lines.append("estimated cost: unknown (no committed run with per-unit times to scale from)")
    return "\n".join(lines)
