"""The first `open` in a process imports its heavy stacks off the event loop.

Imported on the loop, aiohttp, numpy and soxr stall every other task of it
for a few hundred milliseconds (sessions already speaking, a voice
pipeline's audio). A fresh client process, with the simulator in another
one (whose imports would otherwise be the client's), records which thread
each of them was first imported in.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.simulator_process import simulator_process

# A simulator process and a client process; the profile is the simulator default.
pytestmark = [pytest.mark.slow, pytest.mark.one_profile]

CLIENT = r"""
import asyncio, json, sys, threading

WATCHED = ("aiohttp", "numpy", "soxr")
imported_in = {}


class Watch:
    # Asked first for every module not yet loaded: the thread asking is the importer.
    def find_spec(self, name, path=None, target=None):
        if name in WATCHED:
            imported_in.setdefault(name, threading.current_thread().name)
        return None


sys.meta_path.insert(0, Watch())
from heygen_core import AvatarSession


async def main():
    async with asyncio.timeout(30):
        async with AvatarSession.live_avatar(api_key="warm-up", base_url=sys.argv[1]) as s:
            result = await s.speak(b"\0\0" * 4800, sample_rate=24000, wait=False)
            await s.interrupt()
            await result.finished()
    print(json.dumps(imported_in))


asyncio.run(main())
"""


def test_the_first_open_imports_the_heavy_stacks_in_a_worker_thread() -> None:
    with simulator_process() as url:
        done = subprocess.run(
            [sys.executable, "-c", CLIENT, url], capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 0, done.stderr[-3000:]
    imported_in = json.loads(done.stdout.splitlines()[-1])
    assert imported_in == dict.fromkeys(("aiohttp", "numpy", "soxr"), "heygen-warm-up")
