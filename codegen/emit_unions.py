"""Module tail naming the members of each discriminated union, and each member's tag.

datamodel-code-generator turns a ``oneOf`` + ``discriminator`` schema into a
``RootModel`` (``ClientEvent``, ``ServerEvent``, ...). That model parses, but a
decoded event is one of its members, and users need a type naming exactly
those members to narrow with ``isinstance`` or ``match`` without a cast. The
generator cannot say that (``--use-type-alias`` would drop the RootModels the
codec validates with), so this post-step reads the generated module and adds:

- ``<Union>Variant``: a type alias of the union's members, e.g.
  ``ServerEventVariant = SessionStateUpdated | AgentSpeakStarted | ...``;
- ``<MEMBER>_TAG``: each member's tag value as a ``Final`` constant, e.g.
  ``AGENT_SPEAK_TAG: Final = "agent.speak"``. Hand-written code builds and
  matches events with these (mypy checks a constant against the member's
  ``Literal`` tag), so no tag is ever spelt twice.

Generated modules are read, not their schemas: what is emitted then always
agrees with the classes it names.
"""

from __future__ import annotations

import ast
import json
import re

VARIANT_SUFFIX = "Variant"
TAG_SUFFIX = "_TAG"


def unions_block(source: str) -> str:
    """Return the tail to append to the generated module `source` ("" if it has no union)."""
    tree = ast.parse(source)
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    aliases: list[str] = []
    tags: dict[str, tuple[str, str, str]] = {}
    for node in tree.body:
        found = _discriminated_union(node)
        if found is None:
            continue
        members, discriminator = found
        alias = node.name + VARIANT_SUFFIX
        if alias in classes:
            raise SystemExit(f"emit_unions: {alias} would shadow a generated class")
        aliases += [
            f"{alias}: _typing.TypeAlias = {' | '.join(members)}",
            f'"""One member of `{node.name}`, decoded: narrow it with `isinstance` or `match`."""',
            "",
        ]
        for member in members:
            value = _single_literal(classes[member], discriminator)
            if value is None:
                raise SystemExit(
                    f"emit_unions: {member}.{discriminator} is not a one-value Literal tag"
                )
            tags[member] = (_constant_name(member), discriminator, value)
    if not aliases:
        return ""
    lines = ["", "", "import typing as _typing", "", *aliases]
    for member, (name, discriminator, value) in sorted(tags.items()):
        lines += [
            f"{name}: _typing.Final = {json.dumps(value)}",
            f'"""The `{discriminator}` tag of `{member}`."""',
            "",
        ]
    return "\n".join(lines)


def _discriminated_union(node: ast.stmt) -> tuple[list[str], str] | None:
    """(member class names, discriminator) of a ``RootModel`` union class, else None."""
    if not isinstance(node, ast.ClassDef) or not node.bases:
        return None
    base = node.bases[0]
    if not (
        isinstance(base, ast.Subscript)
        and isinstance(base.value, ast.Name)
        and base.value.id == "RootModel"
    ):
        return None
    for stmt in node.body:
        if not (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.target.id == "root"
        ):
            continue
        annotation = stmt.annotation
        if not (
            isinstance(annotation, ast.Subscript)
            and isinstance(annotation.value, ast.Name)
            and annotation.value.id == "Annotated"
            and isinstance(annotation.slice, ast.Tuple)
        ):
            return None
        union, *extras = annotation.slice.elts
        for extra in extras:
            if isinstance(extra, ast.Call):
                for keyword in extra.keywords:
                    if keyword.arg == "discriminator" and isinstance(keyword.value, ast.Constant):
                        members = _union_names(union)
                        if members is not None:
                            return members, str(keyword.value.value)
        return None
    return None


def _union_names(expr: ast.expr) -> list[str] | None:
    if isinstance(expr, ast.Name):
        return [expr.id]
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        left, right = _union_names(expr.left), _union_names(expr.right)
        if left is not None and right is not None:
            return left + right
    return None


def _single_literal(cls: ast.ClassDef, field: str) -> str | None:
    for stmt in cls.body:
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.target.id == field
        ):
            annotation = stmt.annotation
            if (
                isinstance(annotation, ast.Subscript)
                and isinstance(annotation.value, ast.Name)
                and annotation.value.id == "Literal"
                and isinstance(annotation.slice, ast.Constant)
                and isinstance(annotation.slice.value, str)
            ):
                return annotation.slice.value
            return None
    return None


def _constant_name(class_name: str) -> str:
    """``AgentSpeakEnded`` -> ``AGENT_SPEAK_ENDED_TAG``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", class_name).upper() + TAG_SUFFIX
