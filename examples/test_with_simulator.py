"""Test your own code against the embedded simulator, with the `heygen_simulator` fixture.

    python -m pytest examples/test_with_simulator.py

Installing heygen-core registers a pytest plugin: any test that asks for
``heygen_simulator`` gets a fresh simulator of both APIs, running in a
background thread (so plain synchronous tests work, no pytest-asyncio
needed), stopped after the test. Point your code at ``heygen_simulator.url``
with any non-empty key, then assert on what the "service" saw.

These tests always use the simulator (they inspect its state), whether or
not HEYGEN_LIVE_AVATAR_API_KEY is set.
"""

from __future__ import annotations

import asyncio

import pytest

from heygen_core.samples import speech_sample
from heygen_core.session import AvatarSession
from heygen_core.simulator import SimulatorConfig, SimulatorThread


@pytest.fixture
def heygen_simulator_config() -> SimulatorConfig:
    """Override the simulator's limits for this module: a faster ready gate."""
    return SimulatorConfig(connect_delay_seconds=0.1)


async def greet(base_url: str, api_key: str) -> str | None:
    """The application code under test: greet the user through an avatar."""
    async with AvatarSession.live_avatar(
        sandbox=True, base_url=base_url, api_key=api_key
    ) as session:
        await session.speak(speech_sample())
        return session.session_id


def test_greeting_reaches_the_avatar_and_the_session_is_stopped(
    heygen_simulator: SimulatorThread,
) -> None:
    """The app's audio reaches the avatar in full, and its session does not keep billing."""
    session_id = asyncio.run(greet(heygen_simulator.url, "test-key"))
    assert session_id is not None
    # What the avatar received: the bundled sample, about 4.9 s of 24 kHz PCM16.
    received = heygen_simulator.received_audio(session_id)
    assert 4.5 < len(received) / 48_000 < 5.5
    assert heygen_simulator.requests_by_operation["stop_session"] == 1
    assert heygen_simulator.open_sessions() == 0  # nothing left billing


def test_a_failing_service_surfaces_as_an_error(heygen_simulator: SimulatorThread) -> None:
    """A 503 from the service reaches the app as a typed error, and nothing is left open."""
    from heygen_core.errors import ServerError

    # The next token request answers 503 (token creation is never retried blindly).
    heygen_simulator.inject("create_session_token", 503)
    with pytest.raises(ServerError):
        asyncio.run(greet(heygen_simulator.url, "test-key"))
    assert heygen_simulator.open_sessions() == 0
