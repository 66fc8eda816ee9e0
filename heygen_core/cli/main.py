"""The ``heygen-avatar`` command line.

Exit codes (`heygen_core.cli._exit_codes`): 0 success (``simulator``: stopped by
Ctrl-C or SIGTERM); 1 failed (a refused key, an unreachable service, a bad
file; ``decode``: some line was malformed; ``simulator``: cannot listen);
2 bad usage; 130 interrupted by Ctrl-C. Expected failures print one line
naming the error, never a traceback.

The command needs the ``cli`` extra (``pip install 'heygen-core[cli]'``, for
`rich`); without it every command prints one line saying so and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Sequence
from typing import TextIO, cast

from heygen_core._extras import import_extra
from heygen_core.cli._admin_base import positive_seconds
from heygen_core.cli._exit_codes import (
    EXIT_CODES_HELP,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    describe_error,
)
from heygen_core.errors import MissingExtraError, ProtocolError
from heygen_core.protocol.codec import (
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
number; the others are still decoded.

exit codes:
  0    every line decoded
  1    some line was malformed (see stderr)
  2    usage error (bad arguments)
  130  interrupted by Ctrl-C

example:
  echo '{"type": "agent.speak_started", "event_id": "e1"}' \\
    | heygen-avatar decode --protocol lite --direction server
"""

SIMULATOR_EPILOG = """\
Serves a local stand-in for both REST APIs (LiveAvatar and the legacy
Streaming API) on one port until Ctrl-C or SIGTERM. The first line on stdout
is "listening on http://HOST:PORT": point the clients' base URL there.
Without --api-key any non-empty key is accepted (each key is its own account);
with it, every other key gets 401, as a wrong key does on the real service.

exit codes:
  0    stopped by Ctrl-C or SIGTERM (its normal end)
  1    cannot listen on HOST:PORT (port in use, bad host)
  2    usage error (bad arguments)

example:
  heygen-avatar simulator --port 8765 --api-key test-key &
  curl -s -X POST http://127.0.0.1:8765/v1/sessions/token \\
    -H 'X-API-KEY: test-key' -H 'Content-Type: application/json' \\
    -d '{"mode": "LITE", "avatar_id": "dd73ea75-1218-4ef3-92ce-606d5f7fbc0a", "is_sandbox": true}'
"""


SANDBOX_AVATAR = "dd73ea75-1218-4ef3-92ce-606d5f7fbc0a"

SAY_EPILOG = f"""\
Creates a LiveAvatar LITE session, streams the file to the avatar (converted
to 24 kHz mono PCM16, paced in real time after a 3 s lead), waits until the
avatar has finished, and stops the session (also on errors and Ctrl-C).
Events are printed to stderr as they arrive.

With neither --api-base nor HEYGEN_LIVE_AVATAR_API_KEY, it runs against the
embedded simulator in-process: no network, no key, no cost.

On a terminal, stderr shows two progress bars (audio sent, audio the avatar
has played) under the live events; when stderr is not a terminal (a pipe,
CI) the same come as plain "event:" and "progress:" lines.

At the end stdout gets the session report. With --json its last line is the
report as JSON: session_id, target, audio_seconds_sent, chunks_sent,
first_chunk_ms, speak_started_ms, speak_ended_ms, outcome, session_stopped
(and avatar_audio_seconds / frames_saved with the options below).

--save-audio and --save-frames join the session's LiveKit room and save the
avatar's returned voice and PNG snapshots of its video. Their paths are
checked before the session is opened (the folder of --save-audio must
exist; --save-frames is created as a folder); what could not be written at
the end is reported, with exit code 1.

When the session's room is on a LiveKit server (the real service), it
prints a viewer link (https://meet.livekit.io/custom?...) to watch the
session in a browser; a simulator's rooms are local, so they get none. The
link carries the session's LiveKit client token: anyone holding it can join
the room while the session lasts, so do not share or log it.

{EXIT_CODES_HELP}
  (1 also when the avatar did not finish: the utterance was interrupted or lost)

examples:
  heygen-avatar say speech.wav                      # embedded simulator, no key
  heygen-avatar say speech.wav --json | tail -n 1   # the report, for scripts
  HEYGEN_LIVE_AVATAR_API_KEY=... heygen-avatar say speech.wav
  heygen-avatar say speech.wav --save-audio avatar.wav --save-frames frames/

  # against a simulator of your own (it accepts any non-empty key):
  heygen-avatar simulator --port 8765 &
  HEYGEN_LIVE_AVATAR_API_KEY=any heygen-avatar say speech.wav --api-base http://127.0.0.1:8765
"""


CHAT_EPILOG = f"""\
Opens a FULL-mode LiveAvatar session, sends every line you type as
avatar.speak_response (the avatar's LLM answers and speaks), and prints the
transcription events as they arrive ("you: ...", "avatar: ..."). Each line
waits for the avatar's answer to the one before, so piped questions and
answers stay paired. Ctrl-D ends the chat after the last answer; the session
is stopped on every exit.
Without --api-base or HEYGEN_LIVE_AVATAR_API_KEY it uses the embedded
simulator.

{EXIT_CODES_HELP}

examples:
  heygen-avatar chat --mode full
  echo "What can you do?" | heygen-avatar chat --mode full
"""


MAIN_EPILOG = f"""\
Each command has its own --help, with examples. Commands that need the
LiveAvatar API read the key from HEYGEN_LIVE_AVATAR_API_KEY; say and chat
run against an embedded simulator when it is not set.

{EXIT_CODES_HELP}

examples:
  heygen-avatar say speech.wav
  heygen-avatar sessions list
  heygen-avatar credits
  heygen-avatar simulator --port 8765 &
  HEYGEN_LIVE_AVATAR_API_KEY=any heygen-avatar sessions list --api-base http://127.0.0.1:8765
  heygen-avatar avatars list --public --api-base http://127.0.0.1:8765
  echo '{{"type": "session.state_updated", "state": "connected"}}' \\
    | heygen-avatar decode --protocol lite --direction server
"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("heygen-core")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _tcp_port(text: str) -> int:
    """Argparse type of ``--port``: a whole number from 0 to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port (0 to 65535; 0 for any free)")
    return port


def _add_call_timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=30.0,
        metavar="SECONDS",
        help="seconds to wait for each answer of the LiveAvatar API (%(default)g)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``heygen-avatar`` and its subcommands."""
    # Imported here: it pulls in the REST client, which `decode` never needs.
    from heygen_core.cli._admin import add_admin_commands

    parser = argparse.ArgumentParser(
        prog="heygen-avatar",
        description="Talk to HeyGen streaming avatars, manage their sessions, "
        "and inspect their wire traffic.",
        epilog=MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
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
    sim = commands.add_parser(
        "simulator",
        help="run a local simulator of the LiveAvatar and Streaming REST APIs",
        description="Run a local simulator of the LiveAvatar and Streaming REST APIs.",
        epilog=SIMULATOR_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sim.add_argument("--host", default="127.0.0.1", help="interface to listen on (%(default)s)")
    sim.add_argument(
        "--port", type=_tcp_port, default=8765, help="TCP port, 0 for any free port (%(default)s)"
    )
    sim.add_argument(
        "--api-key",
        default=None,
        metavar="KEY",
        help="accept only this API key (default: any non-empty key)",
    )
    # The simulator's config pulls in only the generated models, not aiohttp.
    from heygen_core.simulator.config import DEFAULT_PROFILE, SPEECH_PROFILES

    sim.add_argument(
        "--profile",
        choices=SPEECH_PROFILES,
        default=DEFAULT_PROFILE,
        help=(
            "how LITE sockets report speech: live (as the service behaves: agent.state_updated "
            "and audio buffer acknowledgements), documented (agent.speak_started/_ended per "
            "utterance), chunked (speak events per ~20 ms) (%(default)s)"
        ),
    )
    say = commands.add_parser(
        "say",
        help="speak an audio file through an avatar session",
        description="Speak an audio file (WAV, any rate and channels) through an avatar session.",
        epilog=SAY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    say.add_argument("audio_file", metavar="AUDIO_FILE", help="a PCM WAV file")
    say.add_argument("--json", action="store_true", help="print a JSON report as the last line")
    say.add_argument(
        "--avatar-id",
        default=SANDBOX_AVATAR,
        metavar="ID",
        help="avatar to use (default: the public sandbox avatar, in a sandbox session)",
    )
    say.add_argument(
        "--api-base",
        default=None,
        metavar="URL",
        help="LiveAvatar API base URL (default: the real API when HEYGEN_LIVE_AVATAR_API_KEY "
        "is set, else the embedded simulator)",
    )
    say.add_argument(
        "--save-audio",
        metavar="FILE.wav",
        default=None,
        help="save the avatar's returned voice as a WAV file (24 kHz mono)",
    )
    say.add_argument(
        "--save-frames",
        metavar="DIR",
        default=None,
        help="save PNG snapshots of the avatar's video into DIR",
    )
    say.add_argument(
        "--frame-rate",
        type=float,
        default=2.0,
        metavar="N",
        help="snapshots per second for --save-frames (%(default)s)",
    )
    _add_call_timeout(say)
    chat = commands.add_parser(
        "chat",
        help="type to a FULL-mode avatar and read its transcripts",
        description="Chat with a FULL-mode avatar: each stdin line is sent as speak_response.",
        epilog=CHAT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    chat.add_argument(
        "--mode", choices=["full"], default="full", help="session mode (only full chats)"
    )
    chat.add_argument("--avatar-id", default=SANDBOX_AVATAR, metavar="ID", help="avatar to use")
    chat.add_argument(
        "--api-base",
        default=None,
        metavar="URL",
        help="LiveAvatar API base URL (default: the real API when HEYGEN_LIVE_AVATAR_API_KEY "
        "is set, else the embedded simulator)",
    )
    _add_call_timeout(chat)
    add_admin_commands(commands)
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


async def serve_simulator(
    host: str, port: int, api_key: str | None, out: TextIO, *, profile: str | None = None
) -> None:
    """Run the simulator until SIGINT or SIGTERM; announce its URL on `out` first.

    `profile` is a `heygen_core.simulator.config.SpeechProfile` (None: the default).
    """
    # Imported here: the simulator pulls in aiohttp, which `decode` never needs.
    from heygen_core.simulator import Simulator, SimulatorConfig
    from heygen_core.simulator.config import SpeechProfile

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Not available on Windows: there Ctrl-C arrives as KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    config = (
        SimulatorConfig(api_key=api_key)
        if profile is None
        else SimulatorConfig(api_key=api_key, profile=cast("SpeechProfile", profile))
    )
    async with Simulator(config, host=host, port=port) as sim:
        # Scripts wait for this exact first line, so flush it at once.
        print(f"listening on {sim.url}", file=out, flush=True)
        await stop.wait()


def run_simulator(host: str, port: int, api_key: str | None, profile: str | None = None) -> int:
    """Run ``heygen-avatar simulator``; return 0 once stopped, 1 if it cannot listen."""
    try:
        asyncio.run(serve_simulator(host, port, api_key, sys.stdout, profile=profile))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"heygen-avatar simulator: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``heygen-avatar`` with `argv` (default: the process arguments)."""
    try:
        # Checked first, for every command: the console script is installed
        # with or without the extra, and one clear line beats `say` failing
        # half-way (or `--help` working and then nothing else).
        import_extra("rich", extra="cli", feature="the heygen-avatar command")
    except MissingExtraError as exc:
        print(f"heygen-avatar: {describe_error(exc)}", file=sys.stderr)
        return EXIT_FAILED
    args = build_parser().parse_args(argv)
    if args.command == "decode":
        try:
            return run_decode(
                cast(ProtocolName, args.protocol),
                cast(Direction, args.direction),
                sys.stdin,
                sys.stdout,
                sys.stderr,
            )
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
    from heygen_core.cli._admin import ADMIN_COMMANDS

    if args.command in ADMIN_COMMANDS:
        from heygen_core.cli._admin import run_admin

        return run_admin(args, sys.stdout, sys.stderr)
    if args.command == "say":
        # Imported here: the session stack pulls in aiohttp, websockets and numpy.
        from pathlib import Path

        from heygen_core.cli._say import MediaOutputs, run_say

        if args.frame_rate <= 0:
            print("heygen-avatar say: --frame-rate must be positive", file=sys.stderr)
            return EXIT_USAGE
        outputs = MediaOutputs(
            audio_path=Path(args.save_audio) if args.save_audio else None,
            frames_dir=Path(args.save_frames) if args.save_frames else None,
            frame_rate=args.frame_rate,
        )
        return run_say(
            args.audio_file,
            as_json=args.json,
            avatar_id=args.avatar_id,
            api_base=args.api_base,
            out=sys.stdout,
            err=sys.stderr,
            outputs=outputs,
            timeout=args.timeout,
        )
    if args.command == "chat":
        from heygen_core.cli._chat import run_chat

        return run_chat(
            avatar_id=args.avatar_id,
            api_base=args.api_base,
            out=sys.stdout,
            err=sys.stderr,
            timeout=args.timeout,
        )
    if args.command == "simulator":
        if args.api_key is not None and not args.api_key:
            print("heygen-avatar simulator: --api-key must not be empty", file=sys.stderr)
            return EXIT_USAGE
        return run_simulator(args.host, args.port, args.api_key, args.profile)
    return EXIT_USAGE  # pragma: no cover - argparse rejects unknown commands first


if __name__ == "__main__":
    sys.exit(main())
