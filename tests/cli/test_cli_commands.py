"""The ``heygen-avatar`` commands a user runs by hand: help, admin commands, failures.

Admin commands run in-process against a simulator thread (the CLI's own
`main`, real HTTP on loopback); the no-traceback checks run the installed
console script, since what matters there is what a terminal shows.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from heygen_models import liveavatar as la

from heygen_core.cli._exit_codes import LIVEAVATAR_KEY_ENV
from heygen_core.cli.main import build_parser, main
from heygen_core.errors import TransportError
from heygen_core.rest.liveavatar_client import API_KEY_ENV, LiveAvatarClient
from heygen_core.session import SANDBOX_AVATAR_ID
from heygen_core.simulator import SimulatorConfig, SimulatorThread
from tests.support.interruptible import interrupt_after

KEY = "cli-test-key"
# A key that must never be printed, whatever fails.
CANARY = "sk-canary-0f9e8d7c6b5a4f3e2d1c"
SCRIPT = Path(sys.executable).parent / "heygen-avatar"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorThread]:
    with SimulatorThread(SimulatorConfig(api_key=KEY, connect_delay_seconds=0.1)) as simulator:
        yield simulator


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LIVEAVATAR_KEY_ENV, KEY)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def start_session(sim: SimulatorThread) -> str:
    """Start a sandbox session through the REST client; return its id."""

    async def go() -> str:
        async with LiveAvatarClient(base_url=sim.url, api_key=KEY) as client:
            request = la.LiteSessionTokenRequest(
                mode="LITE", avatar_id=SANDBOX_AVATAR_ID, is_sandbox=True
            )
            token = await client.create_session_token(request)
            await client.start_session(session_token=token.data.session_token)
            return token.data.session_id

    return asyncio.run(go())


def all_parsers(parser: argparse.ArgumentParser, path: str = "") -> Iterator[tuple[str, object]]:
    yield path or "heygen-avatar", parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from all_parsers(sub, f"{path} {name}".strip())


def test_the_key_variable_names_agree() -> None:
    assert LIVEAVATAR_KEY_ENV == API_KEY_ENV


def test_every_command_has_help_with_examples_and_exit_codes() -> None:
    parsers = dict(all_parsers(build_parser()))
    expected = {
        "heygen-avatar",
        "decode",
        "simulator",
        "say",
        "chat",
        "sessions",
        "sessions list",
        "sessions stop",
        "avatars",
        "avatars list",
    }
    assert expected <= set(parsers)
    for name, parser in parsers.items():
        assert isinstance(parser, argparse.ArgumentParser)
        text = parser.format_help()
        assert "example" in text, f"{name} --help has no example"
        assert "exit codes" in text, f"{name} --help does not document its exit codes"


def test_help_exits_0_and_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["sessions", "list", "--help"])
    assert stopped.value.code == 0
    assert "--historic" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.startswith("heygen-avatar 0.")


@pytest.mark.usefixtures("keyed")
def test_sessions_list_shows_active_then_historic_with_end_reason(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    session_id = start_session(sim)
    code, out, _ = run(["sessions", "list", "--api-base", sim.url], capsys)
    assert code == 0
    assert session_id in out
    assert "active session" in out.splitlines()[-1]

    code, out, _ = run(["sessions", "stop", session_id, "--api-base", sim.url], capsys)
    assert code == 0
    assert f"stopped session {session_id}" in out

    code, out, _ = run(["sessions", "list", "--json", "--api-base", sim.url], capsys)
    assert code == 0
    active = json.loads(out.splitlines()[-1])
    assert session_id not in [entry["id"] for entry in active["results"]]

    code, out, _ = run(["sessions", "list", "--historic", "--api-base", sim.url], capsys)
    assert code == 0
    row = next(line for line in out.splitlines() if session_id in line)
    assert row.split()[-1] == "USER_CLOSED"


@pytest.mark.usefixtures("keyed")
def test_sessions_list_json_counts_every_page(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = {start_session(sim) for _ in range(2)}
    code, out, _ = run(["sessions", "list", "--json", "--api-base", sim.url], capsys)
    assert code == 0
    listed = json.loads(out.splitlines()[-1])
    assert ids <= {entry["id"] for entry in listed["results"]}
    assert listed["count"] == len(listed["results"])
    for session_id in ids:
        assert run(["sessions", "stop", session_id, "--api-base", sim.url], capsys)[0] == 0


@pytest.mark.usefixtures("keyed")
def test_avatars_list_public_includes_the_sandbox_avatar(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["avatars", "list", "--public", "--api-base", sim.url], capsys)
    assert code == 0
    assert SANDBOX_AVATAR_ID in out
    code, out, _ = run(["avatars", "list", "--public", "--json", "--api-base", sim.url], capsys)
    listed = json.loads(out.splitlines()[-1])
    assert SANDBOX_AVATAR_ID in [avatar["id"] for avatar in listed["results"]]
    code, out, _ = run(["avatars", "list", "--json", "--api-base", sim.url], capsys)
    assert code == 0
    own = json.loads(out.splitlines()[-1])
    # The account's own avatars (the simulator gives each account some), not the public ones.
    assert own["count"] == len(own["results"]) > 0
    assert SANDBOX_AVATAR_ID not in [avatar["id"] for avatar in own["results"]]


def test_admin_commands_need_a_key_or_an_api_base(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(LIVEAVATAR_KEY_ENV, raising=False)
    code, _, err = run(["sessions", "list"], capsys)
    assert code == 2
    assert LIVEAVATAR_KEY_ENV in err and "--api-base" in err


def test_stopping_a_malformed_id_names_the_field(
    sim: SimulatorThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(LIVEAVATAR_KEY_ENV, KEY)
    stops_before = sim.requests_by_operation["stop_session"]  # the simulator is shared
    code, _, err = run(["sessions", "stop", "not-a-uuid", "--api-base", sim.url], capsys)
    assert code == 1
    assert "InvalidRequestError: nothing was sent" in err
    assert "session_id: expected a UUID such as" in err
    assert sim.requests_by_operation["stop_session"] == stops_before  # refused before sending


def script(*args: str, key: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != LIVEAVATAR_KEY_ENV}
    if key is not None:
        env[LIVEAVATAR_KEY_ENV] = key
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ("sessions", "list"),
        ("avatars", "list"),
        ("say", "{wav}"),
    ],
)
def test_a_refused_key_is_one_line_without_traceback_or_key(
    sim: SimulatorThread, args: tuple[str, ...], tmp_path: Path
) -> None:
    from heygen_core.samples import speech_sample

    argv = [arg.replace("{wav}", str(speech_sample())) for arg in args]
    done = script(*argv, "--api-base", sim.url, key=CANARY)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "AuthenticationError" in done.stderr
    assert CANARY not in done.stderr + done.stdout
    assert sim.open_sessions() == 0


@pytest.mark.slow
@pytest.mark.parametrize("args", [("sessions", "list"), ("say", "{wav}")])
def test_an_unreachable_service_is_one_line_without_traceback(args: tuple[str, ...]) -> None:
    from heygen_core.samples import speech_sample

    argv = [arg.replace("{wav}", str(speech_sample())) for arg in args]
    # Port 9 (discard) on loopback: nothing listens there, the connection is refused.
    done = script(*argv, "--api-base", "http://127.0.0.1:9", key=CANARY)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "TransportError" in done.stderr and "127.0.0.1:9" in done.stderr
    assert CANARY not in done.stderr + done.stdout


@pytest.mark.slow
def test_missing_and_unreadable_files_are_one_line(tmp_path: Path) -> None:
    done = script("say", str(tmp_path / "nope.wav"), key=None)
    assert done.returncode == 1
    assert done.stderr.strip() == f"heygen-avatar say: no such file: {tmp_path / 'nope.wav'}"
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("these are not samples")
    done = script("say", str(not_audio), key=None)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "AudioFormatError" in done.stderr and "supported" in done.stderr


@pytest.mark.slow
def test_bad_usage_exits_2() -> None:
    done = script("sessions", key=None)
    assert done.returncode == 2
    assert "usage:" in done.stderr


def test_progress_draws_bars_on_a_terminal_and_plain_lines_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from heygen_core.cli import _progress as live_display
    from heygen_core.cli._progress import SpeakProgress

    # However slow the machine, the updates below fall within one interval.
    monkeypatch.setattr(live_display, "_PLAIN_PROGRESS_INTERVAL", 3600.0)

    terminal = io.StringIO()
    with SpeakProgress(terminal, 2.0, plain=False) as progress:
        progress.message("  event: [agent.speak_started]")
        progress.update(1.0, 0.5)
        progress.update(2.0, 2.0)
    drawn = terminal.getvalue()
    assert "event: [agent.speak_started]" in drawn  # brackets are text, not markup
    assert "sent" in drawn and "played" in drawn and "2.00 / 2.00 s" in drawn

    piped = io.StringIO()
    with SpeakProgress(piped, 2.0) as progress:
        assert progress.plain  # a StringIO is not a terminal
        progress.update(1.0, 0.5)
        progress.update(1.5, 0.6)  # within the interval of the last line: not printed
        progress.update(2.0, 2.0)  # printed on exit, the final state
    lines = piped.getvalue().splitlines()
    assert lines == [
        "  progress: sent 1.00 / 2.00 s, played 0.50 / 2.00 s",
        "  progress: sent 2.00 / 2.00 s, played 2.00 / 2.00 s",
    ]


async def test_the_service_target_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    from heygen_core.service_target import live_avatar_target

    monkeypatch.setenv(LIVEAVATAR_KEY_ENV, CANARY)
    async with live_avatar_target("http://127.0.0.1:1") as named:
        assert named == ("http://127.0.0.1:1", None, "http://127.0.0.1:1")
    async with live_avatar_target() as real:
        # The schema's server; the key stays in the environment, not in the target.
        assert real.base_url == "https://api.liveavatar.com"
        assert real.api_key is None
    monkeypatch.delenv(LIVEAVATAR_KEY_ENV)
    async with live_avatar_target() as local:
        assert local.label == "simulator"
        async with LiveAvatarClient(base_url=local.base_url, api_key=local.api_key) as client:
            public = await client.list_public_avatars(la.ListPublicAvatarsQuery())
            assert SANDBOX_AVATAR_ID in [avatar.id for avatar in public.data.results]
    with pytest.raises(TransportError):  # the simulator was stopped with the block
        async with LiveAvatarClient(base_url=local.base_url, api_key="k") as client:
            await client.list_public_avatars(la.ListPublicAvatarsQuery())


@pytest.mark.slow
def test_ctrl_c_during_chat_stops_the_session_and_says_so(sim: SimulatorThread) -> None:
    def one_session_open() -> None:
        assert sim.open_sessions() == 1

    code, err = interrupt_after(
        "[connected",
        ["chat", "--mode", "full", "--api-base", sim.url],
        {**os.environ, LIVEAVATAR_KEY_ENV: KEY},
        watch="stdout",
        before=one_session_open,
    )
    assert code == 130, err
    assert "Traceback" not in err
    assert "interrupted; the session was stopped" in err
    assert sim.open_sessions() == 0
