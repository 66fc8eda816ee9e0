"""Every utterance ends, and says what ended it, whatever the service reports.

A small LITE service on a real loopback WebSocket plays audio in real time
and reports it in one of the ways services have been seen to: the avatar's
state and buffer acknowledgements only (live sessions, no ``agent.speak_*``),
nothing at all, no ``connected`` state, or ``closed`` with the socket left
open. The audio pump must end each utterance with the right `ended_by`, and
never later than its audio's length plus the completion margin.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pytest
from websockets.asyncio.server import ServerConnection, serve

from heygen_core.audio.pump import BYTES_PER_SECOND, AudioPump, PumpConfig
from heygen_core.errors import RealtimeConnectionError
from heygen_core.realtime.connection import RealtimeConnection
from heygen_core.realtime.events import ReadyTimeout, SocketEvent

RATE = 24_000
# Lead above every tone's length: all its audio goes out at once, so its
# expected end is its length after the first chunk.
LEAD = 10.0

Reports = Literal["live", "silent", "closed"]


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (0.3 * np.sin(2 * math.pi * 220.0 * t) * 32767).astype(np.int16)


@dataclass
class FakeLite:
    """A LITE service: plays audio in real time; reports it as `reports` says.

    ``live``: ``agent.state_updated`` and ``agent.audio_buffer_*`` acks only.
    ``silent``: nothing after ``connected``. ``closed``: reports the session
    ``closing`` then ``closed`` at the first audio, and keeps the socket open.
    """

    reports: Reports
    send_connected: bool = True
    received: list[dict[str, Any]] = field(default_factory=list)

    async def handler(self, ws: ServerConnection) -> None:
        loop = asyncio.get_running_loop()
        play_until = 0.0
        idle_timer: asyncio.TimerHandle | None = None
        state = "idle"
        pending: set[asyncio.Task[None]] = set()

        async def send(payload: dict[str, Any]) -> None:
            await ws.send(json.dumps(payload))

        def set_state(new: str) -> None:
            nonlocal state
            if new != state:
                message = {"type": "agent.state_updated", "previous_state": state, "new_state": new}
                state = new
                task = asyncio.ensure_future(send(message))
                pending.add(task)
                task.add_done_callback(pending.discard)

        if self.send_connected:
            await send({"type": "session.state_updated", "state": "connected"})
        async for raw in ws:
            message = json.loads(raw)
            self.received.append(message)
            kind = message["type"]
            live = self.reports == "live"
            if kind == "agent.speak":
                seconds = len(base64.b64decode(message["audio"])) / BYTES_PER_SECOND
                play_until = max(play_until, loop.time()) + seconds
                if self.reports == "closed":
                    await send({"type": "session.state_updated", "state": "closing"})
                    await send({"type": "session.state_updated", "state": "closed"})
                if live:
                    await send({"type": "agent.audio_buffer_appended"})
                    set_state("talking")
            elif kind == "agent.speak_end" and live:
                await send({"type": "agent.audio_buffer_committed"})
                idle_timer = loop.call_at(play_until, set_state, "idle")
            elif kind == "agent.interrupt" and live:
                if idle_timer is not None:
                    idle_timer.cancel()
                play_until = 0.0
                await send({"type": "agent.audio_buffer_cleared"})
                set_state("idle")


@asynccontextmanager
async def service(
    fake: FakeLite, *, ready_timeout: float = 5.0, ready_fallback: Literal["open", "raise"] = "open"
) -> AsyncIterator[RealtimeConnection]:
    async with serve(fake.handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        conn = RealtimeConnection(
            f"ws://127.0.0.1:{port}",
            ready_timeout=ready_timeout,
            ready_fallback=ready_fallback,
            keep_alive_interval=None,
        )
        try:
            yield conn
        finally:
            await conn.close()


async def test_live_reports_end_an_utterance_when_the_avatar_goes_idle() -> None:
    # (a) No speak_started/ended: the state leaving `talking` ends it, long
    # before the margin would.
    fake = FakeLite("live")
    async with service(fake) as conn:
        pump = AudioPump(conn, PumpConfig(lead_seconds=LEAD, completion_margin_seconds=10.0))
        await conn.connect()
        await conn.wait_ready()
        loop = asyncio.get_running_loop()
        began = loop.time()
        (utterance,) = await pump.speak(tone(0.6), sample_rate=RATE)
        assert await asyncio.wait_for(utterance.finished(), 5) == "ended"
        elapsed = loop.time() - began
        assert utterance.ended_by == "state_idle" and utterance.confirmed
        assert 0.5 <= elapsed < 2.0  # it played out (0.6 s), and no margin was waited
        assert pump.avatar_state == "idle"
        assert [m["type"] for m in fake.received][-1] == "agent.speak_end"


async def test_an_utterance_nobody_reports_ends_at_its_deadline() -> None:
    # (b) Nothing is ever reported: over once its audio had time to play,
    # plus the margin, not before and not much after.
    audio, margin = 0.6, 0.5
    async with service(FakeLite("silent")) as conn:
        pump = AudioPump(conn, PumpConfig(lead_seconds=LEAD, completion_margin_seconds=margin))
        await conn.connect()
        await conn.wait_ready()
        loop = asyncio.get_running_loop()
        began = loop.time()
        (utterance,) = await pump.speak(tone(audio), sample_rate=RATE)
        assert await asyncio.wait_for(utterance.finished(), 5) == "ended"
        elapsed = loop.time() - began
        assert utterance.ended_by == "deadline" and not utterance.confirmed
        assert audio + margin - 0.05 <= elapsed < audio + margin + 0.5


async def test_without_connected_the_fallback_opens_and_the_deadline_ends_it() -> None:
    # (c) No `connected` ever: the gate opens after the ready timeout, the
    # audio goes out, and the utterance still ends.
    audio, margin, ready = 0.4, 0.5, 0.3
    async with service(FakeLite("silent", send_connected=False), ready_timeout=ready) as conn:
        pump = AudioPump(conn, PumpConfig(lead_seconds=LEAD, completion_margin_seconds=margin))
        events: list[SocketEvent] = []
        conn.on_event(events.append)
        await conn.connect()
        loop = asyncio.get_running_loop()
        began = loop.time()
        (utterance,) = await pump.speak(tone(audio), sample_rate=RATE)
        assert await asyncio.wait_for(utterance.finished(), 5) == "ended"
        elapsed = loop.time() - began
        assert utterance.ended_by == "deadline"
        assert any(isinstance(e, ReadyTimeout) for e in events)
        assert ready + audio + margin - 0.05 <= elapsed < ready + audio + margin + 0.5


async def test_without_connected_the_strict_fallback_raises_and_ends_it() -> None:
    fake = FakeLite("silent", send_connected=False)
    async with service(fake, ready_timeout=0.2, ready_fallback="raise") as conn:
        pump = AudioPump(conn, PumpConfig(lead_seconds=LEAD, completion_margin_seconds=30.0))
        await conn.connect()
        utterances, task = pump.start_speaking(tone(0.4), sample_rate=RATE)
        with pytest.raises(RealtimeConnectionError, match="connected"):
            await asyncio.wait_for(task, 5)
        (utterance,) = utterances
        assert utterance.done and utterance.status == "lost"
        assert utterance.ended_by == "ready_timeout"
        assert not fake.received  # nothing went out


async def test_a_session_reported_closed_ends_utterances_though_the_socket_stays_open() -> None:
    # (d) `closed` with the socket left open: lost at once, not after 3 s of
    # audio plus a 30 s margin; and nothing more can be spoken.
    async with service(FakeLite("closed")) as conn:
        pump = AudioPump(conn, PumpConfig(lead_seconds=LEAD, completion_margin_seconds=30.0))
        await conn.connect()
        await conn.wait_ready()
        utterances, task = pump.start_speaking(tone(3.0), sample_rate=RATE)
        (utterance,) = utterances
        await asyncio.wait_for(utterance.finished(), 2)
        assert utterance.status == "lost" and utterance.ended_by == "session_closed"
        assert not conn.is_closed  # the service left it open
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 2)
        with pytest.raises(RealtimeConnectionError, match="session ended"):
            pump.start_speaking(tone(0.2), sample_rate=RATE)


async def test_an_interrupt_ends_when_the_buffer_clear_is_acknowledged() -> None:
    # (e) Live sessions acknowledge an interrupt with agent.audio_buffer_cleared.
    fake = FakeLite("live")
    async with service(fake) as conn:
        pump = AudioPump(conn, PumpConfig(lead_seconds=LEAD, completion_margin_seconds=30.0))
        seen: list[SocketEvent] = []
        conn.on_event(seen.append)
        await conn.connect()
        await conn.wait_ready()
        (utterance,) = await pump.speak(tone(3.0), sample_rate=RATE)
        await asyncio.sleep(0.3)
        assert not utterance.done and pump.avatar_state == "talking"
        loop = asyncio.get_running_loop()
        began = loop.time()
        await pump.interrupt()
        assert utterance.status == "interrupted"  # at once, before the acknowledgement
        assert await asyncio.wait_for(utterance.finished(), 5) == "interrupted"
        assert utterance.ended_by == "interrupt_ack" and utterance.confirmed
        assert loop.time() - began < 1.0
        assert "agent.audio_buffer_cleared" in [getattr(e, "type", None) for e in seen]


async def test_an_unacknowledged_interrupt_ends_after_the_margin() -> None:
    async with service(FakeLite("silent")) as conn:
        pump = AudioPump(conn, PumpConfig(lead_seconds=LEAD, completion_margin_seconds=0.3))
        await conn.connect()
        await conn.wait_ready()
        (utterance,) = await pump.speak(tone(3.0), sample_rate=RATE)
        loop = asyncio.get_running_loop()
        began = loop.time()
        await pump.interrupt()
        assert await asyncio.wait_for(utterance.finished(), 5) == "interrupted"
        assert utterance.ended_by == "deadline" and not utterance.confirmed
        assert 0.25 <= loop.time() - began < 1.0


def test_a_negative_margin_is_refused() -> None:
    with pytest.raises(ValueError, match="completion_margin_seconds"):
        PumpConfig(completion_margin_seconds=-1)
