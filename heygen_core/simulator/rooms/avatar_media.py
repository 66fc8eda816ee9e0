"""The simulated avatar's tracks: the audio it was given, played back, and a video that follows it.

A real avatar lip-syncs the audio it receives and publishes its voice and
video into the room. The simulator's avatar plays the same audio back in
real time and renders a synthetic frame per tick whose "mouth" opens with
the audio's level, so a test can show that what comes out of the room
follows what went in.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

SAMPLE_RATE = 24_000
"""The avatar's voice is 24 kHz mono PCM16, as the service receives it."""

# RMS (of int16 samples) at which the mouth is fully open: speech at a
# comfortable level (about -12 dBFS) reaches it.
_FULL_LEVEL_RMS = 8_000.0

_BACKGROUND = np.array([18, 20, 28], np.uint8)
_FACE = np.array([44, 36, 34], np.uint8)
_MOUTH = np.array([235, 120, 120], np.uint8)


def level_of(pcm: bytes) -> float:
    """Return the loudness of mono PCM16 as 0 (silence) to 1 (speech at full level)."""
    if len(pcm) < 2:
        return 0.0
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], "<i2").astype(np.float32)
    rms = math.sqrt(float(np.mean(samples * samples)))
    return min(1.0, rms / _FULL_LEVEL_RMS)


class FaceRenderer:
    """Renders RGB24 frames of a face whose mouth opening follows a level.

    Args:
        width: Pixels per row.
        height: Rows.
    """

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        frame = np.empty((height, width, 3), np.uint8)
        frame[:] = _BACKGROUND
        # A face covering the middle half of the frame.
        frame[height // 8 : height - height // 8, width // 4 : width - width // 4] = _FACE
        self._base = frame

    def render(self, level: float) -> bytes:
        """Return one frame (RGB24 rows, top to bottom) for `level` in 0..1."""
        frame = self._base.copy()
        half_width = max(1, int(self.width * (0.08 + 0.14 * level)))
        half_height = max(1, int(self.height * 0.32 * level))
        cx, cy = self.width // 2, int(self.height * 0.62)
        top, bottom = max(0, cy - half_height), min(self.height, cy + half_height)
        frame[top:bottom, cx - half_width : cx + half_width] = _MOUTH
        return frame.tobytes()


def tone_speech(seconds: float, seed: int) -> bytes:
    """Return speech-like audio for the simulated FULL-mode voice: syllables of a tone.

    Deterministic for a `seed`, 24 kHz mono PCM16, with pauses between
    syllables so its level (and the avatar's mouth) moves as speech does.
    """
    count = max(1, int(SAMPLE_RATE * seconds))
    t = np.arange(count, dtype=np.float64) / SAMPLE_RATE
    pitch = 140.0 + (seed % 7) * 15.0
    syllables = 0.5 - 0.5 * np.cos(2 * math.pi * 4.0 * t)  # four a second
    wave: NDArray[np.float64] = 0.35 * syllables * np.sin(2 * math.pi * pitch * t)
    return (wave * 32767).astype("<i2").tobytes()
