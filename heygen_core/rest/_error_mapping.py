"""Which `ApiError` subclass an error answer becomes, and what it carries."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from heygen_core.errors import (
    ApiError,
    AuthenticationError,
    FieldError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    RequestRejectedError,
    ServerError,
    SessionLimitError,
    SessionStateError,
)
from heygen_core.protocol.codec import decode_as
from heygen_core.rest.spec import Operation

_EXCERPT_CHARS = 300
# Vendor codes that mean the same whatever the HTTP status (docs/protocol.md §2).
_CODE_UNAUTHORIZED = 400112
_CODE_SESSION_STATE = 400006
_CODES_VALIDATION = (40001, 400175)
# The session-limit answers are undocumented by both vendors: these are the
# embedded simulator's (LiveAvatar HTTP 409; Streaming code 10007).
_STATUS_SESSION_LIMIT = 409
_CODE_SESSION_LIMIT = 10007


def api_error(
    op: Operation, status: int, raw: bytes, headers: Mapping[str, str], secrets: list[str]
) -> ApiError:
    """Return the error for an answer of `status`, every one of `secrets` masked in it."""
    text = raw.decode("utf-8", "replace")
    for secret in secrets:
        text = text.replace(secret, "***")
    code: int | str | None = None
    message = ""
    field_errors: tuple[FieldError, ...] = ()
    model = op.error_models.get(status)
    decoded: BaseModel | None = None
    if model is not None:
        try:
            decoded = decode_as(model, raw)
        except ProtocolError:
            decoded = None  # lenient in: an odd error body still gives an ApiError
    if decoded is not None:
        raw_code = getattr(decoded, "code", None)
        code = raw_code if isinstance(raw_code, int | str) else None
        raw_message = getattr(decoded, "message", None)
        message = raw_message if isinstance(raw_message, str) else ""
        detail = getattr(decoded, "detail", None)
        if isinstance(detail, list):
            field_errors = tuple(
                FieldError(tuple(getattr(item, "loc", ())), str(getattr(item, "msg", "")))
                for item in detail
            )
            message = message or "; ".join(
                f"{'.'.join(str(p) for p in e.loc)}: {e.msg}" for e in field_errors
            )
    for secret in secrets:
        message = message.replace(secret, "***")
    message = message or (text[:120] if text else "no body")
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "message": message,
        "method": op.method,
        "path": op.path,
        "body_excerpt": text[:_EXCERPT_CHARS],
    }
    if code == _CODE_UNAUTHORIZED or status == 401:
        return AuthenticationError(**kwargs)
    if status == 403:
        return PermissionDeniedError(**kwargs)
    if status == _STATUS_SESSION_LIMIT or code == _CODE_SESSION_LIMIT:
        return SessionLimitError(**kwargs)
    if code == _CODE_SESSION_STATE:
        return SessionStateError(**kwargs)
    if status == 422 or code in _CODES_VALIDATION:
        return RequestRejectedError(errors=field_errors, **kwargs)
    if status == 429:
        return RateLimitError(retry_after=_retry_after(headers), **kwargs)
    if status == 404:
        return NotFoundError(**kwargs)
    if status >= 500:
        return ServerError(**kwargs)
    return ApiError(**kwargs)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
