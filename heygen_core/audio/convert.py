"""Conversion of audio to 24 kHz mono PCM16, the one format the service plays.

`to_pcm16_mono_24k` converts a whole buffer or WAV file (`load_speech_audio`
also refuses one that holds no audio); `AudioConverter` converts a stream
(for example a TTS's 20 ms frames) with a streaming resampler. They accept
any `AudioInput` (see `heygen_core.audio.format`) and refuse what cannot be
converted safely with an `AudioFormatError` that says what is supported.
Resampling is libsoxr's (through the ``soxr`` package); channels are mixed
down by their mean.
"""

from __future__ import annotations

import operator
import os
from typing import BinaryIO, Protocol

import numpy as np
import soxr  # type: ignore[import-untyped]  # ships no type information
from numpy.typing import NDArray

from heygen_core.audio._checks import (
    PATH_TYPES,
    PCM16,
    RAW_TYPES,
    SUPPORTED,
    byte_view,
    check_array,
    check_channels,
    check_rate,
    reject_wav_bytes,
)
from heygen_core.audio.format import SAMPLE_RATE, AudioInput, Quality
from heygen_core.audio.wav import WavAudio, read_wav
from heygen_core.errors import AudioFormatError

__all__ = [
    "DEFAULT_BATCH_MS",
    "AudioConverter",
    "input_duration",
    "load_speech_audio",
    "to_pcm16_mono_24k",
]

DEFAULT_BATCH_MS = 100
"""Input buffered before each resampler call, by default (milliseconds)."""


_dtype_of = operator.attrgetter("dtype")


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
        self._sample_rate = check_rate(sample_rate)
        self._output_rate = check_rate(output_rate, "output_rate")
        self._channels = check_channels(channels)
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
    def block_bytes(self) -> int:
        """Mono int16 input bytes per resampler call (`batch_ms` of input); 0 for any amount."""
        return self._batch_bytes

    @property
    def pending_bytes(self) -> int:
        """Mono int16 input bytes pushed and not yet resampled (waiting for their block)."""
        return len(self._pending)

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
            and audio.dtype == PCM16
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
        if isinstance(audio, RAW_TYPES):
            self._push_raw(audio)
        elif isinstance(audio, np.ndarray):
            self._push_array(audio)
        elif isinstance(audio, PATH_TYPES) or hasattr(audio, "read"):
            self._push_wav(read_wav(audio))
        else:
            raise AudioFormatError(
                f"unsupported audio type {type(audio).__name__}: pass {SUPPORTED}"
            )
        return self._ready()

    def push_arrays(self, arrays: list[NDArray[np.int16]] | list[NDArray[np.float32]]) -> bytes:
        """`push` several arrays at once (a stream's frames, gathered into a block).

        Arrays of one dtype and shape are joined and pushed as one: the same
        output as pushing them one by one, for one call's overhead.

        Raises:
            AudioFormatError: As for `push`.
        """
        if len(arrays) == 1:
            return self.push(arrays[0])
        # Checked in C (map, set): this runs once per block, over 50 frames a second.
        if set(map(type, arrays)) == {np.ndarray} and len(set(map(_dtype_of, arrays))) == 1:
            try:
                joined = np.concatenate(arrays)
            except ValueError:
                pass  # shapes differ: push them one by one, for push's own error
            else:
                if not self._pending and joined.dtype == PCM16 and joined.ndim == 1:
                    return self._push_block(joined)  # type: ignore[arg-type]
                return self.push(joined)  # type: ignore[arg-type]
        return b"".join([self.push(a) for a in arrays])

    def _push_block(self, samples: NDArray[np.int16]) -> bytes:
        """`push` of mono int16 samples with nothing pending: converted straight from the array.

        The pump's per-block path: no copy into the pending buffer and out of
        it again. Whole batches are resampled from views of `samples`, cut as
        `_resample` cuts them (the same output); only the rest waits pending.
        """
        if self._channels != 1:
            return self.push(samples)  # for push's own error
        if self._passthrough:
            return samples.tobytes()
        count = self._batch_bytes // 2 or len(samples)
        whole = len(samples) - len(samples) % count
        if whole < len(samples):
            self._pending += samples[whole:].data
        resample = self._resampler().resample_chunk
        if whole == count:  # the usual case: one block is one batch
            return resample(samples[:count]).tobytes()
        return b"".join(
            [resample(samples[at : at + count]).tobytes() for at in range(0, whole, count)]
        )

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
        audio = byte_view(audio)
        reject_wav_bytes(audio)
        self._raw_bytes += len(audio)
        if self._channels == 1:
            self._pending += audio
            return
        if self._carry:
            audio = self._carry + audio
        whole = len(audio) - len(audio) % self._frame_bytes
        self._carry = bytes(audio[whole:])
        if whole:
            frames = np.frombuffer(audio, PCM16, whole // 2).reshape(-1, self._channels)
            self._pending += _mono_int16(frames).astype(PCM16, copy=False).data

    def _push_array(self, audio: NDArray[np.generic]) -> None:
        channels = check_array(audio)
        if channels != self._channels:
            shape = "(frames,)" if audio.ndim == 1 else f"(frames, {channels})"
            raise AudioFormatError(
                f"this converter expects {self._channels} channel"
                f"{'s' if self._channels > 1 else ''}, got an array of shape "
                f"{audio.shape} = {shape}; 1-D arrays are mono, 2-D arrays (frames, channels)"
            )
        self._append_pending(audio)  # type: ignore[arg-type]

    def _push_wav(self, wav: WavAudio) -> None:
        if (wav.sample_rate, wav.channels) != (self._sample_rate, self._channels):
            raise AudioFormatError(
                f"WAV file is {wav.sample_rate} Hz with {wav.channels} channel(s), but this "
                f"converter is for {self._sample_rate} Hz with {self._channels}; make one "
                "converter per input format (AudioConverter.for_input)"
            )
        self._append_pending(wav.samples())

    def _append_pending(self, samples: NDArray[np.int16] | NDArray[np.float32]) -> None:
        if len(self._pending) % 2 or self._carry:
            raise AudioFormatError(
                "raw PCM16 bytes pushed so far end inside a sample; finish them before "
                "pushing an array or a WAV file"
            )
        mono = np.ascontiguousarray(_mono_int16(samples), PCM16)
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

    def _resampler(self) -> _Resampler:
        if self._stream is None:
            self._stream = soxr.ResampleStream(
                self._sample_rate, self._output_rate, 1, dtype="int16", quality=self._quality
            )
        return self._stream

    def _resample(self, block_bytes: int | None) -> bytes:
        """Resample pending input in calls of `block_bytes` (None: all of it, in one call).

        What does not fill a block stays pending.
        """
        stream = self._resampler()
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
    if isinstance(audio, RAW_TYPES):
        reject_wav_bytes(byte_view(audio))
        if sample_rate is None:
            raise AudioFormatError(
                "raw PCM16 bytes carry no sample rate: pass sample_rate= (Hz), and channels= "
                "when not mono"
            )
        return check_rate(sample_rate), check_channels(1 if channels is None else channels)
    if isinstance(audio, np.ndarray):
        found = check_array(audio)
        if channels is not None and check_channels(channels) != found:
            raise AudioFormatError(
                f"channels={channels} was given but the array of shape {audio.shape} has "
                f"{found}; 1-D arrays are mono, 2-D arrays (frames, channels)"
            )
        if sample_rate is None:
            raise AudioFormatError("numpy audio carries no sample rate: pass sample_rate= (Hz)")
        return check_rate(sample_rate), found
    wav = _peek_wav(audio)
    _check_stated(wav, sample_rate, channels)
    return wav.sample_rate, wav.channels


def _peek_wav(audio: str | os.PathLike[str] | BinaryIO) -> WavAudio:
    """Read the WAV file at a path, or in a file object that is then rewound to where it was."""
    if isinstance(audio, PATH_TYPES):
        return read_wav(audio)
    if not hasattr(audio, "read"):
        raise AudioFormatError(f"unsupported audio type {type(audio).__name__}: pass {SUPPORTED}")
    if not _rewindable(audio):
        raise AudioFormatError(
            "this WAV file object cannot be rewound after its header is read: pass "
            "io.BytesIO(file.read()), or convert it whole with to_pcm16_mono_24k"
        )
    start = audio.tell()
    try:
        return read_wav(audio)
    finally:
        audio.seek(start)


def _rewindable(audio: object) -> bool:
    seekable = getattr(audio, "seekable", None)
    return callable(seekable) and bool(seekable())


def input_duration(
    audio: AudioInput, sample_rate: int | None = None, channels: int | None = None
) -> float | None:
    """Return how many seconds whole audio lasts, from its size and its header or shape.

    Nothing is converted, and a file object is rewound to where it was. A
    file object that cannot be rewound gives None: it can be read only once,
    by whatever converts it.

    Args:
        audio: Raw PCM16 bytes, a numpy array, a WAV path or a WAV file object.
        sample_rate: Input rate in Hz; required for bytes and arrays.
        channels: Input channels; as for `AudioConverter.for_input`.

    Raises:
        AudioFormatError: As `AudioConverter.for_input` (an unsupported
            input, a missing rate, a stated rate or channels contradicting the input).
    """
    if isinstance(audio, RAW_TYPES):
        rate, found_channels = _describe(audio, sample_rate, channels)
        return memoryview(audio).nbytes / (2 * found_channels * rate)
    if isinstance(audio, np.ndarray):
        rate, _ = _describe(audio, sample_rate, channels)
        return len(audio) / rate
    if hasattr(audio, "read") and not _rewindable(audio):
        return None
    wav = _peek_wav(audio)
    _check_stated(wav, sample_rate, channels)
    return len(wav.data) // (wav.bits // 8 * wav.channels) / wav.sample_rate


def _check_stated(wav: WavAudio, sample_rate: int | None, channels: int | None) -> None:
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
        The converted audio, ready to base64-encode into speak messages.

    Raises:
        AudioFormatError: The input is not supported, is malformed, or its
            stated rate or channels contradict it.
        OSError: A WAV path could not be read.
    """
    return bytes(_convert_whole(audio, sample_rate, channels, quality, refuse_empty=False))


def load_speech_audio(
    audio: AudioInput,
    sample_rate: int | None = None,
    channels: int | None = None,
    *,
    quality: Quality = "HQ",
) -> bytes:
    """Check and convert a whole buffer or WAV file to speak, refusing one with no audio.

    `to_pcm16_mono_24k`, for a caller that checks its input before it opens
    a session (which takes seconds, and may be billed): empty input converts
    to nothing, which a session would speak as nothing and report done.

    Args:
        audio: As for `to_pcm16_mono_24k`; a WAV file's path, typically.
        sample_rate: As for `to_pcm16_mono_24k`.
        channels: As for `to_pcm16_mono_24k`.
        quality: As for `to_pcm16_mono_24k`.

    Returns:
        24 kHz mono PCM16, never empty.

    Raises:
        AudioFormatError: As for `to_pcm16_mono_24k`, or the input holds no
            audio (a WAV file with 0 frames, an empty buffer or array).
        OSError: A WAV path could not be read.
    """
    return bytes(_convert_whole(audio, sample_rate, channels, quality, refuse_empty=True))


def speech_buffer(
    audio: AudioInput, sample_rate: int | None = None, channels: int | None = None
) -> bytes | memoryview:
    """`to_pcm16_mono_24k` for the pump, which holds a whole utterance while it is spoken.

    The same audio, held once: a 24 kHz mono 16-bit WAV file comes back as
    a read-only view of the file's bytes, which nothing else holds (a bytes
    copy would double a long utterance); bytes already in the wire format
    come back as they are. Empty input is not refused.
    """
    return _convert_whole(audio, sample_rate, channels, "HQ", refuse_empty=False)


def _convert_whole(
    audio: AudioInput,
    sample_rate: int | None,
    channels: int | None,
    quality: Quality,
    *,
    refuse_empty: bool,
) -> bytes | memoryview:
    if (
        type(audio) is bytes
        and sample_rate == SAMPLE_RATE
        and channels in (None, 1)
        and not len(audio) % 2
        and (audio or not refuse_empty)
    ):
        # Already the wire format: bytes are immutable, so the caller's buffer
        # is spoken as it is, not copied (a long utterance is held once).
        reject_wav_bytes(audio)
        return audio
    if isinstance(audio, PATH_TYPES) or (
        not isinstance(audio, (*RAW_TYPES, np.ndarray)) and hasattr(audio, "read")
    ):
        # Read the file once, whether or not it can be rewound.
        wav = read_wav(audio)
        _check_stated(wav, sample_rate, channels)
        if refuse_empty and not len(wav.data):
            named = f" {os.fspath(audio)!r}" if isinstance(audio, PATH_TYPES) else ""
            raise AudioFormatError(
                f"the WAV file{named} holds no audio: its header is valid but it has 0 frames; "
                "nothing to speak (was the recording or export cut short?)"
            )
        if (wav.sample_rate, wav.channels, wav.bits) == (SAMPLE_RATE, 1, 16):
            # The wire format already: a view of the file's bytes (read here,
            # held by nothing else), so the audio is in memory once.
            return wav.data
        converter = AudioConverter(wav.sample_rate, wav.channels, quality=quality)
        converter._push_wav(wav)
        pcm = converter._ready() + converter.flush()
    elif (
        type(audio) is np.ndarray
        and audio.dtype == PCM16
        and audio.ndim == 1
        and sample_rate == SAMPLE_RATE
        and channels in (None, 1)
    ):
        # The wire format in an array: one copy (the caller may change its
        # array while it is spoken), not one into a converter and one out.
        pcm = audio.tobytes()
    else:
        converter = AudioConverter.for_input(audio, sample_rate, channels, quality=quality)
        pcm = converter.push(audio) + converter.flush()
    if refuse_empty and not pcm:
        kind = "array" if isinstance(audio, np.ndarray) else "buffer"
        raise AudioFormatError(
            f"the audio {kind} holds no audio (empty, or shorter than one sample at 24 kHz): "
            "nothing to speak"
        )
    return pcm
