"""``heygen-avatar say``: speak an audio file through an avatar session.

With no ``--api-base`` and no ``HEYGEN_LIVE_AVATAR_API_KEY`` in the
environment it starts the embedded simulator in-process, so it works
offline. Live events go to stderr; with ``--json`` the last stdout line is a
report of the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import wave
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

from heygen_models import lite
from pydantic import BaseModel

from heygen_core.audio import to_pcm16_mono_24k
from heygen_core.errors import HeyGenError
from heygen_core.liveavatar_client import API_KEY_ENV
from heygen_core.png import write_png
from heygen_core.protocol import UnknownEvent
from heygen_core.realtime import Event
from heygen_core.session import SANDBOX_AVATAR_ID, AvatarSession

SIMULATOR_KEY = "simulator-key"
"""The key used against the embedded simulator (it accepts any non-empty key)."""


@dataclass
class SayReport:
    """What ``say --json`` prints: one run, timed from the start of `speak`.

    Attributes:
        session_id: The session's id.
        target: ``simulator`` or the API base URL.
        audio_seconds_sent: Seconds of 24 kHz audio put on the wire.
        chunks_sent: Audio messages sent.
        first_chunk_ms: From the speak call to the first chunk on the wire.
        speak_started_ms: From the speak call to ``agent.speak_started``.
        speak_ended_ms: From the speak call to ``agent.speak_ended``.
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


@contextlib.asynccontextmanager
async def target(api_base: str | None) -> AsyncIterator[tuple[str, str | None, str]]:
    """Yield (base URL, API key or None for the environment, label)."""
    if api_base is not None:
        yield api_base, None, api_base
        return
    if os.environ.get(API_KEY_ENV):
        yield "https://api.liveavatar.com", None, "https://api.liveavatar.com"
        return
    from heygen_core.simulator import Simulator

    async with Simulator() as sim:
        yield sim.url, SIMULATOR_KEY, "simulator"


def _describe(event: Event) -> str:
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
) -> SayReport:
    """Speak `path` through a new session and return the report."""
    outputs = outputs or MediaOutputs()
    # Convert first: a bad file fails before any session is created.
    pcm = to_pcm16_mono_24k(str(path))
    async with target(api_base) as (base_url, api_key, label):
        session = AvatarSession.live_avatar(
            avatar_id=avatar_id,
            sandbox=avatar_id == SANDBOX_AVATAR_ID,
            api_key=api_key,
            base_url=base_url,
            media=outputs.wanted,
        )
        marks: dict[str, float] = {}
        avatar_audio = bytearray()
        frames: list[Path] = []
        recorders: list[asyncio.Task[None]] = []
        async with session:
            loop = asyncio.get_running_loop()
            if label != "simulator" and session.viewer_url:
                print(f"  watch: {session.viewer_url}", file=events_out, flush=True)
            if outputs.audio_path is not None:
                recorders.append(asyncio.create_task(_record_audio(session, avatar_audio)))
            if outputs.frames_dir is not None:
                recorders.append(
                    asyncio.create_task(
                        _record_frames(session, outputs.frames_dir, outputs.frame_rate, frames)
                    )
                )

            def on_event(event: Event) -> None:
                print(f"  event: {_describe(event)}", file=events_out, flush=True)
                if isinstance(event, lite.AgentSpeakStarted):
                    marks.setdefault("started", loop.time())
                elif isinstance(event, lite.AgentSpeakEnded):
                    marks.setdefault("ended", loop.time())

            session.on_event(on_event)
            start = loop.time()
            result = await session.speak(pcm, sample_rate=24_000, channels=1)
            outcomes = await result.finished()
            stats = session.pump.stats
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
    """Run ``heygen-avatar say``; return the exit code (0 ok, 1 failed, 130 interrupted)."""
    path = Path(audio_file)
    if not path.is_file():
        print(f"heygen-avatar say: no such file: {audio_file}", file=err)
        return 1
    started = time.monotonic()
    try:
        report = asyncio.run(
            say(path, avatar_id=avatar_id, api_base=api_base, events_out=err, outputs=outputs)
        )
    except KeyboardInterrupt:
        print("heygen-avatar say: interrupted; the session was stopped", file=err)
        return 130
    except (HeyGenError, OSError) as exc:
        print(f"heygen-avatar say: {exc}", file=err)
        return 1
    print(
        f"spoke {report.audio_seconds_sent:.2f} s in {report.chunks_sent} chunks "
        f"({time.monotonic() - started:.1f} s, session {report.session_id}, {report.outcome})",
        file=err,
    )
    if as_json:
        out.write(json.dumps(asdict(report)) + "\n")
    return 0 if report.outcome == "ended" else 1
