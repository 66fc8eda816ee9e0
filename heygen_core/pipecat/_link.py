"""`AvatarLink`: one `AvatarSession` as a Pipecat processor drives it, turn by turn.

Both drop-ins (`HeyGenVideoService`, and `HeyGenTransport`'s output) get
TTS audio a frame at a time, with the start and end of each bot turn, an
interruption now and then, and the pipeline's start and end. The link
turns that into calls on the session:

- the session is opened in the background when the pipeline starts, and
  audio that comes before it is ready waits for it (the ready gate: Pipecat's
  own service sends it at once, and the service drops it);
- a turn is one `AvatarSession.speak` of an async stream, so one
  ``event_id`` per utterance, whatever the TTS's frame size; audio is
  converted to 24 kHz mono here, once per turn;
- an interruption ends the turn (nothing more of it is sent) and
  interrupts the avatar;
- closing stops the session exactly once, and every wait has a deadline.

It knows nothing of Pipecat: errors go to `on_error`, which the processor
turns into ``ErrorFrame``s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from heygen_core.audio.convert import AudioConverter
from heygen_core.audio.format import SAMPLE_RATE
from heygen_core.errors import HeyGenError
from heygen_core.realtime.events import ConnectionLost, SessionEvent
from heygen_core.session import AvatarSession

logger = logging.getLogger("heygen_core.pipecat")

ErrorReporter = Callable[[str, BaseException | None, bool], Awaitable[None]]
"""Reports an error to the pipeline: (message, exception, whether the link is done for)."""

COMMAND_TIMEOUT = 10.0
"""Seconds an interrupt or a listening command may take before it is reported as failed."""

CLOSE_TIMEOUT = 30.0
"""Seconds closing may take: leaving the room, then the bounded stop (`AvatarSession.aclose`)."""


class _Turn:
    """One bot turn: the audio of one `speak` call, converted to 24 kHz mono as it arrives."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.converter: AudioConverter | None = None
        self.channels = 1
        self.ended = False
        self.aborted = False
        self.speaking = asyncio.Event()  # set once its speak call has started (or never will)
        self.task: asyncio.Task[None] | None = None

    def push(self, pcm: bytes, sample_rate: int, channels: int) -> None:
        converter = self.converter
        if converter is None or (converter.sample_rate, channels) != (sample_rate, self.channels):
            # A TTS that changes rate mid-turn: finish the old stream's tail first.
            if converter is not None:
                self._put(converter.flush())
            converter = self.converter = AudioConverter(sample_rate, channels)
            self.channels = channels
        self._put(converter.push(pcm))

    def end(self) -> None:
        if self.ended:
            return
        self.ended = True
        if self.converter is not None and not self.aborted:
            self._put(self.converter.flush())
        self.queue.put_nowait(None)

    def abort(self) -> None:
        self.aborted = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.end()

    def _put(self, pcm: bytes) -> None:
        if pcm and not self.aborted:
            self.queue.put_nowait(pcm)

    async def stream(self) -> AsyncIterator[bytes]:
        while (pcm := await self.queue.get()) is not None:
            yield pcm


class AvatarLink:
    """Drives one `AvatarSession` for a Pipecat processor (see the module docstring).

    Args:
        make_session: Builds the (unopened) session, when the pipeline starts.
        on_error: Receives every error, to push as an ``ErrorFrame``.
        on_open: Called once the session is open and ready (for media forwarding).
        end_timeout: On a graceful end, seconds to wait for the avatar to
            finish what it was given before the session is stopped.
    """

    def __init__(
        self,
        make_session: Callable[[], AvatarSession],
        *,
        on_error: ErrorReporter,
        on_open: Callable[[AvatarSession], Awaitable[None]] | None = None,
        end_timeout: float = 30.0,
    ) -> None:
        self._make_session = make_session
        self._on_error = on_error
        self._on_open = on_open
        self._end_timeout = end_timeout
        self._session: AvatarSession | None = None
        self._opening: asyncio.Task[AvatarSession | None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._turn: _Turn | None = None
        self._last_turn: _Turn | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._pace_until = 0.0

    def __repr__(self) -> str:
        state = "closed" if self._closing else "open" if self._session else "new"
        return f"<AvatarLink {state} session={self._session!r}>"

    @property
    def session(self) -> AvatarSession | None:
        """The session, once it is open (None before, and after a failed open)."""
        return self._session

    @property
    def closed(self) -> bool:
        """Whether `close` was called."""
        return self._closing is not None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Open the session in the background (once; later calls do nothing)."""
        if self._opening is None and self._closing is None:
            self._opening = asyncio.create_task(self._open(), name="heygen-pipecat-open")

    async def _open(self) -> AvatarSession | None:
        try:
            session = self._make_session()
        except HeyGenError as exc:
            await self._report(f"HeyGen session not created: {exc}", exc, fatal=True)
            return None
        session.on_event(self._on_event)
        try:
            # Bounded: every REST call has its timeout, the ready gate its
            # ready_timeout, the room its connect timeout.
            await session.open()
        except asyncio.CancelledError:
            await self._stop_session(session)
            raise
        except Exception as exc:
            # A session half set up (created, not ready) is stopped, never leaked.
            await self._stop_session(session)
            await self._report(f"HeyGen session failed to start: {exc}", exc, fatal=True)
            return None
        self._session = session
        logger.info("HeyGen session %s ready", session.session_id)
        if self._on_open is not None:
            await self._on_open(session)
        return session

    async def ready(self) -> AvatarSession | None:
        """Wait until the session is open; None if it failed to open, or the link closed."""
        opening = self._opening
        if opening is None:
            return None
        # `wait`, not awaiting the task: a cancelled open is not our caller's cancellation.
        await asyncio.wait({opening})
        if opening.cancelled() or self._closing is not None:
            return None
        return opening.result()

    def _on_event(self, event: SessionEvent) -> None:
        if isinstance(event, ConnectionLost) and not event.reconnecting:
            self._spawn(
                self._report(
                    f"HeyGen control socket lost for good ({event.reason or event.code}); "
                    "the avatar gets no more audio: restart the pipeline",
                    None,
                    fatal=True,
                )
            )

    async def finish(self) -> None:
        """End the turn and wait (up to `end_timeout`) for the avatar to finish every turn."""
        self.end_turn()
        waiting = {t for t in self._tasks if not t.done()}
        if waiting:
            _, pending = await asyncio.wait(waiting, timeout=self._end_timeout)
            if pending:
                logger.warning(
                    "the avatar had not finished after %.1f s; stopping the session anyway",
                    self._end_timeout,
                )

    async def close(self) -> None:
        """Stop the session, exactly once; later and concurrent calls wait for the same close."""
        if self._closing is None:
            self._closing = asyncio.create_task(self._close_once(), name="heygen-pipecat-close")
        await asyncio.wait({self._closing})

    async def _close_once(self) -> None:
        if self._turn is not None:
            self._turn.abort()
            self._turn = None
        opening = self._opening
        if opening is not None and not opening.done():
            # Still opening: cancelling it stops whatever it had created.
            opening.cancel()
            await asyncio.wait({opening}, timeout=CLOSE_TIMEOUT)
        session = self._session
        if session is not None:
            await self._stop_session(session)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=COMMAND_TIMEOUT)

    async def _stop_session(self, session: AvatarSession) -> None:
        closing = asyncio.ensure_future(session.aclose())
        done, _ = await asyncio.wait({closing}, timeout=CLOSE_TIMEOUT)
        if not done:
            logger.error("session %s: stopping took over %.0f s", session.session_id, CLOSE_TIMEOUT)
            return
        if not closing.cancelled() and (error := closing.exception()) is not None:
            await self._report(f"HeyGen session stop failed: {error}", error, fatal=False)

    # -- speaking -------------------------------------------------------------------------

    def push_audio(self, pcm: bytes, sample_rate: int, channels: int = 1) -> None:
        """Add TTS audio to the current turn, starting one if none is open."""
        if self._closing is not None or not pcm:
            return
        turn = self._turn
        if turn is None:
            turn = self._turn = self._new_turn()
        try:
            turn.push(pcm, sample_rate, channels)
        except HeyGenError as exc:
            turn.abort()
            self._turn = None
            self._spawn(self._report(f"TTS audio refused: {exc}", exc, fatal=False))

    def end_turn(self) -> None:
        """The TTS turn is over: its utterance ends once its audio is sent."""
        turn, self._turn = self._turn, None
        if turn is not None:
            turn.end()

    def _new_turn(self) -> _Turn:
        turn = _Turn()
        previous, self._last_turn = self._last_turn, turn
        turn.task = self._spawn(self._speak(turn, previous))
        return turn

    async def _speak(self, turn: _Turn, previous: _Turn | None) -> None:
        try:
            if previous is not None:
                # Turns reach the pump in the order they were spoken.
                await previous.speaking.wait()
            session = await self.ready()
            if session is None or turn.aborted:
                return
            try:
                result = await session.speak(turn.stream(), sample_rate=SAMPLE_RATE, wait=False)
            finally:
                turn.speaking.set()
            await result.finished()
        except HeyGenError as exc:
            await self._report(f"HeyGen could not speak: {exc}", exc, fatal=False)
        finally:
            turn.speaking.set()

    async def pace(self, seconds: float, lead: float) -> None:
        """Sleep so that audio written stays at most `lead` seconds ahead of real time.

        A transport's output must take audio as fast as it plays, as a
        sound card would, so that Pipecat's bot-speaking frames are on time.
        """
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._pace_until = max(self._pace_until, now) + seconds
        ahead = self._pace_until - now - lead
        if ahead > 0:
            await asyncio.sleep(ahead)

    async def interrupt(self) -> None:
        """End the current turn for good and stop the avatar (if it was given anything)."""
        if self._turn is not None:
            self._turn.abort()
            self._turn = None
        self._pace_until = 0.0
        session = self._session
        if session is None or self._closing is not None:
            return  # nothing reached the avatar yet: the aborted turn never will
        await self._command("interrupt", session.interrupt)

    async def listening(self, on: bool) -> None:
        """Put the avatar in (or out of) its listening pose; skipped before the session is open."""
        session = self._session
        if session is None or self._closing is not None:
            return
        if on:
            await self._command("start listening", session.start_listening)
        else:
            await self._command("stop listening", session.stop_listening)

    async def _command(self, what: str, command: Callable[[], Awaitable[None]]) -> None:
        try:
            await asyncio.wait_for(command(), COMMAND_TIMEOUT)
        except TimeoutError as exc:
            await self._report(
                f"HeyGen {what} got no answer within {COMMAND_TIMEOUT:g} s", exc, fatal=False
            )
        except HeyGenError as exc:
            await self._report(f"HeyGen {what} failed: {exc}", exc, fatal=False)

    # -- internals ------------------------------------------------------------------------

    def _spawn(self, job: Awaitable[None]) -> asyncio.Task[None]:
        async def run() -> None:
            await job

        task = asyncio.create_task(run(), name="heygen-pipecat")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _report(self, message: str, exc: BaseException | None, *, fatal: bool) -> None:
        with contextlib.suppress(Exception):
            await self._on_error(message, exc, fatal)
