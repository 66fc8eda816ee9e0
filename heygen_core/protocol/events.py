"""One type per realtime protocol and direction: what `decode` returns, for narrowing.

Each alias is the generated members of that protocol's union (the
``ClientEventVariant``/``ServerEventVariant`` aliases that codegen emits) plus
`UnknownEvent`, because a reader never fails on a tag the schema does not
know. Narrow with ``isinstance`` or ``match``; no cast is needed::

    event = decode(raw, "lite", "server")  # LiteServerEvent
    if isinstance(event, lite.AgentSpeakEnded):
        print(event.event_id)

Importing this module imports every protocol's models; the codec does not
import it at run time, so that building a session stays cheap.
`UnknownEvent` and the protocol and direction names are defined in
`heygen_core.protocol.codec` and re-exported here.
"""

from __future__ import annotations

from typing import TypeAlias

from heygen_models import full, lite, realtime_alpha

from heygen_core.protocol.codec import (
    DIRECTIONS,
    PROTOCOLS,
    Direction,
    ProtocolName,
    UnknownEvent,
)

__all__ = [
    "DIRECTIONS",
    "PROTOCOLS",
    "AlphaClientEvent",
    "AlphaServerEvent",
    "Direction",
    "FullClientEvent",
    "FullServerEvent",
    "LiteClientEvent",
    "LiteServerEvent",
    "ProtocolName",
    "RealtimeEvent",
    "UnknownEvent",
]

LiteServerEvent: TypeAlias = lite.ServerEventVariant | UnknownEvent
"""What the service sends on the LITE WebSocket."""

LiteClientEvent: TypeAlias = lite.ClientEventVariant | UnknownEvent
"""What a client sends on the LITE WebSocket."""

FullServerEvent: TypeAlias = full.ServerEventVariant | UnknownEvent
"""What the avatar publishes on the FULL agent-response topic of the room."""

FullClientEvent: TypeAlias = full.ClientEventVariant | UnknownEvent
"""What a client publishes on the FULL agent-control topic of the room."""

AlphaServerEvent: TypeAlias = realtime_alpha.ServerEventVariant | UnknownEvent
"""What the service sends on the Realtime alpha WebSocket."""

AlphaClientEvent: TypeAlias = realtime_alpha.ClientEventVariant | UnknownEvent
"""What a client sends on the Realtime alpha WebSocket."""

RealtimeEvent: TypeAlias = (
    LiteServerEvent
    | LiteClientEvent
    | FullServerEvent
    | FullClientEvent
    | AlphaServerEvent
    | AlphaClientEvent
)
"""Any realtime message of any protocol and direction (`decode` with non-literal arguments)."""
