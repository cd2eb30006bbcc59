"""The package's import graph (read from the source with ``ast``) has no cycle.

Every ``import``/``from … import`` of a pyqhn module counts, at module level or inside a
function (a lazy import is still an edge: the two modules need each other); only imports
under ``if TYPE_CHECKING:`` (never executed) are left out. ``from .x import name`` is an
edge to ``x``, or to ``x.name`` when that is a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pyqhn"


def module_names(package: Path) -> dict[str, Path]:
    """``{dotted module name: file}`` for every ``.py`` file below ``package``."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                skip.update(id(n) for n in ast.walk(stmt))
    return skip


def import_graph(package: Path) -> dict[str, set[str]]:
    """``{module: modules of the same package it imports}``."""
    modules = module_names(package)
    root = package.name

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_nodes(tree)
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = here
                for _ in range(max(node.level - 1, 0)):
                    base = base.rpartition(".")[0]
                full = (f"{base}.{node.module}" if node.module else base) if node.level \
                    else (node.module or "")
                targets = [f"{full}.{a.name}" if f"{full}.{a.name}" in modules else full
                           for a in node.names]
            for t in targets:
                if t == root or t.startswith(root + "."):
                    m = known(t)
                    if m is not None and m != name:
                        graph[name].add(m)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_package_has_no_import_cycle():
    graph = import_graph(PACKAGE)
    assert "pyqhn.engines.exact" in graph and "pyqhn.cli.reproduce" in graph
    assert "pyqhn.engines.kernels" in graph["pyqhn.engines.exact"]  # edges are read
    assert cycles(graph) == [], "import cycles (break them; docs/architecture.md)"


def test_engine_interface_imports_no_engine():
    graph = import_graph(PACKAGE)
    assert not {m for m in graph["pyqhn.engines.base"] if m.startswith("pyqhn.engines.")}
    # the registry names its engines by string: no edge from the package to them
    assert graph["pyqhn.engines"] <= {"pyqhn.checks", "pyqhn.registry", "pyqhn.engines.base"}


@pytest.mark.parametrize("lazy", [False, True])
def test_a_cycle_is_found_also_through_a_function_level_import(tmp_path, lazy):
    pkg = tmp_path / "pyqhn"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from .a import f\n")
    (pkg / "sub" / "a.py").write_text("from ..b import g\n\ndef f():\n    return g\n")
    body = "def g():\n    from .sub.a import f\n    return f\n" if lazy else \
        "from . import sub\n\ndef g():\n    return sub\n"
    (pkg / "b.py").write_text(body)
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                              "    from .b import g\n")
    graph = import_graph(pkg)
    assert graph["pyqhn.c"] == set()
    expected = ["pyqhn.b", "pyqhn.sub.a"] if lazy else ["pyqhn.b", "pyqhn.sub", "pyqhn.sub.a"]
    assert cycles(graph) == [expected]
