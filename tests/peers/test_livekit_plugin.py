"""``livekit-plugins-liveavatar`` 1.8.9 against the simulator (issue 11 item 6).

The plugin runs in its own venv (``make peers`` builds ``.peers/livekit-plugin``
from ``tests/peers/livekit-plugin/requirements.txt``); ``drive.py`` starts an
``AvatarSession``, speaks a clip through the audio output the plugin
installs, waits for its playout and closes. Everything is asserted from
the simulator's side.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import pytest

from heygen_core.simulator import Simulator, SimulatorConfig
from heygen_core.simulator.config import SpeechProfile
from tests.support.peer_driver import run_driver

ROOT = Path(__file__).resolve().parents[2]
PEER_PYTHON = ROOT / ".peers" / "livekit-plugin" / "bin" / "python"
DRIVER = Path(__file__).parent / "livekit-plugin" / "drive.py"
# A public avatar of the simulator's catalogue that is not the sandbox one:
# the plugin's default is a billed (non-sandbox) session.
AVATAR_ID = "513fd1b7-7ef9-466d-9af2-344e51eeb833"
SAMPLE_RATE = 24_000
CLIP_SECONDS = 2.0
DRIVER_TIMEOUT = 60.0


def _clip() -> bytes:
    # A rising tone: no two 20 ms frames alike, so reordered or repeated
    # chunks cannot compare equal. 2 s makes the plugin send three chunks
    # (0.6 s, 1 s, then the rest at speak_end).
    samples = int(SAMPLE_RATE * CLIP_SECONDS)
    return b"".join(
        struct.pack("<h", int(9000 * math.sin(2 * math.pi * (300 + i / 200) * i / SAMPLE_RATE)))
        for i in range(samples)
    )


async def _drive(sim: Simulator, clip: Path) -> dict[str, Any]:
    if not PEER_PYTHON.exists():
        pytest.fail(f"{PEER_PYTHON} is missing: run `make peers` to install the peer clients")
    status, out = await run_driver(
        [str(PEER_PYTHON), str(DRIVER), sim.url, AVATAR_ID, str(clip)],
        what="livekit-plugin",
        limit=DRIVER_TIMEOUT,
    )
    if status != 0:
        pytest.fail(f"the livekit-plugin driver failed ({status})")
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["live", "documented"])
async def test_livekit_plugin_completes_a_session(profile: SpeechProfile, tmp_path: Path) -> None:
    """A session is started, its audio played as one playback, awaited and stopped.

    ``live`` is what the service does (no ``agent.speak_ended``: the plugin
    must take the end from ``agent.state_updated``); ``documented`` is what
    the vendor's event page describes.
    """
    pcm = _clip()
    clip = tmp_path / "clip.pcm"
    clip.write_bytes(pcm)
    async with Simulator(SimulatorConfig(profile=profile)) as sim:
        report = await _drive(sim, clip)
        sessions = sim.state.liveavatar_sessions()
        assert len(sessions) == 1
        session_id = sessions[0].id

        # REST through the plugin's LiveAvatarAPI: token, start (with its
        # `{session_id}` body), stop — once each.
        ops = sim.requests_by_operation
        assert (ops["create_session_token"], ops["start_session"], ops["stop_session"]) == (1, 1, 1)
        session = sim.state.liveavatar_session(session_id)
        assert session is not None and session.started_mono is not None
        assert session.status == "stopped"
        # The plugin's own stop, not the reaper.
        assert session.end_reason is not None and session.end_reason.root == "USER_DISCONNECTED"
        assert sim.open_sessions() == 0
        assert sim.open_websockets() == 0

        # The audio, through the plugin's audio output: all of it, in order,
        # none dropped before `connected` (the plugin waits for it).
        assert report["audio_output"] == "QueueAudioOutput"
        assert sim.received_audio(session_id) == pcm
        assert sim.dropped_before_ready == 0

        events = sim.client_events(session_id)
        speak_ids = [wire["event_id"] for _, kind, wire in events if kind == "agent.speak"]
        ends = [wire for _, kind, wire in events if kind == "agent.speak_end"]
        # A new event_id per chunk, and another for speak_end...
        assert len(speak_ids) >= 2 and len(set(speak_ids)) == len(speak_ids)
        assert len(ends) == 1 and ends[0]["event_id"] not in speak_ids
        # ...yet one playback: the avatar started talking once, and went
        # back to listening (the plugin sent start_listening) once it played out.
        states = [
            wire["new_state"]
            for _, kind, wire in sim.server_events(session_id)
            if kind == "agent.state_updated"
        ]
        assert states == ["talking", "listening"]
        if profile == "live":
            assert sim.server_events_by_type["agent.speak_ended"] == 0

        # speak_end honoured: the plugin's playout wait returned, uninterrupted,
        # and not before the clip could have played (1 s connect delay + 2 s).
        assert report["playout"] == "returned"
        assert report["interrupted"] is False
        assert report["playout_seconds"] >= CLIP_SECONDS
