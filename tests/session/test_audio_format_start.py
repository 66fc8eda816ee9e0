"""LITE's ``start`` frame (`send_audio_format`): first on every socket, and only when asked."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import numpy as np
import pytest
from heygen_models import lite

from heygen_core.realtime.events import Reconnected, SessionEvent
from heygen_core.rest.retry import RetryPolicy
from heygen_core.session import AvatarSession
from heygen_core.session._lite_driver import audio_format_frame
from heygen_core.simulator import Simulator
from tests.support.profiles import sim_config

KEY = "sim-key"
RATE = 24_000


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (0.3 * np.sin(2 * math.pi * 220.0 * t) * 32767).astype(np.int16)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(sim_config(connect_delay_seconds=0.3)) as simulator:
        yield simulator


def first_events_per_socket(sim: Simulator, session_id: str) -> list[list[str]]:
    """The types of the client events each socket sent once ready, one list per socket.

    A socket is ready at its ``session.state_updated: connected``; what a
    client sends after that, until the next socket's, is that socket's.
    """
    ready_at = [
        when
        for when, kind, wire in sim.server_events(session_id)
        if kind == "session.state_updated" and wire.get("state") == "connected"
    ]
    sockets: list[list[str]] = [[] for _ in ready_at]
    for when, kind, _ in sim.client_events(session_id):
        index = sum(1 for t in ready_at if t <= when) - 1
        if index >= 0:
            sockets[index].append(kind)
    return sockets


def test_the_frame_is_the_schemas_fixed_format() -> None:
    frame = audio_format_frame()
    assert isinstance(frame, lite.AudioFormatStart)
    wire = frame.model_dump(mode="json", exclude_unset=True)
    assert wire == {"type": "start", "encoding": "pcm_s16le", "sample_rate": 24000, "channels": 1}


@pytest.mark.parametrize("send_audio_format", [True, False])
async def test_the_start_frame_comes_first_only_when_asked(
    sim: Simulator, send_audio_format: bool
) -> None:
    session = AvatarSession.live_avatar(
        sandbox=True, api_key=KEY, base_url=sim.url, send_audio_format=send_audio_format
    )
    async with session:
        sid = session.session_id
        assert sid is not None
        result = await session.speak(tone(0.3), sample_rate=RATE)
        assert await result.finished() == ("ended",)
    events = sim.client_events(sid)
    kinds = [kind for _, kind, _ in events]
    assert "agent.speak" in kinds
    if send_audio_format:
        assert kinds[0] == "start" and kinds.count("start") == 1
        assert {k: v for k, v in events[0][2].items() if k != "event_id"} == {
            "type": "start",
            "encoding": "pcm_s16le",
            "sample_rate": 24000,
            "channels": 1,
        }
        assert sim.dropped_before_ready == 0  # sent once ready, not lost to the gate
    else:
        assert "start" not in kinds


async def test_a_reconnected_socket_gets_the_start_frame_again(sim: Simulator) -> None:
    seen: list[SessionEvent] = []
    session = AvatarSession.live_avatar(
        sandbox=True,
        api_key=KEY,
        base_url=sim.url,
        send_audio_format=True,
        reconnect=RetryPolicy(max_attempts=4, base_delay=0.05, max_delay=0.1),
    )
    session.on_event(seen.append)
    async with session:
        sid = session.session_id
        assert sid is not None
        await session.speak(tone(0.3), sample_rate=RATE)
        assert sim.drop_websocket(sid)
        for _ in range(100):
            if any(isinstance(e, Reconnected) for e in seen) and session.connection.is_ready:
                break
            await asyncio.sleep(0.05)
        assert any(isinstance(e, Reconnected) for e in seen)
        result = await session.speak(tone(0.3), sample_rate=RATE)
        assert await result.finished() == ("ended",)
    sockets = first_events_per_socket(sim, sid)
    assert len(sockets) == 2
    for sent in sockets:
        assert sent[0] == "start" and sent.count("start") == 1
        assert "agent.speak" in sent
