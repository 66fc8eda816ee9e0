"""What every LiveAvatar admin command shares: the target rule, its options, its output.

The admin commands (``sessions``, ``avatars``, ``contexts``, ``secrets``,
``credits``) talk to the LiveAvatar API through `LiveAvatarClient`: the real
one when ``HEYGEN_LIVE_AVATAR_API_KEY`` is set, or whatever ``--api-base``
names (a ``heygen-avatar simulator``, a proxy). Unlike ``say`` they never
start an in-process simulator: it would be empty, and an empty list would
look like an answer about the user's account.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from pydantic import BaseModel

from heygen_core.cli._exit_codes import LIVEAVATAR_KEY_ENV
from heygen_core.protocol.codec import encode

if TYPE_CHECKING:
    # Imported when a command runs: the client pulls in aiohttp, and building
    # the parser (for `decode` too) should not.
    from heygen_core.rest.liveavatar_client import LiveAvatarClient

AdminAction = Callable[["LiveAvatarClient", argparse.Namespace, TextIO], Awaitable[None]]
"""What an admin subcommand does once it has a client: its parsed arguments, and stdout."""

ACTION_DEFAULT = "admin_action"
"""The `argparse.Namespace` attribute each admin subcommand stores its `AdminAction` in."""

DEFAULT_TIMEOUT = 30.0
"""Seconds an admin command may take in all (``--timeout``)."""


def positive_seconds(text: str) -> float:
    """Argparse type of ``--timeout``: a positive number of seconds."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return seconds


# Pages are fetched until the service says there are no more; this bounds a
# service whose `next` link never ends.
MAX_PAGES = 100
PAGE_SIZE = 100

NO_TARGET_MESSAGE = (
    f"no LiveAvatar API to talk to: set {LIVEAVATAR_KEY_ENV} to use the real API, "
    "or pass --api-base URL (for example the URL that `heygen-avatar simulator` prints)"
)
"""Why an admin command refuses to run with neither a key nor ``--api-base``."""

TARGET_HELP = f"""\
Talks to the real LiveAvatar API when {LIVEAVATAR_KEY_ENV} is set,
or to the API at --api-base (e.g. a `heygen-avatar simulator`). With neither
it stops with exit code 2: it never answers from an empty in-process
simulator as if that were your account. --timeout bounds the whole command
(every call, page and retry); each retry is announced on stderr."""
"""The ``--help`` paragraph that says which API an admin command talks to."""


def add_common(parser: argparse.ArgumentParser, action: AdminAction, *, json_output: bool) -> None:
    """Give `parser` the options every admin command has, and the `action` it runs."""
    if json_output:
        parser.add_argument(
            "--json", action="store_true", help="print the results as one JSON line"
        )
    parser.add_argument(
        "--api-base",
        default=None,
        metavar="URL",
        help=f"LiveAvatar API base URL (default: the real API, when {LIVEAVATAR_KEY_ENV} is set)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="give up after SECONDS in all, retries included (%(default)g)",
    )
    parser.set_defaults(**{ACTION_DEFAULT: action})


def print_json_list(count: int, results: Sequence[BaseModel], out: TextIO) -> None:
    """Print ``{"count": N, "results": [...]}`` as one line, each result as the API sent it."""
    # Each result exactly as the service sent it (unknown fields kept).
    wire = [json.loads(encode(item)) for item in results]
    out.write(json.dumps({"count": count, "results": wire}, ensure_ascii=False) + "\n")


def print_json(item: BaseModel, out: TextIO) -> None:
    """Print `item` as one JSON line, as the API sent it."""
    out.write(encode(item) + "\n")


def print_table(headers: list[str], rows: list[list[str]], out: TextIO) -> None:
    """Print `rows` under `headers` as plain aligned columns."""
    # Plain aligned columns: they survive pipes, `grep` and `cut` alike.
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write("  ".join(cells).rstrip() + "\n")


def text_or_dash(value: object) -> str:
    """`value` if the service sent a string, else ``-`` (absent or null)."""
    return value if isinstance(value, str) else "-"
