"""What every `make bench` script shares: the machine, the test signal, sinks, targets.

Imports only numpy and the standard library, so the Pipecat worker (run in
its own venv, without heygen_core) can use it too.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"
OUT_RATE = 24_000
FRAME_MS = 20
EVENT_ID = "5f0c6a0e9d2b4c1f8a7e3d6b2c1a0f9e"


def machine() -> dict[str, Any]:
    """The machine and interpreter a run was measured on."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpu_model": model,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
    }


def machine_line(info: dict[str, Any]) -> str:
    return f"{info['cores']} cores, {info['cpu_model']}, Python {info['python']}"


def test_signal(rate: int, seconds: float) -> np.ndarray:
    """Five sines and white noise as int16; the same for a given rate and length."""
    rng = np.random.default_rng(20261121)
    t = np.arange(int(rate * seconds)) / rate
    x = np.zeros_like(t)
    for freq, amplitude in ((220, 0.15), (440, 0.15), (1000, 0.1), (3150, 0.1), (7000, 0.05)):
        x += amplitude * np.sin(2 * np.pi * freq * t + freq)
    x += 0.02 * rng.standard_normal(t.size)
    return np.round(x * 32768).astype(np.int16)


def frame_step(rate: int) -> int:
    """Samples in one 20 ms frame (22.05 kHz: 441)."""
    return rate * FRAME_MS // 1000


def frames(signal: np.ndarray, rate: int) -> list[np.ndarray]:
    """The signal as 20 ms int16 frames, as a TTS delivers it."""
    step = frame_step(rate)
    return [signal[i : i + step] for i in range(0, signal.size, step)]


class SinkSocket:
    """Stands in for the websocket: keeps each frame (or only counts them) and sends nothing.

    `first_at` holds `time.process_time()` and `time.perf_counter()` when the
    first frame of a type in `watch` arrived, for the latency measurements.
    """

    def __init__(self, keep: bool = False, watch: Sequence[str] = ()) -> None:
        self.keep = keep
        self.frames: list[str] = []
        self.count = 0
        # The quoted type in the frame's head: '"agent.speak"' does not match
        # '"agent.speak_end"', and json.dumps's spaces do not matter.
        self.watch = tuple(f'"{t}"' for t in watch)
        self.first_at: dict[str, tuple[float, float]] = {}

    async def send(self, data: str) -> None:
        self.count += 1
        if self.keep:
            self.frames.append(data)
        if self.watch:
            head = data[:48]
            for marker in self.watch:
                if marker in head and marker not in self.first_at:
                    self.first_at[marker] = (time.process_time(), time.perf_counter())

    def arrived(self, event_type: str) -> tuple[float, float] | None:
        return self.first_at.get(f'"{event_type}"')

    def audio(self) -> bytes:
        """The PCM the kept `agent.speak` frames carried, in order."""
        import base64

        parts = [json.loads(f) for f in self.frames]
        return b"".join(base64.b64decode(p["audio"]) for p in parts if p["type"] == "agent.speak")


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def verdict(value: float | None, limit: float, *, at_most: bool = True) -> str:
    """'met' or 'NOT met' against a target; targets are reported, never asserted."""
    if value is None:
        return "not measured"
    ok = value <= limit if at_most else value >= limit
    return "met" if ok else "NOT met"


def write_results(name: str, results: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def finish(name: str, results: dict[str, Any]) -> int:
    """End a script's `main`: write results/<name>.json, say where, return the exit status."""
    print(f"results: {write_results(name, results)}")
    return 0


@contextmanager
def cli_simulator() -> Iterator[str]:
    """``heygen-avatar simulator`` in a child process (this venv's); yield its URL."""
    script = Path(sys.executable).parent / "heygen-avatar"
    process = subprocess.Popen(
        [str(script), "simulator", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"simulator did not start: {line!r}")
        yield line.removeprefix("listening on ")
    finally:
        process.terminate()
        process.wait(timeout=30)
