"""The analysis contract: typed options (bool, tuple, signed), claim-id mismatches and reserved
table names in one line, helper files and folder families, figures drawn from (tables, cfg)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pytest

from dlclaims.suite import cli, config, contract

TOY = Path(__file__).parent / "toy" / "toy.py"


@pytest.mark.parametrize("text, value", [("true", True), ("False", False), ("0", False), ("YES", True), ("off", False)])
def test_a_bool_option_parses_truth_words_never_the_truthy_string_false(text, value):
    assert config.boolean(text) is value
    with pytest.raises(argparse.ArgumentTypeError, match="not a truth value"):
        config.boolean("maybe")


def test_option_types_come_from_the_field_annotation():
    assert config.parser_for_type("tuple[int, ...]")("2, 5,10") == (2, 5, 10)
    assert config.parser_for_type("tuple[float, ...]")("0.5,1e-3") == (0.5, 1e-3)
    assert config.parser_for_type(tuple[str, ...])("a,b") == ("a", "b")
    assert config.parser_for_type("bool")("false") is False
    assert config.parser_for_type("int") is config.positive_int
    with pytest.raises(argparse.ArgumentTypeError, match="positive integer"):
        config.parser_for_type("tuple[int, ...]")("2,-1")
    assert config.signed_float("-0.5") == -0.5 and config.nonnegative_float("0") == 0.0
    with pytest.raises(argparse.ArgumentTypeError):
        config.nonnegative_float("-1")


def _toy_with(folder: Path, text: str, name: str = "toy") -> None:
    source = TOY.read_text()
    (folder / f"{name}.py").write_text(source + "\n" + text)


@pytest.fixture
def toy_folder(toy):
    """The toy's analyses folder, with no toy module cached from another test (each test here
    writes its own variant of the file)."""
    import sys

    def forget():
        for key in [k for k in sys.modules if k.startswith("dlclaims_analyses.")]:
            del sys.modules[key]

    forget()
    yield Path(contract.analyses_dir())
    forget()


def test_bool_tuple_and_signed_options_reach_the_config(toy, toy_folder, monkeypatch):
    _toy_with(toy_folder, '''
from dlclaims.suite import config

@dataclass(frozen=True)
class Config(Config):
    shift: float = option(0.0, "a signed shift", parse=config.signed_float)
    flags: tuple[int, ...] = option((1, 2), "some integers")
    loud: bool = option(True, "a switch")

QUICK = Config(seeds=3)
FULL = Config(seeds=40)
''')
    module = contract.load("toy")
    args = config.parser_for(module).parse_args(["--shift", "-1.5", "--flags", "3,4", "--loud", "False"])
    cfg = config.configure(module, args)
    assert (cfg.shift, cfg.flags, cfg.loud) == (-1.5, (3, 4), False)


def test_a_misspelt_claim_id_is_one_line_before_any_unit_runs(toy, toy_folder, capsys, tmp_path):
    marker = tmp_path / "ran"
    _toy_with(toy_folder, 'estimate = lambda tables, cfg: {"T2": stats.NAN}\n')
    assert cli.main(["run", "toy", "--workers", "1", "--marker", str(marker)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "T1" in err and "T2" in err and not marker.exists()
    assert not (toy / "toy").exists()


def test_a_claim_id_mismatch_seen_only_on_real_tables_is_one_line_after_the_units(toy, toy_folder, capsys):
    _toy_with(toy_folder, '''
def estimate(tables, cfg):
    return {"T1" if len(tables["values"]) > 100 else "T1x": stats.mean_ci(tables["values"].x)}
''')
    assert cli.main(["run", "toy", "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "undeclared claim(s) T1x" in err and not (toy / "toy").exists()


@pytest.mark.parametrize("reserved", ["claims", "claim_seeds", "facts"])
def test_a_reserved_table_name_is_one_line_and_nothing_is_written(toy, toy_folder, capsys, reserved):
    _toy_with(toy_folder, f'''
_run_unit = run_unit
def run_unit(cfg, unit):
    return {{**_run_unit(cfg, unit), "{reserved}": pd.DataFrame(dict(a=[1]))}}
''')
    assert cli.main(["run", "toy", "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and reserved in err and "reserved" in err and not (toy / "toy").exists()


def test_a_helper_file_is_not_an_analysis_and_a_folder_family_is(toy, toy_folder):
    (toy_folder / "_shared.py").write_text("raise RuntimeError('a helper is never imported as an analysis')\n")
    family = toy_folder / "boxed"
    family.mkdir()
    (family / "sub.py").write_text("def offset():\n    return 0.0\n")
    source = TOY.read_text().replace("import torch\n", "import torch\n\nfrom . import sub\n")
    source = source.replace("x=x.numpy()", "x=x.numpy() + sub.offset()")
    (family / "__init__.py").write_text(source)
    assert contract.names() == ["boxed", "toy"]
    assert cli.main(["run", "boxed", "--workers", "2", "--no-figures"]) == 0
    assert cli.main(["run", "toy", "--workers", "1", "--no-figures"]) == 0
    boxed, flat = (pd.read_csv(toy / n / "values.csv").drop(columns="unseeded") for n in ("boxed", "toy"))
    pd.testing.assert_frame_equal(boxed, flat)  # the seeded draws; 'unseeded' follows the module's name


def test_figures_receive_the_tables_and_the_config(toy, toy_folder):
    _toy_with(toy_folder, '''
def figure_sized(tables, cfg):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    ax.set_title(f"{cfg.seeds} seeds")
    assert cfg.seeds == 4 and "values" in tables
    return fig

FIGURES = [figure_values, figure_sized]
''')
    assert cli.main(["run", "toy", "--workers", "1"]) == 0
    assert (toy / "toy" / "sized.png").exists()


def test_the_contract_is_typed_and_every_analysis_meets_it():
    hints = contract.Analysis.__annotations__
    assert {"TITLE", "LECTURE", "CLAIMS", "FIGURES"} <= set(hints)
    for name in contract.names():
        module = contract.load(name)
        for member in ("units", "run_unit", "estimate"):
            assert callable(getattr(module, member))
