"""Exit codes of ``heygen-avatar``, and one-line messages for the failures a user can act on.

Expected failures (a refused key, a missing file, an unreachable service, a
bad WAV file) end the command with a message and exit code 1, never a
traceback: the message names the error class (``AuthenticationError: ...``)
so it can be looked up in the docs, and says what to do next. Anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TextIO, TypeVar

from heygen_core.errors import CredentialsError, HeyGenError, TransportError

_T = TypeVar("_T")

# `liveavatar_client.API_KEY_ENV`, spelled out: importing the client pulls in
# aiohttp, which `decode` never needs (a test checks that the two agree).
LIVEAVATAR_KEY_ENV = "HEYGEN_LIVE_AVATAR_API_KEY"
"""The environment variable the LiveAvatar commands read the API key from."""

EXIT_OK = 0
"""The command did what it was asked."""

EXIT_FAILED = 1
"""The command ran and failed (refused key, unreachable service, bad input...)."""

EXIT_USAGE = 2
"""Bad arguments, or nothing to talk to (argparse uses the same code)."""

EXIT_INTERRUPTED = 130
"""Stopped by Ctrl-C (128 + SIGINT, as shells report it)."""

EXIT_CODES_HELP = """\
exit codes:
  0    ok
  1    failed (the message on stderr says why and what to do)
  2    usage error (bad arguments, or no API to talk to)
  130  interrupted by Ctrl-C (say and chat still stop their session)"""
"""The exit-code section of each command's ``--help``."""

EXPECTED_ERRORS: tuple[type[BaseException], ...] = (HeyGenError, OSError)
"""What the commands report as a message: the library's errors, and file or network errors."""


def describe_error(exc: BaseException) -> str:
    """One line for `exc`: its class, what happened, and what to do next.

    Messages of the library's errors never carry keys or tokens, so they are
    safe to print as they are.
    """
    name = type(exc).__name__
    if isinstance(exc, CredentialsError):
        # The message already names the variable to set; add what works locally.
        return f"{name}: {exc} (against `heygen-avatar simulator`, any non-empty key works)"
    if isinstance(exc, TransportError):
        return f"{name}: {exc} (is a service listening at that URL?)"
    if isinstance(exc, FileNotFoundError):
        return f"no such file: {exc.filename}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename}"
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{name}: {exc.strerror or exc}{where}"
    return f"{name}: {exc}"


def run_command(
    command: str,
    work: Coroutine[Any, Any, _T],
    err: TextIO,
    *,
    interrupted: Callable[[], str] = lambda: "interrupted",
) -> tuple[int, _T | None]:
    """Run `work` to completion for `command`; return (exit code, its result or None).

    Ctrl-C gives 130 and the line `interrupted()` returns (called after the
    work has unwound, so it can tell what became of a session); an expected
    error gives 1 and its one-line description. Anything else propagates.
    """
    try:
        return EXIT_OK, asyncio.run(work)
    except KeyboardInterrupt:
        print(f"{command}: {interrupted()}", file=err)
        return EXIT_INTERRUPTED, None
    except EXPECTED_ERRORS as exc:
        print(f"{command}: {describe_error(exc)}", file=err)
        return EXIT_FAILED, None
