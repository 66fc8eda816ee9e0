"""AvatarSession, the realtime connection and the audio pump against the simulator."""

from __future__ import annotations

import asyncio
import io
import json
import math
import os
import subprocess
import sys
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from heygen_models import lite
from heygen_models import liveavatar as la
from websockets.asyncio.client import connect

from heygen_core.audio.pump import PumpConfig
from heygen_core.errors import AudioFormatError, HeyGenError
from heygen_core.realtime.connection import RealtimeConnection
from heygen_core.realtime.events import ConnectionLost, ReadyTimeout, SessionEvent
from heygen_core.rest.liveavatar_client import LiveAvatarClient
from heygen_core.session import SANDBOX_AVATAR_ID, AvatarSession
from heygen_core.simulator import Simulator, SimulatorThread
from tests.support.interruptible import interrupt_after
from tests.support.profiles import sim_config

KEY = "sim-key"
RATE = 24_000


def tone(seconds: float, rate: int = RATE, channels: int = 1, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = (0.3 * np.sin(2 * math.pi * freq * t) * 32767).astype(np.int16)
    return np.repeat(mono[:, None], channels, axis=1) if channels > 1 else mono


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(sim_config(connect_delay_seconds=0.3)) as simulator:
        yield simulator


def session_for(sim: Simulator, **options: object) -> AvatarSession:
    return AvatarSession.live_avatar(sandbox=True, api_key=KEY, base_url=sim.url, **options)  # type: ignore[arg-type]


def speaks(sim: Simulator, session_id: str) -> list[tuple[float, str, dict[str, object]]]:
    return [e for e in sim.client_events(session_id) if e[1] == "agent.speak"]


async def started_ws_url(client: LiveAvatarClient) -> tuple[str, str, str]:
    """Start a sandbox LITE session: (session id, session token, ws_url)."""
    token = await client.create_session_token(
        la.LiteSessionTokenRequest(mode="LITE", avatar_id=SANDBOX_AVATAR_ID, is_sandbox=True)
    )
    started = await client.start_session(token.data.session_token)
    assert isinstance(started.data.ws_url, str)
    return token.data.session_id, token.data.session_token, started.data.ws_url


async def test_commands_sent_before_connected_wait_for_it_and_nothing_is_dropped(
    sim: Simulator,
) -> None:
    listen = {"type": "agent.start_listening", "event_id": "early"}
    async with LiveAvatarClient(KEY, base_url=sim.url) as client:
        raw_sid, raw_token, raw_url = await started_ws_url(client)
        sid, token, url = await started_ws_url(client)
        # The check can fail: a client that sends before `connected` loses the command.
        async with connect(raw_url, proxy=None) as ws:
            await ws.send(json.dumps(listen))
            async with asyncio.timeout(5):
                while json.loads(await ws.recv()).get("state") != "connected":
                    pass
        assert sim.dropped_before_ready == 1
        # Our connection, given the same command as early, holds it until `connected`.
        conn = RealtimeConnection(url, keep_alive_interval=None)
        try:
            await conn.connect()
            assert not conn.is_ready and conn.session_state != "connected"
            await asyncio.wait_for(
                conn.send(lite.AgentStartListening(type="agent.start_listening", event_id="held")),
                5,
            )
            for _ in range(100):
                if sim.events_by_type["agent.start_listening"] == 2:
                    break
                await asyncio.sleep(0.02)
        finally:
            await conn.close()
            await client.stop_session(session_token=token)
            await client.stop_session(session_token=raw_token)
    assert sim.dropped_before_ready == 1  # the raw socket's only
    connected_at = next(t for t, _, w in sim.server_events(sid) if w.get("state") == "connected")
    held_at = next(t for t, _, w in sim.client_events(sid) if w.get("event_id") == "held")
    assert held_at >= connected_at
    listening = [w for _, k, w in sim.server_events(sid) if k == "agent.state_updated"]
    assert [w["new_state"] for w in listening] == ["listening"]  # the avatar acted on it
    assert not [k for _, k, _ in sim.server_events(raw_sid) if k == "agent.state_updated"]
    assert sim.open_sessions() == 0


async def test_ready_timeout_falls_back_to_opening_the_gate() -> None:
    async with Simulator(sim_config(connect_delay_seconds=1.5)) as sim:
        session = AvatarSession.live_avatar(
            sandbox=True, api_key=KEY, base_url=sim.url, ready_timeout=0.3
        )
        seen: list[SessionEvent] = []
        session.on_event(seen.append)
        async with session:
            # Opened by the documented fallback, not by the service: it says so.
            assert session.connection.is_ready
            assert session.connection.session_state == "connecting"
            assert [e for e in seen if isinstance(e, ReadyTimeout)] == [ReadyTimeout(0.3)]
        assert sim.open_sessions() == 0


async def test_ready_fallback_raise_makes_it_an_error() -> None:
    async with Simulator(sim_config(connect_delay_seconds=1.5)) as sim:
        session = AvatarSession.live_avatar(
            sandbox=True, api_key=KEY, base_url=sim.url, ready_timeout=0.3, ready_fallback="raise"
        )
        with pytest.raises(HeyGenError, match="did not report 'connected'"):
            async with session:
                pass
        assert sim.open_sessions() == 0


async def test_keep_alive_keeps_an_idle_session_open() -> None:
    config = sim_config(connect_delay_seconds=0.1, idle_timeout_seconds=1.0)
    async with Simulator(config) as sim:
        async with session_for(sim, keep_alive_interval=0.25) as session:
            await asyncio.sleep(1.6)
            assert sim.events_by_type["session.keep_alive"] >= 3
            assert sim.open_sessions() == 1
            assert not session.connection.is_closed
        assert sim.open_sessions() == 0


async def test_without_keep_alive_the_idle_reaper_ends_the_session() -> None:
    config = sim_config(connect_delay_seconds=0.1, idle_timeout_seconds=0.6)
    async with Simulator(config) as sim, session_for(sim, keep_alive_interval=None) as session:
        await asyncio.wait_for(session.connection.wait_closed(), 5)
        assert session.connection.session_state == "closed"
        assert sim.open_sessions() == 0


async def test_pacing_lead_then_real_time(sim: Simulator) -> None:
    pump = PumpConfig(first_chunk_ms=200, chunk_ms=500, lead_seconds=0.5)
    async with session_for(sim, pump=pump) as session:
        result = await session.speak(tone(2.5), sample_rate=RATE, wait=False)
        assert await result.finished() == ("ended",)
        sid = session.session_id
        assert sid is not None
    chunks = speaks(sim, sid)
    # A short first chunk, then 0.5 s chunks, then the rest.
    sizes = [0.2, 0.5, 0.5, 0.5, 0.5, 0.3]
    assert len(chunks) == len(sizes)
    t0 = chunks[0][0]
    offset = 0.0
    for (at, _, _), size in zip(chunks, sizes, strict=True):
        planned = max(0.0, offset - 0.5)  # the lead goes out at once, the rest in real time
        assert planned - 0.05 <= at - t0 <= planned + 0.25, (offset, at - t0)
        offset += size


async def test_speak_end_shares_the_utterance_event_id(sim: Simulator) -> None:
    async with session_for(sim) as session:
        result = await session.speak(tone(0.6), sample_rate=RATE)
        sid = session.session_id
        assert sid is not None
    (event_id,) = result.event_ids
    kinds = [(kind, wire.get("event_id")) for _, kind, wire in sim.client_events(sid)]
    speak_ids = {eid for kind, eid in kinds if kind == "agent.speak"}
    assert speak_ids == {event_id}
    assert ("agent.speak_end", event_id) in kinds
    assert kinds.index(("agent.speak_end", event_id)) > max(
        i for i, (kind, _) in enumerate(kinds) if kind == "agent.speak"
    )


async def test_streamed_input_with_a_pause_makes_two_utterances(sim: Simulator) -> None:
    frames = tone(0.6)

    async def tts() -> AsyncIterator[bytes]:
        for i in range(0, 7200, 480):  # 0.3 s as 20 ms frames
            yield frames[i : i + 480].tobytes()
        await asyncio.sleep(0.5)  # longer than end_gap_seconds: the first utterance ends
        for i in range(7200, 14400, 480):
            yield frames[i : i + 480].tobytes()

    pump = PumpConfig(end_gap_seconds=0.2)
    async with session_for(sim, pump=pump) as session:
        result = await session.speak(tts(), sample_rate=RATE, channels=1)
        assert len(result.utterances) == 2
        assert await result.finished() == ("ended", "ended")
        sid = session.session_id
        assert sid is not None
    ends = [w["event_id"] for _, kind, w in sim.client_events(sid) if kind == "agent.speak_end"]
    assert ends == list(result.event_ids)
    assert len(sim.received_audio(sid)) == 14400 * 2


@pytest.mark.parametrize("dialect", ["lite", "realtime-alpha"])
async def test_interrupt_stops_queued_audio_for_good(
    sim: Simulator, dialect: str, speech_profile: str
) -> None:
    pump = PumpConfig(first_chunk_ms=200, chunk_ms=500, lead_seconds=0.5)
    if dialect == "lite":
        session = session_for(sim, pump=pump)
        audio_kinds = ("agent.speak", "agent.speak_end")
    else:
        session = AvatarSession.interactive_avatar(
            avatar_id="Wayne_20240711", api_key=KEY, base_url=sim.url, pump=pump
        )
        audio_kinds = ("agent.audio_buffer_append", "agent.audio_buffer_commit")
    async with session:
        result = await session.speak(tone(6.0), sample_rate=RATE, wait=False)
        await asyncio.sleep(0.9)
        await session.interrupt()
        assert await result.finished() == ("interrupted",)
        await asyncio.sleep(1.2)  # paced chunks would have gone out by now
        sid = session.session_id
        assert sid is not None
    events = sim.client_events(sid)
    interrupt_at = next(i for i, e in enumerate(events) if e[1] == "agent.interrupt")
    assert not [e for e in events[interrupt_at:] if e[1] in audio_kinds]
    assert sim.chunks_after_interrupt == 0
    if dialect == "lite":
        # Acknowledged as the profile's service does: the buffer cleared
        # (live) or the utterance interrupted (as documented).
        ack = (
            "agent.audio_buffer_cleared" if speech_profile == "live" else "agent.speak_interrupted"
        )
        assert sim.server_events_by_type[ack] >= 1
    else:
        # The avatar was talking (a commit had gone out) and is idle after the interrupt.
        statuses = [(t, w["status"]) for t, k, w in sim.server_events(sid) if k == "agent.status"]
        interrupted_at = events[interrupt_at][0]
        assert any(s == "talking" for t, s in statuses if t < interrupted_at)
        assert [s for t, s in statuses if t >= interrupted_at] == ["idle"]
    sent = [e for e in events if e[1] == audio_kinds[0]]
    assert 0 < len(sent) < 12


async def test_received_audio_is_what_was_spoken(sim: Simulator, tmp_path: Path) -> None:
    audio = tone(0.7)
    async with session_for(sim) as session:
        await session.speak(audio.tobytes(), sample_rate=RATE, channels=1)
        sid = session.session_id
        assert sid is not None
    assert sim.received_audio(sid) == audio.tobytes()
    sim.write_wav(sid, tmp_path / "out.wav")
    with wave.open(str(tmp_path / "out.wav")) as recorded:
        assert (recorded.getframerate(), recorded.getnchannels()) == (RATE, 1)
        assert recorded.readframes(recorded.getnframes()) == audio.tobytes()


async def test_a_44k_stereo_wav_is_converted(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "stereo.wav"
    path.write_bytes(wav_bytes(tone(1.0, rate=44_100, channels=2), 44_100))
    async with session_for(sim) as session:
        await session.speak(str(path))
        sid = session.session_id
        assert sid is not None
    received = np.frombuffer(sim.received_audio(sid), np.int16)
    assert abs(received.size - RATE) <= 48
    spectrum = np.abs(np.fft.rfft(received))
    assert abs(np.argmax(spectrum) * RATE / received.size - 220) < 3


@pytest.mark.parametrize(
    ("audio", "options", "message"),
    [
        (b"\x00\x01\x02", {"sample_rate": RATE, "channels": 1}, "2-byte"),
        (b"\x00" * 480, {"sample_rate": 0, "channels": 1}, "sample_rate"),
        (np.array([0.0, float("nan")], np.float32), {"sample_rate": RATE}, "NaN"),
        (np.array([0.0, 1.5], np.float32), {"sample_rate": RATE}, "[-1.0, 1.0]"),
        (np.zeros(10, np.float64), {"sample_rate": RATE}, "int16 or float32"),
    ],
)
async def test_bad_audio_is_refused_before_anything_is_sent(
    sim: Simulator, audio: object, options: dict[str, int], message: str
) -> None:
    async with session_for(sim) as session:
        with pytest.raises(AudioFormatError, match=message.replace("[", r"\[").replace("]", r"\]")):
            await session.speak(audio, **options)  # type: ignore[arg-type]
    assert sim.events_by_type["agent.speak"] == 0


async def test_a_non_pcm_wav_is_refused(sim: Simulator, tmp_path: Path) -> None:
    data = bytearray(wav_bytes(tone(0.1), RATE))
    data[20:22] = (3).to_bytes(2, "little")  # format tag 3: IEEE float
    path = tmp_path / "float.wav"
    path.write_bytes(bytes(data))
    async with session_for(sim) as session:
        with pytest.raises(AudioFormatError, match="not integer PCM"):
            await session.speak(str(path))
    assert sim.events_by_type["agent.speak"] == 0


async def test_an_exception_in_the_body_still_stops_the_session(sim: Simulator) -> None:
    with pytest.raises(RuntimeError, match="app bug"):
        async with session_for(sim):
            assert sim.open_sessions() == 1
            raise RuntimeError("app bug")
    assert sim.open_sessions() == 0
    assert sim.requests_by_operation["stop_session"] == 1


async def test_cancellation_still_stops_the_session(sim: Simulator) -> None:
    entered = asyncio.Event()

    async def app() -> None:
        async with session_for(sim) as session:
            entered.set()
            await session.speak(tone(30.0), sample_rate=RATE)

    task = asyncio.create_task(app())
    await asyncio.wait_for(entered.wait(), 10)
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sim.open_sessions() == 0
    assert sim.requests_by_operation["stop_session"] == 1


async def test_a_failed_start_stops_the_created_session(sim: Simulator) -> None:
    sim.inject("start_session", 500)
    with pytest.raises(HeyGenError):
        async with session_for(sim):
            pass
    assert sim.open_sessions() == 0


async def test_session_closed_by_the_service_is_stopped_once(sim: Simulator) -> None:
    seen: list[SessionEvent] = []
    session = session_for(sim)
    session.on_event(seen.append)
    async with session:
        sid = session.session_id
        assert sid is not None
        connection = session.connection
        # Ended elsewhere: another client's REST stop.
        async with LiveAvatarClient(KEY, base_url=sim.url) as other:
            await other.stop_session(la.StopSessionRequest(session_id=sid))
        await asyncio.wait_for(connection.wait_closed(), 5)
        assert connection.session_state == "closed"
        assert sim.open_sessions() == 0 and sim.open_websockets() == 0
        # The user is told, and nothing is reconnected.
        lost = [e for e in seen if isinstance(e, ConnectionLost)]
        assert [(e.lost_event_ids, e.reconnecting) for e in lost] == [((), False)]
    # Leaving still stops it through REST, once, and without an error.
    assert session.stopped_cleanly
    assert sim.requests_by_operation["stop_session"] == 2  # the other client's, then ours
    assert sim.open_sessions() == 0 and sim.open_websockets() == 0


async def test_events_are_typed_and_iterable(sim: Simulator, speech_profile: str) -> None:
    # Speech is reported as the profile's service reports it: state updates
    # and buffer acknowledgements live, speak_started/ended as documented.
    if speech_profile == "live":
        first, last = "AgentStateUpdated", "AgentAudioBufferCommitted"
    else:
        first, last = "AgentSpeakStarted", "AgentSpeakEnded"
    async with session_for(sim) as session:
        stream = session.events()
        await session.speak(tone(0.3), sample_rate=RATE)
        seen: list[str] = []
        while last not in seen:
            seen.append(type(await asyncio.wait_for(anext(stream), 5)).__name__)
    assert first in seen


async def test_listening_on_and_off(sim: Simulator) -> None:
    async with session_for(sim) as session:
        await session.start_listening()
        await session.stop_listening()
        await asyncio.sleep(0.1)
    assert sim.events_by_type["agent.start_listening"] == 1
    assert sim.events_by_type["agent.stop_listening"] == 1


@pytest.mark.parametrize("dialect", ["realtime-alpha", "lite"])
async def test_interactive_avatar_over_the_streaming_api(sim: Simulator, dialect: str) -> None:
    session = AvatarSession.interactive_avatar(
        avatar_id="Wayne_20240711",
        api_key=KEY,
        base_url=sim.url,
        dialect=dialect,  # type: ignore[arg-type]
    )
    async with session:
        result = await session.speak(tone(0.5), sample_rate=RATE)
        assert await result.finished() == ("ended",)
        sid = session.session_id
        assert sid is not None
    assert len(sim.received_audio(sid)) == 12_000 * 2
    assert sim.open_sessions() == 0
    if dialect == "realtime-alpha":
        assert sim.events_by_type["agent.audio_buffer_append"] >= 1
        assert sim.events_by_type["agent.audio_buffer_commit"] >= 1


@pytest.mark.slow
@pytest.mark.one_profile
def test_say_command_on_the_embedded_simulator(tmp_path: Path) -> None:
    path = tmp_path / "speech.wav"
    path.write_bytes(wav_bytes(tone(1.5, rate=44_100, channels=2), 44_100))
    env = {k: v for k, v in os.environ.items() if k != "HEYGEN_LIVE_AVATAR_API_KEY"}
    script = Path(sys.executable).parent / "heygen-avatar"
    done = subprocess.run(
        [str(script), "say", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["target"] == "simulator"
    assert report["session_stopped"] is True
    assert abs(report["audio_seconds_sent"] - 1.5) < 0.01
    assert report["chunks_sent"] == 3  # 0.4 s, 1 s, then the last 0.1 s
    assert 0 <= report["first_chunk_ms"] < report["speak_started_ms"] < report["speak_ended_ms"]
    assert report["speak_ended_ms"] >= 1500
    assert "event:" in done.stderr


@pytest.mark.slow
@pytest.mark.one_profile
@pytest.mark.parametrize("stop_fails", [False, True], ids=["stopped", "stop-refused"])
def test_ctrl_c_during_say_stops_the_session_and_says_so(tmp_path: Path, stop_fails: bool) -> None:
    path = tmp_path / "long.wav"
    path.write_bytes(wav_bytes(tone(20.0), RATE))
    with SimulatorThread(sim_config(connect_delay_seconds=0.1)) as sim:
        if stop_fails:
            sim.inject("stop_session", 400)  # not retried: the session stays open

        def one_session_open() -> None:
            assert sim.open_sessions() == 1

        code, err = interrupt_after(
            # The live service acknowledges audio; it reports no speak_started.
            "agent.audio_buffer_appended",
            ["say", str(path), "--api-base", sim.url],
            {**os.environ, "HEYGEN_LIVE_AVATAR_API_KEY": KEY},
            before=one_session_open,
        )
        assert code == 130, err
        assert "Traceback" not in err
        assert sim.requests_by_operation["stop_session"] == 1
        if stop_fails:
            assert "the session was stopped" not in err
            assert "could not be stopped; it ends at its idle timeout" in err
            assert sim.open_sessions() == 1
        else:
            assert "interrupted; the session was stopped" in err
            assert sim.open_sessions() == 0


async def test_reconnect_after_an_unexpected_close_reports_what_was_lost(sim: Simulator) -> None:
    from heygen_core.realtime.events import ConnectionLost, Reconnected
    from heygen_core.rest.retry import RetryPolicy

    seen: list[SessionEvent] = []
    pump = PumpConfig(first_chunk_ms=200, chunk_ms=500, lead_seconds=0.5)
    session = session_for(
        sim, pump=pump, reconnect=RetryPolicy(max_attempts=4, base_delay=0.05, max_delay=0.1)
    )
    session.on_event(seen.append)
    async with session:
        sid = session.session_id
        assert sid is not None
        result = await session.speak(tone(4.0), sample_rate=RATE, wait=False)
        await asyncio.sleep(0.6)
        assert sim.drop_websocket(sid)
        assert await asyncio.wait_for(result.finished(), 10) == ("lost",)
        lost = [e for e in seen if isinstance(e, ConnectionLost)]
        assert len(lost) == 1
        assert lost[0].lost_event_ids == result.event_ids and lost[0].reconnecting
        for _ in range(100):
            if any(isinstance(e, Reconnected) for e in seen) and session.connection.is_ready:
                break
            await asyncio.sleep(0.05)
        assert session.connection.is_ready
        # Nothing of the lost utterance goes out on the new socket ...
        before = len(speaks(sim, sid))
        await asyncio.sleep(0.6)
        assert len(speaks(sim, sid)) == before
        # ... and the session works again.
        again = await session.speak(tone(0.4), sample_rate=RATE)
        assert await again.finished() == ("ended",)
    assert sim.open_sessions() == 0


async def test_streaming_sessions_keep_alive_over_rest(sim: Simulator) -> None:
    session = AvatarSession.interactive_avatar(
        avatar_id="Wayne_20240711", api_key=KEY, base_url=sim.url, keep_alive_interval=0.2
    )
    async with session:
        await asyncio.sleep(0.75)
    assert sim.requests_by_operation["keep_alive"] >= 2


def test_the_package_exports_the_session_api() -> None:
    import heygen_core

    assert heygen_core.AvatarSession is AvatarSession
    with pytest.raises(AttributeError):
        heygen_core.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
