"""The request pipeline every simulated operation goes through.

In order: count the call; apply an injected fault; rate limit (as a gateway
would, before looking at credentials); authenticate (before validation, as
FastAPI resolves security dependencies first); validate path, query and
body; run the handler; answer, late if a delay fault asked for it.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel

from heygen_core.protocol.codec import encode
from heygen_core.rest.operations import ApiName, Operation
from heygen_core.simulator.faults import DelayFault, DisconnectFault, StatusFault
from heygen_core.simulator.limits import RateLimited
from heygen_core.simulator.rest.auth import Authenticator, Caller
from heygen_core.simulator.rest.replies import Dialect, Refusal, Reply
from heygen_core.simulator.rest.validation import (
    BodyNotJson,
    RequestInvalid,
    validate_body,
    validate_path,
    validate_query,
)
from heygen_core.simulator.runtime import Runtime

logger = logging.getLogger("heygen_core.simulator")

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Call:
    """One validated call, as a handler sees it.

    Attributes:
        op: The operation.
        request: The aiohttp request (for its URL, when building page links).
        caller: Who is calling.
        body: The decoded body (the operation's request model), or None.
        query: The decoded query (the operation's query model), or None.
        path: Path parameters.
    """

    op: Operation
    request: web.Request
    caller: Caller
    body: BaseModel | None
    query: BaseModel | None
    path: Mapping[str, str]

    @property
    def owner(self) -> str:
        """The caller's account id (operations with credentials always have one)."""
        return self.caller.owner or "anonymous"

    def body_as(self, model: type[M]) -> M:
        """Return the body, typed as the operation's request model `model`."""
        if not isinstance(self.body, model):
            raise TypeError(f"{self.op.operation_id} has no {model.__name__} body")
        return self.body

    def query_as(self, model: type[M]) -> M:
        """Return the query, typed as the operation's query model `model`."""
        if not isinstance(self.query, model):
            raise TypeError(f"{self.op.operation_id} has no {model.__name__} query")
        return self.query


Handler = Callable[[Call], Reply]
"""Turns a validated call into a reply (or raises `Refusal`)."""


class Endpoint:
    """One operation served over HTTP: the pipeline around its handler."""

    def __init__(
        self,
        api: ApiName,
        op: Operation,
        handler: Handler,
        runtime: Runtime,
        dialect: Dialect,
        auth: Authenticator,
        *,
        require_json_media_type: bool,
    ) -> None:
        """Bind `handler` to `op`.

        Args:
            api: The API the operation belongs to.
            op: The operation, from the schema.
            handler: What it does once the call is valid.
            runtime: The simulator's shared parts.
            dialect: The API's error shapes.
            auth: The API's credential checks.
            require_json_media_type: Refuse (415) a body-carrying POST whose
                Content-Type is not JSON (the Streaming API does).

        """
        self.api = api
        self.op = op
        self._handler = handler
        self._runtime = runtime
        self._dialect = dialect
        self._auth = auth
        self._require_json = require_json_media_type

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one request (the aiohttp handler)."""
        op = self.op
        self._runtime.requests_by_operation[op.operation_id] += 1
        self._runtime.requests_by_api_operation[f"{self.api}.{op.operation_id}"] += 1
        fault = self._runtime.faults.take(self.api, op.operation_id)
        if isinstance(fault, DisconnectFault):
            logger.debug("%s %s: injected disconnect", self.api, op.operation_id)
            if request.transport is not None:
                request.transport.abort()
            return web.Response()  # never sent: the connection is gone
        if isinstance(fault, StatusFault):
            reply = (
                self._dialect.rate_limited(self._one_second())
                if fault.status == 429
                else self._dialect.fault(fault.status)
            )
            return self._respond(reply, "injected")
        try:
            reply = await self._answer(request)
        except Refusal as refusal:
            reply = refusal.reply
        except Exception:
            logger.exception("simulator handler %s.%s failed", self.api, op.operation_id)
            reply = self._dialect.error(500, "Internal server error (simulator bug)")
        if isinstance(fault, DelayFault):
            await asyncio.sleep(fault.seconds)
        return self._respond(reply, "")

    async def _answer(self, request: web.Request) -> Reply:
        op = self.op
        limited = self._runtime.limiter.hit(
            self._auth.rate_key(request), f"{self.api}.{op.operation_id}"
        )
        if limited is not None:
            return self._dialect.rate_limited(limited)
        caller = self._auth.authenticate(request, op)
        if caller is None:
            return self._dialect.unauthorized(op)
        try:
            validate_path(self.api, op, request.match_info)
            query = (
                validate_query(self.api, op.query_model, request.query)
                if op.query_model is not None
                else None
            )
            body = await self._body(request)
        except RequestInvalid as exc:
            return self._dialect.invalid(exc.where, exc.problems)
        except BodyNotJson as exc:
            return self._dialect.not_json(str(exc))
        call = Call(op, request, caller, body, query, dict(request.match_info))
        return self._handler(call)

    async def _body(self, request: web.Request) -> BaseModel | None:
        model = self.op.request_model
        if model is None:
            return None
        raw = await request.read()
        if not raw.strip():
            if self.op.body_required:
                raise Refusal(self._dialect.body_missing())
            raw = b"{}"
        elif self._require_json and "json" not in request.content_type:
            # The Streaming API refuses a non-JSON body as it refuses a missing
            # one (415). aiohttp reports an absent Content-Type as octet-stream.
            raise Refusal(self._dialect.body_missing())
        return validate_body(self.api, model, raw)

    def _one_second(self) -> RateLimited:
        unix = self._runtime.state.clock.unix()
        return RateLimited(retry_after=1, reset_at=math.ceil(unix) + 1)

    def _respond(self, reply: Reply, note: str) -> web.Response:
        logger.debug(
            "%s %s -> %d%s",
            self.api,
            self.op.operation_id,
            reply.status,
            f" ({note})" if note else "",
        )
        return web.Response(
            status=reply.status,
            text=encode(reply.body),
            content_type="application/json",
            headers=dict(reply.headers),
        )


def add_routes(app: web.Application, endpoints: list[Endpoint]) -> None:
    """Register `endpoints` on `app` by their schema method and path.

    Paths without parameters go first, so ``/v1/avatars/public`` is never
    taken for ``/v1/avatars/{avatar_id}``.
    """
    for endpoint in sorted(endpoints, key=lambda e: "{" in e.op.path):
        app.router.add_route(endpoint.op.method, endpoint.op.path, endpoint.handle)
