"""The whole suite as one job against the families one after another (make bench): the same
CSVs, `run --all` at least 10% faster on 2 workers, and the dry run's estimate beside the
measured wall time. Both sides timed in one test, as a user runs them (fresh processes)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlclaims.suite import contract

pytestmark = [pytest.mark.bench, pytest.mark.slow]
FIDELITY = os.environ.get("DLCLAIMS_BENCH_FIDELITY", "default")  # 'quick' for a smoke of the benchmark itself


def dlclaims(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dlclaims", *args], check=True, capture_output=True)
    return time.perf_counter() - started


def csv_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.csv"))}


def test_one_job_is_faster_than_the_families_one_after_another(tmp_path):
    fidelity = ["--fidelity", FIDELITY]
    apart, together = tmp_path / "apart", tmp_path / "together"
    sequential = sum(dlclaims("run", name, *fidelity, "--workers", "2", "--out", str(apart))
                     for name in contract.names())
    job = dlclaims("run", "--all", *fidelity, "--workers", "2", "--out", str(together))
    estimate = subprocess.run([sys.executable, "-m", "dlclaims", "run", "--all", "--dry-run", "--workers", "2"],
                              check=True, capture_output=True, text=True).stdout
    bound = [line for line in estimate.splitlines() if "on   2 workers" in line]
    print(f"\nfamilies one after another: {sequential:.0f} s; one job: {job:.0f} s; ratio {job / sequential:.2f}; "
          f"dry-run bound for 2 workers: {bound[0].strip() if bound else '?'}")
    assert csv_bytes(apart) == csv_bytes(together)
    assert job <= 0.9 * sequential
