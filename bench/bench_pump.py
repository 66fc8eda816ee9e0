"""Benchmark the audio pump's CPU per second of audio against Pipecat's path.

For each input rate (16, 24, 44.1 and 48 kHz), 60 s of audio is fed as 20 ms
int16 frames, as a TTS delivers them:

- baseline (Pipecat's path, measured in this run): one
  `soxr.ResampleStream(rate, 24000, 1, dtype="int16", quality="VHQ")` call per
  frame, 1 s chunks, `base64.b64encode`, `json.dumps` of a dict;
- heygen-core: the real `AudioPump.speak()` over an async iterator of the
  same frames (conversion, chunking, base64, typed `agent.speak` models,
  `heygen_core.encode`), with pacing off and the socket replaced by a sink,
  so only the library's CPU is counted.

Quality: the pump's output for a 3 s test signal, against a one-shot soxr VHQ
resample of the whole signal (RMS error, dBFS), next to the same figure for a
one-shot soxr HQ resample (the bar: "no worse than soxr HQ"). 24 kHz is the
wire rate: the pump passes it through unchanged, so there is no resampling
error to report (the RMS error is exactly 0, which has no dB figure); the
row says "pass-through (no resampling)" instead, once the output was checked
to equal the input byte for byte.

Writes bench/results/pump.json (untracked: each run overwrites it; README.md
quotes the latest run). Target: pump CPU <= 0.5 x baseline at 44.1 and 48 kHz.
"""

from __future__ import annotations

import asyncio
import base64
import json
import platform
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_resample import AUDIO_SECONDS, cpu_ms_per_audio_s, frames, rms_errors_db, test_signal

from heygen_core.audio.pump import AudioPump, PumpConfig
from heygen_core.realtime.connection import RealtimeConnection

RESULTS = Path(__file__).resolve().parent / "results" / "pump.json"
RATES = (16_000, 24_000, 44_100, 48_000)
QUALITY_SECONDS = 3
CHUNK_BYTES = 48_000
# Pacing off (a lead longer than the audio) so CPU, not the clock, is measured.
NO_PACING = PumpConfig(lead_seconds=1e9, end_gap_seconds=60.0)
PASSTHROUGH = "pass-through (no resampling)"


class SinkConnection(RealtimeConnection):
    """A connection whose socket is a list: it keeps frames and sends nothing."""

    def __init__(self) -> None:
        super().__init__("ws://sink.invalid", keep_alive_interval=None)
        self.frames: list[str] = []
        self._open_gate()

    async def send_now(self, data: str) -> None:
        self.frames.append(data)


def baseline(rate: int, inputs: list[np.ndarray]) -> None:
    stream = soxr.ResampleStream(rate, 24_000, 1, dtype="int16", quality="VHQ")
    buffer = bytearray()

    def send(chunk: bytes) -> None:
        json.dumps(
            {"type": "agent.speak", "audio": base64.b64encode(chunk).decode(), "event_id": "e"}
        )

    for frame in inputs:
        buffer += stream.resample_chunk(frame).tobytes()
        while len(buffer) >= CHUNK_BYTES:
            send(bytes(buffer[:CHUNK_BYTES]))
            del buffer[:CHUNK_BYTES]
    buffer += stream.resample_chunk(inputs[0][:0], last=True).tobytes()
    if buffer:
        send(bytes(buffer))


async def pump_run(rate: int, inputs: list[np.ndarray]) -> SinkConnection:
    connection = SinkConnection()
    pump = AudioPump(connection, NO_PACING)

    async def source() -> AsyncIterator[np.ndarray]:
        for frame in inputs:
            yield frame

    await pump.speak(source(), sample_rate=rate)
    return connection


def pump_audio(connection: SinkConnection) -> bytes:
    parts = [json.loads(f) for f in connection.frames]
    return b"".join(base64.b64decode(p["audio"]) for p in parts if p["type"] == "agent.speak")


def measure(rate: int) -> dict[str, Any]:
    inputs = frames(test_signal(rate, AUDIO_SECONDS), rate)
    base = cpu_ms_per_audio_s(lambda: baseline(rate, inputs))
    ours = cpu_ms_per_audio_s(lambda: asyncio.run(pump_run(rate, inputs)))
    signal = test_signal(rate, QUALITY_SECONDS)
    reference = soxr.resample(signal / 32768.0, rate, 24_000, quality="VHQ")
    sent = pump_audio(asyncio.run(pump_run(rate, frames(signal, rate))))
    hq = soxr.resample(signal, rate, 24_000, quality="HQ").tobytes()
    return {
        "baseline_ms_per_audio_s": base,
        "pump_ms_per_audio_s": ours,
        "ratio": ours / base,
        # True at the wire rate: the pump sent its input unchanged (no resampling).
        "pump_passthrough": sent == signal.tobytes(),
        # None when the error is exactly 0 (pass-through): no dB figure exists.
        "pump_quality_db": rms_errors_db(rate, [sent], reference)["quality_db"],
        "soxr_hq_quality_db": rms_errors_db(rate, [hq], reference)["quality_db"],
    }


def quality_text(row: dict[str, Any]) -> str:
    """The pump's quality cell: its RMS error in dB, or why there is none."""
    if row["pump_passthrough"]:
        return PASSTHROUGH
    db = row["pump_quality_db"]
    # An exact result that is not a pass-through would be a surprise worth showing.
    return "exact" if db is None else f"{db:.1f}"


def main() -> int:
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpu": platform.machine()},
        "rates": {},
    }
    # The pump's quality last: its cell may be a phrase rather than a figure.
    print(f"{'rate':>6} {'baseline':>9} {'pump':>7} {'ratio':>6} {'HQ dB':>7}  pump dB")
    for rate in RATES:
        row = measure(rate)
        results["rates"][str(rate)] = row
        hq = row["soxr_hq_quality_db"]
        base, ours = row["baseline_ms_per_audio_s"], row["pump_ms_per_audio_s"]
        print(
            f"{rate:>6} {base:>8.3f}m {ours:>6.3f}m {row['ratio']:>6.2f} "
            f"{'exact' if hq is None else format(hq, '.1f'):>7}  {quality_text(row)}"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print("CPU in ms per second of audio; target ratio <= 0.50 at 44.1 and 48 kHz")
    print(f"results: {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
