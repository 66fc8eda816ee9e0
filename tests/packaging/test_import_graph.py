"""No import cycles inside heygen_core, counting imports inside functions too.

A cycle hidden in a function-level import still couples the two modules (and
breaks as soon as someone hoists the import), so every ``import`` statement
counts, wherever it is. Statements under ``if TYPE_CHECKING:`` are left out:
they never run, so they cannot make a cycle at import time, and they are the
sanctioned way to name a type from a module that imports yours.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "heygen_core"
MAX_TOP_LEVEL_MODULES = 10


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
PACKAGES = {name for name, path in MODULES.items() if path.name == "__init__.py"}


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def lazy_table(tree: ast.Module) -> dict[str, str]:
    """A package's ``_LAZY = {"Name": "module"}``: names `__getattr__` imports on use."""
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == "_LAZY":
            assert isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
            table = ast.literal_eval(node.value)
            assert isinstance(table, dict)
            return {str(key): str(value) for key, value in table.items()}
    return {}


TREES = {name: ast.parse(path.read_text(), str(path)) for name, path in MODULES.items()}
LAZY = {name: lazy_table(tree) for name, tree in TREES.items() if name in PACKAGES}


def resolve(importer: str, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` names (relative imports included)."""
    if not node.level:
        return node.module or ""
    package = importer if importer in PACKAGES else importer.rsplit(".", 1)[0]
    base = package.split(".")
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported_modules(importer: str, tree: ast.Module) -> set[str]:
    """Every heygen_core module `importer` imports, at any depth but TYPE_CHECKING blocks."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = resolve(importer, node)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in MODULES:  # `from pkg import module`
                    found.add(submodule)
                elif alias.name in LAZY.get(source, {}):  # a lazy export: its real home
                    found.add(LAZY[source][alias.name])
                else:
                    found.add(source)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {name for name in found if name in MODULES and name != importer}


GRAPH = {name: imported_modules(name, tree) for name, tree in TREES.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as a path that starts and ends on the same module, or None."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for target in sorted(graph[node]):
            if target in on_path:
                return [*path[path.index(target) :], target]
            if target not in done and (cycle := visit(target)):
                return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done and (cycle := visit(start)):
            return cycle
    return None


def test_the_graph_sees_the_imports_it_must() -> None:
    # Guards the parser: a module-level import, a function-level one, a
    # `from pkg import module`, and a lazy export resolved to its home.
    assert "heygen_core.errors" in GRAPH["heygen_core.protocol.codec"]
    assert "heygen_core.cli._admin" in GRAPH["heygen_core.cli.main"]  # inside build_parser
    # `from heygen_core.session import AvatarSession`: a lazy export, seen in its home.
    assert "heygen_core.session.avatar_session" in GRAPH["heygen_core.cli._say"]
    assert LAZY["heygen_core"]["AvatarSession"] == "heygen_core.session"
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_heygen_core_has_no_import_cycle() -> None:
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_heygen_core_top_level_stays_small() -> None:
    # Modules directly in heygen_core/ (subpackages hold the rest).
    top = sorted(path.name for path in PACKAGE.glob("*.py") if path.name != "__init__.py")
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
