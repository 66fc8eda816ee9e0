"""The exception hierarchy: every error heygen-core raises is a `HeyGenError`.

Messages say what went wrong and what to do next. They never carry an API key,
a session token or a LiveKit JWT: only the facts a user needs to act.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class HeyGenError(Exception):
    """Base class of every error raised by heygen-core."""


class ProtocolError(HeyGenError):
    """A wire message could not be decoded or encoded.

    Raised for malformed JSON, a message that is not a JSON object, a missing
    tag, and a known message whose fields do not fit its schema.

    Attributes:
        field: Dotted path of the first offending field (``"task.id"``,
            ``"detail[0].loc"``), or None when the message as a whole is bad
            (malformed JSON, not an object).
        errors: Every problem found, each a dict with ``loc`` (tuple path),
            ``msg`` and ``type`` as pydantic reports them (input values are
            left out, so audio or tokens never end up in logs).
        message_type: The model or tag being decoded, when known.

    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: Sequence[Mapping[str, object]] = (),
        message_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.errors = tuple(errors)
        self.message_type = message_type
