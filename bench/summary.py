"""Every issue-14 target with this run's figure, its baseline and met / NOT met.

Reads what the other `make bench` scripts just wrote to bench/results/ and
prints one table; targets are reported, never asserted (the exit code is 0).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from _common import RESULTS_DIR, machine_line


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RESULTS_DIR / f"{name}.json").read_text())
    return data


def main() -> int:
    pump, latency, memory, protocol, scale = (
        load(n) for n in ("pump", "latency", "memory", "protocol", "scale")
    )
    rows: list[tuple[str, str, str, str, str]] = []
    for rate in ("44100", "48000"):
        r = pump["rates"][rate]
        khz = f"{int(rate) / 1000:g} kHz"
        rows.append(
            (
                f"pump CPU vs lean floor, {khz}",
                f"{r['ours_ms']:.3f} ms/audio-s",
                f"floor {r['floor_ms']:.3f}; ratio {r['ours_over_floor']:.3f}",
                "<= 1.15x",
                r["floor_target"],
            )
        )
        rows.append(
            (
                f"pump CPU vs Pipecat {pump['pipecat']['version']}, {khz}",
                f"{r['ours_ms']:.3f} ms/audio-s",
                f"pipecat {r['pipecat_ms']:.3f}; ratio {r['ours_over_pipecat']:.3f}",
                "<= 0.25x",
                r["pipecat_target"],
            )
        )
    rows.append(
        (
            "memory per streaming 48 kHz session",
            f"RSS {memory['ours_rss_mib_per_session']:.3f} / heap "
            f"{memory['ours_heap_mib_per_session']:.3f} MiB",
            f"floor RSS {memory['floor_rss_mib_per_session']:.3f} / heap "
            f"{memory['floor_heap_mib_per_session']:.3f}",
            "<= 0.5 MiB",
            memory["target"],
        )
    )
    imp = protocol["import"]
    rows.append(
        (
            "from heygen_core import AvatarSession",
            f"{imp['over_bare_s'] * 1000:.0f} ms over bare",
            f"bare interpreter {imp['bare_interpreter_s'] * 1000:.0f} ms",
            "<= 300 ms",
            imp["target"],
        )
    )
    rows.append(
        (
            "first chunk, pump CPU",
            f"{latency['first_chunk_cpu_ms']:.3f} ms",
            f"floor {latency['first_chunk_floor_cpu_ms']:.3f} ms",
            "< 1 ms",
            "met" if latency["first_chunk_cpu_ms"] < 1 else "NOT met",
        )
    )
    rows.append(
        (
            "interrupt, pump CPU",
            f"{latency['interrupt_cpu_ms']:.3f} ms",
            f"pre-encoded send {latency['interrupt_floor_cpu_ms']:.3f} ms",
            "< 1 ms",
            "met" if latency["interrupt_cpu_ms"] < 1 else "NOT met",
        )
    )
    for rate, ms in latency["streamed_first_chunk_ms"].items():
        rows.append(
            (
                f"streamed first chunk, {int(rate) / 1000:g} kHz real time",
                f"{ms:.0f} ms",
                "380 ms (last frame of the 400 ms)",
                "<= 450 ms",
                latency["streamed_target"][rate],
            )
        )
    for kind in ("bytes", "str"):
        d = protocol[f"decode_{kind}"]
        rows.append(
            (
                f"typed decode, {kind} input",
                f"{d['typed_per_s'] / 1000:.0f} k/s",
                f"json.loads {d['json_loads_per_s'] / 1000:.0f} k/s; ratio {d['ratio']:.2f}",
                ">= 0.70x",
                d["target"],
            )
        )
    target_storm = scale["storms"][0]
    smoothed, off = target_storm["smoothed"], target_storm["limits_off"]
    storm = f"{scale['sessions']:,} sessions started within {target_storm['start_window_s']:g} s"
    rows.append(
        (
            f"{scale['sessions']:,} sessions: underruns",
            f"{smoothed['underruns']} ({smoothed['errors']} errors)",
            f"limits off: {off['underruns']} ({off['errors']} errors); {storm}",
            "0",
            scale["target"]["underruns"],
        )
    )
    rows.append(
        (
            "steady-state p99 send jitter",
            f"{smoothed['steady_jitter_p99_ms']:.1f} ms",
            f"limits off: {off['steady_jitter_p99_ms']:.1f} ms; overall p99 "
            f"{smoothed['jitter_p99_ms']:.1f} ms (off {off['jitter_p99_ms']:.1f})",
            "< 20 ms",
            scale["target"]["steady_jitter_p99"],
        )
    )
    for other in scale["storms"][1:]:
        on, off = other["smoothed"], other["limits_off"]
        window = other["start_window_s"]
        started = f"within {window:g} s" if window else "all at once"
        rows.append(
            (
                f"{scale['sessions']:,} sessions {started}: open p50 / p99",
                f"{on['setup_p50_ms']:.0f} / {on['setup_p99_ms']:.0f} ms",
                f"limits off {off['setup_p50_ms']:.0f} / {off['setup_p99_ms']:.0f} ms; "
                f"underruns {on['underruns']} (off {off['underruns']})",
                "-",
                "-",
            )
        )
    print()
    print(f"Targets (issue 14), {machine_line(pump['machine'])}:")
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        cells = (cell.ljust(w) for cell, w in zip(row, widths, strict=True))
        print(("  " + "  ".join(cells)).rstrip())
    print("  (the pump targets are for Python 3.11; Pipecat's queue hop costs less on 3.12+)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
