"""The house: drtiers' packages import only downward, and no module imports itself round a
circle. Every import counts: at module level, inside a function, under TYPE_CHECKING."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "drtiers"
# Bottom first. A layer may import the layers before it, never one after it. The modules at the
# top of drtiers/ (build, entry, cli) are layers of their own.
LAYERS = (
    "core",
    "config",
    "assembly",
    "recovery",
    "assess",
    "constructs",
    "stacks",
    "build",
    "checks",
    "advice",
    "fleet",
    "report",
    "entry",
    "cli",
)
APART = {"lambdas", "data", "__init__"}  # deployed code and data: imports nothing of drtiers


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The drtiers modules ``module`` imports, resolved to the nearest module that exists."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + [base] * bool(base))
            names += [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    found = set()
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name.startswith("drtiers") and name != module:
            found.add(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: _imports(m, path, modules) for m, path in modules.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a layer by one below it, or of anything by a module kept apart."""
    found = []
    for module, imported in graph.items():
        for target in imported:
            own, other = _layer(module), _layer(target)
            if own == other:
                continue
            if own in APART or other in APART or LAYERS.index(other) > LAYERS.index(own):
                found.append(f"{module} imports {target}")
    return sorted(found)


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_package_has_a_layer() -> None:
    layers = {_layer(m) for m in _modules()}
    assert layers - set(LAYERS) - APART == set()


def test_packages_import_only_downward() -> None:
    assert upward_imports(_graph()) == []


def test_no_module_imports_itself_round_a_circle() -> None:
    assert circles(_graph()) == []


@pytest.mark.parametrize(
    ("graph", "upward", "circle"),
    [
        ({"drtiers.core.a": {"drtiers.stacks.b"}, "drtiers.stacks.b": set()}, 1, 0),
        ({"drtiers.stacks.b": {"drtiers.core.a"}, "drtiers.core.a": set()}, 0, 0),
        ({"drtiers.core.a": {"drtiers.core.b"}, "drtiers.core.b": {"drtiers.core.a"}}, 0, 1),
        ({"drtiers.lambdas.f": {"drtiers.core.a"}, "drtiers.core.a": set()}, 1, 0),
    ],
)
def test_the_checks_catch_what_they_look_for(
    graph: dict[str, set[str]], upward: int, circle: int
) -> None:
    assert (len(upward_imports(graph)), len(circles(graph))) == (upward, circle)
