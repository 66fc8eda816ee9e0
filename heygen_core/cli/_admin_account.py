"""``heygen-avatar contexts ...``, ``secrets list`` and ``credits``: the account's setup.

- ``contexts list [--json]``: the account's contexts (what a FULL avatar knows).
- ``contexts get ID [--json]``: one context, with its prompt and opening text.
- ``contexts create --name N --prompt P --opening-text T [--link URL] [--json]``.
- ``contexts delete ID``.
- ``secrets list [--json]``: the stored provider keys' names and types, never values.
- ``credits [--json]``: the account's balance, and how many minutes it buys.
"""

from __future__ import annotations

import argparse
import asyncio
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from heygen_models import liveavatar as la

from heygen_core.cli._admin_base import (
    MAX_PAGES,
    PAGE_SIZE,
    TARGET_HELP,
    add_common,
    print_json,
    print_json_list,
    print_table,
    text_or_dash,
)
from heygen_core.cli._exit_codes import EXIT_CODES_HELP
from heygen_core.rest.credits import CREDITS_PER_MINUTE, parse_credits

if TYPE_CHECKING:
    from heygen_core.rest.liveavatar_client import LiveAvatarClient

_RAW = argparse.RawDescriptionHelpFormatter

CONTEXTS_LIST_EPILOG = f"""\
Lists the account's contexts (a FULL session's prompt, opening text and FAQ
links). With --json the last stdout line is {{"count": N, "results": [...]}},
each result as the API sent it.

{TARGET_HELP}

{EXIT_CODES_HELP}

examples:
  heygen-avatar contexts list
  # against `heygen-avatar simulator --port 8765`, which takes any key:
  HEYGEN_LIVE_AVATAR_API_KEY=any heygen-avatar contexts list --json --api-base http://127.0.0.1:8765
"""

CONTEXTS_GET_EPILOG = f"""\
Prints one context: its name, opening text, prompt and links. With --json
the last stdout line is the context as the API sent it. An unknown id is
NotFoundError (exit code 1).

{TARGET_HELP}

{EXIT_CODES_HELP}

example:
  heygen-avatar contexts get 5b9dba8a-aa31-11f0-a6ee-066a7fa2e369 --json
"""

CONTEXTS_CREATE_EPILOG = f"""\
Creates a context and prints its id (with --json: the new context as the API
sent it). The service requires a name, a prompt and an opening text; the
prompt can be read from a file with --prompt-file. Prompt and opening text
may use ${{var}} placeholders, filled per session.

{TARGET_HELP}

{EXIT_CODES_HELP}

examples:
  heygen-avatar contexts create --name Support --prompt-file prompt.txt \\
    --opening-text "Hi, how can I help?"
  heygen-avatar contexts create --name FAQ --prompt "Answer briefly." \\
    --opening-text "Hello!" --link https://example.com/faq --json
"""

CONTEXTS_DELETE_EPILOG = f"""\
Deletes one of the account's contexts. Sessions that already use it are not
affected. An unknown id is NotFoundError (exit code 1).

{TARGET_HELP}

{EXIT_CODES_HELP}

example:
  heygen-avatar contexts delete 5b9dba8a-aa31-11f0-a6ee-066a7fa2e369
"""

SECRETS_LIST_EPILOG = f"""\
Lists the provider keys stored in the account (for third-party voices and
LLMs): id, name and type. The API never returns a secret's value, and this
command prints only those fields, also with --json, where the last stdout
line is {{"count": N, "results": [...]}}.

{TARGET_HELP}

{EXIT_CODES_HELP}

examples:
  heygen-avatar secrets list
  heygen-avatar secrets list --json
"""

# From the one table of rates, so the help cannot drift from what is charged.
_RATES = ", ".join(f"{mode} {rate}" for mode, rate in CREDITS_PER_MINUTE.items())

CREDITS_EPILOG = f"""\
Prints the account's credit balance and how many minutes of billed sessions
it pays for (credits a minute: {_RATES}; sandbox sessions are free).
With --json the last stdout line is {{"credits_left": "..."}} as the API sent
it (a decimal string).

{TARGET_HELP}

{EXIT_CODES_HELP}

examples:
  heygen-avatar credits
  # against `heygen-avatar simulator --port 8765`, which takes any key:
  HEYGEN_LIVE_AVATAR_API_KEY=any heygen-avatar credits --json --api-base http://127.0.0.1:8765
"""


def add_account_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``contexts``, ``secrets`` and ``credits`` (with their subcommands) to `commands`."""
    contexts = commands.add_parser(
        "contexts",
        help="list, show, create or delete the LiveAvatar account's contexts",
        description="Manage the LiveAvatar account's contexts (what a FULL avatar knows).",
        epilog=f"{EXIT_CODES_HELP}\n\nexamples:\n  heygen-avatar contexts list\n"
        "  heygen-avatar contexts get ID\n",
        formatter_class=_RAW,
    )
    actions = contexts.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list",
        help="list the account's contexts",
        description="List the account's contexts.",
        epilog=CONTEXTS_LIST_EPILOG,
        formatter_class=_RAW,
    )
    add_common(listing, _run_contexts_list, json_output=True)
    get = actions.add_parser(
        "get",
        help="show one context by id",
        description="Show one of the account's contexts.",
        epilog=CONTEXTS_GET_EPILOG,
        formatter_class=_RAW,
    )
    get.add_argument("context_id", metavar="ID", help="the context's id (from `contexts list`)")
    add_common(get, _run_contexts_get, json_output=True)
    create = actions.add_parser(
        "create",
        help="create a context",
        description="Create a context for FULL sessions.",
        epilog=CONTEXTS_CREATE_EPILOG,
        formatter_class=_RAW,
    )
    create.add_argument("--name", required=True, help="the context's display name")
    prompt = create.add_mutually_exclusive_group(required=True)
    prompt.add_argument("--prompt", help="the instructions the avatar's LLM follows")
    prompt.add_argument(
        "--prompt-file", metavar="FILE", help="read the prompt from FILE (UTF-8 text)"
    )
    create.add_argument(
        "--opening-text", required=True, metavar="TEXT", help="what the avatar says first"
    )
    create.add_argument(
        "--link",
        action="append",
        default=[],
        metavar="URL",
        help="a FAQ page the avatar may cite (repeat for several)",
    )
    add_common(create, _run_contexts_create, json_output=True)
    delete = actions.add_parser(
        "delete",
        help="delete a context by id",
        description="Delete one of the account's contexts.",
        epilog=CONTEXTS_DELETE_EPILOG,
        formatter_class=_RAW,
    )
    delete.add_argument("context_id", metavar="ID", help="the context's id (from `contexts list`)")
    add_common(delete, _run_contexts_delete, json_output=False)

    secrets = commands.add_parser(
        "secrets",
        help="list the provider keys stored in the LiveAvatar account (never their values)",
        description="List the provider keys stored in the LiveAvatar account.",
        epilog=f"{EXIT_CODES_HELP}\n\nexample:\n  heygen-avatar secrets list\n",
        formatter_class=_RAW,
    )
    secrets_actions = secrets.add_subparsers(dest="action", required=True, metavar="ACTION")
    secrets_list = secrets_actions.add_parser(
        "list",
        help="list stored secrets' ids, names and types",
        description="List the stored secrets' ids, names and types (never their values).",
        epilog=SECRETS_LIST_EPILOG,
        formatter_class=_RAW,
    )
    add_common(secrets_list, _run_secrets_list, json_output=True)

    credits = commands.add_parser(
        "credits",
        help="show the LiveAvatar account's credit balance",
        description="Show the LiveAvatar account's credit balance.",
        epilog=CREDITS_EPILOG,
        formatter_class=_RAW,
    )
    add_common(credits, _run_credits, json_output=True)


async def _run_contexts_list(
    client: LiveAvatarClient, args: argparse.Namespace, out: TextIO
) -> None:
    contexts: list[la.ContextSummary] = []
    count = 0
    for page in range(1, MAX_PAGES + 1):
        data = (
            await client.list_contexts(la.ListContextsQuery(page=page, page_size=PAGE_SIZE))
        ).data
        contexts += data.results
        count = data.count
        if not isinstance(data.next, str) or not data.results:
            break
    if args.json:
        print_json_list(count, contexts, out)
        return
    if not contexts:
        print("no contexts", file=out)
        return
    rows = [[item.id, item.name, text_or_dash(item.updated_at)] for item in contexts]
    print_table(["ID", "NAME", "UPDATED"], rows, out)
    print(f"{count} context{'s' if count != 1 else ''}", file=out)


async def _run_contexts_get(
    client: LiveAvatarClient, args: argparse.Namespace, out: TextIO
) -> None:
    context = (await client.get_context(args.context_id)).data
    if args.json:
        print_json(context, out)
        return
    _print_context(context, out)


async def _run_contexts_create(
    client: LiveAvatarClient, args: argparse.Namespace, out: TextIO
) -> None:
    # Read inside the command, so a missing file is the usual one-line failure.
    prompt = args.prompt
    if prompt is None:
        prompt = await asyncio.to_thread(Path(args.prompt_file).read_text, encoding="utf-8")
    request = la.CreateContextRequest(name=args.name, prompt=prompt, opening_text=args.opening_text)
    if args.link:
        request = la.CreateContextRequest(
            name=args.name,
            prompt=prompt,
            opening_text=args.opening_text,
            links=[la.ContextLinkRequest(url=url) for url in args.link],
        )
    context = (await client.create_context(request)).data
    if args.json:
        print_json(context, out)
        return
    print(f"created context {context.id} ({context.name})", file=out)


async def _run_contexts_delete(
    client: LiveAvatarClient, args: argparse.Namespace, out: TextIO
) -> None:
    await client.delete_context(args.context_id)
    print(f"deleted context {args.context_id}", file=out)


async def _run_secrets_list(
    client: LiveAvatarClient, args: argparse.Namespace, out: TextIO
) -> None:
    # Only the declared metadata fields: should a service ever send more
    # (a value, a hint of one), it never reaches a terminal or a log.
    shown = set(la.Secret.model_fields)
    secrets = [
        la.Secret.model_validate(item.model_dump(include=shown))
        for item in (await client.list_secrets()).data.root
    ]
    if args.json:
        print_json_list(len(secrets), secrets, out)
        return
    if not secrets:
        print("no secrets", file=out)
        return
    rows = [
        [item.id, text_or_dash(item.secret_name), text_or_dash(item.secret_type)]
        for item in secrets
    ]
    print_table(["ID", "NAME", "TYPE"], rows, out)
    print(f"{len(secrets)} secret{'s' if len(secrets) != 1 else ''}", file=out)


async def _run_credits(client: LiveAvatarClient, args: argparse.Namespace, out: TextIO) -> None:
    data = (await client.get_credits()).data
    # Parsed first, also for --json: a malformed balance is an error, not output.
    left = parse_credits(data.credits_left)
    if args.json:
        print_json(data, out)
        return
    minutes = " or ".join(
        f"{_whole_minutes(left, rate)} minutes of {mode}"
        for mode, rate in CREDITS_PER_MINUTE.items()
    )
    print(f"{data.credits_left} credits left: enough for {minutes} sessions", file=out)


def _whole_minutes(credits_left: Decimal, rate: Decimal) -> int:
    return max(0, int(credits_left // rate))


def _print_context(context: la.Context, out: TextIO) -> None:
    variables = context.required_dynamic_variables
    links = context.links if isinstance(context.links, list) else []
    print(f"id:           {context.id}", file=out)
    print(f"name:         {context.name}", file=out)
    print(f"updated:      {text_or_dash(context.updated_at)}", file=out)
    if isinstance(variables, list) and variables:
        print(f"variables:    {', '.join(variables)}", file=out)
    for link in links:
        print(f"link:         {link.url}", file=out)
    print(f"opening text: {text_or_dash(context.opening_text)}", file=out)
    # Last: a prompt runs to many lines, and stays readable at the end.
    print("prompt:", file=out)
    for line in text_or_dash(context.prompt).splitlines():
        print(f"  {line}", file=out)
