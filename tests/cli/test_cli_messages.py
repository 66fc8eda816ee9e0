"""What the commands say when something is wrong: the CLI's own flags and commands, said once.

The library's messages name its arguments (``api_key=``, ``timeout=``,
``base_url``) and operations (``list_avatars``); a user of the command line
knows the environment variable, ``--timeout``, ``--api-base`` and the
commands. Run in-process against simulator threads and small aiohttp
servers on loopback, except the help examples, which run as written.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from heygen_models import liveavatar as la

from heygen_core.cli._exit_codes import LIVEAVATAR_KEY_ENV
from heygen_core.cli.main import build_parser, main
from heygen_core.rest.liveavatar_client import LiveAvatarClient
from heygen_core.session import SANDBOX_AVATAR_ID
from heygen_core.simulator import SimulatorConfig, SimulatorThread

KEY = "messages-test-key"
SCRIPT = Path(sys.executable).parent / "heygen-avatar"
SAMPLE = Path(__file__).resolve().parents[2] / "heygen_core" / "data" / "hello.wav"

# Library words that have no meaning on the command line.
LIBRARY_TERMS = ("api_key=", "timeout=", "base_url", "session_token=")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_cli_terms(err: str) -> None:
    for term in LIBRARY_TERMS:
        assert term not in err, f"{term!r} in {err!r}"


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(LIVEAVATAR_KEY_ENV, KEY)
    monkeypatch.setenv("HEYGEN_CORE_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture
def sim() -> Iterator[SimulatorThread]:
    with SimulatorThread(SimulatorConfig(api_key=KEY, connect_delay_seconds=0.05)) as simulator:
        yield simulator


# -- --api-base -----------------------------------------------------------------------------


@pytest.mark.parametrize("keyed_env", [True, False], ids=["key", "no-key"])
@pytest.mark.parametrize("command", [["say", str(SAMPLE)], ["sessions", "list"]])
def test_an_api_base_without_scheme_says_add_http(
    command: list[str],
    keyed_env: bool,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if keyed_env:
        monkeypatch.setenv(LIVEAVATAR_KEY_ENV, KEY)
    else:
        monkeypatch.delenv(LIVEAVATAR_KEY_ENV, raising=False)
    code, _, err = run([*command, "--api-base", "127.0.0.1:8765"], capsys)
    assert code == 2, err  # a bad argument, refused before any call
    assert err.count("\n") == 1
    assert "--api-base '127.0.0.1:8765'" in err
    assert "add http://" in err and "http://127.0.0.1:8765" in err
    assert_cli_terms(err)


@pytest.mark.usefixtures("keyed")
@pytest.mark.parametrize("command", [["say", str(SAMPLE)], ["sessions", "list"]])
def test_an_api_base_ending_in_v1_says_to_leave_it_out(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run([*command, "--api-base", "http://127.0.0.1:8765/v1"], capsys)
    assert code == 2, err
    assert "--api-base 'http://127.0.0.1:8765/v1'" in err
    assert "without /v1" in err and "http://127.0.0.1:8765)" in err
    assert_cli_terms(err)


# -- credentials and ids ------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [["avatars", "list"], ["sessions", "list"], ["say", str(SAMPLE)]]
)
def test_a_missing_key_names_the_variable_not_the_argument_or_the_method(
    command: list[str],
    sim: SimulatorThread,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv(LIVEAVATAR_KEY_ENV, raising=False)
    code, _, err = run([*command, "--api-base", sim.url], capsys)
    assert code == 1, err
    assert f"CredentialsError: no API key: set {LIVEAVATAR_KEY_ENV}" in err
    assert_cli_terms(err)
    assert "list_avatars" not in err and "list_sessions" not in err
    assert "create_session_token" not in err


@pytest.mark.usefixtures("keyed")
def test_a_malformed_id_names_the_commands_that_give_ids(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["sessions", "stop", "not-a-uuid", "--api-base", sim.url], capsys)
    assert code == 1
    assert "InvalidRequestError: nothing was sent: session_id: expected a UUID" in err
    assert "`heygen-avatar sessions list`" in err
    assert "stop_session" not in err and "list_sessions" not in err


@pytest.mark.usefixtures("keyed")
def test_the_session_limit_message_says_what_to_do_once(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    async def fill_the_limit() -> None:
        async with LiveAvatarClient(base_url=sim.url, api_key=KEY) as client:
            for _ in range(3):
                request = la.LiteSessionTokenRequest(
                    mode="LITE", avatar_id=SANDBOX_AVATAR_ID, is_sandbox=True
                )
                token = await client.create_session_token(request)
                await client.start_session(session_token=token.data.session_token)

    asyncio.run(fill_the_limit())
    code, _, err = run(["say", str(SAMPLE), "--api-base", sim.url], capsys)
    assert code == 1, err
    (line,) = [line for line in err.splitlines() if "SessionLimitError" in line]
    # The service's advice and the library's hint used to follow each other.
    assert line.lower().count("wait for one to end") == 1
    assert line.lower().count("stop a session") + line.count("stop one") == 1
    assert "HTTP 409" in line and "code 409" not in line
    assert "`heygen-avatar sessions list`" in line and "`heygen-avatar sessions stop ID`" in line
    assert "client's session listing" not in line


# -- help ---------------------------------------------------------------------------------


def test_sessions_stop_help_describes_stopping_not_listing() -> None:
    text = dict(all_help_texts())["sessions stop"]
    assert "lists an empty" not in text and "never lists" not in text
    assert "--orphans" in text and "--timeout" in text


def examples_of(text: str) -> list[str]:
    section = text.split("example", 1)[1].split("\n", 1)[1]
    lines: list[str] = []
    pending = ""
    for raw in section.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = pending + line
        if line.endswith("\\"):
            pending = line[:-1]
            continue
        pending = ""
        lines.append(line.split("  #")[0].strip())
    return lines


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def all_help_texts() -> Iterator[tuple[str, str]]:
    def walk(parser: object, path: str) -> Iterator[tuple[str, str]]:
        import argparse

        assert isinstance(parser, argparse.ArgumentParser)
        yield path, parser.format_help()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(sub, f"{path} {name}".strip())

    yield from walk(build_parser(), "")


def api_base_examples() -> list[tuple[str, str]]:
    found = []
    for command, text in all_help_texts():
        for line in examples_of(text):
            if "--api-base http://127.0.0.1:8765" in line and "heygen-avatar simulator" not in line:
                found.append((command or "heygen-avatar", line))
    return found


@pytest.mark.slow
def test_help_examples_against_a_simulator_run_as_written(tmp_path: Path) -> None:
    # Each `--api-base http://127.0.0.1:8765` example, with a simulator on
    # that address (as `heygen-avatar simulator --port 8765` starts one) and
    # no key in the environment beyond what the example line sets itself.
    examples = api_base_examples()
    assert {"say", "sessions list"} <= {command for command, _ in examples}
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != LIVEAVATAR_KEY_ENV}
    env["HEYGEN_CORE_STATE_DIR"] = str(tmp_path / "state")
    with SimulatorThread(SimulatorConfig(connect_delay_seconds=0.05), port=port):
        for command, line in examples:
            words = shlex.split(line.replace("8765", str(port)))
            assignments = {}
            while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
                name, _, value = words.pop(0).partition("=")
                assignments[name] = value
            assert words[0] == "heygen-avatar", line
            words = [str(SAMPLE) if word == "speech.wav" else word for word in words]
            done = subprocess.run(
                [str(SCRIPT), *words[1:]],
                capture_output=True,
                text=True,
                env={**env, **assignments},
                timeout=60,
                check=False,
                cwd=tmp_path,
            )
            assert done.returncode == 0, f"{command} --help: {line}\n{done.stderr}"


# -- --timeout and retries ------------------------------------------------------------------


class SilentServer:
    """An aiohttp server on loopback that answers `answers` first, then never answers."""

    def __init__(self, *answers: int) -> None:
        self.answers = list(answers)
        self.requests = 0
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        if self.answers:
            return web.json_response({"code": 1, "message": "busy"}, status=self.answers.pop(0))
        assert self._stop is not None
        await self._stop.wait()  # no answer while the test runs
        return web.Response(status=503)

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())

    def __enter__(self) -> SilentServer:
        self._thread.start()
        assert self._ready.wait(5)
        return self

    def __exit__(self, *exc_info: object) -> None:
        stop = self._stop
        assert stop is not None
        self._loop.call_soon_threadsafe(stop.set)
        self._thread.join(5)


@pytest.mark.usefixtures("keyed")
@pytest.mark.parametrize(
    "command", [["sessions", "list"], ["avatars", "list"], ["sessions", "stop", "--orphans"]]
)
def test_an_unresponsive_service_ends_at_the_timeout_and_says_so_truly(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with SilentServer() as server:
        started = time.monotonic()
        code, _, err = run([*command, "--api-base", server.url, "--timeout", "2"], capsys)
        elapsed = time.monotonic() - started
    if command[-1] == "--orphans":
        # Nothing recorded: nothing to ask the service, so no wait at all.
        assert code == 0 and elapsed < 2
        return
    assert code == 1, err
    assert 1.9 < elapsed < 3.5, f"took {elapsed:.1f} s"
    assert "within 2 s" in err and "--timeout" in err
    assert "30 s" not in err
    assert_cli_terms(err)


@pytest.mark.usefixtures("keyed")
def test_each_retry_is_announced_and_the_deadline_holds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with SilentServer(503) as server:  # a 503 (retried), then silence
        started = time.monotonic()
        code, _, err = run(["sessions", "list", "--api-base", server.url, "--timeout", "2"], capsys)
        elapsed = time.monotonic() - started
        requests = server.requests
    assert code == 1, err
    assert requests >= 2
    retries = [line for line in err.splitlines() if "retry" in line]
    assert len(retries) >= 1, err
    assert all(line.startswith("heygen-avatar sessions list: ") for line in retries)
    assert "GET /v1/sessions" in retries[0] and "ServerError" in retries[0]
    assert 1.9 < elapsed < 3.5, f"took {elapsed:.1f} s"
    assert "within 2 s" in err.splitlines()[-1]


@pytest.mark.parametrize(
    ("library", "cli"),
    [
        (
            "list_avatars needs an API key (pass api_key= or set HEYGEN_LIVE_AVATAR_API_KEY)",
            "`heygen-avatar avatars list` needs an API key (set HEYGEN_LIVE_AVATAR_API_KEY)",
        ),
        (
            "GET /v1/sessions: no answer within 3 s (raise timeout= if the service is slow)",
            "GET /v1/sessions: no answer within 3 s "
            "(pass a larger --timeout SECONDS to wait longer)",
        ),
        (
            "GET /v1/sessions: the answer is larger than the 8 MiB cap, so it was not read; "
            "check base_url points at the API, or raise max_response_bytes= if the service "
            "really sends this much",
            "GET /v1/sessions: the answer is larger than the 8 MiB cap, so it was not read; "
            "check --api-base points at the API",
        ),
    ],
)
def test_library_words_become_the_command_lines(library: str, cli: str) -> None:
    from heygen_core.cli._exit_codes import cli_terms

    assert cli_terms(library) == cli
