"""Every analysis at --quick writes byte-identical tables on one worker and on two. A file of its
own so that pytest-xdist (``--dist loadfile``) runs it beside test_runner.py and
test_cluster_identity.py: the three were one process's critical path in `make test`."""

import pytest

from dlclaims.suite import contract


def csv_bytes(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.csv"))}


# On Dask in `make test` (test_cluster_identity): three families that between them use every kind
# of unit (torch nets and Hessians, numpy chains, packaged data with sklearn), compared there with
# one worker; the other families' identity across processes is tested here (one worker against
# two). Each test's other half runs in `make test-slow`.
ON_DASK_BY_DEFAULT = {"bn-hessian", "sgd-uncertainty", "regularisation-data"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in ON_DASK_BY_DEFAULT else n
                                  for n in contract.names()])
def test_every_analysis_writes_the_same_tables_on_one_worker_and_on_two(quick_run, name):
    one, two = quick_run(name, workers=1), quick_run(name, workers=2)
    assert csv_bytes(one) == csv_bytes(two)
    assert csv_bytes(one), "no tables written"
