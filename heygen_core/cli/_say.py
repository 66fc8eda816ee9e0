"""``heygen-avatar say``: speak an audio file through an avatar session.

With no ``--api-base`` and no ``HEYGEN_LIVE_AVATAR_API_KEY`` in the
environment it starts the embedded simulator in-process, so it works
offline. Live events go to stderr; with ``--json`` the last stdout line is a
report of the run.
"""

from __future__ import annotations

import asyncio
import json
import time
import wave
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

from heygen_models import lite
from pydantic import BaseModel

from heygen_core.audio.convert import to_pcm16_mono_24k
from heygen_core.audio.pump import BYTES_PER_SECOND
from heygen_core.cli._exit_codes import (
    EXIT_FAILED,
    EXIT_OK,
    run_command,
)
from heygen_core.cli._png import write_png
from heygen_core.cli._progress import SpeakProgress
from heygen_core.protocol.codec import UnknownEvent
from heygen_core.protocol.renamed_fields import agent_state
from heygen_core.realtime.events import SessionEvent
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
        wire = event.model_dump(mode="json", by_alias=True, exclude_unset=True)
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


async def _record_audio(session: AvatarSession, into: bytearray) -> None:
    async for chunk in session.media.avatar_audio(24_000):
        into += chunk.pcm


async def _record_frames(
    session: AvatarSession, folder: Path, rate: float, saved: list[Path]
) -> None:
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    next_at = 0.0
    async for frame in session.media.avatar_video("RGB24"):
        if frame.timestamp + 1e-9 >= next_at:
            target = folder / f"frame_{len(saved):05d}.png"
            write_png(frame, target)
            saved.append(target)
            next_at = frame.timestamp + 1.0 / rate


async def say(
    path: Path,
    *,
    avatar_id: str,
    api_base: str | None,
    events_out: TextIO,
    outputs: MediaOutputs | None = None,
    sessions: list[AvatarSession] | None = None,
) -> SayReport:
    """Speak `path` through a new session and return the report.

    Progress and events go to `events_out`: bars on a terminal, plain lines
    otherwise. The session is appended to
    `sessions` as soon as it exists, so a caller stopped by Ctrl-C can still
    tell whether it was created and stopped.
    """
    outputs = outputs or MediaOutputs()
    # Convert first: a bad file fails before any session is created.
    pcm = to_pcm16_mono_24k(str(path))
    total_seconds = len(pcm) / BYTES_PER_SECOND
    async with live_avatar_target(api_base) as (base_url, api_key, label):
        session = AvatarSession.live_avatar(
            avatar_id=avatar_id,
            sandbox=avatar_id == SANDBOX_AVATAR_ID,
            api_key=api_key,
            base_url=base_url,
            media=outputs.wanted,
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
                if label != "simulator" and session.viewer_url:
                    progress.message(f"  watch: {session.viewer_url}")
                if outputs.audio_path is not None:
                    recorders.append(asyncio.create_task(_record_audio(session, avatar_audio)))
                if outputs.frames_dir is not None:
                    recorders.append(
                        asyncio.create_task(
                            _record_frames(session, outputs.frames_dir, outputs.frame_rate, frames)
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
                    await asyncio.gather(*recorders, return_exceptions=True)
        if outputs.audio_path is not None:
            with wave.open(str(outputs.audio_path), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(24_000)
                out.writeframes(bytes(avatar_audio))
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
    if session is None or session.session_id is None:
        return "no session was created"
    if session.stopped_cleanly:
        return "the session was stopped"
    return f"session {session.session_id} could not be stopped; it ends at its idle timeout"


def run_say(
    audio_file: str,
    *,
    as_json: bool,
    avatar_id: str,
    api_base: str | None,
    out: TextIO,
    err: TextIO,
    outputs: MediaOutputs | None = None,
) -> int:
    """Run ``heygen-avatar say``; return the exit code (0 ok, 1 failed, 130 interrupted).

    Without `as_json` the session report goes to `out` as a table; with it,
    the last line of `out` is the report as JSON.
    """
    path = Path(audio_file)
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "no such file"
        print(f"heygen-avatar say: {what}: {audio_file}", file=err)
        return EXIT_FAILED
    started = time.monotonic()
    sessions: list[AvatarSession] = []
    code, report = run_command(
        "heygen-avatar say",
        say(
            path,
            avatar_id=avatar_id,
            api_base=api_base,
            events_out=err,
            outputs=outputs,
            sessions=sessions,
        ),
        err,
        interrupted=lambda: f"interrupted; {stop_outcome(sessions)}",
    )
    if report is None:
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
    return EXIT_OK if report.outcome == "ended" else EXIT_FAILED
