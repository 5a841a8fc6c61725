"""`dlclaims report --html`, loaded in a real browser: headless Chromium renders the page, the
test reads the rendered DOM (every claim a row, a filter hides rows, every image loaded) and
saves a screenshot. `make test` installs Debian's `chromium` where it can; elsewhere the test is
skipped with a message saying so."""

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from dlclaims.suite import cli, contract

BROWSER = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=10000"]


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    """report.html over a copy of the committed results (every family, every figure)."""
    if BROWSER is None:
        pytest.skip("no Chromium on this machine, so the HTML report's browser test is skipped "
                    "(`apt-get install chromium`; `make test` tries to install it)")
    root = tmp_path_factory.mktemp("html") / "results"
    shutil.copytree(contract.results_root(), root, ignore=shutil.ignore_patterns("*.lock", "README.md"))
    assert cli.main(["report", "--html", "--results", str(root)]) == 0
    return root / "report.html"


def dom(page: Path, fragment: str = "") -> str:
    done = subprocess.run([BROWSER, *FLAGS, "--dump-dom", page.as_uri() + fragment], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def body(html: str) -> dict[str, str]:
    tag = re.search(r"<body([^>]*)>", html).group(1)
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag))


def claims(root: Path) -> pd.DataFrame:
    return pd.concat([pd.read_csv(p) for p in sorted(root.glob("*/claims.csv"))])


def test_every_claim_is_a_row_and_every_image_loads(page):
    html = dom(page)
    rows = re.findall(r'<tr class="claim [a-z]+"', html)
    assert len(rows) == len(claims(page.parent)) > 100
    seen = body(html)
    assert int(seen["images-total"]) >= len(list(page.parent.glob("*/*.png"))) > 0
    assert seen["images-loaded"] == seen["images-total"], seen
    assert int(seen["rows-shown"]) == len(rows)


def test_a_filter_in_the_address_hides_the_other_rows(page):
    table = claims(page.parent)
    want = table[(table.kind == "lecture") & (table.verdict == "fails")]
    html = dom(page, "#kind=lecture&verdict=fails")
    assert int(body(html)["rows-shown"]) == len(want) > 0
    hidden = re.findall(r'<tr class="claim [a-z]+"[^>]* hidden', html)
    assert len(hidden) == len(table) - len(want)
    shown = re.findall(r'<tr class="claim (\w+)" data-family="[^"]+" data-kind="(\w+)"(?![^>]* hidden)', html)
    assert set(shown) == {("fails", "lecture")}


def test_screenshot(page, tmp_path):
    shot = tmp_path / "report.png"
    done = subprocess.run([BROWSER, *FLAGS, "--window-size=1400,1600", f"--screenshot={shot}", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and shot.stat().st_size > 20_000, done.stderr[-2000:]
    scratch = contract.scratch_results_root()
    scratch.mkdir(exist_ok=True)
    shutil.copy(shot, scratch / "report-screenshot.png")  # kept for a look: results-scratch/ is not committed
