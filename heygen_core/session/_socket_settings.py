"""`SocketSettings`: how a session's control socket behaves, in a module of its own.

It is apart from the LITE driver so that building an `AvatarSession` (which
stores its settings) does not import the driver's socket and audio stack
(websockets, numpy, soxr): those are loaded when the session opens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from heygen_core.audio.pump import PumpConfig
    from heygen_core.rest.retry import RetryPolicy


@dataclass(frozen=True)
class SocketSettings:
    """How a session's control socket behaves (see `RealtimeConnection` for each).

    Attributes:
        pump: Chunking and pacing of audio (None: the defaults).
        ready_timeout: Seconds to wait for the service to report ready.
        ready_fallback: ``"open"`` or ``"raise"`` when it does not.
        keep_alive_interval: Seconds between keep-alives (None: off).
        rest_keep_alive: The REST keep-alive, for dialects without one on the socket.
        reconnect: Reconnect policy (None: the connection's default).
        ping_interval: Seconds between WebSocket pings (None, the default: no pings).
    """

    pump: PumpConfig | None
    ready_timeout: float
    ready_fallback: Literal["open", "raise"]
    keep_alive_interval: float | None
    rest_keep_alive: Callable[[], Awaitable[object]] | None
    reconnect: RetryPolicy | None
    ping_interval: float | None = None
