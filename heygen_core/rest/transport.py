"""`RestClient`: the HTTP half of both REST clients (auth, retries, timeouts, errors).

The operations themselves (URL, method, auth schemes, body and answer types)
come from the generated operation table of each API
(``heygen_models.<api>_operations``), whose methods call `RestClient._send`;
this module only knows HTTP.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar
from urllib.parse import quote, urljoin, urlsplit

from pydantic import BaseModel

from heygen_core.errors import (
    CredentialsError,
    HeyGenError,
    InvalidBaseUrlError,
    RateLimitError,
    ResponseTooLargeError,
    ServerError,
    TransportError,
    UnexpectedRedirectError,
)
from heygen_core.protocol.codec import decode_as, encode
from heygen_core.rest._error_mapping import api_error
from heygen_core.rest._request_checks import refuse_invalid
from heygen_core.rest.caller import OperationCaller
from heygen_core.rest.retry import RetryPolicy
from heygen_core.rest.spec import Operation

if TYPE_CHECKING:
    # At run time aiohttp's client (about 100 ms to import, most of it its
    # connector's TLS set-up) is imported by the first request, not when a
    # client, or an `AvatarSession` that holds one, is built.
    import aiohttp

logger = logging.getLogger("heygen_core.rest")

E = TypeVar("E", bound=BaseModel)

DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
"""The default cap on one REST answer, in (decompressed) bytes: 8 MiB.

The services' answers are a few kilobytes (a long list or transcript, some
hundreds); the cap only stops a broken or hostile server from filling memory.
"""

_READ_CHUNK = 64 * 1024


class RestClient(OperationCaller):
    """Sends the operations of one API over HTTP. Use `LiveAvatarClient` or `StreamingClient`.

    A client class inherits a generated operations class (which sets `spec`
    and adds one typed method per operation) and this one, and names the
    environment variable of its key (`key_env`).

    Args:
        api_key: The API key; default: the environment variable `key_env`.
        session_token: A session token to use where an operation accepts one.
        base_url: Overrides the schema's server (the simulator, a proxy).
        session: An aiohttp session to use; it stays open after `close()`.
            Without one the client makes its own and closes it.
        timeout: Seconds allowed for each attempt of each call: connecting,
            sending and reading the whole answer.
        retry: When to repeat failed calls.
        max_response_bytes: Largest answer read, decompressed; a larger one
            raises `ResponseTooLargeError` (default `DEFAULT_MAX_RESPONSE_BYTES`).

    Raises:
        InvalidBaseUrlError: `base_url` cannot work: no ``http://`` or
            ``https://``, no host, a query string, or a trailing ``/v1``.

    Redirects are never followed: the APIs do not redirect, and following one
    would hand the API key or session token to wherever it points (aiohttp
    strips only ``Authorization`` across origins, not ``X-API-KEY``). A 3xx
    answer raises `UnexpectedRedirectError`.
    """

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
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive (seconds)")
        if max_response_bytes <= 0:
            raise ValueError("max_response_bytes must be positive")
        self.base_url = _checked_base_url(base_url or self.spec.base_url)
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
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

    async def __aenter__(self) -> Self:
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
            import aiohttp  # on first use: see the module's imports

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
        """Call one operation by its ``operationId``; prefer the typed method of the same name.

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

        Returns:
            The decoded success body and the HTTP status.

        Raises:
            ApiError: One of its subclasses, for an error status.
            TransportError: No answer (connection failure, timeout).
            CredentialsError: The operation needs a credential the client lacks.
            InvalidRequestError: The request breaks a schema constraint the
                models cannot check (a malformed uuid, fields that must not
                be sent together); nothing was sent.
            ProtocolError: A success body that does not fit the schema.
        """
        op = self.spec.operation(operation_id)
        if expect is not op.response_model:
            raise TypeError(
                f"{operation_id} answers {op.response_model.__name__}, not {expect.__name__}"
            )
        return await self._send(
            op,
            expect,
            body=body,
            query=query,
            path_params=path_params,
            session_token=session_token,
            timeout=timeout,
        )

    async def _send(
        self,
        operation: Operation,
        expect: type[E],
        *,
        body: BaseModel | None = None,
        query: BaseModel | None = None,
        path_params: Mapping[str, str] | None = None,
        session_token: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> tuple[E, int]:
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive (seconds)")
        op = operation
        headers = self._auth_headers(op, session_token)
        secrets = [s for s in (self._api_key, session_token, self._session_token) if s]
        path = _expand(op, path_params or {})
        query_wire = _query_wire(query)
        if body is None and op.request_model is not None and op.body_required:
            raise ValueError(f"{op.operation_id} needs a {op.request_model.__name__} body")
        text = encode(body) if body is not None else None
        # Strict out: what the models cannot check is checked before anything is sent.
        refuse_invalid(op, path_params or {}, query, query_wire, body, text)
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
            raise api_error(op, status, raw, {}, secrets)
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
        import aiohttp  # on first use: see the module's imports

        started = time.monotonic()
        try:
            # One deadline over connecting, sending and reading the whole
            # body: aiohttp's own timer alone was seen firing 2-3x late while
            # a hostile body kept the loop busy.
            async with (
                asyncio.timeout(limit),
                self._http().request(
                    op.method,
                    url,
                    params=params,
                    headers=headers,
                    data=payload,
                    timeout=aiohttp.ClientTimeout(total=limit),
                    # Credentials never cross to where a redirect points.
                    allow_redirects=False,
                ) as response,
            ):
                status = response.status
                if 300 <= status < 400:
                    response.close()
                    raise self._redirect_error(op, response)
                raw = await self._read_body(op, response)
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
                    raise api_error(op, status, raw, response.headers, secrets)
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

    async def _read_body(self, op: Operation, response: aiohttp.ClientResponse) -> bytes:
        """Read the body, decompressed, stopping as soon as it passes the cap."""
        cap = self.max_response_bytes
        declared = response.content_length
        # A declared length is of the bytes on the wire: only an uncompressed
        # body can be refused before reading it.
        if declared is not None and declared > cap and not _is_compressed(response):
            response.close()
            raise self._too_large(op)
        body = bytearray()
        # aiohttp inflates compressed bodies in bounded steps as they are
        # read, so counting here stops a gzip bomb after `cap` bytes too.
        async for chunk in response.content.iter_chunked(_READ_CHUNK):
            body += chunk
            # A compressed body can be inflated chunk after chunk without
            # the read ever suspending; yield, or the deadline (and every
            # other task) waits until the whole body is in.
            await asyncio.sleep(0)
            if len(body) > cap:
                # Closing drops the connection, so the rest is never read.
                response.close()
                raise self._too_large(op)
        return bytes(body)

    def _too_large(self, op: Operation) -> ResponseTooLargeError:
        cap = self.max_response_bytes
        return ResponseTooLargeError(
            f"{op.method} {op.path}: the answer is larger than the {_size(cap)} cap, "
            f"so it was not read; check base_url points at the API, or raise "
            f"max_response_bytes= if the service really sends this much",
            limit=cap,
            method=op.method,
            path=op.path,
        )

    def _redirect_error(
        self, op: Operation, response: aiohttp.ClientResponse
    ) -> UnexpectedRedirectError:
        status = response.status
        base = _origin(self.base_url)
        location: str | None = None
        same_origin = False
        target = response.headers.get("Location")
        if target:
            try:
                # Origin only: a path or query could carry anything.
                location = _origin(urljoin(str(response.url), target))
            except ValueError:
                location = None
            same_origin = location is not None and location == base
        if location is None:
            where = "without a usable Location"
        elif same_origin:
            where = f"to another path on {location}"
        else:
            where = f"to {location}"
        advice = (
            "check the path of base_url"
            if same_origin
            else "set base_url to the API's own address (the redirect target, if you trust it)"
        )
        return UnexpectedRedirectError(
            f"{op.method} {op.path}: the service at {base} answered HTTP {status}, "
            f"a redirect {where}; redirects are not followed, so no credential is sent "
            f"elsewhere: {advice}",
            status=status,
            method=op.method,
            path=op.path,
            location=location,
            same_origin=same_origin,
        )

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


_VERSION_TAIL = re.compile(r"/v\d+$")
_LOCAL_HOSTS = ("localhost", "127.", "[::1]", "0.0.0.0")


def _checked_base_url(value: str) -> str:
    """Return `value` without its trailing slash, or raise `InvalidBaseUrlError` saying why."""
    shown = _without_userinfo(value)

    def refuse(problem: str, reason: str, suggestion: str | None) -> InvalidBaseUrlError:
        hint = f" (for example {suggestion})" if suggestion else ""
        return InvalidBaseUrlError(
            f"base_url {shown!r} {problem}{hint}",
            base_url=shown,
            reason=reason,
            suggestion=suggestion,
        )

    if "://" not in value:
        host = shown.lstrip("/")
        # Plain http for this machine (a simulator), https for anything else.
        local = host.rpartition("@")[2].startswith(_LOCAL_HOSTS)
        scheme = "http" if local else "https"
        raise refuse("has no scheme: add http:// or https://", "no_scheme", f"{scheme}://{host}")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number 0-65535)
    except ValueError as exc:
        raise refuse(f"is not a valid URL ({exc})", "malformed", None) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        fixed = {"ws": "http", "wss": "https"}.get(scheme)
        suggestion = fixed + shown[len(parts.scheme) :] if fixed else None
        raise refuse("must start with http:// or https://", "unsupported_scheme", suggestion)
    if not parts.hostname:
        raise refuse("has no host: give http(s)://HOST[:PORT]", "no_host", None)
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        clean = _without_userinfo(parts._replace(query="", fragment="").geturl()).rstrip("?#/")
        raise refuse("must not have a query string or fragment", "query", clean)
    base = value.rstrip("/")
    tail = _VERSION_TAIL.search(urlsplit(base).path)
    if tail:
        version = tail.group()
        raise refuse(
            f"ends in {version}, but the operation paths already start with their "
            f"version: give the base without {version}",
            "version_path",
            _without_userinfo(base[: -len(version)]),
        )
    return base


def _without_userinfo(url: str) -> str:
    # A user:password@ part is a credential: never repeat it in a message.
    scheme, sep, rest = url.partition("://") if "://" in url else ("", "", url)
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    return f"{scheme}{sep}{authority}{slash}{path}"


def _is_compressed(response: aiohttp.ClientResponse) -> bool:
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    return encoding not in ("", "identity")


def _size(count: int) -> str:
    if count >= 1024 * 1024 and count % (1024 * 1024) == 0:
        return f"{count // (1024 * 1024)} MiB"
    if count >= 1024 and count % 1024 == 0:
        return f"{count // 1024} KiB"
    return f"{count} bytes"


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


def _origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute URL (never its userinfo), else None."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{host}{port}"
