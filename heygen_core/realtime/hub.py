"""Fan-out of a session's events to async iterators and callbacks.

An iterator holds its own queue, and the hub holds each iterator only
weakly: an iterator that is dropped, started or not, is garbage-collected
with its queue, and the hub stops queueing for it. An iterator kept but
never read keeps receiving (it was asked for every event from its
creation on); queues are not bounded, because dropping a user's events
silently would be worse than the memory a reader that is kept but never
reads costs.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

logger = logging.getLogger("heygen_core.events")

T = TypeVar("T")


class _Subscription(AsyncIterator[T]):
    """One iterator's queue; the hub refers to it weakly (see the module docstring)."""

    __slots__ = ("__weakref__", "_ended", "_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque[T] = deque()
        self._ended = False
        self._waiter: asyncio.Future[None] | None = None

    def _put(self, item: T) -> None:
        if not self._ended:
            self._items.append(item)
            self._wake()

    def _end(self) -> None:
        self._ended = True
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def __aiter__(self) -> _Subscription[T]:
        return self

    async def __anext__(self) -> T:
        while not self._items:
            if self._ended:
                raise StopAsyncIteration
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                if self._waiter is waiter:
                    self._waiter = None
        return self._items.popleft()

    async def aclose(self) -> None:
        """Stop receiving: what is queued is dropped and iteration ends."""
        self._items.clear()
        self._end()


class EventHub(Generic[T]):
    """Delivers every event to each iterator (from its creation on) and each callback."""

    def __init__(self) -> None:
        # Weak: an iterator its owner dropped must not keep queueing events.
        self._subscribers: list[weakref.ref[_Subscription[T]]] = []
        self._callbacks: list[Callable[[T], Awaitable[None] | None]] = []
        self._finished = False

    @property
    def finished(self) -> bool:
        """Whether `finish()` was called (iterators have ended)."""
        return self._finished

    @property
    def subscribers(self) -> int:
        """How many iterators are still receiving (dropped or closed ones do not count)."""
        self._prune()
        return len(self._subscribers)

    def subscribe(self) -> AsyncIterator[T]:
        """Yield every event from this call on, until `finish()`.

        The subscription starts at the call, not at the first iteration, so
        nothing arriving in between is missed. It ends when the iterator is
        closed (``aclose()``) or dropped: the hub keeps no reference to it.
        """
        subscription: _Subscription[T] = _Subscription()
        if self._finished:
            subscription._end()
        else:
            self._prune()
            self._subscribers.append(weakref.ref(subscription))
        return subscription

    def _prune(self) -> None:
        self._subscribers = [
            ref for ref in self._subscribers if (s := ref()) is not None and not s._ended
        ]

    def on(self, callback: Callable[[T], Awaitable[None] | None]) -> None:
        """Call `callback` with every event (a plain or an async function)."""
        self._callbacks.append(callback)

    async def emit(self, event: T) -> None:
        """Queue `event` for every iterator, then run the callbacks in order."""
        pruned = False
        for ref in self._subscribers:
            subscription = ref()
            if subscription is None or subscription._ended:
                pruned = True
                continue
            subscription._put(event)
        if pruned:
            self._prune()
        for callback in self._callbacks:
            try:
                result = callback(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                # A user's callback must not take the session down with it.
                logger.exception("event callback %r failed", callback)

    def finish(self) -> None:
        """End every iterator (idempotent); what they hold is still yielded first."""
        if self._finished:
            return
        self._finished = True
        for ref in self._subscribers:
            subscription = ref()
            if subscription is not None:
                subscription._end()
        self._subscribers.clear()
