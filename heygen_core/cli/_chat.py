"""``heygen-avatar chat --mode full``: type to a FULL-mode avatar, read its transcripts.

Each line on stdin is sent as ``avatar.speak_response`` (the avatar's LLM
answers it and speaks the answer); transcription events are printed as they
arrive. Like ``say``, it runs against the embedded simulator when there is
neither ``--api-base`` nor ``HEYGEN_LIVE_AVATAR_API_KEY``.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from heygen_models import full

from heygen_core.cli._exit_codes import run_command
from heygen_core.cli._say import stop_outcome
from heygen_core.realtime.events import SessionEvent
from heygen_core.service_target import live_avatar_target
from heygen_core.session import SANDBOX_AVATAR_ID, AvatarSession

# How long to wait, after the last line, for the avatar to finish answering.
_ANSWER_TIMEOUT = 60.0


def _transcript(event: SessionEvent) -> str | None:
    if isinstance(event, full.UserTranscription):
        return f"you: {event.text}"
    if isinstance(event, full.AvatarTranscription):
        return f"avatar: {event.text}"
    if isinstance(event, full.SessionStopped):
        return f"[session stopped: {getattr(event.end_reason, 'root', event.end_reason)}]"
    return None


class _Answers:
    """Which lines the avatar has answered: one ``avatar.speak_ended`` per line sent."""

    def __init__(self) -> None:
        self.all_done = asyncio.Event()
        self._asked: set[str] = set()
        self._ended: set[str] = set()
        self._anonymous = 0  # speak_ended events that name no command
        self._stopped = False

    @property
    def pending(self) -> bool:
        """Whether a line is still waiting for its answer."""
        return not self._stopped and len(self._asked - self._ended) > self._anonymous

    def asked(self, event_id: str) -> None:
        self._asked.add(event_id)
        self._check()

    def on_event(self, event: SessionEvent) -> None:
        if isinstance(event, full.SessionStopped):
            self._stopped = True
        elif isinstance(event, full.AvatarSpeakEnded):
            # The answer may end before speak_response returns its id: keep it.
            source = event.source_event_id
            if isinstance(source, str):
                self._ended.add(source)
            else:
                self._anonymous += 1
        self._check()

    def _check(self) -> None:
        if self.pending:
            self.all_done.clear()
        else:
            self.all_done.set()


async def chat(
    lines: asyncio.Queue[str | None],
    *,
    avatar_id: str,
    api_base: str | None,
    out: TextIO,
    sessions: list[AvatarSession] | None = None,
) -> int:
    """Send each queued line as speak_response and print transcripts; None ends the chat.

    The session is appended to `sessions` as soon as it exists, so a caller
    stopped by Ctrl-C can tell whether it was stopped.
    """
    async with live_avatar_target(api_base) as (base_url, api_key, label):
        session = AvatarSession.live_avatar(
            mode="FULL",
            avatar_id=avatar_id,
            sandbox=avatar_id == SANDBOX_AVATAR_ID,
            api_key=api_key,
            base_url=base_url,
        )
        if sessions is not None:
            sessions.append(session)
        answers = _Answers()

        def on_event(event: SessionEvent) -> None:
            text = _transcript(event)
            if text is not None:
                print(text, file=out, flush=True)
            answers.on_event(event)

        session.on_event(on_event)
        async with session:
            print(f"[connected to {label}; type a line, Ctrl-D to end]", file=out, flush=True)
            while (line := await lines.get()) is not None:
                if not line.strip():
                    continue
                answers.asked(await session.speak_response(line.strip()))
            if answers.pending:
                try:
                    await asyncio.wait_for(answers.all_done.wait(), _ANSWER_TIMEOUT)
                except TimeoutError:
                    print("[no answer from the avatar in time]", file=out, flush=True)
                    return 1
    return 0


async def _chat_stdin(
    avatar_id: str, api_base: str | None, out: TextIO, sessions: list[AvatarSession]
) -> int:
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def read() -> None:
        # stdin is read in a thread: it blocks, and the session must not.
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    reader = loop.run_in_executor(None, read)
    try:
        return await chat(lines, avatar_id=avatar_id, api_base=api_base, out=out, sessions=sessions)
    finally:
        reader.cancel()


def run_chat(*, avatar_id: str, api_base: str | None, out: TextIO, err: TextIO) -> int:
    """Run ``heygen-avatar chat --mode full``; return the exit code."""
    sessions: list[AvatarSession] = []
    code, result = run_command(
        "heygen-avatar chat",
        _chat_stdin(avatar_id, api_base, out, sessions),
        err,
        interrupted=lambda: f"interrupted; {stop_outcome(sessions)}",
    )
    return code if result is None else result
