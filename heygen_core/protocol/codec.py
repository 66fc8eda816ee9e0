"""Decode wire messages into typed models and encode models back to wire JSON.

There is one way to do each:

- `decode(raw, protocol, direction)` turns one realtime message (a WebSocket
  text frame or a LiveKit data packet) into the generated model for its tag,
  or into an `UnknownEvent` when the tag is not in the schema.
- `decode_as(model_type, raw)` turns a JSON body (a REST request or response)
  into a given generated model.
- `encode(message)` turns a model (or an `UnknownEvent`) into its exact wire
  JSON: field aliases, absent fields omitted, explicit nulls kept.

Problems raise `ProtocolError`, which names the offending field.

A protocol's event models are imported when the codec first needs them (its
first `decode`, or `event_union`), not with this module: building a session
imports the codec through its REST client, the three protocols' models
take tens of milliseconds to build, and a session needs only its own. So the
names every caller needs at run time (`UnknownEvent`, the protocol and
direction names) live here, and `heygen_core.protocol.events`, which imports
all the models, builds its unions on top of them.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar, cast, get_args, overload

from pydantic import BaseModel, RootModel, ValidationError
from pydantic_core import PydanticSerializationError, SchemaValidator

from heygen_core.errors import ProtocolError

if TYPE_CHECKING:
    # Only `decode`'s overloads name the unions; importing them at run time
    # would build every protocol's models (see the module docstring).
    from heygen_core.protocol.events import (
        AlphaClientEvent,
        AlphaServerEvent,
        FullClientEvent,
        FullServerEvent,
        LiteClientEvent,
        LiteServerEvent,
        RealtimeEvent,
    )

__all__ = [
    "DIRECTIONS",
    "PROTOCOLS",
    "Direction",
    "ProtocolName",
    "UnknownEvent",
    "decode",
    "decode_as",
    "dotted_path",
    "encode",
    "event_union",
    "tag_field",
]

ProtocolName = Literal["lite", "realtime-alpha", "full"]
"""The realtime protocols: LITE WebSocket, Realtime alpha WebSocket, FULL data packets."""

Direction = Literal["client", "server"]
"""Who sends a message: ``client`` (us, to the service) or ``server`` (the service)."""

PROTOCOLS: tuple[ProtocolName, ...] = get_args(ProtocolName)
"""Every protocol `decode` accepts."""

DIRECTIONS: tuple[Direction, ...] = get_args(Direction)
"""Both directions."""


@dataclass(frozen=True)
class UnknownEvent:
    """A realtime message whose tag the schema does not know.

    The service adds events over time; a new one is surfaced, never dropped
    and never an exception. `encode` re-emits `payload` unchanged.

    Attributes:
        protocol: The protocol it was decoded as.
        direction: Who sent it.
        tag: The value of its tag field (``type``, or ``event_type`` on FULL).
        payload: The whole message, as parsed JSON.

    """

    protocol: ProtocolName
    direction: Direction
    tag: str
    payload: dict[str, Any] = field(repr=False)


_UNION_NAMES: dict[Direction, str] = {"client": "ClientEvent", "server": "ServerEvent"}

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class _Union:
    validator: SchemaValidator
    tag_field: str


@cache
def event_union(protocol: ProtocolName, direction: Direction) -> type[RootModel[Any]]:
    """Return the generated union model of one protocol and direction.

    For example ``event_union("lite", "server")`` is
    ``heygen_models.lite.ServerEvent``. Its ``root`` is discriminated on the
    protocol's tag field. The first call for a protocol imports its models.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}")
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}; expected 'client' or 'server'")
    module = importlib.import_module("heygen_models." + protocol.replace("-", "_"))
    return cast(type[RootModel[Any]], getattr(module, _UNION_NAMES[direction]))


def tag_field(protocol: ProtocolName) -> str:
    """Return the name of the field that tags events of `protocol` (``type`` or ``event_type``)."""
    return _union(protocol, "client").tag_field


@cache
def _union(protocol: ProtocolName, direction: Direction) -> _Union:
    model = event_union(protocol, direction)
    root = model.model_fields["root"]
    discriminator = root.discriminator
    if not isinstance(discriminator, str):
        raise TypeError(f"{model.__qualname__} is not discriminated on a field")
    return _Union(cast(SchemaValidator, model.__pydantic_validator__), discriminator)


_Raw: TypeAlias = str | bytes | bytearray


@overload
def decode(
    raw: _Raw, protocol: Literal["lite"], direction: Literal["server"]
) -> LiteServerEvent: ...
@overload
def decode(
    raw: _Raw, protocol: Literal["lite"], direction: Literal["client"]
) -> LiteClientEvent: ...
@overload
def decode(
    raw: _Raw, protocol: Literal["full"], direction: Literal["server"]
) -> FullServerEvent: ...
@overload
def decode(
    raw: _Raw, protocol: Literal["full"], direction: Literal["client"]
) -> FullClientEvent: ...
@overload
def decode(
    raw: _Raw, protocol: Literal["realtime-alpha"], direction: Literal["server"]
) -> AlphaServerEvent: ...
@overload
def decode(
    raw: _Raw, protocol: Literal["realtime-alpha"], direction: Literal["client"]
) -> AlphaClientEvent: ...
@overload
def decode(raw: _Raw, protocol: ProtocolName, direction: Direction) -> RealtimeEvent: ...
def decode(raw: _Raw, protocol: ProtocolName, direction: Direction) -> BaseModel | UnknownEvent:
    """Decode one realtime message into its typed event model.

    Args:
        raw: The message as received (a WebSocket text frame or a data packet).
        protocol: ``lite``, ``realtime-alpha`` or ``full``.
        direction: ``client`` for what a client sends, ``server`` for what the
            service sends.

    Returns:
        The generated model for the message's tag (for example
        ``heygen_models.lite.AgentSpeakStarted``), or an `UnknownEvent` when
        the tag is well formed but not in the schema. With literal arguments
        the type is that protocol's and direction's union (``decode(raw,
        "lite", "server")`` is a `LiteServerEvent`), narrowed with
        ``isinstance`` or ``match``.

    Raises:
        ProtocolError: Malformed JSON, not a JSON object, no tag, or a known
            event with a missing or ill-typed field (``.field`` names it).

    """
    union = _union(protocol, direction)
    try:
        # The fast path: pydantic-core parses and validates in one pass, with
        # no Python-level work for a well-formed known event.
        return cast(BaseModel, union.validator.validate_json(raw).root)
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        if first["type"] != "union_tag_invalid" or first["loc"]:
            raise _protocol_error(exc, f"{protocol} {direction} event", strip_tag=True) from None
    # The tag is present but unknown (or not a string): decide which.
    payload = json.loads(raw)
    tag = payload.get(union.tag_field)
    if not isinstance(tag, str):
        raise ProtocolError(
            f"{protocol} {direction} event: field {union.tag_field!r} must be a string, "
            f"got {type(tag).__name__}",
            field=union.tag_field,
            errors=[{"loc": (union.tag_field,), "msg": "tag must be a string", "type": "tag_type"}],
        )
    return UnknownEvent(protocol, direction, tag, payload)


def decode_as(model_type: type[M], raw: str | bytes | bytearray) -> M:
    """Decode a JSON body into `model_type`, a generated model.

    Use it for REST request and response bodies and wherever the expected
    type is known in advance; realtime messages go through `decode`.

    Raises:
        ProtocolError: Malformed JSON or a field that does not fit the schema.

    """
    try:
        return model_type.model_validate_json(raw)
    except ValidationError as exc:
        discriminated = (
            issubclass(model_type, RootModel)
            and model_type.model_fields["root"].discriminator is not None
        )
        raise _protocol_error(exc, model_type.__name__, strip_tag=discriminated) from None


def encode(message: BaseModel | UnknownEvent) -> str:
    """Encode a model to its exact wire JSON (compact, field aliases).

    Fields that were never set are left out (absent stays absent, defaults
    are the service's to apply); fields set to None are sent as null. An
    `UnknownEvent` is re-emitted exactly as it was received.

    Raises:
        ProtocolError: A field was assigned a value of the wrong type after
            the model was built (pydantic validates at construction only).

    """
    if isinstance(message, UnknownEvent):
        return json.dumps(message.payload, separators=(",", ":"), ensure_ascii=False)
    try:
        # warnings="error": a value of the wrong type (assigned after
        # construction) fails here instead of reaching the wire.
        return message.__pydantic_serializer__.to_json(
            message, by_alias=True, exclude_unset=True, warnings="error"
        ).decode()
    except PydanticSerializationError as exc:
        raise ProtocolError(
            f"cannot encode {type(message).__name__}: {exc}; build messages with the "
            "model constructor so every field is validated",
            message_type=type(message).__name__,
        ) from None


def _protocol_error(exc: ValidationError, what: str, *, strip_tag: bool) -> ProtocolError:
    errors = exc.errors(include_input=False, include_url=False, include_context=False)
    first = errors[0]
    context = exc.errors(include_input=False, include_url=False)[0].get("ctx", {})
    kind = first["type"]
    if kind == "json_invalid":
        return ProtocolError(
            f"{what}: malformed JSON ({first['msg']})", errors=errors, message_type=what
        )
    loc = tuple(first["loc"])
    tag: str | None = None
    if strip_tag and loc:
        # A discriminated union reports the tag value first: ('agent.speak', 'audio').
        tag, loc = str(loc[0]), loc[1:]
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        # A (possibly nested) union whose tag is missing or unknown: name the tag field.
        # pydantic quotes the name in its context: "'provider'".
        name = str(context.get("discriminator", "'type'")).strip("'")
        path = dotted_path((*loc, name))
        problem = "is required" if kind == "union_tag_not_found" else "has an unknown value"
        return ProtocolError(
            f"{what}: no usable tag: field {path!r} {problem}",
            field=path,
            errors=errors,
            message_type=tag or what,
        )
    if not loc:
        return ProtocolError(f"{what}: {first['msg']}", errors=errors, message_type=what)
    path = dotted_path(loc)
    label = f"{what} {tag!r}" if tag else what
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ProtocolError(
        f"{label}: field {path!r}: {first['msg']}{more}",
        field=path,
        errors=errors,
        message_type=tag or what,
    )


def dotted_path(loc: Sequence[int | str]) -> str:
    """Return a field path as ``voice.rate`` / ``detail[0].loc`` (empty for the whole message)."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path
