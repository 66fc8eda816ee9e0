"""Reading WAV files: RIFF/WAVE integer PCM, plain or WAVE_FORMAT_EXTENSIBLE.

`read_wav` reads a path or a binary file object; `parse_wav` parses a file
already in memory. Both return a `WavAudio`, whose `WavAudio.samples` gives
the samples as a numpy array. Anything but 8-bit unsigned or 16/24/32-bit
signed integer PCM is refused with an `AudioFormatError` that names it.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO, NamedTuple

import numpy as np
from numpy.typing import NDArray

from heygen_core.audio._checks import PCM16, check_channels, check_rate
from heygen_core.errors import AudioFormatError

_WAVE_FORMAT_PCM = 0x0001
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE
# The 14 bytes that follow the format code in every KSDATAFORMAT_SUBTYPE GUID.
_KSDATAFORMAT_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
_WAVE_FORMAT_NAMES = {
    0x0002: "Microsoft ADPCM",
    0x0003: "IEEE float",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0055: "MPEG layer 3",
    0x0092: "Dolby AC3",
}
# A streaming writer that cannot seek back leaves the data size at its maximum.
_SIZE_UNKNOWN = 0xFFFFFFFF


class WavAudio(NamedTuple):
    """The audio of a WAV file, as its header describes it.

    Attributes:
        sample_rate: Sample rate from the header (Hz).
        channels: Channel count from the header.
        bits: Bits per sample: 8, 16, 24 or 32.
        data: Whole frames of little-endian integer PCM (8-bit is unsigned).
    """

    sample_rate: int
    channels: int
    bits: int
    data: memoryview

    def samples(self) -> NDArray[np.int16] | NDArray[np.float32]:
        """Return the samples as (frames, channels): int16 for 8/16-bit, float32 for 24/32."""
        data, channels = self.data, self.channels
        if self.bits == 16:
            return np.frombuffer(data, PCM16).reshape(-1, channels)
        if self.bits == 8:
            # 8-bit WAV is unsigned with its zero at 128.
            widened = np.frombuffer(data, np.uint8).astype(np.int16)
            return ((widened - 128) << 8).reshape(-1, channels)
        if self.bits == 24:
            triples = np.frombuffer(data, np.uint8).reshape(-1, 3)
            padded = np.zeros((len(triples), 4), np.uint8)
            padded[:, 1:] = triples
            # Arithmetic shift of the left-justified 32-bit word sign-extends it.
            ints = padded.view("<i4").reshape(-1) >> 8
            scale = 1.0 / (1 << 23)
        else:
            ints = np.frombuffer(data, "<i4")
            scale = 1.0 / (1 << 31)
        # float32 holds 24 bits exactly; the 32-bit samples lose only bits far below 16-bit.
        return (ints.astype(np.float32) * np.float32(scale)).reshape(-1, channels)


def read_wav(source: str | os.PathLike[str] | BinaryIO) -> WavAudio:
    """Read a WAV file from a path or a binary file object (read to its end).

    Args:
        source: A path, or a file object opened in binary mode.

    Returns:
        The file's audio.

    Raises:
        AudioFormatError: The file is not a supported WAV file, or the file
            object is in text mode.
        OSError: The path could not be read.
    """
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as file:
            return parse_wav(file.read())
    data = source.read()
    if not isinstance(data, bytes | bytearray):
        raise AudioFormatError(
            f"WAV file objects must be opened in binary mode ('rb'); read() gave "
            f"{type(data).__name__}"
        )
    return parse_wav(bytes(data))


def parse_wav(raw: bytes) -> WavAudio:
    """Parse a RIFF/WAVE file held in memory.

    A parser of our own rather than the stdlib `wave`: Python 3.11's `wave`
    refuses WAVE_FORMAT_EXTENSIBLE (which most tools write for 24-bit,
    32-bit and multichannel files) and reports other formats only as
    "unknown format: 3".

    Args:
        raw: The whole file.

    Returns:
        The file's audio; its `data` is a view of `raw`, not a copy.

    Raises:
        AudioFormatError: Not RIFF/WAVE, not integer PCM, truncated or
            inconsistent; the message says which.
    """
    view = memoryview(raw)
    if len(raw) < 12 or raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        kind = raw[:4]
        if kind in (b"RIFX", b"RF64", b"BW64"):
            detail = f"a {kind.decode()} file (big-endian or 64-bit WAV)"
        else:
            detail = f"no RIFF/WAVE header (starts with {raw[:12]!r})"
        raise AudioFormatError(
            f"not a supported WAV file: {detail}; supported: RIFF/WAVE integer PCM"
        )
    fmt: tuple[int, int, int] | None = None  # sample rate, channels, bits
    pos = 12
    while pos + 8 <= len(raw):
        chunk_id = raw[pos : pos + 4]
        (size,) = struct.unpack_from("<I", raw, pos + 4)
        body = pos + 8
        if chunk_id == b"fmt ":
            fmt = _parse_fmt(view[body : body + size])
        elif chunk_id == b"data":
            if fmt is None:
                raise AudioFormatError("WAV file has its data chunk before its fmt chunk")
            end = body + size
            if size == _SIZE_UNKNOWN:
                end = len(raw)
            elif end > len(raw):
                raise AudioFormatError(
                    f"WAV data chunk declares {size} bytes but the file holds only "
                    f"{len(raw) - body}: the file is truncated"
                )
            rate, channels, bits = fmt
            frame_bytes = channels * bits // 8
            if (end - body) % frame_bytes:
                raise AudioFormatError(
                    f"WAV data is {end - body} bytes, not a whole number of "
                    f"{frame_bytes}-byte frames ({channels} channels of {bits} bits)"
                )
            return WavAudio(rate, channels, bits, view[body:end])
        pos = body + size + (size & 1)  # chunks are padded to an even length
    raise AudioFormatError("WAV file has no data chunk" + ("" if fmt else " and no fmt chunk"))


def _parse_fmt(chunk: memoryview) -> tuple[int, int, int]:
    if len(chunk) < 16:
        raise AudioFormatError(f"WAV fmt chunk is {len(chunk)} bytes, expected at least 16")
    tag, channels, rate, _, block_align, bits = struct.unpack_from("<HHIIHH", chunk)
    code = tag
    if tag == _WAVE_FORMAT_EXTENSIBLE:
        if len(chunk) < 40:
            raise AudioFormatError("WAV extensible fmt chunk is shorter than 40 bytes")
        (code,) = struct.unpack_from("<H", chunk, 24)
        if bytes(chunk[26:40]) != _KSDATAFORMAT_TAIL:
            code = -1
    if code != _WAVE_FORMAT_PCM:
        if code == -1:
            name = "extensible, unknown sub-format"
        else:
            name = _WAVE_FORMAT_NAMES.get(code, "not PCM")
            if tag == _WAVE_FORMAT_EXTENSIBLE:
                name = f"extensible, {name}"
        hint = (
            "; decode it (e.g. with soundfile) and pass a float32 array" if code == 0x0003 else ""
        )
        raise AudioFormatError(
            f"WAV file is not integer PCM (format tag {code if code >= 0 else tag}: {name}); "
            f"supported: 8-bit unsigned and 16/24/32-bit signed integer PCM{hint}"
        )
    if bits not in (8, 16, 24, 32):
        raise AudioFormatError(f"WAV sample width must be 8, 16, 24 or 32 bits, got {bits}")
    channels = check_channels(channels, "WAV channel count")
    rate = check_rate(rate, "WAV sample rate")
    if block_align != channels * bits // 8:
        raise AudioFormatError(
            f"WAV header is inconsistent: block align {block_align} for {channels} "
            f"channels of {bits} bits"
        )
    return rate, channels, bits
