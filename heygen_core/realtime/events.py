"""Events the library itself adds to a session's event stream, and the streams' types.

The service's own events are the generated models (and `UnknownEvent`);
these report what happened to the connection around them, so a user learns
about every problem from the same stream instead of from a log line.

`SocketEvent` is what a `RealtimeConnection` yields, `SessionEvent` what an
`AvatarSession` yields: unions narrowed with ``isinstance`` or ``match``,
with no cast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from heygen_core.errors import ProtocolError
from heygen_core.protocol.events import AlphaServerEvent, FullServerEvent, LiteServerEvent


@dataclass(frozen=True)
class ProtocolErrorEvent:
    """A frame from the service that could not be decoded; the session goes on.

    Attributes:
        error: What was wrong (``error.field`` names the field when known).
        excerpt: The start of the frame (at most 200 characters), for logs.
        size: The frame's size in bytes.
    """

    error: ProtocolError
    excerpt: str = field(repr=False)
    size: int


@dataclass(frozen=True)
class ReadyTimeout:
    """The service did not report ready within the ready timeout.

    On a control socket: no ``session.state_updated: connected`` arrived. In
    a FULL (or agent-connector) session: participants the session needs had
    not joined its room (`missing` names them). With the default fallback the
    ready gate opens anyway (not every mode is reported to send that state);
    commands sent before the service was really ready may have been dropped.

    Attributes:
        waited: Seconds waited.
        missing: FULL: the room's participants that had not joined
            (``heygen``, ``liveavatar-agent-<session_id>``); empty on a socket.
    """

    waited: float
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConnectionLost:
    """The control socket closed while audio was still owed to the avatar.

    Either it dropped unexpectedly (``reconnecting`` is True while the library
    tries again), or the service ended the session, or every reconnect failed
    (``reconnecting`` is False: unfinished utterances are marked ``lost`` and
    later commands raise).

    Attributes:
        code: WebSocket close code, if one was received.
        reason: Close reason, if any.
        lost_event_ids: Utterances (event ids) whose audio was cut off; they
            must be spoken again to be heard.
        reconnecting: Whether the library is trying to reconnect.
    """

    code: int | None
    reason: str
    lost_event_ids: tuple[str, ...]
    reconnecting: bool


@dataclass(frozen=True)
class Reconnected:
    """The control socket is open again after a `ConnectionLost`.

    Attributes:
        attempts: Connection attempts it took.
    """

    attempts: int


ConnectionEvent: TypeAlias = ProtocolErrorEvent | ReadyTimeout | ConnectionLost | Reconnected
"""The library's own events: what happened to the connection, not what the service said."""

SocketEvent: TypeAlias = LiteServerEvent | AlphaServerEvent | ConnectionEvent
"""What a control socket's stream yields: the service's events of either dialect, and ours."""

SessionEvent: TypeAlias = LiteServerEvent | FullServerEvent | AlphaServerEvent | ConnectionEvent
"""What a session's stream yields: its socket's events, and FULL events from its room."""
