"""The base class of every generated model, and the credential-name rule.

codegen/generate.py copies this file into the generated package as
``heygen_models.base`` and makes every generated object model a subclass of
`SchemaModel`. It is the one definition of which names hold a credential:
the schema lint (codegen/lint_schemas.py) and ``heygen_core.rest.redaction``
import `CREDENTIAL_WORDS`, `SECRET_NAME` and `REDACTED` from here (the lint
from this file, the library from the generated copy, which
``make check-generated`` keeps identical).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, Final

from pydantic import MISSING, BaseModel, RootModel

REDACTED: Final = "<redacted>"
"""What a repr shows in place of a secret."""

CREDENTIAL_WORDS: Final = ("token", "secret", "password", "credential", r"api[-_]?key", "jwt")
"""Regular expressions of the words that make a property name a credential's.

A schema property whose name ends in one of them must state ``x-secret``
(rule 10 of schemas/README.md); a field no schema declares is a secret when
its name contains one of them.
"""

SECRET_NAME: Final = re.compile("|".join(CREDENTIAL_WORDS), re.IGNORECASE)
"""Matches a field or key name that says it holds a credential (``session_token``, ``api_key``).

Used for what the schema does not declare: an unknown field the service
adds, a dict key. A declared field is a secret when its schema says
``x-secret: true``, whatever its name.
"""


class SchemaModel(BaseModel):
    """The base of every generated object model: no credential in its repr or str.

    A field the schema marks ``x-secret`` is left out (codegen sets its
    ``repr`` to False). A field the schema does not declare (the services'
    events and answers accept unknown fields) whose name matches
    `SECRET_NAME` is shown as ``<redacted>``, and so is every such key of a
    dict, at any depth, in any field. A null stays visible: it holds no
    secret. Serialization is untouched: the value is still sent and
    received as usual.
    """

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        declared = type(self).__pydantic_fields__
        for name, value in super().__repr_args__():
            # Declared fields go by their schema (x-secret), not by their name.
            if (
                name is not None
                and name not in declared
                and value is not None
                and SECRET_NAME.search(name)
            ):
                yield name, _Shown(REDACTED)
            else:
                yield name, _shown(value)


class _Shown:
    """A value whose repr is the given text (pydantic's repr calls ``repr`` on each value)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _shown(value: object) -> object:
    """`value`, or a stand-in whose repr hides the credential-named keys in it."""
    if isinstance(value, (dict, list, tuple, RootModel)):
        return _Shown(_safe_repr(value))
    return value


def container_repr(value: object, item_repr: Callable[[object], str]) -> str | None:
    """``repr`` of a dict, list or tuple, each item shown by `item_repr`; None for anything else.

    The value of a credential-named dict key (`SECRET_NAME`) is shown as
    `REDACTED`, unless it is None or absent (``MISSING``): those hold no
    secret, and seeing which it is helps debugging. ``heygen_core.rest.redaction``
    walks containers with it too, with its own `item_repr`.
    """
    if isinstance(value, dict):
        entries = (
            f"{key!r}: "
            + (
                REDACTED
                if isinstance(key, str)
                and item is not None
                and item is not MISSING
                and SECRET_NAME.search(key)
                else item_repr(item)
            )
            for key, item in value.items()
        )
        return "{" + ", ".join(entries) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(item_repr(item) for item in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(item_repr(item) for item in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return None


def _safe_repr(value: object) -> str:
    """``repr(value)``, with the value of every credential-named dict key as ``<redacted>``."""
    shown = container_repr(value, _safe_repr)
    if shown is not None:
        return shown
    if isinstance(value, RootModel):
        # A root model (a union, a dict of settings) reprs as Name(root=...).
        return f"{type(value).__name__}(root={_safe_repr(value.root)})"
    # A generated model hides its own secrets; anything else is shown as is.
    return repr(value)
