"""Start-up storms are smoothed: `StartupLimits` caps concurrent set-ups and lead bursts per loop.

Against the in-process simulator. The set-up cap is seen from the simulator's
side (create requests received against sockets opened), the lead-burst cap
from when each session's chunks arrived; a speak waiting for a burst slot
that is interrupted, closed or cancelled sends nothing, ends, and leaves no
slot behind.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Iterator

import numpy as np
import pytest

from heygen_core import StartupLimits as TopLevelStartupLimits
from heygen_core._slot_gate import SlotGate
from heygen_core.audio.pump import PumpConfig
from heygen_core.errors import SessionError
from heygen_core.session import AvatarSession, StartupLimits, set_startup_limits, startup_limits
from heygen_core.session.startup import lead_gate
from heygen_core.simulator import Simulator
from tests.support.profiles import sim_config

RATE = 24_000
BPS = 48_000  # bytes per second of 24 kHz PCM16
LEAD = 1.0  # lead_seconds: a 0.4 s first chunk, then a 1 s one, and the lead is out


def tone(seconds: float) -> bytes:
    t = np.arange(int(RATE * seconds)) / RATE
    return (0.3 * np.sin(2 * math.pi * 220.0 * t) * 32767).astype("<i2").tobytes()


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(sim_config(connect_delay_seconds=0.05)) as simulator:
        yield simulator


@pytest.fixture
def limits() -> Iterator[None]:
    """Each test sets its own limits; the process default comes back after it."""
    before = startup_limits()
    yield
    set_startup_limits(before)


def session_for(sim: Simulator, key: str, *, timeout: float = 10.0) -> AvatarSession:
    pump = PumpConfig(lead_seconds=LEAD, end_gap_seconds=3.0, completion_margin_seconds=1.0)
    return AvatarSession.live_avatar(
        sandbox=True,
        api_key=key,  # each its own account: the per-account session cap stays out of it
        base_url=sim.url,
        pump=pump,
        timeout=timeout,
        session_record=None,
    )


def speak_times(sim: Simulator, session_id: str | None) -> list[float]:
    assert session_id is not None
    return [at for at, kind, _ in sim.client_events(session_id) if kind == "agent.speak"]


async def slow_lead(first_pause: float) -> AsyncIterator[bytes]:
    """A stream that delivers its lead slowly: 0.4 s, a pause, then 1 s and the rest."""
    yield tone(0.4)
    await asyncio.sleep(first_pause)
    yield tone(1.0)
    yield tone(0.4)


# ------------------------------------------------------------------------- limits


def test_limits_are_validated_and_exported() -> None:
    assert TopLevelStartupLimits is StartupLimits
    for bad in (
        {"max_concurrent_setups": 0},
        {"max_concurrent_lead_bursts": 0},
        {"max_concurrent_setups": True},
        {"lead_burst_hold_seconds": 0},
        {"max_concurrent_setups": 2.5},
    ):
        with pytest.raises(ValueError):
            StartupLimits(**bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        set_startup_limits({"max_concurrent_setups": 1})  # type: ignore[arg-type]


# ------------------------------------------------------------------------- set-ups


@pytest.mark.one_profile
async def test_no_more_set_ups_in_flight_than_the_cap(sim: Simulator, limits: None) -> None:
    cap, count = 2, 6
    set_startup_limits(StartupLimits(max_concurrent_setups=cap))
    # Each create is answered 0.2 s late: set-ups overlap unless the gate spaces them.
    sim.inject("create_session_token", *[("delay", 0.2)] * count)
    sessions = [session_for(sim, f"setup-key-{i}") for i in range(count)]
    in_flight: list[int] = []

    async def watch() -> None:
        # Created but not yet on its socket: a set-up the gate let through.
        while True:
            creates = sim.requests_by_operation["create_session_token"]
            in_flight.append(creates - sim.open_websockets())
            await asyncio.sleep(0.005)

    watcher = asyncio.create_task(watch())
    try:
        await asyncio.wait_for(asyncio.gather(*(s.open() for s in sessions)), 5)
    finally:
        watcher.cancel()
        for session in sessions:
            await session.aclose()
    assert max(in_flight) == cap, in_flight


@pytest.mark.one_profile
async def test_a_set_up_that_waits_past_its_timeout_says_which_limit_to_raise(
    sim: Simulator, limits: None
) -> None:
    set_startup_limits(StartupLimits(max_concurrent_setups=1))
    sim.inject("create_session_token", ("delay", 1.0))
    first = session_for(sim, "slow-key")
    second = session_for(sim, "late-key", timeout=0.3)
    opening = asyncio.create_task(first.open())
    await asyncio.sleep(0.05)  # the first holds the only slot
    try:
        with pytest.raises(SessionError, match=r"max_concurrent_setups=1\)") as caught:
            await second.open()
        message = str(caught.value)
        assert "1 sessions of this process are setting up" in message
        assert "set_startup_limits" in message and "timeout=" in message
        assert not second.may_have_created  # nothing was sent for it
        await opening
    finally:
        await second.aclose()
        await first.aclose()


# ------------------------------------------------------------------------- lead bursts


async def test_a_second_lead_waits_until_the_first_is_on_the_wire(
    sim: Simulator, limits: None
) -> None:
    set_startup_limits(StartupLimits(max_concurrent_lead_bursts=1, lead_burst_hold_seconds=5.0))
    async with session_for(sim, "lead-a") as a, session_for(sim, "lead-b") as b:
        first = await a.speak(slow_lead(0.3), sample_rate=RATE, wait=False)
        await asyncio.sleep(0.1)  # a's first chunk is out; its lead is not
        second = await b.speak(tone(1.4), sample_rate=RATE, wait=False)
        await asyncio.wait_for(asyncio.gather(first.finished(), second.finished()), 8)
        a_times, b_times = speak_times(sim, a.session_id), speak_times(sim, b.session_id)
    # a's lead is its first two chunks (0.4 s + 1 s >= LEAD): b's first comes after both.
    assert len(a_times) >= 2 and b_times
    assert b_times[0] > a_times[1], (a_times, b_times)
    assert b_times[0] - a_times[0] >= 0.25


async def test_a_slow_lead_holds_its_slot_no_longer_than_the_hold_bound(
    sim: Simulator, limits: None
) -> None:
    hold = 0.3
    set_startup_limits(StartupLimits(max_concurrent_lead_bursts=1, lead_burst_hold_seconds=hold))
    async with session_for(sim, "hold-a") as a, session_for(sim, "hold-b") as b:
        first = await a.speak(slow_lead(1.2), sample_rate=RATE, wait=False)
        await asyncio.sleep(0.1)
        second = await b.speak(tone(1.4), sample_rate=RATE, wait=False)
        await asyncio.wait_for(asyncio.gather(first.finished(), second.finished()), 8)
        a_times, b_times = speak_times(sim, a.session_id), speak_times(sim, b.session_id)
    # b went once a's slot ran out (about `hold` after a's first chunk), not after a's lead.
    assert b_times[0] < a_times[1], (a_times, b_times)
    assert hold - 0.05 <= b_times[0] - a_times[0] <= hold + 0.3


async def _held_by_a_slow_lead(sim: Simulator, a: AvatarSession) -> None:
    await a.speak(slow_lead(1.0), sample_rate=RATE, wait=False)
    await asyncio.sleep(0.1)
    assert lead_gate().held == 1


async def test_an_interrupt_while_waiting_for_a_burst_slot_sends_nothing(
    sim: Simulator, limits: None
) -> None:
    set_startup_limits(StartupLimits(max_concurrent_lead_bursts=1, lead_burst_hold_seconds=5.0))
    async with session_for(sim, "intr-a") as a, session_for(sim, "intr-b") as b:
        await _held_by_a_slow_lead(sim, a)
        waiting = await b.speak(tone(1.4), sample_rate=RATE, wait=False)
        await asyncio.sleep(0.1)
        assert lead_gate().waiting == 1
        await b.interrupt()
        # At once, not when a's lead frees the slot (about 0.8 s later).
        assert await asyncio.wait_for(waiting.finished(), 0.4) == ("interrupted",)
        assert waiting.utterances[0].ended_by == "nothing_to_play"
        assert lead_gate().waiting == 0  # the wait ended with the interrupt
        await asyncio.sleep(1.2)  # a's lead goes out and frees the slot: b still sends nothing
        assert speak_times(sim, b.session_id) == []
        assert lead_gate().held == 0
        # b is still usable, and gets a slot at once.
        again = await b.speak(tone(0.4), sample_rate=RATE, wait=False)
        assert await asyncio.wait_for(again.finished(), 5) == ("ended",)
        assert lead_gate().held == 0  # a short utterance gives its slot back as it ends


@pytest.mark.one_profile
async def test_closing_while_waiting_for_a_burst_slot_sends_nothing_and_ends_it(
    sim: Simulator, limits: None
) -> None:
    set_startup_limits(StartupLimits(max_concurrent_lead_bursts=1, lead_burst_hold_seconds=5.0))
    async with session_for(sim, "close-a") as a:
        await _held_by_a_slow_lead(sim, a)
        b = session_for(sim, "close-b")
        await b.open()
        waiting = await b.speak(tone(1.4), sample_rate=RATE, wait=False)
        await asyncio.sleep(0.1)
        await b.aclose()
        assert await asyncio.wait_for(waiting.finished(), 1) == ("lost",)
        assert waiting.utterances[0].ended_by == "client_closed"
        assert lead_gate().waiting == 0
        assert speak_times(sim, b.session_id) == []


@pytest.mark.one_profile
async def test_a_drop_while_waiting_for_a_burst_slot_sends_nothing_and_ends_it(
    sim: Simulator, limits: None
) -> None:
    set_startup_limits(StartupLimits(max_concurrent_lead_bursts=1, lead_burst_hold_seconds=5.0))
    async with session_for(sim, "drop-a") as a, session_for(sim, "drop-b") as b:
        await _held_by_a_slow_lead(sim, a)
        waiting = await b.speak(tone(1.4), sample_rate=RATE, wait=False)
        await asyncio.sleep(0.1)
        assert b.session_id is not None and sim.drop_websocket(b.session_id)
        # At once, not when a's lead frees the slot (about 0.8 s later).
        assert await asyncio.wait_for(waiting.finished(), 0.4) == ("lost",)
        assert waiting.utterances[0].ended_by == "connection_lost"
        assert lead_gate().waiting == 0
        await asyncio.sleep(1.2)  # b reconnected, a's lead is out: b still sent nothing of it
        assert speak_times(sim, b.session_id) == []
        assert lead_gate().held == 0


@pytest.mark.one_profile
async def test_cancelling_a_speak_waiting_for_a_burst_slot_leaks_no_slot(
    sim: Simulator, limits: None
) -> None:
    set_startup_limits(StartupLimits(max_concurrent_lead_bursts=1, lead_burst_hold_seconds=5.0))
    async with session_for(sim, "cancel-a") as a, session_for(sim, "cancel-b") as b:
        await _held_by_a_slow_lead(sim, a)
        task = asyncio.create_task(b.speak(tone(1.4), sample_rate=RATE))
        await asyncio.sleep(0.1)
        assert lead_gate().waiting == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert lead_gate().waiting == 0
        await asyncio.sleep(1.2)  # a's lead is out
        assert lead_gate().held == 0
        assert speak_times(sim, b.session_id) == []
        again = await b.speak(tone(0.4), sample_rate=RATE, wait=False)
        assert await asyncio.wait_for(again.finished(), 5) == ("ended",)
        assert lead_gate().held == 0  # a short utterance gives its slot back as it ends


async def test_a_slot_granted_to_a_wait_cancelled_at_that_moment_goes_back() -> None:
    gate = SlotGate(1, hold_seconds=10.0)
    held = await gate.acquire()
    assert held is not None
    waiter = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)  # it waits
    held.release()  # the slot is handed to the waiter...
    waiter.cancel()  # ...which is cancelled before it could run
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert gate.held == 0 and gate.waiting == 0
    held.release()  # idempotent: a second release frees nothing more
    assert gate.held == 0
    again = await asyncio.wait_for(gate.acquire(), 0.5)
    assert again is not None and gate.held == 1
    again.release()
