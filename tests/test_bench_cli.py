"""The commands a reader types to look things up answer at once (make bench): `dlclaims list`
under 1 s and `dlclaims show B2` under 2 s, timed as fresh processes, best of five."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.bench


def command(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "dlclaims", *args], check=True, capture_output=True)


def test_list_answers_in_under_a_second(benchmark):
    benchmark.pedantic(command, args=("list",), rounds=5, iterations=1)
    assert benchmark.stats.stats.min < 1.0


def test_show_answers_in_under_two_seconds(benchmark):
    benchmark.pedantic(command, args=("show", "B2"), rounds=5, iterations=1)
    assert benchmark.stats.stats.min < 2.0
