"""``heygen-avatar sessions ...`` and ``heygen-avatar avatars ...``: sessions and avatars.

- ``sessions list [--historic] [--json]``: the account's active (or ended) sessions.
- ``sessions stop ID``: stop one (it stops billing at once).
- ``sessions stop --orphans``: stop those a crashed or killed run left open.
- ``avatars list [--public] [--json]``: the account's avatars, or the public ones.
"""

from __future__ import annotations

import argparse
import contextlib
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
from heygen_core.cli._exit_codes import EXIT_CODES_HELP, describe_error
from heygen_core.errors import (
    ApiError,
    HeyGenError,
    InvalidRequestError,
    NotFoundError,
    SessionStateError,
    TransportError,
)

if TYPE_CHECKING:
    from heygen_core.rest.liveavatar_client import LiveAvatarClient
    from heygen_core.session.open_record import OpenSessionRecord

# `open_record.STATE_DIR_ENV`, spelled out: importing the session package
# while building the parser would pull in aiohttp for every command (a test
# checks that the two agree).
STATE_DIR_ENV = "HEYGEN_CORE_STATE_DIR"

SESSIONS_LIST_EPILOG = f"""\
Lists the account's active sessions (every one of them is billing), or with
--historic the ended ones with their end reason. With --json the last stdout
line is {{"count": N, "results": [...]}}, each result as the API sent it.

{TARGET_HELP}

{EXIT_CODES_HELP}

examples:
  heygen-avatar sessions list
  heygen-avatar sessions list --historic --json
  # against `heygen-avatar simulator --port 8765`, which takes any key:
  HEYGEN_LIVE_AVATAR_API_KEY=any heygen-avatar sessions list --api-base http://127.0.0.1:8765
"""

SESSIONS_STOP_EPILOG = f"""\
Stops one of the account's sessions (end reason USER_CLOSED), as the API
key's owner. Stopping a session that has already ended is not an error.

With --orphans it stops instead every session that a heygen-core process on
this machine opened and could not stop before it ended (a crash, a kill, a
failed stop): sessions record themselves in the open-session record
(${STATE_DIR_ENV}, else $XDG_STATE_HOME/heygen-core, else
~/.local/state/heygen-core) until their stop is confirmed. Only those of the
API this command talks to are stopped; the others are listed as skipped,
with their API base. One line per session, then a summary; a session whose
stop fails stays recorded, and the exit code is 1.

{TARGET_HELP}

{EXIT_CODES_HELP}

examples:
  heygen-avatar sessions stop 3f9c2a7e-1d4b-4c8e-9a51-2b7d0e6f8c13
  heygen-avatar sessions stop --orphans
"""

AVATARS_LIST_EPILOG = f"""\
Lists the account's own avatars, or with --public the public (stock) ones,
which need no key. With --json the last stdout line is
{{"count": N, "results": [...]}}, each result as the API sent it.

{TARGET_HELP}

{EXIT_CODES_HELP}

examples:
  heygen-avatar avatars list --public
  # against `heygen-avatar simulator --port 8765`, which takes any key:
  HEYGEN_LIVE_AVATAR_API_KEY=any heygen-avatar avatars list --json --api-base http://127.0.0.1:8765
"""


def add_session_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sessions`` and ``avatars`` (with their subcommands) to `commands`."""
    raw = argparse.RawDescriptionHelpFormatter
    sessions = commands.add_parser(
        "sessions",
        help="list or stop the LiveAvatar account's sessions",
        description="List or stop the LiveAvatar account's sessions.",
        epilog=f"{EXIT_CODES_HELP}\n\nexamples:\n  heygen-avatar sessions list\n"
        "  heygen-avatar sessions stop ID\n  heygen-avatar sessions stop --orphans\n",
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
        help="stop a session by id, or those a crashed run left open (--orphans)",
        description="Stop one of the account's sessions, or the orphaned ones.",
        epilog=SESSIONS_STOP_EPILOG,
        formatter_class=raw,
    )
    which = stop.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "session_id", nargs="?", metavar="ID", help="the session's id (from `sessions list`)"
    )
    which.add_argument(
        "--orphans",
        action="store_true",
        help="stop every recorded session whose process is gone (see below)",
    )
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
    from heygen_core.session.open_record import OpenSessionRecord

    record = OpenSessionRecord()
    if args.orphans:
        await stop_orphans(client, record, out=out)
        return
    await stop_session(client, args.session_id, out=out)
    # Stopped by hand: no longer an orphan to stop later. The stop is what
    # was asked; a record that cannot be updated only means a later
    # `--orphans` finds it already over.
    with contextlib.suppress(OSError):
        record.remove("liveavatar", args.session_id)


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


class OrphansNotStoppedError(HeyGenError):
    """``sessions stop --orphans`` could not stop some of the recorded sessions."""


async def stop_orphans(client: LiveAvatarClient, record: OpenSessionRecord, *, out: TextIO) -> None:
    """Stop the sessions of `record` whose process is gone, on the client's API.

    Each is removed from the record once stopped, or once the service says
    it is over or unknown. Sessions of another API base (or the Streaming
    API) are listed as skipped. One line each on `out`, then a summary.

    Raises:
        OrphansNotStoppedError: Some stop failed (those stay recorded).
    """
    target = client.base_url.rstrip("/")
    orphans = record.orphans()
    if not orphans:
        print(f"no orphaned sessions in {record.directory}", file=out)
        return
    stopped = ended = skipped = 0
    failed: list[str] = []
    for entry in orphans:
        where = entry.base_url.rstrip("/")
        if entry.api != "liveavatar" or where != target:
            skipped += 1
            api = "LiveAvatar" if entry.api == "liveavatar" else "Streaming API"
            print(f"skipped {entry.session_id}: a {api} session at {entry.base_url}", file=out)
            continue
        request = la.StopSessionRequest(
            session_id=entry.session_id, reason=la.SessionEndReason("USER_CLOSED")
        )
        try:
            await client.stop_session(request)
        except (NotFoundError, SessionStateError):
            # The service no longer has it running: nothing left to stop.
            record.remove(entry.api, entry.session_id)
            ended += 1
            print(f"already ended {entry.session_id}", file=out)
            continue
        except (ApiError, TransportError, InvalidRequestError) as exc:
            failed.append(entry.session_id)
            print(f"could not stop {entry.session_id}: {describe_error(exc)}", file=out)
            continue
        record.remove(entry.api, entry.session_id)
        stopped += 1
        print(f"stopped session {entry.session_id}", file=out)
    summary = f"{stopped} stopped, {ended} already ended, {len(failed)} failed, {skipped} skipped"
    print(summary, file=out)
    if failed:
        raise OrphansNotStoppedError(
            f"{len(failed)} orphaned session{'s' if len(failed) != 1 else ''} could not be "
            "stopped and stay recorded: run `heygen-avatar sessions stop --orphans` again later "
            "(each ends at its idle timeout anyway)"
        )


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
