"""Underrun accounting of the simulated avatar's playback (`Simulator.playback_underruns`).

An underrun is audio arriving for the utterance being played after what it
had was played out (beyond a 10 ms tolerance): the avatar stalled. The scale
benchmark reads it as the authoritative figure, so it must count exactly
those, with the gap, and nothing for audio sent in time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from websockets.asyncio.client import connect

from heygen_core.simulator import Simulator, SimulatorConfig
from tests.simulator.test_simulator_ws import Client, lite_session, pcm, speak, speak_end

DELAY = 0.05  # connect_delay_seconds


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(SimulatorConfig(connect_delay_seconds=DELAY)) as simulator:
        yield simulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_prompt_chunks_cause_no_underrun(sim: Simulator, http: aiohttp.ClientSession) -> None:
    session_id, url = await lite_session(sim, http)
    assert url is not None
    async with connect(url, proxy=None) as ws:
        c = Client(ws)
        await c.connected()
        # A 0.4 s first chunk, then the next one 0.2 s later (well before it ran out).
        await ws.send(speak("u1", pcm(0.4)))
        await asyncio.sleep(0.2)
        await ws.send(speak("u1", pcm(0.3)))
        await ws.send(speak_end("u1"))
        await c.expect("agent.audio_buffer_committed")
        await asyncio.sleep(0.6)  # played out: an ended utterance is no underrun
        # A new utterance after a pause is not an underrun either.
        await ws.send(speak("u2", pcm(0.1)))
        await ws.send(speak_end("u2"))
        await c.expect("agent.audio_buffer_committed")
    underruns = sim.playback_underruns()
    assert underruns.count == 0
    assert underruns.per_session == {}
    assert underruns.max_gap_seconds == 0.0
    assert session_id  # the session existed and played


async def test_late_chunk_is_one_underrun_with_its_gap(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    session_id, url = await lite_session(sim, http)
    assert url is not None
    async with connect(url, proxy=None) as ws:
        c = Client(ws)
        await c.connected()
        await ws.send(speak("u1", pcm(0.4)))
        await asyncio.sleep(0.6)  # the 0.4 s ran out about 0.2 s ago
        await ws.send(speak("u1", pcm(0.4)))
        await ws.send(speak_end("u1"))
        await c.expect("agent.audio_buffer_committed")
        # The simulator's clock: the late chunk's arrival, against when the first was played out.
        events = sim.client_events(session_id)
        speaks = [at for at, kind, _ in events if kind == "agent.speak"]
    underruns = sim.playback_underruns()
    assert underruns.count == 1
    assert underruns.per_session == {session_id: 1}
    expected_gap = speaks[1] - (speaks[0] + 0.4)
    assert underruns.max_gap_seconds == pytest.approx(expected_gap, abs=0.02)
    assert 0.15 <= underruns.max_gap_seconds <= 0.4
    assert underruns.total_gap_seconds == pytest.approx(underruns.max_gap_seconds)
