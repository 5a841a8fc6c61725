"""Shared fixtures: quick runs made once per session and shared by every test that reads them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import pytest

from dlclaims.suite import contract, runner


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory, testrun_uid) -> Callable[..., Path]:
    """``quick_run(name, workers=1)``: the results directory of a --quick run of ``name``,
    made once per test run, shared by pytest-xdist's processes through a file lock (treat as
    read-only). The folder is named for the test run (``testrun_uid``), so a later run never
    reads an earlier run's results. Only the one-worker run draws figures: the others exist to compare tables, and
    figures are most of a quick run's time."""
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent  # the same folder for every xdist process

    def get(name: str, workers: int = 1) -> Path:
        root = shared / f"quick-{testrun_uid[:12]}-{name}-w{workers}"
        with FileLock(str(root) + ".lock"):
            if not (root / name / "claims.csv").exists():
                runner.run(contract.load(name), ["--quick", "--workers", str(workers), "--out", str(root)],
                             quiet=True, figures=workers == 1)
        return root / name

    return get


@pytest.fixture
def toy(tmp_path, monkeypatch) -> Path:
    """A results root (returned) and an analyses folder holding only tests/toy/toy.py, a
    seconds-fast analysis whose units sleep, fail or break a figure on demand. In this sandbox
    the scratch root (where runs that are not the committed configuration write) is the same
    folder, so tests of other mechanisms can change the toy's sizes freely; the baseline's
    protection is tested with its own roots."""
    folder = tmp_path / "analyses"
    folder.mkdir()
    shutil.copy(Path(__file__).parent / "toy" / "toy.py", folder / "toy.py")
    monkeypatch.setenv("DLCLAIMS_ANALYSES", str(folder))
    monkeypatch.setenv("DLCLAIMS_FULL_RESULTS", str(tmp_path / "results-full"))
    root = tmp_path / "results"
    monkeypatch.setenv("DLCLAIMS_RESULTS", str(root))
    monkeypatch.setenv("DLCLAIMS_SCRATCH_RESULTS", str(root))
    return root


@pytest.fixture(scope="module")
def scheduler():
    """A two-process Dask LocalCluster shared by a module's tests: its address and its client."""
    distributed = pytest.importorskip("distributed", reason="the Dask extra (make test installs it)")
    import dask

    from dlclaims.suite.executors import TRIM_SETTING

    with dask.config.set({TRIM_SETTING: None}), distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
            silence_logs=50) as local, distributed.Client(local) as client:
        yield local.scheduler_address, client


@pytest.fixture(scope="session")
def quick_results(quick_run) -> Path:
    """A results root holding a --quick activation-collapse run (treat as read-only)."""
    return quick_run("activation-collapse").parent


@pytest.fixture
def results_copy(quick_results, tmp_path) -> Path:
    """A private, writable copy of the quick results root."""
    root = tmp_path / "results"
    shutil.copytree(quick_results, root)
    return root


@pytest.fixture
def kill_a_worker(scheduler):
    """``kill_a_worker(started)``: a thread that SIGKILLs one Dask worker once the file
    ``started`` exists (a unit has begun); returns the thread and the list it appends the
    kill time to. Join the thread after the run."""
    import os
    import signal
    import threading
    import time

    _, client = scheduler

    def start(started: Path):
        killed: list[float] = []

        def kill_one_worker_once_units_run():
            deadline = time.monotonic() + 60
            while not started.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.2)
            os.kill(sorted(client.run(os.getpid).values())[0], signal.SIGKILL)
            killed.append(time.monotonic())

        started.unlink(missing_ok=True)
        killer = threading.Thread(target=kill_one_worker_once_units_run)
        killer.start()
        return killer, killed

    yield start
    client.wait_for_workers(2, timeout=60)  # the nanny restarts it, for the next test
