"""The ledger: every analysis's declared claims match its committed claims.csv, or the change is
recorded as an amendment. Runs in `make test`, so CI refuses an unrecorded rule change."""

import pytest

from dlclaims.suite import contract, regression


@pytest.mark.parametrize("name", contract.names())
def test_declared_rules_match_the_committed_ledger_or_are_amended(name):
    assert regression.ledger(name) == []
