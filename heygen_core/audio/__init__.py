"""Audio for the avatar: conversion to 24 kHz mono PCM16, WAV reading, and the pump.

- `heygen_core.audio.format`: the service's one format and the input accepted;
- `heygen_core.audio.wav`: reading WAV files;
- `heygen_core.audio.convert`: `to_pcm16_mono_24k`, `load_speech_audio` (which also
  refuses input with no audio) and the streaming `AudioConverter`;
- `heygen_core.audio.dialects`: each realtime dialect's speech messages and reports;
- `heygen_core.audio.pump`: `AudioPump`, which chunks, paces and sends utterances.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Where each name lives: imported on first use, so importing the pump does
# not import numpy and soxr (they come with the first conversion).
_HOMES = {
    "DEFAULT_BATCH_MS": "convert",
    "AudioConverter": "convert",
    "load_speech_audio": "convert",
    "to_pcm16_mono_24k": "convert",
    "SpeechDialect": "dialects",
    "speech_dialect": "dialects",
    "BYTES_PER_SECOND": "format",
    "MAX_CHANNELS": "format",
    "MAX_SAMPLE_RATE": "format",
    "MIN_SAMPLE_RATE": "format",
    "SAMPLE_RATE": "format",
    "AudioInput": "format",
    "Quality": "format",
    "CONFIRMED_ENDINGS": "pump",
    "AudioPump": "pump",
    "EndedBy": "pump",
    "PumpConfig": "pump",
    "PumpStats": "pump",
    "Utterance": "pump",
    "UtteranceStatus": "pump",
    "WavAudio": "wav",
    "parse_wav": "wav",
    "read_wav": "wav",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


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
