"""Validation of audio input: rates, channel counts, arrays and raw bytes.

Shared by the WAV reader and the converter; every refusal is an
`AudioFormatError` that says what is accepted instead.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from heygen_core.audio.format import (
    MAX_CHANNELS,
    MAX_SAMPLE_RATE,
    MIN_SAMPLE_RATE,
)
from heygen_core.audio.format import PATH_TYPES as PATH_TYPES  # re-exported: the converter's
from heygen_core.audio.format import RAW_TYPES as RAW_TYPES
from heygen_core.audio.format import reject_wav_bytes as reject_wav_bytes
from heygen_core.errors import AudioFormatError

PCM16 = np.dtype("<i2")
"""Little-endian 16-bit samples, whatever the machine's byte order."""

SUPPORTED = (
    "raw PCM16 little-endian bytes, numpy int16 or float32 arrays, "
    "or a WAV file (path or binary file object)"
)
"""What to say an input should have been."""


def check_rate(value: object, what: str = "sample_rate") -> int:
    """Return `value` as a sample rate in Hz, or raise `AudioFormatError` naming `what`."""
    # bool is an int subclass; True would pass as 1 Hz before the range check.
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        shown = f"{value!r} ({type(value).__name__})" if not isinstance(value, int) else value
        raise AudioFormatError(f"{what} must be a positive integer (Hz), got {shown}")
    rate = int(value)
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioFormatError(
            f"{what} must be between {MIN_SAMPLE_RATE} and {MAX_SAMPLE_RATE} Hz, got {rate}"
        )
    return rate


def check_channels(value: object, what: str = "channels") -> int:
    """Return `value` as a channel count, or raise `AudioFormatError` naming `what`."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not 1 <= value <= MAX_CHANNELS
    ):
        raise AudioFormatError(f"{what} must be an integer from 1 to {MAX_CHANNELS}, got {value!r}")
    return int(value)


def check_array(audio: NDArray[np.generic]) -> int:
    """Validate a numpy array's dtype, shape and range; return its channel count."""
    dtype = audio.dtype
    if dtype != np.int16 and dtype != np.float32:
        shown = dtype.name if dtype.isnative else f"{dtype.name} (non-native byte order)"
        raise AudioFormatError(
            f"numpy arrays must be int16 or float32, got {shown} — convert with "
            "arr.astype(np.float32) for samples in [-1.0, 1.0], or arr.astype(np.int16) "
            "for 16-bit integer samples"
        )
    if audio.ndim == 1:
        channels = 1
    elif audio.ndim == 2:
        channels = audio.shape[1]
        if not 1 <= channels <= MAX_CHANNELS:
            hint = (
                ": it looks like (channels, frames); pass arr.T"
                if 1 <= audio.shape[0] <= MAX_CHANNELS
                else ""
            )
            raise AudioFormatError(
                f"2-D audio arrays are (frames, channels) with 1 to {MAX_CHANNELS} channels, "
                f"got shape {audio.shape}{hint}"
            )
    else:
        raise AudioFormatError(
            f"numpy audio must be 1-D (mono) or 2-D (frames, channels), got shape {audio.shape}"
        )
    if dtype == np.float32 and audio.size:
        _check_float_range(audio)  # type: ignore[arg-type]
    return channels


def _check_float_range(audio: NDArray[np.float32]) -> None:
    # min/max are two fast passes, and both propagate NaN, so the common case
    # (valid audio) never builds a mask.
    low, high = audio.min(), audio.max()
    if low >= -1.0 and high <= 1.0:
        return
    flat = audio.reshape(-1)
    index = int(np.flatnonzero(~(np.abs(flat) <= 1.0))[0])
    value = float(flat[index])
    found = "NaN" if np.isnan(value) else repr(value)
    if audio.ndim == 2:
        frame, channel = divmod(index, audio.shape[1])
        where = f"frame {frame}, channel {channel}"
    else:
        where = f"sample {index}"
    raise AudioFormatError(
        f"float32 audio must be finite and within [-1.0, 1.0]: found {found} at {where}"
    )


def byte_view(audio: bytes | bytearray | memoryview) -> bytes | bytearray | memoryview:
    """Return `audio` as a flat byte sequence (a memoryview may have any format or shape)."""
    if isinstance(audio, memoryview) and (audio.ndim != 1 or audio.format != "B"):
        return audio.cast("B") if audio.c_contiguous else audio.tobytes()
    return audio
