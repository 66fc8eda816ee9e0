"""Reprs that show every secret (session tokens, JWTs, credentials) as ``<redacted>``."""

from __future__ import annotations

from typing import Any

from heygen_models.base import REDACTED, SECRET_NAME, SchemaModel, container_repr
from pydantic import MISSING, BaseModel, RootModel
from pydantic.fields import FieldInfo

__all__ = ["REDACTED", "redacted_repr", "redacted_wire"]

# REDACTED (what is shown in place of a secret) and SECRET_NAME (a field the
# schema does not declare, or a dict key, is a secret when its name says it
# holds a credential) are defined once, beside the generated models' base
# class, whose own repr applies the same rule (codegen/model_base.py).


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
        parts = []
        for name, info in model.model_fields.items():
            # Shown as present but redacted (the model's own repr hides it),
            # which helps debugging.
            secret = _secret_field(value, name, info)
            if not info.repr and not secret:
                continue
            # __dict__, not getattr: reading a deprecated field warns.
            parts.append(f"{name}={_redacted_item(value.__dict__.get(name), secret)}")
        for name, item in (value.__pydantic_extra__ or {}).items():
            parts.append(f"{name}={_redacted_item(item, _secret_name(name))}")
        return f"{model.__name__}({', '.join(parts)})"
    # Dicts, lists and tuples as the generated models' own repr walks them.
    shown = container_repr(value, redacted_repr)
    return repr(value) if shown is None else shown


def _redacted_item(value: object, secret: bool) -> str:
    # An absent field or a null holds no secret, and showing which it is helps debugging.
    if secret and value is not None and value is not MISSING:
        return REDACTED
    return redacted_repr(value)


def redacted_wire(model: BaseModel) -> Any:
    """Return `model`'s wire form (JSON-ready, set fields only) with every secret as ``<redacted>``.

    The same as ``model.model_dump(mode="json", by_alias=True,
    exclude_unset=True)``, for printing: a secret (by the rules of
    `redacted_repr`) is replaced by the string ``"<redacted>"``, at any depth;
    a null stays null. A model's form is a dict of wire names.
    """
    return _redacted_wire(model, model.model_dump(mode="json", by_alias=True, exclude_unset=True))


def _secret_field(model: BaseModel, name: str, info: FieldInfo) -> bool:
    # A generated model's declared field is a secret when its schema says
    # x-secret (codegen then sets repr=False); any other model's, by its name.
    return not info.repr if isinstance(model, SchemaModel) else _secret_name(name)


def _secret_name(name: object) -> bool:
    return isinstance(name, str) and SECRET_NAME.search(name) is not None


def _redacted_wire(value: object, dumped: object) -> object:
    """`dumped` (the wire form of `value`) with its secrets replaced.

    `value` is walked beside it to tell declared fields (and their
    ``x-secret``) from undeclared ones; where it is unknown (None) only the
    name rule applies.
    """
    if isinstance(value, RootModel):
        return _redacted_wire(value.root, dumped)
    if isinstance(dumped, dict):
        # Wire name -> (the value it came from, whether it is a secret).
        sources: dict[str, tuple[object, bool]] = {}
        if isinstance(value, BaseModel):
            for name, info in type(value).model_fields.items():
                key = info.serialization_alias or info.alias or name
                sources[key] = (value.__dict__.get(name), _secret_field(value, name, info))
            for key, item in (value.__pydantic_extra__ or {}).items():
                sources[key] = (item, _secret_name(key))
        elif isinstance(value, dict):
            sources = {key: (item, _secret_name(key)) for key, item in value.items()}
        out: dict[str, object] = {}
        for key, item in dumped.items():
            source, secret = sources.get(key, (None, _secret_name(key)))
            out[key] = REDACTED if secret and item is not None else _redacted_wire(source, item)
        return out
    if isinstance(dumped, list):
        pairs = (
            list(value) if isinstance(value, (list, tuple)) and len(value) == len(dumped) else []
        )
        return [_redacted_wire(pairs[i] if pairs else None, item) for i, item in enumerate(dumped)]
    return dumped
