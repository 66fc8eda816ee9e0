"""The audio pump: turns a user's audio into paced, chunked speak commands.

It owns the send side of utterances: conversion to 24 kHz mono PCM16 (through
`heygen_core.audio`), chunking (a short first chunk, then about a second),
pacing (a lead, then real time), ``speak_end``, and interrupts that
guarantee no chunk of an interrupted utterance reaches the wire afterwards.
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

from heygen_models import lite, realtime_alpha
from pydantic import BaseModel

from heygen_core.audio import AudioConverter, AudioInput, to_pcm16_mono_24k
from heygen_core.connection_events import ConnectionLost
from heygen_core.realtime import Dialect, Event, RealtimeConnection

logger = logging.getLogger("heygen_core.pump")

SAMPLE_RATE = 24_000
"""The only rate the service accepts."""

BYTES_PER_SECOND = SAMPLE_RATE * 2
"""24 kHz mono PCM16."""

# The alpha API's vendor demo commits once more than 1 s is buffered and
# clears instead of committing when under 80 ms is buffered.
_ALPHA_COMMIT_MS = 1000
_ALPHA_MIN_COMMIT_MS = 80
_ALPHA_COMMIT_AUDIO = "AA=="  # one zero byte, as the vendor demo sends

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
    """

    first_chunk_ms: int = 400
    chunk_ms: int = 1000
    lead_seconds: float = 3.0
    end_gap_seconds: float = 0.5

    def __post_init__(self) -> None:
        if not 20 <= self.first_chunk_ms <= 10_000 or not 20 <= self.chunk_ms <= 10_000:
            raise ValueError("chunk lengths must be between 20 and 10000 ms")
        # 10 s of base64 PCM is 960 kB: the largest chunk that stays under the
        # service's 1 MB message limit with its JSON around it.
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
        self.stats = PumpStats()
        self._utterances: dict[str, Utterance] = {}
        self._generation = 0
        self._wire = asyncio.Lock()  # serialises chunk sends against interrupts
        self._turn = asyncio.Lock()  # utterances go out one after another
        connection.on_event(self._on_event)
        connection.lost_utterances = self._lose_in_flight

    # -- public API -----------------------------------------------------------------------

    async def speak(
        self,
        audio: AudioInput | AsyncIterable[AudioInput],
        *,
        sample_rate: int | None = None,
        channels: int | None = None,
    ) -> list[Utterance]:
        """Send `audio` as one utterance (or several, for a stream with pauses).

        Returns once everything is on the wire (or interrupted); await the
        returned utterances for the avatar's outcome.

        Raises:
            AudioFormatError: The audio cannot be sent as-is or converted
                (nothing of a whole buffer is sent; a bad item in a stream
                interrupts the utterance it belongs to).
        """
        if isinstance(audio, AsyncIterable):
            return await self._speak_stream(audio, sample_rate, channels)
        # Convert the whole buffer before sending anything: bad audio must
        # fail here, never half-way through an utterance.
        pcm = to_pcm16_mono_24k(audio, sample_rate, channels)
        utterance = self._new_utterance()
        async with self._turn:
            await self._send_utterance(utterance, _single(pcm), final=True)
        return [utterance]

    async def interrupt(self) -> None:
        """Stop the avatar now and drop everything queued or paced.

        ``agent.interrupt`` goes out at once; no chunk of an utterance that
        was not fully sent is sent after it.
        """
        self._generation += 1  # every in-flight sender checks this under the wire lock
        for utterance in list(self._utterances.values()):
            if not utterance.done and utterance.status in ("queued", "sending", "sent", "playing"):
                utterance._settle("interrupted")
        async with self._wire:
            await self.connection.send(self._interrupt_event())
            if self.dialect == "realtime-alpha":
                await self.connection.send(
                    realtime_alpha.AgentAudioBufferClear(
                        type="agent.audio_buffer_clear", event_id=uuid.uuid4().hex
                    )
                )

    async def start_listening(self) -> None:
        """Put the avatar in its listening pose."""
        event_id = uuid.uuid4().hex
        event: BaseModel = (
            lite.AgentStartListening(type="agent.start_listening", event_id=event_id)
            if self.dialect == "lite"
            else realtime_alpha.AgentStartListening(type="agent.start_listening", event_id=event_id)
        )
        await self.connection.send(event)

    async def stop_listening(self) -> None:
        """Take the avatar out of its listening pose."""
        event_id = uuid.uuid4().hex
        event: BaseModel = (
            lite.AgentStopListening(type="agent.stop_listening", event_id=event_id)
            if self.dialect == "lite"
            else realtime_alpha.AgentStopListening(type="agent.stop_listening", event_id=event_id)
        )
        await self.connection.send(event)

    # -- sending --------------------------------------------------------------------------

    def _new_utterance(self) -> Utterance:
        utterance = Utterance(uuid.uuid4().hex)
        self._utterances[utterance.event_id] = utterance
        return utterance

    async def _speak_stream(
        self,
        source: AsyncIterable[AudioInput],
        sample_rate: int | None,
        channels: int | None,
    ) -> list[Utterance]:
        utterances: list[Utterance] = []
        iterator = aiter(source)
        pending: asyncio.Task[AudioInput] | None = asyncio.ensure_future(anext(iterator))
        converter: AudioConverter | None = None
        try:
            while pending is not None:
                utterance = self._new_utterance()
                utterances.append(utterance)
                queue: asyncio.Queue[bytes | None] = asyncio.Queue()
                async with self._turn:
                    sender = asyncio.create_task(
                        self._send_utterance(utterance, _drain(queue), final=True)
                    )
                    try:
                        while True:
                            done, _ = await asyncio.wait(
                                {pending}, timeout=self.config.end_gap_seconds
                            )
                            if not done:
                                # A pause in the stream ends this utterance; the
                                # pending read carries on into the next one.
                                if converter is not None:
                                    queue.put_nowait(converter.flush())
                                    converter.batch_ms = self.config.first_chunk_ms
                                break
                            try:
                                item = pending.result()
                            except StopAsyncIteration:
                                pending = None
                                if converter is not None:
                                    queue.put_nowait(converter.flush())
                                break
                            pending = asyncio.ensure_future(anext(iterator))
                            if converter is None:
                                converter = AudioConverter.for_input(
                                    item, sample_rate, channels, batch_ms=self.config.first_chunk_ms
                                )
                            ready = converter.push(item)
                            if ready:
                                # Resample a chunk at a time: per-call overhead
                                # dominates with 20 ms frames, and the first
                                # chunk's batch is short for latency.
                                converter.batch_ms = self.config.chunk_ms
                                queue.put_nowait(ready)
                            if utterance.done:  # interrupted: stop reading this one
                                break
                    except BaseException:
                        sender.cancel()
                        raise
                    finally:
                        queue.put_nowait(None)
                    await sender
                if utterance.status == "interrupted":
                    break
        except BaseException:
            for utterance in utterances:
                if not utterance.done and utterance.status in ("queued", "sending"):
                    await self.interrupt()
                    break
            raise
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending
        return utterances

    async def _send_utterance(
        self, utterance: Utterance, pcm_parts: AsyncIterator[bytes], *, final: bool
    ) -> None:
        generation = self._generation
        loop = asyncio.get_running_loop()
        first = self.config.first_chunk_ms * BYTES_PER_SECOND // 1000
        size = self.config.chunk_ms * BYTES_PER_SECOND // 1000
        buffer = bytearray()
        offset = 0.0  # seconds of this utterance's audio already sent
        start: float | None = None
        alpha_buffered_ms = 0.0  # appended since the last commit

        def live() -> bool:
            return generation == self._generation and not utterance.done

        async def send_chunk(chunk: bytes) -> bool:
            nonlocal offset, start, alpha_buffered_ms
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
                if self.dialect == "lite":
                    await self.connection.send(
                        lite.AgentSpeak(
                            type="agent.speak", audio=audio, event_id=utterance.event_id
                        )
                    )
                else:
                    await self.connection.send(
                        realtime_alpha.AgentAudioBufferAppend(
                            type="agent.audio_buffer_append",
                            audio=audio,
                            event_id=utterance.event_id,
                        )
                    )
                    alpha_buffered_ms += seconds * 1000
                    if alpha_buffered_ms >= _ALPHA_COMMIT_MS:
                        await self.connection.send(self._alpha_commit(utterance.event_id))
                        alpha_buffered_ms = 0.0
            if self.stats.first_chunk_at is None:
                self.stats.first_chunk_at = now
            if not utterance.done:
                utterance.status = "sending"
            utterance.chunks += 1
            utterance.audio_seconds += seconds
            self.stats.chunks_sent += 1
            self.stats.audio_seconds_sent += seconds
            offset += seconds
            return True

        async for part in pcm_parts:
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
                utterance._settle("ended")  # nothing to play
                return
            if self.dialect == "lite":
                end: BaseModel = lite.AgentSpeakEnd(
                    type="agent.speak_end", event_id=utterance.event_id
                )
                await self.connection.send(end)
            elif alpha_buffered_ms >= _ALPHA_MIN_COMMIT_MS:
                await self.connection.send(self._alpha_commit(utterance.event_id))
            elif alpha_buffered_ms > 0:
                await self.connection.send(
                    realtime_alpha.AgentAudioBufferClear(
                        type="agent.audio_buffer_clear", event_id=utterance.event_id
                    )
                )
        if not utterance.done:
            utterance.status = "sent"

    @staticmethod
    def _alpha_commit(event_id: str) -> BaseModel:
        return realtime_alpha.AgentAudioBufferCommit(
            type="agent.audio_buffer_commit", audio=_ALPHA_COMMIT_AUDIO, event_id=event_id
        )

    def _interrupt_event(self) -> BaseModel:
        if self.dialect == "lite":
            return lite.AgentInterrupt(type="agent.interrupt", event_id=uuid.uuid4().hex)
        return realtime_alpha.AgentInterrupt(type="agent.interrupt", event_id=uuid.uuid4().hex)

    # -- receiving ------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if isinstance(
            event, lite.AgentSpeakStarted | lite.AgentSpeakEnded | lite.AgentSpeakInterrupted
        ):
            event_id = event.event_id if isinstance(event.event_id, str) else None
            utterance = self._utterances.get(event_id) if event_id else None
            if utterance is None:
                return
            if isinstance(event, lite.AgentSpeakStarted):
                if not utterance.done:
                    utterance.status = "playing"
            elif isinstance(event, lite.AgentSpeakEnded):
                utterance._settle("ended")
                self._utterances.pop(utterance.event_id, None)
            else:
                utterance._settle("interrupted")
                self._utterances.pop(utterance.event_id, None)
        elif isinstance(event, realtime_alpha.AgentStatus) and event.status == "idle":
            # The alpha API's only known event: idle after playback means
            # every committed utterance has been played.
            for utterance in list(self._utterances.values()):
                if utterance.status == "sent":
                    utterance._settle("ended")
                    self._utterances.pop(utterance.event_id, None)
        elif isinstance(event, ConnectionLost):
            pass  # _lose_in_flight already ran, from the connection

    def _lose_in_flight(self) -> tuple[str, ...]:
        lost = []
        self._generation += 1  # nothing of them may go out on the new socket
        for utterance in list(self._utterances.values()):
            if not utterance.done and utterance.status != "queued":
                utterance._settle("lost")
                lost.append(utterance.event_id)
        return tuple(lost)

    def close(self, reason: UtteranceStatus = "lost") -> None:
        """Settle every open utterance (the session is ending)."""
        self._generation += 1
        for utterance in self._utterances.values():
            utterance._settle(reason)
        self._utterances.clear()


async def _single(pcm: bytes) -> AsyncIterator[bytes]:
    yield pcm


async def _drain(queue: asyncio.Queue[bytes | None]) -> AsyncIterator[bytes]:
    while True:
        part = await queue.get()
        if part is None:
            return
        yield part
