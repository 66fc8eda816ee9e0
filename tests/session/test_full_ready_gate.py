"""The FULL ready gate: a session is ready once both the avatar and the agent are in its room.

The simulator's ``avatar_join_delay_seconds`` / ``agent_join_delay_seconds``
hold either participant back; the simulated service, like the real one,
drops commands published before its agent has joined.
"""

from __future__ import annotations

import asyncio

import pytest
from heygen_models import full
from heygen_models import liveavatar as la
from heygen_models.full import AGENT_IDENTITY_PREFIX, AVATAR_IDENTITY

from heygen_core.errors import SessionError
from heygen_core.realtime.events import ReadyTimeout, SessionEvent
from heygen_core.session import SANDBOX_AVATAR_ID, AvatarSession
from heygen_core.simulator import Simulator, SimulatorConfig
from tests.support.profiles import sim_config

KEY = "sim-key"
LATE = 0.8  # seconds one participant is held back
NEVER = 60.0  # held back for longer than any test waits


def delayed(late: str, seconds: float) -> SimulatorConfig:
    """A simulator whose `late` participant (``avatar`` or ``agent``) joins after `seconds`."""
    if late == "avatar":
        return sim_config(connect_delay_seconds=0.2, avatar_join_delay_seconds=seconds)
    return sim_config(connect_delay_seconds=0.2, agent_join_delay_seconds=seconds)


def full_session(sim: Simulator, **options: object) -> AvatarSession:
    return AvatarSession.live_avatar(
        mode="FULL",
        sandbox=True,
        api_key=KEY,
        base_url=sim.url,
        **options,  # type: ignore[arg-type]
    )


def identity_of(late: str, session_id: str) -> str:
    return AVATAR_IDENTITY if late == "avatar" else AGENT_IDENTITY_PREFIX + session_id


@pytest.mark.parametrize("late", ["avatar", "agent"])
async def test_a_full_session_is_ready_only_once_both_have_joined(late: str) -> None:
    async with Simulator(delayed(late, LATE)) as sim:
        session = full_session(sim, ready_timeout=10.0, ready_fallback="raise")
        seen: list[SessionEvent] = []
        session.on_event(seen.append)
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with session:
            waited = loop.time() - started
            sid = str(session.session_id)
            assert waited >= LATE * 0.9  # it waited for the late one ...
            here = session.media.participants
            assert AVATAR_IDENTITY in here and AGENT_IDENTITY_PREFIX + sid in here
            # ... so the first command is answered, not lost.
            stream = session.events()
            event_id = await session.speak_text("Hello")
            while True:
                event = await asyncio.wait_for(anext(stream), 10)
                if isinstance(event, full.AvatarTranscription):
                    break
            assert event.source_event_id == event_id
        assert not any(isinstance(e, ReadyTimeout) for e in seen)
        assert sim.full_commands_by_type["avatar.speak_text"] == 1


@pytest.mark.parametrize("late", ["avatar", "agent"])
async def test_a_missing_participant_fails_the_session_and_is_named(late: str) -> None:
    async with Simulator(delayed(late, NEVER)) as sim:
        session = full_session(sim, ready_timeout=0.5, ready_fallback="raise")
        with pytest.raises(SessionError) as raised:
            async with session:
                pytest.fail("the session opened without its participants")
        sid = str(session.session_id)
        # The service's agent joins after the avatar, so an avatar that never
        # comes keeps the agent away too; a late agent alone is named alone.
        missing = expected_missing(late, sid)
        for identity in missing:
            assert repr(identity) in str(raised.value)
        if late == "agent":
            assert identity_of("avatar", sid) not in str(raised.value)
        assert sim.open_sessions() == 0  # still stopped


def expected_missing(late: str, session_id: str) -> tuple[str, ...]:
    """Who is missing when `late` never joins: the agent follows the avatar in."""
    if late == "avatar":
        return (identity_of("avatar", session_id), identity_of("agent", session_id))
    return (identity_of("agent", session_id),)


@pytest.mark.parametrize("late", ["avatar", "agent"])
async def test_the_open_fallback_says_who_was_missing(late: str) -> None:
    async with Simulator(delayed(late, NEVER)) as sim:
        session = full_session(sim, ready_timeout=0.5, ready_fallback="open")
        seen: list[SessionEvent] = []
        session.on_event(seen.append)
        async with session:
            sid = str(session.session_id)
            timeouts = [e for e in seen if isinstance(e, ReadyTimeout)]
            assert timeouts == [ReadyTimeout(0.5, expected_missing(late, sid))]
            assert identity_of(late, sid) not in session.media.participants


async def test_a_command_sent_before_the_agent_joined_is_lost() -> None:
    # Why the gate exists: the simulated service drops what its agent never heard.
    async with Simulator(delayed("agent", NEVER)) as sim:
        session = full_session(sim, ready_timeout=0.3, ready_fallback="open")
        async with session:
            await session.speak_text("Hello?")
            await asyncio.sleep(0.3)
        assert sim.full_commands_by_type["avatar.speak_text"] == 0


async def test_a_connector_session_also_waits_for_the_avatar() -> None:
    request = la.LiteSessionTokenRequest(
        mode="LITE",
        avatar_id=SANDBOX_AVATAR_ID,
        is_sandbox=True,
        elevenlabs_agent_config=la.ElevenLabsAgentConfig(
            secret_id="3c90c3cc-0d44-4b50-8888-8dd25736052a", agent_id="agent-1"
        ),
    )
    async with Simulator(delayed("avatar", NEVER)) as sim:
        session = AvatarSession.live_avatar(
            token_request=request,
            api_key=KEY,
            base_url=sim.url,
            ready_timeout=0.5,
            ready_fallback="raise",
        )
        with pytest.raises(SessionError, match=repr(AVATAR_IDENTITY)):
            async with session:
                pytest.fail("the connector session opened without its avatar")
