"""The scale benchmark's simulator, in a process of its own (`bench_scale.py` starts it).

Serves an embedded `Simulator` on 127.0.0.1 (any port), keeping no received
audio (1,000 sessions of 20 s would hold about 1 GB), and prints
``listening on URL`` once ready. Then it answers lines on stdin:

- ``report``: one line of JSON: the playback underruns it counted (the
  authoritative figure: an avatar ran dry mid-utterance), the sessions it
  served, the audio it received, and its own CPU seconds;
- ``quit`` (or end of input): stops.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from heygen_core.simulator import Simulator, SimulatorConfig


def report(sim: Simulator) -> dict[str, Any]:
    underruns = sim.playback_underruns()
    return {
        "underruns": underruns.count,
        "sessions_with_underruns": len(underruns.per_session),
        "underrun_max_gap_ms": round(underruns.max_gap_seconds * 1000, 1),
        "underrun_total_gap_ms": round(underruns.total_gap_seconds * 1000, 1),
        "agent_speak_received": sim.events_by_type["agent.speak"],
        "sessions_started": sim.requests_by_operation["start_session"],
        "simulator_cpu_s": round(time.process_time(), 2),
    }


async def serve() -> None:
    # The service's own limits (a second from open to `connected`), but room
    # for 1,000 sessions: each bench session has its own key, so neither the
    # per-account session cap nor the per-caller rate limit comes into play.
    config = SimulatorConfig(idle_timeout_seconds=600.0)
    loop = asyncio.get_running_loop()
    async with Simulator(config) as sim:
        sim.keep_received_audio(False)
        print(f"listening on {sim.url}", flush=True)
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            command = line.strip()
            if command == "report":
                print(json.dumps(report(sim)), flush=True)
            elif command in ("quit", ""):
                return


if __name__ == "__main__":
    asyncio.run(serve())
