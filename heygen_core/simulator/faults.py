"""Fault injection: make the next calls of an operation fail, for retry tests.

``Simulator.inject("create_session_token", 503, "disconnect", ("delay", 2.0))``
queues three faults; the next three calls of that operation consume them in
order, and later calls are answered normally.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, TypeAlias

Fault: TypeAlias = int | Literal["disconnect"] | tuple[Literal["delay"], float]
"""One fault: an HTTP error status (400..599) answered with the API's error
body (429 with ``Retry-After``); ``"disconnect"``, closing the connection
without an answer; or ``("delay", seconds)``, answering normally but late."""


@dataclass(frozen=True)
class StatusFault:
    """Answer with this HTTP error status and the API's error body."""

    status: int


@dataclass(frozen=True)
class DisconnectFault:
    """Close the TCP connection without answering."""


@dataclass(frozen=True)
class DelayFault:
    """Handle the call normally, then hold the answer back for `seconds`.

    The call takes effect before the wait, as on a slow real service: a client
    that times out and retries has already created (or stopped) something.
    """

    seconds: float


ParsedFault: TypeAlias = StatusFault | DisconnectFault | DelayFault
"""A validated `Fault`."""


def parse_fault(fault: object) -> ParsedFault:
    """Validate one `Fault` as given to ``inject``.

    Raises:
        ValueError: Not a status in 400..599, ``"disconnect"``, or
            ``("delay", seconds >= 0)``.

    """
    if isinstance(fault, int) and not isinstance(fault, bool):
        if 400 <= fault <= 599:
            return StatusFault(fault)
        raise ValueError(f"a status fault must be an HTTP error status 400..599, got {fault}")
    if fault == "disconnect":
        return DisconnectFault()
    if (
        isinstance(fault, tuple)
        and len(fault) == 2
        and fault[0] == "delay"
        and isinstance(fault[1], int | float)
        and not isinstance(fault[1], bool)
        and fault[1] >= 0
    ):
        return DelayFault(float(fault[1]))
    raise ValueError(
        f"unknown fault {fault!r}: expected an HTTP status (e.g. 503), "
        '"disconnect", or ("delay", seconds)'
    )


class FaultQueue:
    """Faults waiting, per operation, for the next calls.

    Keys are operation ids. An id that both APIs use (``stop_session``,
    ``start_session``, ``list_sessions``) matches the next call of either;
    qualify it (``"liveavatar.stop_session"``, ``"streaming.stop_session"``)
    to pick one API. Safe to call from any thread.
    """

    def __init__(self, operations: Iterable[tuple[str, str]]) -> None:
        """Create an empty queue.

        Args:
            operations: Every ``(api, operation_id)`` that can be targeted;
                `inject` refuses others, so a typo fails loudly instead of
                queueing a fault that never fires.

        """
        self._known: set[str] = set()
        for api, operation_id in operations:
            self._known.add(operation_id)
            self._known.add(f"{api}.{operation_id}")
        self._queues: dict[str, deque[ParsedFault]] = {}
        self._lock = threading.Lock()

    def inject(self, operation_id: str, *faults: Fault) -> None:
        """Queue `faults` for the next calls of `operation_id`, in order.

        Raises:
            KeyError: No API has that operation.
            ValueError: A fault is not one of the `Fault` forms.

        """
        if operation_id not in self._known:
            raise KeyError(
                f"no operation {operation_id!r}; use an operationId of either API's schema, "
                "optionally qualified as 'liveavatar.<id>' or 'streaming.<id>'"
            )
        parsed = [parse_fault(fault) for fault in faults]
        with self._lock:
            self._queues.setdefault(operation_id, deque()).extend(parsed)

    def take(self, api: str, operation_id: str) -> ParsedFault | None:
        """Remove and return the next fault for a call of `api`'s `operation_id`, if any."""
        with self._lock:
            for key in (f"{api}.{operation_id}", operation_id):
                queue = self._queues.get(key)
                if queue:
                    return queue.popleft()
        return None

    def pending(self, operation_id: str | None = None) -> int:
        """Return how many faults are still queued (for one key, or in all)."""
        with self._lock:
            if operation_id is not None:
                return len(self._queues.get(operation_id, ()))
            return sum(len(queue) for queue in self._queues.values())

    def clear(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._queues.clear()
