"""Benchmark heygen_core.protocol.codec against plain json in the same run.

- decode: every server-event example of every realtime protocol, through
  `decode()` (typed, validated), against `json.loads` of the same bytes.
- encode: every client-event example, as built models, through `encode()`,
  against `json.dumps` of the same messages as dicts.
- import: wall time of `import heygen_core` in a fresh interpreter, less the
  time of an interpreter that imports nothing.

Writes bench/results/protocol.json and prints a summary.
Targets (issue 2): decode >= 70% of json.loads throughput; import < 0.5 s.
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from heygen_core import decode, encode
from heygen_core.protocol.schemas import schema_documents

RESULTS = Path(__file__).resolve().parent / "results" / "protocol.json"
ROUNDS = 7


def examples(direction: str) -> list[tuple[str, dict[str, Any]]]:
    union = {"client": "ClientEvent", "server": "ServerEvent"}[direction]
    found = []
    for doc in schema_documents():
        if doc.kind != "realtime":
            continue
        for variant in doc.defs[union]["oneOf"]:
            name = variant["$ref"].rsplit("/", 1)[-1]
            for example in doc.defs[name].get("examples", []):
                found.append((doc.protocol, example))
    return found


def best_rate(fn: Callable[[], None], count: int) -> float:
    """Messages per second: the best of ROUNDS timed passes (least disturbed)."""
    fn()  # warm caches and lazily built validators
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return count / min(times)


def bench_decode() -> dict[str, float]:
    messages = [(p, json.dumps(m).encode()) for p, m in examples("server")]
    batch = messages * max(1, 100_000 // len(messages))

    def typed() -> None:
        for protocol, raw in batch:
            decode(raw, protocol, "server")  # type: ignore[arg-type]

    def plain() -> None:
        loads = json.loads
        for _, raw in batch:
            loads(raw)

    typed_rate, plain_rate = best_rate(typed, len(batch)), best_rate(plain, len(batch))
    return {
        "messages": len(messages),
        "typed_per_s": typed_rate,
        "json_loads_per_s": plain_rate,
        "ratio": typed_rate / plain_rate,
    }


def bench_encode() -> dict[str, float]:
    pairs = []
    for protocol, message in examples("client"):
        model = decode(json.dumps(message), protocol, "client")  # type: ignore[arg-type]
        pairs.append((model, message))
    batch = pairs * max(1, 100_000 // len(pairs))

    def typed() -> None:
        for model, _ in batch:
            encode(model)

    def plain() -> None:
        dumps = json.dumps
        for _, message in batch:
            dumps(message, separators=(",", ":"))

    typed_rate, plain_rate = best_rate(typed, len(batch)), best_rate(plain, len(batch))
    return {
        "messages": len(pairs),
        "typed_per_s": typed_rate,
        "json_dumps_per_s": plain_rate,
        "ratio": typed_rate / plain_rate,
    }


def bench_import() -> dict[str, float]:
    def wall(code: str) -> float:
        runs = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            runs.append(time.perf_counter() - start)
        return statistics.median(runs)

    bare = wall("pass")
    with_core = wall("import heygen_core")
    return {"bare_interpreter_s": bare, "import_heygen_core_s": with_core - bare}


def main() -> int:
    results = {
        "machine": {
            "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(),
        },
        "decode": bench_decode(),
        "encode": bench_encode(),
        "import": bench_import(),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    d, e, i = results["decode"], results["encode"], results["import"]
    print(
        f"decode  {d['typed_per_s']:>10,.0f}/s typed vs "
        f"{d['json_loads_per_s']:>10,.0f}/s json.loads"
        f"  ratio {d['ratio']:.2f} (target >= 0.70)"
    )
    print(
        f"encode  {e['typed_per_s']:>10,.0f}/s typed vs "
        f"{e['json_dumps_per_s']:>10,.0f}/s json.dumps"
        f"  ratio {e['ratio']:.2f}"
    )
    print(f"import heygen_core {i['import_heygen_core_s'] * 1000:.0f} ms (target < 500 ms)")
    print(f"results: {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
