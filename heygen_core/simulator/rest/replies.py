"""Answers, and each API's own shapes for its error answers.

The two APIs report the same problem differently: LiveAvatar (FastAPI) sends
``{code, data: null, message}`` envelopes and 422 ``{detail: [...]}``;
the Streaming API sends ``{code, message}`` with vendor codes (400112,
40001, 400175, ...). A `Dialect` holds one API's shapes, so handlers and the
request pipeline only say *what* went wrong.

No answer ever carries a credential: messages name headers and fields,
never their values, and validation errors leave the offending input out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Literal, Protocol

from heygen_models import liveavatar as la
from heygen_models import streaming as st
from pydantic import BaseModel

from heygen_core.protocol.codec import dotted_path
from heygen_core.rest.operations import ApiSpec, Operation
from heygen_core.simulator.limits import RateLimited

Where = Literal["body", "query", "path"]
"""Which part of the request a validation problem is in."""

# Streaming vendor codes (docs/protocol.md §2).
STREAMING_UNAUTHORIZED = 400112
STREAMING_WRONG_STATE = 400006
STREAMING_MISSING_PARAMETER = 40001
STREAMING_INVALID_PARAMETER = 400175
STREAMING_INVALID_SESSION = 10002
# The vendor's code for "too many concurrent sessions" is not documented and
# was never captured; 10007 is our choice, in the family of 10002/10003.
STREAMING_CONCURRENCY_LIMIT = 10007
# LiveAvatar has one documented vendor code, shared with Streaming: the
# session is not in a state that allows the call.
LIVEAVATAR_WRONG_STATE = 400006


@dataclass(frozen=True)
class Reply:
    """One answer: status, body (a generated model) and extra headers."""

    status: int
    body: BaseModel
    headers: Mapping[str, str] = field(default_factory=dict)


class Refusal(Exception):
    """Raised by a handler to answer with an error `Reply` instead."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(f"HTTP {reply.status}")
        self.reply = reply


@dataclass(frozen=True)
class FieldProblem:
    """One validation problem: where (``loc`` inside its part), what, and its kind.

    Attributes:
        loc: Path inside the body/query/path (``("LITE", "avatar_id")``).
        msg: Human-readable message (pydantic's wording).
        type: pydantic's error type (``missing``, ``extra_forbidden``, ...).
    """

    loc: tuple[str | int, ...]
    msg: str
    type: str


def rate_limit_headers(limited: RateLimited) -> dict[str, str]:
    """Return the ``Retry-After`` and ``X-RateLimit-Reset`` headers of a 429."""
    return {"Retry-After": str(limited.retry_after), "X-RateLimit-Reset": str(limited.reset_at)}


class Dialect(Protocol):
    """One API's error shapes."""

    def error(self, status: int, message: str, *, code: int | None = None) -> Reply:
        """An error answer with `status` (and the vendor `code`, where the API has one)."""
        ...

    def unauthorized(self, op: Operation) -> Reply:
        """Missing or wrong credentials for `op`."""
        ...

    def rate_limited(self, limited: RateLimited) -> Reply:
        """Over the rate limit: 429 with ``Retry-After`` and ``X-RateLimit-Reset``."""
        ...

    def invalid(self, where: Where, problems: Sequence[FieldProblem]) -> Reply:
        """The request's `where` part failed validation."""
        ...

    def not_json(self, detail: str) -> Reply:
        """The body is not JSON."""
        ...

    def body_missing(self) -> Reply:
        """The operation needs a body and none was sent."""
        ...

    def wrong_state(self, message: str) -> Reply:
        """The session is not in a state that allows the call (400006)."""
        ...

    def fault(self, status: int) -> Reply:
        """An injected fault answering `status` (429 goes through `rate_limited`)."""
        ...


class LiveAvatarDialect:
    """LiveAvatar (FastAPI) shapes: `ErrorEnvelope`, 422 `HTTPValidationError`."""

    def __init__(self, spec: ApiSpec) -> None:
        """Create the dialect; `spec` gives the auth headers to name in 401 messages."""
        self._spec = spec

    def error(self, status: int, message: str, *, code: int | None = None) -> Reply:
        """``{code, data: null, message}``; `code` is the HTTP status unless given."""
        return Reply(
            status,
            la.ErrorEnvelope(code=status if code is None else code, data=None, message=message),
        )

    def unauthorized(self, op: Operation) -> Reply:
        """401 naming the header(s) to send: ``Invalid or missing API key: send X-API-KEY``."""
        names = {scheme for alternative in op.security for scheme in alternative}
        sends = []
        for name in sorted(names):
            scheme = self._spec.schemes[name]
            sends.append(
                scheme.header
                if scheme.kind == "apiKey"
                else "Authorization: Bearer <session_token>"
            )
        kinds = {self._spec.schemes[name].kind for name in names}
        what = (
            "API key"
            if kinds == {"apiKey"}
            else "session token"
            if kinds == {"bearer"}
            else "credentials"
        )
        return self.error(401, f"Invalid or missing {what}: send {' or '.join(sends)}")

    def rate_limited(self, limited: RateLimited) -> Reply:
        """429 envelope with the rate-limit headers."""
        return Reply(
            429,
            la.ErrorEnvelope(
                code=429,
                data=None,
                message=f"Too many requests; retry after {limited.retry_after} s",
            ),
            rate_limit_headers(limited),
        )

    def invalid(self, where: Where, problems: Sequence[FieldProblem]) -> Reply:
        """422 ``{detail: [{loc: [where, ...], msg, type}]}`` (the input is left out)."""
        detail = [
            la.ValidationErrorItem(loc=[where, *problem.loc], msg=problem.msg, type=problem.type)
            for problem in problems
        ]
        return Reply(422, la.HTTPValidationError(detail=detail))

    def not_json(self, detail: str) -> Reply:
        """422 ``json_invalid`` at ``["body"]``, as FastAPI answers."""
        return self.invalid(
            "body", [FieldProblem((), f"JSON decode error: {detail}", "json_invalid")]
        )

    def body_missing(self) -> Reply:
        """422 ``missing`` at ``["body"]``, as FastAPI answers."""
        return self.invalid("body", [FieldProblem((), "Field required", "missing")])

    def wrong_state(self, message: str) -> Reply:
        """400 with code 400006."""
        return self.error(400, message, code=LIVEAVATAR_WRONG_STATE)

    def fault(self, status: int) -> Reply:
        """The answer the service gives with `status` (422 in FastAPI's shape)."""
        if status == 422:
            return self.invalid("body", [FieldProblem((), "Simulated fault", "value_error")])
        return self.error(status, _phrase(status))


class StreamingDialect:
    """Streaming shapes: ``{code, message}`` with the vendor codes."""

    def error(self, status: int, message: str, *, code: int | None = None) -> Reply:
        """``{code, message}``; `code` is the HTTP status unless given."""
        return Reply(
            status, st.ErrorResponse(code=status if code is None else code, message=message)
        )

    def unauthorized(self, op: Operation) -> Reply:
        """401 ``{code: 400112, message: "Unauthorized"}``, as the service answers."""
        return self.error(401, "Unauthorized", code=STREAMING_UNAUTHORIZED)

    def rate_limited(self, limited: RateLimited) -> Reply:
        """429 ``{code: 429, message}`` with the rate-limit headers."""
        return Reply(
            429,
            st.ErrorResponse(code=429, message="Too many requests"),
            rate_limit_headers(limited),
        )

    def invalid(self, where: Where, problems: Sequence[FieldProblem]) -> Reply:
        """400: 40001 naming missing parameters, else 400175 naming the invalid one."""
        missing = [dotted_path(p.loc) for p in problems if p.type == "missing"]
        if missing:
            return self.error(
                400,
                f"Missing required parameter: {', '.join(missing)}",
                code=STREAMING_MISSING_PARAMETER,
            )
        first = problems[0]
        name = dotted_path(first.loc) or where
        return self.error(
            400, f"Invalid parameter: {name}: {first.msg}", code=STREAMING_INVALID_PARAMETER
        )

    def not_json(self, detail: str) -> Reply:
        """400 with code 400175: the body is not valid JSON."""
        return self.error(
            400,
            f"Invalid parameter: body is not valid JSON ({detail})",
            code=STREAMING_INVALID_PARAMETER,
        )

    def body_missing(self) -> Reply:
        """415 ``{code: 40001, message: "Unsupported media type"}`` (a body-less POST)."""
        return self.error(415, "Unsupported media type", code=STREAMING_MISSING_PARAMETER)

    def wrong_state(self, message: str) -> Reply:
        """400 ``{code: 400006, message: "Session is not in correct state"}`` (verbatim)."""
        return self.error(400, "Session is not in correct state", code=STREAMING_WRONG_STATE)

    def fault(self, status: int) -> Reply:
        """The answer the service gives with `status` (401 with its vendor code)."""
        if status == 401:
            return self.error(401, "Unauthorized", code=STREAMING_UNAUTHORIZED)
        return self.error(status, _phrase(status))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"
