"""The REST clients of both APIs, and what they return and raise.

`LiveAvatarClient` and `StreamingClient` inherit one generated method per
operation (``heygen_models.<api>_operations``) and send them with
`RestClient`. Names are imported on first use: the generated operation
modules import this package's runtime modules, so importing the clients
here eagerly would import them in a circle.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from heygen_core.rest.liveavatar_client import LiveAvatarClient
    from heygen_core.rest.redaction import REDACTED, redacted_repr
    from heygen_core.rest.result import ApiResult
    from heygen_core.rest.retry import RetryPolicy
    from heygen_core.rest.streaming_client import StreamingClient
    from heygen_core.rest.transport import RestClient

__all__ = [
    "REDACTED",
    "ApiResult",
    "LiveAvatarClient",
    "RestClient",
    "RetryPolicy",
    "StreamingClient",
    "redacted_repr",
]

_LAZY = {
    "REDACTED": "heygen_core.rest.redaction",
    "ApiResult": "heygen_core.rest.result",
    "LiveAvatarClient": "heygen_core.rest.liveavatar_client",
    "RestClient": "heygen_core.rest.transport",
    "RetryPolicy": "heygen_core.rest.retry",
    "StreamingClient": "heygen_core.rest.streaming_client",
    "redacted_repr": "heygen_core.rest.redaction",
}


if not TYPE_CHECKING:
    # Hidden from mypy, which sees the TYPE_CHECKING imports above instead: a
    # visible module `__getattr__` would make every misspelled import type-check.

    def __getattr__(name: str) -> object:
        if name in _LAZY:
            return getattr(importlib.import_module(_LAZY[name]), name)
        raise AttributeError(f"module 'heygen_core.rest' has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*globals(), *_LAZY})
