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


def test_check_fails_on_a_changed_verdict_and_a_missing_table(toy):
    claims = baseline(toy) / "claims.csv"
    table = pd.read_csv(claims)
    table.loc[0, "verdict"] = "fails"
    table.to_csv(claims, index=False)
    (toy / "toy" / "values.csv").unlink()
    problems = regression.check("toy", toy)
    assert any("claims.csv row 0" in p and "verdict" in p for p in problems)
    assert any("values.csv: regenerated but not committed" in p for p in problems)


def test_check_fails_on_an_unrecorded_rule_change(toy, capsys):
    path = baseline(toy) / "claims.csv"
    table = pd.read_csv(path)
    table.loc[0, "rule"] = "≥ 0.5"  # the ledger says T1 was declared with another rule
    table.to_csv(path, index=False)
    problems = regression.check("toy", toy)
    assert problems[0].startswith("rule changed for T1: committed 'mean of the per-seed values | ≥ 0.5', "
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
