"""`load_speech_audio`: the check a caller makes before it opens a session.

It converts as `to_pcm16_mono_24k` does, and refuses input with no audio
(a WAV file whose header is valid but holds 0 frames, an empty buffer):
spoken, such input ends at once as ``nothing_to_play`` and a caller would
report success after opening, and maybe paying for, a session.
"""

from __future__ import annotations

import io
import math
import wave
from pathlib import Path

import numpy as np
import pytest

from heygen_core.audio import load_speech_audio, to_pcm16_mono_24k
from heygen_core.errors import AudioFormatError


def wav_file(path: Path, frames: bytes, rate: int = 16_000, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path


def tone(rate: int, seconds: float) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (0.3 * np.sin(2 * math.pi * 220.0 * t) * 32767).astype("<i2").tobytes()


def test_a_wav_file_with_a_valid_header_and_no_frames_is_refused(tmp_path: Path) -> None:
    path = wav_file(tmp_path / "empty.wav", b"", channels=2)
    with pytest.raises(AudioFormatError, match="holds no audio") as raised:
        load_speech_audio(path)
    assert "empty.wav" in str(raised.value) and "0 frames" in str(raised.value)
    with pytest.raises(AudioFormatError, match="0 frames"):
        load_speech_audio(str(path))
    with pytest.raises(AudioFormatError, match="0 frames"):
        load_speech_audio(io.BytesIO(path.read_bytes()))


@pytest.mark.parametrize(
    ("audio", "options"),
    [(b"", {"sample_rate": 24_000}), (np.zeros(0, np.int16), {"sample_rate": 44_100})],
    ids=["bytes", "array"],
)
def test_an_empty_buffer_is_refused(audio: object, options: dict[str, int]) -> None:
    with pytest.raises(AudioFormatError, match="holds no audio"):
        load_speech_audio(audio, **options)  # type: ignore[arg-type]


def test_a_wav_file_with_audio_loads_as_to_pcm16_mono_24k_converts_it(tmp_path: Path) -> None:
    path = wav_file(tmp_path / "speech.wav", tone(16_000, 0.2))
    pcm = load_speech_audio(path)
    assert pcm == to_pcm16_mono_24k(path)
    assert len(pcm) == 2 * 24_000 // 5
    # Bad files are still refused as before, and a missing one is an OSError.
    with pytest.raises(AudioFormatError, match="no RIFF/WAVE header"):
        load_speech_audio(io.BytesIO(b"not a wav file at all"))
    with pytest.raises(FileNotFoundError):
        load_speech_audio(tmp_path / "missing.wav")
