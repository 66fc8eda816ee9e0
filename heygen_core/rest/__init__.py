"""The REST clients of both APIs, and what they return and raise.

`LiveAvatarClient` and `StreamingClient` inherit one generated method per
operation (``heygen_models.<api>_operations``) and send them with
`RestClient`. Names are imported on first use: the generated operation
modules import this package's runtime modules, so importing the clients
here eagerly would import them in a circle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heygen_core._lazy import lazy_exports

if TYPE_CHECKING:
    from heygen_core.rest.credits import CREDITS_PER_MINUTE, ensure_credits
    from heygen_core.rest.liveavatar_client import LiveAvatarClient
    from heygen_core.rest.redaction import REDACTED, redacted_repr
    from heygen_core.rest.result import ApiResult
    from heygen_core.rest.retry import RetryPolicy
    from heygen_core.rest.streaming_client import StreamingClient
    from heygen_core.rest.transport import RestClient

__all__ = [
    "CREDITS_PER_MINUTE",
    "REDACTED",
    "ApiResult",
    "LiveAvatarClient",
    "RestClient",
    "RetryPolicy",
    "StreamingClient",
    "ensure_credits",
    "redacted_repr",
]

_LAZY = {
    "CREDITS_PER_MINUTE": "heygen_core.rest.credits",
    "REDACTED": "heygen_core.rest.redaction",
    "ApiResult": "heygen_core.rest.result",
    "LiveAvatarClient": "heygen_core.rest.liveavatar_client",
    "RestClient": "heygen_core.rest.transport",
    "RetryPolicy": "heygen_core.rest.retry",
    "StreamingClient": "heygen_core.rest.streaming_client",
    "ensure_credits": "heygen_core.rest.credits",
    "redacted_repr": "heygen_core.rest.redaction",
}


if not TYPE_CHECKING:
    # Run time only: mypy sees the TYPE_CHECKING imports above instead, so a
    # misspelled import is an error rather than `Any`.
    __getattr__, __dir__ = lazy_exports(globals(), _LAZY)
