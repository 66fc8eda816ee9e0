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
import os
from typing import TextIO

from heygen_core.cli._admin_account import add_account_commands
from heygen_core.cli._admin_base import ACTION_DEFAULT, NO_TARGET_MESSAGE, AdminAction
from heygen_core.cli._admin_sessions import add_session_commands
from heygen_core.cli._exit_codes import EXIT_USAGE, LIVEAVATAR_KEY_ENV, run_command

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
    code, _ = run_command(command, _with_client(api_base, action, args, out), err)
    return code


async def _with_client(
    api_base: str | None, action: AdminAction, args: argparse.Namespace, out: TextIO
) -> None:
    from heygen_core.rest.liveavatar_client import LiveAvatarClient

    # The key (if any) comes from the environment; the client never prints it.
    async with LiveAvatarClient(base_url=api_base) as client:
        await action(client, args, out)
