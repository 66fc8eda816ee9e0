"""The HTTP machinery both REST clients share: auth, retries, errors, envelopes.

Every URL, method, auth scheme and body type comes from the API's OpenAPI
document (`heygen_core.rest.operations`); this module only knows HTTP.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import MISSING, BaseModel, RootModel

from heygen_core.errors import (
    ApiError,
    AuthenticationError,
    CredentialsError,
    FieldError,
    HeyGenError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    RequestRejectedError,
    ServerError,
    SessionLimitError,
    SessionStateError,
    TransportError,
)
from heygen_core.protocol.codec import decode_as, encode
from heygen_core.protocol.constraints import ConstraintProblem, model_problems, path_problems
from heygen_core.rest.operations import ApiName, ApiSpec, Operation, api_spec
from heygen_core.rest.retry import RetryPolicy

logger = logging.getLogger("heygen_core.rest")

D = TypeVar("D")
E = TypeVar("E", bound=BaseModel)

_EXCERPT_CHARS = 300
# Vendor codes that mean the same whatever the HTTP status (PROTOCOL.md §2).
_CODE_UNAUTHORIZED = 400112
_CODE_SESSION_STATE = 400006
_CODES_VALIDATION = (40001, 400175)
# The session-limit answers are undocumented by both vendors: these are the
# embedded simulator's (LiveAvatar HTTP 409; Streaming code 10007).
_STATUS_SESSION_LIMIT = 409
_CODE_SESSION_LIMIT = 10007
# Where a caller finds a well-formed id, for the message of a malformed one.
# Only LiveAvatar declares ids as ``format: uuid``.
_ID_SOURCES: dict[tuple[ApiName, str], str] = {
    ("liveavatar", "session_id"): "create_session_token or list_sessions",
    ("liveavatar", "prev_session_id"): "create_session_token or list_sessions",
    ("liveavatar", "avatar_id"): "list_avatars or list_public_avatars",
    ("liveavatar", "voice_id"): "list_voices",
    ("liveavatar", "default_voice_id"): "list_voices",
}


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


REDACTED = "<redacted>"
"""What `redacted_repr` shows in place of a secret."""

# A field the schema does not declare (the services may add any) is taken
# for a secret when its name says it holds a credential.
_SECRET_NAME = re.compile(r"token|secret|password|credential|api_?key", re.IGNORECASE)


def redacted_repr(value: object) -> str:
    """Return a ``repr`` of `value` with every secret in it shown as ``<redacted>``.

    A field of a generated model is secret when its schema property says
    ``x-secret: true`` (session tokens, LiveKit JWTs, TURN credentials):
    codegen leaves exactly those out of the model's own repr. A field the
    schema does not declare, a dict key, and any field of a model of another
    package is secret when its name contains token, secret, password,
    credential or api key. Nested models, lists and dicts are redacted the
    same way.
    """
    if isinstance(value, BaseModel):
        model = type(value)
        generated = model.__module__.startswith("heygen_models.")
        parts = []
        for name, info in model.model_fields.items():
            # Shown as present but redacted (the model's own repr hides it),
            # which helps debugging.
            secret = not info.repr if generated else bool(_SECRET_NAME.search(name))
            if not info.repr and not secret:
                continue
            # __dict__, not getattr: reading a deprecated field warns.
            parts.append(f"{name}={_redacted_item(value.__dict__.get(name), secret)}")
        for name, item in (value.__pydantic_extra__ or {}).items():
            parts.append(f"{name}={_redacted_item(item, bool(_SECRET_NAME.search(name)))}")
        return f"{model.__name__}({', '.join(parts)})"
    if isinstance(value, dict):
        entries = (
            f"{key!r}: "
            f"{_redacted_item(item, isinstance(key, str) and bool(_SECRET_NAME.search(key)))}"
            for key, item in value.items()
        )
        return "{" + ", ".join(entries) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(redacted_repr(item) for item in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(redacted_repr(item) for item in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def _redacted_item(value: object, secret: bool) -> str:
    # An absent field or a null holds no secret, and showing which it is helps debugging.
    if secret and value is not None and value is not MISSING:
        return REDACTED
    return redacted_repr(value)


class RestClient:
    """Calls the operations of one API. Use `LiveAvatarClient` or `StreamingClient`.

    Subclasses name their API (`api`) and the environment variable of its key
    (`key_env`).

    Args:
        api_key: The API key; default: the environment variable `key_env`.
        session_token: A session token to use where an operation accepts one.
        base_url: Overrides the schema's server (the simulator, a proxy).
        session: An aiohttp session to use; it stays open after `close()`.
            Without one the client makes its own and closes it.
        timeout: Seconds allowed for each attempt of each call.
        retry: When to repeat failed calls.
    """

    api: ClassVar[ApiName]
    key_env: ClassVar[str]

    def __init__(
        self,
        api_key: str | None = None,
        *,
        session_token: str | None = None,
        base_url: str | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive (seconds)")
        self.spec: ApiSpec = api_spec(self.api)
        self.base_url = (base_url or self.spec.base_url).rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._api_key = api_key if api_key is not None else (os.environ.get(self.key_env) or None)
        self._session_token = session_token
        self._session = session
        self._owns_session = session is None
        self._closed = False

    def __repr__(self) -> str:
        key = "set" if self._api_key else "unset"
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key=<{key}>)"

    @property
    def has_api_key(self) -> bool:
        """Whether an API key was given or found in the environment."""
        return bool(self._api_key)

    async def __aenter__(self) -> RestClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this client made it; a given one stays open."""
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._closed:
            raise HeyGenError(f"{type(self).__name__} is closed; make a new client")
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def call(
        self,
        operation_id: str,
        expect: type[E],
        *,
        body: BaseModel | None = None,
        query: BaseModel | None = None,
        path_params: Mapping[str, str] | None = None,
        session_token: str | None = None,
        # Per attempt, like the client's own: asyncio.timeout() around the
        # call would also cut short the retries and their waits.
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> tuple[E, int]:
        """Call one operation and return its decoded success body and HTTP status.

        Args:
            operation_id: The schema's ``operationId``.
            expect: The success model the caller expects; it must be the one
                the schema declares (a mismatch is a bug, raised as TypeError).
            body: The request body model.
            query: The query-string model.
            path_params: Values for the path template.
            session_token: A session token for this call only.
            timeout: Seconds allowed for each attempt of this call only
                (default: the client's ``timeout``).

        Raises:
            ApiError: One of its subclasses, for an error status.
            TransportError: No answer (connection failure, timeout).
            CredentialsError: The operation needs a credential the client lacks.
            InvalidRequestError: The request breaks a schema constraint the
                models cannot check (a malformed uuid, fields that must not
                be sent together); nothing was sent.
            ProtocolError: A success body that does not fit the schema.
        """
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive (seconds)")
        op = self.spec.operation(operation_id)
        if expect is not op.response_model:
            raise TypeError(
                f"{operation_id} answers {op.response_model.__name__}, not {expect.__name__}"
            )
        headers = self._auth_headers(op, session_token)
        secrets = [s for s in (self._api_key, session_token, self._session_token) if s]
        path = _expand(op, path_params or {})
        query_wire = _query_wire(query)
        if body is None and op.request_model is not None and op.body_required:
            raise ValueError(f"{operation_id} needs a {op.request_model.__name__} body")
        text = encode(body) if body is not None else None
        # Strict out: what the models cannot check is checked before anything is sent.
        self._refuse_invalid(op, path_params or {}, query, query_wire, body, text)
        url = self.base_url + path
        params = _query_text(query_wire)
        payload = text.encode() if text is not None else None
        if payload is not None:
            headers["Content-Type"] = "application/json"

        failures = 0
        while True:
            try:
                status, raw = await self._attempt(
                    op, url, params, headers, payload, secrets, timeout or self.timeout
                )
            except (TransportError, ServerError, RateLimitError) as exc:
                failures += 1
                delay = self._retry_delay(op, exc, failures)
                if delay is None:
                    raise
                logger.info(
                    "%s %s failed (%s); retry %d in %.2f s",
                    op.method,
                    op.path,
                    type(exc).__name__,
                    failures,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            break
        if status >= 400:
            raise _api_error(op, status, raw, {}, secrets)
        return decode_as(expect, raw), status

    async def _attempt(
        self,
        op: Operation,
        url: str,
        params: dict[str, str],
        headers: dict[str, str],
        payload: bytes | None,
        secrets: list[str],
        limit: float,
    ) -> tuple[int, bytes]:
        started = time.monotonic()
        try:
            async with self._http().request(
                op.method,
                url,
                params=params,
                headers=headers,
                data=payload,
                timeout=aiohttp.ClientTimeout(total=limit),
            ) as response:
                raw = await response.read()
                status = response.status
                logger.debug(
                    "%s %s -> %d in %.0f ms",
                    op.method,
                    op.path,
                    status,
                    (time.monotonic() - started) * 1000,
                )
                if status == 429 or status >= 500:
                    # Raised here so the retry loop sees them; other errors
                    # are final and mapped by the caller.
                    raise _api_error(op, status, raw, response.headers, secrets)
                return status, raw
        except TimeoutError:
            raise TransportError(
                f"{op.method} {op.path}: no answer within {limit:g} s "
                f"(raise timeout= if the service is slow)",
                method=op.method,
                path=op.path,
                timed_out=True,
            ) from None
        except aiohttp.ClientError as exc:
            raise TransportError(
                f"{op.method} {op.path}: connection to {self.base_url} failed "
                f"({type(exc).__name__}); check the network and base_url",
                method=op.method,
                path=op.path,
            ) from None

    def _refuse_invalid(
        self,
        op: Operation,
        path_params: Mapping[str, str],
        query: BaseModel | None,
        query_wire: dict[str, Any],
        body: BaseModel | None,
        text: str | None,
    ) -> None:
        found: list[tuple[str, str | None, ConstraintProblem]] = []
        for problem in path_problems(self.api, op, {k: str(v) for k, v in path_params.items()}):
            found.append(("path", op.path, problem))
        if query is not None:
            query_model = self._schema_model(type(query), op.query_model)
            if query_model is not None:
                for problem in model_problems(self.api, query_model, query_wire):
                    found.append(("query", query_model.__name__, problem))
        if body is not None and text is not None:
            # The member of a union, not the union: its fields are the ones the
            # caller set, without the tag pydantic puts first ("FULL.avatar_id").
            member: BaseModel = body
            while isinstance(member, RootModel) and isinstance(member.root, BaseModel):
                member = member.root
            model = self._schema_model(type(member), op.request_model)
            if model is not None:
                for problem in model_problems(self.api, model, json.loads(text)):
                    found.append(("body", model.__name__, problem))
        if not found:
            return
        where, message_type, first = found[0]
        raise InvalidRequestError(
            f"{op.operation_id} was not sent: "
            + "; ".join(self._describe_problem(problem) for _, _, problem in found),
            operation_id=op.operation_id,
            where=where,
            field=first.field,
            errors=[
                {"loc": (part, *problem.loc), "msg": problem.msg, "type": problem.type}
                for part, _, problem in found
            ],
            message_type=message_type,
        )

    def _schema_model(
        self, given: type[BaseModel], declared: type[BaseModel] | None
    ) -> type[BaseModel] | None:
        # Every model of the API's generated module is a type of its schema;
        # anything else is checked as the type the operation declares.
        if given.__module__ == f"heygen_models.{self.api}":
            return given
        return declared

    def _describe_problem(self, problem: ConstraintProblem) -> str:
        # Names the field and what to send; never the value sent (it may be
        # a secret pasted into the wrong place).
        text = problem.advice
        names = [part for part in problem.loc if isinstance(part, str)]
        source = _ID_SOURCES.get((self.api, names[-1])) if names else None
        if problem.type == "uuid_parsing" and source:
            text += f" (use the id from {source})"
        return f"{problem.field}: {text}" if problem.field else text

    def _retry_delay(self, op: Operation, exc: HeyGenError, failures: int) -> float | None:
        if failures >= self.retry.max_attempts:
            return None
        if isinstance(exc, RateLimitError):
            # Refused before it did anything, so safe for every operation.
            wait = exc.retry_after if exc.retry_after is not None else self.retry.backoff(failures)
            return wait if wait <= self.retry.max_retry_after else None
        if not op.retry_safe:
            return None
        return self.retry.backoff(failures)

    def _auth_headers(self, op: Operation, session_token: str | None) -> dict[str, str]:
        token = session_token or self._session_token
        alternatives = list(op.security)
        if session_token:
            # A token given for this call says which credential the caller means.
            alternatives.sort(key=lambda alt: not any(self._is_bearer(s) for s in alt))
        for alternative in alternatives:
            headers: dict[str, str] = {}
            for name in alternative:
                scheme = self.spec.schemes[name]
                value = self._api_key if scheme.kind == "apiKey" else token
                if not value:
                    break
                headers[scheme.header] = value if scheme.kind == "apiKey" else f"Bearer {value}"
            else:
                return headers
        if not op.security:
            return {}
        needs = " or ".join(
            " and ".join(self._describe(name) for name in alternative)
            for alternative in op.security
        )
        raise CredentialsError(f"{op.operation_id} needs {needs}")

    def _is_bearer(self, scheme_name: str) -> bool:
        return self.spec.schemes[scheme_name].kind == "bearer"

    def _describe(self, scheme_name: str) -> str:
        if self._is_bearer(scheme_name):
            return "a session token (pass session_token=)"
        return f"an API key (pass api_key= or set {self.key_env})"


def _expand(op: Operation, values: Mapping[str, str]) -> str:
    missing = [name for name in op.path_params if not values.get(name)]
    if missing:
        raise ValueError(f"{op.operation_id} needs {', '.join(missing)}")
    path = op.path
    for name in op.path_params:
        path = path.replace("{" + name + "}", quote(str(values[name]), safe=""))
    return path


def _query_wire(query: BaseModel | None) -> dict[str, Any]:
    if query is None:
        return {}
    wire = json.loads(encode(query))
    return {key: value for key, value in wire.items() if value is not None}


def _query_text(wire: Mapping[str, Any]) -> dict[str, str]:
    # Query strings carry text: booleans as the lower-case JSON words.
    return {
        key: json.dumps(value) if isinstance(value, bool) else str(value)
        for key, value in wire.items()
    }


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


def _api_error(
    op: Operation, status: int, raw: bytes, headers: Mapping[str, str], secrets: list[str]
) -> ApiError:
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
