"""``heygen-avatar sessions ...`` and ``heygen-avatar avatars ...``: sessions and avatars.

- ``sessions list [--historic] [--json]``: the account's active (or ended) sessions.
- ``sessions stop ID``: stop one (it stops billing at once).
- ``avatars list [--public] [--json]``: the account's avatars, or the public ones.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TextIO

from heygen_models import liveavatar as la

from heygen_core.cli._admin_base import (
    MAX_PAGES,
    PAGE_SIZE,
    TARGET_HELP,
    add_common,
    print_json_list,
    print_table,
)
from heygen_core.cli._exit_codes import EXIT_CODES_HELP

if TYPE_CHECKING:
    from heygen_core.rest.liveavatar_client import LiveAvatarClient

SESSIONS_LIST_EPILOG = f"""\
Lists the account's active sessions (every one of them is billing), or with
--historic the ended ones with their end reason. With --json the last stdout
line is {{"count": N, "results": [...]}}, each result as the API sent it.

{TARGET_HELP}

{EXIT_CODES_HELP}

examples:
  heygen-avatar sessions list
  heygen-avatar sessions list --historic --json
  heygen-avatar sessions list --api-base http://127.0.0.1:8765
"""

SESSIONS_STOP_EPILOG = f"""\
Stops one of the account's sessions (end reason USER_CLOSED), as the API
key's owner. Stopping a session that has already ended is not an error.

{TARGET_HELP}

{EXIT_CODES_HELP}

example:
  heygen-avatar sessions stop 3f9c2a7e-1d4b-4c8e-9a51-2b7d0e6f8c13
"""

AVATARS_LIST_EPILOG = f"""\
Lists the account's own avatars, or with --public the public (stock) ones,
which need no key. With --json the last stdout line is
{{"count": N, "results": [...]}}, each result as the API sent it.

{TARGET_HELP}

{EXIT_CODES_HELP}

examples:
  heygen-avatar avatars list --public
  heygen-avatar avatars list --json --api-base http://127.0.0.1:8765
"""


def add_session_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    add_common(listing, _run_sessions_list, json_output=True)
    stop = sessions_actions.add_parser(
        "stop",
        help="stop a session by id",
        description="Stop one of the account's sessions.",
        epilog=SESSIONS_STOP_EPILOG,
        formatter_class=raw,
    )
    stop.add_argument("session_id", metavar="ID", help="the session's id (from `sessions list`)")
    add_common(stop, _run_sessions_stop, json_output=False)

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
    add_common(avatars_list, _run_avatars_list, json_output=True)


async def _run_sessions_list(
    client: LiveAvatarClient, args: argparse.Namespace, out: TextIO
) -> None:
    await list_sessions(client, historic=args.historic, as_json=args.json, out=out)


async def _run_sessions_stop(
    client: LiveAvatarClient, args: argparse.Namespace, out: TextIO
) -> None:
    await stop_session(client, args.session_id, out=out)


async def _run_avatars_list(
    client: LiveAvatarClient, args: argparse.Namespace, out: TextIO
) -> None:
    await list_avatars(client, public=args.public, as_json=args.json, out=out)


async def list_sessions(
    client: LiveAvatarClient, *, historic: bool, as_json: bool, out: TextIO
) -> None:
    """Print every active (or historic) session of the client's account to `out`."""
    kind = "historic" if historic else "active"
    entries: list[la.SessionEntry] = []
    count = 0
    for page in range(1, MAX_PAGES + 1):
        result = await client.list_sessions(
            la.ListSessionsQuery(type=kind, page=page, page_size=PAGE_SIZE)
        )
        entries += result.data.results
        count = result.data.count
        if result.data.next is None or not result.data.results:
            break
    if as_json:
        print_json_list(count, entries, out)
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
    print_table(headers, rows, out)
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
    for page in range(1, MAX_PAGES + 1):
        data: la.PublicAvatarList | la.AvatarList
        if public:
            query = la.ListPublicAvatarsQuery(page=page, page_size=PAGE_SIZE)
            data = (await client.list_public_avatars(query)).data
        else:
            data = (
                await client.list_avatars(la.ListAvatarsQuery(page=page, page_size=PAGE_SIZE))
            ).data
        collected += data.results
        count = data.count
        if data.next is None or not data.results:
            break
    if as_json:
        print_json_list(count, collected, out)
        return
    kind = "public" if public else "account"
    if not collected:
        print(f"no {kind} avatars", file=out)
        return
    rows = []
    for avatar in collected:
        rows.append([avatar.id, avatar.name, _default_voice(avatar)])
    print_table(["ID", "NAME", "DEFAULT VOICE"], rows, out)
    print(f"{count} {kind} avatar{'s' if count != 1 else ''}", file=out)


def _default_voice(avatar: la.Avatar | la.PublicAvatar) -> str:
    if isinstance(avatar.default_voice, la.AvatarDefaultVoice):
        return avatar.default_voice.id
    # Older replies send only the deprecated `default_voice_id`; read from the
    # instance dict, since the attribute warns on every access.
    legacy = avatar.__dict__.get("default_voice_id")
    return legacy if isinstance(legacy, str) else "-"
