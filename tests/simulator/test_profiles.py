"""Simulator profiles: how a LITE socket reports speech, liveness, tokens and avatars.

A raw `websockets` client plays the user's side, over real loopback sockets,
so each test sees the exact events a client of the service would see.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import jwt
import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from heygen_core.cli.main import main
from heygen_core.simulator import Simulator, SimulatorConfig
from heygen_core.simulator.catalogue import PIPECAT_LIVEAVATAR_AVATAR_ID
from heygen_core.simulator.config import DEFAULT_PROFILE, SpeechProfile
from heygen_core.simulator.rooms.tokens import RoomTokens

KEY = "profile-test-key"
SANDBOX_AVATAR = "dd73ea75-1218-4ef3-92ce-606d5f7fbc0a"
SPEECH = {"agent.state_updated", "agent.speak_started", "agent.speak_ended"}
ACKS = {"agent.audio_buffer_appended", "agent.audio_buffer_committed"}


def pcm(seconds: float, seed: int = 0) -> bytes:
    """Deterministic 24 kHz mono PCM16 (a ramp, so misordered bytes show)."""
    ramp = (np.arange(int(seconds * 24_000)) * 7 + seed) % 65536 - 32768
    return ramp.astype("<i2").tobytes()


def speak(audio: bytes, event_id: str | None = None) -> str:
    frame: dict[str, Any] = {"type": "agent.speak", "audio": base64.b64encode(audio).decode()}
    if event_id is not None:
        frame["event_id"] = event_id
    return json.dumps(frame)


def speak_end(event_id: str | None = None) -> str:
    frame = {"type": "agent.speak_end"} | ({} if event_id is None else {"event_id": event_id})
    return json.dumps(frame)


async def started_lite(sim: Simulator, http: aiohttp.ClientSession) -> tuple[str, str, str]:
    """Create and start a LITE session; return its id, ws_url and session token."""
    body = {"mode": "LITE", "avatar_id": SANDBOX_AVATAR, "is_sandbox": True}
    headers = {"X-API-KEY": KEY}
    async with http.post(f"{sim.url}/v1/sessions/token", json=body, headers=headers) as r:
        token = (await r.json())["data"]
    bearer = {"Authorization": f"Bearer {token['session_token']}"}
    # /start takes no body; one sent anyway is ignored.
    async with http.post(f"{sim.url}/v1/sessions/start", json={"junk": 1}, headers=bearer) as r:
        assert r.status == 201, await r.text()
        data = (await r.json())["data"]
    return data["session_id"], data["ws_url"], token["session_token"]


async def read_until_idle(ws: ClientConnection, within: float = 3.0) -> list[dict[str, Any]]:
    """Every event up to the avatar's return to idle (after it talked)."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(within):
        while True:
            event = json.loads(await ws.recv())
            events.append(event)
            if event["type"] == "agent.state_updated" and event.get("new_state") == "idle":
                return events


async def connected(ws: ClientConnection) -> None:
    async with asyncio.timeout(3):
        while json.loads(await ws.recv()).get("state") != "connected":
            pass


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def config(profile: SpeechProfile, **more: Any) -> SimulatorConfig:
    return SimulatorConfig(connect_delay_seconds=0.05, profile=profile, **more)


def shape(events: list[dict[str, Any]]) -> list[str]:
    """Types, with the state change of each agent.state_updated."""
    return [
        f"{e['type']}:{e['previous_state']}>{e['new_state']}"
        if e["type"] == "agent.state_updated"
        else e["type"]
        for e in events
    ]


def test_the_default_profile_is_one_constant() -> None:
    assert SimulatorConfig().profile == DEFAULT_PROFILE
    with pytest.raises(ValueError, match="profile"):
        SimulatorConfig(profile="loud")  # type: ignore[arg-type]


async def test_live_reports_states_and_acknowledgements(http: aiohttp.ClientSession) -> None:
    async with Simulator(config("live")) as sim:
        session_id, url, _ = await started_lite(sim, http)
        async with connect(url, proxy=None) as ws:
            await connected(ws)
            await ws.send(speak(pcm(0.05), "c1"))
            await ws.send(speak(pcm(0.05, 1)))  # no event_id: same buffer
            await ws.send(speak_end("other-id"))
            events = await read_until_idle(ws)
    assert shape(events) == [
        "agent.audio_buffer_appended",
        "agent.state_updated:idle>talking",
        "agent.audio_buffer_appended",
        "agent.audio_buffer_committed",
        "agent.state_updated:talking>idle",
    ]
    assert events[0]["source_event_id"] == "c1"
    assert events[3]["source_event_id"] == "other-id"
    assert sim.received_audio(session_id) == pcm(0.05) + pcm(0.05, 1)


async def test_documented_reports_speak_events_per_event_id(http: aiohttp.ClientSession) -> None:
    async with Simulator(config("documented")) as sim:
        _, url, _ = await started_lite(sim, http)
        async with connect(url, proxy=None) as ws:
            await connected(ws)
            await ws.send(speak(pcm(0.05), "u"))
            await ws.send(speak(pcm(0.05, 1), "u"))
            await ws.send(speak_end("u"))
            events = await read_until_idle(ws)
    assert shape(events) == [
        "agent.speak_started",
        "agent.state_updated:idle>talking",
        "agent.speak_ended",
        "agent.state_updated:talking>idle",
    ]
    assert [e["event_id"] for e in events if e["type"].startswith("agent.speak")] == ["u", "u"]


async def test_chunked_reports_speak_events_per_20_ms(http: aiohttp.ClientSession) -> None:
    async with Simulator(config("chunked")) as sim:
        _, url, _ = await started_lite(sim, http)
        async with connect(url, proxy=None) as ws:
            await connected(ws)
            await ws.send(speak(pcm(0.2), "u"))
            await ws.send(speak_end("u"))
            events = await read_until_idle(ws)
    speech = [e["type"] for e in events if e["type"].startswith("agent.speak")]
    assert not {e["type"] for e in events} & ACKS
    # Started/ended pairs, one per ~20 ms of the 200 ms played.
    assert speech == ["agent.speak_started", "agent.speak_ended"] * (len(speech) // 2)
    assert 6 <= len(speech) // 2 <= 12


@pytest.mark.parametrize("profile", ["live", "documented", "chunked"])
async def test_one_buffer_whatever_the_event_ids(
    http: aiohttp.ClientSession, profile: SpeechProfile
) -> None:
    async with Simulator(config(profile)) as sim:
        session_id, url, _ = await started_lite(sim, http)
        chunks = [pcm(0.04, seed) for seed in range(4)]
        async with connect(url, proxy=None) as ws:
            await connected(ws)
            for chunk, event_id in zip(chunks, ["a", "b", None, "c"], strict=True):
                await ws.send(speak(chunk, event_id))
            await ws.send(speak_end())  # no id: closes what is buffered
            events = await read_until_idle(ws)
    # One playback: talking once, back to idle once, after all 160 ms.
    states = [e for e in events if e["type"] == "agent.state_updated"]
    assert [s["new_state"] for s in states] == ["talking", "idle"]
    assert "warning" not in {e["type"] for e in events}
    assert sim.received_audio(session_id) == b"".join(chunks)
    if profile == "live":
        assert not {e["type"] for e in events} & {"agent.speak_started", "agent.speak_ended"}


async def test_live_interrupt_clears_the_buffer(http: aiohttp.ClientSession) -> None:
    async with Simulator(config("live")) as sim:
        _, url, _ = await started_lite(sim, http)
        async with connect(url, proxy=None) as ws:
            await connected(ws)
            await ws.send(speak(pcm(1.0), "u"))
            await ws.send(json.dumps({"type": "agent.interrupt", "event_id": "i1"}))
            events = await read_until_idle(ws)
    assert shape(events) == [
        "agent.audio_buffer_appended",
        "agent.state_updated:idle>talking",
        "agent.audio_buffer_cleared",
        "agent.state_updated:talking>idle",
    ]
    assert events[2]["source_event_id"] == "i1"


@pytest.mark.parametrize("stall", [True, False])
async def test_stalled_pongs(http: aiohttp.ClientSession, stall: bool) -> None:
    async with Simulator(config("live", stall_pongs=stall)) as sim:
        _, url, _ = await started_lite(sim, http)
        async with connect(url, proxy=None, ping_interval=None) as ws:
            await connected(ws)
            pong = await ws.ping()
            if stall:
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(pong), 0.5)
            else:
                await asyncio.wait_for(pong, 0.5)


async def test_a_pinging_client_times_out_with_1011(http: aiohttp.ClientSession) -> None:
    async with Simulator(config("live", stall_pongs=True)) as sim:
        _, url, _ = await started_lite(sim, http)
        async with connect(url, proxy=None, ping_interval=0.1, ping_timeout=0.2) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                async with asyncio.timeout(3):
                    while True:
                        await ws.recv()
            # websockets gives up on the missing pong and closes with 1011 itself.
            assert closed.value.sent is not None and closed.value.sent.code == 1011


async def test_the_session_token_is_a_jwt_with_start_session_data(
    http: aiohttp.ClientSession,
) -> None:
    async with Simulator(config(DEFAULT_PROFILE)) as sim:
        session_id, _, token = await started_lite(sim, http)
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["session_id"] == session_id
        assert claims["start_session_data"]["mode"] == "LITE"
        assert claims["start_session_data"]["is_sandbox"] is True
        # Stop and keep-alive take no body.
        bearer = {"Authorization": f"Bearer {token}"}
        for path in ("keep-alive", "stop"):
            async with http.post(f"{sim.url}/v1/sessions/{path}", headers=bearer) as r:
                assert r.status == 200, (path, await r.text())


def test_room_tokens_are_jwts_that_expire() -> None:
    now = [1000.0]
    tokens = RoomTokens(ttl_seconds=60, clock=lambda: now[0])
    token = tokens.mint("room-1", "user-1", "client")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["sub"], claims["video"]["room"], claims["exp"]) == ("user-1", "room-1", 1060.0)
    grant = tokens.verify(token)
    assert not isinstance(grant, str) and grant.identity == "user-1"
    now[0] = 1060.0
    assert "expired" in str(tokens.verify(token))
    assert "invalid" in str(RoomTokens().verify(RoomTokens().mint("room-1", "u", "client")))


async def test_an_expired_room_token_cannot_join(http: aiohttp.ClientSession) -> None:
    async with Simulator(config(DEFAULT_PROFILE, room_token_seconds=0.2)) as sim:
        body = {"mode": "FULL", "avatar_id": SANDBOX_AVATAR, "is_sandbox": True}
        async with http.post(
            f"{sim.url}/v1/sessions/token", json=body, headers={"X-API-KEY": KEY}
        ) as r:
            token = (await r.json())["data"]["session_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        async with http.post(f"{sim.url}/v1/sessions/start", headers=bearer) as r:
            data = (await r.json())["data"]
        room = {"Authorization": f"Bearer {data['livekit_client_token']}"}
        async with http.get(f"{sim.url}/v1/rooms/rtc", headers=room) as r:
            assert r.status != 401, await r.text()  # still valid: the upgrade is attempted
        await asyncio.sleep(0.3)
        async with http.get(f"{sim.url}/v1/rooms/rtc", headers=room) as r:
            assert r.status == 401
            assert "expired" in (await r.json())["message"]


@pytest.mark.parametrize(
    ("avatar", "accepted"),
    [(PIPECAT_LIVEAVATAR_AVATAR_ID, True), ("Wayne_20240711", True), ("no-such-avatar", False)],
)
async def test_streaming_new_refuses_unknown_avatars(
    http: aiohttp.ClientSession, avatar: str, accepted: bool
) -> None:
    async with Simulator(config(DEFAULT_PROFILE)) as sim:
        async with http.post(
            f"{sim.url}/v1/streaming.new",
            json={"avatar_id": avatar, "version": "v2"},
            headers={"x-api-key": KEY},
        ) as r:
            body = await r.json()
        assert (r.status == 200) is accepted, body
        if not accepted:
            assert avatar in body["message"]


def test_cli_profile_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as bad:
        main(["simulator", "--profile", "loud"])
    assert bad.value.code == 2
    assert "--profile" in capsys.readouterr().err
    with pytest.raises(SystemExit) as shown:
        main(["simulator", "--help"])
    assert shown.value.code == 0
    assert "live" in capsys.readouterr().out
