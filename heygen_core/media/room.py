"""The media interface: a session's room, its tracks and its data channel.

The avatar's voice and video, the users' audio and FULL mode's events all
live in the session's room. `MediaRoom` is what heygen-core needs of one.
This module knows no implementation: `heygen_core.media.registry` finds the
one that serves a room URL by its scheme (`open_room`), LiveKit's for real
sessions and the embedded simulator's for offline ones among them.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import AsyncIterator, Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from heygen_core.audio.convert import to_pcm16_mono_24k
from heygen_core.audio.format import AudioInput
from heygen_core.errors import AudioFormatError

VideoFormat = Literal["RGB24", "RGBA"]
"""Pixel formats the video iterators deliver."""


@dataclass(frozen=True)
class AudioChunk:
    """Mono PCM16 audio from a track.

    Attributes:
        pcm: Signed 16-bit little-endian samples, mono.
        sample_rate: Samples per second of `pcm`.
        timestamp: Seconds since the track's first chunk.
    """

    pcm: bytes = field(repr=False)
    sample_rate: int
    timestamp: float

    @property
    def samples(self) -> NDArray[np.int16]:
        """The samples as an int16 array (a view, no copy)."""
        return np.frombuffer(self.pcm, dtype="<i2")

    @property
    def duration(self) -> float:
        """Seconds of audio in the chunk."""
        return len(self.pcm) / 2 / self.sample_rate


@dataclass(frozen=True)
class VideoFrame:
    """One decoded video frame.

    Attributes:
        width: Pixels per row.
        height: Rows.
        format: ``RGB24`` (3 bytes a pixel) or ``RGBA`` (4).
        data: Rows of pixels, top to bottom, no padding.
        timestamp: Seconds since the track's first frame.
    """

    width: int
    height: int
    format: VideoFormat
    data: bytes = field(repr=False)
    timestamp: float

    @property
    def pixels(self) -> NDArray[np.uint8]:
        """The frame as a (height, width, channels) uint8 array (a view)."""
        channels = 3 if self.format == "RGB24" else 4
        return np.frombuffer(self.data, np.uint8).reshape(self.height, self.width, channels)


@dataclass(frozen=True)
class ParticipantEvent:
    """A user (never the avatar) joined or left the room."""

    kind: Literal["joined", "left"]
    identity: str


@dataclass(frozen=True)
class DataMessage:
    """A data packet received in the room.

    Attributes:
        payload: The packet's bytes.
        topic: Its topic, if any.
        sender: Identity of the participant that sent it, if known.
    """

    payload: bytes = field(repr=False)
    topic: str | None
    sender: str | None


def check_pcm16(pcm: bytes, sample_rate: int) -> None:
    """Refuse audio a room cannot carry: an odd byte count or a bad rate.

    Raises:
        AudioFormatError: What is wrong, and what is expected.
    """
    if sample_rate <= 0:
        raise AudioFormatError(f"sample_rate must be positive, got {sample_rate}")
    if len(pcm) % 2:
        raise AudioFormatError(f"{len(pcm)} bytes is not whole 16-bit samples (mono PCM16)")


async def on_topic(
    messages: AsyncIterator[DataMessage], topic: str | None
) -> AsyncIterator[DataMessage]:
    """Yield the messages on `topic` (all of them when `topic` is None)."""
    async for message in messages:
        if topic is None or message.topic == topic:
            yield message


async def present_then_changes(
    present: tuple[str, ...], changes: AsyncIterator[ParticipantEvent]
) -> AsyncIterator[ParticipantEvent]:
    """Yield each user in `present` as joined, then `changes`, consistently.

    Take `present` and subscribe to `changes` at the same moment (when the
    iterator is made): a change already counted in `present` (a join that
    was still on its way) is not repeated, and nobody leaves who never joined.
    """
    here = set(present)
    for identity in present:
        yield ParticipantEvent("joined", identity)
    async for event in changes:
        if event.kind == "joined":
            if event.identity in here:
                continue
            here.add(event.identity)
        elif event.identity in here:
            here.discard(event.identity)
        else:
            continue
        yield event


class ParticipantWatch:
    """Callers waiting for participants to be in a room (for `MediaRoom` implementations).

    The room calls `changed` whenever someone joins or leaves and `close`
    once it is left; `wait` re-reads who is there at each change.
    """

    def __init__(self) -> None:
        self._wakers: set[asyncio.Future[None]] = set()
        self._closed = False

    def changed(self) -> None:
        """Someone joined or left: waiters look again."""
        for waker in self._wakers:
            if not waker.done():
                waker.set_result(None)

    def close(self) -> None:
        """The room was left: waiters stop waiting (those missing stay missing)."""
        self._closed = True
        self.changed()

    async def wait(
        self,
        identities: Iterable[str],
        present: Callable[[], Collection[str]],
        limit: float,
    ) -> tuple[str, ...]:
        """Wait until every one of `identities` is in `present()`; return those missing.

        Returns at once when the room has been left, and after `limit`
        seconds at the latest; an empty tuple means everyone is there.
        """
        needed = tuple(dict.fromkeys(identities))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while True:
            here = set(present())
            missing = tuple(identity for identity in needed if identity not in here)
            remaining = deadline - loop.time()
            if not missing or self._closed or remaining <= 0:
                return missing
            waker: asyncio.Future[None] = loop.create_future()
            self._wakers.add(waker)
            try:
                # asyncio.wait, not wait_for: a timeout must not cancel the waker
                # while `changed` may be resolving it.
                await asyncio.wait({waker}, timeout=remaining)
            finally:
                self._wakers.discard(waker)


class MediaRoom(abc.ABC):
    """A session's room, as heygen-core uses it. Leave it with `disconnect()`."""

    @abc.abstractmethod
    async def connect(self, url: str, token: str) -> None:
        """Join the room at `url` with `token` (the agent or the client token).

        Raises:
            MediaError: The room could not be joined (the message says why).
        """

    @abc.abstractmethod
    async def disconnect(self) -> None:
        """Leave the room; safe to call more than once."""

    @property
    @abc.abstractmethod
    def users(self) -> tuple[str, ...]:
        """Identities of the users in the room now (the avatar left out)."""

    @property
    @abc.abstractmethod
    def participants(self) -> tuple[str, ...]:
        """Identities of everyone else in the room now, the avatar included.

        Unlike `users`, it counts the avatar (``heygen``) and the service's
        agent (``liveavatar-agent-<session_id>``) once they have joined.
        """

    @abc.abstractmethod
    async def wait_for_participants(
        self, identities: Iterable[str], limit: float
    ) -> tuple[str, ...]:
        """Wait until all of `identities` are in the room; return those still missing.

        An empty tuple means they are all there. It gives up after `limit`
        seconds, or at once when the room is left; it never raises for that.
        Call it before or after `connect`.
        """

    @abc.abstractmethod
    def avatar_audio(self, sample_rate: int = 24_000) -> AsyncIterator[AudioChunk]:
        """The avatar's voice (participant ``heygen`` only), mono, at `sample_rate`."""

    @abc.abstractmethod
    def avatar_video(self, format: VideoFormat = "RGB24") -> AsyncIterator[VideoFrame]:
        """The avatar's video frames (participant ``heygen`` only)."""

    @abc.abstractmethod
    def user_events(self) -> AsyncIterator[ParticipantEvent]:
        """Users joining and leaving (the avatar is filtered out).

        It starts with the users already in the room, each as ``joined``.
        """

    @abc.abstractmethod
    def user_audio(self, identity: str, sample_rate: int = 16_000) -> AsyncIterator[AudioChunk]:
        """One user's microphone, mono, at `sample_rate` (for speech-to-text)."""

    @abc.abstractmethod
    async def publish_audio(self, pcm: bytes, sample_rate: int) -> None:
        """Publish mono PCM16 audio into the room as this participant, in real time.

        Returns once it has all been played out: about its duration after the call.
        """

    async def publish(
        self, audio: AudioInput, sample_rate: int | None = None, channels: int | None = None
    ) -> None:
        """Publish any audio `speak` accepts (bytes, int16/float32 arrays, WAV files).

        It is converted to 24 kHz mono PCM16 first, so bad input fails here,
        before anything reaches the room.

        Raises:
            AudioFormatError: The audio is not supported (the message says what is).
        """
        await self.publish_audio(to_pcm16_mono_24k(audio, sample_rate, channels), 24_000)

    @abc.abstractmethod
    async def send_data(self, payload: bytes, topic: str) -> None:
        """Send a reliable data packet on `topic` to the room."""

    @abc.abstractmethod
    def data(self, topic: str | None = None) -> AsyncIterator[DataMessage]:
        """Data packets received from now on (on `topic` only, when given)."""
