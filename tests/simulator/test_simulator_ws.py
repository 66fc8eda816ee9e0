"""The simulator's realtime WebSockets (LITE and Realtime alpha), over real loopback sockets.

A raw `websockets` client plays the user's side, so these tests see exactly
what a client of the service sees: the states, the dropped commands, the
real-time playback, the errors and the closes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
import uuid
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from heygen_core.simulator import Simulator, SimulatorConfig, SimulatorThread
from heygen_core.simulator.state import USER_CLOSED

KEY = "ws-test-key"
SANDBOX_AVATAR = "dd73ea75-1218-4ef3-92ce-606d5f7fbc0a"
DELAY = 0.2  # connect_delay_seconds: short, but long enough to send into
BYTES_PER_SECOND = 48_000
SLACK = 0.25  # scheduling and loopback latency allowed on top of exact timings


def pcm(seconds: float, seed: int = 0) -> bytes:
    """Deterministic 24 kHz mono PCM16 (a ramp, so misordered bytes show)."""
    ramp = (np.arange(int(seconds * 24_000)) * 7 + seed) % 65536 - 32768
    return ramp.astype("<i2").tobytes()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def speak(event_id: str, audio: bytes) -> str:
    return json.dumps({"type": "agent.speak", "event_id": event_id, "audio": b64(audio)})


def speak_end(event_id: str) -> str:
    return json.dumps({"type": "agent.speak_end", "event_id": event_id})


class Client:
    """A raw socket plus a reader that timestamps every server event."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.loop = asyncio.get_running_loop()
        self.events: list[tuple[float, dict[str, Any]]] = []
        self._queue: asyncio.Queue[tuple[float, dict[str, Any]] | None] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                item = (self.loop.time(), json.loads(frame))
                self.events.append(item)
                self._queue.put_nowait(item)
        except ConnectionClosed:
            pass  # a close code other than 1000: tests read it from ws.close_code
        finally:
            self._queue.put_nowait(None)

    async def expect(
        self, kind: str, within: float = 3.0, **fields: Any
    ) -> tuple[float, dict[str, Any]]:
        """Wait for the next event of `kind` (with `fields`), skipping others."""
        async with asyncio.timeout(within):
            while True:
                item = await self._queue.get()
                assert item is not None, f"socket closed while waiting for {kind}"
                at, event = item
                if event["type"] == kind and all(event.get(k) == v for k, v in fields.items()):
                    return at, event

    async def connected(self) -> float:
        at, _ = await self.expect("session.state_updated", state="connected")
        return at

    async def closed(self, within: float = 3.0) -> None:
        async with asyncio.timeout(within):
            await self._reader

    def types(self) -> list[str]:
        return [event["type"] for _, event in self.events]

    def states(self) -> list[str]:
        return [e["state"] for _, e in self.events if e["type"] == "session.state_updated"]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    # These tests pin the socket's documented events (speak_started/_ended
    # per event id); tests/simulator/test_profiles.py covers every profile.
    config = SimulatorConfig(connect_delay_seconds=DELAY, profile="documented")
    async with Simulator(config) as simulator:
        yield simulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def lite_session(
    sim: Simulator, http: aiohttp.ClientSession, *, start: bool = True, mode: str = "LITE"
) -> tuple[str, str | None]:
    """Create (and start) a LiveAvatar session; return its id and ws_url."""
    body = {"mode": mode, "avatar_id": SANDBOX_AVATAR, "is_sandbox": True}
    async with http.post(
        f"{sim.url}/v1/sessions/token", json=body, headers={"X-API-KEY": KEY}
    ) as r:
        token = (await r.json())["data"]
    if not start:
        return token["session_id"], None
    bearer = {"Authorization": f"Bearer {token['session_token']}"}
    async with http.post(f"{sim.url}/v1/sessions/start", headers=bearer) as r:
        assert r.status == 201, await r.text()
        data = (await r.json())["data"]
    return data["session_id"], data.get("ws_url")


async def stop_lite(sim: Simulator, http: aiohttp.ClientSession, session_id: str) -> None:
    body = {"session_id": session_id}
    async with http.post(f"{sim.url}/v1/sessions/stop", json=body, headers={"X-API-KEY": KEY}) as r:
        assert r.status == 200, await r.text()


async def alpha_session(sim: Simulator, http: aiohttp.ClientSession) -> tuple[str, str]:
    """Create and start a Streaming session; return its id and realtime_endpoint."""
    headers = {"x-api-key": KEY}
    body = {"avatar_name": "Wayne_20240711", "version": "v2"}
    async with http.post(f"{sim.url}/v1/streaming.new", json=body, headers=headers) as r:
        data = (await r.json())["data"]
    sid = {"session_id": data["session_id"]}
    async with http.post(f"{sim.url}/v1/streaming.start", json=sid, headers=headers) as r:
        assert r.status == 200, await r.text()
    return data["session_id"], data["realtime_endpoint"]


@pytest.fixture
async def client(sim: Simulator, http: aiohttp.ClientSession) -> AsyncIterator[tuple[str, Client]]:
    """A started LITE session with an open, connected socket."""
    session_id, url = await lite_session(sim, http)
    assert url is not None
    async with connect(url, proxy=None) as ws:
        c = Client(ws)
        await c.connected()
        yield session_id, c


# ------------------------------------------------------------------- connecting


async def test_connecting_then_connected_after_the_delay(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    _, url = await lite_session(sim, http)
    assert url is not None and url.startswith(f"ws://127.0.0.1:{sim.port}/v1/sessions/")
    async with connect(url, proxy=None) as ws:
        c = Client(ws)
        at_connecting, _ = await c.expect("session.state_updated", state="connecting")
        at_connected = await c.connected()
        assert c.states() == ["connecting", "connected"]
        assert DELAY - 0.02 <= at_connected - at_connecting <= DELAY + SLACK
        assert sim.open_websockets() == 1


async def test_commands_before_connected_are_silently_dropped(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    session_id, url = await lite_session(sim, http)
    assert url is not None
    async with connect(url, proxy=None) as ws:
        c = Client(ws)
        # Straight away, as a client that does not wait for `connected` would.
        await ws.send(speak("early", pcm(0.1)))
        await ws.send(speak_end("early"))
        await ws.send("{not json")  # dropped too: no error before connected
        await c.connected()
        await ws.send(speak("late", pcm(0.1)))
        await ws.send(speak_end("late"))
        await c.expect("agent.speak_ended", event_id="late")
    assert sim.dropped_before_ready == 3
    started = [e["event_id"] for _, e in c.events if e["type"] == "agent.speak_started"]
    assert started == ["late"]
    assert "error" not in c.types()
    assert sim.received_audio(session_id) == pcm(0.1)
    # The event log shows the drop: the early speak came before `connected`.
    connected_at = next(
        t for t, _, w in sim.server_events(session_id) if w.get("state") == "connected"
    )
    early_at = next(
        t for t, kind, w in sim.client_events(session_id) if w.get("event_id") == "early"
    )
    assert early_at < connected_at


# ----------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("frame", "needle", "event_id"),
    [
        (json.dumps({"type": "agent.speak", "event_id": "e1", "audio": 5}), "'audio'", "e1"),
        # (event_id is optional: other clients send chunks without one.)
        (json.dumps({"type": "agent.speak", "event_id": "e6"}), "'audio'", "e6"),
        (json.dumps({"type": "agent.dance", "event_id": "e2"}), "'type'", "e2"),
        (json.dumps({"type": "agent.speak", "event_id": "e3", "audio": "@@@"}), "base64", "e3"),
        (speak("e4", b"\0\0\0"), "16-bit samples", "e4"),
        ("[1, 2", "malformed JSON", None),
        (b"\x00\x01binary", "binary frame", None),
        (speak("e5", b"\0" * 800_000), "1000000-byte limit", None),
    ],
    ids=[
        "wrong-type",
        "missing-field",
        "unknown-tag",
        "bad-base64",
        "odd-bytes",
        "bad-json",
        "binary",
        "over-1MB",
    ],
)
async def test_an_invalid_frame_gets_an_error_naming_it_and_the_socket_stays_usable(
    sim: Simulator,
    client: tuple[str, Client],
    frame: str | bytes,
    needle: str,
    event_id: str | None,
) -> None:
    session_id, c = client
    await c.ws.send(frame)
    _, error = await c.expect("error")
    detail = error["error"]
    assert detail["type"] == "invalid_request_error"
    assert needle in detail["message"]
    assert detail.get("event_id") == event_id
    # Still open and working.
    await c.ws.send(speak("after", pcm(0.05)))
    await c.ws.send(speak_end("after"))
    await c.expect("agent.speak_ended", event_id="after")
    assert sim.received_audio(session_id) == pcm(0.05)


# --------------------------------------------------------------------- playback


async def test_speak_plays_in_real_time_and_utterances_queue(client: tuple[str, Client]) -> None:
    _, c = client
    loop = asyncio.get_running_loop()
    first = loop.time()
    for audio in (pcm(0.2), pcm(0.2, 1)):  # 0.4 s in two chunks, sent at once
        await c.ws.send(speak("u1", audio))
    await c.ws.send(speak_end("u1"))
    await c.ws.send(speak("u2", pcm(0.3)))  # queued behind u1
    await c.ws.send(speak_end("u2"))
    started_at, started = await c.expect("agent.speak_started", event_id="u1")
    assert started_at - first < SLACK  # at once, not after playback
    ended_at, ended = await c.expect("agent.speak_ended", event_id="u1")
    assert ended["task"] == started["task"]
    assert 0.4 <= ended_at - first <= 0.4 + SLACK
    u2_ended_at, _ = await c.expect("agent.speak_ended", event_id="u2")
    assert 0.7 <= u2_ended_at - first <= 0.7 + SLACK  # from when u1 finished
    states = [
        (e["previous_state"], e["new_state"])
        for _, e in c.events
        if e["type"] == "agent.state_updated"
    ]
    assert states == [("idle", "talking"), ("talking", "idle")]


async def test_the_avatar_waits_for_speak_end(client: tuple[str, Client]) -> None:
    _, c = client
    await c.ws.send(speak("u", pcm(0.1)))
    # The audio runs out, but without speak_end the utterance is not over;
    # and the service says nothing about it (no invented warning).
    await asyncio.sleep(0.1 + SLACK)
    assert "agent.speak_ended" not in c.types()
    assert "warning" not in c.types()
    await c.ws.send(speak_end("u"))
    await c.expect("agent.speak_ended", event_id="u", within=SLACK)


async def test_interrupt_stops_playback_and_drops_late_chunks(
    sim: Simulator, client: tuple[str, Client]
) -> None:
    session_id, c = client
    await c.ws.send(speak("u1", pcm(0.3)))
    await c.ws.send(speak("u2", pcm(0.2, 2)))  # queued behind u1
    await c.expect("agent.speak_started", event_id="u2")
    await c.ws.send(json.dumps({"type": "agent.interrupt", "event_id": None}))
    await c.expect("agent.speak_interrupted", event_id="u1", within=SLACK)
    await c.expect("agent.speak_interrupted", event_id="u2", within=SLACK)
    await c.expect("agent.state_updated", new_state="idle")
    # A client that keeps streaming the interrupted utterance: dropped, counted.
    await c.ws.send(speak("u1", pcm(0.2, 3)))
    await c.ws.send(speak("u1", pcm(0.2, 4)))
    await c.ws.send(speak_end("u1"))
    await asyncio.sleep(0.6)  # past when u1 and u2 would have ended
    assert "agent.speak_ended" not in c.types()
    assert sim.chunks_after_interrupt == 2
    # What arrived before the interrupt is recorded, the late chunks are not.
    assert sim.received_audio(session_id) == pcm(0.3) + pcm(0.2, 2)
    # A new utterance plays normally afterwards.
    await c.ws.send(speak("u3", pcm(0.05)))
    await c.ws.send(speak_end("u3"))
    await c.expect("agent.speak_ended", event_id="u3")


async def test_listening_states(client: tuple[str, Client]) -> None:
    _, c = client
    await c.ws.send(json.dumps({"type": "agent.start_listening", "event_id": "l1"}))
    await c.expect("agent.state_updated", previous_state="idle", new_state="listening")
    await c.ws.send(json.dumps({"type": "agent.stop_listening", "event_id": "l2"}))
    await c.expect("agent.state_updated", previous_state="listening", new_state="idle")


async def test_received_audio_is_recorded_and_written_as_wav(
    sim: Simulator, client: tuple[str, Client], tmp_path: Path
) -> None:
    session_id, c = client
    parts = [pcm(0.2), pcm(0.25, 5), pcm(0.05, 9)]
    for part in parts:
        await c.ws.send(speak("u", part))
    await c.ws.send(speak_end("u"))
    await c.expect("agent.speak_ended", event_id="u")
    assert sim.received_audio(session_id) == b"".join(parts)
    sim.write_wav(session_id, tmp_path / "out.wav")
    with wave.open(str(tmp_path / "out.wav")) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24_000, 1, 2)
        assert wav.getnframes() == 12_000  # 0.5 s
        assert wav.readframes(wav.getnframes()) == b"".join(parts)
    logged = [(kind, wire) for _, kind, wire in sim.client_events(session_id)]
    assert logged[0] == ("agent.speak", {"type": "agent.speak", "event_id": "u"})  # no audio
    assert sim.events_by_type["agent.speak"] == 3
    assert sim.server_events_by_type["agent.speak_ended"] == 1


# -------------------------------------------------------------------------- end


async def test_rest_stop_closes_the_socket_with_closing_and_closed(
    sim: Simulator, http: aiohttp.ClientSession, client: tuple[str, Client]
) -> None:
    session_id, c = client
    await c.ws.send(speak("u", pcm(0.5)))  # mid-utterance: the stop wins
    await stop_lite(sim, http, session_id)
    await c.closed()
    assert c.states() == ["connecting", "connected", "closing", "closed"]
    assert c.ws.close_code == 1000
    assert "USER_CLOSED" in (c.ws.close_reason or "")
    assert sim.open_websockets() == 0
    with pytest.raises(InvalidStatus) as refused:  # an ended session takes no socket
        await connect(f"ws://127.0.0.1:{sim.port}/v1/sessions/{session_id}/ws", proxy=None)
    assert refused.value.response.status_code == 404


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (
            SimulatorConfig(
                connect_delay_seconds=0.05, idle_timeout_seconds=0.6, reaper_interval_seconds=0.05
            ),
            "IDLE_TIMEOUT",
        ),
        (
            SimulatorConfig(
                connect_delay_seconds=0.05,
                sandbox_session_seconds=0.6,
                reaper_interval_seconds=0.05,
            ),
            "MAX_DURATION_REACHED",
        ),
    ],
    ids=["idle", "sandbox-minute"],
)
async def test_the_reaper_closes_the_socket(
    http: aiohttp.ClientSession, config: SimulatorConfig, reason: str
) -> None:
    async with Simulator(config) as sim:
        idle_id, idle_url = await lite_session(sim, http)
        busy_id, busy_url = await lite_session(sim, http)
        assert idle_url and busy_url
        async with (
            connect(idle_url, proxy=None) as idle_ws,
            connect(busy_url, proxy=None) as busy_ws,
        ):
            idle, busy = Client(idle_ws), Client(busy_ws)
            await busy.connected()

            async def keep_alive() -> None:
                with contextlib.suppress(ConnectionClosed):
                    for n in range(100):
                        await busy_ws.send(
                            json.dumps({"type": "session.keep_alive", "event_id": f"k{n}"})
                        )
                        await asyncio.sleep(0.2)

            keeper = asyncio.create_task(keep_alive())
            await idle.closed()
            assert idle.states() == ["connecting", "connected", "closing", "closed"]
            assert idle_ws.close_code == 1000 and reason in (idle_ws.close_reason or "")
            if reason == "IDLE_TIMEOUT":
                # Keep-alives on its socket kept the other session open.
                await asyncio.sleep(0.3)
                busy_session = sim.state.liveavatar_session(busy_id)
                assert busy_session is not None and busy_session.is_open
                assert busy.states() == ["connecting", "connected"]
                assert sim.events_by_type["session.keep_alive"] >= 3
            else:
                await busy.closed()  # keep-alives do not extend the sandbox minute
            keeper.cancel()
        state = sim.state.liveavatar_session(idle_id)
        assert state is not None and state.end_reason is not None
        assert state.end_reason.root == reason


async def test_closing_the_socket_leaves_the_session_open(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    session_id, url = await lite_session(sim, http)
    assert url is not None
    async with connect(url, proxy=None) as ws:
        await Client(ws).connected()
    await asyncio.sleep(0.05)
    assert sim.open_websockets() == 0
    # Still open, still billing: only a stop or the reaper ends it.
    session = sim.state.liveavatar_session(session_id)
    assert session is not None and session.is_open and sim.open_sessions() == 1
    async with connect(url, proxy=None) as ws:  # so a reconnect works, from connecting again
        again = Client(ws)
        await again.connected()
        assert again.states() == ["connecting", "connected"]


async def test_a_second_socket_replaces_the_first(
    sim: Simulator, http: aiohttp.ClientSession, client: tuple[str, Client]
) -> None:
    session_id, c = client
    async with connect(f"ws://127.0.0.1:{sim.port}/v1/sessions/{session_id}/ws", proxy=None) as ws:
        await Client(ws).connected()
        await c.closed()
        assert c.ws.close_code == 4001
        assert sim.open_websockets() == 1


def test_ending_a_session_from_another_thread_closes_its_socket() -> None:
    with SimulatorThread(SimulatorConfig(connect_delay_seconds=0.05)) as sim:

        async def scenario() -> Client:
            async with aiohttp.ClientSession() as http:
                session_id, url = await lite_session(sim.simulator, http)
                assert url is not None
                async with connect(url, proxy=None) as ws:
                    c = Client(ws)
                    await c.connected()
                    session = sim.state.liveavatar_session(session_id)
                    assert session is not None
                    # Not the simulator's thread: the close is marshalled onto its loop.
                    assert threading.current_thread() is not sim._thread
                    sim.state.end(session, USER_CLOSED)
                    await c.closed()
                    return c

        c = asyncio.run(scenario())
        assert c.states()[-2:] == ["closing", "closed"]
        assert sim.open_websockets() == 0


# ----------------------------------------------------------------- alpha endpoint


async def test_alpha_endpoint_in_the_alpha_dialect(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    session_id, url = await alpha_session(sim, http)
    assert url == f"ws://127.0.0.1:{sim.port}/v2-alpha/interactive-avatar/session/{session_id}"
    loop = asyncio.get_running_loop()
    async with connect(url, proxy=None) as ws:
        c = Client(ws)
        await c.connected()
        first = loop.time()
        for n, audio in enumerate((pcm(0.2), pcm(0.2, 1))):
            await ws.send(
                json.dumps(
                    {"type": "agent.audio_buffer_append", "event_id": f"a{n}", "audio": b64(audio)}
                )
            )
        # The vendor demo's commit: one zero byte of audio.
        await ws.send(
            json.dumps({"type": "agent.audio_buffer_commit", "event_id": "c1", "audio": "AA=="})
        )
        await c.expect("agent.status", status="talking", event_id="c1")
        idle_at, _ = await c.expect("agent.status", status="idle")
        assert 0.4 <= idle_at - first <= 0.4 + SLACK
        # Cleared audio never plays; an interrupt stops what does.
        await ws.send(
            json.dumps(
                {"type": "agent.audio_buffer_append", "event_id": "a2", "audio": b64(pcm(0.1))}
            )
        )
        await ws.send(json.dumps({"type": "agent.audio_buffer_clear", "event_id": "x"}))
        await ws.send(
            json.dumps(
                {"type": "agent.audio_buffer_append", "event_id": "a3", "audio": b64(pcm(1.0))}
            )
        )
        await ws.send(
            json.dumps({"type": "agent.audio_buffer_commit", "event_id": "c2", "audio": ""})
        )
        await c.expect("agent.status", status="talking", event_id="c2")
        await ws.send(json.dumps({"type": "agent.interrupt", "event_id": "i"}))
        await c.expect("agent.status", status="idle", within=SLACK)
        await ws.send(json.dumps({"type": "agent.start_listening", "event_id": "l1"}))
        await c.expect("agent.status", status="listening")
        await ws.send(json.dumps({"type": "agent.end_listening", "event_id": "l2"}))  # old name
        await c.expect("agent.status", status="idle")
    assert sim.received_audio(session_id) == pcm(0.2) + pcm(0.2, 1) + pcm(0.1) + pcm(1.0)
    assert "agent.speak_started" not in c.types()  # answered in the client's dialect
    assert sim.events_by_type["agent.end_listening"] == 1


async def test_alpha_interrupt_drops_uncommitted_audio_and_counts_late_appends(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    session_id, url = await alpha_session(sim, http)

    def append(event_id: str, audio: bytes) -> str:
        return json.dumps(
            {"type": "agent.audio_buffer_append", "event_id": event_id, "audio": b64(audio)}
        )

    def commit(event_id: str) -> str:
        return json.dumps({"type": "agent.audio_buffer_commit", "event_id": event_id, "audio": ""})

    async with connect(url, proxy=None) as ws:
        c = Client(ws)
        await c.connected()
        await ws.send(append("a", pcm(0.3)))  # appended, not committed
        await ws.send(json.dumps({"type": "agent.interrupt", "event_id": "i"}))
        # A client that goes on with the interrupted audio: dropped, counted.
        await ws.send(append("a", pcm(0.2, 1)))
        await ws.send(commit("a"))
        # A new utterance plays alone: nothing of "a" was left in the buffer.
        await ws.send(append("b", pcm(0.1, 2)))
        await ws.send(commit("b"))
        _, talking = await c.expect("agent.status", status="talking")
        assert talking["event_id"] == "b"
        await c.expect("agent.status", status="idle")
    assert sim.chunks_after_interrupt == 1
    assert sim.received_audio(session_id) == pcm(0.3) + pcm(0.1, 2)


async def test_alpha_endpoint_also_speaks_lite(sim: Simulator, http: aiohttp.ClientSession) -> None:
    session_id, url = await alpha_session(sim, http)
    async with connect(url, proxy=None) as ws:
        c = Client(ws)
        await c.connected()
        await ws.send(speak("u", pcm(0.2)))  # as today's Pipecat does
        await ws.send(speak_end("u"))
        await c.expect("agent.speak_ended", event_id="u")
        await ws.send(json.dumps({"type": "agent.start_listening", "event_id": "l"}))
        await c.expect("agent.state_updated", new_state="listening")
        await ws.send(json.dumps({"type": "agent.speak", "event_id": "bad"}))
        _, error = await c.expect("error")
        assert "'audio'" in error["error"]["message"]
    assert "agent.status" not in c.types()
    assert sim.received_audio(session_id) == pcm(0.2)


async def test_alpha_endpoint_takes_commands_at_once_unless_gated(
    http: aiohttp.ClientSession,
) -> None:
    for gated in (False, True):
        config = SimulatorConfig(connect_delay_seconds=DELAY, realtime_alpha_ready_gate=gated)
        async with Simulator(config) as sim:
            session_id, url = await alpha_session(sim, http)
            async with connect(url, proxy=None) as ws:
                c = Client(ws)
                await ws.send(
                    json.dumps(
                        {
                            "type": "agent.audio_buffer_append",
                            "event_id": "a",
                            "audio": b64(pcm(0.1)),
                        }
                    )
                )
                await c.connected()
            assert sim.dropped_before_ready == (1 if gated else 0)
            assert len(sim.received_audio(session_id)) == (0 if gated else 4800)


# ---------------------------------------------------------------------- refusals


async def test_sockets_of_unknown_or_unready_sessions_are_refused(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    base = f"ws://127.0.0.1:{sim.port}"
    unstarted, _ = await lite_session(sim, http, start=False)
    full, full_url = await lite_session(sim, http, mode="FULL")
    assert full_url is None
    for path in (
        f"/v1/sessions/{uuid.uuid4()}/ws",
        f"/v2-alpha/interactive-avatar/session/{uuid.uuid4()}",
        f"/v1/sessions/{unstarted}/ws",
        f"/v1/sessions/{full}/ws",
        f"/v2-alpha/interactive-avatar/session/{unstarted}",  # not a Streaming session
    ):
        with pytest.raises(InvalidStatus) as refused:
            await connect(base + path, proxy=None)
        assert refused.value.response.status_code == 404, path
    assert sim.open_websockets() == 0
    with pytest.raises(KeyError):
        sim.received_audio(str(uuid.uuid4()))
