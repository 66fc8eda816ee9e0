"""The on-disk record of open sessions: what `sessions stop --orphans` acts on."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from heygen_core.session import OpenSessionEntry, OpenSessionRecord

pytestmark = pytest.mark.one_profile


def entry(session_id: str, pid: int | None = None, api: str = "liveavatar") -> OpenSessionEntry:
    return OpenSessionEntry(
        api=api,  # type: ignore[arg-type]
        session_id=session_id,
        base_url="https://api.liveavatar.com",
        pid=os.getpid() if pid is None else pid,
        created_at=time.time(),
    )


def dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


def test_add_list_remove(tmp_path: Path) -> None:
    record = OpenSessionRecord(tmp_path)
    assert record.directory == tmp_path
    assert record.entries() == []  # nothing written yet: no folder either
    first, second = entry("a-1"), entry("b-2", api="streaming")
    record.add(first)
    record.add(second)
    assert record.entries() == [first, second]
    assert sorted(p.name for p in (tmp_path / "open-sessions").iterdir()) == [
        "liveavatar-a-1.json",
        "streaming-b-2.json",
    ]
    record.remove("liveavatar", "a-1")
    record.remove("liveavatar", "a-1")  # missing is fine
    assert record.entries() == [second]


def test_orphans_are_the_entries_whose_process_is_gone(tmp_path: Path) -> None:
    record = OpenSessionRecord(tmp_path)
    mine, gone = entry("mine"), entry("gone", pid=dead_pid())
    record.add(mine)
    record.add(gone)
    assert record.orphans() == [gone]


def test_corrupt_entries_are_skipped_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    record = OpenSessionRecord(tmp_path)
    good = entry("good")
    record.add(good)
    folder = tmp_path / "open-sessions"
    (folder / "liveavatar-broken.json").write_text("{not json")
    (folder / "liveavatar-partial.json").write_text(json.dumps({"api": "liveavatar"}))
    (folder / "other-x.json").write_text(
        json.dumps({**json.loads((folder / "liveavatar-good.json").read_text()), "api": "other"})
    )
    with caplog.at_level(logging.WARNING, logger="heygen_core.session"):
        assert record.entries() == [good]
    assert len([r for r in caplog.records if "unreadable open-session entry" in r.message]) == 3


def test_the_default_directory_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEYGEN_CORE_STATE_DIR", str(tmp_path / "state"))
    assert OpenSessionRecord().directory == tmp_path / "state"
    monkeypatch.delenv("HEYGEN_CORE_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert OpenSessionRecord().directory == tmp_path / "xdg" / "heygen-core"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert OpenSessionRecord().directory == tmp_path / "home" / ".local" / "state" / "heygen-core"


def test_tests_never_write_into_the_real_home() -> None:
    # tests/conftest.py points the state directory at a directory of this run.
    state = Path(os.environ["HEYGEN_CORE_STATE_DIR"])
    assert OpenSessionRecord().directory == state
    assert not state.is_relative_to(Path.home() / ".local")


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path: Path) -> None:
    record = OpenSessionRecord(tmp_path)
    for n in range(20):
        record.add(entry("same", pid=n + 1))
    (only,) = record.entries()
    assert only.pid == 20
    assert [p.name for p in (tmp_path / "open-sessions").iterdir()] == ["liveavatar-same.json"]
