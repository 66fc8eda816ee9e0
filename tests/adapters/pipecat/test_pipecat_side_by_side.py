"""Side by side: Pipecat's own HeyGenVideoService and ours, when TTS starts at once.

The same pipeline (Pipecat's ``run_test``: source, service, sink), the same
simulator settings (the service reports ready 1 s after the socket opens,
as the live service takes a moment to), the same 1.5 s of TTS audio pushed
as soon as the pipeline runs, as a bot's greeting is. Only the import differs.

Pipecat's service sends the audio as soon as its socket is open, without
waiting for ``connected``: the service drops it all, silently, and the
avatar says nothing. Ours holds it until the session is ready, and the
simulator receives every byte. The numbers are printed for the README.

Pipecat hard-codes its API base URL (``LiveAvatarApi.BASE_URL``): the test
points it at the simulator. Its LiveKit join (``HeyGenClient._livekit_connect``)
is stubbed: the simulator's rooms (``heygen-sim://``) are no LiveKit server,
and the LiveKit SDK would spend its retries on the URL. The audio goes over
the control socket, which does not depend on the room.
"""

from __future__ import annotations

import pytest

pytest.importorskip("pipecat")

import aiohttp
from pipecat.frames.frames import Frame, TTSStartedFrame, TTSStoppedFrame
from pipecat.processors.frame_processor import FrameProcessor
from pipecat.services.heygen.api_liveavatar import (
    LiveAvatarApi,
    LiveAvatarNewSessionRequest,
)
from pipecat.services.heygen.client import HeyGenClient, ServiceType
from pipecat.services.heygen.video import HeyGenVideoService as PipecatVideoService
from pipecat.tests.utils import SleepFrame, run_test

from heygen_core.pipecat import HeyGenVideoService
from heygen_core.session import SANDBOX_AVATAR_ID
from heygen_core.simulator import Simulator, SimulatorConfig
from tests.adapters.pipecat.support import KEY, tone, tts_frames

RATE = 24_000
GREETING_SECONDS = 1.5
# The live service's delay between the socket opening and `connected`, roughly.
CONNECT_DELAY = 1.0
REQUEST = LiveAvatarNewSessionRequest(avatar_id=SANDBOX_AVATAR_ID, is_sandbox=True)


async def no_room(self: HeyGenClient) -> None:
    """Pipecat's LiveKit join, stubbed (see the module docstring)."""


async def received_by_the_avatar(
    build: type[FrameProcessor], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, int, int]:
    """Run the greeting through `build`'s service; return (bytes received, sent, dropped)."""
    pcm = tone(GREETING_SECONDS, RATE)
    frames: list[Frame] = [
        TTSStartedFrame(),
        *tts_frames(pcm, RATE),
        TTSStoppedFrame(),
        # The conversation goes on: the pipeline ends well after the greeting.
        SleepFrame(CONNECT_DELAY + GREETING_SECONDS),
    ]
    async with (
        Simulator(SimulatorConfig(connect_delay_seconds=CONNECT_DELAY)) as sim,
        aiohttp.ClientSession() as http,
    ):
        monkeypatch.setattr(LiveAvatarApi, "BASE_URL", f"{sim.url}/v1")
        monkeypatch.setattr(HeyGenClient, "_livekit_connect", no_room)
        kwargs: dict[str, object] = {
            "api_key": KEY,
            "session": http,
            "session_request": REQUEST,
            "service_type": ServiceType.LIVE_AVATAR,
        }
        if build is HeyGenVideoService:
            kwargs |= {"base_url": sim.url, "end_timeout": 5.0}
        await run_test(build(**kwargs), frames_to_send=frames, start_timeout=10.0)
        (session,) = sim.state.liveavatar_sessions()
        received = len(sim.received_audio(session.id))
        assert sim.open_sessions() == 0  # both stop their session at the end
        return received, len(pcm), sim.dropped_before_ready


async def test_ours_delivers_the_greeting_that_pipecats_own_service_loses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    theirs, total, theirs_dropped = await received_by_the_avatar(PipecatVideoService, monkeypatch)
    ours, _, ours_dropped = await received_by_the_avatar(HeyGenVideoService, monkeypatch)
    print(
        f"\nTTS greeting of {GREETING_SECONDS} s pushed at pipeline start, "
        f"service ready after {CONNECT_DELAY} s:\n"
        f"  pipecat.services.heygen.HeyGenVideoService: {theirs / 2 / RATE:.2f} s "
        f"of {total / 2 / RATE:.2f} s reached the avatar "
        f"({theirs_dropped} messages dropped before ready)\n"
        f"  heygen_core.pipecat.HeyGenVideoService:     {ours / 2 / RATE:.2f} s "
        f"of {total / 2 / RATE:.2f} s reached the avatar "
        f"({ours_dropped} messages dropped before ready)"
    )
    assert theirs_dropped > 0
    assert theirs < total / 2  # Pipecat's: most (in practice all) of it is lost
    assert ours == total  # ours: every byte, in order
    assert ours_dropped == 0
