"""First come, first served: at most a few holders of a loop-local resource at once (`SlotGate`).

The start-up limits (`heygen_core.session.startup`) keep two per event loop:
one for sessions setting up, one for utterances sending their lead (the audio
pump takes a slot before an utterance's first chunk, and gives it back once
its lead is on the wire). Both need what `asyncio.Semaphore` lacks: a wait
that another future can end (an interrupt settles the utterance), a hold
bound after which a slot goes back by itself (a real-time stream delivers its
lead slowly, and must not keep others waiting for seconds), a limit that can
change while slots are held, and counts to report.

It imports nothing of the package: the audio and session layers both use it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

__all__ = ["Slot", "SlotGate"]


class Slot:
    """One held place in a `SlotGate`; `release` gives it back (idempotent).

    With a hold bound, it is also given back by itself once that has passed.
    """

    __slots__ = ("_gate", "_released", "_timer")

    def __init__(self, gate: SlotGate) -> None:
        self._gate = gate
        self._released = False
        self._timer: asyncio.TimerHandle | None = None

    @property
    def released(self) -> bool:
        """Whether the slot was given back (by `release` or at the hold bound)."""
        return self._released

    def release(self) -> None:
        """Give the place back to the gate; later calls do nothing."""
        if self._released:
            return
        self._released = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._gate._give_back()


class SlotGate:
    """Lets at most `limit` holders have a slot at once on one event loop, first come first served.

    Args:
        limit: Slots held at the same time (>= 1).
        hold_seconds: The longest one holder keeps its slot; past it the slot
            is given back by itself, even while its holder goes on (> 0).
            None: until released.

    Raises:
        ValueError: A limit below 1, or a hold bound not above 0.
    """

    def __init__(self, limit: int, hold_seconds: float | None = None) -> None:
        self._held = 0
        self._waiters: deque[asyncio.Future[Slot]] = deque()
        self.resize(limit, hold_seconds)

    def __repr__(self) -> str:
        return f"SlotGate(limit={self.limit}, held={self._held}, waiting={self.waiting})"

    @property
    def held(self) -> int:
        """Slots held now."""
        return self._held

    @property
    def waiting(self) -> int:
        """Holders waiting for a slot now."""
        return len(self._waiters)  # a waiter leaves it when granted or abandoned

    def resize(self, limit: int, hold_seconds: float | None = None) -> None:
        """Change the limit and the hold bound; slots held stay counted.

        Raises:
            ValueError: As the constructor.
        """
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        if hold_seconds is not None and not hold_seconds > 0:
            raise ValueError(f"hold_seconds must be > 0, got {hold_seconds}")
        self.limit = limit
        """Slots held at the same time."""
        self.hold_seconds = hold_seconds
        """The longest one holder keeps its slot (None: until released)."""
        self._fill()

    async def acquire(self, stop: asyncio.Future[Any] | None = None) -> Slot | None:
        """Wait for a slot and return it; None if `stop` completed first.

        `stop` is what ends the wait without a slot (the pump passes the
        utterance's outcome: an interrupt, a drop or a close settles it). A
        cancelled wait takes nothing: a slot granted at that very moment is
        given back.
        """
        if stop is not None and stop.done():
            return None
        if self._held < self.limit and not self._waiters:
            return self._grant()
        waiter: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            if stop is None:
                await asyncio.shield(waiter)
            else:
                await asyncio.wait((waiter, stop), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            self._abandon(waiter)
            raise
        if stop is not None and stop.done():
            self._abandon(waiter)  # stopped: even a slot granted meanwhile goes back
            return None
        return waiter.result()

    def _grant(self) -> Slot:
        self._held += 1
        slot = Slot(self)
        if self.hold_seconds is not None:
            slot._timer = asyncio.get_running_loop().call_later(self.hold_seconds, slot.release)
        return slot

    def _abandon(self, waiter: asyncio.Future[Slot]) -> None:
        if waiter.done() and not waiter.cancelled():
            waiter.result().release()  # granted as the wait ended: not used, so not kept
            return
        waiter.cancel()
        with contextlib.suppress(ValueError):  # already handed out, then cancelled
            self._waiters.remove(waiter)

    def _give_back(self) -> None:
        self._held -= 1
        self._fill()

    def _fill(self) -> None:
        # Hand the place straight to the oldest waiter still waiting.
        while self._waiters and self._held < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(self._grant())
