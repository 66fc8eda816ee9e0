"""Memory a session's pump holds: streaming 48 kHz sessions, and a whole-buffer 24 kHz speak.

1. SESSIONS concurrent streams, each a real `AudioPump` on a real
   `RealtimeConnection` whose websocket is a sink, fed 48 kHz 20 ms frames in
   real time (default pump settings, so pacing and its 3 s lead are on).
   After SETTLE_SECONDS, per session: the resident set size's growth (RSS,
   from /proc/self/statm; counts libsoxr's own buffers), and, in a second
   run, the Python heap's growth (tracemalloc; numpy buffers included,
   libsoxr's not). Baseline in the same run: the floor pipeline of
   bench_pump.py (soxr HQ stream, two byte buffers) fed the same way.
   Target (issue 14): at most 0.5 MiB per streaming 48 kHz session.
2. `AudioPump.speak(SPEAK_SECONDS of 24 kHz PCM as bytes)`, pacing off: the
   peak of the Python heap above what it was before the call (tracemalloc),
   next to the utterance's own size (what holding it once costs).

Writes bench/results/memory.json.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np
from _common import (
    OUT_RATE,
    SinkSocket,
    finish,
    frame_step,
    machine,
    machine_line,
    test_signal,
    verdict,
)
from bench_pump import NO_PACING, floor_run, sink_connection

from heygen_core.audio.pump import AudioPump, PumpConfig

SESSIONS = 100
RATE = 48_000
SETTLE_SECONDS = 3.0
SPEAK_SECONDS = 20.0
MIB = 1024 * 1024
TARGET_MIB = 0.5
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE


Runner = Callable[[AsyncIterator[np.ndarray], SinkSocket], Awaitable[None]]


async def ours(source: AsyncIterator[np.ndarray], sink: SinkSocket) -> None:
    pump = AudioPump(sink_connection(sink), PumpConfig())
    await pump.speak(source, sample_rate=RATE)


async def floor(source: AsyncIterator[np.ndarray], sink: SinkSocket) -> None:
    await floor_run(RATE, [], sink, source)


async def streaming(
    runner: Runner, traced: bool, sessions: int = SESSIONS, settle: float = SETTLE_SECONDS
) -> float:
    """Bytes held per session after `settle` seconds of real-time streaming."""
    signal = test_signal(RATE, settle + 2.0)
    step = frame_step(RATE)

    async def tts(t0: float) -> AsyncIterator[np.ndarray]:
        for i, at in enumerate(range(0, signal.size, step)):
            delay = t0 + i * 0.02 - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            yield signal[at : at + step]

    gc.collect()
    if traced:
        tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0] if traced else rss()
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(runner(tts(t0), SinkSocket())) for _ in range(sessions)]
    await asyncio.sleep(settle)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0] if traced else rss()
    if traced:
        tracemalloc.stop()
    for task in tasks:
        task.cancel()
    for task in tasks:
        with suppress(asyncio.CancelledError, Exception):
            await task
    return (after - before) / sessions


async def whole_buffer() -> dict[str, float]:
    pcm = test_signal(OUT_RATE, SPEAK_SECONDS).tobytes()
    pump = AudioPump(sink_connection(SinkSocket()), NO_PACING)
    await pump.speak(pcm[: OUT_RATE * 2], sample_rate=OUT_RATE)  # warm-up
    pump = AudioPump(sink_connection(SinkSocket()), NO_PACING)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    await pump.speak(pcm, sample_rate=OUT_RATE)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"utterance_mib": len(pcm) / MIB, "peak_above_caller_mib": (peak - before) / MIB}


async def run_all() -> dict[str, Any]:
    # Warm-up, not counted: first-use imports, libsoxr's set-up, allocator arenas.
    await streaming(ours, traced=False, sessions=5, settle=1.0)
    await streaming(floor, traced=False, sessions=5, settle=1.0)
    # RSS first: tracemalloc's own tables would count in it.
    ours_rss = await streaming(ours, traced=False)
    floor_rss = await streaming(floor, traced=False)
    ours_heap = await streaming(ours, traced=True)
    floor_heap = await streaming(floor, traced=True)
    return {
        "sessions": SESSIONS,
        "rate": RATE,
        "settle_seconds": SETTLE_SECONDS,
        "ours_rss_mib_per_session": ours_rss / MIB,
        "floor_rss_mib_per_session": floor_rss / MIB,
        "ours_heap_mib_per_session": ours_heap / MIB,
        "floor_heap_mib_per_session": floor_heap / MIB,
        "whole_buffer_24k": await whole_buffer(),
    }


def main() -> int:
    here = machine()
    results: dict[str, Any] = {"machine": here, **asyncio.run(run_all())}
    r = results
    worst = max(r["ours_rss_mib_per_session"], r["ours_heap_mib_per_session"])
    r["target"] = verdict(worst, TARGET_MIB)
    w = r["whole_buffer_24k"]
    print(f"Memory ({machine_line(here)}):")
    print(
        f"  streaming 48 kHz session ({SESSIONS} concurrent, real time, after "
        f"{SETTLE_SECONDS:g} s), MiB per session:"
    )
    print(
        f"    RSS  ours {r['ours_rss_mib_per_session']:.3f}, floor "
        f"{r['floor_rss_mib_per_session']:.3f};  Python heap ours "
        f"{r['ours_heap_mib_per_session']:.3f}, floor {r['floor_heap_mib_per_session']:.3f}"
    )
    print(f"    target <= {TARGET_MIB} MiB (the larger of RSS and heap): {r['target']}")
    print(
        f"  whole-buffer 24 kHz speak of {SPEAK_SECONDS:g} s ({w['utterance_mib']:.2f} MiB of "
        f"PCM): heap peak {w['peak_above_caller_mib']:.2f} MiB above the caller's buffer"
    )
    return finish("memory", results)


if __name__ == "__main__":
    sys.exit(main())
