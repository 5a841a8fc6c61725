"""The whole suite as one job (`dlclaims run --all`): the same tables as family by family, a
failing family named while the others are written, a dry run that bounds the wall time, and a
Dask worker lost mid-job losing nothing."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from dlclaims.suite import cli, results

TOY = Path(__file__).parent / "toy" / "toy.py"


def csv_bytes(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.csv"))}


@pytest.fixture
def two_toys(toy) -> Path:
    """The toy twice, as two families (toy, toy-two)."""
    shutil.copy(TOY, Path(os.environ["DLCLAIMS_ANALYSES"]) / "toy_two.py")
    return toy


def test_one_job_writes_the_same_tables_as_family_by_family(two_toys, capsys):
    apart = two_toys.parent / "apart"
    for name in ("toy", "toy-two"):
        # the same executor on both sides: the toy records its worker's environment (Dask's malloc setting)
        assert cli.main(["run", name, "--quick", "--workers", "2", "--no-figures", "--out", str(apart)]) == 0
    together = two_toys.parent / "together"
    assert cli.main(["run", "--all", "--quick", "--workers", "2", "--no-figures", "--out", str(together)]) == 0
    out = capsys.readouterr().out
    assert "2 of 2 families written" in out and "toy-two: written" in out
    for name in ("toy", "toy-two"):
        assert csv_bytes(together / name) == csv_bytes(apart / name) != {}


def test_a_failing_family_keeps_its_results_and_the_others_are_written(two_toys, capsys):
    assert cli.main(["run", "--all", "--workers", "2"]) == 0
    before = csv_bytes(two_toys / "toy")
    broken = Path(os.environ["DLCLAIMS_ANALYSES"]) / "toy.py"
    broken.write_text(broken.read_text().replace('if unit["seed"] == cfg.fail_seed:', 'if unit["seed"] == 2:'))
    import sys

    for key in [k for k in sys.modules if k.startswith("dlclaims_analyses.")]:
        del sys.modules[key]
    (two_toys / "toy-two" / "values.csv").unlink()  # to see it rewritten
    capsys.readouterr()
    assert cli.main(["run", "--all", "--workers", "2"]) == 1
    out, err = capsys.readouterr()
    assert "toy: unit seed=2 failed: ValueError: this unit was told to fail" in err
    assert "failed: toy" in out and "toy-two: written" in out
    assert csv_bytes(two_toys / "toy") == before
    assert (two_toys / "toy-two" / "values.csv").exists()
    for key in [k for k in sys.modules if k.startswith("dlclaims_analyses.")]:
        del sys.modules[key]


def test_a_failing_figure_names_its_family_and_keeps_its_tables(two_toys, capsys):
    assert cli.main(["run", "--all", "--workers", "2", "--broken-figure", "1"]) == 1
    _, err = capsys.readouterr()
    assert "figure_broken" in err and (two_toys / "toy" / "values.csv").exists()


def test_selection_and_bad_names_are_one_line(two_toys, capsys):
    assert cli.main(["run", "--all", "--only", "toy-two", "--workers", "1", "--no-figures"]) == 0
    assert not (two_toys / "toy").exists() and (two_toys / "toy-two").exists()
    assert cli.main(["run", "--all", "--skip", "toy,toy-two"]) == 2
    assert "no analysis selected" in capsys.readouterr().err
    assert cli.main(["run", "--all", "--only", "nope"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_the_dry_run_bounds_the_wall_time_from_the_recorded_units(two_toys, capsys):
    assert cli.main(["run", "--all", "--workers", "2", "--no-figures"]) == 0
    capsys.readouterr()
    assert cli.main(["run", "--all", "--dry-run", "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 families, 8 units" in out
    for n in (2, 8, 64, 256):
        assert f"on {n:3d} workers: at least" in out
    assert "measured:" in out


def test_a_worker_killed_mid_job_loses_nothing(scheduler, kill_a_worker, two_toys):
    address, _ = scheduler
    started = two_toys.parent / "started"
    reference = two_toys.parent / "reference"
    assert cli.main(["run", "--all", "--workers", "1", "--seeds", "6", "--no-figures", "--out", str(reference)]) == 0
    killer, killed = kill_a_worker(started)
    assert cli.main(["run", "--all", "--scheduler", address, "--seeds", "6", "--sleep", "0.5", "--no-figures",
                     "--marker", str(started)]) == 0
    finished = time.monotonic()
    killer.join()
    assert killed and killed[0] < finished, "the worker was not killed while units ran"
    for name in ("toy", "toy-two"):
        assert csv_bytes(two_toys / name) == csv_bytes(reference / name)
    assert sorted(p.name for p in two_toys.iterdir() if p.name not in (results.LOCK_FILE, results.SUITE_FILE)) == [
        "toy", "toy-two"]
