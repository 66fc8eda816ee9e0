"""Fan-out of a session's events to async iterators and callbacks."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

logger = logging.getLogger("heygen_core.events")

T = TypeVar("T")


class EventHub(Generic[T]):
    """Delivers every event to each iterator (from its creation on) and each callback."""

    def __init__(self) -> None:
        self._subscribers: list[asyncio.Queue[T | None]] = []
        self._callbacks: list[Callable[[T], Awaitable[None] | None]] = []
        self._finished = False

    @property
    def finished(self) -> bool:
        """Whether `finish()` was called (iterators have ended)."""
        return self._finished

    def subscribe(self) -> AsyncIterator[T]:
        """Yield every event from this call on, until `finish()`.

        The subscription starts at the call, not at the first iteration, so
        nothing arriving in between is missed.
        """
        queue: asyncio.Queue[T | None] = asyncio.Queue()
        self._subscribers.append(queue)
        if self._finished:
            queue.put_nowait(None)
        return self._iterate(queue)

    async def _iterate(self, queue: asyncio.Queue[T | None]) -> AsyncIterator[T]:
        try:
            while True:
                item = await queue.get()
                if item is None:
                    return
                yield item
        finally:
            self._subscribers.remove(queue)

    def on(self, callback: Callable[[T], Awaitable[None] | None]) -> None:
        """Call `callback` with every event (a plain or an async function)."""
        self._callbacks.append(callback)

    async def emit(self, event: T) -> None:
        """Queue `event` for every iterator, then run the callbacks in order."""
        for queue in self._subscribers:
            queue.put_nowait(event)
        for callback in self._callbacks:
            try:
                result = callback(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                # A user's callback must not take the session down with it.
                logger.exception("event callback %r failed", callback)

    def finish(self) -> None:
        """End every iterator (idempotent)."""
        if self._finished:
            return
        self._finished = True
        for queue in self._subscribers:
            queue.put_nowait(None)
