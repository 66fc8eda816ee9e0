"""heygen_core.audio.convert and .wav: input becomes 24 kHz mono PCM16; the rest is refused."""

from __future__ import annotations

import io
import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from heygen_core.audio.convert import AudioConverter, to_pcm16_mono_24k
from heygen_core.audio.wav import parse_wav, read_wav
from heygen_core.errors import AudioFormatError

OUT_RATE = 24_000


def sine(
    rate: int, seconds: float = 1.0, freq: float = 440.0, amplitude: float = 0.5
) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def pcm16(x: np.ndarray) -> np.ndarray:
    samples: np.ndarray = np.clip(np.rint(x * 32768), -32768, 32767).astype(np.int16)
    return samples


def decode(out: bytes) -> np.ndarray:
    assert isinstance(out, bytes)
    assert len(out) % 2 == 0
    samples: np.ndarray = np.frombuffer(out, "<i2")
    return samples


def peak_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / OUT_RATE)[np.argmax(spectrum)])


def rms_db(samples: np.ndarray) -> float:
    middle = samples[samples.size // 10 : -samples.size // 10] / 32768.0
    return float(20 * np.log10(np.sqrt(np.mean(middle**2))))


def assert_sine(out: bytes, seconds: float, freq: float = 440.0, amplitude: float = 0.5) -> None:
    samples = decode(out)
    assert abs(samples.size - seconds * OUT_RATE) <= 2  # duration within 0.1 ms
    assert abs(peak_hz(samples) - freq) <= 2
    expected_db = 20 * np.log10(amplitude / np.sqrt(2))
    assert abs(rms_db(samples) - expected_db) < 0.2


def write_wav(
    path_or_file: str | Path | io.BytesIO, frames: bytes, rate: int, channels: int, width: int
) -> None:
    target = str(path_or_file) if isinstance(path_or_file, Path) else path_or_file
    with wave.open(target, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(frames)


def wav_bytes(frames: bytes, rate: int, channels: int, width: int) -> bytes:
    buffer = io.BytesIO()
    write_wav(buffer, frames, rate, channels, width)
    return buffer.getvalue()


def extensible_wav(data: bytes, rate: int, channels: int, bits: int, sub_format: int = 1) -> bytes:
    block = channels * bits // 8
    guid = struct.pack("<H", sub_format) + bytes.fromhex("000000001000800000aa00389b71")
    fmt = struct.pack(
        "<HHIIHHHHI", 0xFFFE, channels, rate, rate * block, block, bits, 22, bits, 0x3
    )
    fmt += guid
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def plain_wav_header(tag: int, rate: int, channels: int, bits: int, data: bytes) -> bytes:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


# -- every accepted input kind --------------------------------------------------------------


@pytest.mark.parametrize("rate", [16_000, 22_050, 44_100, 48_000])
def test_raw_mono_bytes_resample_to_the_same_tone(rate: int) -> None:
    out = to_pcm16_mono_24k(pcm16(sine(rate)).tobytes(), sample_rate=rate)
    assert_sine(out, 1.0)


def test_raw_stereo_44k1_keeps_440_hz_and_its_level() -> None:
    x = pcm16(sine(44_100))
    interleaved = np.stack([x, x], axis=1).tobytes()
    out = to_pcm16_mono_24k(interleaved, sample_rate=44_100, channels=2)
    assert_sine(out, 1.0)


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_bytearray_and_memoryview_are_raw_pcm(kind: type) -> None:
    raw = pcm16(sine(48_000)).tobytes()
    assert to_pcm16_mono_24k(kind(raw), 48_000) == to_pcm16_mono_24k(raw, 48_000)


def test_memoryview_of_an_int16_array_is_read_as_its_bytes() -> None:
    x = pcm16(sine(48_000))
    assert to_pcm16_mono_24k(x.data, 48_000) == to_pcm16_mono_24k(x.tobytes(), 48_000)


@pytest.mark.parametrize("rate", [22_050, 48_000])
@pytest.mark.parametrize("layout", ["int16 1-D", "int16 2-D", "float32 1-D", "float32 3ch"])
def test_numpy_arrays(rate: int, layout: str) -> None:
    x = sine(rate)
    array: np.ndarray
    if layout == "int16 1-D":
        array = pcm16(x)
    elif layout == "int16 2-D":
        array = np.stack([pcm16(x), pcm16(x)], axis=1)
    elif layout == "float32 1-D":
        array = x
    else:
        array = np.stack([x, x, x], axis=1)
    assert_sine(to_pcm16_mono_24k(array, sample_rate=rate), 1.0)


def test_float32_and_int16_of_the_same_signal_agree() -> None:
    x = sine(44_100)
    from_float = decode(to_pcm16_mono_24k(x, 44_100)).astype(int)
    from_int = decode(to_pcm16_mono_24k(pcm16(x), 44_100)).astype(int)
    assert np.abs(from_float - from_int).max() <= 3  # 16-bit rounding and dither


def test_channels_are_mixed_down_by_their_mean() -> None:
    x = pcm16(sine(OUT_RATE, 0.1))
    opposite = np.stack([x, -x], axis=1)
    assert not decode(to_pcm16_mono_24k(opposite, OUT_RATE)).any()
    left_only = np.stack([x, np.zeros_like(x)], axis=1)
    mixed = decode(to_pcm16_mono_24k(left_only, OUT_RATE)).astype(int)
    assert np.abs(mixed - x.astype(int) / 2).max() <= 0.5


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_wav_integer_pcm_reads_back_the_same_signal(width: int, channels: int) -> None:
    # At 24 kHz nothing is resampled, so the expected 16-bit samples are exact.
    rng = np.random.default_rng(width * 10 + channels)
    frames = 2400
    ints = rng.integers(-(1 << (8 * width - 1)), 1 << (8 * width - 1), (frames, channels))
    if width == 1:
        raw = (ints + 128).astype(np.uint8).tobytes()
        as16 = ints * 256.0
    elif width == 3:
        le = ints.astype("<i4").view(np.uint8).reshape(frames, channels, 4)[:, :, :3]
        raw = le.tobytes()
        as16 = ints / 256.0
    else:
        raw = ints.astype(f"<i{width}").tobytes()
        as16 = ints / (1 << (8 * width - 16))
    expected = np.clip(np.rint(as16.mean(axis=1)), -32768, 32767)
    out = decode(to_pcm16_mono_24k(io.BytesIO(wav_bytes(raw, OUT_RATE, channels, width))))
    assert out.size == frames
    assert np.abs(out - expected).max() <= 1  # float32 rounding of 24/32-bit means


@pytest.mark.parametrize("width", [1, 3, 4])
def test_wav_44k1_stereo_resamples_from_the_header_rate(tmp_path: Path, width: int) -> None:
    x = sine(44_100, 0.5)
    ints = np.rint(x * ((1 << (8 * width - 1)) - 1)).astype(np.int64)
    stereo = np.stack([ints, ints], axis=1)
    if width == 1:
        raw = (stereo + 128).astype(np.uint8).tobytes()
    elif width == 3:
        raw = stereo.astype("<i4").view(np.uint8).reshape(-1, 2, 4)[:, :, :3].tobytes()
    else:
        raw = stereo.astype("<i4").tobytes()
    path = tmp_path / "tone.wav"
    write_wav(path, raw, 44_100, 2, width)
    assert_sine(to_pcm16_mono_24k(path), 0.5)
    assert_sine(to_pcm16_mono_24k(str(path)), 0.5)


def test_wave_format_extensible_pcm_is_read() -> None:
    x = pcm16(sine(48_000, 0.5))
    as24 = (x.astype("<i4") << 8).view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    out = to_pcm16_mono_24k(io.BytesIO(extensible_wav(as24, 48_000, 1, 24)))
    assert_sine(out, 0.5)


def test_wav_with_extra_chunks_and_unknown_size_streaming_header() -> None:
    x = pcm16(sine(OUT_RATE, 0.2))
    fmt = struct.pack("<HHIIHH", 1, 1, OUT_RATE, OUT_RATE * 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
    body += b"LIST" + struct.pack("<I", 3) + b"abc\x00"  # odd size, padded
    body += b"data" + struct.pack("<I", 0xFFFFFFFF) + x.tobytes()
    out = to_pcm16_mono_24k(io.BytesIO(b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + body))
    assert out == x.tobytes()


def test_for_input_reads_a_wav_header_and_rewinds_the_file() -> None:
    x = pcm16(sine(44_100, 0.3))
    file = io.BytesIO(wav_bytes(np.stack([x, x], axis=1).tobytes(), 44_100, 2, 2))
    converter = AudioConverter.for_input(file)
    assert (converter.sample_rate, converter.channels) == (44_100, 2)
    out = converter.push(file) + converter.flush()
    assert_sine(out, 0.3)


def test_for_input_takes_rate_and_channels_from_the_caller_and_the_shape() -> None:
    converter = AudioConverter.for_input(np.zeros((10, 2), np.float32), sample_rate=16_000)
    assert (converter.sample_rate, converter.channels) == (16_000, 2)
    converter = AudioConverter.for_input(b"\x00\x00", sample_rate=22_050)
    assert (converter.sample_rate, converter.channels) == (22_050, 1)


# -- streaming -----------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [16_000, 44_100, 48_000])
def test_20ms_pushes_give_the_same_samples_as_one_push(rate: int) -> None:
    x = pcm16(sine(rate, 1.3))
    whole = AudioConverter(rate)
    expected = whole.push(x) + whole.flush()
    streaming = AudioConverter(rate)
    step = rate // 50
    parts = [streaming.push(x[i : i + step]) for i in range(0, x.size, step)]
    assert b"".join(parts) + streaming.flush() == expected
    assert expected == to_pcm16_mono_24k(x, rate)


def test_raw_bytes_may_be_split_inside_samples_and_frames() -> None:
    x = pcm16(sine(44_100, 0.5))
    stereo = np.stack([x, x], axis=1).tobytes()
    expected = to_pcm16_mono_24k(stereo, 44_100, 2)
    converter = AudioConverter(44_100, channels=2)
    parts = [converter.push(stereo[i : i + 441]) for i in range(0, len(stereo), 441)]
    assert b"".join(parts) + converter.flush() == expected


def test_output_arrives_once_a_batch_is_buffered() -> None:
    converter = AudioConverter(48_000, batch_ms=100)
    frame = pcm16(sine(48_000, 0.02))
    outputs = [converter.push(frame) for _ in range(5)]
    assert outputs[:4] == [b""] * 4
    assert outputs[4]  # 100 ms in: the resampler ran


def test_drain_releases_buffered_input_and_flush_the_tail() -> None:
    x = pcm16(sine(48_000, 0.05))
    converter = AudioConverter(48_000)
    assert converter.push(x) == b""
    drained = converter.drain()
    assert len(drained) > 0
    tail = converter.flush()
    assert abs((len(drained) + len(tail)) // 2 - 0.05 * OUT_RATE) <= 1


def test_a_flushed_converter_starts_a_fresh_stream() -> None:
    x = pcm16(sine(44_100, 0.4))
    converter = AudioConverter(44_100)
    first = converter.push(x) + converter.flush()
    second = converter.push(x) + converter.flush()
    assert first == second


def test_batch_ms_zero_resamples_every_push() -> None:
    converter = AudioConverter(48_000, batch_ms=0)
    out = b"".join(converter.push(pcm16(sine(48_000, 0.02))) for _ in range(10))
    assert len(out) > 0


def test_pass_through_at_24k_mono_is_bit_exact_and_immediate() -> None:
    x = pcm16(sine(OUT_RATE, 0.5, amplitude=0.9)) ^ np.int16(0x5A5)  # arbitrary bit patterns
    raw = x.tobytes()
    converter = AudioConverter(OUT_RATE)
    assert converter.passthrough
    assert converter.push(raw[:480]) == raw[:480]
    assert converter.push(raw[480:481]) == b""  # half a sample waits for its other byte
    assert converter.push(raw[481:]) + converter.flush() == raw[480:]
    assert to_pcm16_mono_24k(x, OUT_RATE) == raw
    assert to_pcm16_mono_24k(io.BytesIO(wav_bytes(raw, OUT_RATE, 1, 2))) == raw


def test_empty_input_yields_nothing() -> None:
    assert to_pcm16_mono_24k(b"", 44_100) == b""
    assert to_pcm16_mono_24k(np.zeros((0, 2), np.float32), 44_100) == b""
    assert to_pcm16_mono_24k(io.BytesIO(wav_bytes(b"", 44_100, 2, 2))) == b""
    converter = AudioConverter(48_000)
    assert converter.push(b"") == b""
    assert converter.flush() == b""


# -- rejections -----------------------------------------------------------------------------


def reject(match: str, audio: object, *args: object, **kwargs: object) -> None:
    with pytest.raises(AudioFormatError, match=match):
        to_pcm16_mono_24k(audio, *args, **kwargs)  # type: ignore[arg-type]


def test_raw_bytes_that_are_not_whole_frames() -> None:
    reject(
        "whole number of 2-byte samples per channel: got 4801 bytes for 2 channels",
        bytes(4801),
        48_000,
        2,
    )
    reject("got 4802 bytes for 4 channels", bytes(4802), 48_000, 4)
    reject("got 3 bytes for 1 channel", bytes(3), 24_000)


@pytest.mark.parametrize(
    ("rate", "match"),
    [
        (0, r"sample_rate must be a positive integer \(Hz\), got 0"),
        (-8000, "positive integer"),
        (44_100.0, r"positive integer \(Hz\), got 44100.0 \(float\)"),
        (True, "positive integer"),
        (500, "between 1000 and 384000 Hz, got 500"),
        (768_000, "between 1000 and 384000 Hz, got 768000"),
    ],
)
def test_bad_sample_rates(rate: object, match: str) -> None:
    reject(match, bytes(4), rate)
    with pytest.raises(AudioFormatError, match=match):
        AudioConverter(rate)  # type: ignore[arg-type]


@pytest.mark.parametrize("channels", [0, 33, 2.0])
def test_bad_channel_counts(channels: object) -> None:
    reject("channels must be an integer from 1 to 32", bytes(4), 48_000, channels)


def test_missing_sample_rate() -> None:
    reject("raw PCM16 bytes carry no sample rate: pass sample_rate=", bytes(4))
    reject("numpy audio carries no sample rate", np.zeros(4, np.int16))


def test_float32_nan_and_out_of_range() -> None:
    x = np.zeros(100, np.float32)
    x[17] = np.nan
    reject(r"finite and within \[-1.0, 1.0\]: found NaN at sample 17", x, 48_000)
    y = np.zeros((100, 2), np.float32)
    y[40, 1] = 1.5
    reject("found 1.5 at frame 40, channel 1", y, 48_000)
    z = np.zeros(10, np.float32)
    z[3] = -np.inf
    reject("found -inf at sample 3", z, 48_000)


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.uint8, np.dtype(">i2")])
def test_other_numpy_dtypes(dtype: np.dtype) -> None:
    reject("numpy arrays must be int16 or float32, got .*convert with", np.zeros(8, dtype), 48_000)


def test_array_shapes_and_channel_mismatches() -> None:
    reject(
        r"1-D \(mono\) or 2-D \(frames, channels\), got shape \(2, 3, 4\)",
        np.zeros((2, 3, 4), np.int16),
        48_000,
    )
    reject(
        r"got shape \(2, 4800\): it looks like \(channels, frames\); pass arr.T",
        np.zeros((2, 4800), np.int16),
        48_000,
    )
    reject("channels=2 was given but the array of shape", np.zeros(8, np.int16), 48_000, 2)
    converter = AudioConverter(48_000, channels=2)
    with pytest.raises(AudioFormatError, match="expects 2 channels, got an array of shape"):
        converter.push(np.zeros(8, np.int16))


def test_wav_that_is_not_integer_pcm() -> None:
    floats = plain_wav_header(3, 48_000, 1, 32, bytes(16))
    reject(r"WAV file is not integer PCM \(format tag 3: IEEE float\)", io.BytesIO(floats))
    alaw = plain_wav_header(6, 8_000, 1, 8, bytes(16))
    reject(r"not integer PCM \(format tag 6: A-law\)", io.BytesIO(alaw))
    ext_float = extensible_wav(bytes(16), 48_000, 1, 32, sub_format=3)
    reject(r"not integer PCM \(format tag 3: extensible, IEEE float\)", io.BytesIO(ext_float))


def test_malformed_wav_files() -> None:
    reject("not a supported WAV file: no RIFF/WAVE header", io.BytesIO(b"ID3\x04" + bytes(40)))
    reject("RF64", io.BytesIO(b"RF64" + bytes(4) + b"WAVE" + bytes(40)))
    truncated = wav_bytes(bytes(4800), 48_000, 1, 2)[:-100]
    reject(
        "declares 4800 bytes but the file holds only 4700: the file is truncated",
        io.BytesIO(truncated),
    )
    reject(
        "sample width must be 8, 16, 24 or 32 bits, got 12",
        io.BytesIO(plain_wav_header(1, 48_000, 1, 12, bytes(12))),
    )
    reject("WAV sample rate must be between", io.BytesIO(plain_wav_header(1, 500, 1, 16, b"")))
    no_data = b"RIFF" + struct.pack("<I", 4) + b"WAVE"
    reject("WAV file has no data chunk", io.BytesIO(no_data))
    with pytest.raises(AudioFormatError, match="binary mode"):
        to_pcm16_mono_24k(io.StringIO("RIFF"))  # type: ignore[arg-type]


def test_wav_bytes_passed_as_raw_pcm_are_refused() -> None:
    data = wav_bytes(bytes(4800), 48_000, 1, 2)
    reject(r"these bytes are a WAV file, not raw PCM16: pass io.BytesIO\(data\)", data, 48_000)
    converter = AudioConverter(48_000)
    with pytest.raises(AudioFormatError, match="are a WAV file"):
        converter.push(data)


def test_stated_format_must_match_the_wav_header() -> None:
    data = wav_bytes(bytes(4800), 48_000, 2, 2)
    reject("sample_rate=44100 was given but the WAV header says 48000 Hz", io.BytesIO(data), 44_100)
    reject("channels=1 was given but the WAV header says 2", io.BytesIO(data), None, 1)
    converter = AudioConverter(44_100, channels=2)
    with pytest.raises(AudioFormatError, match="WAV file is 48000 Hz with 2 channel"):
        converter.push(io.BytesIO(data))


def test_unsupported_types_and_options() -> None:
    reject("unsupported audio type list: pass raw PCM16", [0, 1, 2], 48_000)
    with pytest.raises(AudioFormatError, match="unsupported audio type int"):
        AudioConverter(48_000).push(7)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="quality must be 'HQ' or 'VHQ'"):
        AudioConverter(48_000, quality="MQ")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_ms"):
        AudioConverter(48_000, batch_ms=-1)


def test_a_rejected_push_keeps_the_stream_usable() -> None:
    x = pcm16(sine(44_100, 0.3))
    converter = AudioConverter(44_100)
    first = converter.push(x[:4410])
    with pytest.raises(AudioFormatError):
        converter.push(np.zeros(10, np.float64))  # type: ignore[arg-type]
    rest = converter.push(x[4410:]) + converter.flush()
    assert first + rest == to_pcm16_mono_24k(x, 44_100)


# ------------------------------------------------------------------ reading WAV files


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_read_wav_gives_the_header_and_the_samples_as_written(width: int) -> None:
    rng = np.random.default_rng(width)
    frames = rng.integers(-(2 ** (8 * width - 1)), 2 ** (8 * width - 1), (300, 2), dtype=np.int64)
    if width == 1:  # 8-bit WAV is unsigned, zero at 128
        raw = (frames + 128).astype(np.uint8).tobytes()
    else:
        raw = b"".join(int(v).to_bytes(width, "little", signed=True) for v in frames.reshape(-1))
    data = wav_bytes(raw, 22_050, 2, width)
    wav = read_wav(io.BytesIO(data))
    assert wav == parse_wav(data)
    assert (wav.sample_rate, wav.channels, wav.bits) == (22_050, 2, 8 * width)
    samples = wav.samples()
    assert samples.shape == (300, 2)
    if width <= 2:  # int16, scaled up from 8 bits
        assert samples.dtype == np.int16
        assert np.array_equal(samples, frames << (16 - 8 * width))
    else:  # float32 in [-1, 1)
        assert samples.dtype == np.float32
        expected = frames / float(2 ** (8 * width - 1))
        assert np.allclose(samples, expected, atol=2.0**-24)


def test_read_wav_refuses_a_text_mode_file(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    path.write_bytes(wav_bytes(b"\x00\x00" * 10, 24_000, 1, 2))
    assert read_wav(path).sample_rate == 24_000
    with path.open("r", encoding="latin-1") as text, pytest.raises(AudioFormatError, match="'rb'"):
        read_wav(text)  # type: ignore[arg-type]
