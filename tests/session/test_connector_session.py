"""Agent-connector sessions (a LITE token with an ElevenLabs agent config) against the simulator.

Such a session has no LITE socket: it runs on FULL events in its room, with
the connector's own commands. The simulator plays an ElevenLabs agent that
echoes user messages and calls the ``get_weather`` client tool when asked
about the weather.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from heygen_models import full
from heygen_models import liveavatar as la
from heygen_models.full import AGENT_IDENTITY_PREFIX

from heygen_core.errors import SessionError
from heygen_core.media.room import AudioChunk
from heygen_core.realtime.events import SessionEvent
from heygen_core.rest import LiveAvatarClient
from heygen_core.session import SANDBOX_AVATAR_ID, AvatarSession
from heygen_core.simulator import Simulator
from tests.support.profiles import sim_config

KEY = "sim-key"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(sim_config(connect_delay_seconds=0.2)) as simulator:
        yield simulator


def connector_session(sim: Simulator) -> AvatarSession:
    request = la.LiteSessionTokenRequest(
        mode="LITE",
        avatar_id=SANDBOX_AVATAR_ID,
        is_sandbox=True,
        elevenlabs_agent_config=la.ElevenLabsAgentConfig(
            secret_id="3c90c3cc-0d44-4b50-8888-8dd25736052a", agent_id="agent-1"
        ),
    )
    return AvatarSession.live_avatar(token_request=request, api_key=KEY, base_url=sim.url)


async def next_of(stream: AsyncIterator[SessionEvent], kind: type, limit: float = 10) -> object:
    """The next event of type `kind` (others skipped)."""
    while True:
        event = await asyncio.wait_for(anext(stream), limit)
        if isinstance(event, kind):
            return event


async def elevenlabs_event(
    stream: AsyncIterator[SessionEvent], elevenlabs_type: str
) -> full.ElevenlabsAgentEvent:
    while True:
        event = await next_of(stream, full.ElevenlabsAgentEvent)
        assert isinstance(event, full.ElevenlabsAgentEvent)
        if event.elevenlabs_event_type == elevenlabs_type:
            return event


async def loud_audio(stream: AsyncIterator[AudioChunk]) -> AudioChunk:
    async for chunk in stream:
        if chunk.samples.any():
            return chunk
    raise AssertionError("the avatar's audio ended silent")


async def test_connector_session_talks_calls_a_tool_and_stops(sim: Simulator) -> None:
    session = connector_session(sim)
    async with session:
        assert session.connector and session.mode == "LITE"
        with pytest.raises(SessionError, match="no control socket"):
            _ = session.connection  # no LITE socket
        # The ready gate waited for the service's agent, so it is in the room.
        assert AGENT_IDENTITY_PREFIX + str(session.session_id) in session.media.users
        stream = session.events()
        audio = asyncio.create_task(loud_audio(session.media.avatar_audio()))

        message_id = await session.send_user_message("Hello agent")
        transcript = await next_of(stream, full.UserTranscription)
        assert isinstance(transcript, full.UserTranscription)
        assert transcript.text == "Hello agent" and transcript.source_event_id == message_id
        response = await elevenlabs_event(stream, "agent_response")
        answer = response.data.model_dump()["agent_response_event"]["agent_response"]
        assert answer == "You said: Hello agent"
        started = await next_of(stream, full.AvatarSpeakStarted)
        assert isinstance(started, full.AvatarSpeakStarted)
        assert started.source_event_id == message_id
        assert (await asyncio.wait_for(audio, 10)).samples.any()  # speech in the room
        await next_of(stream, full.AvatarSpeakEnded)

        await session.send_contextual_update("The user is in Paris.")
        await session.send_user_activity()
        await session.send_user_message("What is the weather?")
        call = await elevenlabs_event(stream, "client_tool_call")
        details = call.data.model_dump()["client_tool_call"]
        assert details["tool_name"] == "get_weather"
        await session.send_tool_result(
            details["tool_call_id"], "sunny", source_event_id=call.event_id
        )
        response = await elevenlabs_event(stream, "agent_response")
        assert response.data.model_dump()["agent_response_event"] == {
            "agent_response": "The tool said: sunny"
        }
        await next_of(stream, full.AvatarSpeakEnded)

        with pytest.raises(SessionError, match="agent-connector session"):
            await session.speak_text("not mine to say")
    assert session.stopped_cleanly and sim.open_sessions() == 0
    commands = sim.full_commands_by_type
    assert commands["elevenlabs_agent_command"] == 5


async def test_connector_session_is_stopped_when_the_body_raises(sim: Simulator) -> None:
    session = connector_session(sim)
    with pytest.raises(RuntimeError, match="app bug"):
        async with session:
            await session.send_user_message("Hello")
            raise RuntimeError("app bug")
    assert session.stopped_cleanly and sim.open_sessions() == 0


async def test_connector_session_is_stopped_when_cancelled(sim: Simulator) -> None:
    session = connector_session(sim)
    speaking = asyncio.Event()

    async def run() -> None:
        async with session:
            stream = session.events()
            await session.send_user_message("Tell me something long " + "please " * 20)
            await next_of(stream, full.AvatarSpeakStarted)
            speaking.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(run())
    await asyncio.wait_for(speaking.wait(), 10)
    assert sim.open_sessions() == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert session.stopped_cleanly and sim.open_sessions() == 0


async def test_connector_stop_reason_reaches_the_session() -> None:
    config = sim_config(connect_delay_seconds=0.1, sandbox_session_seconds=0.8)
    async with Simulator(config) as simulator:
        session = connector_session(simulator)
        async with session:
            assert session.stop_reason is None
            seen = [event async for event in session.events()]  # ends with the room
        stopped = [e for e in seen if isinstance(e, full.SessionStopped)]
        assert len(stopped) == 1
        assert stopped[0].stop_reason == "MAX_DURATION_REACHED"  # the connector's spelling
        assert session.stop_reason == "MAX_DURATION_REACHED"


async def test_connector_commands_are_refused_outside_connector_sessions(sim: Simulator) -> None:
    session = AvatarSession.live_avatar(mode="FULL", sandbox=True, api_key=KEY, base_url=sim.url)
    async with session:
        assert not session.connector
        with pytest.raises(SessionError, match="agent-connector command"):
            await session.send_user_message("hi")


async def test_a_cartesia_agent_session_is_a_connector_session_too(sim: Simulator) -> None:
    # Cartesia's Line agent, like ElevenLabs', gets no LITE socket: the
    # session must run on the room's FULL events, not be refused.
    request = la.LiteSessionTokenRequest(
        mode="LITE",
        avatar_id=SANDBOX_AVATAR_ID,
        is_sandbox=True,
        cartesia_agent_config=la.CartesiaAgentConfig(
            secret_id="3c90c3cc-0d44-4b50-8888-8dd25736052a", agent_id="agent-1"
        ),
    )
    session = AvatarSession.live_avatar(token_request=request, api_key=KEY, base_url=sim.url)
    async with session:
        assert session.connector
        assert AGENT_IDENTITY_PREFIX + str(session.session_id) in session.media.users
        with pytest.raises(SessionError, match="no control socket"):
            _ = session.connection
    assert session.stopped_cleanly and sim.open_sessions() == 0


async def test_what_was_said_lands_in_the_session_transcript(sim: Simulator) -> None:
    session = connector_session(sim)
    async with session:
        stream = session.events()
        await session.send_user_message("Hello agent")
        await next_of(stream, full.AvatarSpeakEnded)
    async with LiveAvatarClient(api_key=KEY, base_url=sim.url) as client:
        result = await client.get_session_transcript(str(session.session_id))
    said = [(entry.role, entry.transcript) for entry in result.data.transcript_data]
    assert said == [("user", "Hello agent"), ("avatar", "You said: Hello agent")]
