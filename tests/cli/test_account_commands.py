"""``heygen-avatar contexts|secrets|credits``: the account's setup, from a terminal.

They run in-process (the CLI's own `main`, real HTTP on loopback) against a
simulator thread; answers the simulator never gives (a secret's value in a
listing, a malformed balance) come from a stub server on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from heygen_models import liveavatar as la

from heygen_core.cli._exit_codes import LIVEAVATAR_KEY_ENV
from heygen_core.cli.main import build_parser, main
from heygen_core.rest.liveavatar_client import LiveAvatarClient
from heygen_core.simulator import SimulatorConfig, SimulatorThread

KEY = "cli-account-key"
# Values that must never be printed, whatever the command does.
CANARY = "sk-canary-9e8d7c6b5a4f3e2d"
SECRET_VALUE = "sk-secret-value-1a2b3c4d5e6f"
STARTING_CREDITS = 123.5


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorThread]:
    config = SimulatorConfig(api_key=KEY, starting_credits=STARTING_CREDITS)
    with SimulatorThread(config) as simulator:
        yield simulator


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LIVEAVATAR_KEY_ENV, KEY)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


class StubThread:
    """A stub LiveAvatar API on loopback, in its own thread, answering fixed bodies."""

    def __init__(self, routes: dict[str, dict[str, Any]]) -> None:
        self._routes = routes
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def __enter__(self) -> StubThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        for path, body in self._routes.items():

            async def answer(_: web.Request, body: dict[str, Any] = body) -> web.Response:
                return web.json_response({"code": 1000, "message": "ok", "data": body["data"]})

            app.router.add_get(path, answer)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"


def test_the_new_commands_have_help_with_examples_and_exit_codes() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    expected = {
        ("contexts", "list"),
        ("contexts", "get"),
        ("contexts", "create"),
        ("contexts", "delete"),
        ("secrets", "list"),
        ("credits", None),
    }
    for command, action in expected:
        sub = commands.choices[command]
        if action is not None:
            group = next(a for a in sub._actions if isinstance(a, argparse._SubParsersAction))
            sub = group.choices[action]
        text = sub.format_help()
        assert "example" in text and "exit codes" in text, (command, action)
        assert "--api-base" in text


@pytest.mark.parametrize(
    "argv",
    [
        ["contexts", "list"],
        # Fixed ids: parameters must be the same in every xdist worker.
        ["contexts", "get", "6f2c1a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"],
        ["contexts", "create", "--name", "n", "--prompt", "p", "--opening-text", "o"],
        ["contexts", "delete", "6f2c1a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"],
        ["secrets", "list"],
        ["credits"],
    ],
    ids=" ".join,
)
def test_without_a_key_or_an_api_base_they_exit_2(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(LIVEAVATAR_KEY_ENV, raising=False)
    code, out, err = run(argv, capsys)
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"heygen-avatar {' '.join(argv[:2] if argv[0] != 'credits' else argv)}:")
    assert LIVEAVATAR_KEY_ENV in err and "--api-base" in err


@pytest.mark.usefixtures("keyed")
def test_a_context_is_created_listed_shown_and_deleted(
    sim: SimulatorThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompt_file = tmp_path / "prompt.txt"
    prompt_file.write_text("You answer ${topic} questions.\nBe brief.\n", encoding="utf-8")
    name = f"Support {uuid.uuid4().hex[:8]}"
    api = ["--api-base", sim.url]
    code, out, err = run(
        [
            *("contexts", "create", "--name", name, "--prompt-file", str(prompt_file)),
            *("--opening-text", "Hello!", "--link", "https://example.com/faq", "--json", *api),
        ],
        capsys,
    )
    assert code == 0, err
    created = json.loads(out.splitlines()[-1])
    context_id = created["id"]
    assert created["name"] == name
    assert created["prompt"] == prompt_file.read_text(encoding="utf-8")
    assert [link["url"] for link in created["links"]] == ["https://example.com/faq"]

    code, out, _ = run(["contexts", "list", *api], capsys)
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith(context_id))
    assert name in row
    assert out.splitlines()[0].split() == ["ID", "NAME", "UPDATED"]

    code, out, _ = run(["contexts", "list", "--json", *api], capsys)
    listed = json.loads(out.splitlines()[-1])
    assert context_id in [item["id"] for item in listed["results"]]
    assert listed["count"] == len(listed["results"])

    code, out, _ = run(["contexts", "get", context_id, *api], capsys)
    assert code == 0
    assert f"name:         {name}" in out
    assert "opening text: Hello!" in out
    assert "  Be brief." in out and "variables:    topic" in out
    assert "link:         https://example.com/faq" in out

    code, out, _ = run(["contexts", "get", context_id, "--json", *api], capsys)
    assert json.loads(out.splitlines()[-1]) == created

    code, out, _ = run(["contexts", "delete", context_id, *api], capsys)
    assert code == 0
    assert out.strip() == f"deleted context {context_id}"
    code, out, _ = run(["contexts", "list", "--json", *api], capsys)
    assert context_id not in [item["id"] for item in json.loads(out)["results"]]

    # Gone: the next get is the usual one-line 404.
    code, out, err = run(["contexts", "get", context_id, *api], capsys)
    assert code == 1 and out == ""
    assert err.startswith("heygen-avatar contexts get: NotFoundError: ")
    assert "HTTP 404" in err and len(err.splitlines()) == 1


@pytest.mark.usefixtures("keyed")
@pytest.mark.parametrize("action", ["get", "delete"])
def test_an_unknown_context_is_one_line_404(
    action: str, sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    unknown = str(uuid.uuid4())
    code, out, err = run(["contexts", action, unknown, "--api-base", sim.url], capsys)
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"heygen-avatar contexts {action}: NotFoundError: ")
    assert "HTTP 404" in err and "Traceback" not in err


@pytest.mark.usefixtures("keyed")
def test_contexts_create_needs_its_required_fields_and_a_readable_prompt_file(
    sim: SimulatorThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["contexts", "create", "--name", "n", "--prompt", "p", "--api-base", sim.url])
    assert stopped.value.code == 2
    assert "--opening-text" in capsys.readouterr().err
    missing = tmp_path / "nope.txt"
    code, _, err = run(
        [
            *("contexts", "create", "--name", "n", "--prompt-file", str(missing)),
            *("--opening-text", "o", "--api-base", sim.url),
        ],
        capsys,
    )
    assert code == 1
    assert err.strip() == f"heygen-avatar contexts create: no such file: {missing}"


def test_a_refused_key_is_one_line_without_the_key(
    sim: SimulatorThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(LIVEAVATAR_KEY_ENV, CANARY)
    for argv in (["contexts", "list"], ["secrets", "list"], ["credits"]):
        code, out, err = run([*argv, "--api-base", sim.url], capsys)
        assert code == 1, argv
        assert len(err.splitlines()) == 1 and "AuthenticationError" in err
        assert CANARY not in out + err


@pytest.mark.usefixtures("keyed")
def test_secrets_list_shows_names_and_types_never_values(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"voice key {uuid.uuid4().hex[:6]}"

    async def store() -> str:
        async with LiveAvatarClient(KEY, base_url=sim.url) as client:
            request = la.CreateSecretRequest(
                secret_name=name,
                secret_value=SECRET_VALUE,
                secret_type=la.SecretType("ELEVENLABS_API_KEY"),
            )
            return (await client.create_secret(request)).data.id

    secret_id = asyncio.run(store())
    code, out, _ = run(["secrets", "list", "--api-base", sim.url], capsys)
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith(secret_id))
    assert name in row and "ELEVENLABS_API_KEY" in row
    code, json_out, _ = run(["secrets", "list", "--json", "--api-base", sim.url], capsys)
    assert code == 0
    listed = json.loads(json_out.splitlines()[-1])
    assert secret_id in [item["id"] for item in listed["results"]]
    assert SECRET_VALUE not in out + json_out


@pytest.mark.usefixtures("keyed")
def test_secrets_list_drops_any_field_beyond_the_metadata(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A service that (wrongly) sent a value along: it must not reach stdout.
    leaky = {"id": "s-1", "secret_name": "openai", "secret_value": SECRET_VALUE, "hint": "sk-..."}
    with StubThread({"/v1/secrets": {"data": [leaky]}}) as stub:
        code, out, _ = run(["secrets", "list", "--api-base", stub.url], capsys)
        assert code == 0 and "openai" in out
        code, json_out, _ = run(["secrets", "list", "--json", "--api-base", stub.url], capsys)
    assert code == 0
    assert json.loads(json_out) == {"count": 1, "results": [{"id": "s-1", "secret_name": "openai"}]}
    assert SECRET_VALUE not in out + json_out


@pytest.mark.usefixtures("keyed")
def test_credits_prints_the_balance_and_the_minutes_it_buys(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["credits", "--json", "--api-base", sim.url], capsys)
    assert code == 0
    wire = json.loads(out.splitlines()[-1])
    assert set(wire) == {"credits_left"}
    assert Decimal(wire["credits_left"]) == Decimal(str(STARTING_CREDITS))
    code, out, _ = run(["credits", "--api-base", sim.url], capsys)
    assert code == 0
    assert out.strip() == (
        f"{wire['credits_left']} credits left: enough for 123 minutes of LITE "
        "or 61 minutes of FULL sessions"
    )


@pytest.mark.usefixtures("keyed")
@pytest.mark.parametrize("as_json", [False, True])
def test_a_malformed_balance_is_one_line(as_json: bool, capsys: pytest.CaptureFixture[str]) -> None:
    with StubThread({"/v1/users/credits": {"data": {"credits_left": "NaN"}}}) as stub:
        argv = ["credits", "--api-base", stub.url, *(["--json"] if as_json else [])]
        code, out, err = run(argv, capsys)
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("heygen-avatar credits: ProtocolError: credits_left")
