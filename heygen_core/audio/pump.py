"""The audio pump: turns a user's audio into paced, chunked speak commands.

It owns the send side of utterances: conversion to 24 kHz mono PCM16 (through
`heygen_core.audio.convert`), chunking (a short first chunk, then about a second),
pacing (a lead, then real time), ending each utterance, and interrupts that
guarantee no chunk of an interrupted utterance reaches the wire afterwards.
It also decides when an utterance is over, and never waits forever: on the
service's report (speak ended, the avatar leaving ``talking``, the
acknowledgement of an interrupt) or, failing one, at a deadline (the audio
still to play plus `PumpConfig.completion_margin_seconds`); `Utterance.ended_by`
says which. What the messages are, and which server events report playback, is the
dialect's business (`heygen_core.audio.dialects`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass, field
from time import monotonic as _clock
from typing import TYPE_CHECKING, Literal

from heygen_core.audio.dialects import SpeechDialect, speech_dialect
from heygen_core.audio.format import (
    BYTES_PER_SECOND,
    PATH_TYPES,
    SAMPLE_RATE,
    AudioInput,
    reject_wav_bytes,
)
from heygen_core.errors import AudioFormatError, HeyGenError, RealtimeConnectionError
from heygen_core.realtime.connection import (
    Dialect,
    RealtimeConnection,
)
from heygen_core.realtime.events import SessionEvent

if TYPE_CHECKING:
    from heygen_core._slot_gate import Slot, SlotGate
    from heygen_core.audio.convert import AudioConverter

__all__ = [
    "BYTES_PER_SECOND",
    "CONFIRMED_ENDINGS",
    "SAMPLE_RATE",
    "AudioPump",
    "EndedBy",
    "PumpConfig",
    "PumpStats",
    "Utterance",
    "UtteranceStatus",
]

logger = logging.getLogger("heygen_core.pump")

# How much earlier than its audio could have played a speak_ended may come and
# still end the utterance: the service's clock and ours differ by a little.
_ENDED_EARLY_TOLERANCE = 0.1

UtteranceStatus = Literal["queued", "sending", "sent", "playing", "ended", "interrupted", "lost"]
"""Where an utterance is: in our queue, on the wire, at the avatar, or done."""

EndedBy = Literal[
    "speak_ended",
    "state_idle",
    "interrupt_ack",
    "deadline",
    "nothing_to_play",
    "session_closed",
    "connection_lost",
    "ready_timeout",
    "client_closed",
]
"""What ended an utterance (`Utterance.ended_by`).

- ``speak_ended``: the service's ``agent.speak_ended`` for its event id.
- ``state_idle``: the avatar left ``talking`` (LITE ``agent.state_updated``,
  alpha ``agent.status: idle``) after the utterance's end was sent.
- ``interrupt_ack``: the service acknowledged an interrupt
  (``agent.audio_buffer_cleared`` or ``agent.speak_interrupted``).
- ``deadline``: no report came; assumed over once its audio had time to
  play, plus `PumpConfig.completion_margin_seconds` (after an interrupt:
  the margin alone).
- ``nothing_to_play``: none of its audio reached the avatar (empty, an
  alpha tail too short to commit, or interrupted before its first chunk).
- ``session_closed``: the service reported the session closing or closed.
- ``connection_lost``: the socket dropped (or every reconnect failed).
- ``ready_timeout``: the service never reported ready and
  ``ready_fallback="raise"`` made sending fail.
- ``client_closed``: the session was closed by us while it was unfinished.
"""

CONFIRMED_ENDINGS: frozenset[EndedBy] = frozenset({"speak_ended", "state_idle", "interrupt_ack"})
"""The endings the service reported (`Utterance.confirmed`); the others are our own conclusion."""


@dataclass(frozen=True)
class PumpConfig:
    """Chunking and pacing of the audio pump.

    Attributes:
        first_chunk_ms: Length of the first chunk of an utterance; short, so
            the avatar starts speaking sooner (Pipecat uses 400 ms).
        chunk_ms: Length of the following chunks (the service recommends
            about 1 s per message).
        lead_seconds: Audio sent ahead of real time before pacing starts.
        end_gap_seconds: For streamed input, a gap this long with no new
            audio ends the utterance (``speak_end``); later audio from the
            same stream starts a new one.
        send_audio_format: LITE: send the ``start`` frame (the audio format:
            PCM16, 24 kHz, mono) once the socket is ready, as HeyGen's own
            starter agent does. Off by default: the format is fixed and the
            vendor's events page does not list the frame.
        completion_margin_seconds: How long past the expected end of its
            audio an utterance waits for the service's report before it is
            assumed over (``ended_by="deadline"``); after an interrupt, how
            long to wait for its acknowledgement. Live services may never
            report the end of an utterance, so ``speak`` must not wait forever.
    """

    first_chunk_ms: int = 400
    chunk_ms: int = 1000
    lead_seconds: float = 3.0
    end_gap_seconds: float = 0.5
    send_audio_format: bool = False
    completion_margin_seconds: float = 2.5

    def __post_init__(self) -> None:
        # 10 s of 24 kHz PCM16 is 480 kB raw, 640 kB as base64: with its JSON
        # around it, well under the service's 1 MB message limit.
        if not 20 <= self.first_chunk_ms <= 10_000 or not 20 <= self.chunk_ms <= 10_000:
            raise ValueError("chunk lengths must be between 20 and 10000 ms")
        if self.lead_seconds < 0 or self.end_gap_seconds <= 0:
            raise ValueError("lead_seconds must be >= 0 and end_gap_seconds > 0")
        if self.completion_margin_seconds < 0:
            raise ValueError("completion_margin_seconds must be >= 0")


@dataclass
class PumpStats:
    """Counters of what the pump put on the wire (for reports and benchmarks).

    Attributes:
        chunks_sent: Audio messages sent.
        audio_seconds_sent: Seconds of 24 kHz audio sent.
        first_chunk_at: Loop time the first chunk was sent, if any.
        schedule_jitter: Per paced chunk, seconds it left after its planned time.
    """

    chunks_sent: int = 0
    audio_seconds_sent: float = 0.0
    first_chunk_at: float | None = None
    schedule_jitter: list[float] = field(default_factory=list)


class Utterance:
    """One utterance: all its chunks share `event_id`. Await it for the outcome.

    ``await utterance`` returns its final status: ``ended`` (the avatar
    finished it), ``interrupted``, or ``lost`` (the connection dropped, or
    the session ended). It always comes: `ended_by` says whether the service
    reported it or it was assumed at a deadline.

    Attributes:
        event_id: The id every chunk of it carries.
        status: Where it is (`UtteranceStatus`).
        ended_by: What ended it (`EndedBy`), once it has ended; None before.
        audio_seconds: Seconds of its audio sent.
        chunks: Audio messages of it sent.
        started_at: Loop time its first chunk was sent.
        ended_at: Loop time it ended.
    """

    def __init__(self, event_id: str) -> None:
        self.event_id = event_id
        self.status: UtteranceStatus = "queued"
        self.ended_by: EndedBy | None = None
        self.audio_seconds = 0.0
        self.chunks = 0
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self._end_sent = False  # its end messages are on the wire: the avatar may finish it
        self._plays_until = 0.0  # loop time its audio has played by, once its end is sent
        self._deadline: asyncio.TimerHandle | None = None
        self._done: asyncio.Future[UtteranceStatus] = asyncio.get_running_loop().create_future()

    def __repr__(self) -> str:
        return f"Utterance({self.event_id!r}, status={self.status!r}, ended_by={self.ended_by!r})"

    @property
    def confirmed(self) -> bool:
        """Whether the service reported its end (`CONFIRMED_ENDINGS`), not a deadline or a drop."""
        return self.ended_by in CONFIRMED_ENDINGS

    def __await__(self):  # type: ignore[no-untyped-def]
        return asyncio.shield(self._done).__await__()

    async def finished(self) -> UtteranceStatus:
        """Wait for the outcome: ``ended``, ``interrupted`` or ``lost``."""
        return await asyncio.shield(self._done)

    @property
    def done(self) -> bool:
        """Whether the utterance has its final status."""
        return self._done.done()

    def _settle(self, status: UtteranceStatus, ended_by: EndedBy) -> None:
        if self._done.done():
            return
        if self.status == "interrupted":
            status = "interrupted"  # we stopped it: whatever confirms that, it stays so
        self.status = status
        self.ended_by = ended_by
        self.ended_at = self._done.get_loop().time()
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._done.set_result(status)


class AudioPump:
    """Sends utterances over a `RealtimeConnection`, and ends each one.

    Args:
        connection: The control socket.
        config: Chunking, pacing and the completion margin.
        lead_gate: Where each utterance takes a slot before its lead burst
            (a `SlotGate`: a start-up storm of many sessions sends a few leads
            at a time); None sends at once.

    Attributes:
        avatar_state: The avatar's last reported state (``idle``,
            ``listening`` or ``talking``, as the service names it); None
            until the service reports one.
    """

    def __init__(
        self,
        connection: RealtimeConnection,
        config: PumpConfig | None = None,
        lead_gate: SlotGate | None = None,
    ) -> None:
        self.connection = connection
        self.config = config or PumpConfig()
        self._lead_gate = lead_gate
        self.dialect: Dialect = connection.dialect
        self.speech: SpeechDialect = speech_dialect(connection.dialect)
        self.stats = PumpStats()
        self._utterances: dict[str, Utterance] = {}
        self._generation = 0
        self._jobs: set[asyncio.Task[None]] = set()
        self._wire = asyncio.Lock()  # serialises chunk sends against interrupts
        self._turn = asyncio.Lock()  # utterances go out one after another
        self._interrupts = 0  # a stream stops at an interrupt made after it started
        self._streams: set[_StreamReader] = set()
        self._closed = False  # the socket is gone for good: nothing more can be sent
        # Loop time when all audio sent so far will have played: the service
        # plays one buffer in real time, so each chunk plays after the last.
        self._play_until = 0.0
        # Lost when the service reported the session over, before the socket closed:
        # still reported in the `ConnectionLost` that follows.
        self._lost_before_close: list[str] = []
        self.avatar_state: str | None = None
        connection.on_event(self._on_event)
        connection.lost_utterances = self._lose_in_flight

    # -- public API -----------------------------------------------------------------------

    def start_speaking(
        self,
        audio: AudioInput | AsyncIterable[AudioInput],
        *,
        sample_rate: int | None = None,
        channels: int | None = None,
    ) -> tuple[list[Utterance], asyncio.Task[None]]:
        """Start sending `audio`; return its utterances (a list that grows) and the sending task.

        A whole buffer or file is converted here, before anything is sent:
        bad audio raises `AudioFormatError` from this call. A stream is read
        by the task; a pause in it starts a new utterance, an `interrupt`
        ends it for good. A bad item (a path or text is not audio: pass a
        WAV path itself, not in a stream), an odd byte count or the source
        raising makes the task raise, once the utterance it cut short is
        interrupted and has ended; the session stays usable.

        Raises:
            RealtimeConnectionError: The socket is gone for good (the session ended).
        """
        if self._closed:
            raise RealtimeConnectionError(
                "the realtime socket is closed (the session ended); start a new session"
            )
        utterances: list[Utterance] = []
        if isinstance(audio, AsyncIterable):
            job = self._speak_stream(audio, sample_rate, channels, utterances, self._interrupts)
        else:
            from heygen_core.audio.convert import speech_buffer  # numpy, soxr: when needed

            pcm = speech_buffer(audio, sample_rate, channels)
            utterance = self._new_utterance()
            utterances.append(utterance)
            job = self._speak_buffer(utterance, pcm)
        task = asyncio.create_task(job, name="heygen-speak")
        self._jobs.add(task)
        task.add_done_callback(self._jobs.discard)
        return utterances, task

    async def speak(
        self,
        audio: AudioInput | AsyncIterable[AudioInput],
        *,
        sample_rate: int | None = None,
        channels: int | None = None,
    ) -> list[Utterance]:
        """Send `audio` and return its utterances once all of it is on the wire.

        Await the utterances for the avatar's outcome. Cancelling this call
        interrupts what it was sending.
        """
        utterances, task = self.start_speaking(audio, sample_rate=sample_rate, channels=channels)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            task.cancel()
            raise
        return utterances

    async def _speak_buffer(self, utterance: Utterance, pcm: bytes | memoryview) -> None:
        try:
            async with self._turn:
                chunks = _chunks_of(pcm, self.config)
                await self._send_utterance(utterance, chunks, final=True)
        except asyncio.CancelledError:
            await self._interrupt_unfinished([utterance])
            raise
        except RealtimeConnectionError:
            self._fail_unfinished([utterance])
            raise

    def _fail_unfinished(self, utterances: list[Utterance]) -> None:
        # Sending failed for good: nothing more of them goes out, and nothing
        # will report them, so they end now rather than never.
        ended_by: EndedBy = "ready_timeout" if self.connection.ready_failed else "connection_lost"
        for utterance in utterances:
            self._end(utterance, "lost", ended_by)

    async def interrupt(self) -> None:
        """Stop the avatar now and drop everything queued or paced.

        The dialect's interrupt goes out at once; no chunk of an utterance that
        was not fully sent is sent after it, and a streamed `speak` reads
        no further, even when it was between utterances.
        """
        self._generation += 1  # every in-flight sender checks this under the wire lock
        self._interrupts += 1
        for stream in self._streams:
            stream.abort()
        stopping: list[Utterance] = []
        for utterance in list(self._utterances.values()):
            if not utterance.done and utterance.status in ("queued", "sending", "sent", "playing"):
                if utterance.chunks == 0:
                    self._end(utterance, "interrupted", "nothing_to_play")
                else:
                    # Interrupted now; it ends when the service acknowledges
                    # the interrupt, or at the margin if it never does.
                    utterance.status = "interrupted"
                    stopping.append(utterance)
        await self._send_interrupt(stopping)

    async def _send_interrupt(self, stopping: list[Utterance]) -> None:
        # `stopping` is already marked interrupted; each ends at the service's
        # acknowledgement, or at the margin if it never comes.
        self._play_until = 0.0  # nothing sent before plays on
        try:
            async with self._wire:
                for message in self.speech.interrupt():
                    await self.connection.send(message)
        finally:
            when = asyncio.get_running_loop().time() + self.config.completion_margin_seconds
            for utterance in stopping:
                self._expire_at(utterance, when)

    async def start_listening(self) -> None:
        """Put the avatar in its listening pose."""
        await self.connection.send(self.speech.start_listening())

    async def stop_listening(self) -> None:
        """Take the avatar out of its listening pose."""
        await self.connection.send(self.speech.stop_listening())

    # -- sending --------------------------------------------------------------------------

    def _end(self, utterance: Utterance, status: UtteranceStatus, ended_by: EndedBy) -> None:
        # Settled utterances leave the table: events about them are ignored,
        # and later scans (idle, interrupt, drop) stay short.
        utterance._settle(status, ended_by)
        self._utterances.pop(utterance.event_id, None)

    def _expire_at(self, utterance: Utterance, when: float) -> None:
        """Assume `utterance` over at loop time `when` unless a report ends it first."""
        if utterance.done:
            return
        if utterance._deadline is not None:
            utterance._deadline.cancel()
        loop = asyncio.get_running_loop()
        utterance._deadline = loop.call_at(when, self._end, utterance, "ended", "deadline")

    def _new_utterance(self) -> Utterance:
        utterance = Utterance(uuid.uuid4().hex)
        self._utterances[utterance.event_id] = utterance
        return utterance

    async def _speak_stream(
        self,
        source: AsyncIterable[AudioInput],
        sample_rate: int | None,
        channels: int | None,
        utterances: list[Utterance],
        interrupts: int,
    ) -> None:
        stream = _StreamReader(source, sample_rate, channels, self.config)
        self._streams.add(stream)
        if interrupts != self._interrupts or self._closed:
            stream.abort()  # interrupted (or closed) before this task first ran
        try:
            # A bad item, an odd byte count or a failing source raises from
            # has_more (between utterances) or from the chunks (inside one).
            while await stream.has_more():
                utterance = self._new_utterance()
                utterances.append(utterance)
                async with self._turn:
                    try:
                        await self._send_utterance(utterance, stream.utterance_chunks(), final=True)
                    except RealtimeConnectionError:
                        raise
                    except Exception:
                        # Still holding the turn: see _stop_failed.
                        await self._stop_failed(utterances)
                        raise
                if utterance.status == "interrupted":
                    break
        except RealtimeConnectionError:
            self._fail_unfinished(utterances)
            raise
        except BaseException:
            await self._interrupt_unfinished(utterances)
            raise
        finally:
            self._streams.discard(stream)
            await stream.close()

    async def _interrupt_unfinished(self, utterances: list[Utterance]) -> None:
        # Cancelled: any of them not fully sent must not dangle. Its status
        # may already be ``playing`` (the service reported its start) while
        # its end is not on the wire yet.
        if any(not u.done and not u._end_sent and u.status != "interrupted" for u in utterances):
            with contextlib.suppress(HeyGenError):
                await self.interrupt()

    async def _stop_failed(self, utterances: list[Utterance]) -> None:
        """Interrupt a failed stream's unfinished utterance and wait until it has ended.

        Part of its audio is on the wire without its end: left so, the
        avatar would wait for that end for good and play nothing after it.
        The caller holds the turn, so the next utterance goes out only once
        the interrupt is acknowledged (or its margin has passed): an
        acknowledgement that came later would be taken for the next one's.
        Utterances of other calls still queued are not touched.
        """
        failed = [
            u for u in utterances if not u.done and not u._end_sent and u.status != "interrupted"
        ]
        for utterance in failed:
            if utterance.chunks == 0:
                self._end(utterance, "interrupted", "nothing_to_play")
        if not any(u.chunks for u in failed):
            return  # none of it reached the wire: nothing to cut off
        # The interrupt clears the service's one buffer: all that reached it stops.
        stopping = [
            u
            for u in self._utterances.values()
            if not u.done and u.status not in ("queued", "interrupted")
        ]
        for utterance in stopping:
            utterance.status = "interrupted"
        with contextlib.suppress(HeyGenError):
            # Unsent, they still end: at the margin, or when the socket drops.
            await self._send_interrupt(stopping)
        if stopping:
            await asyncio.wait([u._done for u in stopping])

    async def _send_utterance(
        self,
        utterance: Utterance,
        chunks: AsyncIterator[bytes | memoryview],
        *,
        final: bool,
    ) -> None:
        generation = self._generation
        if not utterance.done:
            # From here on its sender holds this generation: if the socket
            # drops before its first chunk, it is lost, not left queued.
            utterance.status = "sending"
        loop = asyncio.get_running_loop()
        offset = 0.0  # seconds of this utterance's audio already sent
        start: float | None = None
        wire = self.speech.utterance(utterance.event_id)
        # Its place in the loop's lead gate, from just before its first chunk
        # until its lead is on the wire (or the gate's hold bound).
        slot: Slot | None = None

        def live() -> bool:
            return generation == self._generation and not utterance.done

        async def send_chunk(chunk: bytes | memoryview) -> bool:
            nonlocal offset, start, slot
            if start is None:
                if self._lead_gate is not None:
                    # Settling the utterance (an interrupt, a drop, a close)
                    # ends the wait: then nothing of it goes out.
                    slot = await self._lead_gate.acquire(utterance._done)
                    if slot is None:
                        return False
                start = utterance.started_at = loop.time()
            planned = start + max(0.0, offset - self.config.lead_seconds)
            if planned > loop.time():
                await asyncio.sleep(planned - loop.time())
            seconds = len(chunk) / BYTES_PER_SECOND
            # Encoded before the wire lock: an interrupt waits for no base64.
            frames = wire.frames(chunk, seconds)
            async with self._wire:
                if not live():
                    return False
                now = loop.time()
                if offset >= self.config.lead_seconds:
                    self.stats.schedule_jitter.append(now - planned)
                for frame in frames:
                    # Asked again after the ready gate: a drop while it waited there
                    # reported the utterance lost, and nothing of it may follow.
                    if not await self.connection.send_encoded(frame, still_wanted=live):
                        return False
                # From when it left, not when it was planned: a closed ready
                # gate may have held it.
                self._play_until = max(self._play_until, loop.time()) + seconds
            if self.stats.first_chunk_at is None:
                self.stats.first_chunk_at = now
            utterance.chunks += 1
            utterance.audio_seconds += seconds
            self.stats.chunks_sent += 1
            self.stats.audio_seconds_sent += seconds
            offset += seconds
            if slot is not None and offset >= self.config.lead_seconds:
                slot.release()  # the lead is out: what follows is paced
            return True

        # The parts come cut already (`_chunks_of`, the stream reader): each is one chunk.
        try:
            async for chunk in chunks:
                if chunk and not await send_chunk(chunk):
                    return
        finally:
            if slot is not None:
                slot.release()  # however its sending ended (a cancellation too)
        if not final:
            return
        async with self._wire:
            if not live():
                return
            if utterance.chunks == 0:
                self._end(utterance, "ended", "nothing_to_play")
                return
            end = wire.end()
            for message in end.messages:
                if not await self.connection.send(message, still_wanted=live):
                    return
            if end.over:
                self._end(utterance, "ended", "nothing_to_play")  # the avatar reports nothing
                return
            utterance._end_sent = True
            utterance._plays_until = self._play_until
            # Whatever the service reports, or fails to, it is over once its
            # audio has played, give or take the margin.
            self._expire_at(utterance, self._play_until + self.config.completion_margin_seconds)
        if not utterance.done:
            utterance.status = "sent"

    # -- receiving ------------------------------------------------------------------------

    def _on_event(self, event: SessionEvent) -> None:
        # A lost connection needs nothing here: _lose_in_flight already ran,
        # called by the connection itself.
        if self.connection.session_over and not self._closed:
            # The service ended the session; its socket may stay open, but
            # nothing more will play or be reported.
            lost = self._lose_in_flight(False, "session_closed")
            self._lost_before_close = list(lost)  # for the `ConnectionLost` to come
            return
        state = self.speech.avatar_state(event)
        if state is not None:
            previous, self.avatar_state = self.avatar_state, state
            if previous == "talking" and state != "talking":
                # Live LITE reports only this: every utterance whose end was
                # sent has played (one buffer, played in order).
                self._end_all(lambda u: u._end_sent, "ended", "state_idle")
        playback = self.speech.playback(event)
        if playback is None:
            return
        if playback.event_id is None:
            if playback.status == "interrupted":
                # The buffer was cleared: everything on the wire is dropped.
                self._end_all(_on_the_wire, "interrupted", "interrupt_ack")
            elif playback.status == "ended":
                # The alpha API's idle covers every utterance fully on the wire.
                self._end_all(lambda u: u._end_sent, "ended", "state_idle")
            return
        found = self._utterances.get(playback.event_id)
        if found is None:
            return
        if playback.status == "playing":
            if not found.done and found.status in ("sending", "sent"):
                found.status = "playing"
        elif playback.status == "ended":
            # Some sessions report speak_ended for every ~20 ms chunk (one
            # buffer, docs/protocol.md §7): only one that comes once our
            # speak_end is out and the audio had time to play ends it.
            loop = asyncio.get_running_loop()
            if found._end_sent and loop.time() >= found._plays_until - _ENDED_EARLY_TOLERANCE:
                self._end(found, "ended", "speak_ended")
        else:
            self._end(found, "interrupted", "interrupt_ack")

    def _end_all(
        self, which: Callable[[Utterance], bool], status: UtteranceStatus, ended_by: EndedBy
    ) -> None:
        for utterance in list(self._utterances.values()):
            if not utterance.done and which(utterance):
                self._end(utterance, status, ended_by)

    def _lose_in_flight(
        self, reconnecting: bool, ended_by: EndedBy = "connection_lost"
    ) -> tuple[str, ...]:
        # The socket closed under us (or the session ended). What was on the
        # wire is cut off; what is queued goes out on the new socket, or,
        # with none to come, is lost too, and streams stop reading.
        lost, self._lost_before_close = self._lost_before_close, []
        self._generation += 1  # nothing of them may go out on the new socket
        self._play_until = 0.0
        if not reconnecting:
            self._closed = True
            for stream in self._streams:
                stream.abort()
        for utterance in list(self._utterances.values()):
            if not utterance.done and (utterance.status != "queued" or not reconnecting):
                self._end(utterance, "lost", ended_by)
                lost.append(utterance.event_id)
        return tuple(lost)

    def close(self, reason: UtteranceStatus = "lost") -> None:
        """Stop sending and settle every open utterance (the session is ending).

        They end with `reason` (an interrupted one stays ``interrupted``) and
        ``ended_by="client_closed"``.
        """
        self._generation += 1
        self._closed = True
        for stream in self._streams:
            stream.abort()
        for job in list(self._jobs):
            job.cancel()
        for utterance in self._utterances.values():
            utterance._settle(reason, "client_closed")
        self._utterances.clear()


def _on_the_wire(utterance: Utterance) -> bool:
    # Fully sent, or interrupted after some of it went out: the service holds it.
    return utterance._end_sent or utterance.status == "interrupted"


async def _chunks_of(pcm: bytes | memoryview, config: PumpConfig) -> AsyncIterator[memoryview]:
    """Cut a whole buffer into chunks: views of it, so the utterance is held once."""
    first = config.first_chunk_ms * BYTES_PER_SECOND // 1000
    size = config.chunk_ms * BYTES_PER_SECOND // 1000
    view = memoryview(pcm)
    at = 0
    while at < len(view):
        end = at + (first if at == 0 else size)
        yield view[at:end]
        at = end


def _path_in_stream(item: str | os.PathLike[str]) -> AudioFormatError:
    # A str in a stream is most likely text meant for a TTS, or a WAV path:
    # either way, say what a stream takes rather than report a missing file.
    text = str(item)
    shown = repr(text if len(text) <= 40 else f"{text[:40]}...")
    return AudioFormatError(
        "audio stream items must be audio: raw PCM16 bytes, numpy int16/float32 arrays or "
        f"WAV file objects opened 'rb'; got a {type(item).__name__} ({shown}). To speak a "
        "WAV file, pass its path to speak() itself, not inside a stream; to speak text, "
        "turn it into audio first (a TTS), or use speak_text in a FULL session"
    )


class _Pieces:
    """Converted audio waiting for the sender: the converter's outputs, held as they came.

    Taking a chunk that lies inside one output is a view of it (no copy);
    one that spans outputs is joined once. A bytearray would copy each
    output in, each chunk out, and move what is left up after each chunk:
    three copies of about 48 kB per second of audio.
    """

    __slots__ = ("_pieces", "_size")

    def __init__(self) -> None:
        self._pieces: deque[memoryview] = deque()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, data: bytes) -> None:
        """Hold `data` (not copied)."""
        if data:
            self._pieces.append(memoryview(data))
            self._size += len(data)

    def take(self, size: int) -> bytes | memoryview:
        """Remove and return the first `size` bytes held (all of them, if fewer)."""
        pieces = self._pieces
        first = pieces[0]
        if len(first) > size:
            pieces[0] = first[size:]
            self._size -= size
            return first[:size]
        if len(first) == size or len(pieces) == 1:
            pieces.popleft()
            self._size -= len(first)
            return first
        parts: list[memoryview] = []
        left = size
        while left and pieces:
            piece = pieces[0]
            if len(piece) > left:
                parts.append(piece[:left])
                pieces[0] = piece[left:]
                left = 0
            else:
                parts.append(pieces.popleft())
                left -= len(piece)
        self._size -= size - left
        return b"".join(parts)


class _Wakeup:
    """A wake-up call for the one task that waits on it, with an optional timeout.

    What `asyncio.Event` and `asyncio.wait_for` do for the stream reader and
    its sender, for less: they hand over once per chunk, and `wait_for` makes
    a task per wait (on Python 3.11), which cost as much as a chunk's base64.
    """

    __slots__ = ("_flag", "_loop", "_waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._flag = False
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        """Wake the waiter, or the next `wait` at once."""
        self._flag = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def clear(self) -> None:
        """Make the next `wait` wait for a `set`."""
        self._flag = False

    async def wait(self, delay: float | None) -> None:
        """Return at the next `set` (at once if set), or after `delay` seconds (None: no limit)."""
        if self._flag:
            return
        waiter = self._waiter = self._loop.create_future()
        timer = None if delay is None else self._loop.call_later(delay, _wake, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class _StreamReader:
    """Reads a user's audio stream in a task and hands it out a chunk at a time.

    Per item (a TTS delivers 20 ms frames) the reading task only appends it
    and checks the length held: items of the stream's first type (bytes or
    numpy arrays) wait in a list until they make a block, which is then
    joined, checked and converted at once (a resampler block of 400 ms for
    the first chunk, then about a second), and the sender is woken only when
    a chunk is ready. The first chunk of an utterance is what the first block
    gave: a resampler's few milliseconds of delay must not make it wait for
    a second block. A pause of ``end_gap_seconds`` with no new item ends the
    current utterance and flushes what is held. Read-ahead is bounded: the
    task stops pulling from the source while it holds more than two chunks
    the sender has not taken (so at most about three, with the block it gathers).
    `abort` ends the stream at once (an interrupt).
    """

    def __init__(
        self,
        source: AsyncIterable[AudioInput],
        sample_rate: int | None,
        channels: int | None,
        config: PumpConfig,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._config = config
        self._first_bytes = config.first_chunk_ms * BYTES_PER_SECOND // 1000
        self._chunk_bytes = config.chunk_ms * BYTES_PER_SECOND // 1000
        # Read-ahead bound: past two chunks waiting, the reader stops pulling;
        # with the block being gathered, at most about three are held. Two,
        # not one: the reader and the sender then hand over once per two
        # chunks, and each hand-over is two task switches (measured: once
        # per chunk cost about 5% more CPU at 48 kHz).
        self._ahead_limit = 2 * self._chunk_bytes
        self._need = self._first_bytes
        self._buffer = _Pieces()  # converted audio the sender has not taken
        self._converter: AudioConverter | None = None
        self._sample_rate = sample_rate
        self._channels = channels
        # Items of the stream's first type, not converted yet: `_units` is
        # the sum of their len() (bytes, or frames for arrays), and
        # `_threshold` what makes the next block.
        self._kind: type | None = None
        self._items: list[AudioInput] = []
        self._units = 0
        self._threshold = 1
        self._units_per_byte = 1.0  # of `_kind`, per byte of mono int16 input
        self._first_block = True  # the next block is the first since a flush
        self._first_ready = False  # the first block since a flush is converted
        self._waiting_audio = False  # has_more waits for any audio
        self._held_back = False  # the reader waits for the sender (bounded read-ahead)
        self._last_item = _clock()  # time.monotonic, not loop.time(): one call per frame
        self._source_done = False
        self._wake = _Wakeup(self._loop)  # the sender's: audio came, or the stream ended
        self._room = _Wakeup(self._loop)  # the reader's: the sender took a chunk
        self.error: BaseException | None = None
        self.aborted = False
        self._task = asyncio.create_task(self._read(source), name="heygen-audio-reader")

    def abort(self) -> None:
        """End the stream now: no new utterance starts, the current one stops."""
        self.aborted = True
        self._wake.set()
        self._room.set()

    def _holds_audio(self) -> bool:
        return bool(self._items) or (self._converter is not None and self._converter.holds_audio)

    def _start(self, item: AudioInput) -> AudioConverter:
        from heygen_core.audio.convert import AudioConverter  # numpy and soxr: when needed

        converter = self._converter = AudioConverter.for_input(
            item, self._sample_rate, self._channels, batch_ms=self._config.first_chunk_ms
        )
        kind = type(item)
        if kind is bytes:
            self._kind = bytes
            self._units_per_byte = float(converter.channels)
        elif kind.__name__ == "ndarray":
            self._kind = kind
            self._units_per_byte = 0.5  # len() of an array counts frames
        self._set_threshold()
        return converter

    def _set_threshold(self) -> None:
        # Input still missing from the converter's next block, in `_kind` units.
        converter = self._converter
        if converter is None or self._waiting_audio:
            self._threshold = 1
            return
        missing = converter.block_bytes - converter.pending_bytes
        if converter.passthrough and self._first_block:
            missing -= len(self._buffer)  # passed through already: part of the first chunk
        self._threshold = max(1, -int(-missing * self._units_per_byte // 1))

    def _convert_items(self) -> None:
        # A block boundary: join the items, check and convert them in one go.
        # Emptied in place: the reading task holds the list, and a flush
        # (from the sender's task, at a pause) comes here too.
        items = self._items.copy()
        self._items.clear()
        self._units = 0
        converter = self._converter
        if not items or converter is None:
            return
        if self._kind is bytes:
            for item in items:
                reject_wav_bytes(item)  # type: ignore[arg-type]
            out = converter.push(items[0] if len(items) == 1 else b"".join(items))  # type: ignore[arg-type]
        else:
            out = converter.push_arrays(items)  # type: ignore[arg-type]
        self._took(out)

    def _took(self, out: bytes) -> None:
        converter = self._converter
        assert converter is not None
        if out:
            self._buffer.append(out)
            # A resampler gives output only for a whole block; input at the
            # wire rate passes through at once, and is a block when it is a chunk.
            if self._first_block and (
                not converter.passthrough or len(self._buffer) >= self._first_bytes
            ):
                # Resample a chunk at a time: per-call overhead dominates
                # with 20 ms frames; only the first block is short.
                self._first_block = False
                self._first_ready = True
                converter.batch_ms = self._config.chunk_ms
        if self._buffer or converter.holds_audio:
            self._waiting_audio = False  # has_more has its audio: blocks resume
            self._wake.set()
        self._set_threshold()

    def _flush_converter(self) -> None:
        # The input paused or ended: what is held must go out.
        if self._converter is not None:
            self._convert_items()
            self._buffer.append(self._converter.flush())
            self._converter.batch_ms = self._config.first_chunk_ms
            self._first_block = True
            self._first_ready = False
            self._set_threshold()

    async def _read(self, source: AsyncIterable[AudioInput]) -> None:
        items = self._items
        try:
            async for item in source:
                self._last_item = _clock()
                if type(item) is self._kind or not self._push_other(item):
                    # The per-frame path: an append and a length check.
                    items.append(item)
                    self._units += len(item)  # type: ignore[arg-type]
                    if self._units < self._threshold:
                        continue
                    self._convert_items()
                if len(self._buffer) > self._ahead_limit:
                    await self._wait_for_room()
        except Exception as exc:  # the user's source or bad audio: reported by speak()
            self.error = exc
        finally:
            self._source_done = True
            self._wake.set()

    def _push_other(self, item: AudioInput) -> bool:
        """Convert an item not of the stream's first type now; False if it is (the first item)."""
        if isinstance(item, PATH_TYPES):
            raise _path_in_stream(item)
        converter = self._converter
        if converter is None:
            converter = self._start(item)
            if type(item) is self._kind:
                return False
        self._convert_items()  # what came before it goes first
        self._took(converter.push(item))
        return True

    async def _wait_for_room(self) -> None:
        # Bounded read-ahead: a slow sender holds the source back.
        self._held_back = True
        try:
            while len(self._buffer) > self._ahead_limit and not self.aborted:
                self._room.clear()
                await self._room.wait(None)
        finally:
            self._held_back = False
            self._last_item = _clock()  # the wait was ours, not a pause

    async def has_more(self) -> bool:
        """Wait until there is audio for a new utterance; False at the end of the source."""
        self._need = 1  # any audio starts an utterance
        # Audio the converter still holds counts: `utterance_chunks` flushes
        # it at the end of the source or at a pause, as at 24 kHz.
        while not (self._buffer or self._holds_audio()) and not self._source_done:
            if self.aborted:
                return False
            self._waiting_audio = True
            self._set_threshold()  # the next item wakes us
            self._wake.clear()
            try:
                await self._wake.wait(None)
            finally:
                self._waiting_audio = False
                self._set_threshold()
        if self.error is not None:
            raise self.error
        if self.aborted:
            return False
        if self._buffer or self._holds_audio():
            return True
        # The source ended between utterances: a lone byte it left (an odd
        # total) must be refused, not silently dropped.
        self._flush_converter()
        return False

    def _take(self, size: int) -> bytes | memoryview:
        chunk = self._buffer.take(size)
        self._room.set()
        return chunk

    async def utterance_chunks(self) -> AsyncIterator[bytes | memoryview]:
        """Yield one utterance's audio in chunks; stop at a pause or the end of the source."""
        self._need = self._first_bytes
        first = True
        while not self.aborted:
            if self.error is not None:
                # A bad item or a failing source: nothing more of this
                # utterance goes out, and it must not end as if whole.
                raise self.error
            if len(self._buffer) >= self._need or (first and self._first_ready and self._buffer):
                # The first chunk is what the first block gave, even a few
                # ms short of first_chunk_ms (the resampler's delay).
                chunk = self._take(min(self._need, len(self._buffer)))
                self._need = self._chunk_bytes
                first = False
                yield chunk
                continue
            idle = _clock() - self._last_item
            if self._source_done or (not self._held_back and idle >= self._config.end_gap_seconds):
                self._flush_converter()  # raises at an odd total: the utterance fails
                while self._buffer:
                    yield self._take(self._need)
                    self._need = self._chunk_bytes
                return
            self._wake.clear()
            await self._wake.wait(max(self._config.end_gap_seconds - idle, 0.001))

    async def close(self) -> None:
        """Stop reading the source (it is closed if still open)."""
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task
