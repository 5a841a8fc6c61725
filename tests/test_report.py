from dlclaims import cli, report


def test_report_summarises_every_claim_with_figures(results_copy):
    assert cli.main(["report", "--results", str(results_copy)]) == 0
    text = (results_copy / "README.md").read_text()
    for claim in ("A1", "A2", "A3", "A4", "A5", "A6a", "A6d"):
        assert f"| {claim} " in text
    assert "## Summary:" in text and "✅ holds" in text
    assert "![channel_densities](activation-collapse/channel_densities.png)" in text
    assert "Every channel has chosen a constant value" in text  # the lecture's sentence


def test_report_is_a_function_of_the_tables(results_copy):
    assert report.build(results_copy) == report.build(results_copy)
