"""The REST operations of each API, from the operation tables codegen writes.

Nothing here knows a URL, a method or an auth header of its own: codegen
writes each API's table (``heygen_models.<api>_operations.SPEC``) from its
OpenAPI document, and the clients and the simulator read it, so a schema
change reaches both through `make generate`.
"""

from __future__ import annotations

import importlib

from heygen_core.rest.spec import ApiName, ApiSpec, Operation, SecurityScheme

__all__ = ["ApiName", "ApiSpec", "Operation", "SecurityScheme", "api_spec"]


def api_spec(name: ApiName) -> ApiSpec:
    """Return the operation table of API `name` (``liveavatar`` or ``streaming``)."""
    # By name, so an API whose schema is added under schemas/rest/ needs no
    # edit here; the generated module imports only heygen_core.rest's runtime
    # types, never this module, so there is no cycle.
    spec = importlib.import_module(f"heygen_models.{name}_operations").SPEC
    if not isinstance(spec, ApiSpec):
        raise TypeError(f"heygen_models.{name}_operations.SPEC is not an ApiSpec")
    return spec
