"""One type per realtime protocol and direction: what `decode` returns, for narrowing.

Each alias is the generated members of that protocol's union (the
``ClientEventVariant``/``ServerEventVariant`` aliases that codegen emits) plus
`UnknownEvent`, because a reader never fails on a tag the schema does not
know. Narrow with ``isinstance`` or ``match``; no cast is needed::

    event = decode(raw, "lite", "server")  # LiteServerEvent
    if isinstance(event, lite.AgentSpeakEnded):
        print(event.event_id)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, get_args

from heygen_models import full, lite, realtime_alpha

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
