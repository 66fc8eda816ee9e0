"""heygen-core: a protocol-first Python client for HeyGen streaming avatars.

The wire contract lives in ``schemas/``; ``heygen_models`` holds the pydantic
models generated from it; this package is the hand-written part on top.

The session stack (`AvatarSession`, the REST clients) is imported on first
use, so ``import heygen_core`` stays cheap for code that only decodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from heygen_core.errors import HeyGenError, ProtocolError
from heygen_core.protocol.codec import UnknownEvent, decode, decode_as, encode

if TYPE_CHECKING:
    from heygen_core.rest.liveavatar_client import LiveAvatarClient
    from heygen_core.rest.streaming_client import StreamingClient
    from heygen_core.session import AvatarSession

__all__ = [
    "AvatarSession",
    "HeyGenError",
    "LiveAvatarClient",
    "ProtocolError",
    "StreamingClient",
    "UnknownEvent",
    "decode",
    "decode_as",
    "encode",
]
__version__ = "0.1.0"

_LAZY = {
    "AvatarSession": "heygen_core.session",
    "LiveAvatarClient": "heygen_core.rest.liveavatar_client",
    "StreamingClient": "heygen_core.rest.streaming_client",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'heygen_core' has no attribute {name!r}")
