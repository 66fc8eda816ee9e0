"""Pipecat 1.14 (``pipecat-ai``) against the simulator (issue 11 item 6).

Pipecat runs in its own venv (``make peers`` builds ``.peers/pipecat`` from
``tests/peers/pipecat/requirements.txt``); ``pipecat/driver.py`` drives its
``LiveAvatarApi``, the socket of its ``HeyGenClient`` and its ``HeyGenApi``
(see that script for what each step does). Everything is asserted from the
simulator's side.

Pipecat's ``HeyGenClient`` sends audio as soon as its socket is open, without
waiting for the service's ``connected`` state; the service silently drops
what comes before it, and so does the simulator. The test asserts exactly
that: the first utterance is dropped, and only the one spoken after
``connected`` is delivered.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import pytest

from heygen_core.simulator import Simulator
from tests.support.peer_driver import run_driver

ROOT = Path(__file__).resolve().parents[2]
PEER_PYTHON = ROOT / ".peers" / "pipecat" / "bin" / "python"
DRIVER = Path(__file__).parent / "pipecat" / "driver.py"
SAMPLE_RATE = 24_000
DRIVER_TIMEOUT = 60.0


def _tone(start_hz: float, seconds: float) -> bytes:
    # A rising tone, 24 kHz mono PCM16: no two chunks alike, and the two
    # utterances differ, so which one arrived (and in what order) shows.
    samples = int(SAMPLE_RATE * seconds)
    return b"".join(
        struct.pack(
            "<h", int(9000 * math.sin(2 * math.pi * (start_hz + i / 200) * i / SAMPLE_RATE))
        )
        for i in range(samples)
    )


async def _drive(sim: Simulator, early: Path, late: Path) -> dict[str, dict[str, Any]]:
    if not PEER_PYTHON.exists():
        pytest.fail(f"{PEER_PYTHON} is missing: run `make peers` to install the peer clients")
    status, out = await run_driver(
        [str(PEER_PYTHON), str(DRIVER), sim.url, str(early), str(late)],
        what="pipecat",
        limit=DRIVER_TIMEOUT,
    )
    if status != 0:
        pytest.fail(f"the pipecat driver failed ({status})")
    steps = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {step["step"]: step for step in steps}


@pytest.mark.slow
async def test_pipecat_completes_its_sessions(tmp_path: Path) -> None:
    """LiveAvatarApi, HeyGenClient's socket and HeyGenApi each complete a session.

    The audio Pipecat sends before ``connected`` is dropped, as the live
    service drops it; the audio sent after it is delivered byte for byte.
    """
    early_pcm, late_pcm = _tone(300, 1.6), _tone(700, 1.6)
    early, late = tmp_path / "early.pcm", tmp_path / "late.pcm"
    early.write_bytes(early_pcm)
    late.write_bytes(late_pcm)

    async with Simulator() as sim:
        steps = await _drive(sim, early, late)
        assert "done" in steps, steps

        # Every call reached the simulator, each API through its own routes.
        calls = sim.requests_by_api_operation
        for operation in ("create_session_token", "start_session", "stop_session"):
            assert calls[f"liveavatar.{operation}"] == 2, calls  # LiveAvatarApi + HeyGenClient
        for operation in ("create_token", "new_session", "start_session", "stop_session"):
            assert calls[f"streaming.{operation}"] == 1, calls

        # 1. LiveAvatarApi on its own: started, then stopped.
        api_id = steps["liveavatar_api.started"]["session_id"]
        api_session = sim.state.liveavatar_session(api_id)
        assert api_session is not None and api_session.started_mono is not None
        assert api_session.status == "stopped"

        # 2. HeyGenClient: the other LiveAvatar session, the one with a socket.
        (client_session,) = (s for s in sim.state.liveavatar_sessions() if s.id != api_id)
        assert client_session.started_mono is not None
        assert client_session.status == "stopped"
        connected_at = [
            t
            for t, _, wire in sim.server_events(client_session.id)
            if wire.get("state") == "connected"
        ]
        assert len(connected_at) == 1
        events = sim.client_events(client_session.id)
        before = [kind for t, kind, _ in events if t < connected_at[0]]
        after = [kind for t, kind, _ in events if t >= connected_at[0]]
        # Pipecat's bug: its first utterance goes out before `connected`...
        assert steps["heygen_client.early_audio"]["connected_before"] is False
        assert "agent.speak" in before and before[-1] == "agent.speak_end", events
        # ...and is dropped, as the live service drops it, with no error sent.
        assert sim.dropped_before_ready == len(before)
        assert "error" not in sim.server_events_by_type
        # The utterance spoken after `connected` is delivered, byte for byte.
        assert "agent.speak" in after and after[-1] == "agent.speak_end", events
        assert sim.received_audio(client_session.id) == late_pcm

        # 3. HeyGenApi: streaming.new and streaming.start, then streaming.stop.
        streaming_id = steps["heygen_api.started"]["session_id"]
        streaming = sim.state.streaming_session(streaming_id)
        assert streaming is not None and streaming.started_mono is not None
        assert streaming.status == "closed"

        assert sim.open_sessions() == 0
        assert sim.open_websockets() == 0
