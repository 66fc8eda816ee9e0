"""An idle session outlives media servers that stall WebSocket pongs (docs/protocol.md §7).

With the old defaults (a ping every 20 s, 20 s to answer) the socket would
have been closed with 1011 within 40 s and reconnected; with pings off, the
keep-alive and the service's own traffic carry liveness and nothing drops.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from heygen_core.realtime.events import ConnectionLost, Reconnected, SessionEvent
from heygen_core.session import AvatarSession
from heygen_core.simulator import Simulator
from tests.support.profiles import sim_config

KEY = "sim-key"
# Past the 40 s in which the old ping settings gave up; HEYGEN_STALL_SECONDS
# runs it for longer (several minutes) by hand.
IDLE_SECONDS = float(os.environ.get("HEYGEN_STALL_SECONDS", "45"))
KEEP_ALIVE_SECONDS = 5.0


@pytest.mark.slow
@pytest.mark.one_profile
async def test_an_idle_session_survives_stalled_pongs_without_reconnecting() -> None:
    config = sim_config(connect_delay_seconds=0.1, stall_pongs=True)
    async with Simulator(config) as sim:
        seen: list[SessionEvent] = []
        # Not a sandbox session: those end after a minute, by design.
        session = AvatarSession.live_avatar(
            sandbox=False, api_key=KEY, base_url=sim.url, keep_alive_interval=KEEP_ALIVE_SECONDS
        )
        session.on_event(seen.append)
        async with session:
            await asyncio.sleep(IDLE_SECONDS)
            assert not [e for e in seen if isinstance(e, ConnectionLost | Reconnected)]
            assert sim.open_websockets() == 1
            # The keep-alive really went out the whole time (the idle timer
            # is reset by it), and the socket still carries speech.
            assert (
                sim.events_by_type["session.keep_alive"] >= IDLE_SECONDS // KEEP_ALIVE_SECONDS - 1
            )
            result = await session.speak(b"\0\0" * 4_800, sample_rate=24_000)
            assert await result.finished() == ("ended",)
        assert session.stopped_cleanly and sim.open_sessions() == 0
