"""Request validation against the generated models and the schema documents.

Bodies and query strings are decoded with `heygen_core.protocol.codec.decode_as`
into the operation's generated model; problems become `FieldProblem`s that
each API's `Dialect` turns into its own error shape. What the models cannot
check is read from the schema document instead:

- query strings are text, so values are first converted to the schema
  property's type (integer, number, boolean) as FastAPI does;
- ``format: uuid`` in bodies, queries and paths, and ``not: {required: [a, b]}``
  (fields that must not be sent together), are checked by
  `heygen_core.protocol.constraints` (the same checks the REST clients run
  before sending), answering what FastAPI answers: ``uuid_parsing``, and a
  ``value_error`` that names the fields.

Unknown request fields follow the schema, because the generated models do:
a model whose schema says ``additionalProperties: false`` (the vendor's
schema forbids extras there) answers ``extra_forbidden``; every other model
ignores them, as the vendor's servers do. Optional bodies (LiveAvatar
``stop`` and ``keep-alive``, which the web SDK sends with no body) may be
absent; a body sent to an operation that takes none (``start``,
``x-no-body``) is ignored, whatever it holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from heygen_core.errors import ProtocolError
from heygen_core.protocol.codec import decode_as
from heygen_core.protocol.constraints import ConstraintProblem, model_problems, path_problems
from heygen_core.protocol.schemas import schema_document
from heygen_core.rest.operations import ApiName, Operation
from heygen_core.simulator.rest.replies import FieldProblem, Where

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
    """Decode a JSON body into `model` and check its uuid and exclusive fields.

    Raises:
        BodyNotJson: It is not JSON.
        RequestInvalid: It does not fit the model (``where="body"``).

    """
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None  # decode_as below names what is wrong with it
    else:
        defs = schema_document(api).defs
        if model.__name__ in defs:
            raw = json.dumps(_without_unknown(defs, defs[model.__name__], parsed)).encode()
    try:
        value = decode_as(model, raw)
    except ProtocolError as exc:
        problems = problems_of(exc)
        if problems[0].type == "json_invalid":
            raise BodyNotJson(problems[0].msg) from None
        raise RequestInvalid("body", problems) from None
    _raise_problems("body", model_problems(api, model, json.loads(raw)))
    return value


def _without_unknown(defs: Mapping[str, Any], schema: Mapping[str, Any], value: Any) -> Any:
    """`value` less the object fields its schema does not declare, at every depth.

    Our request schemas are closed so that the client sends nothing
    undeclared; the vendor's FastAPI models ignore unknown fields instead.
    The simulator answers as the vendor does, except where a schema object
    says ``x-vendor-forbids-extra: true``.
    """
    schema = _resolved(defs, schema)
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [_without_unknown(defs, schema["items"], item) for item in value]
    if not isinstance(value, dict):
        return value
    variants = schema.get("oneOf") or schema.get("anyOf")
    if variants:
        chosen = _variant(defs, schema, variants, value)
        return value if chosen is None else _without_unknown(defs, chosen, value)
    properties: dict[str, Any] = {}
    closed = False
    forbids = bool(schema.get("x-vendor-forbids-extra"))
    for part in [schema, *(_resolved(defs, p) for p in schema.get("allOf", ()))]:
        properties.update(part.get("properties", {}))
        closed = closed or part.get("additionalProperties") is False
        forbids = forbids or bool(part.get("x-vendor-forbids-extra"))
    if not properties and not closed:
        return value
    return {
        key: _without_unknown(defs, properties[key], item) if key in properties else item
        for key, item in value.items()
        if key in properties or not closed or forbids
    }


def _resolved(defs: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        schema = defs[str(schema["$ref"]).rsplit("/", 1)[-1]]
    return schema


def _variant(
    defs: Mapping[str, Any], schema: Mapping[str, Any], variants: list[Any], value: dict[str, Any]
) -> Mapping[str, Any] | None:
    # The member a discriminated union's tag names, or the only object member
    # of a nullable reference; None leaves the value to the model to judge.
    tag = schema.get("discriminator", {}).get("propertyName")
    objects: list[Mapping[str, Any]] = []
    for variant in variants:
        resolved = _resolved(defs, variant)
        if resolved.get("type") == "null":
            continue
        objects.append(resolved)
        if tag and resolved.get("properties", {}).get(tag, {}).get("const") == value.get(tag):
            return resolved
    return objects[0] if len(objects) == 1 and not tag else None


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
    _raise_problems("query", model_problems(api, model, values))
    return decoded


def validate_path(api: ApiName, op: Operation, params: Mapping[str, str]) -> None:
    """Check path parameters against their schema (``format: uuid``).

    Raises:
        RequestInvalid: A parameter is malformed (``where="path"``).

    """
    _raise_problems("path", path_problems(api, op, params))


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


def _properties(api: ApiName, name: str) -> dict[str, Any]:
    return dict(schema_document(api).defs.get(name, {}).get("properties", {}))


def _raise_problems(where: Where, problems: list[ConstraintProblem]) -> None:
    if problems:
        raise RequestInvalid(
            where, [FieldProblem(problem.loc, problem.msg, problem.type) for problem in problems]
        )
