"""The layout keeps its promises: locust only under load/, the reference apart from the harness."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = [
    p
    for folder in ("src", "contract_tests", "tests", "benchmarks", "load")
    for p in (REPO / folder).rglob("*.py")
]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_sources_were_found() -> None:
    assert len(SOURCES) > 50


@pytest.mark.parametrize(
    "path",
    [p for p in SOURCES if "load" not in p.relative_to(REPO).parts],
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_locust_is_imported_only_under_load(path: Path) -> None:
    # Importing locust monkey-patches the standard library with gevent (ARCHITECTURE.md, rule 3).
    assert not {n for n in _imports(path) if n == "locust" or n.startswith("locust.")}


@pytest.mark.parametrize(
    "path", sorted((REPO / "src/replyguard/reference").rglob("*.py")), ids=lambda p: p.name
)
def test_reference_imports_no_harness_code(path: Path) -> None:
    harness = {
        n
        for n in _imports(path)
        if n.startswith("replyguard") and not n.startswith("replyguard.reference")
    }
    assert not harness, f"{path.name} imports {sorted(harness)} (ARCHITECTURE.md, rule 1)"
