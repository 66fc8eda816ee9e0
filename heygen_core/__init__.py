"""heygen-core: a protocol-first Python client for HeyGen streaming avatars.

The wire contract lives in ``schemas/``; ``heygen_models`` holds the pydantic
models generated from it; this package is the hand-written part on top.

Everything a user needs is importable from here::

    from heygen_core import AvatarSession, PumpConfig, RetryPolicy, SessionError

The exception tree is imported at once (it is plain Python). Everything else
is imported on first use, so ``import heygen_core`` pulls in neither pydantic
nor aiohttp, websockets or numpy: a script that only catches `HeyGenError`,
and the pytest plugin every user's test run loads, stay cheap. The simulator
is not exported here; it lives in `heygen_core.simulator`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heygen_core._lazy import lazy_exports
from heygen_core.errors import (
    ApiError,
    AudioFormatError,
    AuthenticationError,
    CredentialsError,
    FieldError,
    HeyGenError,
    InsufficientCreditsError,
    InvalidBaseUrlError,
    InvalidRequestError,
    MediaError,
    MissingExtraError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    RealtimeConnectionError,
    RequestRejectedError,
    ResponseTooLargeError,
    ServerError,
    SessionError,
    SessionLimitError,
    SessionStateError,
    TransportError,
    UnexpectedRedirectError,
)

if TYPE_CHECKING:
    # What mypy sees: the real names with their real types, so a misspelled
    # import (`from heygen_core import AvatarSesion`) is an error, not `Any`.
    # At run time `__getattr__` below imports them on first use instead.
    from heygen_core.audio import PumpConfig, PumpStats
    from heygen_core.protocol.codec import UnknownEvent, decode, decode_as, encode
    from heygen_core.protocol.events import (
        AlphaClientEvent,
        AlphaServerEvent,
        FullClientEvent,
        FullServerEvent,
        LiteClientEvent,
        LiteServerEvent,
    )
    from heygen_core.realtime.connection import ReconnectPolicy
    from heygen_core.realtime.events import (
        ConnectionLost,
        ProtocolErrorEvent,
        ReadyTimeout,
        Reconnected,
    )
    from heygen_core.rest import (
        ApiResult,
        LiveAvatarClient,
        RetryPolicy,
        StreamingClient,
        ensure_credits,
    )
    from heygen_core.session import (
        SANDBOX_AVATAR_ID,
        AvatarSession,
        OpenSessionEntry,
        OpenSessionRecord,
        SessionEvent,
        SpeakResult,
        StartupLimits,
        set_startup_limits,
        startup_limits,
    )

__all__ = [
    "SANDBOX_AVATAR_ID",
    "AlphaClientEvent",
    "AlphaServerEvent",
    "ApiError",
    "ApiResult",
    "AudioFormatError",
    "AuthenticationError",
    "AvatarSession",
    "ConnectionLost",
    "CredentialsError",
    "FieldError",
    "FullClientEvent",
    "FullServerEvent",
    "HeyGenError",
    "InsufficientCreditsError",
    "InvalidBaseUrlError",
    "InvalidRequestError",
    "LiteClientEvent",
    "LiteServerEvent",
    "LiveAvatarClient",
    "MediaError",
    "MissingExtraError",
    "NotFoundError",
    "OpenSessionEntry",
    "OpenSessionRecord",
    "PermissionDeniedError",
    "ProtocolError",
    "ProtocolErrorEvent",
    "PumpConfig",
    "PumpStats",
    "RateLimitError",
    "ReadyTimeout",
    "RealtimeConnectionError",
    "ReconnectPolicy",
    "Reconnected",
    "RequestRejectedError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "ServerError",
    "SessionError",
    "SessionEvent",
    "SessionLimitError",
    "SessionStateError",
    "SpeakResult",
    "StartupLimits",
    "StreamingClient",
    "TransportError",
    "UnexpectedRedirectError",
    "UnknownEvent",
    "decode",
    "decode_as",
    "encode",
    "ensure_credits",
    "set_startup_limits",
    "startup_limits",
]
__version__ = "0.1.0"

# Where each lazily imported name is defined (the same modules as the
# TYPE_CHECKING imports above; tests/packaging/test_public_api.py checks both agree).
_LAZY: dict[str, str] = {
    "AvatarSession": "heygen_core.session",
    "SANDBOX_AVATAR_ID": "heygen_core.session",
    "SessionEvent": "heygen_core.session",
    "SpeakResult": "heygen_core.session",
    "OpenSessionEntry": "heygen_core.session",
    "OpenSessionRecord": "heygen_core.session",
    "StartupLimits": "heygen_core.session",
    "set_startup_limits": "heygen_core.session",
    "startup_limits": "heygen_core.session",
    "PumpConfig": "heygen_core.audio",
    "PumpStats": "heygen_core.audio",
    "ApiResult": "heygen_core.rest",
    "LiveAvatarClient": "heygen_core.rest",
    "RetryPolicy": "heygen_core.rest",
    "StreamingClient": "heygen_core.rest",
    "ensure_credits": "heygen_core.rest",
    "UnknownEvent": "heygen_core.protocol.codec",
    "decode": "heygen_core.protocol.codec",
    "decode_as": "heygen_core.protocol.codec",
    "encode": "heygen_core.protocol.codec",
    "AlphaClientEvent": "heygen_core.protocol.events",
    "AlphaServerEvent": "heygen_core.protocol.events",
    "FullClientEvent": "heygen_core.protocol.events",
    "FullServerEvent": "heygen_core.protocol.events",
    "LiteClientEvent": "heygen_core.protocol.events",
    "LiteServerEvent": "heygen_core.protocol.events",
    "ConnectionLost": "heygen_core.realtime.events",
    "ProtocolErrorEvent": "heygen_core.realtime.events",
    "ReadyTimeout": "heygen_core.realtime.events",
    "Reconnected": "heygen_core.realtime.events",
    "ReconnectPolicy": "heygen_core.realtime.connection",
}

if not TYPE_CHECKING:
    # Run time only: mypy sees the TYPE_CHECKING imports above instead, so a
    # misspelled import is an error rather than `Any`.
    __getattr__, __dir__ = lazy_exports(globals(), _LAZY)
