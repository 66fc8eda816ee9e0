"""`OperationCaller`: the base the generated operation classes build their methods on.

codegen writes one class per REST schema (``heygen_models.<api>_operations``)
with one typed method per operation; each method hands its `Operation` and
arguments to `_send`, which `RestClient` implements over HTTP.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar, TypeVar

from pydantic import BaseModel

from heygen_core.rest.spec import ApiSpec, Operation

E = TypeVar("E", bound=BaseModel)


class OperationCaller(ABC):
    """Sends the operations of one API; the generated subclasses add a method per operation.

    Attributes:
        spec: The API's operation table (set by the generated subclass).
    """

    spec: ClassVar[ApiSpec]

    @abstractmethod
    async def _send(
        self,
        operation: Operation,
        expect: type[E],
        *,
        body: BaseModel | None = None,
        query: BaseModel | None = None,
        path_params: Mapping[str, str] | None = None,
        session_token: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109  (per attempt, see RestClient.call)
    ) -> tuple[E, int]:
        """Send `operation` and return its success body, decoded as `expect`, and HTTP status."""
