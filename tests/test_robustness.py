"""The baseline cannot be overwritten by accident, no worker outlives its run, and every
damaged file or bad argument is one line and exit 2 with results/ unchanged."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from dlclaims.suite import cli, contract, results

REPO = contract.REPO


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != results.LOCK_FILE}


def one_line(capsys, *names: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    for name in names:
        assert name in err[0], err[0]
    return err[0]


# --- the committed baseline ----------------------------------------------------------------------

def test_a_quick_run_without_out_leaves_the_committed_results_byte_identical(tmp_path, monkeypatch):
    """What `make analyses RUN_ARGS=--quick` does, on the real analyses and the real results/."""
    before = snapshot(REPO / "results")
    env = {**os.environ, "DLCLAIMS_SCRATCH_RESULTS": str(tmp_path / "scratch"), "CI": "1"}
    env.pop("DLCLAIMS_RESULTS", None)
    proc = subprocess.run([sys.executable, "-m", "dlclaims", "run", "activation-collapse", "--quick", "--no-figures",
                           "--workers", "1"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "scratch" / "activation-collapse" / "claims.csv").exists()
    assert "not the committed baseline: --quick" in proc.stdout
    assert snapshot(REPO / "results") == before


def test_only_the_committed_configuration_writes_the_baseline(toy, monkeypatch, capsys):
    scratch = toy.parent / "scratch"
    monkeypatch.setenv("DLCLAIMS_SCRATCH_RESULTS", str(scratch))
    assert cli.main(["run", "toy", "--workers", "1"]) == 0
    baseline = snapshot(toy)
    for argv in (["--quick"], ["--seeds", "5"], ["--sleep", "0.002"]):
        assert cli.main(["run", "toy", "--workers", "1", *argv]) == 0
        assert snapshot(toy) == baseline, argv
        assert f"wrote {scratch / 'toy'}/ (not the committed baseline" in capsys.readouterr().out
    assert cli.main(["run", "toy", "--workers", "2", "--fidelity", "default", "--no-figures"]) == 0
    assert (toy / "toy" / "claims.csv").exists()


def test_result_folders_keep_normal_permissions(toy):
    assert cli.main(["run", "toy", "--workers", "1"]) == 0
    mask = os.umask(0)
    os.umask(mask)
    assert (toy / "toy").stat().st_mode & 0o777 == 0o777 & ~mask


def test_a_second_run_into_the_same_root_is_refused_in_one_line(toy, capsys):
    with results.locked(toy):
        assert cli.main(["run", "toy", "--workers", "1"]) == 2
        one_line(capsys, "another dlclaims run", str(toy))
    assert cli.main(["run", "toy", "--workers", "1"]) == 0  # released


# --- interrupts and orphans -----------------------------------------------------------------------

def _descendants(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        p, pp = map(int, line.split())
        children.setdefault(pp, []).append(p)
    found, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in found:
                found.add(c)
                todo.append(c)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for p in pids:
        try:
            os.kill(p, 0)
        except ProcessLookupError:
            continue
        status = Path(f"/proc/{p}/stat")
        if status.exists() and status.read_text().split()[2] == "Z":  # a zombie is dead, only unreaped
            continue
        alive.add(p)
    return alive


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_no_process_of_a_killed_run_is_alive_five_seconds_later(toy, how):
    started = toy.parent / "started"
    env = {**os.environ, "CI": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "dlclaims", "run", "toy", "--workers", "2", "--seeds", "8",
                             "--sleep", "5", "--marker", str(started)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 90
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    family = _descendants(proc.pid)
    assert family, "the run started no worker"
    proc.send_signal(how)
    _, err = proc.communicate(timeout=30)
    if how == signal.SIGTERM:
        assert proc.returncode == 130 and err.strip().splitlines() == [
            "dlclaims: interrupted; previous results left intact"], err
    time.sleep(5)
    assert _alive(family) == set()


# --- one line and exit 2 -------------------------------------------------------------------------

@pytest.mark.parametrize("args, names", [
    (["--quick", "--fidelity", "full"], "--quick and --fidelity"),
    (["--out", ""], "empty path"),
    (["--seeds", "99999999999999999999"], "more than"),
    (["--seeds", "1000000000", "--dry-run"], "more than"),
])
def test_contradictory_empty_or_absurd_arguments_are_one_line(toy, capsys, args, names):
    before = snapshot(toy.parent)
    started = time.perf_counter()
    assert cli.main(["run", "toy", *args]) == 2
    assert time.perf_counter() - started < 5
    one_line(capsys, names)
    assert snapshot(toy.parent) == before


def test_a_scheduler_address_that_is_not_dask_is_one_line(toy, capsys, monkeypatch):
    pytest.importorskip("distributed")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]

    def answer():  # an HTTP-like service: garbage for Dask's protocol
        for _ in range(4):
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 64)
            conn.close()

    threading.Thread(target=answer, daemon=True).start()
    monkeypatch.setenv("DLCLAIMS_SCHEDULER_TIMEOUT", "3")
    try:
        assert cli.main(["run", "toy", "--scheduler", f"tcp://127.0.0.1:{port}"]) == 2
    finally:
        server.close()
    one_line(capsys, "as a Dask scheduler")


def test_an_inherited_notebook_backend_does_not_break_the_command(tmp_path):
    env = {**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    proc = subprocess.run([sys.executable, "-m", "dlclaims", "list"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr


# --- damaged results ------------------------------------------------------------------------------

def _damage_claims(d: Path, **row):
    table = pd.read_csv(d / "claims.csv")
    for column, value in row.items():
        table.loc[0, column] = value
    table.to_csv(d / "claims.csv", index=False)


DAMAGE = {
    "meta.json deleted": (lambda d: (d / "meta.json").unlink(), "no meta.json"),
    "meta.json field of the wrong type": (
        lambda d: (d / "meta.json").write_text(json.dumps({**json.loads((d / "meta.json").read_text()),
                                                           "argv": "--quick"})), "field 'argv'"),
    "value outside its interval": (lambda d: _damage_claims(d, value=1e9), "outside its interval"),
    "verdict the rule does not give": (lambda d: _damage_claims(d, rule="≥ 1e9"), "disagrees"),
    "inf that holds": (lambda d: _damage_claims(d, value=float("inf"), ci_low=0.0, ci_high=float("inf"),
                                                rule="anything", verdict="holds"), "non-finite"),
    "empty value": (lambda d: _damage_claims(d, value=float("nan"), verdict="holds"), "disagrees"),
    "a claim row deleted": (lambda d: pd.read_csv(d / "claims.csv").iloc[1:].to_csv(d / "claims.csv", index=False),
                            "missing"),
    "claims.csv is a folder": (lambda d: ((d / "claims.csv").unlink(), (d / "claims.csv").mkdir()), "claims.csv"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damaged_results_are_one_line_for_report_and_check(results_copy, capsys, case):
    damage, names = DAMAGE[case]
    assert cli.main(["report", "--results", str(results_copy)]) == 0
    before = (results_copy / "README.md").read_bytes()
    capsys.readouterr()
    damage(results_copy / "activation-collapse")
    assert cli.main(["report", "--results", str(results_copy)]) == 2
    one_line(capsys, names)
    assert (results_copy / "README.md").read_bytes() == before
    assert cli.main(["check", "--results", str(results_copy), "activation-collapse"]) == 2
    one_line(capsys)


def test_the_report_into_a_folder_named_readme_or_an_unwritable_place_is_one_line(results_copy, capsys):
    (results_copy / ".README.md.tmp").mkdir()  # the report cannot write its temporary file
    assert cli.main(["report", "--results", str(results_copy)]) == 2
    one_line(capsys, "cannot write the report")
    (results_copy / ".README.md.tmp").rmdir()
    (results_copy / "README.md").unlink(missing_ok=True)
    (results_copy / "README.md").mkdir()
    assert cli.main(["report", "--results", str(results_copy)]) == 2
    one_line(capsys, "is a folder")
    assert not (results_copy / ".README.md.tmp").exists()


def test_check_with_nothing_to_check_is_an_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli.main(["check", "--results", str(tmp_path / "empty")]) == 2
    one_line(capsys, "nothing to check")


def test_the_dry_run_estimate_scales_with_the_run(toy, capsys):
    assert cli.main(["run", "toy", "--workers", "1"]) == 0
    capsys.readouterr()
    costs = {}
    for args in ([], ["--seeds", "400"], ["--quick"]):
        assert cli.main(["run", "toy", "--dry-run", "--workers", "2", *args]) == 0
        out = capsys.readouterr().out
        costs[" ".join(args)] = float(out.split("estimated cost: ")[1].split(" unit-seconds")[0])
        assert ("upper bound" in out) == (args == ["--quick"])
    assert costs["--seeds 400"] > 50 * costs[""] > 0 or costs[""] == 0
    assert costs["--seeds 400"] > costs[""]


def test_ctrl_c_while_the_command_is_still_importing_is_one_line():
    """The first seconds of a run are imports (torch, pandas): an interrupt there is one line too."""
    proc = subprocess.Popen([sys.executable, "-m", "dlclaims", "list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(0.4)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the command finished before the interrupt arrived")
    assert proc.returncode == 130 and err.strip().splitlines() == ["dlclaims: interrupted; previous results left intact"], err


def test_ctrl_c_to_the_main_process_alone_stops_the_run_at_once(toy):
    started = toy.parent / "started"
    proc = subprocess.Popen([sys.executable, "-m", "dlclaims", "run", "toy", "--workers", "2", "--seeds", "4",
                             "--sleep", "30", "--marker", str(started)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "CI": "1"})
    deadline = time.monotonic() + 90
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)  # to the main process only, as `kill -INT PID` does
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and time.monotonic() - sent < 5, (proc.returncode, err)
