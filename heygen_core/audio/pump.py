"""The audio pump: turns a user's audio into paced, chunked speak commands.

It owns the send side of utterances: conversion to 24 kHz mono PCM16 (through
`heygen_core.audio.convert`), chunking (a short first chunk, then about a second),
pacing (a lead, then real time), ending each utterance, and interrupts that
guarantee no chunk of an interrupted utterance reaches the wire afterwards.
What the messages are, and which server events report playback, is the
dialect's business (`heygen_core.audio.dialects`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from typing import Literal

from heygen_core.audio.convert import AudioConverter, to_pcm16_mono_24k
from heygen_core.audio.dialects import SpeechDialect, speech_dialect
from heygen_core.audio.format import BYTES_PER_SECOND, SAMPLE_RATE, AudioInput
from heygen_core.errors import HeyGenError, RealtimeConnectionError
from heygen_core.realtime.connection import (
    Dialect,
    Event,
    RealtimeConnection,
)

__all__ = [
    "BYTES_PER_SECOND",
    "SAMPLE_RATE",
    "AudioPump",
    "PumpConfig",
    "PumpStats",
    "Utterance",
    "UtteranceStatus",
]

logger = logging.getLogger("heygen_core.pump")

UtteranceStatus = Literal["queued", "sending", "sent", "playing", "ended", "interrupted", "lost"]
"""Where an utterance is: in our queue, on the wire, at the avatar, or done."""


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
    """

    first_chunk_ms: int = 400
    chunk_ms: int = 1000
    lead_seconds: float = 3.0
    end_gap_seconds: float = 0.5
    send_audio_format: bool = False

    def __post_init__(self) -> None:
        # 10 s of 24 kHz PCM16 is 480 kB raw, 640 kB as base64: with its JSON
        # around it, well under the service's 1 MB message limit.
        if not 20 <= self.first_chunk_ms <= 10_000 or not 20 <= self.chunk_ms <= 10_000:
            raise ValueError("chunk lengths must be between 20 and 10000 ms")
        if self.lead_seconds < 0 or self.end_gap_seconds <= 0:
            raise ValueError("lead_seconds must be >= 0 and end_gap_seconds > 0")


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
    finished it), ``interrupted``, or ``lost`` (the connection dropped).
    """

    def __init__(self, event_id: str) -> None:
        self.event_id = event_id
        self.status: UtteranceStatus = "queued"
        self.audio_seconds = 0.0
        self.chunks = 0
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self._done: asyncio.Future[UtteranceStatus] = asyncio.get_running_loop().create_future()

    def __repr__(self) -> str:
        return f"Utterance({self.event_id!r}, status={self.status!r})"

    def __await__(self):  # type: ignore[no-untyped-def]
        return asyncio.shield(self._done).__await__()

    async def finished(self) -> UtteranceStatus:
        """Wait for the outcome: ``ended``, ``interrupted`` or ``lost``."""
        return await asyncio.shield(self._done)

    @property
    def done(self) -> bool:
        """Whether the utterance has its final status."""
        return self._done.done()

    def _settle(self, status: UtteranceStatus) -> None:
        if not self._done.done():
            self.status = status
            self._done.set_result(status)


class AudioPump:
    """Sends utterances over a `RealtimeConnection`.

    Args:
        connection: The control socket.
        config: Chunking and pacing.
    """

    def __init__(self, connection: RealtimeConnection, config: PumpConfig | None = None) -> None:
        self.connection = connection
        self.config = config or PumpConfig()
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
        ends it for good, and a bad item makes the task raise (after
        interrupting its utterance).

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
            pcm = to_pcm16_mono_24k(audio, sample_rate, channels)
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

    async def _speak_buffer(self, utterance: Utterance, pcm: bytes) -> None:
        try:
            async with self._turn:
                await self._send_utterance(utterance, _single(pcm), final=True)
        except asyncio.CancelledError:
            await self._interrupt_unfinished([utterance])
            raise

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
        for utterance in list(self._utterances.values()):
            if not utterance.done and utterance.status in ("queued", "sending", "sent", "playing"):
                self._end(utterance, "interrupted")
        async with self._wire:
            for message in self.speech.interrupt():
                await self.connection.send(message)

    async def start_listening(self) -> None:
        """Put the avatar in its listening pose."""
        await self.connection.send(self.speech.start_listening())

    async def stop_listening(self) -> None:
        """Take the avatar out of its listening pose."""
        await self.connection.send(self.speech.stop_listening())

    # -- sending --------------------------------------------------------------------------

    def _end(self, utterance: Utterance, status: UtteranceStatus) -> None:
        # Settled utterances leave the table: events about them are ignored,
        # and later scans (idle, interrupt, drop) stay short.
        utterance._settle(status)
        self._utterances.pop(utterance.event_id, None)

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
            while await stream.has_more():
                utterance = self._new_utterance()
                utterances.append(utterance)
                async with self._turn:
                    await self._send_utterance(utterance, stream.utterance_chunks(), final=True)
                if stream.error is not None or utterance.status == "interrupted":
                    break
        except BaseException:
            await self._interrupt_unfinished(utterances)
            raise
        finally:
            self._streams.discard(stream)
            await stream.close()
        if stream.error is not None:
            # A bad item: what was sent of its utterance must not dangle.
            await self._interrupt_unfinished(utterances)
            raise stream.error

    async def _interrupt_unfinished(self, utterances: list[Utterance]) -> None:
        if any(not u.done and u.status in ("queued", "sending") for u in utterances):
            with contextlib.suppress(HeyGenError):
                await self.interrupt()

    async def _send_utterance(
        self, utterance: Utterance, pcm_parts: AsyncIterator[bytes], *, final: bool
    ) -> None:
        generation = self._generation
        if not utterance.done:
            # From here on its sender holds this generation: if the socket
            # drops before its first chunk, it is lost, not left queued.
            utterance.status = "sending"
        loop = asyncio.get_running_loop()
        first = self.config.first_chunk_ms * BYTES_PER_SECOND // 1000
        size = self.config.chunk_ms * BYTES_PER_SECOND // 1000
        buffer = bytearray()
        offset = 0.0  # seconds of this utterance's audio already sent
        start: float | None = None
        wire = self.speech.utterance(utterance.event_id)

        def live() -> bool:
            return generation == self._generation and not utterance.done

        async def send_chunk(chunk: bytes) -> bool:
            nonlocal offset, start
            if start is None:
                start = utterance.started_at = loop.time()
            planned = start + max(0.0, offset - self.config.lead_seconds)
            if planned > loop.time():
                await asyncio.sleep(planned - loop.time())
            seconds = len(chunk) / BYTES_PER_SECOND
            audio = base64.b64encode(chunk).decode("ascii")
            async with self._wire:
                if not live():
                    return False
                now = loop.time()
                if offset >= self.config.lead_seconds:
                    self.stats.schedule_jitter.append(now - planned)
                for message in wire.chunk(audio, seconds):
                    await self.connection.send(message)
            if self.stats.first_chunk_at is None:
                self.stats.first_chunk_at = now
            utterance.chunks += 1
            utterance.audio_seconds += seconds
            self.stats.chunks_sent += 1
            self.stats.audio_seconds_sent += seconds
            offset += seconds
            return True

        async for part in pcm_parts:
            if not buffer and len(part) == (first if utterance.chunks == 0 else size):
                # The stream reader already cuts exact chunks: skip the copies.
                if not await send_chunk(part):
                    return
                continue
            buffer += part
            while len(buffer) >= (cut := first if utterance.chunks == 0 else size):
                chunk = bytes(buffer[:cut])
                del buffer[:cut]
                if not await send_chunk(chunk):
                    return
        if buffer and not await send_chunk(bytes(buffer)):
            return
        if not final:
            return
        async with self._wire:
            if not live():
                return
            if utterance.chunks == 0:
                self._end(utterance, "ended")  # nothing to play
                return
            end = wire.end()
            for message in end.messages:
                await self.connection.send(message)
            if end.over:
                self._end(utterance, "ended")  # the avatar will report nothing
                return
        if not utterance.done:
            utterance.status = "sent"

    # -- receiving ------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        # A lost connection needs nothing here: _lose_in_flight already ran,
        # called by the connection itself.
        playback = self.speech.playback(event)
        if playback is None:
            return
        if playback.event_id is None:
            # A report about no one utterance (the alpha API's idle): it
            # covers every utterance that is fully on the wire.
            for utterance in list(self._utterances.values()):
                if utterance.status == "sent":
                    self._end(utterance, playback.status)
            return
        found = self._utterances.get(playback.event_id)
        if found is None:
            return
        if playback.status == "playing":
            if not found.done:
                found.status = "playing"
        else:
            self._end(found, playback.status)

    def _lose_in_flight(self, reconnecting: bool) -> tuple[str, ...]:
        # The socket closed under us. What was on the wire is cut off; what
        # is queued goes out on the new socket, or, with none to come (the
        # service ended the session), is lost too, and streams stop reading.
        lost = []
        self._generation += 1  # nothing of them may go out on the new socket
        if not reconnecting:
            self._closed = True
            for stream in self._streams:
                stream.abort()
        for utterance in list(self._utterances.values()):
            if not utterance.done and (utterance.status != "queued" or not reconnecting):
                self._end(utterance, "lost")
                lost.append(utterance.event_id)
        return tuple(lost)

    def close(self, reason: UtteranceStatus = "lost") -> None:
        """Stop sending and settle every open utterance (the session is ending)."""
        self._generation += 1
        self._closed = True
        for stream in self._streams:
            stream.abort()
        for job in list(self._jobs):
            job.cancel()
        for utterance in self._utterances.values():
            utterance._settle(reason)
        self._utterances.clear()


async def _single(pcm: bytes) -> AsyncIterator[bytes]:
    yield pcm


class _StreamReader:
    """Reads a user's audio stream in a task and hands it out a chunk at a time.

    The reading task converts each item as it arrives (a TTS delivers 20 ms
    frames) and wakes the sender only when a whole chunk is ready, so the
    per-frame cost is the conversion alone, not a task switch. A pause of
    ``end_gap_seconds`` with no new item ends the current utterance, and
    flushes what the converter holds (input at another rate waits there for
    a whole batch). `abort` ends the stream at once (an interrupt).
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
        self._need = self._first_bytes
        self._buffer = bytearray()
        self._converter: AudioConverter | None = None
        self._sample_rate = sample_rate
        self._channels = channels
        self._last_item = self._loop.time()
        self._source_done = False
        self._wake = asyncio.Event()
        self.error: BaseException | None = None
        self.aborted = False
        self._task = asyncio.create_task(self._read(source), name="heygen-audio-reader")

    def abort(self) -> None:
        """End the stream now: no new utterance starts, the current one stops."""
        self.aborted = True
        self._wake.set()

    def _holds_audio(self) -> bool:
        return self._converter is not None and self._converter.holds_audio

    def _flush_converter(self) -> None:
        # The input paused or ended: what the converter batches must go out.
        if self._converter is not None:
            self._buffer += self._converter.flush()
            self._converter.batch_ms = self._config.first_chunk_ms

    async def _read(self, source: AsyncIterable[AudioInput]) -> None:
        try:
            async for item in source:
                self._last_item = self._loop.time()
                converter = self._converter
                if converter is None:
                    converter = self._converter = AudioConverter.for_input(
                        item,
                        self._sample_rate,
                        self._channels,
                        batch_ms=self._config.first_chunk_ms,
                    )
                held = converter.holds_audio
                out = converter.push(item)
                if not out and not held and converter.holds_audio:
                    self._wake.set()  # audio is held: has_more starts an utterance
                if out:
                    self._buffer += out
                    # Resample a chunk at a time: per-call overhead dominates
                    # with 20 ms frames; only the first chunk is short.
                    converter.batch_ms = self._config.chunk_ms
                    if len(self._buffer) >= self._need:
                        self._wake.set()
        except Exception as exc:  # the user's source or bad audio: reported by speak()
            self.error = exc
        finally:
            self._source_done = True
            self._wake.set()

    async def has_more(self) -> bool:
        """Wait until there is audio for a new utterance; False at the end of the source."""
        self._need = 1  # any audio starts an utterance
        # Audio the converter still holds counts: `utterance_chunks` flushes
        # it at the end of the source or at a pause, as at 24 kHz.
        while not (self._buffer or self._holds_audio()) and not self._source_done:
            if self.aborted or self.error is not None:
                return False
            self._wake.clear()
            await self._wake.wait()
        has_audio = bool(self._buffer) or self._holds_audio()
        return has_audio and self.error is None and not self.aborted

    async def utterance_chunks(self) -> AsyncIterator[bytes]:
        """Yield one utterance's audio in chunks; stop at a pause or the end of the source."""
        self._need = self._first_bytes
        while not self.aborted:
            if len(self._buffer) >= self._need:
                with memoryview(self._buffer) as view:
                    chunk = bytes(view[: self._need])  # one copy, not two
                del self._buffer[: self._need]
                self._need = self._chunk_bytes
                yield chunk
                continue
            idle = self._loop.time() - self._last_item
            if self._source_done or idle >= self._config.end_gap_seconds:
                if self.error is None:
                    self._flush_converter()
                    rest = bytes(self._buffer)
                    self._buffer.clear()
                    if rest:
                        yield rest
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._config.end_gap_seconds - idle)

    async def close(self) -> None:
        """Stop reading the source (it is closed if still open)."""
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task
