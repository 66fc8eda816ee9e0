"""Benchmark heygen_core.protocol.codec against plain json in the same run.

- decode: every server-event example of every realtime protocol, through
  `decode()` (typed, validated), against `json.loads` of the same input; once
  as bytes and once as str (what the websockets library delivers for text
  frames).
- encode: every client-event example, as built models, through `encode()`,
  against `json.dumps` of the same messages as dicts.
- import: wall time of `from heygen_core import AvatarSession` (what a user
  imports) in a fresh interpreter, less that of an interpreter that imports
  nothing; medians of IMPORT_RUNS each, interleaved.

Writes bench/results/protocol.json and prints a summary.
Targets: decode >= 70% of json.loads throughput (issue 2); the import at
most 300 ms over a bare interpreter (issue 14).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from _common import finish, machine, machine_line, verdict

from heygen_core import decode, encode
from heygen_core.protocol.schemas import schema_documents

ROUNDS = 7
IMPORT_RUNS = 15
IMPORT_TARGET_MS = 300.0
DECODE_TARGET = 0.70


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


def bench_decode(as_bytes: bool) -> dict[str, float]:
    messages: list[tuple[str, str | bytes]] = [
        (p, json.dumps(m).encode() if as_bytes else json.dumps(m)) for p, m in examples("server")
    ]
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
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    wall("from heygen_core import AvatarSession")  # warm the bytecode and file caches
    bare, user = [], []
    for _ in range(IMPORT_RUNS):
        bare.append(wall("pass"))
        user.append(wall("from heygen_core import AvatarSession"))
    b, u = statistics.median(bare), statistics.median(user)
    return {
        "runs": IMPORT_RUNS,
        "bare_interpreter_s": b,
        "avatar_session_s": u,
        "over_bare_s": u - b,
    }


def main() -> int:
    here = machine()
    results = {
        "machine": here,
        "decode_bytes": bench_decode(as_bytes=True),
        "decode_str": bench_decode(as_bytes=False),
        "encode": bench_encode(),
        "import": bench_import(),
    }
    e, i = results["encode"], results["import"]
    print(f"Wire layer ({machine_line(here)}):")
    for kind in ("bytes", "str"):
        d = results[f"decode_{kind}"]
        d["target"] = verdict(d["ratio"], DECODE_TARGET, at_most=False)
        print(
            f"  decode ({kind:>5}) {d['typed_per_s']:>10,.0f}/s typed vs "
            f"{d['json_loads_per_s']:>10,.0f}/s json.loads  ratio {d['ratio']:.2f} "
            f"(target >= 0.70: {d['target']})"
        )
    print(
        f"  encode         {e['typed_per_s']:>10,.0f}/s typed vs "
        f"{e['json_dumps_per_s']:>10,.0f}/s json.dumps  ratio {e['ratio']:.2f}"
    )
    over_ms = i["over_bare_s"] * 1000
    i["target"] = verdict(over_ms, IMPORT_TARGET_MS)
    print(
        f"  `from heygen_core import AvatarSession`: {over_ms:.0f} ms over a bare interpreter "
        f"({i['avatar_session_s'] * 1000:.0f} vs {i['bare_interpreter_s'] * 1000:.0f} ms, "
        f"medians of {IMPORT_RUNS}); target <= 300 ms: {i['target']}"
    )
    return finish("protocol", results)


if __name__ == "__main__":
    sys.exit(main())
