"""The framework extras stay optional: the base package and its tests never need them.

Pipecat and LiveKit Agents come with the ``pipecat`` and ``livekit-agents``
extras only. Outside the adapters (heygen_core/pipecat, heygen_core/livekit_agents),
their tests (tests/adapters) and the examples and peer drivers that run in
their own processes, nothing may import them, or our adapters, at any depth;
and every test module under tests/adapters skips, with `pytest.importorskip`,
before it imports either, so the suite passes without them installed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("heygen_core", "tests", "examples", "bench", "codegen")
ADAPTER_TESTS = ROOT / "tests" / "adapters"
# Where importing a framework is the point. Examples run in a subprocess
# (their tests skip without the extra); peer drivers and the benchmark's
# Pipecat worker run in their own venvs.
ALLOWED = (
    "heygen_core/pipecat/",
    "heygen_core/livekit_agents/",
    "tests/adapters/",
    "tests/peers/pipecat/",
    "tests/peers/livekit-plugin/",
    "examples/pipecat_",
    "examples/livekit_agents_",
    "bench/pipecat_worker.py",
)
# A framework and our adapter over it, by import name; importing either needs the extra.
FRAMEWORKS = {
    "pipecat": ("pipecat", "heygen_core.pipecat"),
    "livekit-agents": ("livekit.agents", "heygen_core.livekit_agents"),
}


def extra_of(module: str) -> str | None:
    """The extra an import of `module` needs, if any."""
    for extra, roots in FRAMEWORKS.items():
        if any(module == root or module.startswith(f"{root}.") for root in roots):
            return extra
    return None


def absolute(path: Path, node: ast.ImportFrom) -> str:
    """The module a ``from ... import`` names, relative imports resolved against `path`."""
    if not node.level:
        return node.module or ""
    package = list(path.relative_to(ROOT).with_suffix("").parts[:-1])
    if node.level > 1:
        package = package[: -(node.level - 1)]
    return ".".join([*package, *([node.module] if node.module else [])])


def imported(path: Path, node: ast.AST) -> list[str]:
    """The modules an import loads (``from livekit import agents`` loads livekit.agents)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        source = absolute(path, node)
        if extra_of(source):
            return [source]
        return [source, *(f"{source}.{alias.name}" for alias in node.names)]
    return []


def python_files() -> Iterator[Path]:
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if not {"__pycache__", ".venv", ".peers"} & set(path.parts):
                yield path


def framework_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of a framework or adapter in `path`, at any depth."""
    tree = ast.parse(path.read_text(), str(path))
    return [
        (node.lineno, module)
        for node in ast.walk(tree)
        for module in imported(path, node)
        if extra_of(module)
    ]


def test_nothing_outside_the_adapters_imports_a_framework() -> None:
    found = [
        f"{relative}:{line}: {module}"
        for path in python_files()
        if not (relative := path.relative_to(ROOT).as_posix()).startswith(ALLOWED)
        for line, module in framework_imports(path)
    ]
    assert not found, "needs an optional extra, outside the adapters:\n" + "\n".join(found)


def importorskip_target(node: ast.stmt) -> str | None:
    """The module of a module-level ``pytest.importorskip("module")`` statement, if it is one."""
    value = node.value if isinstance(node, ast.Expr | ast.Assign | ast.AnnAssign) else None
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr == "importorskip"
        and value.args
        and isinstance(value.args[0], ast.Constant)
        and isinstance(value.args[0].value, str)
    ):
        return value.args[0].value
    return None


def unguarded_imports(path: Path) -> list[str]:
    """What `path` imports that needs an extra it has not skipped on at module level first.

    A module-level import must come after the `importorskip` of its extra; an
    import inside a function runs during a test, after every module-level one.
    Importing a helper module of tests/adapters counts as importing a framework.
    """
    tree = ast.parse(path.read_text(), str(path))
    skipped: set[str] = set()
    missing: list[str] = []

    def check(node: ast.AST, guard: set[str]) -> None:
        for module in imported(path, node):
            extra = extra_of(module)
            needs = {extra} if extra else set()
            if module.startswith("tests.adapters.") and not needs:
                needs = set(FRAMEWORKS) if not guard else set()
            if needs - guard:
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {module}")

    for statement in tree.body:
        if (target := importorskip_target(statement)) and (extra := extra_of(target)):
            skipped.add(extra)
        check(statement, skipped)
    every_skip = skipped
    for statement in tree.body:
        if not isinstance(statement, ast.Import | ast.ImportFrom):
            for node in ast.walk(statement):
                check(node, every_skip)
    return missing


def test_adapter_tests_skip_without_their_framework() -> None:
    modules = sorted(ADAPTER_TESTS.rglob("test_*.py")) + sorted(ADAPTER_TESTS.rglob("conftest.py"))
    found = [problem for path in modules for problem in unguarded_imports(path)]
    assert not found, (
        "import after pytest.importorskip('pipecat' / 'livekit.agents') at module level:\n"
        + "\n".join(found)
    )
    for path in sorted(ADAPTER_TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(), str(path))
        assert any(importorskip_target(statement) for statement in tree.body), (
            f"{path.relative_to(ROOT)} runs without skipping when its framework is missing"
        )
