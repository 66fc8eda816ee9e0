"""The first session of a process: how long its `open` and first speak stall the event loop.

A fresh interpreter builds a LITE session inside a running loop, then opens
it, speaks 0.2 s and closes it while a ticker task wakes every 2 ms;
reported: the longest gap between its wake-ups (the loop could run nothing
else meanwhile), and, apart, how long building the session took (its REST
client and request models are imported there, on the loop, in both runs).
The simulator runs in another process (its own imports would otherwise be
the client's).

Baseline, in the same run: the same client with the warm-up turned off
(`heygen_core.session._warm_up.warm_up` replaced by a no-op), so aiohttp,
websockets, numpy and soxr are imported on the loop. Medians of RUNS each,
interleaved.

Writes bench/results/first_open.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from _common import cli_simulator, finish, machine, median

RUNS = 7

CLIENT = r"""
import asyncio, json, sys, time

from heygen_core import AvatarSession

if sys.argv[2] == "off":
    import heygen_core.session._warm_up as warm

    async def no_warm_up(modules):
        return None

    warm.warm_up = no_warm_up


async def main():
    gaps = []

    async def ticker():
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    began = time.perf_counter()
    session = AvatarSession.live_avatar(api_key="first-open", base_url=sys.argv[1])
    build = time.perf_counter() - began
    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    async with session:
        result = await session.speak(b"\0\0" * 4800, sample_rate=24000, wait=False)
        await result.finished()
    tick.cancel()
    print(json.dumps({"max_stall_ms": max(gaps) * 1000, "build_ms": build * 1000}))


asyncio.run(main())
"""


def stall(url: str, warm_up: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CLIENT, url, warm_up],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    figures: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return figures


def main() -> int:
    ours: list[dict[str, float]] = []
    on_loop: list[dict[str, float]] = []
    with cli_simulator() as url:
        for _ in range(RUNS):
            ours.append(stall(url, "on"))
            on_loop.append(stall(url, "off"))
    results: dict[str, Any] = {
        "machine": machine(),
        "runs": RUNS,
        "max_stall_ms": round(median([r["max_stall_ms"] for r in ours]), 1),
        "max_stall_imports_on_loop_ms": round(median([r["max_stall_ms"] for r in on_loop]), 1),
        "build_ms": round(median([r["build_ms"] for r in ours + on_loop]), 1),
    }
    print(
        f"first open + speak, longest event-loop stall (median of {RUNS}): "
        f"{results['max_stall_ms']} ms; with the imports on the loop: "
        f"{results['max_stall_imports_on_loop_ms']} ms. Building the session before it: "
        f"{results['build_ms']} ms"
    )
    return finish("first_open", results)


if __name__ == "__main__":
    sys.exit(main())
