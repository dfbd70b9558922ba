"""The layers point one way: the import graph of ``src/replyguard`` and ``load/`` has no cycle,
and no module imports from a layer above its own.

The layers are read from ARCHITECTURE.md (the block under "## Layers", highest first), so the
document and the test cannot disagree. Every import counts, also one inside a function or under
``if TYPE_CHECKING:``: a type a module needs is a dependency too.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: The roots of the analysed packages: the folder that holds each top-level package.
ROOTS = (REPO / "src", REPO)
PACKAGES = ("replyguard", "load")
#: What the contract suite may import of replyguard: the testing API and public records.
CONTRACT_TESTS_MAY_IMPORT = (
    "replyguard.testing",
    "replyguard.profile",
    "replyguard.spec",
    "replyguard.strategies",
)


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    path: Path
    line: int

    def where(self) -> str:
        try:
            shown = self.path.relative_to(REPO)
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}"


def read_layers(markdown: str) -> list[list[str]]:
    """The layers of an ARCHITECTURE.md, lowest first: the fenced block after ``## Layers``.

    Each line is one layer, highest first: module names, then ``|`` and what the layer does.
    ``replyguard.__init__`` stands for the package's ``__init__`` alone.
    """
    section = markdown.split("\n## Layers", 1)[1]
    block = re.search(r"```text\n(.*?)```", section, re.S)
    assert block, "ARCHITECTURE.md: no ```text block under ## Layers"
    layers = [line.split("|", 1)[0].split() for line in block.group(1).splitlines() if line.strip()]
    return list(reversed(layers))


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules_under(roots: Iterable[Path], packages: Sequence[str]) -> dict[str, Path]:
    """Every module of the packages: dotted name -> file."""
    found: dict[str, Path] = {}
    for root in roots:
        for package in packages:
            folder = root / package
            if (folder / "__init__.py").exists():
                for path in sorted(folder.rglob("*.py")):
                    found[module_name(path, root)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The analysed module an imported name lives in (the longest known prefix)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[Edge]:
    """The module's imports of analysed modules, wherever in the file they are."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    edges: list[Edge] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                parent = parent[: len(parent) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            # `from pkg import mod` imports the module pkg.mod when there is one.
            names = [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            target = _resolve(name, modules)
            if target is not None and target != module:
                edges.append(Edge(module, target, path, node.lineno))
    return edges


def layer_of(module: str, layers: Sequence[Sequence[str]]) -> int | None:
    """The index (0: lowest) of the layer that names the module or its package."""
    best: tuple[int, int] | None = None
    for index, names in enumerate(layers):
        for name in names:
            if name.endswith(".__init__"):
                matched = module == name.removesuffix(".__init__")
            else:
                matched = module == name or module.startswith(name + ".")
            if matched and (best is None or len(name) > best[1]):
                best = (index, len(name))
    return None if best is None else best[0]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def layering_problems(
    roots: Iterable[Path], packages: Sequence[str], layers: Sequence[Sequence[str]]
) -> list[str]:
    """Every cycle, upward import and module without a layer, one line each naming the file."""
    modules = modules_under(roots, packages)
    edges = [e for m, p in modules.items() for e in imports_of(m, p, modules)]
    problems = [
        f"{path}: module {module} is in no layer of ARCHITECTURE.md"
        for module, path in modules.items()
        if layer_of(module, layers) is None
    ]
    for edge in edges:
        low, high = layer_of(edge.source, layers), layer_of(edge.target, layers)
        if low is not None and high is not None and high > low:
            problems.append(
                f"{edge.where()}: {edge.source} imports {edge.target}, a higher layer "
                f"({' '.join(layers[high])} above {' '.join(layers[low])})"
            )
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for edge in edges:
        graph[edge.source].add(edge.target)
    for component in _cycles(graph):
        members = set(component)
        inside = [e for e in edges if e.source in members and e.target in members]
        problems.append(
            "import cycle: " + ", ".join(f"{e.source} -> {e.target} ({e.where()})" for e in inside)
        )
    return problems


LAYERS = read_layers((REPO / "ARCHITECTURE.md").read_text(encoding="utf-8"))


def test_the_layers_point_one_way() -> None:
    problems = layering_problems(ROOTS, PACKAGES, LAYERS)
    assert not problems, "\n".join(problems)


def test_every_layer_name_is_a_module() -> None:
    modules = modules_under(ROOTS, PACKAGES)
    for name in (n.removesuffix(".__init__") for layer in LAYERS for n in layer):
        assert name in modules, f"ARCHITECTURE.md ## Layers names {name}, which does not exist"


def test_the_contract_suite_imports_only_the_testing_api() -> None:
    modules = modules_under(ROOTS, PACKAGES)
    for path in sorted((REPO / "contract_tests").glob("*.py")):
        allowed = CONTRACT_TESTS_MAY_IMPORT
        if path.name == "conftest.py":  # the glue that activates the engine's plugin
            allowed += ("replyguard.engine.pytest_plugin",)
        for edge in imports_of(module_name(path, REPO), path, modules):
            assert edge.target.startswith(allowed), (
                f"{edge.where()}: contract_tests imports {edge.target}; "
                "import it from replyguard.testing"
            )


# -- the checker itself, on a small package written for the purpose --------------------------

_SYNTHETIC_LAYERS = [["pkg.low"], ["pkg.mid"], ["pkg.high", "pkg.__init__"]]


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in {"__init__.py": "", **files}.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_a_clean_package_passes(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "low.py": "X = 1\n",
            "mid.py": "from pkg.low import X\n",
            "high.py": "from pkg import mid\nfrom . import low\n",
        },
    )
    assert layering_problems([root], ["pkg"], _SYNTHETIC_LAYERS) == []


def test_an_upward_import_fails_naming_file_and_line(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "low.py": "X = 1\n\n\ndef f():\n    from pkg.high import Y\n    return Y\n",
            "mid.py": "from pkg.low import X\n",
            "high.py": "Y = 2\n",
        },
    )
    problems = layering_problems([root], ["pkg"], _SYNTHETIC_LAYERS)
    assert len(problems) == 1
    assert "pkg/low.py:5: pkg.low imports pkg.high, a higher layer" in problems[0]


def test_a_cycle_fails_even_inside_one_layer(tmp_path: Path) -> None:
    layers = [["pkg.low", "pkg.mid"], ["pkg.high", "pkg.__init__"]]
    root = _package(
        tmp_path,
        {
            "low.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg.mid import M\n",
            "mid.py": "from .low import X\nM = 1\n",
            "high.py": "",
        },
    )
    problems = layering_problems([root], ["pkg"], layers)
    assert len(problems) == 1
    assert problems[0].startswith("import cycle: ")
    assert "pkg.low -> pkg.mid" in problems[0]
    assert "pkg.mid -> pkg.low" in problems[0]
    assert "pkg/low.py:3" in problems[0]


def test_a_module_without_a_layer_fails(tmp_path: Path) -> None:
    root = _package(tmp_path, {"low.py": "", "mid.py": "", "high.py": "", "stray.py": ""})
    problems = layering_problems([root], ["pkg"], _SYNTHETIC_LAYERS)
    assert problems == [
        f"{tmp_path / 'pkg/stray.py'}: module pkg.stray is in no layer of ARCHITECTURE.md"
    ]


@pytest.mark.parametrize("name", ["pkg.high", "pkg"])
def test_layer_of_takes_the_longest_name(name: str) -> None:
    assert layer_of(name, _SYNTHETIC_LAYERS) == 2
