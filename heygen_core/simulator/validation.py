"""Request validation against the generated models and the schema documents.

Bodies and query strings are decoded with `heygen_core.protocol.decode_as`
into the operation's generated model; problems become `FieldProblem`s that
each API's `Dialect` turns into its own error shape. Three things the models
cannot check are read from the schema document instead:

- query strings are text, so values are first converted to the schema
  property's type (integer, number, boolean) as FastAPI does;
- ``format: uuid`` is generated as a plain string (so ids round-trip byte for
  byte), so uuid fields in bodies, queries and paths are checked here,
  answering what FastAPI answers for a bad UUID (``uuid_parsing``);
- ``not: {required: [a, b]}`` (fields that must not be sent together, such
  as ``avatar_persona`` and ``voice_agent``) is ignored by the generator, so
  it is checked here, answering a ``value_error`` that names the fields.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel

from heygen_core.errors import ProtocolError
from heygen_core.operations import ApiName, Operation
from heygen_core.protocol import decode_as
from heygen_core.schemas import schema_document
from heygen_core.simulator.replies import FieldProblem, Where

M = TypeVar("M", bound=BaseModel)

_INTEGER = re.compile(r"[+-]?\d+")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


class RequestInvalid(Exception):
    """A part of the request failed validation.

    Attributes:
        where: ``body``, ``query`` or ``path``.
        problems: What is wrong, at least one.
    """

    def __init__(self, where: Where, problems: list[FieldProblem]) -> None:
        super().__init__(f"invalid {where}: {problems[0].msg}")
        self.where: Where = where
        self.problems = problems


class BodyNotJson(Exception):
    """The request body is not JSON (the message says where parsing stopped)."""


def problems_of(exc: ProtocolError) -> list[FieldProblem]:
    """Turn a `ProtocolError`'s pydantic errors into `FieldProblem`s."""
    problems = []
    for error in exc.errors:
        raw_loc = error.get("loc", ())
        loc = (
            tuple(part for part in raw_loc if isinstance(part, str | int))
            if isinstance(raw_loc, tuple | list)
            else ()
        )
        problems.append(FieldProblem(loc, str(error.get("msg", "")), str(error.get("type", ""))))
    return problems or [FieldProblem((), str(exc), "value_error")]


def validate_body(api: ApiName, model: type[M], raw: bytes) -> M:
    """Decode a JSON body into `model` and check its uuid fields.

    Raises:
        BodyNotJson: It is not JSON.
        RequestInvalid: It does not fit the model (``where="body"``).

    """
    try:
        value = decode_as(model, raw)
    except ProtocolError as exc:
        problems = problems_of(exc)
        if problems[0].type == "json_invalid":
            raise BodyNotJson(problems[0].msg) from None
        raise RequestInvalid("body", problems) from None
    _check_formats(api, model, json.loads(raw), "body")
    return value


def validate_query(api: ApiName, model: type[M], query: Mapping[str, str]) -> M:
    """Convert a query string by the schema's property types, then decode it into `model`.

    Keys the schema does not declare are dropped, as FastAPI ignores them.

    Raises:
        RequestInvalid: It does not fit the model (``where="query"``).

    """
    properties = _properties(api, model.__name__)
    values: dict[str, Any] = {}
    for key, text in query.items():
        if key in properties:
            values[key] = _coerce(text, _types(properties[key]))
    try:
        decoded = decode_as(model, json.dumps(values))
    except ProtocolError as exc:
        raise RequestInvalid("query", problems_of(exc)) from None
    _check_formats(api, model, values, "query")
    return decoded


def validate_path(api: ApiName, op: Operation, params: Mapping[str, str]) -> None:
    """Check path parameters against their schema (``format: uuid``).

    Raises:
        RequestInvalid: A parameter is malformed (``where="path"``).

    """
    problems = [
        _uuid_problem((name,))
        for name, fmt in _path_formats(api, op.path, op.method).items()
        if fmt == "uuid" and not _is_uuid(params.get(name, ""))
    ]
    if problems:
        raise RequestInvalid("path", problems)


def _uuid_problem(loc: tuple[str | int, ...]) -> FieldProblem:
    return FieldProblem(loc, "Input should be a valid UUID", "uuid_parsing")


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _coerce(text: str, types: tuple[str, ...]) -> Any:
    # Left as text when it does not convert: the model then reports the type error.
    if "integer" in types and _INTEGER.fullmatch(text.strip()):
        return int(text)
    if "number" in types:
        try:
            return float(text)
        except ValueError:
            pass
    if "boolean" in types and text.lower() in _TRUE | _FALSE:
        return text.lower() in _TRUE
    return text


def _types(node: Mapping[str, Any]) -> tuple[str, ...]:
    kind = node.get("type", ())
    return (kind,) if isinstance(kind, str) else tuple(kind)


@cache
def _defs(api: ApiName) -> dict[str, dict[str, Any]]:
    return schema_document(api).defs


def _properties(api: ApiName, name: str) -> dict[str, Any]:
    return dict(_defs(api).get(name, {}).get("properties", {}))


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


def _check_formats(api: ApiName, model: type[BaseModel], value: Any, where: Where) -> None:
    problems: list[FieldProblem] = []
    _walk(_defs(api), {"$ref": f"#/$defs/{model.__name__}"}, value, (), problems)
    if problems:
        raise RequestInvalid(where, problems)


def _walk(
    defs: Mapping[str, Any],
    node: Mapping[str, Any],
    value: Any,
    loc: tuple[str | int, ...],
    out: list[FieldProblem],
) -> None:
    """Collect ``format: uuid`` violations in an already model-valid `value`."""
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
            found: list[list[FieldProblem]] = []
            for option in options:
                if option.get("type") == "null":
                    continue
                attempt: list[FieldProblem] = []
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
        names = " and ".join(", ".join(exclusive).rsplit(", ", 1))
        out.append(
            FieldProblem(
                loc,
                f"Value error, {names} are mutually exclusive: do not send them together",
                "value_error",
            )
        )
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
