"""The results contract: ``results/NAME/`` holds tidy CSV tables, ``claims.csv``,
``meta.json`` and PNG figures, written atomically so an interrupted run loses nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Iterator, Mapping

import pandas as pd

from dlclaims.suite.claims import UNTESTABLE, VERDICTS, Estimate, rule_of_region
from dlclaims.suite.contract import ResultsError  # defined there, where `dlclaims list` can catch it without pandas

CLAIMS_FILE = "claims.csv"
SEEDS_TABLE = "claim_seeds"  # per claim: seeds, spread and seeds_to_decide (the runner writes it)
SAMPLES_TABLE = "claim_samples"  # per claim: the per-seed values its headline interval was computed from
SCOPE_TABLE = "claim_scope"  # per scoped claim and knob value: the estimate and verdict (the runner writes it)
FACTS_TABLE = "facts"  # the named numbers an analysis's method text cites (optional)
META_FILE = "meta.json"
# Eight significant digits: far above any tolerance, and stable bytes on one machine.
FLOAT_FORMAT = "%.8g"
META_KEYS = ("analysis", "title", "lecture", "fidelity", "argv")
PACKAGES = ("dlclaims", "torch", "numpy", "scipy", "pandas", "scikit-learn", "mlxtend", "mnist1d", "matplotlib")


def write_csv(table: pd.DataFrame, path: Path) -> None:
    table.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ResultsError(f"{path}: cannot be read as a table ({_first_line(err)})") from None


def read_tables(directory: Path) -> dict[str, pd.DataFrame]:
    """Every table of a results directory by stem, ``claims`` included."""
    return {p.stem: read_csv(p) for p in sorted(Path(directory).glob("*.csv"))}


META_TYPES = dict(analysis=str, title=str, lecture=str, fidelity=str, argv=list, config=dict, amendments=list,
                  compute_seconds=(int, float), workers=int, unit_seconds=list)


def read_meta(directory: Path) -> dict:
    """``meta.json``, its fields checked for presence and type (one line naming the field)."""
    path = Path(directory) / META_FILE
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ResultsError(f"{path}: cannot be read as JSON ({_first_line(err)}); regenerate it with "
                           f"'dlclaims run {Path(directory).name}'") from None
    missing = [key for key in META_KEYS if key not in meta] if isinstance(meta, dict) else list(META_KEYS)
    if missing:
        raise ResultsError(f"{path}: missing {', '.join(missing)}; regenerate it with 'dlclaims run {Path(directory).name}'")
    for key, kind in META_TYPES.items():
        if key in meta and not isinstance(meta[key], kind) or (key == "argv" and not all(
                isinstance(a, str) for a in meta.get("argv", []))):
            raise ResultsError(f"{path}: field '{key}' has the wrong type ({type(meta[key]).__name__}); "
                               f"regenerate it with 'dlclaims run {Path(directory).name}'")
    return meta


def read_claims(directory: Path, declared: list[str] | None = None) -> pd.DataFrame:
    """``claims.csv``, read strictly: the columns the report and the ledger need, numbers where
    numbers belong, and every row's verdict recomputed from its value, interval, rule and
    premise (a hand-edited or half-written row is one line naming the file and the row). With
    ``declared`` (the analysis's claim ids), a missing row is an error too."""
    path = Path(directory) / CLAIMS_FILE
    table = read_csv(path)
    missing = [c for c in ("claim", "statement", "statistic", "value", "ci_low", "ci_high", "rule", "verdict")
               if c not in table.columns]
    if missing:
        raise ResultsError(f"{path}: missing column(s) {', '.join(missing)}")
    for column in ("value", "ci_low", "ci_high"):
        if not pd.api.types.is_numeric_dtype(table[column]):
            raise ResultsError(f"{path}: column '{column}' holds text where numbers belong")
    bad = ~table.verdict.isin(VERDICTS)
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise ResultsError(f"{path}: row {row + 1} has verdict '{table.verdict.iloc[row]}', not one of "
                           f"{', '.join(VERDICTS)} (a truncated file?)")
    absent = [c for c in declared or () if c not in set(table.claim)]
    if absent:  # (a row no longer declared is the ledger's business: Retired, not damage)
        raise ResultsError(f"{path}: declared claim(s) {', '.join(absent)} missing; regenerate it with "
                           f"'dlclaims run {Path(directory).name}'")
    verdicts = dict(zip(table.claim, table.verdict))
    for i, row in enumerate(table.itertuples(), start=1):
        where = f"{path}: row {i} ({row.claim})"
        numbers = (row.value, row.ci_low, row.ci_high)
        if any(isinstance(x, float) and math.isinf(x) for x in numbers) and row.verdict in ("holds", "fails"):
            raise ResultsError(f"{where} has a non-finite value or interval with verdict '{row.verdict}'")
        finite = all(isinstance(x, (int, float)) and math.isfinite(x) for x in numbers)
        if finite and not row.ci_low <= row.value <= row.ci_high:
            raise ResultsError(f"{where}: value {row.value:g} lies outside its interval [{row.ci_low:g}, {row.ci_high:g}]")
        try:
            rule = rule_of_region(str(row.rule))
        except ValueError:
            raise ResultsError(f"{where}: rule '{row.rule}' cannot be read") from None
        premise = getattr(row, "premise", "")
        premise = "" if not isinstance(premise, str) else premise
        if row.verdict == UNTESTABLE:
            if not premise or verdicts.get(premise) == "holds":
                raise ResultsError(f"{where} is 'untestable' but its premise '{premise or '(none)'}' does not fail")
            continue
        expected = rule.verdict(Estimate(*numbers)) if finite or any(math.isnan(x) for x in numbers) \
            else "inconclusive"
        if premise and verdicts.get(premise) != "holds":
            expected = UNTESTABLE
        if row.verdict != expected:
            raise ResultsError(f"{where}: verdict '{row.verdict}' disagrees with its value, interval and rule "
                               f"('{expected}'); regenerate it with 'dlclaims run {Path(directory).name}'")
    return table


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def check_writable(root: Path) -> None:
    """Raise ``PermissionError`` naming ``root`` unless results can be written there."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".probe-"):
            pass
    except OSError as err:
        raise PermissionError(f"output directory '{root}' is not writable ({err.strerror or err})") from err


# --- atomic replacement of a results directory -----------------------------------------------
#
# A run writes into ``.NAME.tmp-PID-*`` (incomplete by definition), renames it to
# ``.NAME.new-PID-*`` when complete, then swaps it with ``NAME``: one atomic exchange
# (renameat2 RENAME_EXCHANGE) where the OS has it, so NAME exists at every instant; else two
# renames, and :func:`recover` at the next start finishes a swap that died between them.

def _scratch_name(target: Path, stage: str) -> str:
    return f".{target.name}.{stage}-{os.getpid()}-"


def _pid_of(path: Path) -> int | None:
    match = re.match(r"\.[^.]+\.(?:tmp|new|old)-(\d+)-", path.name)
    return int(match.group(1)) if match else None


def _alive(pid: int | None) -> bool:
    if pid is None or pid == os.getpid():
        return pid is not None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftovers(target: Path, stage: str) -> list[Path]:
    return sorted(target.parent.glob(f".{target.name}.{stage}-*"), key=lambda p: p.stat().st_mtime)


def recover(target: Path) -> None:
    """Finish or undo what a killed run left beside ``target``; remove its scratch litter."""
    target = Path(target)
    if not target.parent.is_dir():
        return
    if not target.exists():  # died between the two renames of the fallback swap
        for stage in ("new", "old"):
            done = [p for p in _leftovers(target, stage) if not _alive(_pid_of(p))]
            if done:
                src = done[-1] / target.name if stage == "old" and (done[-1] / target.name).is_dir() else done[-1]
                os.rename(src, target)
                break
    for stage in ("tmp", "new", "old"):
        for path in _leftovers(target, stage):
            if not _alive(_pid_of(path)):
                shutil.rmtree(path, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where the OS cannot."""
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    return False


def swap_in(complete: Path, target: Path) -> None:
    """Replace ``target`` by the directory ``complete``; ``target`` is whole at every instant
    (atomic exchange), or else recoverable by :func:`recover`."""
    new = Path(tempfile.mkdtemp(prefix=_scratch_name(target, "new"), dir=target.parent))
    os.rmdir(new)
    os.rename(complete, new)  # from here on the new results are marked complete
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)  # now holds the old results
        return
    old = Path(tempfile.mkdtemp(prefix=_scratch_name(target, "old"), dir=target.parent))
    os.rename(target, old / target.name)
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)


LOCK_FILE = ".dlclaims.lock"
SUITE_FILE = "suite.json"  # the last whole-suite run into this root: workers and wall seconds


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the results root for one writer: a second run into the same root is refused in one
    line rather than interleaved (an ``flock``, released even if the holder is killed)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise ResultsError(f"another dlclaims run (pid {holder}) is writing into '{root}'; wait for it to "
                               f"finish, or write elsewhere with --out DIR") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield a scratch directory that replaces ``target`` only if the block succeeds.

    Ctrl-C, SIGKILL or an exception inside the block leaves the previous ``target``
    untouched; the next run removes the scratch of a killed one.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target)
    scratch = Path(tempfile.mkdtemp(prefix=_scratch_name(target, "tmp"), dir=target.parent))
    os.chmod(scratch, 0o777 & ~_umask())  # mkdtemp's 0700 would become the results folder's mode
    try:
        yield scratch
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    swap_in(scratch, target)


def git_commit() -> str:
    repo = Path(__file__).resolve().parents[3]
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
