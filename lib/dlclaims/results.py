"""The results contract: ``results/NAME/`` holds tidy CSV tables, ``claims.csv``,
``meta.json`` and PNG figures, written atomically so an interrupted run loses nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Iterator, Mapping

import pandas as pd

CLAIMS_FILE = "claims.csv"
META_FILE = "meta.json"
# Eight significant digits: far above any tolerance, and stable bytes on one machine.
FLOAT_FORMAT = "%.8g"
PACKAGES = ("dlclaims", "torch", "numpy", "scipy", "pandas", "scikit-learn", "mlxtend", "matplotlib")


def write_csv(table: pd.DataFrame, path: Path) -> None:
    table.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def read_tables(directory: Path) -> dict[str, pd.DataFrame]:
    """Every table of a results directory by stem, ``claims`` included."""
    return {p.stem: pd.read_csv(p) for p in sorted(Path(directory).glob("*.csv"))}


def read_meta(directory: Path) -> dict:
    return json.loads((Path(directory) / META_FILE).read_text())


def check_writable(root: Path) -> None:
    """Raise ``PermissionError`` naming ``root`` unless results can be written there."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".probe-"):
            pass
    except OSError as err:
        raise PermissionError(f"output directory '{root}' is not writable ({err.strerror or err})") from err


@contextlib.contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield a scratch directory that replaces ``target`` only if the block succeeds.

    Ctrl-C or an exception inside the block leaves the previous ``target`` untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield scratch
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rename(target, old / target.name)
    os.rename(scratch, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def git_commit() -> str:
    repo = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "lib", "analyses"], cwd=repo,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + ("-dirty" if dirty else "")


def environment() -> dict:
    import torch

    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return dict(
        packages=versions,
        python=platform.python_version(),
        machine=dict(platform=platform.platform(), processor=platform.machine(),
                     cpus=os.cpu_count(), torch_threads=torch.get_num_threads()),
        git_commit=git_commit(),
    )


def write_results(
    directory: Path,
    tables: Mapping[str, pd.DataFrame],
    claims: pd.DataFrame,
    meta: Mapping,
) -> None:
    """Write tables, ``claims.csv`` and ``meta.json`` into an (already scratch) directory."""
    directory = Path(directory)
    for name, table in tables.items():
        if name == "claims":
            raise ValueError("'claims' is reserved for claims.csv")
        write_csv(table, directory / f"{name}.csv")
    write_csv(claims, directory / CLAIMS_FILE)
    (directory / META_FILE).write_text(json.dumps(meta, indent=2, default=str) + "\n")
