"""Every analysis within the run time its issue states, on this 2-core machine (make bench).

Timed as a user runs it: `python -m dlclaims run NAME [--quick]` in a fresh process, imports
and figure drawing included. One round each: a run is long next to its own timing noise.
"""

import subprocess
import sys

import pytest

pytestmark = [pytest.mark.bench, pytest.mark.slow]

# seconds: (--quick, default), from each analysis's issue
BUDGETS = {
    "activation-collapse": (10, 60),
    "bn-hessian": (30, 300),
    "sgd-uncertainty": (15, 120),
    "dropout-scaling": (20, 180),
    "nesterov-rates": (10, 60),
}
CASES = [(name, fidelity) for name in BUDGETS for fidelity in ("quick", "default")]


def run_cli(name: str, fidelity: str, out: str) -> None:
    args = [sys.executable, "-m", "dlclaims", "run", name, "--out", out] + (["--quick"] if fidelity == "quick" else [])
    subprocess.run(args, check=True, capture_output=True)


@pytest.mark.parametrize("name, fidelity", CASES, ids=[f"{n}-{f}" for n, f in CASES])
def test_run_time_within_budget(benchmark, tmp_path, name, fidelity):
    budget = BUDGETS[name][fidelity == "default"]
    benchmark.pedantic(run_cli, args=(name, fidelity, str(tmp_path)), rounds=1, iterations=1)
    seconds = benchmark.stats.stats.max
    print(f"\n{name} {fidelity}: {seconds:.1f} s of {budget} s ({seconds / budget:.0%} of the budget)")
    assert seconds <= budget
