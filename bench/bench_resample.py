"""Benchmark heygen_core.audio.convert's streaming converter against a plain soxr baseline.

CPU time (`time.process_time`) per second of audio, for input rates 16000,
22050, 24000, 44100 and 48000 Hz fed as 20 ms int16 frames (numpy arrays, or
bytes where marked), the best of ROUNDS passes over AUDIO_SECONDS of audio:

- baseline: `soxr.ResampleStream(rate, 24000, 1, dtype="int16",
  quality="VHQ")`, one `resample_chunk` per frame;
- converter: `AudioConverter(rate)` (defaults: HQ, 100 ms batches), and a
  sweep of batch sizes and VHQ for the trade-off;
- floor: `soxr.resample(whole signal, quality="HQ")` in one call, the least
  CPU any soxr HQ conversion can take (no streaming at all);
- livekit: `livekit.rtc.AudioResampler` (HIGH and VERY_HIGH), when installed
  (`pip install livekit==1.2.1`; not a project dependency), else skipped.

Each is measured resampling only, and as a pump: output cut into 1 s chunks,
`base64.b64encode`, and `json.dumps` of ``{"type": "agent.speak", "audio":
..., "event_id": ...}``. One extra pump row encodes with heygen_core's own
path instead (`lite.AgentSpeak` + `heygen_core.encode`), as `AudioPump` does.

Quality: a 3 s signal (five sines and white noise, fixed seed) converted by
each method, against `soxr.resample(x, rate, 24000, quality="VHQ")` of the
whole signal in float64; RMS error in dBFS (full scale = 1.0) with the first
and last 50 ms left out, over the whole band and in-band (below 90% of the
lower Nyquist frequency: HQ and VHQ differ mostly in the transition band
above). "int16 floor" is the reference itself rounded to 16 bits: no 16-bit
output can do much better.

Writes bench/results/resample.json and prints a table with ratios against the
baseline measured in the same run.
Target (audio layer brief): converter pump CPU <= 0.5 x baseline pump at 44.1 and 48 kHz.
"""

from __future__ import annotations

import base64
import json
import math
import platform
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import soxr
from _common import EVENT_ID, FRAME_MS, OUT_RATE, finish, frames, test_signal
from heygen_models import lite

from heygen_core import encode
from heygen_core.audio.convert import AudioConverter

RATES = (16_000, 22_050, 24_000, 44_100, 48_000)
AUDIO_SECONDS = 60
QUALITY_SECONDS = 3
ROUNDS = 7
CHUNK_BYTES = OUT_RATE * 2  # 1 s of 24 kHz PCM16
EDGE_SECONDS = 0.05
PASSBAND = 0.9  # of the lower of the two Nyquist frequencies, for the in-band error
BATCH_SWEEP_MS = (0, 20, 50, 200, 500)

Pieces = Iterable[bytes]


def cpu_ms_per_audio_s(run: Callable[[], None]) -> float:
    """Best of ROUNDS passes (least disturbed), in CPU ms per second of audio."""
    run()  # warm-up: imports, allocator, lazily built filters
    best = math.inf
    for _ in range(ROUNDS):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best / AUDIO_SECONDS * 1000


# -- the pump tail: 1 s chunks, base64, JSON ------------------------------------------------


def pump_json_dumps(pieces: Pieces) -> None:
    buffer = bytearray()
    b64, dumps = base64.b64encode, json.dumps

    def send(chunk: bytes) -> None:
        dumps({"type": "agent.speak", "audio": b64(chunk).decode("ascii"), "event_id": EVENT_ID})

    for piece in pieces:
        buffer += piece
        while len(buffer) >= CHUNK_BYTES:
            send(bytes(buffer[:CHUNK_BYTES]))
            del buffer[:CHUNK_BYTES]
    if buffer:
        send(bytes(buffer))


def pump_heygen_encode(pieces: Pieces) -> None:
    buffer = bytearray()
    b64 = base64.b64encode

    def send(chunk: bytes) -> None:
        audio = b64(chunk).decode("ascii")
        encode(lite.AgentSpeak(type="agent.speak", audio=audio, event_id=EVENT_ID))

    for piece in pieces:
        buffer += piece
        while len(buffer) >= CHUNK_BYTES:
            send(bytes(buffer[:CHUNK_BYTES]))
            del buffer[:CHUNK_BYTES]
    if buffer:
        send(bytes(buffer))


def drain(pieces: Pieces) -> None:
    for _ in pieces:
        pass


# -- the methods: each turns 20 ms frames into 24 kHz PCM16 pieces ---------------------------


def baseline(rate: int, inputs: list[np.ndarray], as_bytes: bool) -> Iterator[bytes]:
    stream = soxr.ResampleStream(rate, OUT_RATE, 1, dtype="int16", quality="VHQ")
    for frame in inputs:
        out = stream.resample_chunk(frame)
        yield out.tobytes() if as_bytes else out
    yield stream.resample_chunk(inputs[0][:0], last=True).tobytes()


def converter(rate: int, inputs: Iterable[Any], **options: Any) -> Iterator[bytes]:
    conv = AudioConverter(rate, **options)
    for frame in inputs:
        yield conv.push(frame)
    yield conv.flush()


def floor_hq(rate: int, signal: np.ndarray) -> Iterator[bytes]:
    yield soxr.resample(signal, rate, OUT_RATE, quality="HQ").tobytes()


def livekit_methods() -> dict[str, Callable[[int, list[bytearray]], Iterator[bytes]]] | None:
    try:
        from livekit import rtc
    except ImportError:
        return None

    def make(quality: Any) -> Callable[[int, list[bytearray]], Iterator[bytes]]:
        def run(rate: int, inputs: list[bytearray]) -> Iterator[bytes]:
            resampler = rtc.AudioResampler(rate, OUT_RATE, num_channels=1, quality=quality)
            for frame in inputs:
                for out in resampler.push(frame):
                    yield out.data.cast("B")
            for out in resampler.flush():
                yield out.data.cast("B")

        return run

    return {
        "livekit HIGH": make(rtc.AudioResamplerQuality.HIGH),
        "livekit VERY_HIGH": make(rtc.AudioResamplerQuality.VERY_HIGH),
    }


# -- quality -----------------------------------------------------------------------------------


def db(error: np.ndarray) -> float | None:
    rms = float(np.sqrt(np.mean(error**2)))
    return None if rms == 0 else 20 * math.log10(rms)


def rms_errors_db(rate: int, pieces: Pieces, reference: np.ndarray) -> dict[str, float | None]:
    """RMS error over the whole band, and below PASSBAND of the lower Nyquist frequency.

    HQ and VHQ differ almost only in their transition bands (the top ~9% below
    the lower Nyquist frequency), which the first figure counts in full.
    """
    out = np.frombuffer(b"".join(bytes(p) for p in pieces), np.int16) / 32768.0
    n = min(out.size, reference.size)
    edge = int(EDGE_SECONDS * OUT_RATE)
    error = out[edge : n - edge] - reference[edge : n - edge]
    spectrum = np.fft.rfft(error)
    spectrum[np.fft.rfftfreq(error.size, 1 / OUT_RATE) >= PASSBAND * min(rate, OUT_RATE) / 2] = 0
    return {"quality_db": db(error), "passband_quality_db": db(np.fft.irfft(spectrum, error.size))}


def quality_row(
    rate: int, method: Callable[[list[Any]], Pieces], as_bytes: bool
) -> dict[str, float | None]:
    signal = test_signal(rate, QUALITY_SECONDS)
    reference = soxr.resample(signal / 32768.0, rate, OUT_RATE, quality="VHQ")
    inputs: list[Any] = frames(signal, rate)
    if as_bytes:
        inputs = [bytearray(f.tobytes()) for f in inputs]
    return rms_errors_db(rate, method(inputs), reference)


def int16_floor_db(rate: int) -> dict[str, float | None]:
    signal = test_signal(rate, QUALITY_SECONDS)
    reference = soxr.resample(signal / 32768.0, rate, OUT_RATE, quality="VHQ")
    rounded = np.clip(np.rint(reference * 32768), -32768, 32767).astype(np.int16)
    return rms_errors_db(rate, [rounded.tobytes()], reference)


# -- the run -----------------------------------------------------------------------------------


def measure(
    rate: int,
    method: Callable[[list[Any]], Pieces],
    inputs: list[Any],
    *,
    pump: bool = True,
    as_bytes_quality: bool = False,
) -> dict[str, Any]:
    result: dict[str, Any] = {"resample_ms": cpu_ms_per_audio_s(lambda: drain(method(inputs)))}
    if pump:
        result["pump_ms"] = cpu_ms_per_audio_s(lambda: pump_json_dumps(method(inputs)))
    result.update(quality_row(rate, method, as_bytes_quality))
    return result


def measure_rate(rate: int) -> dict[str, dict[str, Any]]:
    signal = test_signal(rate, AUDIO_SECONDS)
    arrays = frames(signal, rate)
    byte_frames = [f.tobytes() for f in arrays]
    rows: dict[str, dict[str, Any]] = {}

    def row(name: str, method: Callable[[list[Any]], Pieces], inputs: list[Any], **kw: Any) -> None:
        rows[name] = measure(rate, method, inputs, **kw)

    row("baseline VHQ stream", lambda fs: baseline(rate, fs, as_bytes=False), arrays, pump=False)
    rows["baseline VHQ stream"]["pump_ms"] = cpu_ms_per_audio_s(
        lambda: pump_json_dumps(baseline(rate, arrays, as_bytes=True))
    )
    row("converter HQ 100ms", lambda fs: converter(rate, fs), arrays)
    row("converter HQ 100ms, bytes in", lambda fs: converter(rate, fs), byte_frames)
    rows["converter HQ 100ms"]["pump_heygen_encode_ms"] = cpu_ms_per_audio_s(
        lambda: pump_heygen_encode(converter(rate, arrays))
    )
    for batch_ms in BATCH_SWEEP_MS:
        row(
            f"converter HQ {batch_ms}ms",
            lambda fs, b=batch_ms: converter(rate, fs, batch_ms=b),
            arrays,
            pump=False,
        )
    row("converter VHQ 100ms", lambda fs: converter(rate, fs, quality="VHQ"), arrays, pump=False)
    rows["floor: soxr.resample HQ, one call"] = {
        "resample_ms": cpu_ms_per_audio_s(lambda: drain(floor_hq(rate, signal))),
        "pump_ms": cpu_ms_per_audio_s(lambda: pump_json_dumps(floor_hq(rate, signal))),
        **quality_row(rate, lambda fs: floor_hq(rate, np.concatenate(fs)), as_bytes=False),
    }
    rows["int16 floor"] = int16_floor_db(rate)
    return rows


def measure_livekit(rate: int, methods: dict[str, Any]) -> dict[str, dict[str, Any]]:
    # Run after everything else: the FFI starts native threads, and their CPU
    # time would otherwise land in the other methods' process_time.
    inputs = [bytearray(f.tobytes()) for f in frames(test_signal(rate, AUDIO_SECONDS), rate)]
    return {
        name: measure(rate, lambda fs, m=method: m(rate, fs), inputs, as_bytes_quality=True)
        for name, method in methods.items()
    }


def add_ratios(rows: dict[str, dict[str, Any]]) -> None:
    base = rows["baseline VHQ stream"]
    for result in rows.values():
        if "resample_ms" in result:
            result["resample_ratio"] = result["resample_ms"] / base["resample_ms"]
        if "pump_ms" in result:
            result["pump_ratio"] = result["pump_ms"] / base["pump_ms"]
        if "pump_heygen_encode_ms" in result:
            result["pump_heygen_encode_ratio"] = result["pump_heygen_encode_ms"] / base["pump_ms"]


def fmt(value: float | None, spec: str) -> str:
    width = int(spec.split(".")[0])
    return "-".rjust(width) if value is None else format(value, spec)


def print_table(results: dict[str, Any]) -> None:
    header = (
        f"{'rate':>6}  {'method':<34} {'resample':>8} {'ratio':>6} "
        f"{'+pump':>7} {'ratio':>6}  {'quality':>8} {'in-band':>8}"
    )
    print("CPU ms per audio-second (best of rounds); ratios vs the baseline of the same run.")
    print("quality: RMS error vs one-shot VHQ in dBFS, whole band and in-band (below 90% of")
    print("the lower Nyquist frequency); lower is better; '-' = exact.")
    print(header)
    print("-" * len(header))
    for rate, rows in results["rates"].items():
        for name, r in rows.items():
            print(
                f"{rate:>6}  {name:<34} {fmt(r.get('resample_ms'), '8.3f')} "
                f"{fmt(r.get('resample_ratio'), '6.2f')} {fmt(r.get('pump_ms'), '7.3f')} "
                f"{fmt(r.get('pump_ratio'), '6.2f')}  {fmt(r.get('quality_db'), '8.1f')} "
                f"{fmt(r.get('passband_quality_db'), '8.1f')}"
            )
            if "pump_heygen_encode_ms" in r:
                print(
                    f"{'':>6}  {'  +pump via heygen_core.encode':<34} {'':>8} {'':>6} "
                    f"{r['pump_heygen_encode_ms']:7.3f} {r['pump_heygen_encode_ratio']:6.2f}"
                )
        print()


def main() -> int:
    livekit = livekit_methods()
    livekit_version = None
    if livekit is not None:
        from importlib.metadata import version

        livekit_version = version("livekit")
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(),
            "numpy": np.__version__,
            "soxr": soxr.__version__,
            "libsoxr": soxr.__libsoxr_version__,
            "livekit": livekit_version or "not installed: skipped",
        },
        "audio_seconds": AUDIO_SECONDS,
        "frame_ms": FRAME_MS,
        "rounds": ROUNDS,
        "units": "CPU ms per second of audio; quality in dBFS RMS error (null = exact)",
        "rates": {},
    }
    for rate in RATES:
        results["rates"][str(rate)] = measure_rate(rate)
    if livekit is not None:
        for rate in RATES:
            results["rates"][str(rate)].update(measure_livekit(rate, livekit))
    for rows in results["rates"].values():
        add_ratios(rows)
    print_table(results)
    if livekit is None:
        print("livekit not installed: its AudioResampler was skipped")
    return finish("resample", results)


if __name__ == "__main__":
    sys.exit(main())
