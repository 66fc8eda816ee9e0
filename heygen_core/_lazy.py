"""Lazy, typed package exports: a module `__getattr__` and `__dir__` over a name table.

A package lists its exports twice, once as ``if TYPE_CHECKING:`` imports
(what mypy sees, so a misspelled import is an error) and once as a table of
name -> defining module (what runs). Only the run-time half lives here; the
package installs it under ``if not TYPE_CHECKING:`` so mypy never sees a
`__getattr__` that would make every name type-check.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    namespace: dict[str, Any], table: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """Return a module's `__getattr__` and `__dir__` that import `table`'s names on first use.

    Args:
        namespace: The package's ``globals()``: a name, once imported, is
            stored there so later lookups skip `__getattr__`.
        table: Each exported name and the module that defines it.
    """
    package = namespace["__name__"]

    def __getattr__(name: str) -> object:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *table})

    return __getattr__, __dir__
