"""Schema lint: the rules of schemas/README.md that a generator cannot enforce.

Usage: python codegen/lint_schemas.py [SCHEMAS_DIR]

Fails (exit 1, one line per problem) when:
- an event lacks a const tag, examples, or a place in its direction's union;
- a union is not a discriminated oneOf of $refs, or its mapping disagrees
  with the variants' tags;
- an operation lacks an operationId, security, a typed ($ref) request body
  or query object, or a typed ($ref) response;
- an object does not state additionalProperties, what the client sends is
  open, what the service sends is closed, or an object is inline;
- an example does not validate against its schema.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from model_base import CREDENTIAL_WORDS  # noqa: E402  (codegen/ is on sys.path: a script)

from heygen_core.protocol.schemas import SchemaDocument  # noqa: E402  (after the path tweak)

BODY_METHODS = {"post", "put", "patch"}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
UNIONS = {"ClientEvent": "client", "ServerEvent": "server"}


# Property names that may hold a credential (rule 10 of schemas/README.md): those
# ending in a word of the one credential-name rule (codegen/model_base.py).
CREDENTIAL_NAME = re.compile(rf"(^|_)({'|'.join(CREDENTIAL_WORDS)})$")


def load(schemas_dir: Path) -> list[tuple[Path, SchemaDocument]]:
    docs = []
    for path in sorted((schemas_dir / "rest").glob("*.openapi.yaml")):
        module = path.name[: -len(".openapi.yaml")].replace("-", "_")
        docs.append((path, SchemaDocument(module, "openapi", yaml.safe_load(path.read_text()))))
    for path in sorted((schemas_dir / "realtime").glob("*.schema.json")):
        module = path.name[: -len(".schema.json")].replace("-", "_")
        docs.append((path, SchemaDocument(module, "realtime", json.loads(path.read_text()))))
    return docs


def ref_name(node: Any) -> str | None:
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        return str(node["$ref"]).rsplit("/", 1)[-1]
    return None


def refs_in(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        name = ref_name(node)
        if name:
            yield name
        for value in node.values():
            yield from refs_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs_in(item)


def reachable(defs: dict[str, Any], roots: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        todo.extend(refs_in(defs[name]))
    return seen


# Keywords whose values are data, not sub-schemas.
DATA_KEYWORDS = {"examples", "default", "const", "enum", "discriminator", "required"}


def schema_nodes(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (path, sub-schema) for `node` and every schema nested in it."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key in DATA_KEYWORDS:
                continue
            if key == "properties" and isinstance(value, dict):
                for prop, sub in value.items():
                    yield from schema_nodes(sub, f"{path}.{prop}")
            elif isinstance(value, dict):
                yield from schema_nodes(value, f"{path}/{key}")
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    yield from schema_nodes(item, f"{path}/{key}[{i}]")


def is_object(node: dict[str, Any]) -> bool:
    return node.get("type") == "object" or "properties" in node


def check_common(doc: SchemaDocument, problems: list[str], where: str) -> None:
    defs = doc.defs
    for name, schema in defs.items():
        if not name.isidentifier() or not name[0].isupper():
            problems.append(f"{where}: type {name!r} is not a PascalCase identifier")
        # The envelope pattern adds `data` through an inline allOf part; that
        # part becomes the named type itself, so it is not an inline object.
        allowed = {f"{name}/allOf[{i}]" for i in range(len(schema.get("allOf", [])))}
        for path, node in schema_nodes(schema, name):
            if "title" in node:
                problems.append(f"{where}: {path}: 'title' renames generated classes; remove it")
            if path != name and path not in allowed and is_object(node):
                problems.append(f"{where}: {path}: inline object; make it a named type and $ref it")
        if schema.get("type") == "object" and "additionalProperties" not in schema:
            problems.append(f"{where}: {name}: object does not state additionalProperties")
        for part in schema.get("allOf", []):
            if part.get("type") == "object" and "additionalProperties" not in part:
                problems.append(f"{where}: {name}: allOf part does not state additionalProperties")
        if "oneOf" in schema:
            check_union(name, schema, defs, problems, where)
        for path, node in schema_nodes(schema, name):
            for prop, spec in node.get("properties", {}).items():
                # A new token field must not reach a repr by default: its
                # author decides, in the schema, whether it is a credential.
                if CREDENTIAL_NAME.search(prop) and "x-secret" not in spec:
                    problems.append(
                        f"{where}: {path}.{prop}: name suggests a credential; "
                        "state x-secret: true (hidden from reprs) or x-secret: false"
                    )
        for i, example in enumerate(schema.get("examples", [])):
            validator = jsonschema.Draft202012Validator(doc.json_schema(name))
            error = jsonschema.exceptions.best_match(validator.iter_errors(example))
            if error is not None:
                at = "/".join(str(p) for p in error.absolute_path) or "(root)"
                problems.append(f"{where}: {name}: example {i} is invalid at {at}: {error.message}")


def check_union(
    name: str, schema: dict[str, Any], defs: dict[str, Any], problems: list[str], where: str
) -> None:
    tag = schema.get("discriminator", {}).get("propertyName")
    if not tag:
        problems.append(f"{where}: {name}: oneOf without discriminator.propertyName")
        return
    mapping = schema["discriminator"].get("mapping", {})
    seen_tags: dict[str, str] = {}
    for variant in schema["oneOf"]:
        target = ref_name(variant)
        if target is None or target not in defs:
            problems.append(f"{where}: {name}: every oneOf member must $ref a named type")
            continue
        prop = defs[target].get("properties", {}).get(tag, {})
        if "const" not in prop:
            problems.append(f"{where}: {name}: {target}.{tag} is not a const tag")
            continue
        if tag not in defs[target].get("required", []):
            problems.append(f"{where}: {name}: {target} does not require its tag {tag!r}")
        if "default" in prop:
            problems.append(f"{where}: {name}: {target}.{tag} must not have a default")
        if prop["const"] in seen_tags:
            problems.append(
                f"{where}: {name}: tag {prop['const']!r} used by both "
                f"{seen_tags[prop['const']]} and {target}"
            )
        seen_tags[prop["const"]] = target
        mapped = mapping.get(prop["const"])
        if mapped is not None and ref_name({"$ref": mapped}) != target:
            problems.append(
                f"{where}: {name}: mapping for {prop['const']!r} points at {mapped}, not {target}"
            )
    if mapping and set(mapping) != set(seen_tags):
        problems.append(
            f"{where}: {name}: discriminator mapping keys differ from the variants' tags"
        )


def check_realtime(doc: SchemaDocument, problems: list[str], where: str) -> None:
    defs = doc.defs
    top_level = {"$schema", "$id", "$comment", "description", "$defs", "x-constants"}
    extra_keys = set(doc.document) - top_level
    if extra_keys:
        problems.append(f"{where}: only $defs belong at the top level, found {sorted(extra_keys)}")
    for name, constant in doc.document.get("x-constants", {}).items():
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name) or not isinstance(constant, dict):
            problems.append(f"{where}: x-constants: {name!r} must be UPPER_CASE with an object")
        elif not isinstance(constant.get("value"), str) or not constant.get("description"):
            problems.append(f"{where}: x-constants: {name} needs a string value and a description")
    tags: set[str] = set()
    members: dict[str, str] = {}
    for union, direction in UNIONS.items():
        if union not in defs:
            problems.append(f"{where}: missing $defs/{union}")
            continue
        tag = defs[union].get("discriminator", {}).get("propertyName")
        if tag:
            tags.add(tag)
        for variant in defs[union].get("oneOf", []):
            target = ref_name(variant)
            if target:
                if target in members:
                    problems.append(f"{where}: {target} is in both unions")
                members[target] = direction
    if len(tags) > 1:
        problems.append(f"{where}: the two unions use different tag fields {sorted(tags)}")
    referenced = {
        target for name, schema in defs.items() if name not in UNIONS for target in refs_in(schema)
    }
    for name, schema in defs.items():
        if name in UNIONS:
            continue
        props = schema.get("properties", {})
        const_tag = any("const" in props.get(t, {}) for t in tags)
        # An event is a union member, a type with a const tag, or a type
        # nothing refers to (an event someone forgot to put in a union).
        # Anything else is a shared sub-object such as Task or ErrorDetail.
        if name not in members and not const_tag and name in referenced:
            continue
        if not const_tag:
            problems.append(f"{where}: event {name} lacks a const tag")
        if not schema.get("examples"):
            problems.append(f"{where}: event {name} has no examples")
        if name not in members:
            problems.append(f"{where}: event {name} has no place in ClientEvent or ServerEvent")
            continue
        check_openness(
            defs, {name}, closed=members[name] == "client", problems=problems, where=where
        )


def check_openness(
    defs: dict[str, Any], roots: set[str], *, closed: bool, problems: list[str], where: str
) -> None:
    want = not closed
    for name in sorted(reachable(defs, roots)):
        schema = defs[name]
        if schema.get("x-passthrough"):
            # A deliberately opaque object the client relays without knowing
            # its shape (beta settings); the schema must say why.
            if not schema.get("description"):
                problems.append(f"{where}: {name}: x-passthrough needs a description saying why")
            continue
        parts = [schema] + [p for p in schema.get("allOf", []) if "$ref" not in p]
        for part in parts:
            extra = part.get("additionalProperties", want)
            if isinstance(extra, dict) and not part.get("properties"):
                continue  # a map (str -> typed value): its values are checked by schema
            if part.get("type") == "object" and extra is not want:
                side = "the client sends" if closed else "the service sends"
                problems.append(
                    f"{where}: {name} is what {side}: "
                    f"additionalProperties must be {str(want).lower()}"
                )


def check_openapi(doc: SchemaDocument, problems: list[str], where: str) -> None:
    defs = doc.defs
    request_roots: set[str] = set()
    response_roots: set[str] = set()
    operation_ids: set[str] = set()
    schemes = set(doc.document.get("components", {}).get("securitySchemes", {}))
    for path, item in doc.document.get("paths", {}).items():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            label = f"{where}: {method.upper()} {path}"
            op_id = op.get("operationId")
            if not op_id:
                problems.append(f"{label}: no operationId")
            elif op_id in operation_ids:
                problems.append(f"{label}: duplicate operationId {op_id}")
            operation_ids.add(op_id)
            if "security" not in op:
                problems.append(f"{label}: no security (use [] for none)")
            for requirement in op.get("security", []):
                for scheme in requirement:
                    if scheme not in schemes:
                        problems.append(f"{label}: unknown security scheme {scheme}")
            body = op.get("requestBody")
            # An operation the vendor documents as taking no body at all (POST
            # /v1/sessions/start) says so with `x-no-body: true`, so a body that
            # was merely forgotten is still caught.
            if method in BODY_METHODS and op.get("x-no-body") is True:
                if body is not None:
                    problems.append(f"{label}: x-no-body operation declares a requestBody")
            elif method in BODY_METHODS:
                schema = (body or {}).get("content", {}).get("application/json", {}).get("schema")
                if ref_name(schema) is None:
                    problems.append(f"{label}: no typed request body ($ref under application/json)")
                else:
                    request_roots.add(ref_name(schema) or "")
            for param in item.get("parameters", []) + op.get("parameters", []):
                if "$ref" in param:
                    shared = doc.document.get("components", {}).get("parameters", {})
                    param = shared.get(str(param["$ref"]).rsplit("/", 1)[-1], {})
                if param.get("in") == "query":
                    name = ref_name(param.get("schema"))
                    if name is None or param.get("style") != "form" or not param.get("explode"):
                        problems.append(
                            f"{label}: query parameters must be one form/explode $ref object"
                        )
                    else:
                        request_roots.add(name)
                elif "schema" not in param:
                    problems.append(f"{label}: parameter {param.get('name')} has no schema")
            ok = False
            for status, response in op.get("responses", {}).items():
                if "$ref" in response:
                    shared = doc.document.get("components", {}).get("responses", {})
                    response = shared.get(str(response["$ref"]).rsplit("/", 1)[-1], {})
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                name = ref_name(schema)
                if name is None:
                    problems.append(f"{label}: response {status} has no typed ($ref) schema")
                    continue
                response_roots.add(name)
                ok = ok or str(status).startswith("2")
            if not ok:
                problems.append(f"{label}: no typed 2xx response")
    for name in sorted(request_roots | response_roots):
        if name not in defs:
            problems.append(f"{where}: operations refer to missing type {name}")
        elif not defs[name].get("examples"):
            problems.append(f"{where}: body type {name} has no examples")
    check_openness(defs, request_roots, closed=True, problems=problems, where=where)
    check_openness(defs, response_roots, closed=False, problems=problems, where=where)


def lint(schemas_dir: Path) -> list[str]:
    problems: list[str] = []
    docs = load(schemas_dir)
    if not docs:
        problems.append(f"no schema files under {schemas_dir}")
    for path, doc in docs:
        where = (
            path.relative_to(schemas_dir.parent).as_posix()
            if path.is_relative_to(schemas_dir.parent)
            else str(path)
        )
        check_common(doc, problems, where)
        if doc.kind == "realtime":
            check_realtime(doc, problems, where)
        else:
            check_openapi(doc, problems, where)
    return problems


def main() -> int:
    schemas_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "schemas"
    problems = lint(schemas_dir)
    for problem in problems:
        print(problem)
    if problems:
        print(f"schema lint: {len(problems)} problem(s)")
        return 1
    print(f"schema lint: {len(load(schemas_dir))} schema files clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
