"""Every family's `estimate` on hand-made tables: each lecture row is seen to hold on one table
and to fail on another, so no lecture rule is one that its estimate cannot fail.

Each family's test module (`tests/test_<stem>.py`) provides `hand_made_cases()`: a list of
`(label, tables, cfg)` — tables built by hand (or by a small generator of known values) on
which the claims' values are known. A lecture row with a premise must hold and fail on tables
where its premise holds."""

from __future__ import annotations

import importlib

import pytest

from dlclaims.suite import claims as claims_mod
from dlclaims.suite import contract


def verdicts_by_case(name: str) -> dict[str, dict[str, str]]:
    module = contract.load(name)
    tests = importlib.import_module(f"test_{name.replace('-', '_')}")
    assert hasattr(tests, "hand_made_cases"), f"tests/test_{name.replace('-', '_')}.py has no hand_made_cases()"
    out = {}
    for label, tables, cfg in tests.hand_made_cases():
        estimates = module.estimate(tables, cfg)
        contract.check_estimate_ids(module, estimates)
        table = claims_mod.evaluate(module.CLAIMS, estimates, cfg)
        out[label] = dict(zip(table.claim, table.verdict))
    return out


@pytest.mark.parametrize("name", contract.names())
def test_every_lecture_row_holds_on_one_hand_made_table_and_fails_on_another(name):
    module = contract.load(name)
    seen = verdicts_by_case(name)
    missing = []
    for claim in module.CLAIMS:
        if claim.kind != claims_mod.LECTURE:
            continue
        verdicts = {case[claim.id] for case in seen.values()}
        if not {"holds", "fails"} <= verdicts:
            missing.append(f"{claim.id} ({', '.join(sorted(verdicts))})")
    assert missing == [], f"lecture rows never seen both holding and failing: {missing}"
