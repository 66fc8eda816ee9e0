"""Emit the operation table and one typed client method per operation of an OpenAPI document.

`generate.py` calls `operations_module` for every ``schemas/rest/NAME.openapi.yaml``
and writes the result to ``generated/<package>/NAME_operations.py``:

- ``SPEC``: an `ApiSpec` (default base URL, security schemes, and per operation
  its method, path, security alternatives, request/query/response/error
  models, path parameters, success status, retry safety and ``x-id-source``s);
- ``<Name>Operations``: an `OperationCaller` subclass with one async method
  per operation, returning ``ApiResult[<type of the envelope's data>]``.

Every special case is read from the schema, never from an operation's name:

- a ``oneOf`` request body accepts the union or any of its members;
- a request body whose model has no required field may be left out, and the
  default-constructed model (``{}``) is sent;
- an operation that only a session token may call takes ``session_token`` as
  a positional argument; one that also takes an API key, as a keyword;
- the ``data`` of the success envelope gives the result type: absent or
  ``null`` gives ``ApiResult[None]``, an optional one ``X | None``.

The generated code imports only the small runtime of ``heygen_core.rest``
(`spec`, `result`, `caller`), never the HTTP client.
"""

from __future__ import annotations

import json
import keyword
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
# Names the generated methods use for their own arguments and locals.
RESERVED = {"self", "request", "query", "session_token", "timeout", "body", "envelope", "status"}
DOC_WIDTH = 88


class OperationSchemaError(ValueError):
    """The document declares an operation the generator cannot type."""


@dataclass
class Argument:
    """One argument of a generated method."""

    name: str
    annotation: str
    default: str | None = None
    doc: str = ""


@dataclass
class OperationInfo:
    """Everything the table entry and the method of one operation need."""

    operation_id: str
    method: str
    path: str
    summary: str
    description: str
    security: list[list[str]]
    request: str | None
    request_members: list[str]
    request_required_fields: bool
    body_required: bool
    query: str | None
    query_required: bool
    path_params: list[str]
    success_status: int
    response: str
    data_type: str
    data_expr: str
    errors: dict[int, str]
    retry_safe: bool
    id_sources: dict[str, list[str]] = field(default_factory=dict)


def operations_module(document: dict[str, Any], module: str, package: str, source: str) -> str:
    """Return the source of ``<package>.<module>_operations`` for an OpenAPI `document`."""
    api = _Api(document, module)
    class_name = f"{document.get('info', {}).get('x-python-name') or _pascal(module)}Operations"
    lines = [
        f'"""The operations of {source}: the table and one typed method each.',
        "",
        f"`SPEC` is the operation table; `{class_name}` has one async method per",
        "operation, which a `heygen_core.rest.transport.RestClient` subclass sends.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import ClassVar",
        "",
        "from heygen_core.rest.caller import OperationCaller",
        "from heygen_core.rest.result import ApiResult, envelope_result",
        "from heygen_core.rest.spec import ApiSpec, Operation, SecurityScheme",
        "",
        f"from {package} import {module} as _models",
        "",
        "SPEC = ApiSpec(",
        f"    name={_lit(module)},",
        f"    base_url={_lit(api.base_url)},",
        "    schemes={",
    ]
    for name, (kind, header) in api.schemes.items():
        lines.append(
            f"        {_lit(name)}: SecurityScheme("
            f"name={_lit(name)}, kind={_lit(kind)}, header={_lit(header)}),"
        )
    lines += ["    },", "    operations={"]
    for op in api.operations:
        lines += _table_entry(module, op)
    lines += [
        "    },",
        ")",
        f'"""The operation table of {source}."""',
        "",
        "",
        f"class {class_name}(OperationCaller):",
        f'    """The operations of {source}, one typed async method each.',
        "",
        "    Each method sends its operation through `_send` (implemented by",
        "    `heygen_core.rest.transport.RestClient`) and returns the envelope's",
        "    ``data``, typed, in an `ApiResult`.",
        '    """',
        "",
        "    spec: ClassVar[ApiSpec] = SPEC",
    ]
    for op in api.operations:
        lines += ["", *_method(api, op)]
    return "\n".join(lines) + "\n"


class _Api:
    """The parts of one OpenAPI document the operations module is made of."""

    def __init__(self, document: dict[str, Any], module: str) -> None:
        self.document = document
        self.module = module
        self.components = document.get("components", {})
        self.base_url = str(document["servers"][0]["url"]).rstrip("/")
        self.schemes = {
            name: _scheme(name, raw)
            for name, raw in self.components.get("securitySchemes", {}).items()
        }
        default_security = document.get("security", [])
        self.operations: list[OperationInfo] = []
        for path, item in document.get("paths", {}).items():
            for method, raw in item.items():
                if method in HTTP_METHODS:
                    self.operations.append(
                        self._operation(path, method, raw, item, default_security)
                    )
        known = {op.operation_id for op in self.operations}
        for op in self.operations:
            for name, sources in op.id_sources.items():
                unknown = [s for s in sources if s not in known]
                if unknown:
                    raise OperationSchemaError(
                        f"{module}: {op.operation_id}: x-id-source of {name} names "
                        f"unknown operations {unknown}"
                    )

    def bearer(self, scheme: str) -> bool:
        return self.schemes[scheme][0] == "bearer"

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return node
        _, _, section, name = ref.split("/", 3)
        resolved: dict[str, Any] = self.components[section][name]
        return resolved

    def schema(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.components["schemas"][name]
        return found

    def _operation(
        self,
        path: str,
        method: str,
        raw: dict[str, Any],
        item: dict[str, Any],
        default_security: list[dict[str, Any]],
    ) -> OperationInfo:
        operation_id = str(raw["operationId"])
        where = f"{self.module}: {operation_id}"
        if not operation_id.isidentifier() or keyword.iskeyword(operation_id):
            raise OperationSchemaError(f"{where}: operationId must be a Python identifier")
        query, query_required, path_params = None, False, []
        id_sources: dict[str, list[str]] = {}
        for param in (
            self.resolve(p) for p in [*item.get("parameters", []), *raw.get("parameters", [])]
        ):
            if param.get("in") == "query":
                if query is not None:
                    raise OperationSchemaError(f"{where}: query parameters must be one object")
                query = _ref_name(param.get("schema", {}), f"{where}: query parameter")
                query_required = bool(param.get("required", False))
            elif param.get("in") == "path":
                name = str(param["name"])
                if not name.isidentifier() or keyword.iskeyword(name) or name in RESERVED:
                    raise OperationSchemaError(f"{where}: path parameter {name!r} is not usable")
                path_params.append(name)
                self._id_sources(param.get("schema", {}), name, id_sources, set(), where)
        body = self.resolve(raw.get("requestBody") or {})
        request = None
        members: list[str] = []
        required_fields = True
        if body:
            body_schema = body.get("content", {}).get("application/json", {}).get("schema", {})
            request = _ref_name(body_schema, f"{where}: request body")
            component = self.schema(request)
            if "oneOf" in component:
                members = [_ref_name(m, f"{where}: {request} member") for m in component["oneOf"]]
            else:
                required_fields = bool(self._shape(component)[1])
            self._id_sources(body_schema, None, id_sources, set(), where)
        if query is not None:
            self._id_sources(
                {"$ref": f"#/components/schemas/{query}"}, None, id_sources, set(), where
            )
        success_status, response, errors = 0, None, {}
        for status, answer in raw.get("responses", {}).items():
            content = self.resolve(answer).get("content", {}).get("application/json", {})
            if "schema" not in content:
                continue
            code = int(status)
            if 200 <= code < 300 and response is None:
                success_status = code
                response = _ref_name(content["schema"], f"{where}: {status} response")
            elif code >= 400:
                errors[code] = _ref_name(content["schema"], f"{where}: {status} response")
        if response is None:
            raise OperationSchemaError(f"{where}: no typed 2xx response")
        data_type, data_expr = self._data(response, where)
        security = [list(alternative) for alternative in raw.get("security", default_security)]
        for alternative in security:
            for scheme in alternative:
                if scheme not in self.schemes:
                    raise OperationSchemaError(f"{where}: unknown security scheme {scheme!r}")
        return OperationInfo(
            operation_id=operation_id,
            method=method.upper(),
            path=path,
            summary=str(raw.get("summary", "")).strip(),
            description=str(raw.get("description", "")).strip(),
            security=security,
            request=request,
            request_members=members,
            request_required_fields=required_fields,
            body_required=bool(body.get("required", False)),
            query=query,
            query_required=query_required,
            path_params=path_params,
            success_status=success_status,
            response=response,
            data_type=data_type,
            data_expr=data_expr,
            errors=dict(sorted(errors.items())),
            retry_safe=method == "get" or bool(raw.get("x-idempotent", False)),
            id_sources=id_sources,
        )

    def _shape(self, schema: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
        """The properties and required names of an object schema, through $ref and allOf."""
        if "$ref" in schema:
            return self._shape(self.resolve(schema))
        properties: dict[str, Any] = {}
        required: set[str] = set()
        for part in schema.get("allOf", ()):
            more, needed = self._shape(part)
            properties.update(more)
            required |= needed
        properties.update(schema.get("properties", {}))
        required |= set(schema.get("required", ()))
        return properties, required

    def _data(self, response: str, where: str) -> tuple[str, str]:
        """The type of the envelope's ``data`` and the expression that reads it."""
        properties, required = self._shape(self.schema(response))
        data = properties.get("data")
        if data is None or data.get("type") == "null":
            return "None", "None"
        options = [data]
        if "$ref" not in data:
            options = data.get("anyOf") or data.get("oneOf") or []
        refs = [o for o in options if "$ref" in o]
        nulls = [o for o in options if o.get("type") == "null"]
        if len(refs) != 1 or len(refs) + len(nulls) != len(options):
            raise OperationSchemaError(
                f"{where}: {response}.data must be a $ref, optionally nullable"
            )
        model = f"_models.{_ref_name(refs[0], where)}"
        if "data" not in required:
            # Absent or null: the caller gets None either way.
            return (
                f"{model} | None",
                f"envelope.data if isinstance(envelope.data, {model}) else None",
            )
        return (f"{model} | None" if nulls else model), "envelope.data"

    def _id_sources(
        self,
        node: Any,
        name: str | None,
        found: dict[str, list[str]],
        seen: set[str],
        where: str,
    ) -> None:
        """Collect ``x-id-source`` per property (or path parameter) name under `node`."""
        if not isinstance(node, dict):
            return
        sources = node.get("x-id-source")
        if sources is not None and name is not None:
            if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
                raise OperationSchemaError(f"{where}: {name}: x-id-source must list operationIds")
            if found.setdefault(name, sources) != sources:
                raise OperationSchemaError(
                    f"{where}: {name} has different x-id-source lists in one operation"
                )
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref not in seen:
                self._id_sources(self.resolve(node), name, found, seen | {ref}, where)
            return
        for key in ("allOf", "oneOf", "anyOf"):
            for part in node.get(key, ()):
                self._id_sources(part, name, found, seen, where)
        for prop, spec in node.get("properties", {}).items():
            self._id_sources(spec, prop, found, seen, where)
        self._id_sources(node.get("items"), name, found, seen, where)
        self._id_sources(node.get("additionalProperties"), name, found, seen, where)


def _table_entry(module: str, op: OperationInfo) -> list[str]:
    security = _tuple([_tuple([_lit(s) for s in alt]) for alt in op.security])
    errors = [f"                {code}: _models.{model}," for code, model in op.errors.items()]
    id_sources = ", ".join(
        f"{_lit(name)}: {_tuple([_lit(s) for s in sources])}"
        for name, sources in sorted(op.id_sources.items())
    )
    path_params = _tuple([_lit(p) for p in op.path_params])
    return [
        f"        {_lit(op.operation_id)}: Operation(",
        f"            api={_lit(module)},",
        f"            operation_id={_lit(op.operation_id)},",
        f"            method={_lit(op.method)},",
        f"            path={_lit(op.path)},",
        f"            security={security},",
        f"            request_model={_model_or_none(op.request)},",
        f"            body_required={op.body_required},",
        f"            query_model={_model_or_none(op.query)},",
        f"            path_params={path_params},",
        f"            success_status={op.success_status},",
        f"            response_model=_models.{op.response},",
        "            error_models={",
        *errors,
        "            },",
        f"            retry_safe={op.retry_safe},",
        f"            id_sources={{{id_sources}}},",
        "        ),",
    ]


def _method(api: _Api, op: OperationInfo) -> list[str]:
    accepts_token = any(any(api.bearer(s) for s in alt) for alt in op.security)
    token_only = bool(op.security) and all(any(api.bearer(s) for s in alt) for alt in op.security)
    required: list[Argument] = [
        Argument(p, "str", doc=f"Path parameter ``{p}``.") for p in op.path_params
    ]
    optional: list[Argument] = []
    keyword_only: list[Argument] = []
    body_lines: list[str] = []
    body_arg = None
    if op.request is not None:
        model = f"_models.{op.request}"
        body_arg = "body"
        if op.request_members:
            members = " | ".join(f"_models.{m}" for m in op.request_members)
            annotation = f"{model} | {members}"
            doc = f"The body: a ``{op.request}``, or one of its members (wrapped in it)."
            wrap = [
                "            request",
                f"            if isinstance(request, {model})",
                f"            else {model}(request)",
            ]
            if op.body_required:
                required.append(Argument("request", annotation, doc=doc))
                body_lines = ["        body = (", *wrap, "        )"]
            else:
                optional.append(
                    Argument("request", f"{annotation} | None", "None", doc + " Optional.")
                )
                body_lines = [
                    f"        body: {model} | None = None",
                    "        if request is not None:",
                    "            body = (",
                    *[f"    {line}" for line in wrap],
                    "            )",
                ]
        elif not op.request_required_fields:
            # Every field is optional: leaving the body out sends `{}`, which
            # a service that refuses a body-less call still accepts.
            optional.append(
                Argument(
                    "request",
                    f"{model} | None",
                    "None",
                    f"The body (``{op.request}``); default: ``{op.request}()``.",
                )
            )
            body_lines = [f"        body = {model}() if request is None else request"]
        elif op.body_required:
            required.append(Argument("request", model, doc=f"The body (``{op.request}``)."))
            body_arg = "request"
        else:
            optional.append(
                Argument(
                    "request", f"{model} | None", "None", f"The body (``{op.request}``); optional."
                )
            )
            body_arg = "request"
    if op.query is not None:
        model = f"_models.{op.query}"
        if op.query_required:
            required.append(Argument("query", model, doc=f"The query string (``{op.query}``)."))
        else:
            optional.append(
                Argument(
                    "query",
                    f"{model} | None",
                    "None",
                    f"The query string (``{op.query}``); optional.",
                )
            )
    token = Argument(
        "session_token",
        "str | None",
        "None",
        "A session token for this call only (default: the client's).",
    )
    if token_only:
        # The token is the one credential this operation takes: positional,
        # as in `start_session(token)`.
        optional.insert(0, token)
    elif accepts_token:
        keyword_only.append(token)
    keyword_only.append(
        Argument(
            "timeout",
            "float | None",
            "None",
            "Seconds allowed for each attempt of this call (default: the client's).",
        )
    )
    signature = ["        self,"]
    signature += [_argument(a) for a in [*required, *optional]]
    signature += ["        *,"] + [_argument(a) for a in keyword_only]
    send = [
        f"            SPEC.operations[{_lit(op.operation_id)}],",
        f"            _models.{op.response},",
    ]
    if body_arg is not None:
        send.append(f"            body={body_arg},")
    if op.query is not None:
        send.append("            query=query,")
    if op.path_params:
        pairs = ", ".join(f"{_lit(p)}: {p}" for p in op.path_params)
        send.append(f"            path_params={{{pairs}}},")
    if accepts_token:
        send.append("            session_token=session_token,")
    send.append("            timeout=timeout,")
    return [
        f"    async def {op.operation_id}(",
        *signature,
        f"    ) -> ApiResult[{op.data_type}]:",
        *_docstring(api, op, [*required, *optional, *keyword_only]),
        *body_lines,
        "        envelope, status = await self._send(",
        *send,
        "        )",
        f"        return envelope_result({op.data_expr}, status, envelope)",
    ]


def _docstring(api: _Api, op: OperationInfo, arguments: list[Argument]) -> list[str]:
    summary = op.summary or op.operation_id.replace("_", " ").capitalize()
    if not summary.endswith("."):
        summary += "."
    indent = "        "
    lines = [f'{indent}"""{_doc_text(summary)}', ""]
    paragraphs = [op.description] if op.description else []
    paragraphs.append(
        f"``{op.method} {op.path}``, with {_credentials(api, op)}. "
        + (
            "Repeated after a server or connection error (safe to repeat)."
            if op.retry_safe
            else "Never repeated after a server or connection error (it may have succeeded)."
        )
    )
    for paragraph in paragraphs:
        lines += textwrap.wrap(
            _doc_text(paragraph), DOC_WIDTH, initial_indent=indent, subsequent_indent=indent
        )
        lines.append("")
    lines.append(f"{indent}Args:")
    for argument in arguments:
        lines += textwrap.wrap(
            _doc_text(f"{argument.name}: {argument.doc}"),
            DOC_WIDTH,
            initial_indent=indent + "    ",
            subsequent_indent=indent + "        ",
        )
    lines += ["", f"{indent}Returns:"]
    returned = (
        "The envelope, with ``data`` None (the answer carries none)."
        if op.data_type == "None"
        else f"The envelope's ``data`` (``{op.data_type.replace('_models.', '')}``) "
        "and the rest of the answer."
    )
    lines += textwrap.wrap(
        _doc_text(returned),
        DOC_WIDTH,
        initial_indent=indent + "    ",
        subsequent_indent=indent + "    ",
    )
    lines.append(f'{indent}"""')
    return lines


def _credentials(api: _Api, op: OperationInfo) -> str:
    if not op.security:
        return "no credentials"
    names = [
        " and ".join("a session token" if api.bearer(s) else "an API key" for s in alt)
        for alt in op.security
    ]
    return " or ".join(names)


def _argument(argument: Argument) -> str:
    default = "" if argument.default is None else f" = {argument.default}"
    return f"        {argument.name}: {argument.annotation}{default},"


def _doc_text(text: str) -> str:
    # Docstrings are plain (not raw) literals: keep backslashes and quotes inert.
    return " ".join(text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').split())


def _scheme(name: str, raw: dict[str, Any]) -> tuple[str, str]:
    if raw.get("type") == "apiKey" and raw.get("in") == "header":
        return "apiKey", str(raw["name"])
    if raw.get("type") == "http" and str(raw.get("scheme", "")).lower() == "bearer":
        return "bearer", "Authorization"
    raise OperationSchemaError(f"unsupported security scheme {name!r}: {raw}")


def _ref_name(node: Any, where: str) -> str:
    ref = node.get("$ref") if isinstance(node, dict) else None
    if not isinstance(ref, str) or not ref.startswith("#/components/schemas/"):
        raise OperationSchemaError(f"{where} must be a $ref to a components/schemas entry")
    return ref.rsplit("/", 1)[-1]


def _model_or_none(name: str | None) -> str:
    return "None" if name is None else f"_models.{name}"


def _tuple(items: list[str]) -> str:
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _lit(value: str) -> str:
    # JSON string syntax is valid Python and always uses double quotes.
    return json.dumps(value, ensure_ascii=False)


def _pascal(module: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[_\-]", module))
