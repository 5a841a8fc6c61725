"""The regression check must pass on an unchanged baseline and fail, readably, on drift."""

import pandas as pd

from dlclaims import check, cli


def test_check_passes_on_the_baseline_it_made(results_copy, capsys):
    assert check.check("activation-collapse", results_copy) == []
    assert cli.main(["check", "activation-collapse", "--results", str(results_copy)]) == 0
    assert "check activation-collapse: ok" in capsys.readouterr().out


def test_check_fails_on_a_perturbed_value(results_copy, capsys):
    path = results_copy / "activation-collapse" / "layers.csv"
    table = pd.read_csv(path)
    table.loc[7, "share"] *= 1.01  # 1% drift, ten times the declared tolerance
    table.to_csv(path, index=False)
    problems = check.check("activation-collapse", results_copy)
    assert len(problems) == 1
    assert "layers.csv row 7" in problems[0] and "share" in problems[0] and "committed" in problems[0]
    assert cli.main(["check", "activation-collapse", "--results", str(results_copy)]) == 1
    assert "DRIFT" in capsys.readouterr().out


def test_check_fails_on_a_changed_verdict_and_a_missing_table(results_copy):
    claims = results_copy / "activation-collapse" / "claims.csv"
    table = pd.read_csv(claims)
    table.loc[0, "verdict"] = "fails" if table.loc[0, "verdict"] != "fails" else "holds"
    table.to_csv(claims, index=False)
    (results_copy / "activation-collapse" / "summary.csv").unlink()
    problems = check.check("activation-collapse", results_copy)
    assert any("claims.csv row 0" in p and "verdict" in p for p in problems)
    assert any("summary.csv: regenerated but not committed" in p for p in problems)


def test_compare_tables_honours_declared_tolerances():
    class Declares:
        TOLERANCES = {"t": {"x": check.Tol(rtol=0.1, atol=0)}}

    old = pd.DataFrame({"k": ["a", "b"], "x": [1.0, 2.0], "y": [1.0, 1.0]})
    new = old.assign(x=[1.05, 2.1])
    assert check.compare_tables("t", old, new, Declares) == []
    assert len(check.compare_tables("t", old, new.assign(y=[1.0, 1.001]), Declares)) == 1
    assert "columns changed" in check.compare_tables("t", old, new.drop(columns="y"))[0]


def test_empty_text_cells_are_not_drift(tmp_path):
    table = pd.DataFrame({"k": ["a", "", "c"], "x": [1.0, 2.0, 3.0]})
    table.to_csv(tmp_path / "t.csv", index=False)
    again = pd.read_csv(tmp_path / "t.csv")
    assert check.compare_tables("t", again, pd.read_csv(tmp_path / "t.csv")) == []
    assert len(check.compare_tables("t", again, again.assign(k=["a", "b", "c"]))) == 1


def test_check_fails_on_an_unrecorded_rule_change(results_copy, capsys):
    path = results_copy / "activation-collapse" / "claims.csv"
    table = pd.read_csv(path)
    table.loc[0, "rule"] = "≥ 0.5"  # the ledger says A1 was declared with another rule
    table.to_csv(path, index=False)
    problems = check.check("activation-collapse", results_copy)
    assert problems[0].startswith(f"rule changed for {table.claim[0]}: committed")
    assert "record it in AMENDMENTS" in problems[0]
    assert cli.main(["check", "activation-collapse", "--results", str(results_copy)]) == 1
    assert "rule changed" in capsys.readouterr().out
