"""Benchmark sessions end to end against the simulator, over loopback.

1. Latency added by the library, in-process against the simulator (medians
   of N runs, measured on the simulator's clock at the frame's arrival):
   - first chunk: `session.speak(1 s of 24 kHz audio)` until the first
     ``agent.speak`` arrives, against sending the same, pre-encoded frame
     straight on the socket (the baseline: no conversion, no model, no pump);
   - interrupt: `session.interrupt()` during paced speech until
     ``agent.interrupt`` arrives, against sending a pre-encoded interrupt.
   Target: under 2 ms added.
2. Many sessions: SESSIONS concurrent LITE sessions from this process,
   started 20 ms apart,
   streaming real-time audio (AUDIO_SECONDS each, paced by the pump) into a
   simulator running in another process (`heygen-avatar simulator`). Reports
   underruns (a chunk sent after the avatar would have needed it), p50/p99
   send-schedule jitter, and client CPU per session. Targets: no underrun,
   p99 jitter under 20 ms.

Writes bench/results/sessions.json. Usage: bench_sessions.py [SESSIONS]
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
from _common import finish
from heygen_models import lite

from heygen_core.audio.pump import PumpConfig
from heygen_core.protocol.codec import encode
from heygen_core.session import AvatarSession
from heygen_core.simulator import Simulator, SimulatorConfig

RUNS = 15
SESSIONS = int(sys.argv[1]) if len(sys.argv) > 1 else 500
AUDIO_SECONDS = 20.0
RAMP_SECONDS = 0.02
RATE = 24_000


def tone(seconds: float) -> bytes:
    t = np.arange(int(RATE * seconds)) / RATE
    return (0.2 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2").tobytes()


def arrival(sim: Simulator, session_id: str, kind: str, after: float) -> float | None:
    for at, event_type, _ in sim.client_events(session_id):
        if event_type == kind and at >= after:
            return at
    return None


async def wait_arrival(sim: Simulator, session_id: str, kind: str, after: float) -> float:
    for _ in range(2000):
        at = arrival(sim, session_id, kind, after)
        if at is not None:
            return at
        await asyncio.sleep(0.001)
    raise TimeoutError(kind)


async def latency() -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    pcm = tone(1.0)
    first_ours, first_base, intr_ours, intr_base = [], [], [], []
    config = SimulatorConfig(connect_delay_seconds=0.05)
    pump = PumpConfig(lead_seconds=0.2)
    async with Simulator(config) as sim:
        session = AvatarSession.live_avatar(
            sandbox=True, api_key="bench", base_url=sim.url, pump=pump, keep_alive_interval=None
        )
        async with session:
            sid = session.session_id
            assert sid is not None
            chunk = base64.b64encode(pcm[: 400 * 48]).decode()
            for _ in range(RUNS):
                # Library: speak() (conversion, chunking, model, encode, pump).
                start = loop.time()
                result = await session.speak(pcm, sample_rate=RATE, wait=False)
                first_ours.append(await wait_arrival(sim, sid, "agent.speak", start) - start)
                await asyncio.sleep(0.3)
                start = loop.time()
                await session.interrupt()
                intr_ours.append(await wait_arrival(sim, sid, "agent.interrupt", start) - start)
                await result.finished()
                # Baseline: the same frames, pre-encoded, straight on the socket.
                frame = encode(
                    lite.AgentSpeak(type="agent.speak", audio=chunk, event_id=uuid.uuid4().hex)
                )
                start = loop.time()
                await session.connection.send_now(frame)
                first_base.append(await wait_arrival(sim, sid, "agent.speak", start) - start)
                stop = encode(
                    lite.AgentInterrupt(type="agent.interrupt", event_id=uuid.uuid4().hex)
                )
                start = loop.time()
                await session.connection.send_now(stop)
                intr_base.append(await wait_arrival(sim, sid, "agent.interrupt", start) - start)
                await asyncio.sleep(0.05)

    def ms(values: list[float]) -> float:
        return round(statistics.median(values) * 1000, 3)

    return {
        "runs": RUNS,
        "first_chunk_ms": ms(first_ours),
        "first_chunk_baseline_ms": ms(first_base),
        "first_chunk_added_ms": round(ms(first_ours) - ms(first_base), 3),
        "interrupt_ms": ms(intr_ours),
        "interrupt_baseline_ms": ms(intr_base),
        "interrupt_added_ms": round(ms(intr_ours) - ms(intr_base), 3),
    }


def start_simulator() -> tuple[subprocess.Popen[str], str]:
    script = Path(sys.executable).parent / "heygen-avatar"
    proc = subprocess.Popen(
        [str(script), "simulator", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        raise RuntimeError(f"simulator did not start: {line!r}")
    return proc, line.removeprefix("listening on ")


async def many_sessions(url: str) -> dict[str, Any]:
    pcm = tone(AUDIO_SECONDS)
    pump = PumpConfig()  # the defaults: 400 ms first chunk, 1 s chunks, 3 s lead
    jitter: list[float] = []
    underruns = 0
    failures: list[str] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(index: int) -> None:
            nonlocal underruns
            # Sessions start RAMP_SECONDS apart: a burst of 500 simultaneous
            # set-ups (REST, socket, 3 s lead each) stalls any client for
            # seconds, and apps do not open 500 sessions in the same instant.
            await asyncio.sleep(index * RAMP_SECONDS)
            session = AvatarSession.live_avatar(
                sandbox=False,
                api_key=f"bench-key-{index}",  # each key is its own account
                base_url=url,
                http=http,
                pump=pump,
                timeout=120,
                ready_timeout=60,
            )
            async with session:
                result = await session.speak(pcm, sample_rate=RATE)
                if result.utterances[0].status != "ended":
                    failures.append(result.utterances[0].status)
                jitter.extend(session.pump.stats.schedule_jitter)
                underruns += sum(
                    1 for j in session.pump.stats.schedule_jitter if j > pump.lead_seconds
                )

        cpu0, wall0 = time.process_time(), time.monotonic()
        outcomes = await asyncio.gather(*(one(i) for i in range(SESSIONS)), return_exceptions=True)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    errors = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    ordered = sorted(jitter)

    def pct(p: float) -> float | None:
        return (
            round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)
            if ordered
            else None
        )

    return {
        "sessions": SESSIONS,
        "audio_seconds_each": AUDIO_SECONDS,
        "start_ramp_ms": RAMP_SECONDS * 1000,
        "errors": len(errors),
        "error_samples": errors[:3],
        "not_ended": len(failures),
        "paced_chunks": len(ordered),
        "underruns": underruns,
        "jitter_p50_ms": pct(0.50),
        "jitter_p99_ms": pct(0.99),
        "jitter_max_ms": pct(1.0),
        "wall_s": round(wall, 1),
        "client_cpu_s": round(cpu, 2),
        "cpu_ms_per_session_second": round(cpu / (SESSIONS * AUDIO_SECONDS) * 1000, 3),
    }


def main() -> int:
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()}
    }
    results["latency"] = asyncio.run(latency())
    print("latency:", json.dumps(results["latency"]))
    proc, url = start_simulator()
    try:
        results["many_sessions"] = asyncio.run(many_sessions(url))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print("many sessions:", json.dumps(results["many_sessions"]))
    return finish("sessions", results)


if __name__ == "__main__":
    sys.exit(main())
