"""The app-level import graph: which app imports which (module-level and function-level imports,
tests and migrations left out), the cycles, and the modules over the size limit (every non-test
Python module of the repository: the apps, aerostic, bench, devstack, tools and the root scripts).

    python tools/import_graph.py [--max-lines 400]

Exits 1 when the graph has a cycle or a module is over the limit, so it can gate `make lint`.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("aerostic", "accounts", "tenants", "contacts", "compliance", "whatsapp", "inbox", "campaigns", "billing")
SKIPPED_PARTS = {"tests", "migrations", "testsupport"}
TEST_PARTS = {"tests", "testsupport"}  # test code: the size limit is for the rest


def is_test_module(path: Path) -> bool:
    parts = path.relative_to(ROOT).parts
    return not TEST_PARTS.isdisjoint(parts) or path.name == "conftest.py" or path.name.startswith("test_")


def sized_modules() -> list[Path]:
    """Every non-test Python module in the repository (hidden folders such as .venv and .data left out)."""
    return [
        path
        for path in sorted(ROOT.rglob("*.py"))
        if not any(part.startswith(".") for part in path.relative_to(ROOT).parts) and not is_test_module(path)
    ]


def modules() -> list[Path]:
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if SKIPPED_PARTS.isdisjoint(path.relative_to(ROOT).parts):
                found.append(path)
    return found


def node_of(dotted: str) -> str:
    """The graph node of a module: its app, with the `aerostic` package split in two: aerostic.core
    (the bottom layer: it imports no app) and the project frame (settings, URL maps, worker,
    seed_demo: it may import every app, and none may import it)."""
    top = dotted.split(".")[0]
    if top != "aerostic":
        return top
    return "aerostic.core" if dotted == "aerostic.core" or dotted.startswith("aerostic.core.") else "frame"


def app_of(path: Path) -> str:
    return node_of(".".join(path.relative_to(ROOT).with_suffix("").parts))


def imported_apps(path: Path) -> dict[str, list[tuple[int, bool]]]:
    """{app: [(line, at module level)]} for the apps this module imports."""
    tree = ast.parse(path.read_text(), filename=str(path))
    module_level = {id(node) for node in tree.body} | {
        id(child) for node in tree.body if isinstance(node, ast.If | ast.Try) for child in ast.walk(node)
    }
    found: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top not in APPS:
                continue
            target = node_of(name)
            found[target].append((node.lineno, id(node) in module_level))
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one app (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return components


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-lines", type=int, default=400)
    args = parser.parse_args()
    edges: dict[str, set[str]] = defaultdict(set)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])  # (module level, in functions)
    long_modules = []
    for path in modules():
        source = app_of(path)
        edges.setdefault(source, set())
        for target, places in imported_apps(path).items():
            if target == source:
                continue
            edges[source].add(target)
            for _, at_module_level in places:
                counts[(source, target)][0 if at_module_level else 1] += 1
    for path in sized_modules():
        lines = len(path.read_text().splitlines())
        if lines > args.max_lines:
            long_modules.append((lines, path.relative_to(ROOT)))
    print("App imports (module-level + function-level statements):")
    for source in sorted(edges):
        targets = ", ".join(f"{t} ({counts[(source, t)][0]}+{counts[(source, t)][1]})" for t in sorted(edges[source]))
        print(f"  {source:<14} → {targets or '—'}")
    mutual = sorted((a, b) for a in edges for b in edges[a] if a < b and a in edges.get(b, ()))
    found = cycles(edges)
    function_level = sum(count[1] for count in counts.values())
    print(f"\nMutual pairs: {len(mutual)}" + "".join(f"\n  {a} ⇄ {b}" for a, b in mutual))
    print(f"Cycles: {len(found)}" + "".join(f"\n  {' · '.join(c)}" for c in found))
    print(f"Function-level imports between apps: {function_level}")
    print(f"\nModules over {args.max_lines} lines: {len(long_modules)}")
    for lines, path in sorted(long_modules, reverse=True):
        print(f"  {lines:>5}  {path}")
    return 1 if found or long_modules else 0


if __name__ == "__main__":
    sys.exit(main())
