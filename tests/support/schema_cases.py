"""Enumerate every type in every schema, so a new type is tested with no test edit."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from heygen_core.protocol.schemas import SchemaDocument, schema_documents

UNIONS = {"ClientEvent": "client", "ServerEvent": "server"}


@dataclass(frozen=True)
class TypeCase:
    """One named type of one schema document."""

    doc: SchemaDocument
    name: str

    @property
    def id(self) -> str:
        return f"{self.doc.module}:{self.name}"

    @property
    def schema(self) -> dict[str, Any]:
        return self.doc.defs[self.name]

    @property
    def event_direction(self) -> str | None:
        """'client'/'server' for a realtime event in a union, else None."""
        if self.doc.kind != "realtime":
            return None
        for union, direction in UNIONS.items():
            for variant in self.doc.defs.get(union, {}).get("oneOf", []):
                if variant.get("$ref", "").rsplit("/", 1)[-1] == self.name:
                    return direction
        return None

    @property
    def tag_field(self) -> str | None:
        if self.doc.kind != "realtime":
            return None
        return str(self.doc.defs["ClientEvent"]["discriminator"]["propertyName"])


def all_types() -> list[TypeCase]:
    return [TypeCase(doc, name) for doc in schema_documents() for name in doc.defs]


def object_types() -> list[TypeCase]:
    """Types that are (possibly allOf-composed) objects, not unions or scalars."""
    return [case for case in all_types() if object_shape(case.doc, case.name)[0]]


def event_types() -> list[TypeCase]:
    return [case for case in all_types() if case.event_direction is not None]


def example_cases() -> list[tuple[TypeCase, int, Any]]:
    return [
        (case, i, example)
        for case in all_types()
        for i, example in enumerate(case.schema.get("examples", []))
    ]


def resolve(doc: SchemaDocument, schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc.defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def object_shape(doc: SchemaDocument, name: str) -> tuple[dict[str, Any], set[str]]:
    """(properties, required) of an object type, merging allOf parts and refs."""
    props: dict[str, Any] = {}
    required: set[str] = set()

    def visit(schema: dict[str, Any]) -> None:
        schema = resolve(doc, schema)
        props.update(schema.get("properties", {}))
        required.update(schema.get("required", []))
        for part in schema.get("allOf", []):
            visit(part)

    visit(doc.defs[name])
    return props, required


def wire_equal(a: Any, b: Any) -> bool:
    """JSON equality that, unlike ==, tells true from 1 (and 1 from "1")."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(wire_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(wire_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b
