"""The REST operations of both APIs, read from their OpenAPI documents.

Nothing here knows a URL, a method or an auth header of its own: the clients
and the simulator take all of it from the schema, so a schema change reaches
both through `make generate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel

from heygen_core.protocol.schemas import SchemaDocument, schema_document

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
        operation_id: Its ``operationId`` (``create_session_token``).
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


@cache
def api_spec(name: ApiName) -> ApiSpec:
    """Return the operations of API `name`, read from its packaged OpenAPI document."""
    doc = schema_document(name)
    components = doc.document.get("components", {})
    schemes = {
        key: _scheme(key, value) for key, value in components.get("securitySchemes", {}).items()
    }
    operations: dict[str, Operation] = {}
    for path, item in doc.document["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            operation = _operation(doc, name, path, method, op, item.get("parameters", []))
            operations[operation.operation_id] = operation
    base_url = str(doc.document["servers"][0]["url"]).rstrip("/")
    return ApiSpec(name, base_url, schemes, operations)


def _scheme(name: str, raw: dict[str, Any]) -> SecurityScheme:
    if raw.get("type") == "apiKey" and raw.get("in") == "header":
        return SecurityScheme(name, "apiKey", str(raw["name"]))
    if raw.get("type") == "http" and str(raw.get("scheme", "")).lower() == "bearer":
        return SecurityScheme(name, "bearer", "Authorization")
    raise ValueError(f"unsupported security scheme {name!r}: {raw}")


def _ref(doc: SchemaDocument, node: dict[str, Any], section: str) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(f"#/components/{section}/"):
        resolved: dict[str, Any] = doc.document["components"][section][ref.rsplit("/", 1)[-1]]
        return resolved
    return node


def _schema_model(doc: SchemaDocument, node: dict[str, Any] | None) -> type[BaseModel] | None:
    if not node:
        return None
    schema = node.get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref")
    return doc.model(ref.rsplit("/", 1)[-1]) if isinstance(ref, str) else None


def _operation(
    doc: SchemaDocument,
    api: ApiName,
    path: str,
    method: str,
    op: dict[str, Any],
    shared_params: list[dict[str, Any]],
) -> Operation:
    query_model = None
    path_params = []
    for raw in [*shared_params, *op.get("parameters", [])]:
        param = _ref(doc, raw, "parameters")
        if param.get("in") == "query":
            query_model = doc.model(param["schema"]["$ref"].rsplit("/", 1)[-1])
        elif param.get("in") == "path":
            path_params.append(str(param["name"]))
    body = _ref(doc, op.get("requestBody") or {}, "requestBodies")
    success_status = 0
    response_model = None
    errors: dict[int, type[BaseModel]] = {}
    for status, raw in op.get("responses", {}).items():
        model = _schema_model(doc, _ref(doc, raw, "responses"))
        if model is None:
            continue
        code = int(status)
        if 200 <= code < 300 and response_model is None:
            success_status, response_model = code, model
        elif code >= 400:
            errors[code] = model
    if response_model is None:
        raise ValueError(f"{api} {op['operationId']}: no typed 2xx response")
    return Operation(
        api=api,
        operation_id=str(op["operationId"]),
        method=method.upper(),
        path=path,
        security=tuple(tuple(requirement) for requirement in op.get("security", [])),
        request_model=_schema_model(doc, body),
        body_required=bool(body.get("required", False)),
        query_model=query_model,
        path_params=tuple(path_params),
        success_status=success_status,
        response_model=response_model,
        error_models=errors,
        retry_safe=method == "get" or bool(op.get("x-idempotent", False)),
    )
