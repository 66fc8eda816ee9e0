"""`HeyGenAudioOutput`: the agent session's audio output, played by the avatar through our pump.

LiveKit Agents pushes a reply's TTS frames into an `AudioOutput` with
`capture_frame`, ends the reply with `flush`, and interrupts it with
`clear_buffer`; it waits for the reply to be over on the output's
``playback_finished``. Here each reply (the frames between its first
`capture_frame` and its `flush`) is one streamed `AvatarSession.speak`: one
utterance, so one ``event_id`` for all its chunks, sent through the ready
gate, paced and converted to 24 kHz by the pump.

``playback_started`` is reported when the service says the avatar is
talking (or playing the utterance); ``playback_finished`` when the
utterance ends, which the pump guarantees (the service's report, or a
deadline once its audio had time to play): so ``AgentSession.say()`` always
returns, whatever the service reports or fails to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from livekit import rtc
from livekit.agents.voice.io import AudioOutput, AudioOutputCapabilities

from heygen_core.errors import HeyGenError
from heygen_core.realtime.events import SessionEvent
from heygen_core.session import AvatarSession as HeyGenSession
from heygen_core.session import SpeakResult

logger = logging.getLogger("heygen_core.livekit_agents")

# How long closing waits for the replies still playing to end on their own
# (the session's close settles them at once; this only bounds a stuck one).
_CLOSE_WAIT_SECONDS = 5.0


class _Segment:
    """One reply: the frames between its first `capture_frame` and its `flush`."""

    def __init__(self) -> None:
        self.frames: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.result: SpeakResult | None = None
        self.cleared = False  # `clear_buffer` came before it was over
        self.started_at: float | None = None  # loop time playback_started was reported
        self.finished = False  # playback_finished was reported
        self.watcher: asyncio.Task[None] | None = None

    async def audio(self) -> AsyncIterator[bytes]:
        """Its PCM, frame by frame, until `flush` (or closing) ends it."""
        while (item := await self.frames.get()) is not None:
            yield item

    @property
    def audio_seconds(self) -> float:
        """Seconds of its audio sent to the avatar."""
        if self.result is None:
            return 0.0
        return sum(u.audio_seconds for u in self.result.utterances)


class HeyGenAudioOutput(AudioOutput):
    """An `AudioOutput` whose replies the avatar speaks, one utterance per reply.

    Installed by `heygen_core.livekit_agents.AvatarSession.start`; it
    needs an open LITE `heygen_core.session.AvatarSession`.

    Args:
        session: The open avatar session that speaks.
        command_timeout: Seconds each interrupt may take on the socket.
    """

    def __init__(self, session: HeyGenSession, *, command_timeout: float = 5.0) -> None:
        super().__init__(
            label="HeyGenAvatar",
            capabilities=AudioOutputCapabilities(pause=False),
            next_in_chain=None,
            # Any rate: the pump converts to the service's 24 kHz mono.
            sample_rate=None,
        )
        self._session = session
        self._command_timeout = command_timeout
        self._capturing: _Segment | None = None
        self._unfinished: list[_Segment] = []  # captured, playback_finished not yet reported
        self._interrupting: asyncio.Task[None] | None = None
        self._closed = False
        session.on_event(self._on_event)

    # -- AudioOutput ------------------------------------------------------------------------

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        """Queue `frame` for the avatar; the first frame of a reply starts its utterance."""
        await super().capture_frame(frame)
        segment = self._capturing
        if segment is None:
            segment = self._capturing = _Segment()
            self._unfinished.append(segment)
            await self._begin(segment, frame)
        if not segment.cleared and segment.result is not None:
            segment.frames.put_nowait(frame.data.tobytes())

    def flush(self) -> None:
        """End the current reply: its utterance ends once its audio is sent."""
        super().flush()
        segment, self._capturing = self._capturing, None
        if segment is not None:
            segment.frames.put_nowait(None)

    def clear_buffer(self) -> None:
        """Interrupt the avatar: what is queued or playing is dropped."""
        unfinished = [s for s in self._unfinished if not s.finished]
        if not unfinished:
            return  # nothing of ours is playing: no interrupt to send
        for segment in unfinished:
            segment.cleared = True
        if self._interrupting is None or self._interrupting.done():
            self._interrupting = asyncio.create_task(self._interrupt(), name="heygen-lk-interrupt")

    # -- the avatar's side ------------------------------------------------------------------

    async def _begin(self, segment: _Segment, frame: rtc.AudioFrame) -> None:
        """Start the reply's utterance, streaming from its frame queue."""
        if self._interrupting is not None:
            # An interrupt asked for before this reply must reach the pump
            # first, or it would cut this reply off instead of the last.
            await asyncio.wait({self._interrupting})
        if not self._closed:
            try:
                segment.result = await self._session.speak(
                    segment.audio(),
                    sample_rate=frame.sample_rate,
                    channels=frame.num_channels,
                    wait=False,
                )
            except HeyGenError as exc:
                # Reported as finished at once (below): say() must not hang on it.
                logger.warning("the avatar cannot speak this reply: %s", exc)
        segment.watcher = asyncio.create_task(self._watch(segment), name="heygen-lk-playback")

    async def _watch(self, segment: _Segment) -> None:
        """Report the reply finished once its utterance has ended (it always does)."""
        if segment.result is not None:
            try:
                await segment.result.finished()
            except Exception as exc:  # a lost connection: the reply is over all the same
                logger.warning("the avatar's reply ended with an error: %s", exc)
        self._report_finished(segment)

    async def _interrupt(self) -> None:
        try:
            await asyncio.wait_for(self._session.interrupt(), self._command_timeout)
        except (HeyGenError, TimeoutError) as exc:
            # The replies still end: at the pump's margin, or when the session closes.
            logger.warning("interrupting the avatar failed: %s", exc)

    def _on_event(self, event: SessionEvent) -> None:
        # The pump has seen `event` first, so the avatar's state and the
        # utterances' statuses are up to date here.
        del event
        segment = next((s for s in self._unfinished if s.result is not None), None)
        if segment is None or segment.started_at is not None or segment.result is None:
            return
        utterances = segment.result.utterances
        talking = self._session.avatar_state == "talking" and any(u.chunks for u in utterances)
        if talking or any(u.status == "playing" for u in utterances):
            self._report_started(segment)

    def _report_started(self, segment: _Segment) -> None:
        segment.started_at = asyncio.get_running_loop().time()
        self.on_playback_started(created_at=time.time())

    def _report_finished(self, segment: _Segment) -> None:
        if segment.finished:
            return
        segment.finished = True
        with contextlib.suppress(ValueError):
            self._unfinished.remove(segment)
        utterances = segment.result.utterances if segment.result is not None else ()
        interrupted = segment.cleared or any(u.status == "interrupted" for u in utterances)
        played = segment.audio_seconds
        if segment.started_at is None and played > 0 and not interrupted:
            # Audio went out and ended, but the service never said the avatar
            # talked: report the start now, so the reply still counts as spoken.
            self._report_started(segment)
        if interrupted:
            # Played from the reported start until now, at most what was sent.
            since = segment.started_at
            now = asyncio.get_running_loop().time()
            played = 0.0 if since is None else max(0.0, min(played, now - since))
        self.on_playback_finished(playback_position=played, interrupted=interrupted)

    async def aclose(self) -> None:
        """Report every unfinished reply finished (the avatar session is closing)."""
        self._closed = True
        if self._capturing is not None:
            self._capturing.frames.put_nowait(None)
        watchers = {s.watcher for s in self._unfinished if s.watcher is not None}
        if watchers:
            await asyncio.wait(watchers, timeout=_CLOSE_WAIT_SECONDS)
        for segment in list(self._unfinished):
            if segment.watcher is not None:
                segment.watcher.cancel()
            self._report_finished(segment)
        if self._interrupting is not None:
            self._interrupting.cancel()
