"""The one audio format the service plays, and the input this package accepts.

The service garbles the avatar's video, without any error, when audio is not
raw PCM signed 16-bit little-endian, mono, 24 000 Hz. Everything the audio
package sends is in that format; `AudioInput` is what it converts from:

- raw PCM16 little-endian ``bytes``/``bytearray``/``memoryview``, interleaved;
  the caller states ``sample_rate`` and ``channels``;
- numpy arrays of dtype int16 or float32 (in [-1.0, 1.0]), 1-D for mono or
  2-D ``(frames, channels)``; the caller states ``sample_rate``;
- WAV files of 8-bit (unsigned), 16, 24 or 32-bit integer PCM, plain or
  WAVE_FORMAT_EXTENSIBLE, any rate and channel count: a path or a binary file
  object. Rate and channels come from the header.

In an audio stream (an async iterator given to `speak`), items are audio
itself: bytes, arrays or WAV file objects. A ``str`` or path there is
refused with an `AudioFormatError` (it is most likely text, or a file meant
for `speak` itself).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, BinaryIO, Literal, TypeAlias

from heygen_core.errors import AudioFormatError

if TYPE_CHECKING:
    # Annotations only: numpy is imported when audio is first converted.
    import numpy as np
    from numpy.typing import NDArray

SAMPLE_RATE = 24_000
"""The only sample rate the service accepts (Hz)."""

BYTES_PER_SECOND = SAMPLE_RATE * 2
"""Bytes in one second of 24 kHz mono PCM16."""

MIN_SAMPLE_RATE = 1_000
"""Lowest input rate accepted (Hz); anything lower is a mistake, not speech."""

MAX_SAMPLE_RATE = 384_000
"""Highest input rate accepted (Hz): the highest rate audio interfaces offer."""

MAX_CHANNELS = 32
"""Most input channels accepted."""

Quality: TypeAlias = Literal["HQ", "VHQ"]
"""libsoxr quality preset: ``HQ`` (20-bit precision) or ``VHQ`` (28-bit, slower)."""

AudioInput: TypeAlias = (
    "bytes | bytearray | memoryview | NDArray[np.int16] | NDArray[np.float32] | str"
    " | os.PathLike[str] | BinaryIO"
)
"""Audio `AudioConverter` and `to_pcm16_mono_24k` accept (see the module docstring for streams)."""


# Tuples, not `X | Y` unions: isinstance() on the hot path rebuilds a union per call.
RAW_TYPES = (bytes, bytearray, memoryview)
"""Types taken as raw PCM16."""

PATH_TYPES = (str, os.PathLike)
"""Types taken as a WAV file's path."""


def reject_wav_bytes(data: bytes | bytearray | memoryview) -> None:
    """Refuse a whole WAV file passed as raw PCM: its header would play as noise."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        raise AudioFormatError(
            "these bytes are a WAV file, not raw PCM16: pass io.BytesIO(data) so the "
            "header is read (its rate and channels are then used) instead of played as noise"
        )
