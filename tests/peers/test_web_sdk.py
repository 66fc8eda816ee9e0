"""The official web SDK (`@heygen/liveavatar-web-sdk` 0.0.18) in Node, against the simulator.

`web-sdk/driver.mjs` drives the SDK through its public API: a
`LiveAvatarSession` from a session token this test mints, pointed at the
simulator with its `apiUrl` option; `start()` (REST start with the session
token, then its LITE socket), `keepAlive()`, `repeatAudio()` and `stop()`.
WebRTC is stubbed in the driver (Node has none; the simulator's rooms are not
a LiveKit server): see its header for exactly what. Everything here is
asserted from the simulator's side, plus what the SDK itself decided (the
mode it decoded from the token).

The SDK's `start()` resolves as soon as its socket opens, before the
service reports ``connected``, and it surfaces no event for that; audio sent
right away is dropped, silently, as the live service drops every command
before ``connected``. The session test waits for ``connected`` on the socket,
as an app must; `test_web_sdk_audio_right_after_start_is_dropped` pins the
SDK's own behaviour.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from heygen_models import liveavatar as la

from heygen_core.rest.liveavatar_client import LiveAvatarClient
from heygen_core.simulator import Simulator
from tests.support.peer_driver import run_driver as run_peer_driver
from tests.support.real_world_bodies import SANDBOX_AVATAR

ROOT = Path(__file__).resolve().parents[2]
PEER_DIR = ROOT / ".peers" / "web-sdk"
DRIVER = Path(__file__).resolve().parent / "web-sdk" / "driver.mjs"
KEY = "sk-web-sdk-peer"
SAMPLE_RATE = 24_000
TIMEOUT = 60.0

pytestmark = pytest.mark.slow


def tone(seconds: float) -> bytes:
    """PCM16 24 kHz mono: a 220 Hz tone, long enough for the SDK to send it in several chunks."""
    t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
    return (np.sin(2 * np.pi * 220.0 * t) * 8000).astype("<i2").tobytes()


async def mint_lite_token(sim: Simulator) -> tuple[str, str]:
    """Return (session_id, session_token) for a LITE sandbox session, as a backend would."""
    async with LiveAvatarClient(KEY, base_url=sim.url) as client:
        token = await client.create_session_token(
            la.LiteSessionTokenRequest(mode="LITE", avatar_id=SANDBOX_AVATAR, is_sandbox=True)
        )
    return token.data.session_id, token.data.session_token


async def run_driver(
    sim: Simulator, token: str, pcm: bytes, speak_when: str, tmp_path: Path
) -> dict[str, Any]:
    """Run the Node driver; return its report (the test fails if it did not finish cleanly)."""
    if not (PEER_DIR / ".installed").exists():
        pytest.fail(f"the web SDK is not installed in {PEER_DIR}: run `make peers`")
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the web SDK peer needs Node 20 (then run `make peers`)")
    audio_file = tmp_path / "audio.b64"
    audio_file.write_text(base64.b64encode(pcm).decode("ascii"))
    env = {
        **os.environ,
        "PEER_DIR": str(PEER_DIR),
        "API_URL": sim.url,
        "SESSION_TOKEN": token,
        "AUDIO_FILE": str(audio_file),
        "SPEAK_WHEN": speak_when,
    }
    status, out = await run_peer_driver([node, str(DRIVER)], what="web SDK", limit=TIMEOUT, env=env)
    lines = out.strip().splitlines()
    assert status == 0 and lines, f"driver exited {status}\nstdout: {out}"
    report: dict[str, Any] = json.loads(lines[-1])
    return report


def rest_calls(report: dict[str, Any]) -> list[tuple[str, bool, object]]:
    """The SDK's REST calls, in order: (path, sent a body, status)."""
    return [(r["path"], r["hasBody"], r["status"]) for r in report["requests"]]


async def test_web_sdk_lite_session_delivers_audio_and_stops(tmp_path: Path) -> None:
    pcm = tone(1.5)
    async with Simulator() as sim:
        session_id, token = await mint_lite_token(sim)
        report = await run_driver(sim, token, pcm, "connected", tmp_path)

        # Token decode: the SDK read `start_session_data.mode` from the JWT
        # (it assumes FULL when it cannot).
        assert report["mode"] == "LITE"
        # REST: start, keep-alive and stop with the session token and no body,
        # each accepted by the simulator.
        assert rest_calls(report) == [
            ("/v1/sessions/start", False, 201),
            ("/v1/sessions/keep-alive", False, 200),
            ("/v1/sessions/stop", False, 200),
        ]
        assert sim.requests_by_operation["start_session"] == 1
        assert sim.requests_by_operation["keep_alive_session"] == 1
        assert sim.requests_by_operation["stop_session"] == 1
        assert report["sessionId"] == session_id
        assert report["roomConnect"] == {"url": sim.room_url, "tokenGiven": True}

        # Socket: the whole utterance arrived, in the SDK's chunks, then its end.
        assert sim.received_audio(session_id) == pcm
        types = [kind for _, kind, _ in sim.client_events(session_id)]
        assert len(types) >= 2 and set(types[:-1]) == {"agent.speak"}, types
        assert types[-1] == "agent.speak_end"
        assert sim.dropped_before_ready == 0
        assert "agent.state_updated:talking" in report["serverEvents"]

        # Stopped through the SDK.
        assert report["disconnectReason"] == "CLIENT_INITIATED"
        assert report["states"] == ["CONNECTING", "CONNECTED", "DISCONNECTING", "DISCONNECTED"]
        assert sim.open_sessions() == 0


async def test_web_sdk_audio_right_after_start_is_dropped(tmp_path: Path) -> None:
    # The SDK's own bug: `start()` resolves (state CONNECTED) when the socket
    # opens, before the service's `connected`; what it sends then is dropped.
    pcm = tone(0.5)
    async with Simulator() as sim:
        session_id, token = await mint_lite_token(sim)
        report = await run_driver(sim, token, pcm, "started", tmp_path)

        assert report["mode"] == "LITE"
        assert report["errors"] == []
        events = sim.client_events(session_id)
        types = [kind for _, kind, _ in events]
        assert len(types) >= 2 and set(types[:-1]) == {"agent.speak"}, types
        assert types[-1] == "agent.speak_end"
        connected_at = next(
            at
            for at, kind, wire in sim.server_events(session_id)
            if kind == "session.state_updated" and wire.get("state") == "connected"
        )
        assert all(at < connected_at for at, _, _ in events)
        assert sim.received_audio(session_id) == b""
        assert sim.dropped_before_ready == len(events)
        assert sim.open_sessions() == 0
