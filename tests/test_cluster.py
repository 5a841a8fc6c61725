"""Units on a Dask cluster: the same tables as one worker, a worker killed mid-run loses nothing,
and the full fidelity writes apart from the baseline. A real LocalCluster, no mocks."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from dlclaims.suite import cli, contract, executors, runner, results

distributed = pytest.importorskip("distributed", reason="the Dask extra (make test installs it)")

def csv_bytes(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.csv"))}


def test_a_worker_killed_mid_run_loses_nothing(scheduler, kill_a_worker, toy):
    address, _ = scheduler
    started = toy.parent / "started"
    reference = toy.parent / "reference"
    assert cli.main(["run", "toy", "--workers", "1", "--seeds", "8", "--out", str(reference)]) == 0
    killer, killed = kill_a_worker(started)
    assert cli.main(["run", "toy", "--scheduler", address, "--seeds", "8", "--sleep", "0.6", "--marker", str(started)]) == 0
    finished = time.monotonic()
    killer.join()
    assert killed and killed[0] < finished, "the worker was not killed while units ran"
    assert csv_bytes(toy / "toy") == csv_bytes(reference / "toy")
    assert sorted(p.name for p in toy.iterdir() if p.name != results.LOCK_FILE) == ["toy"]


def test_a_failing_unit_on_the_cluster_is_named_and_previous_results_stay(scheduler, toy, capsys):
    address, _ = scheduler
    assert cli.main(["run", "toy", "--workers", "1"]) == 0
    before = csv_bytes(toy / "toy")
    assert cli.main(["run", "toy", "--scheduler", address, "--seeds", "5", "--fail-seed", "2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["dlclaims: error: unit seed=2 failed: ValueError: this unit was told to fail"]
    assert csv_bytes(toy / "toy") == before


def test_the_local_scheduler_starts_its_own_cluster_without_dasks_malloc_setting(toy):
    assert cli.main(["run", "toy", "--scheduler", "local", "--workers", "2"]) == 0
    assert cli.main(["run", "toy", "--workers", "1", "--out", str(toy.parent / "one")]) == 0
    assert csv_bytes(toy / "toy") == csv_bytes(toy.parent / "one" / "toy")
    assert set(pd.read_csv(toy / "toy" / "values.csv").malloc_trim) == {"unset"}


def test_without_the_extra_the_scheduler_option_is_one_line_and_exit_2(toy, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    assert cli.main(["run", "toy", "--scheduler", "local"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install -e '.[dask]'" in err[0]
    assert not (toy / "toy").exists()


def test_an_unreachable_scheduler_is_one_line_and_exit_2(toy, capsys, monkeypatch):
    monkeypatch.setenv("DLCLAIMS_SCHEDULER_TIMEOUT", "1")
    assert cli.main(["run", "toy", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "as a Dask scheduler" in err[0]


def test_full_fidelity_dry_run_prints_units_and_cost_and_a_tiny_full_run_writes_apart(toy, capsys, monkeypatch):
    assert cli.main(["run", "toy", "--workers", "1"]) == 0  # the default run the estimate scales from
    capsys.readouterr()
    assert cli.main(["run", "toy", "--fidelity", "full", "--dry-run", "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "fidelity full, 40 units, 2 worker(s)" in out and "estimated cost:" in out and "lower bound" in out
    baseline = csv_bytes(toy / "toy")
    monkeypatch.setenv("DLCLAIMS_SCRATCH_RESULTS", str(toy.parent / "scratch"))
    assert cli.main(["run", "toy", "--fidelity", "full", "--workers", "1"]) == 0
    assert (toy.parent / "results-full" / "toy" / "values.csv").exists()
    assert cli.main(["run", "toy", "--fidelity", "full", "--seeds", "2", "--workers", "1"]) == 0  # changed: scratch
    assert (toy.parent / "scratch" / "toy" / "values.csv").exists()
    assert csv_bytes(toy / "toy") == baseline


def test_every_analysis_declares_a_full_fidelity():
    missing = [name for name in contract.names() if not hasattr(contract.load(name), "FULL")]
    assert missing == []


def test_dry_run_without_a_committed_run_says_the_cost_is_unknown(toy):
    module = contract.load("toy")
    text = runner.dry_run_report(module, "full", [dict(seed=0)], 1)
    assert "estimated cost: unknown" in text


def test_workers_with_dasks_malloc_setting_are_warned_in_one_line(capsys):
    """MALLOC_TRIM_THRESHOLD_=65536 (Dask's nanny default) made a torch unit 2.5x slower."""
    import dask

    with dask.config.set({executors.TRIM_SETTING: 65536}), distributed.LocalCluster(  # Dask's default, spelt out
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=50) as defaults:
        with executors.dask_executor(defaults.scheduler_address, 1) as ex:
            assert ex.submit(os.environ.get, "MALLOC_TRIM_THRESHOLD_").result() == "65536"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "MALLOC_TRIM_THRESHOLD_=65536" in err and executors.TRIM_SETTING in err
