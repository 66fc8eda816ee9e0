"""The types of an API's operation table: operations, security schemes, the API itself.

codegen writes one table per REST schema (``heygen_models.<api>_operations``)
out of these types; `heygen_core.rest.operations.api_spec` finds it by name.
This module does no I/O and imports nothing else from heygen_core, so the
generated code can import it without a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

ApiName = Literal["liveavatar", "streaming"]
"""``liveavatar`` (LiveAvatar API) or ``streaming`` (legacy Streaming API)."""


@dataclass(frozen=True)
class SecurityScheme:
    """How one credential is sent: an API-key header or a bearer token.

    Attributes:
        name: The scheme's name in the schema (``ApiKey``, ``SessionToken``).
        kind: ``apiKey`` or ``bearer``.
        header: The header that carries it (``X-API-KEY``, ``Authorization``).
    """

    name: str
    kind: Literal["apiKey", "bearer"]
    header: str


@dataclass(frozen=True)
class Operation:
    """One REST operation as its OpenAPI document declares it.

    Attributes:
        api: Which API it belongs to.
        operation_id: Its ``operationId``.
        method: HTTP method, upper case.
        path: Path template (``/v1/sessions/{session_id}``).
        security: Alternatives, each a tuple of scheme names that must all be
            sent; empty when the operation needs no credentials.
        request_model: The body's model, or None when it takes no body.
        body_required: Whether a body must be sent.
        query_model: The model of its query string, or None.
        path_params: Names of the path template's parameters.
        success_status: The 2xx status the schema declares.
        response_model: The model of the success body.
        error_models: Model of the body per error status.
        retry_safe: Safe to repeat after a failure: GETs, and operations the
            schema marks ``x-idempotent: true`` (keep-alive, stop).
        id_sources: Per id field it sends (path parameter, body or query
            property), the operations whose answers hold a valid id, from the
            schema's ``x-id-source``; named in the message of a malformed id.
    """

    api: ApiName
    operation_id: str
    method: str
    path: str
    security: tuple[tuple[str, ...], ...]
    request_model: type[BaseModel] | None
    body_required: bool
    query_model: type[BaseModel] | None
    path_params: tuple[str, ...]
    success_status: int
    response_model: type[BaseModel]
    error_models: dict[int, type[BaseModel]] = field(repr=False)
    retry_safe: bool
    id_sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ApiSpec:
    """One API: its default base URL, security schemes and operations."""

    name: ApiName
    base_url: str
    schemes: dict[str, SecurityScheme]
    operations: dict[str, Operation]

    def operation(self, operation_id: str) -> Operation:
        """Return the operation named `operation_id`, or raise KeyError naming the API."""
        try:
            return self.operations[operation_id]
        except KeyError:
            raise KeyError(f"{self.name} has no operation {operation_id!r}") from None
