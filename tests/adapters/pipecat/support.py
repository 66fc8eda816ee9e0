"""Shared pieces of the Pipecat adapter tests: TTS-like audio and what the simulator saw."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pipecat.frames.frames import Frame, TTSAudioRawFrame

from heygen_core.audio.convert import AudioConverter
from heygen_core.simulator import Simulator

KEY = "sim-key"
FRAME_MS = 20  # what a TTS service typically hands out per frame


def tone(seconds: float, rate: int, frequency: float = 330.0) -> bytes:
    """A mono PCM16 tone, loud enough for the simulator's avatar to show it."""
    t = np.arange(int(rate * seconds)) / rate
    return (0.4 * np.sin(2 * math.pi * frequency * t) * 32767).astype("<i2").tobytes()


def tts_frames(pcm: bytes, rate: int) -> list[TTSAudioRawFrame]:
    """`pcm` cut into 20 ms ``TTSAudioRawFrame``s, as a TTS service pushes them."""
    step = rate * 2 * FRAME_MS // 1000
    return [
        TTSAudioRawFrame(audio=pcm[i : i + step], sample_rate=rate, num_channels=1)
        for i in range(0, len(pcm), step)
    ]


def at_24k(pcm: bytes, rate: int) -> bytes:
    """What `pcm` becomes once converted to the service's 24 kHz (one stream, flushed)."""
    converter = AudioConverter(rate)
    return converter.push(pcm) + converter.flush()


def of_type(frames: Sequence[Frame], kind: type[Frame]) -> list[Frame]:
    """The frames of one type, in order."""
    return [frame for frame in frames if isinstance(frame, kind)]


def client_event_types(sim: Simulator, session_id: str) -> list[str]:
    """The realtime commands a session's socket received, in order."""
    return [kind for _, kind, _ in sim.client_events(session_id)]
