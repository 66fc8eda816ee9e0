"""`EventHub`: an iterator's subscription starts at creation, and an abandoned one costs nothing.

Events are objects with weak references here, so the tests see whether the
hub still holds them, not how it stores them.
"""

from __future__ import annotations

import asyncio
import gc
import weakref

from heygen_core.realtime.hub import EventHub


class Event:
    """An event that can be watched for being freed."""

    def __init__(self, n: int) -> None:
        self.n = n


async def emit_watched(hub: EventHub[Event], count: int) -> list[weakref.ref[Event]]:
    refs = []
    for n in range(count):
        event = Event(n)
        refs.append(weakref.ref(event))
        await hub.emit(event)
    return refs


async def test_an_iterator_created_but_never_started_is_dropped_with_its_events() -> None:
    hub: EventHub[Event] = EventHub()
    hub.subscribe()  # created, never iterated, not kept
    refs = await emit_watched(hub, 10_000)
    gc.collect()
    assert sum(ref() is not None for ref in refs) == 0
    assert hub.subscribers == 0


async def test_an_iterator_abandoned_mid_iteration_is_dropped_with_its_events() -> None:
    hub: EventHub[Event] = EventHub()
    events = hub.subscribe()
    await hub.emit(Event(-1))
    assert (await anext(events)).n == -1
    del events  # left without aclose(): a `break` out of a loop that held it
    refs = await emit_watched(hub, 1_000)
    gc.collect()
    assert sum(ref() is not None for ref in refs) == 0
    assert hub.subscribers == 0


async def test_the_subscription_starts_when_the_iterator_is_made() -> None:
    hub: EventHub[Event] = EventHub()
    events = hub.subscribe()
    late = hub.subscribe()
    await hub.emit(Event(1))
    await hub.emit(Event(2))
    hub.finish()
    assert [e.n async for e in events] == [1, 2]  # made before, started after: all seen
    assert [e.n async for e in late] == [1, 2]
    assert [e async for e in hub.subscribe()] == []  # after finish: ends at once


async def test_a_kept_iterator_waits_for_events_and_aclose_ends_it() -> None:
    hub: EventHub[Event] = EventHub()
    events = hub.subscribe()
    waiting = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0)
    await hub.emit(Event(7))
    assert (await asyncio.wait_for(waiting, 1)).n == 7
    assert hub.subscribers == 1
    await events.aclose()  # type: ignore[attr-defined]
    assert hub.subscribers == 0
    refs = await emit_watched(hub, 10)
    gc.collect()
    assert all(ref() is None for ref in refs)
