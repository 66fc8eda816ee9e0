"""What the pump adds before the first chunk and an interrupt, and streamed first-chunk latency.

1. CPU (`time.process_time()`) the real `AudioPump` spends, with the
   connection's websocket replaced by a sink (median of RUNS, each on a fresh
   pump):
   - first chunk: from `start_speaking(1 s of 24 kHz PCM)` until the first
     ``agent.speak`` frame reaches the sink; baseline in the same run: the
     floor's work for that frame (binascii base64 of 400 ms between a
     prebuilt prefix and suffix, and the sink's send);
   - interrupt: from `interrupt()` during paced speech until
     ``agent.interrupt`` reaches the sink; baseline: sending a pre-encoded
     interrupt to the sink.
   Target (issue 14): each under 1 ms.
2. Streamed input fed in real time (20 ms frames on a clock, as a TTS
   delivers them) at 16, 22.05, 44.1 and 48 kHz, default pump settings: wall
   time from the first frame to the first ``agent.speak`` on the sink (median
   of STREAM_RUNS). Baseline: 380 ms, when the last 20 ms frame of the 400 ms
   the first chunk carries arrives (no pump can send it earlier). Target:
   within 450 ms.

Writes bench/results/latency.json.
"""

from __future__ import annotations

import asyncio
import binascii
import sys
import time
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Any

import numpy as np
from _common import (
    EVENT_ID,
    FRAME_MS,
    OUT_RATE,
    SinkSocket,
    finish,
    frame_step,
    machine,
    machine_line,
    median,
    test_signal,
    verdict,
)
from bench_pump import sink_connection

from heygen_core.audio.pump import AudioPump, PumpConfig

RUNS = 25
STREAM_RUNS = 5
STREAM_RATES = (16_000, 22_050, 44_100, 48_000)
CPU_TARGET_MS = 1.0
LATENCY_TARGET_MS = 450.0
# The last 20 ms frame of the first chunk's 400 ms arrives 380 ms after the first.
FIRST_CHUNK_FLOOR_MS = 400.0 - FRAME_MS


async def until(sink: SinkSocket, event_type: str, within: float = 5.0) -> tuple[float, float]:
    deadline = time.perf_counter() + within
    while (at := sink.arrived(event_type)) is None:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"no {event_type} reached the sink within {within} s")
        # Idle between polls: process_time does not count it, and the sink
        # stamps the arrival itself, so the poll's granularity changes nothing.
        await asyncio.sleep(0.001)
    return at


async def stop(pump: AudioPump, task: asyncio.Task[None]) -> None:
    task.cancel()
    with suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(task, 5)
    for job in list(pump._jobs):
        job.cancel()


async def first_chunk_and_interrupt() -> dict[str, list[float]]:
    pcm = test_signal(OUT_RATE, 1.0).tobytes()
    long_pcm = test_signal(OUT_RATE, 10.0).tobytes()
    out: dict[str, list[float]] = {"first": [], "first_base": [], "intr": [], "intr_base": []}
    prefix = '{"type":"agent.speak","audio":"'
    suffix = f'","event_id":"{EVENT_ID}"}}'
    interrupt_frame = f'{{"type":"agent.interrupt","event_id":"{EVENT_ID}"}}'
    for run in range(RUNS + 1):  # the first run warms up and is not counted
        sink = SinkSocket(watch=("agent.speak",))
        pump = AudioPump(sink_connection(sink), PumpConfig())
        start = time.process_time()
        _, task = pump.start_speaking(pcm, sample_rate=OUT_RATE)
        first = (await until(sink, "agent.speak"))[0] - start
        await stop(pump, task)

        base_sink = SinkSocket()
        start = time.process_time()
        piece = pcm[: OUT_RATE * 2 * 400 // 1000]
        await base_sink.send(prefix + binascii.b2a_base64(piece, newline=False).decode() + suffix)
        first_base = time.process_time() - start

        # Interrupt during paced speech: a short lead, so the pump is waiting to send.
        sink = SinkSocket(watch=("agent.speak", "agent.interrupt"))
        pump = AudioPump(sink_connection(sink), PumpConfig(lead_seconds=0.5))
        _, task = pump.start_speaking(long_pcm, sample_rate=OUT_RATE)
        await until(sink, "agent.speak")
        await asyncio.sleep(0.05)
        start = time.process_time()
        await pump.interrupt()
        intr = (await until(sink, "agent.interrupt"))[0] - start
        await stop(pump, task)

        start = time.process_time()
        await base_sink.send(interrupt_frame)
        intr_base = time.process_time() - start
        if run:
            out["first"].append(first)
            out["first_base"].append(first_base)
            out["intr"].append(intr)
            out["intr_base"].append(intr_base)
    return out


async def streamed_first_chunk(rate: int) -> float:
    """Wall ms from the first real-time frame to the first chunk on the sink."""
    signal = test_signal(rate, 3.0)
    step = frame_step(rate)
    sink = SinkSocket(watch=("agent.speak",))
    pump = AudioPump(sink_connection(sink), PumpConfig())
    started: list[float] = []

    async def tts() -> AsyncIterator[np.ndarray]:
        t0 = time.perf_counter()
        started.append(t0)
        for i, at in enumerate(range(0, signal.size, step)):
            delay = t0 + i * step / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            yield signal[at : at + step]

    _, task = pump.start_speaking(tts(), sample_rate=rate)
    arrived = (await until(sink, "agent.speak", within=10.0))[1]
    await stop(pump, task)
    return (arrived - started[0]) * 1000


async def run_all() -> dict[str, Any]:
    cpu = await first_chunk_and_interrupt()
    streamed = {}
    for rate in STREAM_RATES:
        streamed[str(rate)] = median([await streamed_first_chunk(rate) for _ in range(STREAM_RUNS)])

    def ms(values: list[float]) -> float:
        return median(values) * 1000

    return {
        "runs": RUNS,
        "first_chunk_cpu_ms": ms(cpu["first"]),
        "first_chunk_floor_cpu_ms": ms(cpu["first_base"]),
        "interrupt_cpu_ms": ms(cpu["intr"]),
        "interrupt_floor_cpu_ms": ms(cpu["intr_base"]),
        "streamed_runs": STREAM_RUNS,
        "streamed_first_chunk_ms": streamed,
    }


def main() -> int:
    here = machine()
    results: dict[str, Any] = {"machine": here, **asyncio.run(run_all())}
    r = results
    print(f"Latency ({machine_line(here)}); CPU medians of {RUNS} runs against a sink:")
    print(
        f"  first chunk: pump CPU {r['first_chunk_cpu_ms']:.3f} ms "
        f"(floor {r['first_chunk_floor_cpu_ms']:.3f} ms)  target < 1 ms: "
        f"{verdict(r['first_chunk_cpu_ms'], CPU_TARGET_MS)}"
    )
    print(
        f"  interrupt:   pump CPU {r['interrupt_cpu_ms']:.3f} ms "
        f"(pre-encoded send {r['interrupt_floor_cpu_ms']:.3f} ms)  target < 1 ms: "
        f"{verdict(r['interrupt_cpu_ms'], CPU_TARGET_MS)}"
    )
    print("  streamed input fed in real time: first chunk on the socket after the first audio")
    print(
        f"  (median of {STREAM_RUNS}; floor {FIRST_CHUNK_FLOOR_MS:.0f} ms, when the last frame of "
        "the chunk's 400 ms arrives):"
    )
    r["streamed_target"] = {}
    for rate, value in r["streamed_first_chunk_ms"].items():
        r["streamed_target"][rate] = verdict(value, LATENCY_TARGET_MS)
        print(
            f"    {int(rate) / 1000:>5g} kHz: {value:7.1f} ms  target <= 450 ms: "
            f"{r['streamed_target'][rate]}"
        )
    return finish("latency", results)


if __name__ == "__main__":
    sys.exit(main())
