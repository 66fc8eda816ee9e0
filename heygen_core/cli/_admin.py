"""``heygen-avatar sessions ...`` and ``heygen-avatar avatars ...``: the LiveAvatar account.

- ``sessions list [--historic] [--json]``: the account's active (or ended) sessions.
- ``sessions stop ID``: stop one (it stops billing at once).
- ``avatars list [--public] [--json]``: the account's avatars, or the public ones.

They talk to the LiveAvatar API through `LiveAvatarClient`: the real one when
``HEYGEN_LIVE_AVATAR_API_KEY`` is set, or whatever ``--api-base`` names (a
``heygen-avatar simulator``, a proxy). Unlike ``say`` they never start an
in-process simulator: it would be empty, and an empty list would look like
an answer about the user's account.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from heygen_models import liveavatar as la
from pydantic import BaseModel

from heygen_core.cli._exit_codes import (
    EXIT_CODES_HELP,
    EXIT_USAGE,
    LIVEAVATAR_KEY_ENV,
    run_command,
)
from heygen_core.protocol.codec import encode

if TYPE_CHECKING:
    # Imported when a command runs: the client pulls in aiohttp, and building
    # the parser (for `decode` too) should not.
    from heygen_core.rest.liveavatar_client import LiveAvatarClient


# Pages are fetched until the service says there are no more; this bounds a
# service whose `next` link never ends.
_MAX_PAGES = 100
_PAGE_SIZE = 100

NO_TARGET_MESSAGE = (
    f"no LiveAvatar API to talk to: set {LIVEAVATAR_KEY_ENV} to use the real API, "
    "or pass --api-base URL (for example the URL that `heygen-avatar simulator` prints)"
)
"""Why an admin command refuses to run with neither a key nor ``--api-base``."""

_TARGET_HELP = f"""\
Talks to the real LiveAvatar API when {LIVEAVATAR_KEY_ENV} is set,
or to the API at --api-base (e.g. a `heygen-avatar simulator`). With neither
it stops with exit code 2: it never lists an empty in-process simulator as if
it were your account."""

SESSIONS_LIST_EPILOG = f"""\
Lists the account's active sessions (every one of them is billing), or with
--historic the ended ones with their end reason. With --json the last stdout
line is {{"count": N, "results": [...]}}, each result as the API sent it.

{_TARGET_HELP}

{EXIT_CODES_HELP}

examples:
  heygen-avatar sessions list
  heygen-avatar sessions list --historic --json
  heygen-avatar sessions list --api-base http://127.0.0.1:8765
"""

SESSIONS_STOP_EPILOG = f"""\
Stops one of the account's sessions (end reason USER_CLOSED), as the API
key's owner. Stopping a session that has already ended is not an error.

{_TARGET_HELP}

{EXIT_CODES_HELP}

example:
  heygen-avatar sessions stop 3f9c2a7e-1d4b-4c8e-9a51-2b7d0e6f8c13
"""

AVATARS_LIST_EPILOG = f"""\
Lists the account's own avatars, or with --public the public (stock) ones,
which need no key. With --json the last stdout line is
{{"count": N, "results": [...]}}, each result as the API sent it.

{_TARGET_HELP}

{EXIT_CODES_HELP}

examples:
  heygen-avatar avatars list --public
  heygen-avatar avatars list --json --api-base http://127.0.0.1:8765
"""


def add_admin_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sessions`` and ``avatars`` (with their subcommands) to `commands`."""
    raw = argparse.RawDescriptionHelpFormatter
    sessions = commands.add_parser(
        "sessions",
        help="list or stop the LiveAvatar account's sessions",
        description="List or stop the LiveAvatar account's sessions.",
        epilog=f"{EXIT_CODES_HELP}\n\nexamples:\n  heygen-avatar sessions list\n"
        "  heygen-avatar sessions stop ID\n",
        formatter_class=raw,
    )
    sessions_actions = sessions.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = sessions_actions.add_parser(
        "list",
        help="list active (or --historic) sessions",
        description="List the account's active sessions, or its ended ones.",
        epilog=SESSIONS_LIST_EPILOG,
        formatter_class=raw,
    )
    listing.add_argument(
        "--historic", action="store_true", help="list ended sessions instead of active ones"
    )
    _add_common(listing, json_output=True)
    stop = sessions_actions.add_parser(
        "stop",
        help="stop a session by id",
        description="Stop one of the account's sessions.",
        epilog=SESSIONS_STOP_EPILOG,
        formatter_class=raw,
    )
    stop.add_argument("session_id", metavar="ID", help="the session's id (from `sessions list`)")
    _add_common(stop, json_output=False)

    avatars = commands.add_parser(
        "avatars",
        help="list the LiveAvatar account's avatars, or the public ones",
        description="List LiveAvatar avatars.",
        epilog=f"{EXIT_CODES_HELP}\n\nexample:\n  heygen-avatar avatars list --public\n",
        formatter_class=raw,
    )
    avatars_actions = avatars.add_subparsers(dest="action", required=True, metavar="ACTION")
    avatars_list = avatars_actions.add_parser(
        "list",
        help="list the account's (or --public) avatars",
        description="List the account's avatars, or the public ones.",
        epilog=AVATARS_LIST_EPILOG,
        formatter_class=raw,
    )
    avatars_list.add_argument(
        "--public", action="store_true", help="list public (stock) avatars; needs no key"
    )
    _add_common(avatars_list, json_output=True)


def _add_common(parser: argparse.ArgumentParser, *, json_output: bool) -> None:
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


def run_admin(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the admin subcommand parsed into `args`; return the exit code."""
    command = f"heygen-avatar {args.command} {args.action}"
    api_base: str | None = args.api_base
    if api_base is None and not os.environ.get(LIVEAVATAR_KEY_ENV):
        print(f"{command}: {NO_TARGET_MESSAGE}", file=err)
        return EXIT_USAGE
    action: Callable[[LiveAvatarClient], Awaitable[None]]
    if args.command == "sessions" and args.action == "list":
        historic: bool = args.historic
        as_json: bool = args.json

        async def action(client: LiveAvatarClient) -> None:
            await list_sessions(client, historic=historic, as_json=as_json, out=out)

    elif args.command == "sessions" and args.action == "stop":
        session_id: str = args.session_id

        async def action(client: LiveAvatarClient) -> None:
            await stop_session(client, session_id, out=out)

    else:
        public: bool = args.public
        as_json = args.json

        async def action(client: LiveAvatarClient) -> None:
            await list_avatars(client, public=public, as_json=as_json, out=out)

    code, _ = run_command(command, _with_client(api_base, action), err)
    return code


async def _with_client(
    api_base: str | None, action: Callable[[LiveAvatarClient], Awaitable[None]]
) -> None:
    from heygen_core.rest.liveavatar_client import LiveAvatarClient

    # The key (if any) comes from the environment; the client never prints it.
    async with LiveAvatarClient(base_url=api_base) as client:
        await action(client)


async def list_sessions(
    client: LiveAvatarClient, *, historic: bool, as_json: bool, out: TextIO
) -> None:
    """Print every active (or historic) session of the client's account to `out`."""
    kind = "historic" if historic else "active"
    entries: list[la.SessionEntry] = []
    count = 0
    for page in range(1, _MAX_PAGES + 1):
        result = await client.list_sessions(
            la.ListSessionsQuery(type=kind, page=page, page_size=_PAGE_SIZE)
        )
        entries += result.data.results
        count = result.data.count
        if result.data.next is None or not result.data.results:
            break
    if as_json:
        _print_json(count, entries, out)
        return
    if not entries:
        print(f"no {kind} sessions", file=out)
        return
    headers = ["ID", "MODE", "SANDBOX", "CREATED", "SECONDS", "CREDITS"]
    if historic:
        headers.append("END REASON")
    rows = []
    for entry in entries:
        row = [
            entry.id,
            entry.mode,
            "yes" if entry.is_sandbox else "no",
            entry.created_at,
            str(entry.duration),
            f"{entry.credits_consumed:g}",
        ]
        if historic:
            reason = entry.end_reason
            row.append(reason.root if isinstance(reason, la.SessionEndReason) else "-")
        rows.append(row)
    _print_table(headers, rows, out)
    print(f"{count} {kind} session{'s' if count != 1 else ''}", file=out)


async def stop_session(client: LiveAvatarClient, session_id: str, *, out: TextIO) -> None:
    """Stop `session_id` with the client's API key and say so on `out`."""
    await client.stop_session(
        la.StopSessionRequest(session_id=session_id, reason=la.SessionEndReason("USER_CLOSED"))
    )
    print(f"stopped session {session_id}", file=out)


async def list_avatars(
    client: LiveAvatarClient, *, public: bool, as_json: bool, out: TextIO
) -> None:
    """Print the account's avatars (or the public ones) to `out`."""
    collected: list[la.Avatar | la.PublicAvatar] = []
    count = 0
    for page in range(1, _MAX_PAGES + 1):
        data: la.PublicAvatarList | la.AvatarList
        if public:
            query = la.ListPublicAvatarsQuery(page=page, page_size=_PAGE_SIZE)
            data = (await client.list_public_avatars(query)).data
        else:
            data = (
                await client.list_avatars(la.ListAvatarsQuery(page=page, page_size=_PAGE_SIZE))
            ).data
        collected += data.results
        count = data.count
        if data.next is None or not data.results:
            break
    if as_json:
        _print_json(count, collected, out)
        return
    kind = "public" if public else "account"
    if not collected:
        print(f"no {kind} avatars", file=out)
        return
    rows = []
    for avatar in collected:
        voice = avatar.default_voice_id
        rows.append([avatar.id, avatar.name, voice if isinstance(voice, str) else "-"])
    _print_table(["ID", "NAME", "DEFAULT VOICE"], rows, out)
    print(f"{count} {kind} avatar{'s' if count != 1 else ''}", file=out)


def _print_json(count: int, results: Sequence[BaseModel], out: TextIO) -> None:
    # Each result exactly as the service sent it (unknown fields kept).
    wire = [json.loads(encode(item)) for item in results]
    out.write(json.dumps({"count": count, "results": wire}, ensure_ascii=False) + "\n")


def _print_table(headers: list[str], rows: list[list[str]], out: TextIO) -> None:
    # Plain aligned columns: they survive pipes, `grep` and `cut` alike.
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write("  ".join(cells).rstrip() + "\n")
