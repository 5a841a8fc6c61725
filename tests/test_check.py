"""The regression check must pass on an unchanged baseline and fail, readably, on drift and on
a rule changed without an amendment. On the toy analysis: the mechanism, not an analysis's cost."""

import pandas as pd

from dlclaims.suite import cli, regression


def baseline(toy):
    assert cli.main(["run", "toy", "--workers", "1", "--seeds", "3"]) == 0
    return toy / "toy"


def test_check_passes_on_the_baseline_it_made(toy, capsys):
    baseline(toy)
    assert regression.check("toy", toy) == []
    assert cli.main(["check", "toy", "--results", str(toy)]) == 0
    assert "check toy: ok" in capsys.readouterr().out


def test_check_fails_on_a_perturbed_value(toy, capsys):
    path = baseline(toy) / "values.csv"
    table = pd.read_csv(path)
    table.loc[7, "x"] *= 1.01  # 1% drift, a hundred times the default tolerance
    table.to_csv(path, index=False)
    problems = regression.check("toy", toy)
    assert len(problems) == 1
    assert "values.csv row 7" in problems[0] and " x: committed" in problems[0]
    assert cli.main(["check", "toy", "--results", str(toy)]) == 1
    assert "DRIFT" in capsys.readouterr().out


def test_check_fails_on_a_changed_value_and_a_missing_table(toy):
    claims = baseline(toy) / "claims.csv"
    table = pd.read_csv(claims)
    table.loc[0, ["value", "ci_low", "ci_high"]] += 0.5  # a consistent row, but not what the run gives
    table.to_csv(claims, index=False)
    (toy / "toy" / "values.csv").unlink()
    problems = regression.check("toy", toy)
    assert any("claims.csv row 0" in p and "value" in p for p in problems)
    assert any("values.csv: regenerated but not committed" in p for p in problems)


def test_a_hand_edited_verdict_is_damage_named_in_one_line(toy, capsys):
    claims = baseline(toy) / "claims.csv"
    table = pd.read_csv(claims)
    table.loc[0, "verdict"] = "fails"  # its interval lies inside the rule's region: it holds
    table.to_csv(claims, index=False)
    assert cli.main(["check", "toy", "--results", str(toy)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "row 1 (T1): verdict 'fails' disagrees" in err[0]


def test_check_fails_on_an_unrecorded_rule_change(toy, capsys):
    path = baseline(toy) / "claims.csv"
    table = pd.read_csv(path)
    table.loc[0, "rule"] = "≥ 100"  # the ledger says T1 was declared with another rule
    table.loc[0, "verdict"] = "fails"  # as that rule judges the committed interval
    table.to_csv(path, index=False)
    problems = regression.check("toy", toy)
    assert problems[0].startswith("rule changed for T1: committed 'mean of the per-seed values | ≥ 100', "
                                  "declared 'mean of the per-seed values | ≥ -10'")
    assert cli.main(["check", "toy", "--results", str(toy)]) == 1
    assert "rule changed" in capsys.readouterr().out


def test_compare_tables_honours_declared_tolerances():
    class Declares:
        TOLERANCES = {"t": {"x": regression.Tol(rtol=0.1, atol=0)}}

    old = pd.DataFrame({"k": ["a", "b"], "x": [1.0, 2.0], "y": [1.0, 1.0]})
    new = old.assign(x=[1.05, 2.1])
    assert regression.compare_tables("t", old, new, Declares) == []
    assert len(regression.compare_tables("t", old, new.assign(y=[1.0, 1.001]), Declares)) == 1
    assert "columns changed" in regression.compare_tables("t", old, new.drop(columns="y"))[0]


def test_empty_text_cells_are_not_drift(tmp_path):
    table = pd.DataFrame({"k": ["a", "", "c"], "x": [1.0, 2.0, 3.0]})
    table.to_csv(tmp_path / "t.csv", index=False)
    again = pd.read_csv(tmp_path / "t.csv")
    assert regression.compare_tables("t", again, pd.read_csv(tmp_path / "t.csv")) == []
    assert len(regression.compare_tables("t", again, again.assign(k=["a", "b", "c"]))) == 1


def test_equal_infinities_are_not_drift_but_a_changed_one_is():
    """A diverged run's final loss is inf in both baselines (bn-hessian's lr_stress): inf − inf
    is NaN, which the tolerance test alone reported as 85 differences."""
    inf = float("inf")
    old = pd.DataFrame(dict(run=[0, 1, 2, 3], loss=[inf, -inf, 1.0, float("nan")]))
    assert regression.compare_tables("t", old, old.copy()) == []
    for i, value in [(0, 2.0), (1, inf), (2, inf), (3, inf)]:
        new = old.copy()
        new.loc[i, "loss"] = value
        problems = regression.compare_tables("t", old, new)
        assert len(problems) == 1 and f"row {i} " in problems[0]


# --- the ledger: every signed part, and added or removed rows, need an entry --------------------

import sys  # noqa: E402

import pytest  # noqa: E402

from dlclaims.suite import contract  # noqa: E402

T1 = 'Claim("T1", "lecture", "the mean is above -10", "mean of the per-seed values", at_least(-10),\n                setup=("offset",))'


@pytest.fixture
def rewrite_toy(toy):
    """Write a changed toy file after its baseline; forget the cached module around it."""
    def forget():
        for key in [k for k in sys.modules if k.startswith("dlclaims_analyses.")]:
            del sys.modules[key]

    path = contract.analyses_dir() / "toy.py"
    original = path.read_text()
    assert T1 in original

    def rewrite(old: str, new: str, ledger: str = "") -> None:
        forget()
        ledger_text = f"\n{IMPORTS}AMENDMENTS = [{ledger}]\n" if ledger else ""
        path.write_text(original.replace(old, new) + ledger_text)

    yield rewrite
    forget()


IMPORTS = "from dlclaims.suite.claims import Added, Amendment, Retired\n"
T3 = 'Claim("T3", "derived", "another row", "mean of the per-seed values", at_least(-10))'
CHANGES = {
    "kind": (T1, T1.replace('"lecture"', '"derived"'),
             'Amendment("T1", "2026-12-02", old="lecture", new="derived", why="r", what="kind")'),
    "statement": (T1, T1.replace("above -10", "above minus ten"),
                  'Amendment("T1", "2026-12-02", old="the mean is above -10", new="the mean is above minus ten", '
                  'why="r", what="statement")'),
    "setup": ("offset: float = option(0.0,", "offset: float = option(0.5,",
              'Amendment("T1", "2026-12-02", old="offset=0", new="offset=0.5", why="r", what="setup")'),
    "added": (T1 + "]", T1 + ", " + T3 + "]", 'Added("T3", "2026-12-02", why="a new control")'),
    "retired": (T1 + "]", T3.replace("T3", "T2") + "]",
                'Retired("T1", "2026-12-02", why="r"), Added("T2", "2026-12-02", why="r")'),
}


@pytest.mark.parametrize("what", list(CHANGES))
def test_a_change_without_a_ledger_entry_fails_check_and_passes_with_one(toy, rewrite_toy, what):
    baseline(toy)
    old, new, entry = CHANGES[what]
    rewrite_toy(old, new)
    assert regression.ledger("toy", toy) != [], what
    # a changed row is drift (1); a declared row missing from the baseline is refused up front (2)
    assert cli.main(["check", "toy", "--results", str(toy)]) == (2 if what in ("added", "retired") else 1)
    rewrite_toy(old, new, entry)
    assert regression.ledger("toy", toy) == [], what
