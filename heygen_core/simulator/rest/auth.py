"""Who is calling: credentials checked per operation, from the schema's ``security``.

Each operation lists alternatives (``[{ApiKey: []}, {SessionToken: []}]``);
a request is accepted when one alternative's schemes are all satisfied:

- an API-key scheme: its header (``X-API-KEY`` / ``x-api-key``, from the
  schema) is non-empty, and equal to ``SimulatorConfig.api_key`` when set;
- a bearer scheme: ``Authorization: Bearer <token>`` with a token this
  simulator issued (LiveAvatar session tokens; Streaming ``create_token``).

Credentials are compared in constant time and never kept, logged or echoed:
accounts are identified by a digest of the key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from heygen_core.rest.operations import ApiSpec, Operation, SecurityScheme
from heygen_core.simulator.config import SimulatorConfig
from heygen_core.simulator.state import account_id


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request.

    Attributes:
        owner: Account id (a digest of the API key), or None for an operation
            that needs no credentials.
        scheme: Name of the security scheme that matched (``ApiKey``,
            ``SessionToken``), or None.
        session_id: For a LiveAvatar session token, the session it was minted for.
        rate_key: Who the rate limit counts: a digest of the API key, else of
            the bearer token, else the client IP.
    """

    owner: str | None
    scheme: str | None
    session_id: str | None
    rate_key: str


BearerLookup = Callable[[str], "tuple[str, str | None] | None"]
"""Maps a bearer token to ``(owner, session_id or None)``, or None when unknown."""


class Authenticator:
    """Checks one API's credentials."""

    def __init__(self, spec: ApiSpec, config: SimulatorConfig, bearer: BearerLookup) -> None:
        """Create the checker.

        Args:
            spec: The API (its security schemes).
            config: ``api_key`` restricts the accepted key.
            bearer: How to resolve a bearer token of this API.

        """
        self._spec = spec
        self._config = config
        self._bearer = bearer

    def rate_key(self, request: web.Request) -> str:
        """Return who the rate limit counts for this request (no credential in clear)."""
        for scheme in self._spec.schemes.values():
            value = self._credential(request, scheme)
            if value:
                return f"{scheme.kind}:{_digest(value)}"
        return f"ip:{request.remote or 'unknown'}"

    def authenticate(self, request: web.Request, op: Operation) -> Caller | None:
        """Return the caller when one of `op`'s alternatives is satisfied, else None."""
        rate_key = self.rate_key(request)
        if not op.security:
            return Caller(owner=None, scheme=None, session_id=None, rate_key=rate_key)
        for alternative in op.security:
            caller = self._satisfy(request, alternative, rate_key)
            if caller is not None:
                return caller
        return None

    def _satisfy(
        self, request: web.Request, alternative: tuple[str, ...], rate_key: str
    ) -> Caller | None:
        owner: str | None = None
        session_id: str | None = None
        for name in alternative:
            scheme = self._spec.schemes[name]
            value = self._credential(request, scheme)
            if not value:
                return None
            if scheme.kind == "apiKey":
                expected = self._config.api_key
                if expected is not None and not hmac.compare_digest(
                    value.encode(), expected.encode()
                ):
                    return None
                owner = account_id(value)
            else:
                found = self._bearer(value)
                if found is None:
                    return None
                owner, session_id = found
        return Caller(
            owner=owner,
            scheme=alternative[0] if alternative else None,
            session_id=session_id,
            rate_key=rate_key,
        )

    @staticmethod
    def _credential(request: web.Request, scheme: SecurityScheme) -> str:
        value = request.headers.get(scheme.header, "").strip()
        if scheme.kind == "bearer":
            kind, _, token = value.partition(" ")
            return token.strip() if kind.lower() == "bearer" else ""
        return value


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]
