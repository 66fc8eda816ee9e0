"""heygen_core.audio.dialects: each dialect's speech messages, and the pump sending them.

Every message a strategy builds must be a valid client event of its own
dialect (decoded back through the codec), and the alpha buffer rules (commit
about every second, commit or clear the tail, clear on interrupt) must hold
both in the strategy and on the simulator's wire.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import get_args

import numpy as np
import pytest
from heygen_models import lite, realtime_alpha
from pydantic import BaseModel

from heygen_core.audio import PumpConfig
from heygen_core.audio.dialects import Playback, speech_dialect
from heygen_core.protocol.codec import decode, encode
from heygen_core.realtime.connection import Dialect
from heygen_core.realtime.events import SessionEvent
from heygen_core.session import AvatarSession
from heygen_core.simulator import Simulator, SimulatorConfig

KEY = "sim-key"
RATE = 24_000
DIALECTS: tuple[Dialect, ...] = get_args(Dialect)


def tag(model: type[BaseModel]) -> str:
    (value,) = get_args(model.model_fields["type"].annotation)
    assert isinstance(value, str)
    return value


def on_the_wire(message: BaseModel, dialect: Dialect) -> BaseModel:
    """What the service decodes from `message`: it must be the same event, unchanged."""
    decoded = decode(encode(message), dialect, "client")
    assert type(decoded) is type(message)
    assert decoded == message
    return decoded


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (0.3 * np.sin(2 * math.pi * 220.0 * t) * 32767).astype(np.int16)


AUDIO = "AAAA"  # two silent samples: the content does not matter to the rules


# ------------------------------------------------------------------ one per dialect


def test_every_dialect_has_its_own_strategy() -> None:
    strategies = [speech_dialect(name) for name in DIALECTS]
    assert [s.name for s in strategies] == list(DIALECTS)
    assert len({type(s) for s in strategies}) == len(DIALECTS)
    with pytest.raises(ValueError, match="unknown dialect 'full'"):
        speech_dialect("full")  # type: ignore[arg-type]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_message_is_a_valid_client_event_of_its_dialect(dialect: Dialect) -> None:
    speech = speech_dialect(dialect)
    wire = speech.utterance("u1")
    utterance = [*wire.chunk(AUDIO, 0.4), *wire.chunk(AUDIO, 1.0), *wire.end().messages]
    others = [*speech.interrupt(), speech.start_listening(), speech.stop_listening()]
    for message in utterance + others:
        on_the_wire(message, dialect)
    # An utterance's messages all carry its id; the others each have a fresh one.
    assert {getattr(m, "event_id", None) for m in utterance} == {"u1"}
    other_ids = [getattr(m, "event_id", None) for m in others]
    assert len(set(other_ids)) == len(others) and "u1" not in other_ids


# --------------------------------------------------------------------------- LITE


def test_lite_sends_one_speak_per_chunk_then_speak_end() -> None:
    wire = speech_dialect("lite").utterance("u1")
    chunks = [wire.chunk(AUDIO, seconds) for seconds in (0.4, 1.0, 1.0, 0.05)]
    assert all(len(c) == 1 and isinstance(c[0], lite.AgentSpeak) for c in chunks)
    end = wire.end()
    assert [type(m) for m in end.messages] == [lite.AgentSpeakEnd]
    assert not end.over  # the service reports the end itself


@pytest.mark.parametrize(
    ("model", "status"),
    [
        (lite.AgentSpeakStarted, "playing"),
        (lite.AgentSpeakEnded, "ended"),
        (lite.AgentSpeakInterrupted, "interrupted"),
    ],
)
def test_lite_reports_map_to_their_utterance(model: type[BaseModel], status: str) -> None:
    speech = speech_dialect("lite")
    with_id = decode(json.dumps({"type": tag(model), "event_id": "u1"}), "lite", "server")
    assert speech.playback(with_id) == Playback(status, "u1")  # type: ignore[arg-type]
    without_id = decode(json.dumps({"type": tag(model)}), "lite", "server")
    assert speech.playback(without_id) is None


def test_other_events_report_no_playback() -> None:
    state = decode(
        json.dumps({"type": tag(lite.SessionStateUpdated), "state": "connected"}), "lite", "server"
    )
    assert speech_dialect("lite").playback(state) is None
    idle = decode(
        json.dumps({"type": tag(realtime_alpha.AgentStatus), "status": "idle"}),
        "realtime-alpha",
        "server",
    )
    assert speech_dialect("lite").playback(idle) is None


# ---------------------------------------------------------------- Realtime alpha


def kinds(messages: tuple[BaseModel, ...]) -> list[type[BaseModel]]:
    return [type(m) for m in messages]


APPEND = realtime_alpha.AgentAudioBufferAppend
COMMIT = realtime_alpha.AgentAudioBufferCommit
CLEAR = realtime_alpha.AgentAudioBufferClear


def test_alpha_commits_once_a_second_is_buffered() -> None:
    wire = speech_dialect("realtime-alpha").utterance("u1")
    assert kinds(wire.chunk(AUDIO, 0.4)) == [APPEND]
    assert kinds(wire.chunk(AUDIO, 0.5)) == [APPEND]  # 0.9 s buffered
    assert kinds(wire.chunk(AUDIO, 0.1)) == [APPEND, COMMIT]  # 1.0 s
    assert kinds(wire.chunk(AUDIO, 0.99)) == [APPEND]  # counted from the commit
    end = wire.end()
    assert kinds(end.messages) == [COMMIT]
    assert not end.over


def test_alpha_clears_a_tail_under_80_ms() -> None:
    committed = speech_dialect("realtime-alpha").utterance("u1")
    committed.chunk(AUDIO, 1.0)
    committed.chunk(AUDIO, 0.079)
    end = committed.end()
    assert kinds(end.messages) == [CLEAR]
    assert not end.over  # what was committed still plays, and idle will say so

    tiny = speech_dialect("realtime-alpha").utterance("u2")
    tiny.chunk(AUDIO, 0.05)
    end = tiny.end()
    assert kinds(end.messages) == [CLEAR]
    assert end.over  # nothing will play and nothing will be reported

    exact = speech_dialect("realtime-alpha").utterance("u3")
    exact.chunk(AUDIO, 1.0)
    end = exact.end()
    assert end.messages == ()  # all of it committed already
    assert not end.over


def test_alpha_interrupt_also_clears_the_buffer() -> None:
    assert kinds(speech_dialect("realtime-alpha").interrupt()) == [
        realtime_alpha.AgentInterrupt,
        CLEAR,
    ]


def test_alpha_idle_ends_every_fully_sent_utterance() -> None:
    speech = speech_dialect("realtime-alpha")

    def status(value: str) -> SessionEvent:
        raw = json.dumps({"type": tag(realtime_alpha.AgentStatus), "status": value})
        return decode(raw, "realtime-alpha", "server")

    assert speech.playback(status("idle")) == Playback("ended", None)
    assert speech.playback(status("speaking")) is None


# ------------------------------------------------------------ on the simulator's wire


async def test_the_pump_sends_alpha_buffer_messages_in_order() -> None:
    async with Simulator(SimulatorConfig(connect_delay_seconds=0.1)) as sim:
        session = AvatarSession.interactive_avatar(
            avatar_id="Wayne_20240711",
            api_key=KEY,
            base_url=sim.url,
            pump=PumpConfig(lead_seconds=10.0),
        )
        async with session:
            # 0.4 + 1.0 + 1.0 + 0.1 s chunks.
            result = await asyncio.wait_for(session.speak(tone(2.5), sample_rate=RATE), 10)
            assert await asyncio.wait_for(result.finished(), 10) == ("ended",)
            sid = session.session_id
            assert sid is not None
            events = [kind for _, kind, _ in sim.client_events(sid)]
    append, commit = tag(APPEND), tag(COMMIT)
    audio_events = [k for k in events if k in (append, commit)]
    assert audio_events == [append, append, commit, append, commit, append, commit]


async def test_the_pump_sends_lite_speak_chunks_then_speak_end() -> None:
    async with Simulator(SimulatorConfig(connect_delay_seconds=0.1)) as sim:
        session = AvatarSession.live_avatar(
            sandbox=True, api_key=KEY, base_url=sim.url, pump=PumpConfig(lead_seconds=10.0)
        )
        async with session:
            result = await asyncio.wait_for(session.speak(tone(2.5), sample_rate=RATE), 10)
            assert await asyncio.wait_for(result.finished(), 15) == ("ended",)
            sid = session.session_id
            assert sid is not None
            records = sim.client_events(sid)
            audio = sim.received_audio(sid)
    speak, end = tag(lite.AgentSpeak), tag(lite.AgentSpeakEnd)
    assert [k for _, k, _ in records if k in (speak, end)] == [speak] * 4 + [end]
    assert {w["event_id"] for _, k, w in records if k in (speak, end)} == set(result.event_ids)
    assert len(audio) == int(2.5 * RATE) * 2
