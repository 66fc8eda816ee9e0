"""`heygen_core.pipecat.HeyGenVideoService` in real Pipecat pipelines against the simulator.

Each test runs Pipecat's own test pipeline (``pipecat.tests.utils.run_test``:
a source, the service, a sink, driven by a ``PipelineWorker``) with the
service pointed at the embedded simulator, and checks from the simulator's
side what reached the service.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

pytest.importorskip("pipecat")

import aiohttp
import numpy as np
from pipecat.frames.frames import (
    CancelFrame,
    ErrorFrame,
    InterruptionFrame,
    OutputImageRawFrame,
    SpeechOutputAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.services.heygen.api_interactive_avatar import NewSessionRequest
from pipecat.services.heygen.api_liveavatar import LiveAvatarNewSessionRequest
from pipecat.services.heygen.client import ServiceType
from pipecat.tests.utils import SleepFrame, run_test

from heygen_core.errors import SessionError
from heygen_core.pipecat import HeyGenVideoService
from heygen_core.session import SANDBOX_AVATAR_ID
from heygen_core.simulator import Simulator, SimulatorConfig
from tests.adapters.pipecat.support import (
    KEY,
    at_24k,
    client_event_types,
    of_type,
    tone,
    tts_frames,
)

SANDBOX = LiveAvatarNewSessionRequest(avatar_id=SANDBOX_AVATAR_ID, is_sandbox=True)


def service(sim: Simulator, http: aiohttp.ClientSession, **kwargs: object) -> HeyGenVideoService:
    """The drop-in, as a pipeline builds it, plus ``base_url``."""
    options: dict[str, object] = {"session_request": SANDBOX, "end_timeout": 5.0} | kwargs
    return HeyGenVideoService(api_key=KEY, session=http, base_url=sim.url, **options)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def simulated(
    connect_delay: float = 0.2,
) -> AsyncIterator[tuple[Simulator, aiohttp.ClientSession]]:
    """The simulator (its sessions ready `connect_delay` s after start) and an HTTP session."""
    async with (
        Simulator(SimulatorConfig(connect_delay_seconds=connect_delay)) as sim,
        aiohttp.ClientSession() as http,
    ):
        yield sim, http


def opened_id(avatar: HeyGenVideoService) -> str:
    """The id of the session the service opened (it must have opened one)."""
    session = avatar.avatar_session
    assert session is not None and session.session_id is not None
    return session.session_id


async def test_tts_audio_reaches_the_avatar_and_its_voice_and_video_come_back() -> None:
    # TTS at 16 kHz, from the first frame the pipeline runs: converted to
    # 24 kHz, held until the session is ready, and sent as one utterance.
    pcm = tone(1.0, 16_000)
    async with simulated(0.3) as (sim, http):
        avatar = service(sim, http)
        down, up = await run_test(
            avatar,
            frames_to_send=[TTSStartedFrame(), *tts_frames(pcm, 16_000), TTSStoppedFrame()],
        )
        sid = opened_id(avatar)
        assert sim.received_audio(sid) == at_24k(pcm, 16_000)
        kinds = client_event_types(sim, sid)
        assert kinds.count("agent.speak_end") == 1  # one utterance...
        speaks = [w for _, k, w in sim.client_events(sid) if k == "agent.speak"]
        assert len({w["event_id"] for w in speaks}) == 1  # ...with one event_id
        assert sim.dropped_before_ready == 0
        # The avatar's voice and video, pushed downstream in place of the TTS audio.
        voice = of_type(down, SpeechOutputAudioRawFrame)
        video = of_type(down, OutputImageRawFrame)
        assert voice and video
        assert {f.sample_rate for f in voice} == {24_000}  # type: ignore[attr-defined]
        samples = np.frombuffer(b"".join(f.audio for f in voice), "<i2")  # type: ignore[attr-defined]
        assert np.abs(samples).max() > 5_000  # it said something, not only silence
        assert video[0].size == (160, 90) and video[0].format == "RGB"  # type: ignore[attr-defined]
        assert not of_type(up, ErrorFrame)
        # EndFrame stopped the session, once.
        assert sim.open_sessions() == 0
        assert sim.requests_by_api_operation["liveavatar.stop_session"] == 1


async def test_interruption_and_user_turns_reach_the_avatar() -> None:
    pcm = tone(6.0, 24_000)
    async with simulated() as (sim, http):
        avatar = service(sim, http)
        await run_test(
            avatar,
            frames_to_send=[
                SleepFrame(0.6),  # the session is ready
                TTSStartedFrame(),
                *tts_frames(pcm, 24_000),
                SleepFrame(1.0),
                UserStartedSpeakingFrame(),
                InterruptionFrame(),
                SleepFrame(0.2),
                UserStoppedSpeakingFrame(),
                TTSStoppedFrame(),
            ],
        )
        sid = opened_id(avatar)
        kinds = client_event_types(sim, sid)
        assert "agent.interrupt" in kinds
        assert kinds.index("agent.start_listening") < kinds.index("agent.stop_listening")
        # Nothing of the interrupted turn was sent after the interrupt...
        assert kinds[kinds.index("agent.interrupt") :].count("agent.speak") == 0
        assert sim.chunks_after_interrupt == 0
        # ...so the avatar got the 3 s lead and a little more, not the 6 s.
        assert len(sim.received_audio(sid)) < len(pcm) * 0.8
        assert sim.open_sessions() == 0


async def test_pipecat_requests_and_service_types_are_accepted() -> None:
    async with simulated() as (sim, http):
        # Pipecat's Interactive Avatar request: the Streaming API.
        avatar = service(
            sim,
            http,
            session_request=NewSessionRequest(avatar_id="Shawn_Therapist_public"),
            service_type=ServiceType.INTERACTIVE_AVATAR,
        )
        pcm = tone(0.5, 24_000)
        await run_test(avatar, frames_to_send=[*tts_frames(pcm, 24_000), TTSStoppedFrame()])
        opened_id(avatar)  # a session was opened (and stopped, below)
        assert sim.requests_by_api_operation["streaming.new_session"] == 1
        assert sim.requests_by_api_operation["streaming.stop_session"] == 1
        assert sim.open_sessions() == 0

    with pytest.raises(SessionError, match="needs a LiveAvatarNewSessionRequest"):
        HeyGenVideoService(
            api_key=KEY,
            session=None,  # type: ignore[arg-type]
            session_request=NewSessionRequest(avatar_id="x"),
            service_type=ServiceType.LIVE_AVATAR,
        )
    with pytest.raises(SessionError, match="only LITE sessions"):
        HeyGenVideoService(
            api_key=KEY,
            session=None,  # type: ignore[arg-type]
            session_request=LiveAvatarNewSessionRequest(avatar_id="x", mode="FULL"),
        )


async def test_a_session_that_fails_to_start_is_an_error_frame_and_not_left_open() -> None:
    async with simulated() as (sim, http):
        sim.inject("start_session", 400)
        avatar = service(sim, http)
        _, up = await run_test(
            avatar, frames_to_send=[*tts_frames(tone(0.3, 24_000), 24_000), SleepFrame(0.5)]
        )
        errors = of_type(up, ErrorFrame)
        assert len(errors) == 1
        assert "failed to start" in errors[0].error  # type: ignore[attr-defined]
        assert KEY not in errors[0].error  # type: ignore[attr-defined]
        assert avatar.avatar_session is None
        # The token was created (the session exists at the service): it was stopped.
        assert sim.requests_by_api_operation["liveavatar.stop_session"] == 1
        assert sim.open_sessions() == 0


async def test_cancel_stops_the_session_at_once_and_once() -> None:
    async with simulated() as (sim, http):
        avatar = service(sim, http, end_timeout=30.0)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await run_test(
            avatar,
            frames_to_send=[
                SleepFrame(0.6),
                TTSStartedFrame(),
                *tts_frames(tone(8.0, 24_000), 24_000),
                SleepFrame(0.5),
                CancelFrame(),
            ],
            send_end_frame=False,
        )
        # Not the 8 s of speech, nor the end timeout: the session stopped at once.
        assert loop.time() - started < 4.0
        assert sim.requests_by_api_operation["liveavatar.stop_session"] == 1
        assert sim.open_sessions() == 0
