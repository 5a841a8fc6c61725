"""Method text: fields filled from the run, an unknown field named; the figure decorator."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dlclaims.suite import method_text, plots

CLAIMS = pd.DataFrame(dict(claim=["B2", "B3"], value=[0.0157, 0.5], ci_low=[0.0118, 0.5], ci_high=[0.0209, 0.5],
                           verdict=["holds", "fails"], rule=["≤ 0.1", "≥ 1"]))


def test_every_kind_of_field_is_filled_from_the_run():
    text = ("B2 is {{B2}} ({{B2.verdict}}), its mean {{B2.value:.3f}}; B3 exactly {{B3}}; "
            "width {{cfg.width}}, depths {{cfg.depths}}; {{ dead_nets }} nets died, ratio {{ratio:.1f}}.")
    out = method_text.fill(text, CLAIMS, dict(width=2048, depths=[5, 10]), dict(dead_nets="3", ratio="7.125"))
    assert out == ("B2 is 0.0157 [0.0118, 0.0209] (holds), its mean 0.016; B3 exactly 0.5; "
                   "width 2048, depths 5, 10; 3 nets died, ratio 7.1.")


def test_an_unknown_field_is_named_with_its_file():
    with pytest.raises(method_text.FieldError, match=r"x\.md: unknown field \{\{B9\}\}"):
        method_text.fill("see {{B9}}", CLAIMS, {}, {}, where="x.md")


def test_a_missing_interval_shows_the_value_alone():
    assert method_text.value_with_ci(0.3, math.nan, math.nan) == "0.3"
    assert method_text.number(math.nan) == "–"


def test_the_figure_decorator_marks_the_claims_and_writes_them_on_the_figure():
    import matplotlib.pyplot as plt

    @plots.figure("B2", "B3")
    def figure_demo(tables, cfg):
        return plt.subplots()[0]

    fig = figure_demo({}, None)
    assert figure_demo.claims == ("B2", "B3") and figure_demo.__name__ == "figure_demo"
    assert any("B2, B3" in t.get_text() for t in fig.texts)
    plt.close(fig)
