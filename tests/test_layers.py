"""The package imports downward only: no module cycle, no subpackage cycle, and every import goes to its own layer
or a lower one, as the layers stated in `concurrency_lab/__init__.py` say. Imports are read with `ast`, at module level
and inside functions alike: an import put in a function to dodge a cycle is still a cycle of design."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

import concurrency_lab

PACKAGE = Path(concurrency_lab.__file__).parent
NAME = PACKAGE.name


def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> its file, for every module of the package (a package by its __init__)."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: Mapping[str, Path]) -> str | None:
    """The module `name` lies in (``pkg.mod.Class`` -> ``pkg.mod``), None outside the package."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imported_names(module: str, path: Path) -> Iterable[str]:
    """Every dotted name `module` imports, anywhere in it; ``from X import y`` names both X and X.y (X is run first)."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            yield source
            yield from (f"{source}.{alias.name}" for alias in node.names)


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = {_resolve(name, modules) for name in imported_names(module, path) if name.split(".")[0] == NAME}
        graph[module] = {target for target in targets if target and target != module}
    return graph


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.get(target, ())))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
    return found


def part_of(module: str) -> str:
    """The subpackage (or root module) a module belongs to: ``concurrency_lab.report.html`` -> ``report``;
    the package's own __init__ is ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def subpackage_graph(graph: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    parts: dict[str, set[str]] = {}
    for module, targets in graph.items():
        parts.setdefault(part_of(module), set()).update(part_of(t) for t in targets if part_of(t) != part_of(module))
    return parts


def stated_layers() -> list[set[str]]:
    """The layers the package docstring states, bottom first: ``a < b | c < d`` -> [{a}, {b, c}, {d}]."""
    doc = concurrency_lab.__doc__ or ""
    found = re.search(r"^Layers, bottom to top\..*?\n\n((?:    [^\n]*\n)+)", doc, re.M | re.S)
    assert found, "concurrency_lab/__init__.py's docstring states no layers ('Layers, bottom to top.' and an indented block)"
    text = " ".join(found.group(1).split())
    return [{name.strip() for name in layer.split("|")} for layer in text.split("<")]


GRAPH = import_graph(module_files())


def test_the_walker_counts_imports_inside_functions_and_from_packages():
    # commands.advise imports the report's page only inside write_advice; report.html imports records at the top.
    assert "concurrency_lab.report.html" in GRAPH["concurrency_lab.commands.advise"]
    assert "concurrency_lab.records.advice_view" in GRAPH["concurrency_lab.report.html"]
    assert {"concurrency_lab.core", "concurrency_lab.core.interrupt"} <= GRAPH["concurrency_lab.commands.advise"]


def test_the_cycle_finder_finds_cycles_and_only_them():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"b"}}) == []
    assert sorted(cycles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c", "a"}})) == [["a", "b"], ["c", "d"]]


def test_no_module_imports_another_that_imports_it_back():
    assert cycles(GRAPH) == []


def test_no_subpackage_imports_another_that_imports_it_back():
    assert cycles(subpackage_graph(GRAPH)) == []


def test_every_subpackage_has_a_stated_layer():
    stated = set().union(*stated_layers())
    assert sorted({part_of(module) for module in GRAPH} - stated) == []


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_go_to_the_same_layer_or_below(module):
    layer_of = {name: height for height, layer in enumerate(stated_layers()) for name in layer}
    own = layer_of.get(part_of(module))
    if own is None:
        pytest.fail(f"{module} is in no stated layer")
    upward = sorted(t for t in GRAPH[module] if layer_of.get(part_of(t), len(layer_of)) > own)
    assert upward == [], f"{module} ({part_of(module)}) imports from a higher layer"


def test_advise_and_the_report_meet_only_through_what_is_below_them():
    """They share a layer, so the layer test lets them import each other: this does not. Records and numerics
    are what they share; the command that writes advise's page is where they meet, above both."""
    crossing = sorted((module, target) for module, targets in GRAPH.items() for target in targets
                      if {part_of(module), part_of(target)} == {"advise", "report"})
    assert crossing == []
