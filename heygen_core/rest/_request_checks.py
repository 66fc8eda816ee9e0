"""Refuse, before sending, a request that breaks a schema constraint the models cannot check.

The generated models check types, required fields, enums and ranges; a
malformed uuid or two fields that must not be sent together is caught here
(`heygen_core.protocol.constraints`), so the caller gets an
`InvalidRequestError` naming the field instead of the service's 422.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, RootModel

from heygen_core.errors import InvalidRequestError
from heygen_core.protocol.constraints import ConstraintProblem, model_problems, path_problems
from heygen_core.rest.spec import Operation


def refuse_invalid(
    op: Operation,
    path_params: Mapping[str, str],
    query: BaseModel | None,
    query_wire: dict[str, Any],
    body: BaseModel | None,
    text: str | None,
) -> None:
    """Raise `InvalidRequestError` when the request breaks a uuid or exclusive-field constraint.

    Args:
        op: The operation about to be sent.
        path_params: Its path parameters.
        query: The query model, if any.
        query_wire: The query's wire JSON (what is sent).
        body: The body model, if any.
        text: The body's wire JSON text (what is sent).
    """
    found: list[tuple[str, str | None, ConstraintProblem]] = []
    for problem in path_problems(op.api, op, {k: str(v) for k, v in path_params.items()}):
        found.append(("path", op.path, problem))
    if query is not None:
        query_model = _schema_model(op, type(query), op.query_model)
        if query_model is not None:
            for problem in model_problems(op.api, query_model, query_wire):
                found.append(("query", query_model.__name__, problem))
    if body is not None and text is not None:
        # The member of a union, not the union: its fields are the ones the
        # caller set, without the tag pydantic puts first ("FULL.avatar_id").
        member: BaseModel = body
        while isinstance(member, RootModel) and isinstance(member.root, BaseModel):
            member = member.root
        model = _schema_model(op, type(member), op.request_model)
        if model is not None:
            for problem in model_problems(op.api, model, json.loads(text)):
                found.append(("body", model.__name__, problem))
    if not found:
        return
    where, message_type, first = found[0]
    raise InvalidRequestError(
        f"{op.operation_id} was not sent: "
        + "; ".join(_describe(op, problem) for _, _, problem in found),
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
    op: Operation, given: type[BaseModel], declared: type[BaseModel] | None
) -> type[BaseModel] | None:
    # Every model of the API's generated module is a type of its schema;
    # anything else is checked as the type the operation declares.
    if given.__module__ == op.response_model.__module__:
        return given
    return declared


def _describe(op: Operation, problem: ConstraintProblem) -> str:
    # Names the field and what to send; never the value sent (it may be a
    # secret pasted into the wrong place).
    text = problem.advice
    names = [part for part in problem.loc if isinstance(part, str)]
    sources = op.id_sources.get(names[-1], ()) if names else ()
    if problem.type == "uuid_parsing" and sources:
        text += f" (use the id from {' or '.join(sources)})"
    return f"{problem.field}: {text}" if problem.field else text
