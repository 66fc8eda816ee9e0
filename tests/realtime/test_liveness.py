"""Liveness without WebSocket pings, and a 1011 close handled as a drop.

The service's media servers stall pongs, and HeyGen's own starter turns
pings off (docs/protocol.md §7). A real loopback server here stalls pongs
the same way: it stops reading its socket, so a ping is never answered,
while the client's own frames still go out. A second server closes with
1011 once, as the service does after a missed pong.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np
from heygen_models import lite
from websockets.asyncio.server import ServerConnection, serve
from websockets.frames import CloseCode
from websockets.protocol import State

from heygen_core.audio.pump import AudioPump, PumpConfig
from heygen_core.realtime.connection import RealtimeConnection
from heygen_core.realtime.events import ConnectionLost, Reconnected, SocketEvent
from heygen_core.rest.retry import RetryPolicy
from tests.support.polling import eventually

CONNECTED = json.dumps({"type": "session.state_updated", "state": "connected"})


@asynccontextmanager
async def stalling_server() -> AsyncIterator[tuple[str, asyncio.Event]]:
    """A server that says ready, then reads nothing until the event is set.

    With max_queue=1, one unread client frame makes it stop reading its
    socket, so later pings are never seen and never answered; once released
    it reads again (answering the close handshake, so the test ends fast).
    """
    release = asyncio.Event()

    async def stalling(ws: ServerConnection) -> None:
        await ws.send(CONNECTED)
        await release.wait()
        async for _ in ws:
            pass

    async with serve(stalling, "127.0.0.1", 0, max_queue=1, ping_interval=None) as server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}", release


async def test_pings_are_off_by_default_and_a_pong_stall_does_not_close_the_socket() -> None:
    async with stalling_server() as (url, release):
        conn = RealtimeConnection(url, keep_alive_interval=0.05)
        lost: list[SocketEvent] = []
        conn.on_event(lambda e: lost.append(e) if isinstance(e, ConnectionLost) else None)
        await conn.connect()
        try:
            assert conn.ping_interval is None
            ws = conn._ws
            assert ws is not None and ws.ping_interval is None
            # Keep-alives flow meanwhile; pinging (next test) fails within 0.4 s.
            await asyncio.sleep(1.2)
            assert not lost and not conn.is_closed and ws.state is State.OPEN
        finally:
            release.set()
            await conn.close()


async def test_with_pings_on_a_pong_stall_closes_the_socket_with_1011() -> None:
    # The same server with pings switched on: this is what the default avoids.
    async with stalling_server() as (url, release):
        conn = RealtimeConnection(
            url,
            keep_alive_interval=0.05,
            ping_interval=0.2,
            ping_timeout=0.2,
            reconnect=RetryPolicy(max_attempts=1),
        )
        lost: list[ConnectionLost] = []
        conn.on_event(lambda e: lost.append(e) if isinstance(e, ConnectionLost) else None)
        await conn.connect()
        try:
            ws = conn._ws
            assert ws is not None
            # The missed pong fails the socket (its close waits for the server).
            await eventually(lambda: ws.state is not State.OPEN, within=3)
            release.set()
            await asyncio.wait_for(conn.wait_closed(), 5)
            # The client failed it with 1011 (it reports the close as abnormal, 1006).
            assert lost and not lost[0].reconnecting
            sent = ws.protocol.close_sent
            assert sent is not None and sent.code == CloseCode.INTERNAL_ERROR
        finally:
            release.set()
            await conn.close()


async def test_a_1011_close_is_a_drop_that_is_reconnected() -> None:
    sockets = 0
    received: list[dict[str, object]] = []

    async def handler(ws: ServerConnection) -> None:
        nonlocal sockets
        sockets += 1
        await ws.send(CONNECTED)
        if sockets == 1:
            await ws.recv()  # the first audio chunk arrives, then the server fails
            await ws.close(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")
            return
        async for raw in ws:
            received.append(json.loads(raw))

    async with serve(handler, "127.0.0.1", 0) as server:
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        conn = RealtimeConnection(
            url,
            keep_alive_interval=None,
            reconnect=RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.1),
        )
        pump = AudioPump(conn, PumpConfig(lead_seconds=10.0, completion_margin_seconds=30.0))
        seen: list[SocketEvent] = []
        conn.on_event(seen.append)
        await conn.connect()
        try:
            rate = 24_000
            (utterance,) = await pump.speak(np.zeros(rate * 2, np.int16), sample_rate=rate)
            assert await asyncio.wait_for(utterance.finished(), 5) == "lost"
            assert utterance.ended_by == "connection_lost"
            await eventually(lambda: any(isinstance(e, Reconnected) for e in seen))
            (drop,) = [e for e in seen if isinstance(e, ConnectionLost)]
            assert drop.code == CloseCode.INTERNAL_ERROR and drop.reconnecting
            assert drop.lost_event_ids == (utterance.event_id,)
            # The new socket works.
            await conn.wait_ready()
            await conn.send(lite.AgentSpeakEnd(type=lite.AGENT_SPEAK_END_TAG, event_id="after"))
            await eventually(lambda: [m.get("event_id") for m in received] == ["after"])
            assert sockets == 2 and not conn.is_closed
        finally:
            await conn.close()
