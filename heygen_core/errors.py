"""The exception hierarchy: every error heygen-core raises is a `HeyGenError`.

Messages say what went wrong and what to do next. They never carry an API key,
a session token or a LiveKit JWT: only the facts a user needs to act.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


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


class InvalidRequestError(ProtocolError):
    """A REST request the client refused to send: it breaks its schema.

    The generated models check types, required fields and ranges when they
    are built. Two constraints they cannot express are checked just before
    sending: ``format: uuid`` (a malformed id in a body, query string or path)
    and fields that must not be sent together (``avatar_persona`` and
    ``voice_agent``). Nothing reached the network. The message names each
    field and what to send instead, never the value sent.

    Attributes:
        operation_id: The operation that was not called.
        where: The request part of the first problem: ``body``, ``query`` or ``path``.
        field: Dotted path of the first problem inside its part (``session_id``,
            ``avatar_persona.voice_id``); None when the part as a whole is
            wrong (fields sent together).
        errors: Every problem, each a dict with ``loc`` (the part first, as
            FastAPI reports it: ``("body", "session_id")``), ``msg`` (the
            service's wording) and ``type`` (``uuid_parsing``, ``value_error``).
        message_type: The model of the part of the first problem (the path
            template for a path parameter).

    """

    def __init__(
        self,
        message: str,
        *,
        operation_id: str,
        where: str,
        field: str | None,
        errors: Sequence[Mapping[str, object]],
        message_type: str | None,
    ) -> None:
        super().__init__(message, field=field, errors=errors, message_type=message_type)
        self.operation_id = operation_id
        self.where = where


class CredentialsError(HeyGenError):
    """No credential for a call that needs one (an API key or a session token)."""


class TransportError(HeyGenError):
    """The request did not get an HTTP answer: connection failure or timeout.

    Attributes:
        method: HTTP method of the request.
        path: URL path of the request (no query string, no credentials).
        timed_out: True when the configured timeout ran out.
    """

    def __init__(self, message: str, *, method: str, path: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.timed_out = timed_out


class ResponseTooLargeError(ProtocolError):
    """An answer larger than the client's cap; it was not read to the end.

    The services' answers are small, so a huge one (or a compressed body that
    inflates without end) is refused rather than held in memory. The cap
    counts decompressed bytes.

    Attributes:
        limit: The cap, in bytes (the client's ``max_response_bytes``).
        method: HTTP method of the request.
        path: URL path of the request (no query string, no credentials).
    """

    def __init__(self, message: str, *, limit: int, method: str, path: str) -> None:
        super().__init__(message)
        self.limit = limit
        self.method = method
        self.path = path


class UnexpectedRedirectError(HeyGenError):
    """The service answered a REST call with a redirect (3xx); it was not followed.

    The APIs never redirect, and a redirect would carry the API key or the
    session token to wherever it points, so the clients follow none: a
    redirect means ``base_url`` is not the API's own address.

    Attributes:
        status: The 3xx status.
        method: HTTP method of the request.
        path: URL path of the request (no query string, no credentials).
        location: Origin (``scheme://host[:port]``) the redirect pointed to,
            without path or query; None when the answer named none.
        same_origin: True when it pointed to the origin of ``base_url`` itself.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        method: str,
        path: str,
        location: str | None,
        same_origin: bool,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.method = method
        self.path = path
        self.location = location
        self.same_origin = same_origin


class InvalidBaseUrlError(HeyGenError, ValueError):
    """A REST client's ``base_url`` that cannot work; raised when the client is made.

    Attributes:
        base_url: The value given (any ``user:password@`` part replaced by ``***@``).
        reason: What is wrong: ``"no_scheme"`` (no ``http://``/``https://``),
            ``"unsupported_scheme"``, ``"no_host"``, ``"version_path"`` (ends
            in ``/v1``: operation paths already start with it), ``"query"``
            (a query string or fragment) or ``"malformed"`` (unparsable, or a
            port that is not a number).
        suggestion: A corrected base URL when one can be guessed, else None.
    """

    def __init__(self, message: str, *, base_url: str, reason: str, suggestion: str | None) -> None:
        super().__init__(message)
        self.base_url = base_url
        self.reason = reason
        self.suggestion = suggestion


@dataclass(frozen=True)
class FieldError:
    """One field a service rejected: where (``loc``) and why (``msg``)."""

    loc: tuple[str | int, ...]
    msg: str


class ApiError(HeyGenError):
    """The service answered with an error status.

    Attributes:
        status: HTTP status.
        code: The vendor's own code from the body (``400006``), when present.
        message: The vendor's message, or a summary of the body.
        method: HTTP method of the request.
        path: URL path of the request.
        body_excerpt: The first few hundred characters of the body, with any
            credential the client knows replaced by ``***``.
    """

    hint = ""

    def __init__(
        self,
        *,
        status: int,
        code: int | str | None,
        message: str,
        method: str,
        path: str,
        body_excerpt: str,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.method = method
        self.path = path
        self.body_excerpt = body_excerpt
        code_part = f", code {code}" if code is not None else ""
        hint = f" {self.hint}" if self.hint else ""
        super().__init__(f"{method} {path}: HTTP {status}{code_part}: {message}.{hint}")

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, code={self.code!r}, "
            f"method={self.method!r}, path={self.path!r}, message={self.message!r})"
        )


class AuthenticationError(ApiError):
    """401 or 403, or vendor code 400112: the key or token was refused."""

    hint = (
        "Check the credential: LiveAvatar wants its own key (HEYGEN_LIVE_AVATAR_API_KEY), "
        "the Streaming API a HeyGen key (HEYGEN_API_KEY); session calls want the session token."
    )


class PermissionDeniedError(AuthenticationError):
    """403: the credential was recognised, but it may not make this call.

    Typical causes: a session token used for another session, a public avatar
    that cannot be changed, or an account tier without API access. The
    message is the service's own and says which.
    """

    hint = (
        "The credential was recognised but does not allow this call: a session token acts "
        "only on its own session, an API key only on its own account's sessions and avatars."
    )


class SessionLimitError(ApiError):
    """The account already has its maximum number of open sessions.

    Every open session counts (and costs credits) until it stops; the
    limit is per API key. Neither vendor documents the exact answer: the
    clients recognise HTTP 409 (LiveAvatar) and code 10007 (Streaming), the
    answers of the embedded simulator.
    """

    hint = (
        "Stop a session you no longer need (list the open ones with the client's session "
        "listing, or `heygen-avatar sessions list`), or wait for one to end, then try again."
    )


class NotFoundError(ApiError):
    """404: the session, avatar or voice does not exist (or is not yours)."""


class RequestRejectedError(ApiError):
    """422 (or Streaming codes 40001/400175): the request did not fit the API.

    Attributes:
        errors: Each rejected field, as the service reported it.
    """

    def __init__(self, *, errors: tuple[FieldError, ...] = (), **kwargs: Any) -> None:
        self.errors = errors
        super().__init__(**kwargs)


class RateLimitError(ApiError):
    """429: too many requests.

    Attributes:
        retry_after: Seconds the service asked to wait, when it said.
    """

    def __init__(self, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(**kwargs)


class ServerError(ApiError):
    """5xx: the service failed; retried automatically when the call is safe to repeat."""


class SessionStateError(ApiError):
    """Vendor code 400006: the session is not in a state that allows this call.

    Typical causes: a command before the session was started, or after it stopped.
    """

    hint = "Start the session first, or create a new one if it has stopped."


class MissingExtraError(HeyGenError, ImportError):
    """An optional part of heygen-core was used without its extra installed.

    The message is one line naming the extra to install, for example
    ``pip install 'heygen-core[media]'``.

    Attributes:
        extra: The extra that provides the missing package (``media``, ``cli``).
        package: The missing package's import name (``livekit``, ``rich``).
    """

    def __init__(self, feature: str, *, extra: str, package: str) -> None:
        super().__init__(
            f"{feature} needs the {extra!r} extra ({package} is not installed): "
            f"pip install 'heygen-core[{extra}]'"
        )
        self.extra = extra
        self.package = package


class SessionError(HeyGenError):
    """The session could not be set up, or was used after it ended."""


class RealtimeConnectionError(HeyGenError):
    """The control socket could not be opened, or is gone for good."""


class MediaError(HeyGenError):
    """A room could not be joined, or was used after it was left."""


class AudioFormatError(HeyGenError, ValueError):
    """Audio the library cannot send as-is and cannot safely convert.

    The service garbles video without any error when audio is not 24 kHz mono
    PCM16, so anything doubtful is refused here, with a message that says
    what is supported.
    """


class InsufficientCreditsError(HeyGenError):
    """The LiveAvatar account cannot pay for the session it was asked to start.

    Raised by `heygen_core.rest.ensure_credits` before any session exists, so
    nothing was billed. Sandbox sessions (the public sandbox avatar,
    ``is_sandbox=True``) are free and need no check.

    Attributes:
        credits_left: The account's balance, as the service reported it.
        credits_needed: What the requested minutes of that mode cost.
        mode: The session mode that was priced (``LITE`` or ``FULL``).
        minutes: The session length that was priced.
    """

    def __init__(
        self, *, credits_left: Decimal, credits_needed: Decimal, mode: str, minutes: float
    ) -> None:
        super().__init__(
            f"the LiveAvatar account has {credits_left} credits left, and {minutes:g} minutes "
            f"of a {mode} session cost {credits_needed}: add credits to the account, ask for "
            "fewer minutes, or use a sandbox session (free, with the sandbox avatar)"
        )
        self.credits_left = credits_left
        self.credits_needed = credits_needed
        self.mode = mode
        self.minutes = minutes
