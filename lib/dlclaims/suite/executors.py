"""Where units run: in this process, a local process pool, or a Dask cluster.

Each is a ``concurrent.futures.Executor``, so the runner maps units over any of them the
same way; every worker runs with one torch thread and one BLAS thread (:func:`init_worker`).

``--scheduler local`` starts a ``LocalCluster`` of ``--workers`` processes (one thread each);
any other value is a running scheduler's address (``tcp://host:8786``, e.g. one started by
dask-jobqueue on SLURM). A worker lost mid-run has its units re-run elsewhere by the scheduler.

Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``. That setting turns off
glibc's adaptive mmap threshold, so every large tensor torch frees goes back to the kernel
and the next allocation page-faults it in again: measured on one bn-hessian unit, 16.7 s in
a Dask worker against 6.5 s in a plain process, and a whole default run 308 s on a
LocalCluster of 2 against 149 s on the process pool. The local cluster starts its workers
without it; workers of a running scheduler that have it get a one-line warning.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from multiprocessing import get_context
from typing import Iterator

from dlclaims.suite.contract import UsageError

TRIM_SETTING = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
MISSING = ("--scheduler needs the Dask extra, which is not installed; run "
           "`.venv/bin/pip install -e '.[dask]'` (make test installs it)")
_BLAS_LIMIT = None  # held for the worker's whole life


def init_worker() -> None:
    """A worker process: one torch thread and one BLAS thread for its whole life; it dies with
    its parent (however that dies) and leaves Ctrl-C to the main process, which kills it."""
    from threadpoolctl import threadpool_limits
    import torch

    die_with_parent()
    if multiprocessing_child():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(1)
    global _BLAS_LIMIT
    _BLAS_LIMIT = threadpool_limits(1)


def multiprocessing_child() -> bool:
    import multiprocessing

    return multiprocessing.parent_process() is not None


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent exits (``prctl(PR_SET_PDEATHSIG)``), so a
    killed run leaves no worker behind. Elsewhere a no-op."""
    if sys.platform != "linux":
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


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
    """In-process for one worker, a process pool (forked from a preloaded server) for several,
    or a Dask cluster (``scheduler``: an address or 'local')."""
    if scheduler:
        with dask_executor(scheduler, workers) as ex:
            yield ex
    elif workers == 1:
        yield InProcess()
    else:
        # a fork server that has imported torch once: workers start in milliseconds, not seconds,
        # and fork from a process that never ran a torch thread pool (fork-safe)
        context = get_context("forkserver")
        context.set_forkserver_preload(["dlclaims.suite.forkserver"])
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker)
        try:
            yield pool
        except BaseException:
            kill_workers(pool)  # an interrupt or a failing unit: do not wait for the others
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def kill_workers(pool: ProcessPoolExecutor) -> None:
    """SIGKILL every worker of ``pool`` (the pool has no public way to stop running tasks)."""
    for process in list((pool._processes or {}).values()):
        if process.is_alive():
            process.kill()


@contextlib.contextmanager
def dask_executor(scheduler: str, workers: int) -> Iterator[Executor]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError(MISSING) from None
    if scheduler == "local":
        import dask

        with dask.config.set({TRIM_SETTING: None}), LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                silence_logs=40) as local, Client(local) as client:
            client.run(init_worker)
            yield client.get_executor(pure=False)
    else:
        try:
            client = Client(scheduler, timeout=float(os.environ.get("DLCLAIMS_SCHEDULER_TIMEOUT", 10)))
        except Exception as err:  # noqa: BLE001 — not a Dask scheduler, or none there: one line
            first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
            raise UsageError(f"cannot use '{scheduler}' as a Dask scheduler ({type(err).__name__}: {first}); "
                             f"give the address of a running dask-scheduler, or 'local'") from None
        with client:
            client.run(init_worker)
            trimmed = sorted({v for v in client.run(_trim_threshold).values() if v is not None})
            if trimmed:
                print(f"dlclaims: warning: the Dask workers run with MALLOC_TRIM_THRESHOLD_={trimmed[0]}, which made "
                      f"torch units 2-2.5x slower here; start them with the Dask setting {TRIM_SETTING}: null",
                      file=sys.stderr)
            yield client.get_executor(pure=False)


def _trim_threshold() -> str | None:
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")
