"""Nothing of an utterance a `ConnectionLost` reported lost is ever sent afterwards.

The race: after a first drop, an utterance's first chunk passes the pump's
liveness check and waits at the ready gate of the reconnected socket. That
socket drops before it is ready, and the utterance is reported lost. When
the third socket becomes ready, the parked chunk must not go out on it: the
avatar would start an utterance whose end never comes.
"""

from __future__ import annotations

import asyncio
import math

import numpy as np
from heygen_models import liveavatar as la

from heygen_core.audio.pump import AudioPump, PumpConfig
from heygen_core.realtime.connection import RealtimeConnection, ReconnectPolicy
from heygen_core.realtime.events import ConnectionLost, Reconnected, SocketEvent
from heygen_core.rest.liveavatar_client import LiveAvatarClient
from heygen_core.session import SANDBOX_AVATAR_ID
from heygen_core.simulator import Simulator, SimulatorConfig
from tests.support.polling import eventually

KEY = "sim-key"
RATE = 24_000


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (0.3 * np.sin(2 * math.pi * 220.0 * t) * 32767).astype(np.int16)


async def test_a_chunk_parked_at_the_gate_when_its_socket_drops_is_never_sent() -> None:
    # `connected` comes 0.5 s after each socket opens: the gate stays shut that long.
    async with (
        Simulator(SimulatorConfig(connect_delay_seconds=0.5)) as sim,
        LiveAvatarClient(KEY, base_url=sim.url) as client,
    ):
        token = await client.create_session_token(
            la.LiteSessionTokenRequest(mode="LITE", avatar_id=SANDBOX_AVATAR_ID, is_sandbox=True)
        )
        sid = token.data.session_id
        started = await client.start_session(token.data.session_token)
        assert isinstance(started.data.ws_url, str)
        conn = RealtimeConnection(
            started.data.ws_url,
            keep_alive_interval=None,
            reconnect=ReconnectPolicy(base_delay=0.02, max_delay=0.05),
        )
        pump = AudioPump(conn, PumpConfig(completion_margin_seconds=0.5))
        seen: list[SocketEvent] = []
        conn.on_event(seen.append)
        try:
            await conn.connect()
            await asyncio.wait_for(conn.wait_ready(), 5)
            assert sim.drop_websocket(sid)
            await eventually(lambda: any(isinstance(e, ConnectionLost) for e in seen))
            # Sent now, it waits at the gate of the reconnected socket.
            (utterance,), task = pump.start_speaking(tone(1.0), sample_rate=RATE)
            await eventually(lambda: sim.websocket_opens(sid) == 2)
            await asyncio.sleep(0.1)
            assert utterance.status == "sending" and utterance.chunks == 0
            assert not conn.is_ready
            # The second drop, before that socket is ready: the utterance is lost.
            assert sim.drop_websocket(sid)
            assert await asyncio.wait_for(utterance.finished(), 3) == "lost"
            drops = [e for e in seen if isinstance(e, ConnectionLost)]
            assert len(drops) == 2 and drops[1].reconnecting
            assert drops[1].lost_event_ids == (utterance.event_id,)
            # The third socket becomes ready; give a parked chunk time to leave.
            await eventually(lambda: sum(isinstance(e, Reconnected) for e in seen) == 2)
            await eventually(lambda: conn.is_ready, within=3)
            await asyncio.wait_for(task, 2)
            await asyncio.sleep(0.3)
            sent = [e for e in sim.client_events(sid) if e[2].get("event_id")]
            assert all(e[2]["event_id"] != utterance.event_id for e in sent), sent
            assert sim.received_audio(sid) == b""
            assert conn.is_ready and not conn.is_closed
        finally:
            await conn.close()
            await client.stop_session(session_token=token.data.session_token)
