"""Audio for the avatar: conversion to 24 kHz mono PCM16, WAV reading, and the pump.

- `heygen_core.audio.format`: the service's one format and the input accepted;
- `heygen_core.audio.wav`: reading WAV files;
- `heygen_core.audio.convert`: `to_pcm16_mono_24k`, `load_speech_audio` (which also
  refuses input with no audio) and the streaming `AudioConverter`;
- `heygen_core.audio.dialects`: each realtime dialect's speech messages and reports;
- `heygen_core.audio.pump`: `AudioPump`, which chunks, paces and sends utterances.
"""

from __future__ import annotations

from heygen_core.audio.convert import (
    DEFAULT_BATCH_MS,
    AudioConverter,
    load_speech_audio,
    to_pcm16_mono_24k,
)
from heygen_core.audio.dialects import SpeechDialect, speech_dialect
from heygen_core.audio.format import (
    BYTES_PER_SECOND,
    MAX_CHANNELS,
    MAX_SAMPLE_RATE,
    MIN_SAMPLE_RATE,
    SAMPLE_RATE,
    AudioInput,
    Quality,
)
from heygen_core.audio.pump import (
    CONFIRMED_ENDINGS,
    AudioPump,
    EndedBy,
    PumpConfig,
    PumpStats,
    Utterance,
    UtteranceStatus,
)
from heygen_core.audio.wav import WavAudio, parse_wav, read_wav

__all__ = [
    "BYTES_PER_SECOND",
    "CONFIRMED_ENDINGS",
    "DEFAULT_BATCH_MS",
    "MAX_CHANNELS",
    "MAX_SAMPLE_RATE",
    "MIN_SAMPLE_RATE",
    "SAMPLE_RATE",
    "AudioConverter",
    "AudioInput",
    "AudioPump",
    "EndedBy",
    "PumpConfig",
    "PumpStats",
    "Quality",
    "SpeechDialect",
    "Utterance",
    "UtteranceStatus",
    "WavAudio",
    "load_speech_audio",
    "parse_wav",
    "read_wav",
    "speech_dialect",
    "to_pcm16_mono_24k",
]
