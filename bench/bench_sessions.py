"""Latency the library adds, end to end over a real socket to the simulator (loopback).

Medians of RUNS, in-process against the simulator, measured on the
simulator's clock at the frame's arrival:

- first chunk: `session.speak(1 s of 24 kHz audio)` until the first
  ``agent.speak`` arrives, against sending the same, pre-encoded frame
  straight on the socket (the baseline: no conversion, no model, no pump);
- interrupt: `session.interrupt()` during paced speech until
  ``agent.interrupt`` arrives, against sending a pre-encoded interrupt.

Target: under 2 ms added. `bench_latency.py` measures the pump's CPU for the
same two steps with the socket replaced by a sink (the issue-14 target);
this one adds the socket and the event loop. Many concurrent sessions are
`bench_scale.py`'s.

Writes bench/results/sessions.json. Usage: bench_sessions.py
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import platform
import statistics
import sys
import uuid
from typing import Any

import numpy as np
from _common import finish
from heygen_models import lite

from heygen_core.audio.pump import PumpConfig
from heygen_core.protocol.codec import encode
from heygen_core.session import AvatarSession
from heygen_core.simulator import Simulator, SimulatorConfig

RUNS = 15
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


def main() -> int:
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()}
    }
    results["latency"] = asyncio.run(latency())
    print("latency:", json.dumps(results["latency"]))
    return finish("sessions", results)


if __name__ == "__main__":
    sys.exit(main())
