"""Edge cases of the audio pump and the realtime connection, against the simulator.

Each test drives the real client over loopback sockets: the session ending
under a speak, streams at other rates and their pauses, interrupts between
utterances, the strict ready gate, tiny alpha utterances and the 1 MB limit.
"""

from __future__ import annotations

import asyncio
import base64
import math
import uuid
from collections.abc import AsyncIterator
from typing import get_args

import numpy as np
import pytest
from heygen_models import lite
from heygen_models import liveavatar as la
from heygen_models import streaming as st

from heygen_core.audio.dialects import speech_dialect
from heygen_core.audio.pump import BYTES_PER_SECOND, PumpConfig
from heygen_core.errors import RealtimeConnectionError
from heygen_core.protocol.codec import encode
from heygen_core.realtime.connection import (
    MAX_MESSAGE_BYTES,
    Dialect,
    RealtimeConnection,
)
from heygen_core.realtime.events import ConnectionLost, ReadyTimeout, Reconnected, SessionEvent
from heygen_core.rest.liveavatar_client import LiveAvatarClient
from heygen_core.rest.retry import RetryPolicy
from heygen_core.rest.streaming_client import StreamingClient
from heygen_core.session import SANDBOX_AVATAR_ID, AvatarSession
from heygen_core.simulator import Simulator, SimulatorConfig
from tests.support.polling import eventually

KEY = "sim-key"
RATE = 24_000


def tone(seconds: float, rate: int = RATE, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.3 * np.sin(2 * math.pi * freq * t) * 32767).astype(np.int16)


def frames_of(samples: np.ndarray, rate: int) -> list[np.ndarray]:
    """20 ms frames, as a TTS delivers them."""
    step = rate // 50
    return [samples[i : i + step] for i in range(0, len(samples), step)]


async def started_lite_session(sim: Simulator) -> tuple[LiveAvatarClient, str, str, str]:
    """A started sandbox LITE session: (client, session id, session token, ws_url)."""
    client = LiveAvatarClient(KEY, base_url=sim.url)
    token = await client.create_session_token(
        la.LiteSessionTokenRequest(mode="LITE", avatar_id=SANDBOX_AVATAR_ID, is_sandbox=True)
    )
    started = await client.start_session(token.data.session_token)
    ws_url = started.data.ws_url
    assert isinstance(ws_url, str)
    return client, token.data.session_id, token.data.session_token, ws_url


# ------------------------------------------------------ the service ends the session


async def test_speak_returns_lost_when_the_service_ends_the_session() -> None:
    config = SimulatorConfig(
        connect_delay_seconds=0.1, sandbox_session_seconds=1.5, reaper_interval_seconds=0.05
    )
    async with Simulator(config) as sim:
        # All of it on the wire at once, so the end comes while the avatar plays.
        session = AvatarSession.live_avatar(
            sandbox=True, api_key=KEY, base_url=sim.url, pump=PumpConfig(lead_seconds=10.0)
        )
        seen: list[SessionEvent] = []
        session.on_event(seen.append)
        async with session:
            result = await asyncio.wait_for(session.speak(tone(6.0), sample_rate=RATE), 15)
            assert await result.finished() == ("lost",)
            assert result.ended_by == ("session_closed",)
            # It ends when the service reports the session over, before the
            # socket closes (a service may leave it open).
            await asyncio.wait_for(session.connection.wait_closed(), 5)
            lost = [e for e in seen if isinstance(e, ConnectionLost)]
            assert len(lost) == 1
            assert lost[0].lost_event_ids == result.event_ids
            assert not lost[0].reconnecting
            # A speak after the end fails at once, with a typed error.
            with pytest.raises(RealtimeConnectionError, match="closed"):
                await session.speak(tone(0.2), sample_rate=RATE)
        assert sim.open_sessions() == 0
        assert sim.requests_by_operation["stop_session"] == 1


async def test_a_stream_stops_when_the_service_ends_the_session() -> None:
    config = SimulatorConfig(
        connect_delay_seconds=0.1, sandbox_session_seconds=1.2, reaper_interval_seconds=0.05
    )
    async with Simulator(config) as sim:
        session = AvatarSession.live_avatar(
            sandbox=True, api_key=KEY, base_url=sim.url, pump=PumpConfig(end_gap_seconds=0.2)
        )

        async def tts() -> AsyncIterator[np.ndarray]:
            for frame in frames_of(tone(0.5), RATE):
                yield frame
            await asyncio.sleep(0.6)  # utterance 1 ends (gap 0.2 s) and plays out
            for frame in frames_of(tone(2.0), RATE):
                yield frame  # utterance 2: still playing when the session ends
            await asyncio.sleep(30)  # a stream that would go on long after
            yield tone(0.5)

        async with session:
            # Back soon after the end (about 1.2 s in), not when the source goes on.
            result = await asyncio.wait_for(session.speak(tts(), sample_rate=RATE), 10)
            assert await result.finished() == ("ended", "lost")
            assert session.connection.is_closed
        assert sim.open_sessions() == 0


async def test_keep_alive_stops_when_the_service_ends_the_session() -> None:
    async with Simulator(SimulatorConfig(connect_delay_seconds=0.1)) as sim:
        session = AvatarSession.interactive_avatar(
            avatar_id="Wayne_20240711",
            api_key=KEY,
            base_url=sim.url,
            keep_alive_interval=0.1,
            reconnect=RetryPolicy(max_attempts=2, base_delay=0.05, max_delay=0.1),
        )
        seen: list[SessionEvent] = []
        session.on_event(seen.append)
        async with session:
            await asyncio.sleep(0.35)
            assert sim.requests_by_operation["keep_alive"] >= 1
            sid = session.session_id
            assert sid is not None
            async with StreamingClient(KEY, base_url=sim.url) as other:
                await other.stop_session(st.SessionIdRequest(session_id=sid))
            # The alpha socket has no session states: the refused reconnects end it.
            await asyncio.wait_for(session.connection.wait_closed(), 10)
            await asyncio.sleep(0.3)  # a call already on its way is counted
            calls = sim.requests_by_operation["keep_alive"]
            await asyncio.sleep(0.5)  # five intervals
            assert sim.requests_by_operation["keep_alive"] == calls
            assert any(isinstance(e, ConnectionLost) and not e.reconnecting for e in seen)
        assert sim.open_sessions() == 0


# ---------------------------------------------------------------- streamed input


async def test_a_pause_in_16k_streamed_input_ends_the_utterance() -> None:
    rate = 16_000
    resumed_at: list[float] = []
    loop = asyncio.get_running_loop()

    async def tts() -> AsyncIterator[np.ndarray]:
        for frame in frames_of(tone(0.3, rate), rate):
            yield frame
        await asyncio.sleep(1.5)  # well past end_gap_seconds
        resumed_at.append(loop.time())
        for frame in frames_of(tone(0.3, rate), rate):
            yield frame

    async with Simulator(SimulatorConfig(connect_delay_seconds=0.1)) as sim:
        pump = PumpConfig(end_gap_seconds=0.2)
        session = AvatarSession.live_avatar(sandbox=True, api_key=KEY, base_url=sim.url, pump=pump)
        async with session:
            result = await asyncio.wait_for(session.speak(tts(), sample_rate=rate), 15)
            assert await result.finished() == ("ended", "ended")
            sid = session.session_id
            assert sid is not None
    first, second = result.event_ids
    assert first != second
    events = sim.client_events(sid)
    ends = {w["event_id"]: at for at, kind, w in events if kind == "agent.speak_end"}
    assert set(ends) == {first, second}
    # The first utterance ended during the pause, not when the input resumed.
    assert ends[first] < resumed_at[0]
    second_starts = [at for at, kind, w in events if w.get("event_id") == second]
    assert min(second_starts) >= resumed_at[0]
    # Nothing was lost in the converter: 0.6 s of 24 kHz audio, give or take its edges.
    assert abs(len(sim.received_audio(sid)) / BYTES_PER_SECOND - 0.6) < 0.01


async def test_a_short_16k_stream_is_spoken_whole() -> None:
    # Under one batch of the converter, then the end of the source.
    async def tts() -> AsyncIterator[np.ndarray]:
        for frame in frames_of(tone(0.2, 16_000), 16_000):
            yield frame

    async with Simulator(SimulatorConfig(connect_delay_seconds=0.1)) as sim:
        session = AvatarSession.live_avatar(sandbox=True, api_key=KEY, base_url=sim.url)
        async with session:
            result = await asyncio.wait_for(session.speak(tts(), sample_rate=16_000), 10)
            assert await result.finished() == ("ended",)
            sid = session.session_id
            assert sid is not None
    assert abs(len(sim.received_audio(sid)) / BYTES_PER_SECOND - 0.2) < 0.01


async def test_interrupt_between_utterances_ends_a_streamed_speak() -> None:
    paused = asyncio.Event()
    resumed = asyncio.Event()

    async def tts() -> AsyncIterator[np.ndarray]:
        for frame in frames_of(tone(0.3), RATE):
            yield frame
        paused.set()
        await asyncio.sleep(2.0)  # utterance 1 ends (gap 0.2 s); the interrupt comes in here
        resumed.set()
        for frame in frames_of(tone(0.3), RATE):
            yield frame

    async with Simulator(SimulatorConfig(connect_delay_seconds=0.1)) as sim:
        pump = PumpConfig(end_gap_seconds=0.2)
        session = AvatarSession.live_avatar(sandbox=True, api_key=KEY, base_url=sim.url, pump=pump)
        async with session:
            result = await session.speak(tts(), sample_rate=RATE, wait=False)
            await asyncio.wait_for(paused.wait(), 10)
            sid = session.session_id
            assert sid is not None
            # Utterance 1 is over on the wire.
            await eventually(lambda: sim.events_by_type["agent.speak_end"] > 0, within=5)
            assert sim.events_by_type["agent.speak_end"] == 1
            assert not resumed.is_set()
            await session.interrupt()
            # The speak is over at once: it does not wait for the stream to go on.
            statuses = await asyncio.wait_for(result.finished(), 1.0)
            assert len(statuses) == 1 and statuses[0] in ("ended", "interrupted")
            await asyncio.sleep(1.5)  # past the end of the pause
        events = sim.client_events(sid)
    interrupt_at = next(i for i, e in enumerate(events) if e[1] == "agent.interrupt")
    assert [e[1] for e in events[interrupt_at:]] == ["agent.interrupt"]
    assert [w["event_id"] for _, k, w in events if k == "agent.speak_end"] == list(result.event_ids)
    assert len(sim.received_audio(sid)) == int(0.3 * RATE) * 2


async def test_interrupt_right_after_a_streamed_speak_starts_sends_nothing() -> None:
    async def tts() -> AsyncIterator[np.ndarray]:
        for frame in frames_of(tone(0.5), RATE):
            yield frame

    async with Simulator(SimulatorConfig(connect_delay_seconds=0.1)) as sim:
        session = AvatarSession.live_avatar(sandbox=True, api_key=KEY, base_url=sim.url)
        async with session:
            result = await session.speak(tts(), sample_rate=RATE, wait=False)
            await session.interrupt()  # before its task has run at all
            assert await asyncio.wait_for(result.finished(), 5) == ()
            await asyncio.sleep(0.3)
    assert sim.events_by_type["agent.speak"] == 0


# --------------------------------------------------------------------- ready gate


def strict_connection(
    ws_url: str, ready_timeout: float, reconnect: RetryPolicy
) -> tuple[RealtimeConnection, list[SessionEvent]]:
    """A LITE connection whose ready timeout raises, and the list its events go to."""
    conn = RealtimeConnection(
        ws_url,
        ready_timeout=ready_timeout,
        ready_fallback="raise",
        keep_alive_interval=None,
        reconnect=reconnect,
    )
    seen: list[SessionEvent] = []
    conn.on_event(seen.append)
    return conn, seen


async def test_ready_fallback_raise_fails_every_later_send_until_a_reconnect() -> None:
    async with Simulator(SimulatorConfig(connect_delay_seconds=1.0)) as sim:
        client, sid, token, ws_url = await started_lite_session(sim)
        conn, seen = strict_connection(
            ws_url, 0.2, RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.1)
        )
        try:
            await conn.connect()
            # Nobody is waiting when the timeout fires.
            await eventually(lambda: any(isinstance(e, ReadyTimeout) for e in seen), within=5)
            assert not conn.is_ready
            event = lite.AgentStartListening(type="agent.start_listening", event_id="x")
            for _ in range(2):
                with pytest.raises(RealtimeConnectionError, match="did not report 'connected'"):
                    await conn.send(event)
            # 'connected' comes late: the failure stands.
            await eventually(lambda: conn.session_state == "connected", within=8)
            assert conn.session_state == "connected" and not conn.is_ready
            with pytest.raises(RealtimeConnectionError, match="did not report 'connected'"):
                await conn.send(event)
            assert sim.events_by_type["agent.start_listening"] == 0
            # A new socket starts afresh, with time enough to become ready.
            conn.ready_timeout = 10.0
            assert sim.drop_websocket(sid)
            await eventually(lambda: any(isinstance(e, Reconnected) for e in seen), within=8)
            await asyncio.wait_for(conn.send(event), 5)
            await eventually(lambda: sim.events_by_type["agent.start_listening"] > 0, within=5)
            assert sim.events_by_type["agent.start_listening"] == 1
            assert sim.dropped_before_ready == 0
        finally:
            await conn.close()
            await client.stop_session(session_token=token)
            await client.close()


# -------------------------------------------------------------------- alpha dialect


async def test_a_realtime_alpha_utterance_under_80_ms_finishes() -> None:
    async with Simulator(SimulatorConfig(connect_delay_seconds=0.1)) as sim:
        session = AvatarSession.interactive_avatar(
            avatar_id="Wayne_20240711", api_key=KEY, base_url=sim.url
        )
        async with session:
            short = await asyncio.wait_for(session.speak(tone(0.05), sample_rate=RATE), 5)
            assert await short.finished() == ("ended",)
            # The session goes on: a normal utterance after it plays.
            normal = await asyncio.wait_for(session.speak(tone(0.3), sample_rate=RATE), 5)
            assert await normal.finished() == ("ended",)
    assert sim.events_by_type["agent.audio_buffer_clear"] == 1
    assert sim.events_by_type["agent.audio_buffer_commit"] == 1


# ------------------------------------------------------------------ message size


@pytest.mark.parametrize("dialect", get_args(Dialect))
def test_the_longest_allowed_chunk_fits_in_one_message(dialect: Dialect) -> None:
    longest = 10_000
    PumpConfig(first_chunk_ms=longest, chunk_ms=longest)
    with pytest.raises(ValueError, match="between 20 and 10000 ms"):
        PumpConfig(chunk_ms=longest + 1)
    pcm = tone(longest / 1000).tobytes()
    assert len(pcm) == longest * BYTES_PER_SECOND // 1000
    audio = base64.b64encode(pcm).decode("ascii")
    event_id = uuid.uuid4().hex  # as the pump makes them
    # Every message the pump sends for that chunk (an alpha commit included).
    messages = speech_dialect(dialect).utterance(event_id).chunk(audio, longest / 1000)
    sizes = [len(encode(message).encode()) for message in messages]
    assert all(size < MAX_MESSAGE_BYTES for size in sizes)
    assert max(sizes) > 640_000  # the one that carries the audio


async def test_a_drop_before_an_utterances_first_chunk_loses_it_and_reports_it() -> None:
    # The stream's first 400 ms chunk is still being gathered when the socket
    # drops: that utterance's sender is already committed to the old socket.
    seen: list[SessionEvent] = []
    async with Simulator(SimulatorConfig(connect_delay_seconds=0.1)) as sim:
        session = AvatarSession.live_avatar(
            sandbox=True,
            api_key=KEY,
            base_url=sim.url,
            pump=PumpConfig(lead_seconds=0.0, end_gap_seconds=5.0),
            reconnect=RetryPolicy(max_attempts=4, base_delay=0.05, max_delay=0.1),
        )
        session.on_event(seen.append)

        async def tts() -> AsyncIterator[np.ndarray]:
            for frame in frames_of(tone(1.0), RATE):
                yield frame
                await asyncio.sleep(0.02)  # real time: 400 ms take 400 ms to arrive

        async with session:
            sid = session.session_id
            assert sid is not None
            result = await session.speak(tts(), sample_rate=RATE, wait=False)
            await asyncio.sleep(0.1)
            assert sim.drop_websocket(sid)
            statuses = await asyncio.wait_for(result.finished(), 15)
            assert statuses[0] == "lost"
            first = result.event_ids[0]
            lost = [e for e in seen if isinstance(e, ConnectionLost)]
            assert lost and first in lost[0].lost_event_ids
            # Nothing of it reached the service on either socket.
            assert all(e[2].get("event_id") != first for e in sim.client_events(sid))
        assert sim.open_sessions() == 0


class _SteadyBackoff(RetryPolicy):
    """A reconnect policy without jitter, so the test controls when the new socket opens."""

    def backoff(self, failures: int) -> float:
        return self.base_delay


async def test_a_drop_before_connected_does_not_let_the_old_ready_timeout_fire() -> None:
    # The service takes longer than the test to say 'connected'. The first
    # socket drops at ~0.3 s; its ready timeout (2 s) falls inside the 2.5 s
    # reconnect backoff, and must not open or fail the gate of the new one.
    async with Simulator(SimulatorConfig(connect_delay_seconds=30.0)) as sim:
        client, sid, _, ws_url = await started_lite_session(sim)
        conn, seen = strict_connection(
            ws_url, 2.0, _SteadyBackoff(max_attempts=3, base_delay=2.5, max_delay=2.5)
        )
        try:
            await conn.connect()
            await asyncio.sleep(0.3)
            assert sim.drop_websocket(sid)
            await eventually(lambda: any(isinstance(e, Reconnected) for e in seen), within=8)
            kinds = [type(e).__name__ for e in seen]
            assert "Reconnected" in kinds
            assert "ReadyTimeout" not in kinds[: kinds.index("Reconnected")], kinds
            assert not conn.is_ready
            # The new socket's own timeout still applies, in full.
            event = lite.AgentStartListening(type="agent.start_listening", event_id="x")
            with pytest.raises(RealtimeConnectionError, match="did not report 'connected'"):
                await asyncio.wait_for(conn.send(event), 10)
            assert sim.events_by_type["agent.start_listening"] == 0
        finally:
            await conn.close()
            await client.close()
