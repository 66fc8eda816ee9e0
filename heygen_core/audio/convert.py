"""Audio conversion to the one format the service plays: 24 kHz mono PCM16.

The service garbles the avatar's video, without any error, when audio is not
raw PCM signed 16-bit little-endian, mono, 24 000 Hz. Everything that leaves
this module is in that format; everything that cannot be converted safely is
refused with an `AudioFormatError` that says what is supported.

Accepted input (`AudioInput`):

- raw PCM16 little-endian ``bytes``/``bytearray``/``memoryview``, interleaved;
  the caller states ``sample_rate`` and ``channels``;
- numpy arrays of dtype int16 or float32 (in [-1.0, 1.0]), 1-D for mono or
  2-D ``(frames, channels)``; the caller states ``sample_rate``;
- WAV files of 8-bit (unsigned), 16, 24 or 32-bit integer PCM, plain or
  WAVE_FORMAT_EXTENSIBLE, any rate and channel count: a path or a binary file
  object. Rate and channels come from the header.

`to_pcm16_mono_24k` converts a whole buffer or file; `AudioConverter` converts
a stream (for example a TTS's 20 ms frames) with a streaming resampler.
Resampling is libsoxr's (through the ``soxr`` package); channels are mixed
down by their mean.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO, Literal, NamedTuple, Protocol, TypeAlias

import numpy as np
import soxr  # type: ignore[import-untyped]  # ships no type information
from numpy.typing import NDArray

from heygen_core.errors import AudioFormatError

SAMPLE_RATE = 24_000
"""The only sample rate the service accepts (Hz)."""

MIN_SAMPLE_RATE = 1_000
"""Lowest input rate accepted (Hz); anything lower is a mistake, not speech."""

MAX_SAMPLE_RATE = 384_000
"""Highest input rate accepted (Hz): the highest rate audio interfaces offer."""

MAX_CHANNELS = 32
"""Most input channels accepted."""

Quality: TypeAlias = Literal["HQ", "VHQ"]
"""libsoxr quality preset: ``HQ`` (20-bit precision) or ``VHQ`` (28-bit, slower)."""

AudioInput: TypeAlias = (
    bytes
    | bytearray
    | memoryview
    | NDArray[np.int16]
    | NDArray[np.float32]
    | str
    | os.PathLike[str]
    | BinaryIO
)
"""Audio `AudioConverter` and `to_pcm16_mono_24k` accept (see the module docstring)."""

DEFAULT_BATCH_MS = 100
"""Input buffered before each resampler call, by default (milliseconds)."""

_PCM16 = np.dtype("<i2")
_SUPPORTED = (
    "raw PCM16 little-endian bytes, numpy int16 or float32 arrays, "
    "or a WAV file (path or binary file object)"
)
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
# Tuples, not `X | Y` unions: push() is on the hot path and a union is rebuilt per call.
_RAW_TYPES = (bytes, bytearray, memoryview)
_PATH_TYPES = (str, os.PathLike)


# -- validation ---------------------------------------------------------------------------


def _check_rate(value: object, what: str = "sample_rate") -> int:
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


def _check_channels(value: object, what: str = "channels") -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not 1 <= value <= MAX_CHANNELS
    ):
        raise AudioFormatError(f"{what} must be an integer from 1 to {MAX_CHANNELS}, got {value!r}")
    return int(value)


def _check_array(audio: NDArray[np.generic]) -> int:
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


def _byte_view(audio: bytes | bytearray | memoryview) -> bytes | bytearray | memoryview:
    """Return `audio` as a flat byte sequence (a memoryview may have any format or shape)."""
    if isinstance(audio, memoryview) and (audio.ndim != 1 or audio.format != "B"):
        return audio.cast("B") if audio.c_contiguous else audio.tobytes()
    return audio


def _reject_wav_bytes(data: bytes | bytearray | memoryview) -> None:
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        raise AudioFormatError(
            "these bytes are a WAV file, not raw PCM16: pass io.BytesIO(data) so the "
            "header is read (its rate and channels are then used) instead of played as noise"
        )


# -- WAV ------------------------------------------------------------------------------------


class _Wav(NamedTuple):
    sample_rate: int
    channels: int
    bits: int
    data: memoryview  # whole frames of little-endian integer PCM


def _read_source(source: str | os.PathLike[str] | BinaryIO) -> bytes:
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as file:
            return file.read()
    data = source.read()
    if not isinstance(data, bytes | bytearray):
        raise AudioFormatError(
            f"WAV file objects must be opened in binary mode ('rb'); read() gave "
            f"{type(data).__name__}"
        )
    return bytes(data)


def _parse_wav(raw: bytes) -> _Wav:
    """Parse a RIFF/WAVE file held in memory.

    A parser of our own rather than the stdlib `wave`: Python 3.11's `wave`
    refuses WAVE_FORMAT_EXTENSIBLE (which most tools write for 24-bit,
    32-bit and multichannel files) and reports other formats only as
    "unknown format: 3".
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
            return _Wav(rate, channels, bits, view[body:end])
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
    channels = _check_channels(channels, "WAV channel count")
    rate = _check_rate(rate, "WAV sample rate")
    if block_align != channels * bits // 8:
        raise AudioFormatError(
            f"WAV header is inconsistent: block align {block_align} for {channels} "
            f"channels of {bits} bits"
        )
    return rate, channels, bits


def _wav_samples(wav: _Wav) -> NDArray[np.int16] | NDArray[np.float32]:
    """Return the samples as (frames, channels): int16 for 8/16-bit, float32 for 24/32."""
    data, channels = wav.data, wav.channels
    if wav.bits == 16:
        return np.frombuffer(data, _PCM16).reshape(-1, channels)
    if wav.bits == 8:
        # 8-bit WAV is unsigned with its zero at 128.
        widened = np.frombuffer(data, np.uint8).astype(np.int16)
        return ((widened - 128) << 8).reshape(-1, channels)
    if wav.bits == 24:
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


# -- sample conversion ----------------------------------------------------------------------


def _float_to_int16(samples: NDArray[np.float32]) -> NDArray[np.int16]:
    scaled = np.multiply(samples, np.float32(32768.0), dtype=np.float32)
    np.rint(scaled, out=scaled)
    np.clip(scaled, -32768.0, 32767.0, out=scaled)
    return scaled.astype(np.int16)


def _mono_int16(samples: NDArray[np.int16] | NDArray[np.float32]) -> NDArray[np.int16]:
    """Mix (frames, channels) or 1-D samples down to 1-D int16.

    Float input is quantised to 16 bits here, before resampling, so the
    stream has one dtype and libsoxr reads and writes int16 itself; the extra
    rounding raises the noise floor of 16-bit output by under 1 dB.
    """
    if samples.ndim == 2:
        if samples.shape[1] == 1:
            samples = samples.reshape(-1)
        else:
            mixed: NDArray[np.float32] = samples.mean(axis=1, dtype=np.float32)
            if samples.dtype == np.int16:
                np.rint(mixed, out=mixed)
                return mixed.astype(np.int16)
            return _float_to_int16(mixed)
    if samples.dtype == np.int16:
        return samples  # type: ignore[return-value]
    return _float_to_int16(samples)  # type: ignore[arg-type]


# -- streaming conversion -------------------------------------------------------------------


class _Resampler(Protocol):
    """The part of `soxr.ResampleStream` used here (soxr has no type information)."""

    def resample_chunk(self, x: NDArray[np.int16], last: bool = False) -> NDArray[np.int16]: ...


class AudioConverter:
    """Converts a stream of audio to 24 kHz mono PCM16, the service's only format.

    Push audio as it arrives; each `push` returns whatever converted audio is
    ready (possibly ``b""``). Call `flush` at the end of the stream for the
    rest. Input already at the output rate, mono int16, passes through
    unchanged, with no resampler and no delay. The output rate is 24 kHz
    unless `output_rate` says otherwise (a speech-to-text engine's 16 kHz,
    for audio received from a room).

    The resampler is called once per `batch_ms` of input rather than once
    per push: a TTS's 20 ms frames would otherwise spend most of the CPU in
    per-call overhead. Input is resampled in blocks of exactly that size, so
    the output does not depend on how the input was split into pushes (until
    `drain` is called). libsoxr applies TPDF dither when it writes 16-bit
    samples, so resampled digital silence comes out as ±1 LSB noise.

    Not thread-safe: use one converter per stream.

    Args:
        sample_rate: Input rate in Hz (1000 to 384000).
        channels: Input channels (1 to 32), interleaved in raw bytes, the
            second axis of 2-D arrays; mixed down by their mean.
        quality: libsoxr preset, ``"HQ"`` (default: its in-band error is below
            the 16-bit output's own noise) or ``"VHQ"`` (a steeper transition
            band above ~11 kHz, for 10-30% more CPU).
        batch_ms: Input buffered before each resampler call. Lower means
            less latency and more CPU; 0 resamples on every push.
        output_rate: Output rate in Hz (1000 to 384000); 24 000 by default,
            the only rate the service plays.

    Raises:
        AudioFormatError: `sample_rate`, `output_rate` or `channels` is out of range.
        ValueError: `quality` or `batch_ms` is not valid.

    Example:
        converter = AudioConverter(44_100, channels=2)
        for frame in tts_frames:  # raw PCM16 bytes, split anywhere
            send(converter.push(frame))
        send(converter.flush())
    """

    def __init__(
        self,
        sample_rate: int,
        channels: int = 1,
        *,
        quality: Quality = "HQ",
        batch_ms: int = DEFAULT_BATCH_MS,
        output_rate: int = SAMPLE_RATE,
    ) -> None:
        self._sample_rate = _check_rate(sample_rate)
        self._output_rate = _check_rate(output_rate, "output_rate")
        self._channels = _check_channels(channels)
        if quality not in ("HQ", "VHQ"):
            raise ValueError(f"quality must be 'HQ' or 'VHQ', got {quality!r}")
        if (
            isinstance(batch_ms, bool)
            or not isinstance(batch_ms, int)
            or not 0 <= batch_ms <= 10_000
        ):
            raise ValueError(f"batch_ms must be an integer from 0 to 10000, got {batch_ms!r}")
        self._quality: Quality = quality
        self._batch_ms = batch_ms
        self._passthrough = self._sample_rate == self._output_rate
        # Bytes of mono int16 input per resampler call; 0 = whatever is there.
        self._batch_bytes = self._sample_rate * batch_ms // 1000 * 2
        self._min_bytes = max(self._batch_bytes, 2)
        self._frame_bytes = 2 * self._channels
        self._stream: _Resampler | None = None
        self._pending = bytearray()  # mono int16 input not yet resampled (may end in 1 odd byte)
        self._carry = b""  # a partial multichannel raw frame, completed by the next push
        self._raw_bytes = 0  # raw bytes pushed since the last flush, for error messages

    @classmethod
    def for_input(
        cls,
        audio: AudioInput,
        sample_rate: int | None = None,
        channels: int | None = None,
        *,
        quality: Quality = "HQ",
        batch_ms: int = DEFAULT_BATCH_MS,
    ) -> AudioConverter:
        """Make a converter for audio shaped like `audio` (for example a stream's first item).

        A WAV file's rate and channels come from its header (a file object is
        rewound afterwards, so it can then be pushed); an array's channels
        come from its shape; raw bytes need `sample_rate` and default to mono.
        `audio` itself is only inspected, not converted.

        Args:
            audio: A sample of the input.
            sample_rate: Input rate in Hz; required for bytes and arrays.
            channels: Input channels; checked against a WAV header or an
                array's shape when given.
            quality: As for `AudioConverter`.
            batch_ms: As for `AudioConverter`.

        Returns:
            A new converter.

        Raises:
            AudioFormatError: `audio` is not supported, a rate is missing, or
                the stated rate or channels contradict the input.
        """
        rate, found_channels = _describe(audio, sample_rate, channels)
        return cls(rate, found_channels, quality=quality, batch_ms=batch_ms)

    @property
    def sample_rate(self) -> int:
        """Input sample rate (Hz)."""
        return self._sample_rate

    @property
    def output_rate(self) -> int:
        """Output sample rate (Hz): 24 000 unless the converter was made for another."""
        return self._output_rate

    @property
    def channels(self) -> int:
        """Input channel count."""
        return self._channels

    @property
    def quality(self) -> Quality:
        """The libsoxr quality preset."""
        return self._quality

    @property
    def batch_ms(self) -> int:
        """Input buffered before each resampler call (milliseconds)."""
        return self._batch_ms

    @batch_ms.setter
    def batch_ms(self, value: int) -> None:
        # The pump batches by its chunk length: short for the first chunk
        # (latency), then about a second (per-call overhead dominates below).
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10_000:
            raise ValueError(f"batch_ms must be an integer from 0 to 10000, got {value!r}")
        self._batch_ms = value
        self._batch_bytes = self._sample_rate * value // 1000 * 2
        self._min_bytes = max(self._batch_bytes, 2)

    @property
    def passthrough(self) -> bool:
        """Whether input is at the output rate already, so nothing is resampled."""
        return self._passthrough

    @property
    def holds_audio(self) -> bool:
        """Whether `flush` would return more audio.

        Input waits here for its batch, and the resampler holds a few
        milliseconds of delay: a caller whose input pauses must flush to get
        them out.
        """
        return len(self._pending) >= 2 or self._stream is not None

    def push(self, audio: AudioInput) -> bytes:
        """Add input; return the converted mono PCM16 (24 kHz by default) that is ready.

        Raw bytes may be split anywhere, even inside a sample (as network
        reads split them); only the stream as a whole must be whole frames,
        which `flush` checks.

        Args:
            audio: Input in this converter's rate and channel count (a WAV
                file's header must match them).

        Returns:
            Converted audio, possibly empty while the resampler's batch fills.

        Raises:
            AudioFormatError: `audio` is not supported or does not match
                this converter's rate or channels; nothing of it is kept.
        """
        if (
            type(audio) is np.ndarray
            and audio.dtype == _PCM16
            and audio.ndim == 1
            and self._channels == 1
            and audio.flags.c_contiguous
            and not len(self._pending) & 1
        ):
            # The common case (a TTS's 20 ms int16 frames) first and with as
            # few checks as safety allows: this runs 50 times per second of
            # audio, so its Python overhead rivals the resampling itself.
            self._pending += audio.data
            if len(self._pending) < self._min_bytes and not self._passthrough:
                return b""
            return self._ready()
        if isinstance(audio, _RAW_TYPES):
            self._push_raw(audio)
        elif isinstance(audio, np.ndarray):
            self._push_array(audio)
        elif isinstance(audio, _PATH_TYPES) or hasattr(audio, "read"):
            self._push_wav(_parse_wav(_read_source(audio)))
        else:
            raise AudioFormatError(
                f"unsupported audio type {type(audio).__name__}: pass {_SUPPORTED}"
            )
        return self._ready()

    def _ready(self) -> bytes:
        """Return what the pending input yields now, without ending the stream."""
        if self._passthrough:
            return self._take_passthrough()
        if len(self._pending) < self._min_bytes:
            return b""
        return self._resample(self._batch_bytes or None)

    def drain(self) -> bytes:
        """Resample everything pushed so far, without ending the stream.

        For latency-sensitive callers (for example at a pause in speech).
        The resampler still holds its own few milliseconds of delay; only
        `flush` releases those. Later output no longer lines up with the
        batch grid, so it may differ from an undrained run by a couple of LSB
        of dither.

        Returns:
            Converted audio, possibly empty.
        """
        if self._passthrough:
            return self._take_passthrough()
        return self._resample(None) if len(self._pending) >= 2 else b""

    def flush(self) -> bytes:
        """End the stream: return everything still buffered, including the resampler's tail.

        The converter is then ready for a new, independent stream.

        Returns:
            The rest of the converted audio.

        Raises:
            AudioFormatError: The raw bytes pushed were not a whole number of
                frames; the converter is reset anyway.
        """
        try:
            out = self.drain()
            leftover = len(self._pending) + len(self._carry)
            if leftover:
                raise AudioFormatError(
                    f"raw PCM16 needs a whole number of 2-byte samples per channel: got "
                    f"{self._raw_bytes} bytes for {self._channels} channel"
                    f"{'s' if self._channels > 1 else ''} ({leftover} left over)"
                )
            if self._stream is not None:
                out += self._stream.resample_chunk(np.empty(0, np.int16), last=True).tobytes()
            return out
        finally:
            self._stream = None
            self._pending = bytearray()
            self._carry = b""
            self._raw_bytes = 0

    # -- internals --------------------------------------------------------------------------

    def _push_raw(self, audio: bytes | bytearray | memoryview) -> None:
        audio = _byte_view(audio)
        _reject_wav_bytes(audio)
        self._raw_bytes += len(audio)
        if self._channels == 1:
            self._pending += audio
            return
        if self._carry:
            audio = self._carry + audio
        whole = len(audio) - len(audio) % self._frame_bytes
        self._carry = bytes(audio[whole:])
        if whole:
            frames = np.frombuffer(audio, _PCM16, whole // 2).reshape(-1, self._channels)
            self._pending += _mono_int16(frames).astype(_PCM16, copy=False).data

    def _push_array(self, audio: NDArray[np.generic]) -> None:
        channels = _check_array(audio)
        if channels != self._channels:
            shape = "(frames,)" if audio.ndim == 1 else f"(frames, {channels})"
            raise AudioFormatError(
                f"this converter expects {self._channels} channel"
                f"{'s' if self._channels > 1 else ''}, got an array of shape "
                f"{audio.shape} = {shape}; 1-D arrays are mono, 2-D arrays (frames, channels)"
            )
        self._append_pending(audio)  # type: ignore[arg-type]

    def _push_wav(self, wav: _Wav) -> None:
        if (wav.sample_rate, wav.channels) != (self._sample_rate, self._channels):
            raise AudioFormatError(
                f"WAV file is {wav.sample_rate} Hz with {wav.channels} channel(s), but this "
                f"converter is for {self._sample_rate} Hz with {self._channels}; make one "
                "converter per input format (AudioConverter.for_input)"
            )
        self._append_pending(_wav_samples(wav))

    def _append_pending(self, samples: NDArray[np.int16] | NDArray[np.float32]) -> None:
        if len(self._pending) % 2 or self._carry:
            raise AudioFormatError(
                "raw PCM16 bytes pushed so far end inside a sample; finish them before "
                "pushing an array or a WAV file"
            )
        mono = np.ascontiguousarray(_mono_int16(samples), _PCM16)
        self._pending += mono.data

    def _take_passthrough(self) -> bytes:
        pending = self._pending
        whole = len(pending) & ~1
        if whole == len(pending):
            self._pending = bytearray()
            return bytes(pending)
        out = bytes(pending[:whole])
        del pending[:whole]
        return out

    def _resample(self, block_bytes: int | None) -> bytes:
        """Resample pending input in calls of `block_bytes` (None: all of it, in one call).

        What does not fill a block stays pending.
        """
        stream = self._stream
        if stream is None:
            stream = self._stream = soxr.ResampleStream(
                self._sample_rate, self._output_rate, 1, dtype="int16", quality=self._quality
            )
        pending = self._pending
        if block_bytes is None:
            block_bytes = len(pending) & ~1
        used = len(pending) - len(pending) % block_bytes
        count = block_bytes // 2
        parts = [
            stream.resample_chunk(np.frombuffer(pending, np.int16, count, offset)).tobytes()
            for offset in range(0, used, block_bytes)
        ]
        self._pending = pending[used:]
        return parts[0] if len(parts) == 1 else b"".join(parts)


def _describe(audio: AudioInput, sample_rate: int | None, channels: int | None) -> tuple[int, int]:
    """Return the (sample rate, channels) of `audio`, from the caller or its header or shape."""
    if isinstance(audio, _RAW_TYPES):
        _reject_wav_bytes(_byte_view(audio))
        if sample_rate is None:
            raise AudioFormatError(
                "raw PCM16 bytes carry no sample rate: pass sample_rate= (Hz), and channels= "
                "when not mono"
            )
        return _check_rate(sample_rate), _check_channels(1 if channels is None else channels)
    if isinstance(audio, np.ndarray):
        found = _check_array(audio)
        if channels is not None and _check_channels(channels) != found:
            raise AudioFormatError(
                f"channels={channels} was given but the array of shape {audio.shape} has "
                f"{found}; 1-D arrays are mono, 2-D arrays (frames, channels)"
            )
        if sample_rate is None:
            raise AudioFormatError("numpy audio carries no sample rate: pass sample_rate= (Hz)")
        return _check_rate(sample_rate), found
    if isinstance(audio, _PATH_TYPES):
        wav = _parse_wav(_read_source(audio))
    elif hasattr(audio, "read"):
        if not (hasattr(audio, "seekable") and audio.seekable()):
            raise AudioFormatError(
                "this WAV file object cannot be rewound after its header is read: pass "
                "io.BytesIO(file.read()), or convert it whole with to_pcm16_mono_24k"
            )
        start = audio.tell()
        try:
            wav = _parse_wav(_read_source(audio))
        finally:
            audio.seek(start)
    else:
        raise AudioFormatError(f"unsupported audio type {type(audio).__name__}: pass {_SUPPORTED}")
    _check_stated(wav, sample_rate, channels)
    return wav.sample_rate, wav.channels


def _check_stated(wav: _Wav, sample_rate: int | None, channels: int | None) -> None:
    if sample_rate is not None and sample_rate != wav.sample_rate:
        raise AudioFormatError(
            f"sample_rate={sample_rate} was given but the WAV header says {wav.sample_rate} Hz; "
            "leave sample_rate out for WAV input"
        )
    if channels is not None and channels != wav.channels:
        raise AudioFormatError(
            f"channels={channels} was given but the WAV header says {wav.channels}; "
            "leave channels out for WAV input"
        )


def to_pcm16_mono_24k(
    audio: AudioInput,
    sample_rate: int | None = None,
    channels: int | None = None,
    *,
    quality: Quality = "HQ",
) -> bytes:
    """Convert a whole buffer or WAV file to 24 kHz mono PCM16 little-endian bytes.

    Gives the same bytes as an `AudioConverter` fed the same input in any
    pieces and then flushed.

    Args:
        audio: Raw PCM16 bytes, a numpy int16/float32 array, or a WAV file
            (path or binary file object).
        sample_rate: Input rate in Hz; required for bytes and arrays, taken
            from the header for WAV (and checked when given).
        channels: Input channels for raw bytes (default 1); checked against
            an array's shape or a WAV header when given.
        quality: libsoxr preset, ``"HQ"`` or ``"VHQ"``.

    Returns:
        The converted audio, ready to base64-encode for ``agent.speak``.

    Raises:
        AudioFormatError: The input is not supported, is malformed, or its
            stated rate or channels contradict it.
        OSError: A WAV path could not be read.
    """
    if isinstance(audio, _PATH_TYPES) or (
        not isinstance(audio, (*_RAW_TYPES, np.ndarray)) and hasattr(audio, "read")
    ):
        # Read the file once, whether or not it can be rewound.
        wav = _parse_wav(_read_source(audio))
        _check_stated(wav, sample_rate, channels)
        converter = AudioConverter(wav.sample_rate, wav.channels, quality=quality)
        converter._push_wav(wav)
        return converter._ready() + converter.flush()
    converter = AudioConverter.for_input(audio, sample_rate, channels, quality=quality)
    return converter.push(audio) + converter.flush()
