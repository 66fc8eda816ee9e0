"""`heygen_core.livekit_agents.AvatarSession` on a real LiveKit `AgentSession`, on the simulator.

The agent session is LiveKit's own, started without room I/O, STT, LLM or
TTS (no LiveKit server runs offline): replies are spoken with
``AgentSession.say(text, audio=frames)``, which goes through the audio
output the avatar installed exactly as a TTS's frames do. The room is an
``rtc.Room`` that says it is connected under a fixed name and identity
(all the avatar reads of it); the avatar itself joins the simulator's room
of that name through ``livekit_config``. Everything is asserted from the
simulator's side.
"""

from __future__ import annotations

import asyncio
import math
import struct
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("livekit.agents")

from heygen_models.full import AVATAR_IDENTITY
from livekit import api, rtc
from livekit.agents import Agent, AgentSession
from livekit.agents.voice.io import PlaybackFinishedEvent, PlaybackStartedEvent

from heygen_core.errors import CredentialsError, HeyGenError
from heygen_core.livekit_agents import AvatarSession, HeyGenAudioOutput
from heygen_core.session import AvatarSession as HeyGenSession
from heygen_core.simulator import Simulator, SimulatorConfig
from heygen_core.simulator.config import SpeechProfile

ROOM_NAME = "agent-room-under-test"
AGENT_IDENTITY = "agent-under-test"
LIVEKIT_KEY = "devkey"
LIVEKIT_SECRET = "devsecret-devsecret-devsecret-devsecret"
RATE = 24_000
FRAME_SAMPLES = 480  # 20 ms, as a TTS pushes them
WAIT = 15.0  # a bound for each wait: a hang fails the test, it does not stall it


class OfflineRoom(rtc.Room):
    """A room that says it is connected: the avatar reads only its name and identity."""

    @property
    def name(self) -> str:
        """The agent's room, sent as ``livekit_room``."""
        return ROOM_NAME

    @property
    def local_participant(self) -> Any:
        """The agent, whom the avatar publishes on behalf of."""
        return SimpleNamespace(identity=AGENT_IDENTITY)

    def isconnected(self) -> bool:
        """Connected, so the identity is read from this room (no job runs here)."""
        return True


def tone(seconds: float, rate: int = RATE) -> bytes:
    """A rising tone: no two frames alike, so reordered or repeated audio cannot match."""
    return b"".join(
        struct.pack("<h", int(9000 * math.sin(2 * math.pi * (300 + i / 200) * i / rate)))
        for i in range(int(rate * seconds))
    )


async def frames(pcm: bytes, rate: int = RATE) -> AsyncIterator[rtc.AudioFrame]:
    """`pcm` as 20 ms frames, as fast as they are taken (a TTS runs ahead of real time)."""
    step = rate // 50 * 2
    for start in range(0, len(pcm), step):
        chunk = pcm[start : start + step]
        yield rtc.AudioFrame(
            data=chunk, sample_rate=rate, num_channels=1, samples_per_channel=len(chunk) // 2
        )


def quick(profile: SpeechProfile = "live") -> SimulatorConfig:
    return SimulatorConfig(profile=profile, connect_delay_seconds=0.1)


def make_avatar(sim: Simulator) -> AvatarSession:
    return AvatarSession(
        base_url=sim.url, api_key="any-key", command_timeout=2.0, session_record=None
    )


async def start(sim: Simulator, avatar: AvatarSession, agent: AgentSession[Any]) -> None:
    await avatar.start(
        agent,
        room=OfflineRoom(),
        livekit_url=sim.room_url,
        livekit_api_key=LIVEKIT_KEY,
        livekit_api_secret=LIVEKIT_SECRET,
    )


async def speaking(
    sim: Simulator,
) -> tuple[AgentSession[Any], AvatarSession, HeyGenSession, HeyGenAudioOutput, str]:
    """An agent session with the avatar started on it: (agent, avatar, its session, output, id)."""
    agent: AgentSession[Any] = AgentSession()
    await agent.start(Agent(instructions="Speak the clip."))
    avatar = make_avatar(sim)
    await start(sim, avatar, agent)
    heygen, output = avatar.session, avatar.audio_output
    assert heygen is not None and heygen.session_id is not None and output is not None
    return agent, avatar, heygen, output, heygen.session_id


async def until(condition: Callable[[], bool], what: str) -> None:
    async with asyncio.timeout(WAIT):
        while not condition():  # noqa: ASYNC110 (the simulator's state has no event to wait on)
            await asyncio.sleep(0.02)
    assert condition(), what


class Playback:
    """The playback events the avatar's audio output reports to the agent."""

    def __init__(self, output: HeyGenAudioOutput) -> None:
        self.started: list[PlaybackStartedEvent] = []
        self.finished: list[PlaybackFinishedEvent] = []
        output.on("playback_started", self.started.append)
        output.on("playback_finished", self.finished.append)


def speak_events(sim: Simulator, session_id: str) -> list[tuple[str, str]]:
    return [
        (kind, wire["event_id"])
        for _, kind, wire in sim.client_events(session_id)
        if kind in ("agent.speak", "agent.speak_end")
    ]


@pytest.mark.parametrize("profile", ["live", "documented"])
async def test_say_is_spoken_as_one_utterance_and_returns(profile: SpeechProfile) -> None:
    """The reply reaches the avatar whole, under one event_id; say() returns, then the stop.

    ``live`` reports no ``agent.speak_ended`` (the plugin's say() waits on
    what it reads instead); ``documented`` does.
    """
    pcm = tone(1.5)
    async with Simulator(quick(profile)) as sim:
        agent, avatar, heygen, output, session_id = await speaking(sim)
        # The agent's audio now ends in our output (LiveKit's wrappers stay above it).
        sink: Any = agent.output.audio
        while sink is not None and sink is not output:
            sink = sink.next_in_chain
        assert sink is output
        playback = Playback(output)

        handle = agent.say("clip", audio=frames(pcm), add_to_chat_ctx=False)
        async with asyncio.timeout(WAIT):
            await handle.wait_for_playout()

        assert not handle.interrupted
        assert sim.received_audio(session_id) == pcm
        assert sim.dropped_before_ready == 0
        events = speak_events(sim, session_id)
        # 0.4 s, 1 s, then the rest: three chunks (the README quotes these counts).
        assert [kind for kind, _ in events].count("agent.speak") == 3
        assert events[-1][0] == "agent.speak_end"
        assert len({event_id for _, event_id in events}) == 1  # one event_id per reply
        assert len(playback.started) == 1 and len(playback.finished) == 1
        finished = playback.finished[0]
        assert not finished.interrupted
        assert finished.playback_position == pytest.approx(1.5, abs=0.01)
        # Listening follows the agent: it went back to listening once the reply was over.
        await until(
            lambda: any(
                kind == "agent.start_listening" for _, kind, _ in sim.client_events(session_id)[-3:]
            ),
            "start_listening after the reply",
        )

        # The avatar joined the agent's room with the token minted for it.
        await until(lambda: AVATAR_IDENTITY in sim.room_participants(ROOM_NAME), "avatar joined")
        stored = sim.state.liveavatar_session(session_id)
        assert stored is not None
        config = getattr(stored.request, "livekit_config", None)
        assert config is not None
        assert (config.livekit_url, config.livekit_room) == (sim.room_url, ROOM_NAME)
        claims = api.TokenVerifier(LIVEKIT_KEY, LIVEKIT_SECRET).verify(config.livekit_client_token)
        assert claims.identity == AVATAR_IDENTITY
        assert claims.kind == "agent"
        assert claims.video is not None and claims.video.room == ROOM_NAME
        assert claims.attributes == {"lk.publish_on_behalf": AGENT_IDENTITY}

        # Closing the agent session stops the avatar session, with no call of ours.
        await agent.aclose()
        await until(lambda: sim.open_sessions() == 0, "the session stopped on agent close")
        await avatar.aclose()
        assert sim.requests_by_operation["stop_session"] == 1
        assert heygen.stopped_cleanly


async def test_interrupt_reaches_the_avatar_and_playout_reports_it() -> None:
    """An interruption (clear_buffer) is one agent.interrupt; the played position is reported."""
    pcm = tone(4.0)
    async with Simulator(quick()) as sim:
        agent, avatar, _, output, session_id = await speaking(sim)
        playback = Playback(output)

        handle = agent.say("clip", audio=frames(pcm), add_to_chat_ctx=False)
        await until(lambda: bool(playback.started), "playback started")
        await asyncio.sleep(0.5)
        handle.interrupt()
        async with asyncio.timeout(WAIT):
            await handle.wait_for_playout()

        assert handle.interrupted
        kinds = [kind for _, kind, _ in sim.client_events(session_id)]
        assert kinds.count("agent.interrupt") == 1
        assert sim.chunks_after_interrupt == 0
        assert len(playback.finished) == 1
        finished = playback.finished[0]
        assert finished.interrupted
        assert 0.3 < finished.playback_position < 2.0

        await avatar.aclose()
        assert sim.open_sessions() == 0
        await agent.aclose()


async def test_a_start_failure_leaves_no_session() -> None:
    """/start refused after the token was issued: the session is stopped before start raises."""
    async with Simulator(quick()) as sim:
        agent: AgentSession[Any] = AgentSession()
        await agent.start(Agent(instructions="Nothing."))
        before = agent.output.audio
        sim.inject("start_session", 400)
        avatar = make_avatar(sim)
        with pytest.raises(HeyGenError):
            await start(sim, avatar, agent)
        assert sim.requests_by_operation["create_session_token"] == 1
        assert sim.open_sessions() == 0
        assert agent.output.audio is before  # the agent's output was left alone
        await agent.aclose()


async def test_a_socket_failure_after_start_leaves_no_session() -> None:
    """The session started but its socket never opened: it is stopped before start raises."""
    async with Simulator(quick()) as sim:
        agent: AgentSession[Any] = AgentSession()
        await agent.start(Agent(instructions="Nothing."))
        sim.fail_websockets("refuse")
        avatar = make_avatar(sim)
        with pytest.raises(HeyGenError):
            await start(sim, avatar, agent)
        assert sim.requests_by_operation["start_session"] == 1
        assert sim.requests_by_operation["stop_session"] == 1
        assert sim.open_sessions() == 0
        await agent.aclose()


async def test_missing_livekit_credentials_create_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    async with Simulator(quick()) as sim:
        agent: AgentSession[Any] = AgentSession()
        await agent.start(Agent(instructions="Nothing."))
        with pytest.raises(CredentialsError, match="LIVEKIT_API_SECRET"):
            await make_avatar(sim).start(agent, room=OfflineRoom(), livekit_url=sim.room_url)
        assert sum(sim.requests_by_operation.values()) == 0
        await agent.aclose()
