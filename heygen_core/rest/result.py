"""`ApiResult`: what every REST method returns on success."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import BaseModel

from heygen_core.rest.redaction import redacted_repr

D = TypeVar("D")


@dataclass(frozen=True)
class ApiResult(Generic[D]):
    """A successful call: the typed `data` of the envelope, and the rest of it.

    Attributes:
        data: The envelope's ``data``, typed (None for envelope-only answers).
        status: HTTP status.
        code: The envelope's ``code`` (opaque: success is decided by status).
        message: The envelope's ``message``.
        envelope: The whole decoded body.

    Its ``repr`` (and ``str``) shows every secret in ``data`` (session tokens,
    LiveKit JWTs) as ``<redacted>``; see `redacted_repr`.
    """

    data: D
    status: int
    code: int | str | None
    message: str | None
    envelope: BaseModel = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"ApiResult(data={redacted_repr(self.data)}, status={self.status!r}, "
            f"code={self.code!r}, message={self.message!r})"
        )


def envelope_result(data: D, status: int, envelope: BaseModel) -> ApiResult[D]:
    """Wrap a decoded success body: `data` as the caller gets it, ``code`` and ``message`` read.

    ``code`` and ``message`` are None when the body has none (Streaming's
    ``create_token`` answers ``{error, data}``) or when they are not a
    scalar: they are opaque, so an odd one never fails a successful call.
    """
    code = getattr(envelope, "code", None)
    message = getattr(envelope, "message", None)
    return ApiResult(
        data,
        status,
        code if isinstance(code, int | str) else None,
        message if isinstance(message, str) else None,
        envelope,
    )
