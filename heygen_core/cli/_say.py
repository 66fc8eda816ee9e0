"""``heygen-avatar say``: speak an audio file through an avatar session.

With no ``--api-base`` and no ``HEYGEN_LIVE_AVATAR_API_KEY`` in the
environment it starts the embedded simulator in-process, so it works
offline. Live events go to stderr; with ``--json`` the last stdout line is a
report of the run.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import json
import os
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import parse_qs, urlsplit

from heygen_models import lite
from pydantic import BaseModel

from heygen_core.audio.convert import to_pcm16_mono_24k
from heygen_core.audio.pump import BYTES_PER_SECOND
from heygen_core.cli._exit_codes import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    STILL_STOPPING,
    describe_error,
    run_command,
)
from heygen_core.cli._png import write_png
from heygen_core.cli._progress import SpeakProgress
from heygen_core.errors import AudioFormatError
from heygen_core.protocol.codec import UnknownEvent
from heygen_core.protocol.renamed_fields import agent_state
from heygen_core.realtime.events import SessionEvent
from heygen_core.rest.redaction import redacted_wire
from heygen_core.service_target import live_avatar_target
from heygen_core.session import SANDBOX_AVATAR_ID, AvatarSession


@dataclass
class SayReport:
    """What ``say --json`` prints: one run, timed from the start of `speak`.

    Attributes:
        session_id: The session's id.
        target: ``simulator`` or the API base URL.
        audio_seconds_sent: Seconds of 24 kHz audio put on the wire.
        chunks_sent: Audio messages sent.
        first_chunk_ms: From the speak call to the first chunk on the wire.
        speak_started_ms: From the speak call to ``agent.speak_started``, or to the
            avatar's state turning ``talking`` (live sessions send only that).
        speak_ended_ms: From the speak call to ``agent.speak_ended``, or to the
            avatar leaving ``talking``.
        outcome: ``ended``, ``interrupted`` or ``lost``.
        session_stopped: Whether the session was stopped through REST.
        avatar_audio_seconds: Seconds of the avatar's voice saved (``--save-audio``).
        frames_saved: PNG snapshots saved (``--save-frames``).
    """

    session_id: str | None
    target: str
    audio_seconds_sent: float
    chunks_sent: int
    first_chunk_ms: float | None
    speak_started_ms: float | None
    speak_ended_ms: float | None
    outcome: str
    session_stopped: bool
    avatar_audio_seconds: float | None = None
    frames_saved: int | None = None


def _describe(event: SessionEvent) -> str:
    if isinstance(event, BaseModel):
        # Printed, so every secret (x-secret, or an unknown credential-named field) is redacted.
        wire = redacted_wire(event)
        wire.pop("audio", None)
        return json.dumps(wire)
    if isinstance(event, UnknownEvent):
        return f"unknown event {event.tag!r}"
    return repr(event)


@dataclass(frozen=True)
class MediaOutputs:
    """Where ``say`` saves the avatar's returned media (None: not saved).

    Attributes:
        audio_path: WAV file for the avatar's voice (24 kHz mono PCM16).
        frames_dir: Folder for PNG snapshots of the avatar's video.
        frame_rate: Snapshots per second.
    """

    audio_path: Path | None = None
    frames_dir: Path | None = None
    frame_rate: float = 2.0

    @property
    def wanted(self) -> bool:
        """Whether any media is to be saved."""
        return self.audio_path is not None or self.frames_dir is not None

    def problem(self) -> str | None:
        """Why these outputs cannot be written, or None; checked before any session exists.

        Found only after speaking, a bad path used to lose the avatar's
        audio (and a file given as the frames folder saved nothing, silently).
        """
        if self.audio_path is not None:
            path = self.audio_path
            folder = path.parent
            if path.is_dir():
                return f"--save-audio {path} is a directory; give a file name such as {path}/a.wav"
            if not folder.is_dir():
                return f"--save-audio {path}: the folder {folder} does not exist; create it first"
            if path.exists():
                # Overwritten in place: the file must be writable, not its folder.
                if not os.access(path, os.W_OK):
                    return f"--save-audio {path}: the file exists and is not writable"
            elif not os.access(folder, os.W_OK | os.X_OK):
                return f"--save-audio {path}: the folder {folder} is not writable"
        if self.frames_dir is not None:
            folder = self.frames_dir
            if folder.exists() and not folder.is_dir():
                return f"--save-frames {folder} is not a folder; give a folder for the PNG files"
            try:
                # Made now, as it would be anyway: a parent that is a file,
                # or a read-only place, fails here rather than after speaking.
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                return f"--save-frames {folder}: cannot create the folder ({exc.strerror or exc})"
            if not os.access(folder, os.W_OK | os.X_OK):
                return f"--save-frames {folder}: the folder is not writable"
        return None


@dataclass
class SaveFailures:
    """What ``say`` could not save: one line each, printed at the end (exit code 1)."""

    lines: list[str] = field(default_factory=list)


async def _record_audio(session: AvatarSession, into: bytearray) -> None:
    async for chunk in session.media.avatar_audio(24_000):
        into += chunk.pcm


async def _record_frames(
    session: AvatarSession, folder: Path, rate: float, saved: list[Path], failures: SaveFailures
) -> None:
    next_at = 0.0
    async for frame in session.media.avatar_video("RGB24"):
        if frame.timestamp + 1e-9 >= next_at:
            target = folder / f"frame_{len(saved):05d}.png"
            try:
                write_png(frame, target)
            except OSError as exc:
                # Reported at the end; later frames would fail the same way.
                failures.lines.append(
                    f"could not save frames into {folder} ({describe_error(exc)}); "
                    f"{len(saved)} saved before that"
                )
                return
            saved.append(target)
            next_at = frame.timestamp + 1.0 / rate


def _write_wav(path: Path, pcm: bytes) -> None:
    # The file is opened here, not by `wave.open(str)`: that one, failing to
    # open, left a half-made Wave_write whose __del__ printed a traceback.
    with open(path, "wb") as file, wave.open(file, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(24_000)
        out.writeframes(pcm)


def _save_avatar_audio(path: Path, pcm: bytes, failures: SaveFailures) -> None:
    """Write the avatar's voice to `path`; failing that, to a temporary file, and say where."""
    try:
        _write_wav(path, pcm)
        return
    except OSError as exc:
        reason = describe_error(exc)
    try:
        fd, spare = tempfile.mkstemp(prefix="heygen-avatar-", suffix=".wav")
        os.close(fd)
        _write_wav(Path(spare), pcm)
    except OSError:
        failures.lines.append(f"could not save the avatar's audio to {path} ({reason}); it is lost")
        return
    failures.lines.append(
        f"could not save the avatar's audio to {path} ({reason}); it was saved to {spare} instead"
    )


def _local_room(viewer_url: str) -> bool:
    """Whether a viewer link points at a room on this machine, which no browser elsewhere opens."""
    rooms = parse_qs(urlsplit(viewer_url).query).get("liveKitUrl", [""])
    room = urlsplit(rooms[0])
    if room.scheme.lower() not in ("ws", "wss", "http", "https"):
        return True  # the embedded simulator's rooms (heygen-sim://)
    host = room.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def say(
    path: Path,
    *,
    avatar_id: str,
    api_base: str | None,
    events_out: TextIO,
    outputs: MediaOutputs | None = None,
    sessions: list[AvatarSession] | None = None,
    failures: SaveFailures | None = None,
    call_timeout: float = 30.0,
) -> SayReport:
    """Speak `path` through a new session and return the report.

    Progress and events go to `events_out`: bars on a terminal, plain lines
    otherwise. The session is appended to
    `sessions` as soon as it exists, so a caller stopped by Ctrl-C can still
    tell whether it was created and stopped. What could not be saved is
    added to `failures`. `call_timeout` is the seconds allowed for each REST call.
    """
    outputs = outputs or MediaOutputs()
    failures = failures if failures is not None else SaveFailures()
    # Convert first: a bad file fails before any session is created.
    pcm = to_pcm16_mono_24k(str(path))
    if not pcm:
        raise AudioFormatError(f"{path} holds no audio (0 frames): there is nothing to say")
    total_seconds = len(pcm) / BYTES_PER_SECOND
    async with live_avatar_target(api_base) as (base_url, api_key, label):
        session = AvatarSession.live_avatar(
            avatar_id=avatar_id,
            sandbox=avatar_id == SANDBOX_AVATAR_ID,
            api_key=api_key,
            base_url=base_url,
            media=outputs.wanted,
            timeout=call_timeout,
        )
        if sessions is not None:
            sessions.append(session)
        marks: dict[str, float] = {}
        avatar_audio = bytearray()
        frames: list[Path] = []
        recorders: list[asyncio.Task[None]] = []
        with SpeakProgress(events_out, total_seconds) as progress:
            loop = asyncio.get_running_loop()

            def on_event(event: SessionEvent) -> None:
                progress.message(f"  event: {_describe(event)}")
                # As documented the avatar reports speak_started/_ended; live
                # sessions report its state instead (docs/protocol.md §7).
                state = agent_state(event) if isinstance(event, lite.AgentStateUpdated) else None
                if isinstance(event, lite.AgentSpeakStarted) or state == "talking":
                    marks.setdefault("started", loop.time())
                elif isinstance(event, lite.AgentSpeakEnded) or (
                    state is not None and "started" in marks
                ):
                    marks.setdefault("ended", loop.time())

            def played() -> float:
                # The avatar reports only when it starts and ends an
                # utterance (or its state changes); in between it plays in
                # real time.
                if "ended" in marks:
                    return total_seconds
                if "started" in marks:
                    return loop.time() - marks["started"]
                return 0.0

            session.on_event(on_event)
            progress.message(f"  connecting to {label} ...")
            async with session:
                viewer = session.viewer_url
                # A room on this machine (a simulator's) opens in no browser elsewhere.
                if label != "simulator" and viewer and not _local_room(viewer):
                    progress.message(f"  watch: {viewer}")
                if outputs.audio_path is not None:
                    recorders.append(asyncio.create_task(_record_audio(session, avatar_audio)))
                if outputs.frames_dir is not None:
                    recorders.append(
                        asyncio.create_task(
                            _record_frames(
                                session, outputs.frames_dir, outputs.frame_rate, frames, failures
                            )
                        )
                    )
                stats = session.pump.stats
                ticker = asyncio.create_task(
                    _tick(lambda: progress.update(stats.audio_seconds_sent, played()))
                )
                try:
                    start = loop.time()
                    result = await session.speak(pcm, sample_rate=24_000, channels=1)
                    outcomes = await result.finished()
                finally:
                    ticker.cancel()
                progress.update(stats.audio_seconds_sent, played())
                if recorders:
                    await asyncio.sleep(0.3)  # the last frames of the avatar's media
                    for task in recorders:
                        task.cancel()
                    for outcome in await asyncio.gather(*recorders, return_exceptions=True):
                        if isinstance(outcome, Exception):
                            # A recorder that failed early saved less than asked: say so.
                            failures.lines.append(
                                f"recording the avatar's media failed: {describe_error(outcome)}"
                            )
        if outputs.audio_path is not None:
            _save_avatar_audio(outputs.audio_path, bytes(avatar_audio), failures)
        ms = {k: round((v - start) * 1000, 1) for k, v in marks.items()}
        first = stats.first_chunk_at
        return SayReport(
            session_id=session.session_id,
            target=label,
            audio_seconds_sent=round(stats.audio_seconds_sent, 3),
            chunks_sent=stats.chunks_sent,
            first_chunk_ms=None if first is None else round((first - start) * 1000, 1),
            speak_started_ms=ms.get("started"),
            speak_ended_ms=ms.get("ended"),
            outcome=",".join(outcomes),
            session_stopped=session.stopped_cleanly,
            avatar_audio_seconds=round(len(avatar_audio) / 48_000, 3)
            if outputs.audio_path
            else None,
            frames_saved=len(frames) if outputs.frames_dir else None,
        )


async def _tick(update: Callable[[], None], interval: float = 0.1) -> None:
    while True:
        update()
        await asyncio.sleep(interval)


def format_report(report: SayReport) -> str:
    """The human-readable session report ``say`` prints without ``--json``."""

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} ms"

    rows = [
        ("session", report.session_id or "-"),
        ("target", report.target),
        ("audio sent", f"{report.audio_seconds_sent:.2f} s in {report.chunks_sent} chunks"),
        ("first chunk", ms(report.first_chunk_ms)),
        ("avatar started", ms(report.speak_started_ms)),
        ("avatar ended", ms(report.speak_ended_ms)),
        ("outcome", report.outcome),
        (
            "session stopped",
            "yes" if report.session_stopped else "NO (it ends at its idle timeout)",
        ),
    ]
    if report.avatar_audio_seconds is not None:
        rows.append(("avatar audio saved", f"{report.avatar_audio_seconds:.2f} s"))
    if report.frames_saved is not None:
        rows.append(("frames saved", str(report.frames_saved)))
    width = max(len(name) for name, _ in rows)
    lines = ["session report (times from the speak call)"]
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


def stop_outcome(sessions: list[AvatarSession]) -> str:
    """What became of the session in `sessions` (if any), for the line printed after Ctrl-C."""
    session = sessions[0] if sessions else None
    if session is None:
        return "no session was created"
    if session.session_id is None:
        if session.may_have_created:
            # The token request went out and its answer never came: the
            # service may have issued a session nobody here can name.
            return (
                "a session may have been created and could not be confirmed stopped; "
                "check `heygen-avatar sessions list`"
            )
        return "no session was created"
    if session.stopped_cleanly:
        return "the session was stopped"
    return (
        f"session {session.session_id} could not be stopped; it ends at its idle timeout, "
        "or stop it now with `heygen-avatar sessions stop --orphans`"
    )


def report_session_after_failure(sessions: list[AvatarSession], command: str, err: TextIO) -> None:
    """After a failure, say what became of a session that exists, or may exist, at the service.

    A timeout of the token request, for one, may still have created a
    session: the user must not be left believing nothing was created.
    """
    session = sessions[0] if sessions else None
    if session is not None and (session.session_id is not None or session.may_have_created):
        print(f"{command}: {stop_outcome(sessions)}", file=err)


def run_say(
    audio_file: str,
    *,
    as_json: bool,
    avatar_id: str,
    api_base: str | None,
    out: TextIO,
    err: TextIO,
    outputs: MediaOutputs | None = None,
    timeout: float = 30.0,
) -> int:
    """Run ``heygen-avatar say``; return the exit code (0 ok, 1 failed, 2 usage, 130 interrupted).

    Without `as_json` the session report goes to `out` as a table; with it,
    the last line of `out` is the report as JSON. Output paths are checked
    before any session is opened; what could not be saved is reported at the
    end (exit code 1).
    """
    path = Path(audio_file)
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "no such file"
        print(f"heygen-avatar say: {what}: {audio_file}", file=err)
        return EXIT_FAILED
    outputs = outputs or MediaOutputs()
    problem = outputs.problem()
    if problem is not None:
        print(f"heygen-avatar say: {problem}", file=err)
        return EXIT_USAGE
    started = time.monotonic()
    sessions: list[AvatarSession] = []
    failures = SaveFailures()
    code, report = run_command(
        "heygen-avatar say",
        say(
            path,
            avatar_id=avatar_id,
            api_base=api_base,
            events_out=err,
            outputs=outputs,
            sessions=sessions,
            failures=failures,
            call_timeout=timeout,
        ),
        err,
        interrupted=lambda: f"interrupted; {stop_outcome(sessions)}",
        still_stopping=STILL_STOPPING,
        describe=functools.partial(describe_error, timeout=timeout),
    )
    if report is None:
        if code == EXIT_FAILED:
            report_session_after_failure(sessions, "heygen-avatar say", err)
        return code
    print(
        f"spoke {report.audio_seconds_sent:.2f} s in {report.chunks_sent} chunks "
        f"({time.monotonic() - started:.1f} s, session {report.session_id}, {report.outcome})",
        file=err,
    )
    if as_json:
        out.write(json.dumps(asdict(report)) + "\n")
    else:
        out.write(format_report(report) + "\n")
    for line in failures.lines:
        print(f"heygen-avatar say: {line}", file=err)
    if failures.lines:
        return EXIT_FAILED
    return EXIT_OK if report.outcome == "ended" else EXIT_FAILED
