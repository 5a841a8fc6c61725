"""``results/report.html``: the report as one static page for a browser — the summary filterable
by family, kind and verdict, each claim expandable to what ``dlclaims show`` prints, every figure
inline under its family. No server and no network: the page links its figures relatively
(``family/figure.png``) and carries its few lines of script and style inline.

The filter state lives in the URL fragment (``report.html#kind=lecture&verdict=fails``), so a
link can share a view; after load the page records on ``<body>`` how many images loaded and how
many rows the filter shows (``data-images-loaded``, ``data-rows-shown``), which the browser test
reads from the rendered DOM.
"""

from __future__ import annotations

import html
from pathlib import Path

from dlclaims.suite import claim_view, lectures, report, results

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1400px; padding: 0 1em; color: #222; }
h1 { margin-bottom: .2em; } .tally { color: #555; margin-top: 0; }
#filters { position: sticky; top: 0; background: #fff; padding: .5em 0; border-bottom: 1px solid #ddd; z-index: 1; }
#filters label { margin-right: 1.2em; } select { font: inherit; }
table { border-collapse: collapse; width: 100%; margin: .6em 0; }
th, td { border-bottom: 1px solid #e3e3e3; padding: .3em .45em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; position: sticky; top: 2.6em; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.holds td.verdict { color: #1a7f37; } tr.fails td.verdict { color: #c62828; }
tr.inconclusive td.verdict { color: #9a6700; } tr.untestable td.verdict { color: #666; }
details summary { cursor: pointer; font-weight: 600; } details pre { white-space: pre-wrap; font-size: 13px;
  background: #fafafa; border: 1px solid #eee; padding: .6em; max-width: 1100px; }
figure { display: inline-block; margin: .5em 1em 1em 0; vertical-align: top; }
figure img { max-width: 640px; width: 100%; border: 1px solid #eee; } figcaption { color: #555; font-size: 13px; }
blockquote { color: #444; border-left: 3px solid #ccc; margin: .5em 0; padding-left: 1em; white-space: pre-wrap; }
"""

SCRIPT = """
const rows = Array.from(document.querySelectorAll('tr.claim'));
const keys = ['family', 'kind', 'verdict'];
function apply() {
  const want = Object.fromEntries(keys.map(k => [k, document.getElementById('f-' + k).value]));
  let shown = 0;
  for (const r of rows) {
    const ok = keys.every(k => !want[k] || r.dataset[k] === want[k]);
    r.hidden = !ok; if (ok) shown++;
  }
  document.getElementById('shown').textContent = shown + ' of ' + rows.length + ' claims';
  document.body.dataset.rowsShown = shown;
  const hash = keys.filter(k => want[k]).map(k => k + '=' + encodeURIComponent(want[k])).join('&');
  history.replaceState(null, '', hash ? '#' + hash : location.pathname);
}
for (const [k, v] of new URLSearchParams(location.hash.slice(1))) {
  const sel = document.getElementById('f-' + k); if (sel) sel.value = v;
}
keys.forEach(k => document.getElementById('f-' + k).addEventListener('change', apply));
apply();
window.addEventListener('load', () => {
  const imgs = Array.from(document.images);
  document.body.dataset.imagesTotal = imgs.length;
  document.body.dataset.imagesLoaded = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
});
"""


def _e(text) -> str:
    return html.escape(lectures.cite(str(text)))


def _select(key: str, values: list[str]) -> str:
    options = "".join(f'<option value="{html.escape(v)}">{html.escape(v)}</option>' for v in values)
    return f'<label>{key} <select id="f-{key}"><option value="">all</option>{options}</select></label>'


def build(root: Path) -> str:
    root = Path(root)
    dirs = report.families(root)
    rows, sections, tallies = [], [], []
    for d in dirs:
        tallies.append(report.claims_of(d))
        rows += [(d.name, claim_view.view(d, row)) for row in claim_view.rows(d / results.CLAIMS_FILE)]
        sections.append(_family(d))
    import pandas as pd

    tally = report.tally(pd.concat(tallies)) if tallies else ""
    families = [d.name for d in dirs]
    body = [f"<h1>dlclaims report</h1><p class=tally>{_e(tally)}</p>",
            "<p>Each row is one lecture claim (or a derived row or check) with its rule and verdict; click a claim "
            "for its quote, per-seed values, scope strip, ledger and figures. <em>distance</em>: how far the value "
            "lies from the rule's boundary in half-widths of its interval (above +1 holds, below −1 fails). "
            "The method text of each family is in <a href=\"README.md\">README.md</a>.</p>",
            "<p>The lectures quoted, by course: " + " · ".join(f"<b>{html.escape(short)}</b>: {html.escape(full)}"
                                                             for short, full in lectures.COURSES.values()) + "</p>",
            '<div id="filters">' + _select("family", families) + _select("kind", ["lecture", "derived", "check"])
            + _select("verdict", ["holds", "fails", "inconclusive", "untestable"]) + '<span id="shown"></span></div>',
            "<table id=summary><thead><tr><th>claim</th><th>family</th><th>kind</th><th>statement</th>"
            "<th>value [95% CI]</th><th>rule</th><th>distance</th><th>verdict</th></tr></thead><tbody>"]
    for family, v in rows:
        effect = f" · {v['effect']}" if v["effect"] else ""
        figures = "".join(f'<img loading="eager" src="{html.escape(family)}/{html.escape(Path(f).name)}" '
                          f'alt="{html.escape(Path(f).stem)}" style="max-width:480px">' for f in v["figures"])
        body.append(
            f'<tr class="claim {html.escape(v["verdict"])}" data-family="{html.escape(family)}" '
            f'data-kind="{html.escape(v["kind"])}" data-verdict="{html.escape(v["verdict"])}" id="claim-{html.escape(v["claim"].lower())}">'
            f'<td><details><summary>{html.escape(v["claim"])}</summary><pre>{_e(claim_view.text(v))}</pre>{figures}'
            f'</details></td><td><a href="#{html.escape(family)}">{html.escape(family)}</a></td><td>{html.escape(v["kind"])}</td>'
            f'<td>{_e(v["statement"])}</td><td class=num>{html.escape(claim_view.value_text(v))}</td>'
            f'<td class=num>{html.escape(v["rule"])}</td><td class=num>{claim_view.distance_text(v["distance"])}</td>'
            f'<td class=verdict>{html.escape(v["verdict"] + effect)}</td></tr>')
    body.append("</tbody></table>")
    body += sections
    return ("<!doctype html><html lang=en><head><meta charset=utf-8><title>dlclaims report</title>"
            f"<meta name=viewport content='width=device-width'><style>{STYLE}</style></head><body>"
            + "\n".join(body) + f"<script>{SCRIPT}</script></body></html>\n")


def _family(d: Path) -> str:
    meta = results.read_meta(d)
    notes = meta.get("claims", {})
    drawn: dict[str, list[str]] = {}
    for claim, note in notes.items():
        for png in note.get("figures", []):
            drawn.setdefault(png, []).append(claim)
    parts = [f'<h2 id="{html.escape(d.name)}">{_e(meta["title"])} <small>({html.escape(d.name)})</small></h2>',
             f"<blockquote>{_e(meta['lecture'].strip())}</blockquote>"]
    if meta.get("fidelity") == "quick":
        parts.append("<p><strong>A --quick smoke run: its verdicts are not the baseline's.</strong></p>")
    for png in sorted(d.glob("*.png")):
        ids = drawn.get(png.name, [])
        links = ", ".join(f'<a href="#claim-{html.escape(c.lower())}">{html.escape(c)}</a>' for c in ids)
        parts.append(f'<figure><img src="{html.escape(d.name)}/{html.escape(png.name)}" alt="{html.escape(png.stem)}">'
                     f"<figcaption>{html.escape(png.stem)}" + (f" — claims {links}" if ids else "") + "</figcaption></figure>")
    return "\n".join(parts)


def write(root: Path) -> Path:
    """Write ``<root>/report.html`` atomically and return its path."""
    root = Path(root)
    path = root / "report.html"
    text = build(root)
    tmp = root / ".report.html.tmp"
    try:
        with results.locked(root):
            tmp.write_text(text)
            tmp.replace(path)
    except OSError as err:
        if tmp.is_file():
            tmp.unlink()
        raise results.ResultsError(f"cannot write {path} ({err.strerror or err})") from None
    return path

