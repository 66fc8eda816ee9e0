"""The avatar's state on the session, how `speak` ended, and the ping option.

Against the simulator as it behaves by default (the documented reports:
``agent.speak_started`` / ``_ended``, plus ``agent.state_updated``).
"""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest
from heygen_models import lite, realtime_alpha

from heygen_core.protocol.renamed_fields import agent_state
from heygen_core.realtime.events import SessionEvent
from heygen_core.session import AvatarSession
from heygen_core.simulator import Simulator
from tests.support.polling import eventually
from tests.support.profiles import sim_config

KEY = "sim-key"
RATE = 24_000


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (0.3 * np.sin(2 * math.pi * 220.0 * t) * 32767).astype(np.int16)


@pytest.mark.parametrize("dialect", ["lite", "realtime-alpha"])
async def test_the_avatar_state_follows_speech_and_reaches_the_event_stream(
    dialect: str, speech_profile: str
) -> None:
    async with Simulator(sim_config(connect_delay_seconds=0.1)) as sim:
        if dialect == "lite":
            session = AvatarSession.live_avatar(sandbox=True, api_key=KEY, base_url=sim.url)
        else:
            session = AvatarSession.interactive_avatar(
                avatar_id="Wayne_20240711", api_key=KEY, base_url=sim.url
            )
        assert session.avatar_state is None  # not open yet
        seen: list[SessionEvent] = []
        session.on_event(seen.append)
        async with session:
            result = await session.speak(tone(0.8), sample_rate=RATE, wait=False)
            await eventually(lambda: session.avatar_state == "talking")
            assert await asyncio.wait_for(result.finished(), 5) == ("ended",)
            await eventually(lambda: session.avatar_state == "idle")
            if dialect == "lite":
                # Live sessions report the end only as the state change; where
                # speak_ended is sent too, it wins the race.
                expected = "state_idle" if speech_profile == "live" else "speak_ended"
                assert result.ended_by == (expected,)
                states = [agent_state(e) for e in seen if isinstance(e, lite.AgentStateUpdated)]
            else:
                assert result.ended_by == ("state_idle",)
                states = [
                    e.status
                    for e in seen
                    if isinstance(e, realtime_alpha.AgentStatus) and isinstance(e.status, str)
                ]
            assert states[-2:] == ["talking", "idle"]
            assert all(u.confirmed for u in result.utterances)


async def test_pings_are_off_unless_asked_for() -> None:
    async with Simulator(sim_config(connect_delay_seconds=0.1)) as sim:
        async with AvatarSession.live_avatar(sandbox=True, api_key=KEY, base_url=sim.url) as off:
            ws = off.connection._ws
            assert ws is not None and ws.ping_interval is None
        on = AvatarSession.live_avatar(sandbox=True, api_key=KEY, base_url=sim.url, ping_interval=7)
        async with on:
            ws = on.connection._ws
            assert ws is not None and ws.ping_interval == 7
