"""Scale: 1,000 concurrent real-time LITE sessions from one process, all started within 2 s.

The simulator runs in another process (`scale_simulator.py`, this venv's
python), as the service would; this process opens SESSIONS sessions (each
its own API key, one shared aiohttp session), their `open` calls spread
evenly over a start window, and each speaks AUDIO_SECONDS of 24 kHz audio,
paced in real time by the pump (400 ms first chunk, then 1 s chunks, a 3 s
lead). Start windows: 2 s (the target's storm), then 0 (every `open` at
once, the harshest).

Per window, two storms in the same run, each against a fresh simulator:

- ``limits_off``: the library's start-up limits raised out of the way (the
  baseline: every set-up and every lead burst at once);
- ``smoothed``: the library's default `StartupLimits`.

Reported per storm: sessions ok / errors; underruns (from the simulator: an
avatar ran dry mid-utterance; the authoritative figure, target 0); send
jitter of paced chunks (how late each left after its planned time):
steady-state p99 (chunks planned once every session has sent its first
chunk; target under 20 ms) and overall p99 / max; set-up time (the `open`
call: create, start, connect, wait for ``connected``) p50 / p99 / max; and
client CPU per session-second of audio.

Writes bench/results/scale.json. Usage: bench_scale.py [SESSIONS [START_WINDOW]]
(one window when given)
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from _common import OUT_RATE, finish, machine, test_signal

from heygen_core.audio.pump import PumpConfig
from heygen_core.session import AvatarSession, StartupLimits, set_startup_limits

SESSIONS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
AUDIO_SECONDS = 16.0
# Every `open` call starts within this many seconds, spread evenly (0: all at once).
# The first window is the target's.
WINDOWS = (float(sys.argv[2]),) if len(sys.argv) > 2 else (2.0, 0.0)
PUMP = PumpConfig()  # the defaults: 400 ms first chunk, 1 s chunks, 3 s lead
LIMITS_OFF = StartupLimits(
    max_concurrent_setups=1_000_000,
    max_concurrent_lead_bursts=1_000_000,
    lead_burst_hold_seconds=3600.0,
)
HERE = Path(__file__).resolve().parent


class SimulatorProcess:
    """`scale_simulator.py` in a child process: its URL, and its report on demand."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "scale_simulator.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise RuntimeError(f"simulator did not start: {line!r}")
        self.url = line.removeprefix("listening on ")

    def report(self) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("report\n")
        self.proc.stdin.flush()
        data: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return data

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def pct(values: list[float], p: float) -> float | None:
    """The p-quantile in ms (nearest rank), None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)


def paced_plan(started_at: float, count: int) -> list[float]:
    """When each paced chunk of an utterance started at `started_at` was planned to leave.

    The pump plans chunk k at start + max(0, offset_k - lead): with a 0.4 s
    first chunk, 1 s chunks and a 3 s lead, the first paced chunk (offset
    3.4 s) is planned 0.4 s after the start, and each later one 1 s after.
    """
    first = PUMP.first_chunk_ms / 1000
    step = PUMP.chunk_ms / 1000
    offset = first
    plan: list[float] = []
    while len(plan) < count:
        if offset >= PUMP.lead_seconds:
            plan.append(started_at + offset - PUMP.lead_seconds)
        offset += step
    return plan


async def storm(url: str, pcm: bytes, window: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    setups: list[float] = []
    # Per session: when its utterance's first chunk left, and its paced chunks' lateness.
    sent: list[tuple[float, list[float]]] = []
    not_ended: list[str] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(index: int) -> None:
            if window:
                await asyncio.sleep(index * window / SESSIONS)
            session = AvatarSession.live_avatar(
                sandbox=False,
                api_key=f"bench-key-{index}",  # each key is its own account
                base_url=url,
                http=http,
                pump=PUMP,
                timeout=60,
                ready_timeout=30,
                session_record=None,
            )
            began = loop.time()
            async with session:
                setups.append(loop.time() - began)
                result = await session.speak(pcm, sample_rate=OUT_RATE)
                utterance = result.utterances[0]
                if utterance.status != "ended":
                    not_ended.append(f"{utterance.status}/{utterance.ended_by}")
                if utterance.started_at is not None:
                    sent.append((utterance.started_at, list(session.pump.stats.schedule_jitter)))

        cpu0, wall0 = time.process_time(), loop.time()
        outcomes = await asyncio.gather(*(one(i) for i in range(SESSIONS)), return_exceptions=True)
        cpu, wall = time.process_time() - cpu0, loop.time() - wall0
    errors = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    # Steady state: paced chunks planned once every session had started speaking.
    all_started = max((started for started, _ in sent), default=0.0)
    steady: list[float] = []
    overall: list[float] = []
    for started, jitter in sent:
        overall.extend(jitter)
        for planned, late in zip(paced_plan(started, len(jitter)), jitter, strict=True):
            if planned >= all_started:
                steady.append(late)
    return {
        "sessions": SESSIONS,
        "ok": SESSIONS - len(errors),
        "errors": len(errors),
        "error_samples": errors[:3],
        "not_ended": len(not_ended),
        "not_ended_samples": not_ended[:3],
        "all_started_after_s": round(all_started - wall0, 2) if sent else None,
        "paced_chunks": len(overall),
        "steady_paced_chunks": len(steady),
        "steady_jitter_p50_ms": pct(steady, 0.50),
        "steady_jitter_p99_ms": pct(steady, 0.99),
        "jitter_p99_ms": pct(overall, 0.99),
        "jitter_max_ms": pct(overall, 1.0),
        "setup_p50_ms": pct(setups, 0.50),
        "setup_p99_ms": pct(setups, 0.99),
        "setup_max_ms": pct(setups, 1.0),
        "wall_s": round(wall, 1),
        "client_cpu_s": round(cpu, 2),
        "cpu_ms_per_session_second": round(cpu / (SESSIONS * AUDIO_SECONDS) * 1000, 3),
    }


def run_storm(limits: StartupLimits, pcm: bytes, window: float) -> dict[str, Any]:
    sim = SimulatorProcess()
    try:
        set_startup_limits(limits)
        figures = asyncio.run(storm(sim.url, pcm, window))
        figures.update(sim.report())
    finally:
        sim.stop()
    figures["limits"] = {
        "max_concurrent_setups": limits.max_concurrent_setups,
        "max_concurrent_lead_bursts": limits.max_concurrent_lead_bursts,
        "lead_burst_hold_seconds": limits.lead_burst_hold_seconds,
    }
    return figures


def main() -> int:
    pcm = test_signal(OUT_RATE, AUDIO_SECONDS).tobytes()
    results: dict[str, Any] = {
        "machine": machine(),
        "sessions": SESSIONS,
        "audio_seconds_each": AUDIO_SECONDS,
        "storms": [],
    }
    for window in WINDOWS:
        pair: dict[str, Any] = {"start_window_s": window}
        for name, limits in (("limits_off", LIMITS_OFF), ("smoothed", StartupLimits())):
            pair[name] = run_storm(limits, pcm, window)
            print(f"window {window:g} s, {name}:", json.dumps(pair[name]), flush=True)
        results["storms"].append(pair)
    smoothed = results["storms"][0]["smoothed"]
    results["target"] = {
        "underruns": "met" if smoothed["underruns"] == 0 and smoothed["errors"] == 0 else "NOT met",
        "steady_jitter_p99": (
            "met"
            if smoothed["steady_jitter_p99_ms"] is not None
            and smoothed["steady_jitter_p99_ms"] < 20
            else "NOT met"
        ),
    }
    return finish("scale", results)


if __name__ == "__main__":
    sys.exit(main())
