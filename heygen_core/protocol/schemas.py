"""The wire schemas as JSON Schema documents, and the generated model of each type.

`make generate` ships a JSON copy of every schema file inside the
``heygen_models`` package, so an installed heygen-core can validate traffic
(the simulator does) and enumerate types (the property tests do) without the
source tree.
"""

from __future__ import annotations

import copy
import importlib
import json
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from typing import Any, Literal, cast

from pydantic import BaseModel

SchemaKind = Literal["openapi", "realtime"]
"""``openapi`` for a REST API document, ``realtime`` for an event protocol."""

_OPENAPI_REF = "#/components/schemas/"


@dataclass(frozen=True)
class SchemaDocument:
    """One schema file: an OpenAPI document or a realtime event schema.

    Attributes:
        module: The generated module's name (``liveavatar``, ``realtime_alpha``).
        kind: ``openapi`` or ``realtime``.
        document: The whole parsed document.

    """

    module: str
    kind: SchemaKind
    document: dict[str, Any] = field(repr=False)

    @property
    def protocol(self) -> str:
        """The protocol's wire name (``realtime-alpha``, ``liveavatar``)."""
        return self.module.replace("_", "-")

    @cached_property
    def defs(self) -> dict[str, dict[str, Any]]:
        """Every named type, with OpenAPI refs rewritten to ``#/$defs/NAME``."""
        if self.kind == "openapi":
            named = self.document.get("components", {}).get("schemas", {})
            return cast(dict[str, dict[str, Any]], _rewrite_refs(copy.deepcopy(named)))
        return cast(dict[str, dict[str, Any]], self.document["$defs"])

    def json_schema(self, name: str) -> dict[str, Any]:
        """Return a standalone JSON Schema 2020-12 document for type `name`."""
        if name not in self.defs:
            raise KeyError(f"{self.module} has no type {name!r}")
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": self.defs,
            "$ref": f"#/$defs/{name}",
        }

    def model(self, name: str) -> type[BaseModel]:
        """Return the generated model class of type `name`."""
        module = importlib.import_module(f"heygen_models.{self.module}")
        return cast(type[BaseModel], getattr(module, name))


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                "#/$defs/" + value[len(_OPENAPI_REF) :]
                if key == "$ref" and isinstance(value, str) and value.startswith(_OPENAPI_REF)
                else _rewrite_refs(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item) for item in node]
    return node


@cache
def schema_documents() -> tuple[SchemaDocument, ...]:
    """Return every schema shipped in ``heygen_models``, sorted by module name."""
    folder = resources.files("heygen_models") / "schemas"
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        document = json.loads(entry.read_text(encoding="utf-8"))
        kind: SchemaKind = "openapi" if "openapi" in document else "realtime"
        found.append(SchemaDocument(entry.name[: -len(".json")], kind, document))
    return tuple(found)


def schema_document(module: str) -> SchemaDocument:
    """Return the schema of one generated module (``liveavatar``, ``lite``, ...)."""
    for document in schema_documents():
        if document.module == module:
            return document
    raise KeyError(f"no schema for module {module!r}")
