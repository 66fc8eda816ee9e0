"""Reprs that show every secret (session tokens, JWTs, credentials) as ``<redacted>``."""

from __future__ import annotations

import re

from pydantic import MISSING, BaseModel

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
