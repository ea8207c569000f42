"""The hub's import graph keeps the shape docs/architecture.md draws.

The graph is read from the source with :mod:`ast` (nothing is imported): every
``import`` and ``from ... import`` in every module of ``chalicelib``, at any depth
(inside functions and ``if TYPE_CHECKING:`` blocks too — a lazy import is still
a dependency). An import of a name that is a module counts as an import of that module.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "chalicelib"

# Which parts of chalicelib each part may import (besides itself): the one-way arrows.
# settings and logs are leaves every layer may read; hub and edge sit on top.
ALLOWED = {
    "storage": set(),
    "crypto": {"storage"},
    "secrets": {"storage"},
    "tenancy": {"crypto", "secrets", "storage", "logs"},
    "pipeline": {"outbound", "workflow", "agents", "tenancy", "crypto", "storage", "settings", "logs"},
    "workflow": {"agents", "outbound", "tenancy", "crypto", "storage", "settings", "logs"},
    "outbound": {"tenancy", "crypto", "storage", "settings", "logs"},
    "ingest": {"tenancy", "crypto", "storage", "settings", "logs"},
    "agents": {"storage", "logs"},
    "metrics": {"storage", "logs"},
    "assistant": {"agents", "outbound", "workflow", "tenancy", "crypto", "storage", "settings", "logs"},
    "widget": {"ingest", "outbound", "workflow", "tenancy", "crypto", "storage", "settings", "logs"},
    "api": {"agents", "assistant", "metrics", "outbound", "pipeline", "widget", "workflow", "ingest", "tenancy",
            "crypto", "storage"},
    "edge": {"api", "ingest", "logs"},
    "hub": {"agents", "api", "assistant", "ingest", "metrics", "outbound", "pipeline", "widget", "workflow", "tenancy",
            "crypto", "secrets", "storage", "settings", "logs"},
    "settings": set(),
    "logs": set(),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def _sources() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted((ROOT / PACKAGE).rglob("*.py"))}


def _imported(name: str, path: Path) -> set[str]:
    """Every module ``name`` imports (absolute names; chalicelib's resolved to modules)."""
    modules = _sources()
    base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - (node.level - 1)]
                target = ".".join(anchor + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in modules else target)
    return found


@functools.cache
def _graph() -> dict[str, frozenset[str]]:
    """chalicelib module → the chalicelib modules it imports."""
    modules = _sources()
    return {name: frozenset(m for m in _imported(name, path) if m in modules) for name, path in modules.items()}


def _part(module: str) -> str:
    """The package (or top-level module) of chalicelib a module belongs to."""
    return module.split(".")[1] if module != PACKAGE else ""


def _reachable(start: str) -> set[str]:
    graph, seen, todo = _graph(), set(), [start]
    while todo:
        for dependency in graph[todo.pop()] - seen:
            seen.add(dependency)
            todo.append(dependency)
    return seen


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (or a module importing itself)."""
    graph, index, low, stack, on_stack, found = _graph(), {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for dependency in sorted(graph[node]):
            if dependency not in index:
                visit(dependency)
                low[node] = min(low[node], low[dependency])
            elif dependency in on_stack:
                low[node] = min(low[node], index[dependency])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_the_graph_is_found() -> None:
    graph = _graph()
    assert "chalicelib.storage.store" in graph["chalicelib.pipeline.conversations"]
    assert "chalicelib.storage.keys" in graph["chalicelib.storage.table"]
    assert "chalicelib.pipeline.conversations" in graph["chalicelib.pipeline.stream"], "relative imports resolve"
    assert "chalicelib.ingest.ingestor" in graph["chalicelib.hub"], "lazy imports count"


def test_no_import_cycles() -> None:
    assert _cycles() == []


def test_chalicelib_imports_neither_tools_nor_plugins() -> None:
    """Lambda ships chalicelib without tools/ (developer tooling), and plugins reach the
    hub only through their entry points, never by import."""
    offending = {name: sorted(m for m in _imported(name, path) if m.split(".")[0] in {"tools", "switchboard_plugins"})
                 for name, path in _sources().items()}
    assert {name: found for name, found in offending.items() if found} == {}


@pytest.mark.parametrize("module", sorted(m for m in _sources() if _part(m) == "pipeline"))
def test_pipeline_never_loads_the_ingest_path(module: str) -> None:
    """The stream and worker Lambdas must not load the webhook path, not even through another module."""
    assert sorted(m for m in _reachable(module) if _part(m) == "ingest") == []


@pytest.mark.parametrize("module", sorted(m for m in _sources() if _part(m) == "storage"))
def test_storage_imports_nothing_above_it(module: str) -> None:
    assert sorted(m for m in _graph()[module] if _part(m) in {"api", "pipeline", "ingest", "tenancy"}) == []


@pytest.mark.parametrize("module", sorted(m for m in _sources() if _part(m)))
def test_imports_follow_the_layers(module: str) -> None:
    """Each part imports only the parts below it (docs/architecture.md)."""
    part = _part(module)
    assert part in ALLOWED, f"{part} is new: give it its place in ALLOWED and docs/architecture.md"
    wrong = sorted(m for m in _graph()[module] if _part(m) not in ALLOWED[part] | {part, ""})
    assert wrong == [], f"{part} may import {sorted(ALLOWED[part])} only"


@pytest.mark.parametrize("module", sorted(m for m, p in _sources().items() if p.name == "__init__.py"))
def test_packages_import_nothing(module: str) -> None:
    """A package's __init__ is its docstring: importing chalicelib.storage.keys loads no other module."""
    assert _imported(module, _sources()[module]) == set()
