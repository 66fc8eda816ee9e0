"""``heygen-avatar chat --mode full``: type to a FULL-mode avatar, read its transcripts.

Each line on stdin is sent as ``avatar.speak_response`` (the avatar's LLM
answers it and speaks the answer); transcription events are printed as they
arrive. Like ``say``, it runs against the embedded simulator when there is
neither ``--api-base`` nor ``HEYGEN_LIVE_AVATAR_API_KEY``.
"""

from __future__ import annotations

import asyncio
import codecs
import functools
import os
import stat
import sys
import threading
from typing import TextIO

from heygen_models import full

from heygen_core.cli._exit_codes import EXIT_FAILED, STILL_STOPPING, describe_error, run_command
from heygen_core.cli._say import report_session_after_failure, stop_outcome
from heygen_core.realtime.events import SessionEvent
from heygen_core.service_target import live_avatar_target
from heygen_core.session import SANDBOX_AVATAR_ID, AvatarSession

# How long each line waits for the avatar to finish answering it.
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
    def stopped(self) -> bool:
        """Whether the service has ended the session."""
        return self._stopped

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
    call_timeout: float = 30.0,
) -> int:
    """Send each queued line as speak_response and print transcripts; None ends the chat.

    Each line waits for the avatar's answer to the one before (at most
    `_ANSWER_TIMEOUT` seconds): sent all at once, the answers of piped lines
    would come out of order with the questions. The session is appended to
    `sessions` as soon as it exists, so a caller stopped by Ctrl-C can tell
    whether it was stopped. `call_timeout` is the seconds allowed for each REST call.
    """
    async with live_avatar_target(api_base) as (base_url, api_key, label):
        session = AvatarSession.live_avatar(
            mode="FULL",
            avatar_id=avatar_id,
            sandbox=avatar_id == SANDBOX_AVATAR_ID,
            api_key=api_key,
            base_url=base_url,
            timeout=call_timeout,
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
                if answers.stopped:
                    break  # the service ended the session; nothing more can be asked
                if not line.strip():
                    continue
                answers.asked(await session.speak_response(line.strip()))
                try:
                    await asyncio.wait_for(answers.all_done.wait(), _ANSWER_TIMEOUT)
                except TimeoutError:
                    print("[no answer from the avatar in time]", file=out, flush=True)
                    return 1
    return 0


class _StdinLines:
    """Puts each line of stdin on a queue (None at the end), without blocking a thread.

    An executor thread blocked in ``read`` kept the process alive after
    Ctrl-C (the interpreter joins executor threads at exit) until Enter or
    EOF. So a pipe or a terminal is watched by the event loop itself
    (`loop.add_reader`), and a regular file, which never blocks, is read
    where it is; only where neither works (Windows) is a daemon thread used,
    which does not hold up the exit.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
        self._loop = loop
        self._lines = lines
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""
        self._fd: int | None = None

    def start(self) -> None:
        """Begin reading."""
        try:
            fd = sys.stdin.fileno()
        except (AttributeError, OSError, ValueError):
            self._start_thread()  # stdin replaced by an object without a descriptor
            return
        try:
            self._loop.add_reader(fd, self._readable, fd)
        except (NotImplementedError, OSError):
            # A regular file (epoll refuses those: they are always
            # readable) or a loop without readers (Windows).
            if not _is_regular_file(fd):
                self._start_thread(fd)
                return
            with open(fd, "rb", closefd=False) as source:
                while chunk := source.read(_READ_SIZE):
                    self._feed(chunk)
            self._end()
            return
        self._fd = fd

    def close(self) -> None:
        """Stop watching stdin."""
        if self._fd is not None:
            self._loop.remove_reader(self._fd)
            self._fd = None

    def _readable(self, fd: int) -> None:
        try:
            chunk = os.read(fd, _READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""  # a hung-up terminal reads as the end
        if chunk:
            self._feed(chunk)
            return
        self.close()
        self._end()

    def _feed(self, chunk: bytes) -> None:
        self._partial += self._decoder.decode(chunk)
        *complete, self._partial = self._partial.split("\n")
        for line in complete:
            self._lines.put_nowait(line + "\n")

    def _end(self) -> None:
        self._partial += self._decoder.decode(b"", final=True)
        if self._partial:
            self._lines.put_nowait(self._partial)
            self._partial = ""
        self._lines.put_nowait(None)

    def _start_thread(self, fd: int | None = None) -> None:
        loop, lines = self._loop, self._lines

        def read() -> None:
            if fd is None:
                for line in sys.stdin:
                    loop.call_soon_threadsafe(lines.put_nowait, line)
                loop.call_soon_threadsafe(lines.put_nowait, None)
                return
            # The descriptor, not sys.stdin: a daemon thread blocked inside
            # a buffered reader's lock can abort the interpreter at exit.
            while chunk := _read_or_end(fd):
                loop.call_soon_threadsafe(self._feed, chunk)
            loop.call_soon_threadsafe(self._end)

        threading.Thread(target=read, name="heygen-avatar-stdin", daemon=True).start()


def _read_or_end(fd: int) -> bytes:
    try:
        return os.read(fd, _READ_SIZE)
    except OSError:
        return b""


_READ_SIZE = 65_536


def _is_regular_file(fd: int) -> bool:
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        return False


async def _chat_stdin(
    avatar_id: str,
    api_base: str | None,
    out: TextIO,
    sessions: list[AvatarSession],
    call_timeout: float,
) -> int:
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    reader = _StdinLines(asyncio.get_running_loop(), lines)
    reader.start()
    try:
        return await chat(
            lines,
            avatar_id=avatar_id,
            api_base=api_base,
            out=out,
            sessions=sessions,
            call_timeout=call_timeout,
        )
    finally:
        reader.close()


def run_chat(
    *, avatar_id: str, api_base: str | None, out: TextIO, err: TextIO, timeout: float = 30.0
) -> int:
    """Run ``heygen-avatar chat --mode full``; return the exit code."""
    sessions: list[AvatarSession] = []
    code, result = run_command(
        "heygen-avatar chat",
        _chat_stdin(avatar_id, api_base, out, sessions, timeout),
        err,
        interrupted=lambda: f"interrupted; {stop_outcome(sessions)}",
        still_stopping=STILL_STOPPING,
        describe=functools.partial(describe_error, timeout=timeout),
    )
    if result is None and code == EXIT_FAILED:
        report_session_after_failure(sessions, "heygen-avatar chat", err)
    return code if result is None else result
