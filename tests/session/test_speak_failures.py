"""A speak that fails, is cancelled or outlives its session leaves the session sound.

Against the simulator on every profile (tests/session/conftest.py): a stream
that fails (an odd byte count, its source raising, a bad item) has its
utterance interrupted and ended, raises a typed error to its caller, and the
next utterance plays and ends as usual; closing the session under a task
that awaits `SpeakResult.finished()` gives that task the outcome, not a
`CancelledError` nobody asked for.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from heygen_core.audio.format import AudioInput
from heygen_core.audio.pump import PumpConfig
from heygen_core.errors import AudioFormatError
from heygen_core.session import AvatarSession
from heygen_core.session.speak_result import SpeakResult
from heygen_core.simulator import Simulator
from tests.support.profiles import sim_config

KEY = "sim-key"
RATE = 24_000
# Short, so a missed acknowledgement shows as a wrong `ended_by`, not a slow test.
MARGIN = 1.0


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (0.3 * np.sin(2 * math.pi * 220.0 * t) * 32767).astype(np.int16)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(sim_config(connect_delay_seconds=0.05)) as simulator:
        yield simulator


def session_for(sim: Simulator, **pump: float) -> AvatarSession:
    config = PumpConfig(completion_margin_seconds=MARGIN, **pump)  # type: ignore[arg-type]
    return AvatarSession.live_avatar(sandbox=True, api_key=KEY, base_url=sim.url, pump=config)


def client_kinds(sim: Simulator, session_id: str) -> list[tuple[str, object]]:
    return [(kind, wire.get("event_id")) for _, kind, wire in sim.client_events(session_id)]


async def speak_again_and_end(session: AvatarSession) -> SpeakResult:
    """The next utterance plays, and the service reports its end (no stale acknowledgement)."""
    result = await asyncio.wait_for(session.speak(tone(0.4), sample_rate=RATE), 5)
    assert await result.finished() == ("ended",)
    assert result.utterances[0].confirmed, result.ended_by
    return result


async def test_an_odd_length_stream_is_interrupted_and_the_session_stays_usable(
    sim: Simulator,
) -> None:
    async def odd_total() -> AsyncIterator[bytes]:
        yield tone(0.5).tobytes()  # its first chunk goes out at once
        await asyncio.sleep(0.2)  # the avatar has started it (and said so, where it does)
        yield b"\x00"  # 24 001 bytes in all: half a sample left over

    async with session_for(sim) as session:
        result = await session.speak(odd_total(), sample_rate=RATE, wait=False)
        with pytest.raises(AudioFormatError, match="whole number of 2-byte samples"):
            await asyncio.wait_for(result.finished(), 5)
        (failed,) = result.utterances
        # Interrupted, and already ended when the error surfaced.
        assert failed.done and failed.status == "interrupted"
        assert failed.ended_by == "interrupt_ack"
        after = await speak_again_and_end(session)
        sid = session.session_id
        assert sid is not None
    kinds = client_kinds(sim, sid)
    interrupt_at = [i for i, (kind, _) in enumerate(kinds) if kind == "agent.interrupt"]
    assert len(interrupt_at) == 1
    # No end for the failed utterance, and nothing of it after the interrupt.
    assert ("agent.speak_end", failed.event_id) not in kinds
    assert ("agent.speak", failed.event_id) in kinds[: interrupt_at[0]]
    assert ("agent.speak", failed.event_id) not in kinds[interrupt_at[0] :]
    assert ("agent.speak_end", after.event_ids[0]) in kinds


async def test_a_stream_whose_source_raises_is_interrupted_and_the_error_reaches_speak(
    sim: Simulator,
) -> None:
    async def failing_tts() -> AsyncIterator[bytes]:
        yield tone(0.5).tobytes()
        await asyncio.sleep(0.2)
        raise RuntimeError("tts died")

    async with session_for(sim) as session:
        with pytest.raises(RuntimeError, match="tts died"):
            await asyncio.wait_for(session.speak(failing_tts(), sample_rate=RATE), 5)
        after = await speak_again_and_end(session)
        sid = session.session_id
        assert sid is not None
    kinds = client_kinds(sim, sid)
    (partial,) = {eid for kind, eid in kinds if kind == "agent.speak"} - set(after.event_ids)
    # The partial utterance was cut off, not ended as if whole.
    assert ("agent.speak_end", partial) not in kinds
    interrupt_at = kinds.index(next(k for k in kinds if k[0] == "agent.interrupt"))
    assert max(i for i, k in enumerate(kinds) if k == ("agent.speak", partial)) < interrupt_at


async def test_a_stream_that_fails_after_a_whole_utterance_lets_that_one_play(
    sim: Simulator,
) -> None:
    async def pause_then_fail() -> AsyncIterator[bytes]:
        yield tone(0.3).tobytes()
        await asyncio.sleep(0.4)  # past end_gap_seconds: that utterance is whole
        raise RuntimeError("tts died")

    async with session_for(sim, end_gap_seconds=0.2) as session:
        result = await session.speak(pause_then_fail(), sample_rate=RATE, wait=False)
        with pytest.raises(RuntimeError, match="tts died"):
            await asyncio.wait_for(result.finished(), 5)
        (whole,) = result.utterances
        assert await asyncio.wait_for(whole.finished(), 5) == "ended"
        sid = session.session_id
        assert sid is not None
    assert "agent.interrupt" not in [kind for kind, _ in client_kinds(sim, sid)]


async def test_a_lone_byte_after_a_pause_is_refused_not_dropped(sim: Simulator) -> None:
    async def odd_tail() -> AsyncIterator[bytes]:
        yield tone(0.3).tobytes()
        await asyncio.sleep(0.4)  # that utterance is whole and ends
        yield b"\x00"  # then the stream ends half a sample in

    async with session_for(sim, end_gap_seconds=0.2) as session:
        result = await session.speak(odd_tail(), sample_rate=RATE, wait=False)
        with pytest.raises(AudioFormatError, match="1 left over"):
            await asyncio.wait_for(result.finished(), 5)
        assert [await u.finished() for u in result.utterances] == ["ended"]
        await speak_again_and_end(session)


async def test_cancelling_a_speak_the_avatar_has_started_interrupts_it(sim: Simulator) -> None:
    async with session_for(sim, lead_seconds=0.5) as session:
        speaking = asyncio.create_task(session.speak(tone(3.0), sample_rate=RATE))
        # Paced chunks are still going out; the documented profiles have
        # reported its start (so it is ``playing``, not yet fully sent).
        await asyncio.sleep(0.8)
        speaking.cancel()
        with pytest.raises(asyncio.CancelledError):
            await speaking
        await asyncio.sleep(MARGIN + 0.2)  # its interrupt has been acknowledged, or timed out
        await speak_again_and_end(session)
        sid = session.session_id
        assert sid is not None
    kinds = client_kinds(sim, sid)
    first = next(eid for kind, eid in kinds if kind == "agent.speak")
    assert ("agent.speak_end", first) not in kinds
    interrupt_at = kinds.index(next(k for k in kinds if k[0] == "agent.interrupt"))
    assert max(i for i, k in enumerate(kinds) if k == ("agent.speak", first)) < interrupt_at
    assert sim.chunks_after_interrupt == 0


@pytest.mark.one_profile  # refused before any audio goes out: no profile plays a part
@pytest.mark.parametrize("item", ["hello there", Path("speech.wav")], ids=["str", "path"])
async def test_a_path_or_text_in_a_stream_is_a_typed_error_that_says_what_to_pass(
    sim: Simulator, item: AudioInput
) -> None:
    async def stream() -> AsyncIterator[AudioInput]:
        yield item

    async with session_for(sim) as session:
        with pytest.raises(AudioFormatError, match="stream items must be audio") as raised:
            await asyncio.wait_for(session.speak(stream(), sample_rate=RATE), 5)
        assert "pass its path to speak() itself" in str(raised.value)
        await speak_again_and_end(session)
    assert sim.events_by_type["agent.interrupt"] == 0


async def test_a_path_after_audio_in_a_stream_interrupts_what_went_out(sim: Simulator) -> None:
    async def stream() -> AsyncIterator[AudioInput]:
        yield tone(0.5).tobytes()
        await asyncio.sleep(0.2)
        yield "next.wav"

    async with session_for(sim) as session:
        result = await session.speak(stream(), sample_rate=RATE, wait=False)
        with pytest.raises(AudioFormatError, match="stream items must be audio"):
            await asyncio.wait_for(result.finished(), 5)
        assert result.utterances[0].status == "interrupted"
        await speak_again_and_end(session)


# ------------------------------------------------- the session closes under finished()


@pytest.mark.one_profile
async def test_closing_the_session_gives_a_waiting_task_the_outcome_not_a_cancellation() -> None:
    # Varied timing: the close lands before the first chunk, while chunks
    # are paced out, or once everything is on the wire.
    rng = random.Random(20240612)
    config = sim_config(connect_delay_seconds=0.01, rate_limit_per_second=1000)
    seen: set[tuple[str, ...]] = set()
    async with Simulator(config) as sim:
        for _ in range(30):
            session = session_for(sim, lead_seconds=0.1, first_chunk_ms=100, chunk_ms=200)
            await session.open()
            seconds = rng.choice([0.05, 0.3, 2.0])
            result = await session.speak(tone(seconds), sample_rate=RATE, wait=False)
            delay = rng.choice([0.0, rng.uniform(0.0, 0.15)])
            outcomes: list[tuple[str, ...]] = []

            async def await_outcome(
                result: SpeakResult = result, outcomes: list[tuple[str, ...]] = outcomes
            ) -> None:
                outcomes.append(await result.finished())

            async def close_soon(session: AvatarSession = session, delay: float = delay) -> None:
                await asyncio.sleep(delay)
                await session.aclose()

            async with asyncio.TaskGroup() as group:
                waiter = group.create_task(await_outcome())
                group.create_task(close_soon())
            assert not waiter.cancelled(), (seconds, delay)
            (outcome,) = outcomes
            assert outcome in {("lost",), ("ended",)}, outcome
            if outcome == ("lost",):
                assert result.ended_by == ("client_closed",)
            seen.add(outcome)
        assert sim.open_sessions() == 0
    assert ("lost",) in seen


@pytest.mark.one_profile
async def test_cancelling_the_waiting_task_itself_still_cancels_it(sim: Simulator) -> None:
    async with session_for(sim) as session:
        result = await session.speak(tone(1.0), sample_rate=RATE, wait=False)
        waiter = asyncio.create_task(result.finished())
        await asyncio.sleep(0.1)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        # Only the wait was cancelled: the utterance goes on and ends.
        assert not result.utterances[0].done
        assert await asyncio.wait_for(result.finished(), 5) == ("ended",)
