"""``heygen-avatar sessions stop --orphans``: stop the sessions a dead process left open.

The record is the library's own (`OpenSessionRecord`, in a folder of the
test); entries name sessions started on a simulator thread, with the pid of
a process that has ended. The CLI runs in-process (its `main`).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from heygen_models import liveavatar as la

from heygen_core.cli._exit_codes import LIVEAVATAR_KEY_ENV
from heygen_core.cli.main import main
from heygen_core.rest.liveavatar_client import LiveAvatarClient
from heygen_core.session import SANDBOX_AVATAR_ID
from heygen_core.session.open_record import STATE_DIR_ENV as LIBRARY_STATE_DIR_ENV
from heygen_core.session.open_record import OpenSessionEntry, OpenSessionRecord
from heygen_core.simulator import SimulatorConfig, SimulatorThread

KEY = "orphans-test-key"


@pytest.fixture
def sim() -> Iterator[SimulatorThread]:
    with SimulatorThread(SimulatorConfig(api_key=KEY)) as simulator:
        yield simulator


@pytest.fixture
def record(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> OpenSessionRecord:
    monkeypatch.setenv(LIVEAVATAR_KEY_ENV, KEY)
    monkeypatch.setenv(LIBRARY_STATE_DIR_ENV, str(tmp_path / "state"))
    return OpenSessionRecord(tmp_path / "state")


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The pid of a process that has ended."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def start_session(sim: SimulatorThread) -> str:
    async def go() -> str:
        async with LiveAvatarClient(base_url=sim.url, api_key=KEY) as client:
            request = la.LiteSessionTokenRequest(
                mode="LITE", avatar_id=SANDBOX_AVATAR_ID, is_sandbox=True
            )
            token = await client.create_session_token(request)
            await client.start_session(session_token=token.data.session_token)
            return token.data.session_id

    return asyncio.run(go())


def entry(session_id: str, base_url: str, pid: int, api: str = "liveavatar") -> OpenSessionEntry:
    return OpenSessionEntry(api, session_id, base_url, pid, time.time())  # type: ignore[arg-type]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@dataclass
class Orphans:
    """Sessions on the simulator, recorded as a dead process's, and the command that stops them."""

    sim: SimulatorThread
    record: OpenSessionRecord
    dead_pid: int
    capsys: pytest.CaptureFixture[str]

    def start(self, base_url: str | None = None, pid: int | None = None) -> str:
        """Start a session; record it at `base_url` (the simulator's) by `pid` (the dead one)."""
        session_id = start_session(self.sim)
        self.record.add(
            entry(session_id, base_url or self.sim.url, self.dead_pid if pid is None else pid)
        )
        return session_id

    def stop(self) -> tuple[int, str, str]:
        """Run ``sessions stop --orphans`` against the simulator: (exit code, stdout, stderr)."""
        return run(["sessions", "stop", "--orphans", "--api-base", self.sim.url], self.capsys)


@pytest.fixture
def orphans(
    sim: SimulatorThread,
    record: OpenSessionRecord,
    dead_pid: int,
    capsys: pytest.CaptureFixture[str],
) -> Orphans:
    return Orphans(sim, record, dead_pid, capsys)


def test_the_help_names_the_librarys_variable() -> None:
    from heygen_core.cli._admin_sessions import STATE_DIR_ENV

    assert STATE_DIR_ENV == LIBRARY_STATE_DIR_ENV


def test_orphans_of_the_target_api_are_stopped_and_forgotten(
    orphans: Orphans, sim: SimulatorThread, record: OpenSessionRecord
) -> None:
    first = orphans.start()
    second = orphans.start(sim.url + "/")  # the same base, spelled with a slash
    assert sim.open_sessions() == 2

    code, out, err = orphans.stop()
    assert code == 0, err
    assert f"stopped session {first}" in out and f"stopped session {second}" in out
    assert out.splitlines()[-1] == "2 stopped, 0 already ended, 0 failed, 0 skipped"
    assert sim.open_sessions() == 0
    assert record.entries() == []


def test_sessions_of_other_bases_or_apis_and_of_live_processes_are_left_alone(
    orphans: Orphans, sim: SimulatorThread, record: OpenSessionRecord, dead_pid: int
) -> None:
    mine = orphans.start()
    # Its process (pid 1) still runs: not an orphan.
    live = orphans.start(pid=1 if sys.platform != "win32" else dead_pid)
    record.add(entry("elsewhere-1", "https://api.liveavatar.com", dead_pid))
    record.add(entry("streaming-1", sim.url, dead_pid, api="streaming"))

    code, out, err = orphans.stop()
    assert code == 0, err
    assert f"stopped session {mine}" in out
    assert "skipped elsewhere-1: a LiveAvatar session at https://api.liveavatar.com" in out
    assert f"skipped streaming-1: a Streaming API session at {sim.url}" in out
    assert live not in out
    assert out.splitlines()[-1] == "1 stopped, 0 already ended, 0 failed, 2 skipped"
    assert sim.open_sessions() == 1  # the live process's session
    assert {e.session_id for e in record.entries()} == {live, "elsewhere-1", "streaming-1"}


def test_a_failed_stop_keeps_the_entry_and_fails_the_command(
    orphans: Orphans,
    sim: SimulatorThread,
    record: OpenSessionRecord,
    dead_pid: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stuck, ended = orphans.start(), orphans.start()
    record.add(entry("3c90c3cc-0d44-4b50-8888-8dd25736052a", sim.url, dead_pid))  # unknown
    code, _, _ = run(["sessions", "stop", ended, "--api-base", sim.url], capsys)
    assert code == 0
    assert ended not in {e.session_id for e in record.entries()}  # stopped by id: forgotten
    record.add(entry(ended, sim.url, dead_pid))  # as if stopped elsewhere, still recorded
    sim.inject("liveavatar.stop_session", 400)  # the first stop is refused

    code, out, err = orphans.stop()
    assert code == 1
    lines = out.splitlines()
    failed = [line for line in lines if line.startswith("could not stop")]
    assert len(failed) == 1 and "Traceback" not in err
    assert lines[-1].endswith("1 failed, 0 skipped")
    assert "could not be stopped and stay recorded" in err
    assert "heygen-avatar sessions stop --orphans" in err
    left = {e.session_id for e in record.entries()}
    assert len(left) == 1 and left <= {stuck, ended}

    # Run again: the refusal is gone, the last one is stopped (or found ended).
    code, out, err = orphans.stop()
    assert code == 0, err
    assert record.entries() == []
    assert sim.open_sessions() == 0


def test_nothing_recorded_says_so(
    record: OpenSessionRecord, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        ["sessions", "stop", "--orphans", "--api-base", "http://127.0.0.1:9"], capsys
    )
    assert code == 0
    assert out.strip() == f"no orphaned sessions in {record.directory}"


def test_an_id_and_orphans_together_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["sessions", "stop", "3c90c3cc-0d44-4b50-8888-8dd25736052a", "--orphans"])
    assert stopped.value.code == 2
    assert "not allowed with" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        main(["sessions", "stop"])
    assert stopped.value.code == 2
    assert "one of the arguments ID --orphans is required" in capsys.readouterr().err
