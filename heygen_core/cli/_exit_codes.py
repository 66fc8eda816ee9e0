"""Exit codes of ``heygen-avatar``, and one-line messages for the failures a user can act on.

Expected failures (a refused key, a missing file, an unreachable service, a
bad WAV file) end the command with a message and exit code 1, never a
traceback: the message names the error class (``AuthenticationError: ...``)
so it can be looked up in the docs, and says what to do next. Anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

import asyncio
import re
import signal
import threading
from collections.abc import Callable, Coroutine
from types import FrameType
from typing import Any, TextIO, TypeVar

from heygen_models.liveavatar_operations import LiveAvatarOperations as _ops

from heygen_core.errors import (
    CredentialsError,
    HeyGenError,
    InvalidBaseUrlError,
    InvalidRequestError,
    SessionLimitError,
    TransportError,
)

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

STILL_STOPPING = "still stopping the session; it takes at most a few seconds more"
"""What ``say`` and ``chat`` print on a second Ctrl-C, while their session is being stopped."""


class CommandTimeoutError(HeyGenError):
    """A command did not finish within its ``--timeout`` (every call and retry included)."""


# The library's operations a user meets through a command, by that command:
# its messages name the operation ("list_avatars needs ..."), the CLI user
# knows the command.
_COMMAND_OF_OPERATION = {
    # Keyed by the generated methods (named for their operations), so a
    # renamed operation fails here at import and under mypy.
    _ops.create_session_token.__name__: "heygen-avatar say",
    _ops.list_sessions.__name__: "heygen-avatar sessions list",
    _ops.stop_session.__name__: "heygen-avatar sessions stop",
    _ops.list_avatars.__name__: "heygen-avatar avatars list",
    _ops.list_public_avatars.__name__: "heygen-avatar avatars list --public",
    _ops.list_contexts.__name__: "heygen-avatar contexts list",
    _ops.get_context.__name__: "heygen-avatar contexts get",
    _ops.create_context.__name__: "heygen-avatar contexts create",
    _ops.delete_context.__name__: "heygen-avatar contexts delete",
    _ops.list_secrets.__name__: "heygen-avatar secrets list",
    _ops.get_credits.__name__: "heygen-avatar credits",
}

# The library's own words for what the CLI spells as options and variables.
_CLI_TERMS = (
    (re.compile(r"pass api_key= or set (\w+)"), r"set \1"),
    (re.compile(r"\(raise timeout= [^)]*\)"), "(pass a larger --timeout SECONDS to wait longer)"),
    (re.compile(r"raise timeout="), "pass a larger --timeout"),
    (re.compile(r"\bbase_url\b"), "--api-base"),
    # A cap the command line does not expose: only the advice about the URL stays.
    (re.compile(r",? or raise max_response_bytes= [^;.)]*"), ""),
)

_NO_KEY_HINT = (
    f"set {LIVEAVATAR_KEY_ENV} (against `heygen-avatar simulator`, any non-empty key works)"
)

_SESSION_LIMIT_HINT = (
    "list them with `heygen-avatar sessions list` and stop one you no longer need with "
    "`heygen-avatar sessions stop ID` (`--orphans` stops those a crashed run left open), "
    "or wait for one to end"
)


def describe_error(
    exc: BaseException, *, timeout: float | None = None, timeout_note: str = ""
) -> str:
    """One line for `exc`, in the command line's terms: its class, what happened, what to do.

    The library speaks of ``api_key=``, ``timeout=`` and ``base_url``, and
    names operations (``list_avatars``); here those become the environment
    variable, ``--timeout``, ``--api-base`` and the commands. `timeout` is
    the seconds one attempt of a call had, when the command knows it, and
    `timeout_note` says where that number comes from.

    Messages of the library's errors never carry keys or tokens, so they are
    safe to print as they are.
    """
    name = type(exc).__name__
    if isinstance(exc, InvalidBaseUrlError):
        # Its message names the value and the fix ("add http://", "without
        # /v1"); only the option's name changes.
        return f"{name}: {cli_terms(str(exc))}"
    if isinstance(exc, CredentialsError):
        return f"{name}: no API key: {_NO_KEY_HINT}"
    if isinstance(exc, SessionLimitError):
        # The library's hint and the service's own message both say what to
        # do; one CLI sentence replaces the two, with the commands to use.
        return (
            f"{name}: the account already has as many open sessions as its key allows "
            f"(HTTP {exc.status} on {exc.method} {exc.path}): {_SESSION_LIMIT_HINT}"
        )
    if isinstance(exc, TransportError):
        if exc.timed_out and timeout is not None:
            return (
                f"{name}: {exc.method} {exc.path}: no answer within {timeout:g} s{timeout_note} "
                "(is the service up? pass a larger --timeout SECONDS to wait longer)"
            )
        return f"{name}: {cli_terms(str(exc))} (is a service listening at that URL?)"
    if isinstance(exc, InvalidRequestError):
        return f"{name}: {_invalid_request(exc)}"
    if isinstance(exc, FileNotFoundError):
        return f"no such file: {exc.filename}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename}"
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{name}: {exc.strerror or exc}{where}"
    return f"{name}: {cli_terms(str(exc))}"


def cli_terms(text: str) -> str:
    """`text` with the library's argument and operation names replaced by the CLI's."""
    for pattern, replacement in _CLI_TERMS:
        text = pattern.sub(replacement, text)
    return _OPERATION_NAMES.sub(lambda found: f"`{_COMMAND_OF_OPERATION[found[0]]}`", text)


_OPERATION_NAMES = re.compile(r"\b(" + "|".join(_COMMAND_OF_OPERATION) + r")\b")


def _invalid_request(exc: InvalidRequestError) -> str:
    # "stop_session was not sent: session_id: expected a UUID ... (use the
    # id from create_session_token or list_sessions)": the operation is the
    # command being run, and the ids come from commands too.
    text = str(exc).removeprefix(f"{exc.operation_id} was not sent: ")
    return f"nothing was sent: {cli_terms(text)}"


class _Interrupted(Exception):
    """The work was cancelled because the user pressed Ctrl-C."""


def run_command(
    command: str,
    work: Coroutine[Any, Any, _T],
    err: TextIO,
    *,
    interrupted: Callable[[], str] = lambda: "interrupted",
    still_stopping: str = "still finishing; please wait",
    describe: Callable[[BaseException], str] | None = None,
) -> tuple[int, _T | None]:
    """Run `work` to completion for `command`; return (exit code, its result or None).

    Ctrl-C gives 130 and the line `interrupted()` returns (called after the
    work has unwound, so it can tell what became of a session); an expected
    error gives 1 and its one-line description (`describe`, default
    `describe_error`). Anything else propagates.

    The first Ctrl-C cancels the work, which then stops its session (a
    bounded wait). Later presses only print `still_stopping` once: with
    `asyncio.run`'s own handling a second press raised KeyboardInterrupt in
    the middle of the stop, leaving a billable session open and a traceback
    on the terminal.
    """
    presses = 0

    def on_sigint(task: asyncio.Task[Any]) -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            task.cancel()
        elif presses == 2:
            print(f"{command}: {still_stopping}", file=err, flush=True)

    async def guarded() -> _T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        installed = _handle_sigint(loop, lambda: on_sigint(task))
        try:
            return await work
        except asyncio.CancelledError:
            if presses:
                raise _Interrupted from None
            raise
        finally:
            if installed:
                loop.remove_signal_handler(signal.SIGINT)
                if presses:
                    # From now on (the loop's teardown included), further
                    # presses are ignored rather than raised as a
                    # KeyboardInterrupt with a traceback.
                    signal.signal(signal.SIGINT, signal.SIG_IGN)

    previous = _sigint_handler()
    try:
        result = asyncio.run(guarded())
    except (KeyboardInterrupt, _Interrupted):
        print(f"{command}: {interrupted()}", file=err)
        return EXIT_INTERRUPTED, None
    except EXPECTED_ERRORS as exc:
        print(f"{command}: {(describe or describe_error)(exc)}", file=err)
        # A base URL that cannot work is a bad argument, refused before any call.
        return (EXIT_USAGE if isinstance(exc, InvalidBaseUrlError) else EXIT_FAILED), None
    finally:
        # After a real Ctrl-C the process is about to exit with 130: SIGINT
        # stays ignored, so a press during the interpreter's own exit cannot
        # end it by signal (or with a traceback) instead.
        if previous is not None and not presses:
            signal.signal(signal.SIGINT, previous)
    if presses:
        # The work ended on its own while the first press was cancelling it.
        print(f"{command}: {interrupted()}", file=err)
        return EXIT_INTERRUPTED, None
    return EXIT_OK, result


def _sigint_handler() -> Callable[[int, FrameType | None], Any] | int | None:
    """The SIGINT handler to restore afterwards; None off the main thread (nothing to restore)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    # None: a handler not set from Python; nothing this module can put back.
    return signal.getsignal(signal.SIGINT)


def _handle_sigint(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> bool:
    """Route SIGINT to `callback` on `loop`; False where that is impossible.

    Off the main thread, and on Windows, the loop cannot take signals: there
    Ctrl-C stays a KeyboardInterrupt, as `asyncio.run` handles it.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        loop.add_signal_handler(signal.SIGINT, callback)
    except (NotImplementedError, RuntimeError, ValueError):
        return False
    return True
