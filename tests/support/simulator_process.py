"""A simulator in a process of its own, for tests that measure or watch only the client.

In-process, the simulator's own imports, allocations and CPU would count
against the client under test; ``heygen-avatar simulator --port 0`` in a
child process keeps them apart.
"""

from __future__ import annotations

import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "heygen-avatar"


@contextmanager
def simulator_process() -> Iterator[str]:
    """Start the simulator in a child process; yield its URL; stop it on exit."""
    process = subprocess.Popen(
        [str(SCRIPT), "simulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 15)
        assert ready, "the simulator printed nothing within 15 s"
        first = process.stdout.readline().strip()
        assert first.startswith("listening on "), first
        yield first.removeprefix("listening on ")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
