"""The runner: same tables whatever the executor, one line for a failing unit, tables kept when a
figure fails, and a complete results directory at every instant of a run, even under SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from dlclaims.suite import cli, results, runner

TOY = Path(__file__).parent / "toy" / "toy.py"


def dlclaims(*args, started: Path | None = None):
    """Start ``dlclaims ARGS``; with ``started``, return once its first unit runs."""
    env = {**os.environ, "CI": "1"}
    if started is not None:
        started.unlink(missing_ok=True)
        args = (*args, "--marker", str(started))
    proc = subprocess.Popen([sys.executable, "-m", "dlclaims", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 90
    while started is not None and not started.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc


def csv_bytes(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.csv"))}


def complete(directory: Path) -> bool:
    names = {p.name for p in directory.iterdir()}
    return {"meta.json", "claims.csv", "values.csv"} <= names


def test_units_run_in_worker_processes_and_in_unit_order(toy):
    assert cli.main(["run", "toy", "--workers", "2", "--seeds", "5"]) == 0
    values = pd.read_csv(toy / "toy" / "values.csv")
    assert values.seed.tolist() == [s for s in range(5) for _ in range(5)]
    # the unseeded draw comes from the runner's per-unit seed: distinct per unit, same every run
    assert values.groupby("seed").unseeded.first().nunique() == 5
    again = toy.parent / "again"
    assert cli.main(["run", "toy", "--workers", "1", "--seeds", "5", "--out", str(again)]) == 0
    assert csv_bytes(again / "toy") == csv_bytes(toy / "toy")


def test_a_failing_unit_is_named_and_the_previous_results_stay(toy, capsys):
    assert cli.main(["run", "toy", "--workers", "1"]) == 0
    before = csv_bytes(toy / "toy")
    assert cli.main(["run", "toy", "--workers", "2", "--seeds", "6", "--fail-seed", "3"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["dlclaims: error: unit seed=3 failed: ValueError: this unit was told to fail"]
    assert csv_bytes(toy / "toy") == before
    assert sorted(p.name for p in toy.iterdir() if p.name != results.LOCK_FILE) == ["toy"]


def test_a_failing_figure_keeps_the_tables_and_exits_non_zero(toy, capsys):
    assert cli.main(["run", "toy", "--workers", "1", "--broken-figure", "1"]) == 1
    err = capsys.readouterr().err
    assert "figure_broken" in err and "told to break" in err and "tables and claims written" in err
    written = {p.name for p in (toy / "toy").iterdir()}
    assert {"values.csv", "claims.csv", "meta.json", "values.png"} <= written
    assert "broken.png" not in written


def test_the_recorded_arguments_leave_out_where_and_how_units_ran(toy):
    assert cli.main(["run", "toy", "--workers", "2", "--seeds", "3", "--out", str(toy)]) == 0
    import json

    meta = json.loads((toy / "toy" / "meta.json").read_text())
    assert meta["argv"] == ["--seeds", "3"]
    assert meta["workers"] == 2 and meta["executor"] == "process pool"
    assert [u["unit"] for u in meta["unit_seconds"]] == ["seed=0", "seed=1", "seed=2"]


def test_a_device_the_analysis_does_not_support_is_refused(toy, capsys):
    assert cli.main(["run", "toy", "--device", "cuda"]) == 2
    assert "does not support --device cuda" in capsys.readouterr().err


def test_a_broken_analysis_file_fails_at_load_in_one_line(toy, capsys):
    folder = Path(os.environ["DLCLAIMS_ANALYSES"])
    (folder / "broken.py").write_text(TOY.read_text().replace("def units(", "def no_units("))
    started = time.perf_counter()
    assert cli.main(["run", "broken", "--quick"]) == 2
    assert time.perf_counter() - started < 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "analyses/broken.py: missing units" in err[0]


def test_sigkill_at_any_moment_leaves_a_complete_directory_and_the_next_run_cleans_up(toy):
    assert cli.main(["run", "toy", "--workers", "1"]) == 0
    first = csv_bytes(toy / "toy")
    # from import to the last rename: before the units, while they run, while writing
    for delay in (None, 0.0, 1.6):
        started = None if delay is None else toy.parent / "started"
        proc = dlclaims("run", "toy", "--workers", "2", "--seeds", "6", "--sleep", "0.5", "--out", str(toy),
                        started=started)
        time.sleep(delay or 1.0)
        proc.kill()
        proc.wait()
        assert complete(toy / "toy"), f"incomplete after SIGKILL at {delay} s"
    assert cli.main(["run", "toy", "--workers", "1"]) == 0
    assert csv_bytes(toy / "toy") == first
    left = sorted(p.name for p in toy.iterdir() if p.name != results.LOCK_FILE)
    assert left == ["toy"], "scratch of killed runs left behind"


def test_sigint_leaves_the_previous_results(toy):
    assert cli.main(["run", "toy", "--workers", "1"]) == 0
    before = csv_bytes(toy / "toy")
    proc = dlclaims("run", "toy", "--workers", "1", "--seeds", "20", "--sleep", "0.5", "--out", str(toy),
                    started=toy.parent / "started")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "previous results left intact" in err
    assert csv_bytes(toy / "toy") == before
    assert sorted(p.name for p in toy.iterdir() if p.name != results.LOCK_FILE) == ["toy"]


def test_strip_run_options():
    argv = ["--seeds", "3", "--out", "x", "--workers=2", "--scheduler", "local", "--dry-run", "--quick", "--no-figures"]
    assert runner._strip_run_options(argv) == ["--seeds", "3", "--quick"]


def test_concatenate_keeps_unit_order_and_tables_only_some_units_return():
    a = {"t": pd.DataFrame({"x": [1]}), "only_first": pd.DataFrame({"y": [0]})}
    b = {"t": pd.DataFrame({"x": [2]})}
    out = runner.concatenate([a, b])
    assert out["t"].x.tolist() == [1, 2] and out["only_first"].y.tolist() == [0]


def test_unit_seeds_depend_on_the_unit_only():
    assert runner.unit_seed("a", {"seed": 1}) == runner.unit_seed("a", {"seed": 1})
    assert runner.unit_seed("a", {"seed": 1}) != runner.unit_seed("a", {"seed": 2})
    assert runner.unit_seed("a", {"seed": 1, "v": "x"}) == runner.unit_seed("a", {"v": "x", "seed": 1})
