"""The schema constraints the generated models cannot check, read from the schema documents.

The generated pydantic models check types, required fields, enums and ranges
when a model is built. Two constraints of the REST schemas are not in them:

- ``format: uuid`` is generated as a plain string (so ids round-trip byte for
  byte), in bodies, query strings and path parameters;
- ``not: {required: [a, b]}`` (fields that must not be sent together, such as
  ``avatar_persona`` and ``voice_agent``) is ignored by the generator.

This module checks both on a wire value by walking the schema, for the REST
clients (which refuse to send such a request) and for the simulator (which
answers it as the service does). Each problem carries the service's wording
(`ConstraintProblem.msg`, what FastAPI answers) and advice for the caller.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel

from heygen_core.protocol.codec import dotted_path
from heygen_core.protocol.schemas import schema_document
from heygen_core.rest.operations import ApiName, Operation

UUID_EXAMPLE = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
"""A well-formed UUID, shown in advice."""


@dataclass(frozen=True)
class ConstraintProblem:
    """One broken constraint: where, what the service says, its kind, and what to do.

    Attributes:
        loc: Path inside the body, query or path parameters; a discriminated
            union's tag is part of it, as pydantic reports it
            (``("FULL", "avatar_id")``).
        msg: The service's wording (``Input should be a valid UUID``).
        type: pydantic's error type: ``uuid_parsing`` or ``value_error``.
        advice: What to send instead, for a caller's error message
            (``expected a UUID such as ...``, ``send a or b, not both``).
            It never repeats the value sent.
    """

    loc: tuple[str | int, ...]
    msg: str
    type: str
    advice: str

    @property
    def field(self) -> str | None:
        """`loc` as a dotted path (``avatar_persona.voice_id``), or None when it is empty."""
        return dotted_path(self.loc) or None


def model_problems(api: ApiName, model: type[BaseModel], value: Any) -> list[ConstraintProblem]:
    """Return what breaks the uuid and exclusive-field constraints in `value`.

    Args:
        api: The API whose schema declares `model`.
        model: A generated model of that API (a request body or query type).
        value: Its wire JSON, parsed (what `encode` would send); it should
            already fit `model`, which checks everything else.

    Returns:
        Every problem found, in document order; empty when there are none.

    Raises:
        KeyError: The schema of `api` declares no type named like `model`.
    """
    defs = _defs(api)
    if model.__name__ not in defs:
        raise KeyError(f"{api} declares no type {model.__name__!r}")
    problems: list[ConstraintProblem] = []
    _walk(defs, defs[model.__name__], value, (), problems)
    return problems


def path_problems(
    api: ApiName, operation: Operation, params: Mapping[str, str]
) -> list[ConstraintProblem]:
    """Return the path parameters of `operation` that break their ``format: uuid``.

    A parameter missing from `params` counts as malformed.
    """
    return [
        _uuid_problem((name,))
        for name, fmt in _path_formats(api, operation.path, operation.method).items()
        if fmt == "uuid" and not _is_uuid(params.get(name, ""))
    ]


def _uuid_problem(loc: tuple[str | int, ...]) -> ConstraintProblem:
    return ConstraintProblem(
        loc,
        "Input should be a valid UUID",
        "uuid_parsing",
        f"expected a UUID such as {UUID_EXAMPLE}",
    )


def _exclusive_problem(loc: tuple[str | int, ...], names: list[str]) -> ConstraintProblem:
    # `not: {required: [a, b, c]}` forbids all of them together; any fewer are fine.
    return ConstraintProblem(
        loc,
        f"Value error, {_listed(names, 'and')} are mutually exclusive: do not send them together",
        "value_error",
        f"send {_listed(names, 'or')}, not both"
        if len(names) == 2
        else f"do not send {_listed(names, 'and')} together",
    )


def _listed(names: list[str], word: str) -> str:
    return f" {word} ".join(", ".join(names).rsplit(", ", 1))


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


@cache
def _defs(api: ApiName) -> dict[str, dict[str, Any]]:
    return schema_document(api).defs


@cache
def _path_formats(api: ApiName, path: str, method: str) -> dict[str, str]:
    document = schema_document(api).document
    item = document["paths"][path]
    formats: dict[str, str] = {}
    for raw in [*item.get("parameters", []), *item[method.lower()].get("parameters", [])]:
        param = raw
        ref = raw.get("$ref")
        if isinstance(ref, str):
            param = document["components"]["parameters"][ref.rsplit("/", 1)[-1]]
        fmt = param.get("schema", {}).get("format")
        if param.get("in") == "path" and isinstance(fmt, str):
            formats[str(param["name"])] = fmt
    return formats


def _walk(
    defs: Mapping[str, Any],
    node: Mapping[str, Any],
    value: Any,
    loc: tuple[str | int, ...],
    out: list[ConstraintProblem],
) -> None:
    """Collect uuid and exclusive-field violations in an already model-valid `value`."""
    ref = node.get("$ref")
    if isinstance(ref, str):
        _walk(defs, defs.get(ref.rsplit("/", 1)[-1], {}), value, loc, out)
    for part in node.get("allOf", ()):
        _walk(defs, part, value, loc, out)
    options = node.get("oneOf") or node.get("anyOf")
    if options and value is not None:
        discriminator = node.get("discriminator")
        if discriminator and isinstance(value, dict):
            tag = value.get(discriminator["propertyName"])
            target = discriminator.get("mapping", {}).get(tag)
            if isinstance(target, str):
                # pydantic (and FastAPI) put the tag in the path: ["body", "LITE", "avatar_id"].
                _walk(defs, {"$ref": target}, value, (*loc, str(tag)), out)
        else:
            found: list[list[ConstraintProblem]] = []
            for option in options:
                if option.get("type") == "null":
                    continue
                attempt: list[ConstraintProblem] = []
                _walk(defs, option, value, loc, attempt)
                if not attempt:
                    break
                found.append(attempt)
            else:
                if found:
                    out.extend(found[0])
    if node.get("format") == "uuid" and isinstance(value, str) and not _is_uuid(value):
        out.append(_uuid_problem(loc))
    exclusive = node.get("not", {}).get("required")
    if isinstance(value, dict) and exclusive and all(name in value for name in exclusive):
        out.append(_exclusive_problem(loc, [str(name) for name in exclusive]))
    if isinstance(value, dict):
        properties = node.get("properties", {})
        extra = node.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                _walk(defs, properties[key], item, (*loc, key), out)
            elif isinstance(extra, dict):
                _walk(defs, extra, item, (*loc, key), out)
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        for index, item in enumerate(value):
            _walk(defs, node["items"], item, (*loc, index), out)
