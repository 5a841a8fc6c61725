"""The house's shape: suite/ judges claims and never imports methods/; no import circle; no
private name used across modules; analysis files readable, their method text free of
hand-typed results."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dlclaims.suite import contract, method_text, results

LIB = Path(contract.__file__).resolve().parents[1]  # lib/dlclaims
ANALYSES = contract.REPO / "analyses"
MAX_ANALYSIS_LINES = 700
LEAVES = {"dlclaims.rng", "dlclaims.threads", "dlclaims"}


def module_name(path: Path) -> str:
    parts = path.relative_to(LIB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(imported dlclaims module, names taken from it) for every import in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.startswith("dlclaims")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dlclaims"):
            for a in node.names:
                candidate = f"{node.module}.{a.name}"
                is_module = (LIB.parent / Path(*candidate.split("."))).with_suffix(".py").exists()
                found.append((candidate, []) if is_module else (node.module, [a.name]))
    return found


GRAPH = {module_name(p): imports(p) for p in LIB.rglob("*.py")}


def test_the_suite_never_imports_the_methods():
    bad = [(m, i) for m, deps in GRAPH.items() if m.startswith("dlclaims.suite") for i, _ in deps
           if i.startswith("dlclaims.methods")]
    assert bad == []


def test_the_methods_import_only_methods_and_the_leaves():
    bad = [(m, i) for m, deps in GRAPH.items() if m.startswith("dlclaims.methods") for i, _ in deps
           if not (i.startswith("dlclaims.methods") or i in LEAVES)]
    assert bad == []


def test_the_import_graph_has_no_circle():
    edges = {m: {i for i, _ in deps if i in GRAPH and i != m} for m, deps in GRAPH.items()}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in sorted(edges[m]):
            assert state.get(n) != 1, f"import circle: {' -> '.join(path + [m, n])}"
            if n not in state:
                visit(n, path + [m])
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m, [])


def test_no_private_name_crosses_a_module():
    sources = list(LIB.rglob("*.py")) + list(ANALYSES.glob("*.py"))
    bad = []
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dlclaims"):
                bad += [f"{path.name}: from {node.module} import {a.name}" for a in node.names
                        if a.name.startswith("_") and not a.name.startswith("__")]
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__") \
                    and isinstance(node.value, ast.Name) and node.value.id in {
                        "contract", "config", "runner", "results", "claims", "stats", "executors", "report",
                        "plots", "regression", "cli", "data", "nets", "inits", "training", "optim", "replicas",
                        "chains", "sgd_theory", "hessian", "dropout", "numpy_mlp", "rng"}:
                bad.append(f"{path.name}: {node.value.id}.{node.attr}")
    assert bad == []


@pytest.mark.parametrize("path", sorted(p for p in ANALYSES.rglob("*.py") if "__pycache__" not in p.parts),
                         ids=lambda p: str(p.relative_to(ANALYSES)))
def test_an_analysis_file_stays_readable(path):
    assert len(path.read_text().splitlines()) <= MAX_ANALYSIS_LINES


def test_an_analysis_never_imports_another():
    names = {n.replace("-", "_") for n in contract.names()}
    bad = []
    for path in ANALYSES.rglob("*.py"):
        own = path.relative_to(ANALYSES).parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                bad += [f"{path.name}: {m}" for m in mods if m.split(".")[-1] in names - {own}]
    assert bad == []


@pytest.mark.parametrize("name", contract.names())
def test_the_method_text_has_no_hand_typed_result(name):
    text = contract.method_text_path(name)
    assert text.exists(), f"{text.name}: the method text is missing"
    assert method_text.hand_typed_numbers(text.read_text()) == []


@pytest.mark.parametrize("name", contract.names())
def test_every_field_of_the_method_text_is_filled_from_the_committed_results(name):
    from dlclaims.suite import report

    folder = contract.REPO / "results" / name
    text = report.method(folder, results.read_meta(folder), results.read_claims(folder))
    assert "{{" not in text


def test_the_scan_finds_a_hand_typed_result_and_spares_fields_formulas_quotes_and_anchors():
    text = """The ratio is 0.73 here and {{B2}} there, $\\eta < 2/L = 0.5$, `lr=0.1`.
> the lecture says 0.9
| quantity | source | ours |
|---|---|---|
| ratio | 1.467 | {{B2.value}} |

After the table 1e-4 is typed again; depth 50 and 10 seeds are counts."""
    assert method_text.hand_typed_numbers(text) == ["0.73", "1e-4"]


def test_no_analysis_text_speaks_of_issues():
    """Ledger reasons and method texts reach the report; they say what changed and why, never
    which issue asked for it (readers never saw the issues)."""
    import re

    hits = [f"{p}:{i}" for p in sorted(ANALYSES.rglob("*")) if p.suffix in (".py", ".md")
            for i, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"\bissues? \d", line, re.I)]
    assert hits == []
