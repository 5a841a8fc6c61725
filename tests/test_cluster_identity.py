"""Every analysis at --quick on a two-process Dask LocalCluster writes the same tables as on one
worker. A file of its own so that pytest-xdist runs it beside test_cluster.py."""

from pathlib import Path

import pytest

from dlclaims.suite import contract, runner
from test_worker_identity import ON_DASK_BY_DEFAULT

pytest.importorskip("distributed", reason="the Dask extra (make test installs it)")


def csv_bytes(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.csv"))}




@pytest.mark.parametrize("name", [n if n in ON_DASK_BY_DEFAULT else pytest.param(n, marks=pytest.mark.slow)
                                  for n in contract.names()])
def test_every_analysis_writes_the_same_tables_on_a_cluster(scheduler, quick_run, tmp_path, name):
    address, _ = scheduler
    runner.run(contract.load(name), ["--quick", "--scheduler", address, "--out", str(tmp_path), "--no-figures"],
                 quiet=True)
    assert csv_bytes(tmp_path / name) == csv_bytes(quick_run(name, workers=1))
