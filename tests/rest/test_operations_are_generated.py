"""The REST operations are spelled only in the schemas and the code generated from them.

A hand-written module that names an operationId in a string (a dict of hints,
a `call("stop_session", ...)`) re-declares what the schema declares and goes
stale when the schema changes. The simulator is exempt: it plays the service
and answers operations by name.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "heygen_core"
EXEMPT = PACKAGE / "simulator"


def operation_ids() -> set[str]:
    found = set()
    for path in sorted((ROOT / "schemas" / "rest").glob("*.openapi.yaml")):
        for item in yaml.safe_load(path.read_text())["paths"].values():
            found |= {op["operationId"] for op in item.values() if "operationId" in op}
    return found


def naming_pattern(ids: set[str]) -> re.Pattern[str]:
    # A whole word, and not part of a dotted name: "session.keep_alive" is a
    # realtime event tag, not the Streaming operation keep_alive.
    words = "|".join(sorted(map(re.escape, ids), key=len, reverse=True))
    return re.compile(rf"(?<![\w.])({words})(?![\w]|\.\w)")


def docstring_nodes(tree: ast.AST) -> set[int]:
    nodes = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                nodes.add(id(first.value))
    return nodes


def operation_id_literals(source: str, pattern: re.Pattern[str]) -> list[tuple[int, str]]:
    """(line, operationId) for each string constant, docstrings aside, that names one."""
    tree = ast.parse(source)
    skip = docstring_nodes(tree)
    return [
        (node.lineno, match.group(1))
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
        for match in pattern.finditer(node.value)
    ]


def test_no_hand_written_module_names_an_operation() -> None:
    pattern = naming_pattern(operation_ids())
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.is_relative_to(EXEMPT):
            continue
        for line, name in operation_id_literals(path.read_text(), pattern):
            found.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    assert found == [], "operationIds belong in the schema (x-id-source, ...):\n" + "\n".join(found)


def test_the_scan_finds_hint_tables_and_calls_by_name() -> None:
    # What the hand-written clients and transport held before codegen wrote them.
    pattern = naming_pattern(operation_ids())
    source = '''
"""Docstrings may name create_session_token."""
_ID_SOURCES = {("liveavatar", "session_id"): "create_session_token or list_sessions"}

async def stop(client):
    """Calls stop_session."""
    await client.call("stop_session", Envelope)
    return f"use {'keep_alive'} first"

EVENT = "session.keep_alive"
'''
    assert operation_id_literals(source, pattern) == [
        (3, "create_session_token"),
        (3, "list_sessions"),
        (7, "stop_session"),
        (8, "keep_alive"),
    ]
