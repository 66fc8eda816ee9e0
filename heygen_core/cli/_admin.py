"""The LiveAvatar admin commands: registered on the parser, and run.

- ``sessions list|stop`` and ``avatars list`` (`heygen_core.cli._admin_sessions`).
- ``contexts list|get|create|delete``, ``secrets list`` and ``credits``
  (`heygen_core.cli._admin_account`).

What they share (the key or ``--api-base`` rule, ``--json``, the tables) is in
`heygen_core.cli._admin_base`. Each subcommand stores the coroutine it runs in
its parsed arguments; `run_admin` gives it a client and turns failures into
one line and an exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import os
from collections.abc import Iterator
from typing import TextIO

from heygen_core.cli._admin_account import add_account_commands
from heygen_core.cli._admin_base import ACTION_DEFAULT, NO_TARGET_MESSAGE, AdminAction
from heygen_core.cli._admin_sessions import add_session_commands
from heygen_core.cli._exit_codes import (
    EXIT_USAGE,
    LIVEAVATAR_KEY_ENV,
    CommandTimeoutError,
    describe_error,
    run_command,
)

ADMIN_COMMANDS = frozenset({"sessions", "avatars", "contexts", "secrets", "credits"})
"""The top-level commands `run_admin` runs."""


def add_admin_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add every admin command (with its subcommands) to `commands`."""
    add_session_commands(commands)
    add_account_commands(commands)


def run_admin(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the admin subcommand parsed into `args`; return the exit code."""
    action_name: str | None = getattr(args, "action", None)
    command = " ".join(["heygen-avatar", args.command, *([action_name] if action_name else [])])
    api_base: str | None = args.api_base
    if api_base is None and not os.environ.get(LIVEAVATAR_KEY_ENV):
        print(f"{command}: {NO_TARGET_MESSAGE}", file=err)
        return EXIT_USAGE
    action: AdminAction = getattr(args, ACTION_DEFAULT)
    timeout: float = args.timeout
    with _retries_reported(command, err):
        code, _ = run_command(
            command,
            _with_client(api_base, action, args, out, timeout),
            err,
            describe=functools.partial(
                describe_error,
                timeout=_attempt_limit(timeout),
                timeout_note=f" (each try of a call gets half of --timeout {timeout:g})",
            ),
        )
    return code


def _attempt_limit(total: float) -> float:
    """Seconds one attempt of a call may take, out of the command's `total`.

    Half of it: a service that does not answer gets one retry, announced on
    stderr, before the command gives up at `total`.
    """
    return total / 2


async def _with_client(
    api_base: str | None,
    action: AdminAction,
    args: argparse.Namespace,
    out: TextIO,
    total_seconds: float,
) -> None:
    from heygen_core.rest.liveavatar_client import LiveAvatarClient

    # The key (if any) comes from the environment; the client never prints it.
    timeout = total_seconds
    async with LiveAvatarClient(base_url=api_base, timeout=_attempt_limit(timeout)) as client:
        deadline = asyncio.timeout(timeout)
        try:
            async with deadline:
                await action(client, args, out)
        except TimeoutError:
            if not deadline.expired():
                raise
            # One total for the command: retries used to stretch "30 s" to
            # two minutes of silence before a message naming 30 s.
            raise CommandTimeoutError(
                f"no answer from {client.base_url} within {timeout:g} s (--timeout {timeout:g}, "
                "retries included); is the service up? pass a larger --timeout SECONDS "
                "to wait longer"
            ) from None


class _RetryLines(logging.Handler):
    """Prints the REST client's retry notices as lines of the command on stderr."""

    def __init__(self, command: str, err: TextIO) -> None:
        super().__init__(logging.INFO)
        self._command = command
        self._err = err

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno != logging.INFO or "retry" not in str(record.msg).lower():
            return
        try:
            print(f"{self._command}: {record.getMessage()}", file=self._err, flush=True)
        except Exception:  # a logging handler never raises into the caller
            self.handleError(record)


@contextlib.contextmanager
def _retries_reported(command: str, err: TextIO) -> Iterator[None]:
    """While it lasts, each retry of a REST call is one line on `err`.

    The client announces its retries at INFO on ``heygen_core.rest``: that
    level is enabled on that logger for the command's duration, and put back
    after.
    """
    rest_logger = logging.getLogger("heygen_core.rest")
    handler = _RetryLines(command, err)
    level = rest_logger.level
    if not rest_logger.isEnabledFor(logging.INFO):
        rest_logger.setLevel(logging.INFO)
    rest_logger.addHandler(handler)
    try:
        yield
    finally:
        rest_logger.removeHandler(handler)
        rest_logger.setLevel(level)
