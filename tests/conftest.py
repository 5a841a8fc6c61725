"""Shared fixtures: one quick activation-collapse run per session for the framework tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dlclaims import analysis


@pytest.fixture(scope="session")
def quick_results(tmp_path_factory) -> Path:
    """A results root holding a --quick activation-collapse run (treat as read-only)."""
    root = tmp_path_factory.mktemp("results")
    analysis.run(analysis.load("activation-collapse"), ["--quick", "--out", str(root)], quiet=True)
    return root


@pytest.fixture
def results_copy(quick_results, tmp_path) -> Path:
    """A private, writable copy of the quick results root."""
    root = tmp_path / "results"
    shutil.copytree(quick_results, root)
    return root
