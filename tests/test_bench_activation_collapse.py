"""Speed targets of activation-collapse (issue: default ≤ 60 s, --quick ≤ 10 s on 2 cores).

Run by `make bench`; the figures go in the closing note. One round each: a run is long
enough that its own timing noise is small next to the machine's.
"""

import pytest

from dlclaims import analysis

pytestmark = [pytest.mark.bench, pytest.mark.slow]


@pytest.mark.parametrize("fidelity, budget_s", [(["--quick"], 10.0), ([], 60.0)], ids=["quick", "default"])
def test_activation_collapse_run_time(benchmark, tmp_path, fidelity, budget_s):
    module = analysis.load("activation-collapse")
    benchmark.pedantic(analysis.run, args=(module, [*fidelity, "--out", str(tmp_path)]),
                       kwargs=dict(quiet=True), rounds=1, iterations=1)
    assert benchmark.stats.stats.max <= budget_s
