"""A record, on disk, of the sessions this machine opened and has not seen stopped.

A process that crashes, or is killed, before it stops its sessions leaves
them running (and billing) until their idle timeout. `AvatarSession` writes
an `OpenSessionEntry` as soon as it knows a session's id and removes it once
the service confirmed the stop, so what is left after the process is gone
names the sessions to stop: ``heygen-avatar sessions stop --orphans`` reads
`OpenSessionRecord.orphans` and stops them with the API key.

One small JSON file per session (``<directory>/open-sessions/<api>-<id>.json``)
keeps processes from racing on a shared file; each is written atomically
(a temporary file, then `os.replace`). The record holds no secret: no API
key and no session token, only what names a session and where it lives.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, get_args

logger = logging.getLogger("heygen_core.session")

ApiName = Literal["liveavatar", "streaming"]
"""The API a recorded session belongs to."""

STATE_DIR_ENV = "HEYGEN_CORE_STATE_DIR"
"""Environment variable naming the directory of heygen-core's state (the record lives in it)."""

_SUBDIR = "open-sessions"
# Session ids are uuids or hex; anything else is kept out of file names.
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class OpenSessionEntry:
    """One session a process opened and has not seen stopped.

    Attributes:
        api: Which API the session belongs to: ``liveavatar`` or ``streaming``.
        session_id: The service's session id.
        base_url: The REST base the session was created on (no credentials).
        pid: The process that opened it.
        created_at: When it was recorded (`time.time()`).
    """

    api: ApiName
    session_id: str
    base_url: str
    pid: int
    created_at: float


class OpenSessionRecord:
    """The open sessions recorded in one directory (see the module docstring).

    Args:
        directory: Where the record lives; default: ``$HEYGEN_CORE_STATE_DIR``,
            else ``$XDG_STATE_HOME/heygen-core``, else
            ``~/.local/state/heygen-core``. Entries are files under its
            ``open-sessions`` folder, created on the first `add`.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory if directory is not None else default_state_dir()

    def __repr__(self) -> str:
        return f"OpenSessionRecord({str(self._directory)!r})"

    @property
    def directory(self) -> Path:
        """The state directory this record lives in."""
        return self._directory

    def _path(self, api: str, session_id: str) -> Path:
        name = _UNSAFE.sub("_", f"{api}-{session_id}")
        return self._directory / _SUBDIR / f"{name}.json"

    def add(self, entry: OpenSessionEntry) -> None:
        """Record `entry` (replacing any entry of the same session).

        Raises:
            OSError: The file could not be written.
        """
        path = self._path(entry.api, entry.session_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole to a temporary file first: a reader never sees half an entry.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(asdict(entry), file)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def remove(self, api: str, session_id: str) -> None:
        """Forget a session (nothing happens when it is not recorded).

        Raises:
            OSError: The file exists but could not be removed.
        """
        self._path(api, session_id).unlink(missing_ok=True)

    def entries(self) -> list[OpenSessionEntry]:
        """Every recorded session, oldest first; unreadable files are skipped (logged)."""
        folder = self._directory / _SUBDIR
        try:
            paths = sorted(folder.glob("*.json"))
        except OSError as exc:
            logger.warning("could not read the open-session record %s (%s)", folder, exc)
            return []
        found: list[OpenSessionEntry] = []
        for path in paths:
            entry = _read(path)
            if entry is not None:
                found.append(entry)
        found.sort(key=lambda e: e.created_at)
        return found

    def orphans(self) -> list[OpenSessionEntry]:
        """Recorded sessions whose process is no longer running: nobody will stop them.

        A process is looked up by its pid (``os.kill(pid, 0)``): a pid reused
        by a new process hides its orphans until that process ends too.
        """
        return [entry for entry in self.entries() if not _running(entry.pid)]


def default_state_dir() -> Path:
    """heygen-core's state directory: ``$HEYGEN_CORE_STATE_DIR``, else the XDG state home's."""
    explicit = os.environ.get(STATE_DIR_ENV)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_STATE_HOME")
    if xdg:
        return Path(xdg) / "heygen-core"
    return Path.home() / ".local" / "state" / "heygen-core"


def _read(path: Path) -> OpenSessionEntry | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        api, session_id, base_url = data["api"], data["session_id"], data["base_url"]
        pid, created_at = data["pid"], data["created_at"]
        if api not in get_args(ApiName):
            raise ValueError(f"unknown api {api!r}")
        if not (isinstance(session_id, str) and session_id and isinstance(base_url, str)):
            raise ValueError("session_id and base_url must be strings")
        if isinstance(pid, bool) or not isinstance(pid, int):
            raise ValueError("pid must be an integer")
        if isinstance(created_at, bool) or not isinstance(created_at, int | float):
            raise ValueError("created_at must be a number")
        return OpenSessionEntry(api, session_id, base_url, pid, float(created_at))
    except (OSError, ValueError, KeyError) as exc:
        logger.warning("skipped an unreadable open-session entry %s (%s)", path, exc)
        return None


def _running(pid: int) -> bool:
    """Whether a process `pid` exists (one of another user's counts as running)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True
