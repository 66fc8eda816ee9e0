"""The ``heygen-avatar`` command line.

Exit codes: 0 success; 1 some input was malformed (``decode``); 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO, cast

from heygen_core.errors import ProtocolError
from heygen_core.protocol import (
    DIRECTIONS,
    PROTOCOLS,
    Direction,
    ProtocolName,
    UnknownEvent,
    decode,
    encode,
)

DECODE_EPILOG = """\
Each input line is one wire message (a WebSocket text frame or a FULL data
packet). Each output line is
  {"line": N, "class": "<model>", "known": true|false, "wire": <re-encoded>}
Blank lines are skipped. A malformed line is reported on stderr with its line
number; the others are still decoded, and the exit code is then 1.

example:
  echo '{"type": "agent.speak_started", "event_id": "e1"}' \\
    | heygen-avatar decode --protocol lite --direction server
"""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``heygen-avatar`` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="heygen-avatar",
        description="Talk to HeyGen streaming avatars, and inspect their wire traffic.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    dec = commands.add_parser(
        "decode",
        help="decode captured realtime messages (JSON lines on stdin) into typed events",
        description="Decode JSON-lines wire traffic on stdin into typed events.",
        epilog=DECODE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dec.add_argument("--protocol", required=True, choices=PROTOCOLS, help="wire protocol")
    dec.add_argument(
        "--direction",
        required=True,
        choices=DIRECTIONS,
        help="client: what a client sends; server: what the service sends",
    )
    return parser


def run_decode(
    protocol: ProtocolName, direction: Direction, source: TextIO, out: TextIO, err: TextIO
) -> int:
    """Decode every line of `source`; return 1 if any line was malformed, else 0."""
    status = 0
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            event = decode(line, protocol, direction)
        except ProtocolError as exc:
            print(f"line {number}: {exc}", file=err)
            status = 1
            continue
        record = {
            "line": number,
            "class": type(event).__name__,
            "known": not isinstance(event, UnknownEvent),
            "wire": json.loads(encode(event)),
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``heygen-avatar`` with `argv` (default: the process arguments)."""
    args = build_parser().parse_args(argv)
    if args.command == "decode":
        return run_decode(
            cast(ProtocolName, args.protocol),
            cast(Direction, args.direction),
            sys.stdin,
            sys.stdout,
            sys.stderr,
        )
    return 2  # pragma: no cover - argparse rejects unknown commands first


if __name__ == "__main__":
    sys.exit(main())
