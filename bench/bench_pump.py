"""The audio pump's CPU per second of audio, against Pipecat's real code and a lean floor.

For each input rate, AUDIO_SECONDS of audio (five sines and noise) is fed as
20 ms int16 frames, as a TTS delivers them, through three paths, in
interleaved repeats (ours, pipecat, floor, ours, pipecat, floor, ...) so that
load from other processes hits all three alike:

- ours: the real `AudioPump.speak()` over an async iterator of the frames
  (whatever heygen_core's pump is when this runs), pacing off, the
  connection's websocket replaced by a sink;
- pipecat: Pipecat 1.14's own `HeyGenVideoService` and `HeyGenClient`
  (pipecat_worker.py, run in the bench-only venv .bench/pipecat with its
  exact pins), pacing off, a sink for the socket: its per-frame
  `wait_for(queue.get())`, soxr VHQ stream resampler, 400 ms first chunk,
  slice copies, base64 and `json.dumps`;
- floor: the least a pump of our output quality can do, written here as the
  baseline: soxr HQ `ResampleStream` over 400 ms and then 1 s blocks of
  input (24 kHz passes through), 400 ms then 1 s output chunks,
  `binascii.b2a_base64` between a prebuilt JSON prefix and suffix, and the
  same sink.

CPU is `time.process_time()` per run; reported: the median per path, and the
medians of the per-repeat ratios ours/floor and ours/pipecat. Also checked
once per rate: whether our audio equals the floor's byte for byte.

Writes bench/results/pump.json. Targets (issue 14, on Python 3.11): ours <=
1.15 x floor and <= 0.25 x pipecat at 44.1 and 48 kHz.
"""

from __future__ import annotations

import asyncio
import binascii
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

import numpy as np
import soxr
from _common import (
    EVENT_ID,
    OUT_RATE,
    SinkSocket,
    finish,
    frames,
    machine,
    machine_line,
    median,
    test_signal,
    verdict,
)

from heygen_core.audio.pump import AudioPump, PumpConfig
from heygen_core.realtime.connection import RealtimeConnection

BENCH = Path(__file__).resolve().parent
PIPECAT_PYTHON = BENCH.parent / ".bench" / "pipecat" / "bin" / "python"
RATES = (16_000, 24_000, 44_100, 48_000)
TARGET_RATES = (44_100, 48_000)
AUDIO_SECONDS = 30
REPEATS = 15
FLOOR_TARGET = 1.15
PIPECAT_TARGET = 0.25
# Pacing off (a lead longer than any utterance) so CPU, not the clock, is measured.
NO_PACING = PumpConfig(lead_seconds=1e9, end_gap_seconds=60.0)


async def timed(run: Coroutine[Any, Any, None]) -> float:
    """CPU seconds `run` takes inside a running loop (the loop's set-up is not counted,
    as in pipecat_worker.py)."""
    start = time.process_time()
    await run
    return time.process_time() - start


# -- ours ------------------------------------------------------------------------------------


def sink_connection(sink: SinkSocket) -> RealtimeConnection:
    """A real `RealtimeConnection` whose websocket is the sink, ready gate open."""
    connection = RealtimeConnection("ws://sink.invalid", keep_alive_interval=None)
    connection._ws = sink  # type: ignore[assignment]
    connection._open_gate()
    return connection


async def ours_run(rate: int, inputs: list[np.ndarray], sink: SinkSocket) -> None:
    pump = AudioPump(sink_connection(sink), NO_PACING)

    async def source() -> AsyncIterator[np.ndarray]:
        for frame in inputs:
            yield frame

    await pump.speak(source(), sample_rate=rate)


def ours(rate: int, inputs: list[np.ndarray], keep: bool = False) -> tuple[float, SinkSocket]:
    sink = SinkSocket(keep=keep)
    return asyncio.run(timed(ours_run(rate, inputs, sink))), sink


# -- the floor -------------------------------------------------------------------------------


async def floor_run(
    rate: int,
    inputs: list[np.ndarray],
    sink: SinkSocket,
    source: AsyncIterator[np.ndarray] | None = None,
) -> None:
    """The floor pump: `inputs` (or `source`, when given) to the sink."""
    prefix = '{"type":"agent.speak","audio":"'
    suffix = f'","event_id":"{EVENT_ID}"}}'
    b64 = binascii.b2a_base64
    first_out, out_chunk = OUT_RATE * 2 * 400 // 1000, OUT_RATE * 2
    block = rate * 2 * 400 // 1000  # input bytes: 400 ms, then 1 s
    stream = (
        None
        if rate == OUT_RATE
        else soxr.ResampleStream(rate, OUT_RATE, 1, dtype="int16", quality="HQ")
    )
    pending = bytearray()
    out = bytearray()
    chunk = first_out

    async def emit(final: bool) -> None:
        nonlocal out, chunk
        while len(out) >= chunk or (final and out):
            piece = bytes(out[:chunk])
            del out[:chunk]
            await sink.send(prefix + b64(piece, newline=False).decode("ascii") + suffix)
            chunk = out_chunk

    def convert(data: bytes, last: bool = False) -> bytes:
        if stream is None:
            return data
        return stream.resample_chunk(np.frombuffer(data, np.int16), last=last).tobytes()

    async def frames_in() -> AsyncIterator[np.ndarray]:
        for frame in inputs:
            yield frame

    async for frame in source or frames_in():
        pending += frame.tobytes()
        if len(pending) >= block:
            out += convert(bytes(pending))
            pending.clear()
            block = rate * 2
            await emit(False)
    out += convert(bytes(pending), last=True)
    await emit(True)
    await sink.send(f'{{"type":"agent.speak_end","event_id":"{EVENT_ID}"}}')


def floor(rate: int, inputs: list[np.ndarray], keep: bool = False) -> tuple[float, SinkSocket]:
    sink = SinkSocket(keep=keep)
    return asyncio.run(timed(floor_run(rate, inputs, sink))), sink


# -- pipecat (in its own venv) ---------------------------------------------------------------


class Pipecat:
    """pipecat_worker.py in the bench venv; one request per run."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [str(PIPECAT_PYTHON), str(BENCH / "pipecat_worker.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=BENCH,
        )

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("pipecat_worker.py died; run it by hand to see why")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


# -- the run ---------------------------------------------------------------------------------


def main() -> int:
    if not PIPECAT_PYTHON.exists():
        print(f"{PIPECAT_PYTHON} missing: run `make bench` (it builds the bench venv)")
        return 1
    pipecat = Pipecat()
    info = pipecat.ask({"info": True})
    here = machine()
    results: dict[str, Any] = {
        "machine": here,
        "pipecat": {"version": info["pipecat"], "soxr": info["soxr"], "python": info["python"]},
        "audio_seconds": AUDIO_SECONDS,
        "repeats": REPEATS,
        "units": "CPU ms per second of audio",
        "rates": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        signals = {rate: test_signal(rate, AUDIO_SECONDS) for rate in RATES}
        inputs = {rate: frames(signals[rate], rate) for rate in RATES}
        paths = {}
        for rate in RATES:
            paths[rate] = str(Path(tmp) / f"{rate}.pcm")
            Path(paths[rate]).write_bytes(signals[rate].tobytes())
        # Warm-up (imports, lazily built filters) and the output checks, untimed.
        checks = {}
        for rate in RATES:
            _, mine = ours(rate, inputs[rate], keep=True)
            _, low = floor(rate, inputs[rate], keep=True)
            theirs = pipecat.ask({"pcm": paths[rate], "rate": rate, "keep": True})
            checks[rate] = {
                "ours_equals_floor": mine.audio() == low.audio(),
                "ours_audio_bytes": len(mine.audio()),
                "pipecat_audio_bytes": theirs["audio_bytes"],
            }
        runs: dict[int, dict[str, list[float]]] = {
            r: {"ours": [], "pipecat": [], "floor": []} for r in RATES
        }
        for _ in range(REPEATS):
            for rate in RATES:
                runs[rate]["ours"].append(ours(rate, inputs[rate])[0])
                runs[rate]["pipecat"].append(
                    pipecat.ask({"pcm": paths[rate], "rate": rate})["cpu_s"]
                )
                runs[rate]["floor"].append(floor(rate, inputs[rate])[0])
    pipecat.close()

    def per_audio_s(values: list[float]) -> float:
        return median(values) / AUDIO_SECONDS * 1000

    print(
        f"Pump CPU, ms per audio-second (medians of {REPEATS} interleaved repeats of "
        f"{AUDIO_SECONDS} s);"
    )
    print(f"ratios are medians of per-repeat ratios. {machine_line(here)};")
    print(f"Pipecat {info['pipecat']} (its venv: Python {info['python']}, soxr {info['soxr']}).")
    print(
        "Targets are for Python 3.11: Pipecat's per-frame wait_for(queue.get()) costs much "
        "less on 3.12+."
    )
    print(
        f"{'rate':>6} {'ours':>6} {'floor':>6} {'pipecat':>7}  {'ours/floor':>10} "
        f"{'target':>13}  {'ours/pipecat':>12} {'target':>13}  ours==floor"
    )
    for rate in RATES:
        r = runs[rate]
        vs_floor = median([o / f for o, f in zip(r["ours"], r["floor"], strict=True)])
        vs_pipecat = median([o / p for o, p in zip(r["ours"], r["pipecat"], strict=True)])
        row = {
            "ours_ms": per_audio_s(r["ours"]),
            "floor_ms": per_audio_s(r["floor"]),
            "pipecat_ms": per_audio_s(r["pipecat"]),
            "ours_over_floor": vs_floor,
            "ours_over_pipecat": vs_pipecat,
            **checks[rate],
        }
        targeted = rate in TARGET_RATES
        if targeted:
            row["floor_target"] = verdict(vs_floor, FLOOR_TARGET)
            row["pipecat_target"] = verdict(vs_pipecat, PIPECAT_TARGET)
        results["rates"][str(rate)] = row
        t1 = f"<=1.15 {row['floor_target']}" if targeted else "-"
        t2 = f"<=0.25 {row['pipecat_target']}" if targeted else "-"
        print(
            f"{rate:>6} {row['ours_ms']:>6.3f} {row['floor_ms']:>6.3f} {row['pipecat_ms']:>7.3f}  "
            f"{vs_floor:>10.3f} {t1:>13}  {vs_pipecat:>12.3f} {t2:>13}  "
            f"{'yes' if row['ours_equals_floor'] else 'no'}"
        )
    return finish("pump", results)


if __name__ == "__main__":
    sys.exit(main())
