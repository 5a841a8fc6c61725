"""The command line: help, listing, and bad input (one line, exit 2, results/ untouched)."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlclaims.suite import cli, config, contract, runner


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def dlclaims(*args, results_root=None):
    env = dict(os.environ)
    if results_root is not None:
        env["DLCLAIMS_RESULTS"] = str(results_root)
    return subprocess.run([sys.executable, "-m", "dlclaims", *args], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.mark.parametrize(
    "args, names",
    [
        (["run", "no-such-analysis"], "no-such-analysis"),
        (["run", "activation-collapse", "--seeds", "0"], "positive integer"),
        (["run", "activation-collapse", "--seeds", "-3"], "-3"),
        (["run", "activation-collapse", "--seeds", "many"], "'many' is not a number"),
        (["run", "activation-collapse", "--width", "0"], "positive integer"),
        (["run", "activation-collapse", "--seeds", "1"], "at least 2"),
        (["run", "activation-collapse", "--device", "tpu"], "tpu"),
        (["run", "activation-collapse", "--workers", "0"], "positive integer"),
        (["run", "activation-collapse", "--fidelity", "huge"], "huge"),
        (["run", "activation-collapse", "--no-such-flag"], "--no-such-flag"),
        (["check", "no-such-analysis"], "no-such-analysis"),
        (["frobnicate"], "frobnicate"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_results_unchanged(results_copy, monkeypatch, capsys, args, names):
    monkeypatch.setenv("DLCLAIMS_RESULTS", str(results_copy))
    before = snapshot(results_copy)
    assert cli.main(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and names in lines[0], lines
    assert snapshot(results_copy) == before


def test_bad_input_from_a_fresh_process_exits_2_with_one_line(results_copy):
    proc = dlclaims("run", "activation-collapse", "--seeds", "0", results_root=results_copy)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "positive integer" in proc.stderr


def test_unwritable_output_directory(tmp_path, capsys):
    (tmp_path / "a-file").write_text("")
    assert cli.main(["run", "activation-collapse", "--quick", "--out", str(tmp_path / "a-file" / "sub")]) == 2
    err = capsys.readouterr().err
    assert "not writable" in err and err.count("\n") == 1


def test_cuda_without_a_gpu_is_a_usage_error(results_copy):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(contract.UsageError, match="no CUDA device"):
        runner.run(contract.load("activation-collapse"), ["--quick", "--device", "cuda", "--out", str(results_copy)])


@pytest.mark.parametrize("text, ok", [("0.5", True), ("1", True), ("0", False), ("1.5", False), ("-0.1", False),
                                      ("nan", False), ("half", False)])
def test_probability_type(text, ok):
    import argparse

    if ok:
        assert config.probability(text) == float(text)
    else:
        with pytest.raises(argparse.ArgumentTypeError, match="probability in \\(0, 1\\]|not a number|not finite"):
            config.probability(text)


def test_help_and_list(capsys):
    assert cli.main(["list"]) == 0
    assert "activation-collapse" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    assert cli.main(["run", "--help"]) == 0
    assert "dlclaims run NAME" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "activation-collapse", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "--workers" in out and "--fidelity" in out and "--width" in out


def test_dry_run_lists_units_and_computes_nothing(results_copy, capsys):
    assert cli.main(["run", "activation-collapse", "--dry-run", "--seeds", "7", "--out", str(results_copy)]) == 0
    out = capsys.readouterr().out
    assert "7 units" in out and "seed=6" in out and "estimated cost" in out
