"""`heygen_core.pipecat.HeyGenTransport` in a real Pipecat pipeline against the simulator.

The pipeline is the transport's input and output, driven by Pipecat's
``run_test``; a user joins the avatar's room beside it (the simulator's
`LocalRoom`, with a token from ``sim.room_token``), talks, and leaves.
"""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("pipecat")

import aiohttp
import numpy as np
from pipecat.frames.frames import (
    ClientConnectedFrame,
    ErrorFrame,
    InterruptionFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    UserAudioRawFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.services.heygen.api_liveavatar import LiveAvatarNewSessionRequest
from pipecat.tests.utils import SleepFrame, run_test

from heygen_core.pipecat import HeyGenTransport
from heygen_core.session import SANDBOX_AVATAR_ID
from heygen_core.simulator import Simulator, SimulatorConfig
from heygen_core.simulator.rooms.local_room import LocalRoom
from tests.adapters.pipecat.support import (
    KEY,
    client_event_types,
    of_type,
    tone,
    tts_frames,
)

SANDBOX = LiveAvatarNewSessionRequest(avatar_id=SANDBOX_AVATAR_ID, is_sandbox=True)


async def user_visits(sim: Simulator, transport: HeyGenTransport) -> None:
    """Alice joins the avatar's room once the session is up, says 0.5 s of a tone, leaves."""
    deadline = asyncio.get_running_loop().time() + 5
    while (session := transport.avatar_session) is None:
        assert asyncio.get_running_loop().time() < deadline, "the session never opened"
        await asyncio.sleep(0.05)
    assert session.session_id is not None
    alice = LocalRoom()
    await alice.connect(sim.room_url, sim.room_token(session.session_id, "alice"))
    await alice.publish(np.frombuffer(tone(0.5, 48_000), "<i2"), sample_rate=48_000)
    await asyncio.sleep(0.2)  # the last of it reaches the bot
    await alice.disconnect()


async def test_users_audio_in_tts_audio_out_interrupt_and_one_stop() -> None:
    pcm = tone(1.0, 24_000)
    async with (
        Simulator(SimulatorConfig(connect_delay_seconds=0.2)) as sim,
        aiohttp.ClientSession() as http,
    ):
        transport = HeyGenTransport(
            http, KEY, session_request=SANDBOX, base_url=sim.url, end_timeout=5.0
        )
        clients: list[tuple[str, str]] = []

        @transport.event_handler("on_client_connected")
        async def on_client_connected(_transport: HeyGenTransport, participant: str) -> None:
            clients.append(("connected", participant))

        @transport.event_handler("on_client_disconnected")
        async def on_client_disconnected(_transport: HeyGenTransport, participant: str) -> None:
            clients.append(("disconnected", participant))

        pipeline = Pipeline([transport.input(), transport.output()])
        visit = asyncio.create_task(user_visits(sim, transport))
        down, up = await run_test(
            pipeline,
            frames_to_send=[
                SleepFrame(1.2),  # alice is in and has spoken
                TTSStartedFrame(),
                *tts_frames(pcm, 24_000),
                TTSStoppedFrame(),
                SleepFrame(1.5),
                InterruptionFrame(),
                SleepFrame(0.3),
            ],
        )
        await visit
        session = transport.avatar_session
        assert session is not None and session.session_id is not None
        sid = session.session_id

        # Only the real user is a client: never the avatar ("heygen").
        assert clients == [("connected", "alice"), ("disconnected", "alice")]
        assert of_type(down, ClientConnectedFrame)
        heard = of_type(down, UserAudioRawFrame)
        assert heard and {f.user_id for f in heard} == {"alice"}  # type: ignore[attr-defined]
        assert sum(len(f.audio) for f in heard) / 2 / heard[0].sample_rate > 0.4  # type: ignore[attr-defined]

        # The bot's TTS audio reached the avatar, whole, as one utterance.
        received = sim.received_audio(sid)
        assert received[: len(pcm)] == pcm
        assert len(received) - len(pcm) < 24_000 * 2 * 0.05  # at most Pipecat's padding
        kinds = client_event_types(sim, sid)
        assert kinds.count("agent.speak_end") == 1
        assert "agent.interrupt" in kinds  # the interruption reached the avatar
        assert not of_type(up, ErrorFrame)

        # EndFrame stopped the session, once.
        assert sim.open_sessions() == 0
        assert sim.requests_by_api_operation["liveavatar.stop_session"] == 1
