"""What a new user meets first: the free sandbox by default, a warning before audio
too long for the session, and no viewer link a browser cannot open."""

from __future__ import annotations

import io
import logging
import math
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from heygen_models import liveavatar as la

from heygen_core.errors import SessionError
from heygen_core.session import SANDBOX_AVATAR_ID, AvatarSession
from heygen_core.simulator import Simulator
from heygen_core.simulator.catalogue import PIPECAT_LIVEAVATAR_AVATAR_ID
from tests.support.profiles import sim_config

pytestmark = pytest.mark.one_profile

KEY = "sim-key"
RATE = 24_000
OTHER_AVATAR = PIPECAT_LIVEAVATAR_AVATAR_ID  # a public avatar that is not the sandbox's
SANDBOX_SECONDS = 3


def tone(seconds: float, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.3 * np.sin(2 * math.pi * 220.0 * t) * 32767).astype(np.int16)


def wav_file(path: Path, samples: np.ndarray, rate: int) -> Path:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    config = sim_config(connect_delay_seconds=0.05, sandbox_session_seconds=SANDBOX_SECONDS)
    async with Simulator(config) as simulator:
        yield simulator


# -- first-run 3: asking for nothing gets the free sandbox ---------------------------------


def sandbox_of(sim: Simulator, session: AvatarSession) -> tuple[str, bool]:
    assert session.session_id is not None
    issued = sim.state.liveavatar_session(session.session_id)
    assert issued is not None
    return issued.request.avatar_id, issued.is_sandbox


async def test_a_session_asked_for_nothing_is_the_free_sandbox(sim: Simulator) -> None:
    async with AvatarSession.live_avatar(api_key=KEY, base_url=sim.url) as session:
        assert sandbox_of(sim, session) == (SANDBOX_AVATAR_ID, True)
    async with AvatarSession.live_avatar(api_key=KEY, base_url=sim.url, mode="FULL") as session:
        assert sandbox_of(sim, session) == (SANDBOX_AVATAR_ID, True)


async def test_a_billed_session_is_a_deliberate_choice(sim: Simulator) -> None:
    # Your own avatar: billed, since the sandbox refuses it.
    async with AvatarSession.live_avatar(
        avatar_id=OTHER_AVATAR, api_key=KEY, base_url=sim.url
    ) as session:
        assert sandbox_of(sim, session) == (OTHER_AVATAR, False)
    # The sandbox avatar, billed: only when asked for.
    async with AvatarSession.live_avatar(sandbox=False, api_key=KEY, base_url=sim.url) as session:
        assert sandbox_of(sim, session) == (SANDBOX_AVATAR_ID, False)


def test_the_sandbox_with_another_avatar_is_refused_before_anything_is_sent() -> None:
    # The service refuses it too (docs/protocol.md §1); nothing reaches it here.
    with pytest.raises(SessionError, match="sandbox avatar") as raised:
        AvatarSession.live_avatar(
            avatar_id=OTHER_AVATAR, sandbox=True, api_key=KEY, base_url="http://127.0.0.1:9"
        )
    assert "sandbox=False" in str(raised.value)
    request = la.LiteSessionTokenRequest(mode="LITE", avatar_id=OTHER_AVATAR, is_sandbox=True)
    with pytest.raises(SessionError, match="sandbox avatar"):
        AvatarSession.live_avatar(token_request=request, api_key=KEY)


# -- first-run 4: a warning before audio longer than the session can last ------------------


def too_long_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "can last only" in r.getMessage()
    ]


@pytest.mark.parametrize("form", ["array", "bytes", "wav-path", "wav-file-object"])
async def test_audio_longer_than_the_session_is_warned_about_before_it_is_sent(
    sim: Simulator, caplog: pytest.LogCaptureFixture, tmp_path: Path, form: str
) -> None:
    samples = tone(SANDBOX_SECONDS + 2.0, rate=16_000)
    audio: object
    if form == "array":
        audio, rate = samples, 16_000
    elif form == "bytes":
        audio, rate = samples.tobytes(), 16_000
    else:
        path = wav_file(tmp_path / "long.wav", samples, 16_000)
        audio, rate = (str(path) if form == "wav-path" else path.open("rb")), None
    async with AvatarSession.live_avatar(api_key=KEY, base_url=sim.url) as session:
        assert isinstance(session.start_data, la.StartSessionData)
        assert session.start_data.max_session_duration == SANDBOX_SECONDS
        result = await session.speak(audio, sample_rate=rate, wait=False)
        # Nothing was sent yet (the sending task has not run): the warning came first.
        assert sim.events_by_type["agent.speak"] == 0
        (warning,) = too_long_warnings(caplog)
        assert "lasts 5.0 s" in warning
        assert f"{SANDBOX_SECONDS}" in warning and "can last only" in warning
        assert "non-sandbox" in warning and "max_session_duration" in warning
        # Not refused: it is sent.
        await session.interrupt()
        assert result.event_ids
    if not isinstance(audio, np.ndarray | bytes | str):
        audio.close()


async def test_audio_that_fits_is_not_warned_about(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    async with AvatarSession.live_avatar(api_key=KEY, base_url=sim.url) as session:
        await session.speak(tone(0.3), sample_rate=RATE)
    assert too_long_warnings(caplog) == []


async def test_the_time_already_spent_counts(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio

    async with AvatarSession.live_avatar(api_key=KEY, base_url=sim.url) as session:
        await asyncio.sleep(1.5)
        # 2 s fits a 3 s session, not one with about 1.5 s left.
        result = await session.speak(tone(2.0), sample_rate=RATE, wait=False)
        assert too_long_warnings(caplog)
        await session.interrupt()
        assert result.event_ids


# -- first-run 8: no viewer link for local rooms -------------------------------------------


async def test_a_simulator_session_has_no_viewer_link(sim: Simulator) -> None:
    async with AvatarSession.live_avatar(api_key=KEY, base_url=sim.url) as session:
        assert isinstance(session.start_data, la.StartSessionData)
        assert session.start_data.livekit_url.startswith("heygen-sim://")
        assert session.viewer_url is None
    async with AvatarSession.interactive_avatar(
        avatar_id="Wayne_20240711", api_key=KEY, base_url=sim.url
    ) as streaming:
        assert streaming.viewer_url is None


def test_a_livekit_room_has_a_viewer_link() -> None:
    session = AvatarSession.live_avatar(api_key=KEY)
    session.start_data = la.StartSessionData(
        session_id="s",
        livekit_url="wss://example.livekit.cloud",
        livekit_client_token="client-jwt",
    )
    url = session.viewer_url
    assert url is not None and url.startswith("https://meet.livekit.io/custom?")
    assert "liveKitUrl=wss%3A%2F%2Fexample.livekit.cloud" in url
