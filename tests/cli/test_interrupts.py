"""Ctrl-C in ``say`` and ``chat``, as a user presses it: exit 130 at once, never a traceback.

Each test runs the command in a child process that SIGINT really reaches
(`tests.support.interruptible`), against a simulator thread on loopback, and
reads what the terminal would show.
"""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest

from heygen_core.cli._exit_codes import LIVEAVATAR_KEY_ENV
from heygen_core.simulator import SimulatorConfig, SimulatorThread
from tests.support.interruptible import heygen_avatar

KEY = "interrupt-test-key"
SPEECH = Path(__file__).resolve().parents[2] / "heygen_core" / "data" / "hello.wav"

pytestmark = pytest.mark.slow


@pytest.fixture
def sim() -> Iterator[SimulatorThread]:
    # One per test: faults injected into one must not reach the next.
    with SimulatorThread(SimulatorConfig(api_key=KEY, connect_delay_seconds=0.1)) as simulator:
        yield simulator


def env_for(state_dir: Path) -> dict[str, str]:
    # The open-session record of each test in its own folder.
    return {**os.environ, LIVEAVATAR_KEY_ENV: KEY, "HEYGEN_CORE_STATE_DIR": str(state_dir)}


def run_cli(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``heygen-avatar`` to its end (stdin empty); its output captured."""
    return subprocess.run(
        heygen_avatar(*args),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env_for(state_dir),
        timeout=30,
        check=False,
    )


def wait_for_line(stream: IO[str], marker: str) -> None:
    for line in stream:
        if marker in line:
            return
    raise AssertionError(f"{marker!r} never appeared")


@contextmanager
def connected_chat(
    sim: SimulatorThread, state_dir: Path, stdin: int = subprocess.PIPE
) -> Iterator[subprocess.Popen[str]]:
    """``heygen-avatar chat --mode full`` on `sim`, yielded once it is connected.

    A stdin pipe is left open while the test runs (EOF alone would end the
    chat) and closed after; a process the test did not see exit is killed.
    """
    proc = subprocess.Popen(
        heygen_avatar("chat", "--mode", "full", "--api-base", sim.url),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(state_dir),
    )
    try:
        assert proc.stdout is not None
        wait_for_line(proc.stdout, "[connected")
        yield proc
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def press_ctrl_c(proc: subprocess.Popen[str], times: int, gap: float = 0.05) -> float:
    """Send SIGINT `times` times, `gap` apart; return when the first was sent."""
    first = time.monotonic()
    for press in range(times):
        if press:
            time.sleep(gap)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    return first


def finish(proc: subprocess.Popen[str], within: float) -> str:
    """Wait for `proc` to exit within `within` seconds (killing it if not); return stderr.

    Its stdin is left as it is: `communicate` would close a pipe, and the
    EOF would end a chat that Ctrl-C alone must end.
    """
    assert proc.stderr is not None
    try:
        proc.wait(timeout=within)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        err = proc.stderr.read()
        raise AssertionError(f"still running {within} s after Ctrl-C; stderr:\n{err}") from None
    return proc.stderr.read()


@pytest.mark.parametrize("presses", [1, 2, 3])
def test_chat_exits_at_once_on_ctrl_c_while_stdin_stays_open(
    sim: SimulatorThread, tmp_path: Path, presses: int
) -> None:
    # A pipe nobody closes: the stdin reader used to keep the process alive
    # until EOF, and a third press printed a traceback from its thread.
    with connected_chat(sim, tmp_path) as proc:
        assert sim.open_sessions() == 1
        first = press_ctrl_c(proc, presses)
        err = finish(proc, within=8)
        elapsed = time.monotonic() - first
    assert proc.returncode == 130, err
    assert elapsed < 5, f"took {elapsed:.1f} s to exit"
    assert "Traceback" not in err and "Exception ignored" not in err
    assert "interrupted; the session was stopped" in err
    assert sim.open_sessions() == 0


def test_chat_on_a_terminal_exits_at_once_on_ctrl_c(sim: SimulatorThread, tmp_path: Path) -> None:
    # stdin a terminal (a pty) that never sends a line: the case of a user
    # at the prompt pressing Ctrl-C.
    controller, terminal = pty.openpty()
    try:
        with connected_chat(sim, tmp_path, stdin=terminal) as proc:
            first = press_ctrl_c(proc, 2)
            err = finish(proc, within=8)
            elapsed = time.monotonic() - first
    finally:
        os.close(terminal)
        os.close(controller)
    assert proc.returncode == 130, err
    assert elapsed < 5, f"took {elapsed:.1f} s to exit"
    assert "Traceback" not in err
    assert sim.open_sessions() == 0


def test_repeated_ctrl_c_while_the_stop_is_retried_still_stops_the_session(
    sim: SimulatorThread, tmp_path: Path
) -> None:
    # The stop answers 503 twice: it is retried with backoff, and the
    # further presses land in the middle of that.
    sim.inject("stop_session", 503, 503)
    with connected_chat(sim, tmp_path) as proc:
        press_ctrl_c(proc, 1)
        time.sleep(0.1)  # into the stop and its retries
        press_ctrl_c(proc, 3, gap=0.1)
        err = finish(proc, within=15)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "still stopping the session" in err
    assert "interrupted; the session was stopped" in err
    assert sim.pending_faults("stop_session") == 0
    assert sim.open_sessions() == 0


def test_a_session_that_could_not_be_stopped_points_to_sessions_stop_orphans(
    sim: SimulatorThread, tmp_path: Path
) -> None:
    sim.inject("stop_session", 400)  # refused, not retried: the session stays open
    with connected_chat(sim, tmp_path) as proc:
        press_ctrl_c(proc, 1)
        err = finish(proc, within=10)
    assert proc.returncode == 130, err
    assert "could not be stopped" in err
    assert "`heygen-avatar sessions stop --orphans`" in err
    assert sim.open_sessions() == 1

    # What the line says to run stops it: the record names the session, and
    # the process that opened it is gone.
    done = run_cli(tmp_path, "sessions", "stop", "--orphans", "--api-base", sim.url)
    assert done.returncode == 0, done.stderr
    assert "1 stopped" in done.stdout
    assert sim.open_sessions() == 0


def test_ctrl_c_while_the_token_request_is_in_flight_does_not_claim_nothing_was_created(
    sim: SimulatorThread, tmp_path: Path
) -> None:
    # The token is issued (it counts against the key's limit) but its answer
    # comes 1.5 s late; Ctrl-C comes before it.
    sim.inject("create_session_token", ("delay", 1.5))
    proc = subprocess.Popen(
        heygen_avatar("say", str(SPEECH), "--api-base", sim.url),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(tmp_path),
    )
    assert proc.stderr is not None
    wait_for_line(proc.stderr, "connecting to")
    deadline = time.monotonic() + 5
    while sim.requests_by_operation["create_session_token"] == 0:
        assert time.monotonic() < deadline, "the token request never came"
        time.sleep(0.01)
    press_ctrl_c(proc, 1)
    err = finish(proc, within=20)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "no session was created" not in err
    # Either the late answer named the session and it was stopped, or the
    # line says one may exist and where to look.
    if sim.open_sessions() == 0:
        assert "interrupted; the session was stopped" in err
    else:
        assert "may have been created" in err and "heygen-avatar sessions list" in err


def test_a_timeout_of_the_token_request_says_what_became_of_the_session(
    sim: SimulatorThread, tmp_path: Path
) -> None:
    sim.inject("create_session_token", ("delay", 2.0))
    done = run_cli(tmp_path, "say", str(SPEECH), "--api-base", sim.url, "--timeout", "0.5")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "TransportError" in done.stderr
    assert "no answer within 0.5 s" in done.stderr and "--timeout" in done.stderr
    assert "raise timeout=" not in done.stderr
    # The request reached the service: the user is told about the session.
    if sim.open_sessions() == 0:
        assert "the session was stopped" in done.stderr
    else:
        assert "may have been created" in done.stderr


def test_a_token_answer_that_never_comes_is_reported_as_a_session_that_may_exist(
    sim: SimulatorThread,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The token is issued, but its answer comes after the library stopped
    # waiting for it (its grace shortened here from 10 s): nobody can name
    # the session, and the user must not read "no session was created".
    from heygen_core.cli.main import main
    from heygen_core.session import _service_lifecycle

    monkeypatch.setattr(_service_lifecycle, "_CREATE_GRACE", 0.3)
    monkeypatch.setenv(LIVEAVATAR_KEY_ENV, KEY)
    monkeypatch.setenv("HEYGEN_CORE_STATE_DIR", str(tmp_path / "state"))
    sim.inject("create_session_token", ("delay", 3.0))
    code = main(["say", str(SPEECH), "--api-base", sim.url, "--timeout", "0.3"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "no session was created" not in err
    assert (
        "heygen-avatar say: a session may have been created and could not be confirmed "
        "stopped; check `heygen-avatar sessions list`"
    ) in err
    assert sim.requests_by_operation["create_session_token"] == 1
