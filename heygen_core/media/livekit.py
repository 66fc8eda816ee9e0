"""`LiveKitRoom`: a session's room on a real LiveKit server, with the ``livekit`` SDK.

Two ways of using it, the two of Pipecat's integration: a bot in the media
path joins with the session's agent token and reads the avatar's tracks to
republish them; a bot beside the user joins with the client token and hears
the users. Either way the avatar is participant ``heygen`` and only its
tracks are the avatar's (Pipecat's service takes whichever participant
comes first, which is a known bug).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from heygen_models.full import AVATAR_IDENTITY
from numpy.typing import NDArray

from heygen_core._extras import import_extra
from heygen_core.errors import AudioFormatError, MediaError
from heygen_core.media.room import (
    AudioChunk,
    DataMessage,
    MediaRoom,
    ParticipantEvent,
    ParticipantWatch,
    VideoFormat,
    VideoFrame,
    check_pcm16,
    on_topic,
    present_then_changes,
)
from heygen_core.realtime.hub import EventHub
from heygen_core.realtime.log_redaction import redacting_logger

if TYPE_CHECKING:
    from livekit import rtc
else:
    # livekit is the `media` extra: without it, this module (which the
    # registry loads only for a LiveKit URL) fails with one line naming it.
    rtc = import_extra("livekit.rtc", extra="media", feature="a LiveKit room")

logger = logging.getLogger("heygen_core.media.room")
# The SDK forwards its native logs to the "livekit" logger, and they may
# quote the URL it dials with its ``access_token`` query: redact them there.
redacting_logger("livekit")

# Published audio is captured in 10 ms frames, the unit WebRTC works in.
_PUBLISH_FRAME_SECONDS = 0.01

_BUFFER_TYPES = {"RGB24": rtc.VideoBufferType.RGB24, "RGBA": rtc.VideoBufferType.RGBA}

# Column order that turns each packed 4-byte layout into R, G, B, A.
_PACKED_ORDER = {
    rtc.VideoBufferType.RGBA: [0, 1, 2, 3],
    rtc.VideoBufferType.BGRA: [2, 1, 0, 3],
    rtc.VideoBufferType.ARGB: [1, 2, 3, 0],
    rtc.VideoBufferType.ABGR: [3, 2, 1, 0],
}


@dataclass(frozen=True)
class _TrackEvent:
    """A remote track became available (or None: the room was left)."""

    identity: str
    track: rtc.Track


def audio_chunk(frame: rtc.AudioFrame, timestamp: float) -> AudioChunk:
    """Convert a mono SDK audio frame to an `AudioChunk`.

    Raises:
        AudioFormatError: The frame is not mono.
    """
    if frame.num_channels != 1:
        raise AudioFormatError(f"expected a mono frame, got {frame.num_channels} channels")
    pcm = bytes(frame.data.cast("B"))[: frame.samples_per_channel * 2]
    return AudioChunk(pcm, frame.sample_rate, timestamp)


def video_frame(frame: rtc.VideoFrame, format: VideoFormat, timestamp: float) -> VideoFrame:
    """Convert an SDK video frame to a `VideoFrame` in `format`.

    Received frames are YUV (I420 and kin), which the SDK converts to either
    format. The SDK cannot convert between its packed RGB layouts (and
    aborts the process on some pairs), so those are reordered here.
    """
    channels = 3 if format == "RGB24" else 4
    width, height = frame.width, frame.height
    if frame.type in _PACKED_ORDER:
        pixels = np.frombuffer(bytes(frame.data), np.uint8)[: width * height * 4]
        rgba = pixels.reshape(-1, 4)[:, _PACKED_ORDER[frame.type]]
        data = rgba[:, :channels].tobytes()
    elif frame.type == rtc.VideoBufferType.RGB24:
        rgb = np.frombuffer(bytes(frame.data), np.uint8)[: width * height * 3].reshape(-1, 3)
        data = rgb.tobytes() if channels == 3 else np.hstack([rgb, _opaque(len(rgb))]).tobytes()
    else:
        converted = frame.convert(_BUFFER_TYPES[format])
        data = bytes(converted.data)[: width * height * channels]
    return VideoFrame(width, height, format, data, timestamp)


def _opaque(count: int) -> NDArray[np.uint8]:
    return np.full((count, 1), 255, np.uint8)


def is_user(identity: str, own_identity: str | None) -> bool:
    """Whether a participant is a user: neither the avatar nor ourselves."""
    return identity not in (AVATAR_IDENTITY, own_identity)


class LiveKitRoom(MediaRoom):
    """A session's room on LiveKit.

    Args:
        connect_timeout: Seconds to join before giving up with `MediaError`.
        room: An `rtc.Room` to use (one is made on `connect` otherwise).
    """

    def __init__(self, connect_timeout: float = 15.0, room: rtc.Room | None = None) -> None:
        self._connect_timeout = connect_timeout
        self._room = room
        self._joined = False
        self._left = False
        self._tracks: EventHub[_TrackEvent] = EventHub()
        self._participants: EventHub[ParticipantEvent] = EventHub()
        self._watch = ParticipantWatch()
        self._data: EventHub[DataMessage] = EventHub()
        self._streams: set[rtc.AudioStream | rtc.VideoStream] = set()
        self._source: rtc.AudioSource | None = None
        self._publish_lock = asyncio.Lock()

    def __repr__(self) -> str:
        state = "left" if self._left else "joined" if self._joined else "not joined"
        return f"<LiveKitRoom {state}>"

    async def connect(self, url: str, token: str) -> None:
        """Join the room at `url` with `token` (the session's agent or client token).

        Raises:
            MediaError: The room could not be joined (never quoting the token).
        """
        if self._joined or self._left:
            raise MediaError("this room object was already used: make a new one to join again")
        room = self._room = self._room or rtc.Room()
        room.on("track_subscribed", self._on_track)
        room.on("participant_connected", self._on_joined)
        room.on("participant_disconnected", self._on_left)
        room.on("data_received", self._on_data)
        room.on("disconnected", self._on_disconnected)
        try:
            await asyncio.wait_for(
                room.connect(url, token, rtc.RoomOptions(auto_subscribe=True)),
                self._connect_timeout,
            )
        except TimeoutError:
            await self._shut(room)
            raise MediaError(
                f"could not join the LiveKit room at {url} within {self._connect_timeout:g} s: "
                "check the URL and that the server is reachable"
            ) from None
        except rtc.ConnectError as exc:
            await self._shut(room)
            raise MediaError(
                f"could not join the LiveKit room at {url}: {_without(exc.message, token)}; "
                "check the URL and that the session's token has not expired"
            ) from None
        self._joined = True
        # Tracks published before we joined arrive as track_subscribed too;
        # participants already there do not arrive as participant_connected.
        # Iterators made before this point hear of them here; later ones
        # start from `users` (see `user_events`).
        for participant in room.remote_participants.values():
            if is_user(participant.identity, self._own_identity()):
                await self._participants.emit(ParticipantEvent("joined", participant.identity))
        self._watch.changed()

    async def disconnect(self) -> None:
        """Leave the room; every iterator ends. Safe to call more than once."""
        if self._left:
            return  # left already, or a failed connect closed everything
        self._left = True
        room = self._room
        for stream in list(self._streams):
            with contextlib.suppress(Exception):
                await stream.aclose()
        self._streams.clear()
        if self._source is not None:
            with contextlib.suppress(Exception):
                await self._source.aclose()
        if room is not None and self._joined:
            await self._shut(room)
        self._finish()

    @property
    def users(self) -> tuple[str, ...]:
        """Identities of the users in the room now (the avatar left out)."""
        if self._room is None or not self._joined:
            return ()
        own = self._own_identity()
        return tuple(i for i in self._room.remote_participants if is_user(i, own))

    @property
    def participants(self) -> tuple[str, ...]:
        """Identities of everyone else in the room now, the avatar included."""
        if self._room is None or not self._joined or self._left:
            return ()
        own = self._own_identity()
        return tuple(i for i in self._room.remote_participants if i != own)

    async def wait_for_participants(
        self, identities: Iterable[str], limit: float
    ) -> tuple[str, ...]:
        """Wait until all of `identities` are in the room; return those still missing.

        Empty once they are all there; gives up after `limit` seconds, or
        at once when the room is left.
        """
        # The SDK's `remote_participants` is the truth; its events only say
        # when to look again.
        return await self._watch.wait(identities, lambda: self.participants, limit)

    def avatar_audio(self, sample_rate: int = 24_000) -> AsyncIterator[AudioChunk]:
        """The avatar's voice (participant ``heygen`` only), mono, at `sample_rate`."""
        return self._audio(AVATAR_IDENTITY, sample_rate)

    def avatar_video(self, format: VideoFormat = "RGB24") -> AsyncIterator[VideoFrame]:
        """The avatar's video frames (participant ``heygen`` only)."""
        if format not in _BUFFER_TYPES:
            raise ValueError(f"format must be 'RGB24' or 'RGBA', got {format!r}")
        return self._video(self._track_events(AVATAR_IDENTITY, rtc.TrackKind.KIND_VIDEO), format)

    def user_events(self) -> AsyncIterator[ParticipantEvent]:
        """Users joining and leaving (the avatar is filtered out).

        It starts with the users already in the room, each as ``joined``.
        """
        return present_then_changes(self.users, self._participants.subscribe())

    def user_audio(self, identity: str, sample_rate: int = 16_000) -> AsyncIterator[AudioChunk]:
        """One user's microphone, mono, at `sample_rate` (for speech-to-text)."""
        if identity == AVATAR_IDENTITY:
            raise ValueError("that is the avatar: use avatar_audio()")
        return self._audio(identity, sample_rate)

    async def publish_audio(self, pcm: bytes, sample_rate: int) -> None:
        """Publish mono PCM16 as this participant's microphone, in real time.

        The track is published on first use and reused. The SDK queues up to
        a second of audio ahead; this waits until that queue has played out,
        so it returns about when the audio has been sent.

        Raises:
            AudioFormatError: Odd byte count or a bad sample rate.
            MediaError: The room is not joined, or the track's rate differs.
        """
        check_pcm16(pcm, sample_rate)
        room = self._joined_room()
        async with self._publish_lock:
            source = self._source
            if source is None:
                source = self._source = rtc.AudioSource(sample_rate, 1)
                track = rtc.LocalAudioTrack.create_audio_track("microphone", source)
                options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
                await room.local_participant.publish_track(track, options)
            elif source.sample_rate != sample_rate:
                raise MediaError(
                    f"this room publishes at {source.sample_rate} Hz: convert to it "
                    f"(publish() converts any audio), not {sample_rate} Hz"
                )
            step = max(1, int(sample_rate * _PUBLISH_FRAME_SECONDS))
            for start in range(0, len(pcm) // 2, step):
                chunk = pcm[start * 2 : (start + step) * 2]
                frame = rtc.AudioFrame(chunk, sample_rate, 1, len(chunk) // 2)
                await source.capture_frame(frame)
            await source.wait_for_playout()

    async def send_data(self, payload: bytes, topic: str) -> None:
        """Send a reliable data packet on `topic` to the room."""
        room = self._joined_room()
        await room.local_participant.publish_data(payload, reliable=True, topic=topic)

    def data(self, topic: str | None = None) -> AsyncIterator[DataMessage]:
        """Data packets received from now on (on `topic` only, when given)."""
        return on_topic(self._data.subscribe(), topic)

    # -- internals ------------------------------------------------------------------------

    def _own_identity(self) -> str | None:
        if self._room is None or not self._joined:
            return None
        return self._room.local_participant.identity

    def _joined_room(self) -> rtc.Room:
        if self._room is None or not self._joined or self._left:
            raise MediaError("the room is not joined: connect() first (or it was left)")
        return self._room

    async def _shut(self, room: rtc.Room) -> None:
        # An rtc.Room is joined once: after a failure, a new LiveKitRoom tries again.
        self._left = True
        with contextlib.suppress(Exception):
            await room.disconnect()
        # After a failed connect, iterators made on this room end here too.
        self._finish()

    def _finish(self) -> None:
        self._tracks.finish()
        self._participants.finish()
        self._data.finish()
        self._watch.close()

    def _on_track(
        self,
        track: rtc.Track,
        publication: rtc.RemoteTrackPublication,
        participant: rtc.RemoteParticipant,
    ) -> None:
        event = _TrackEvent(participant.identity, track)
        asyncio.get_running_loop().create_task(self._tracks.emit(event))

    def _on_joined(self, participant: rtc.RemoteParticipant) -> None:
        self._watch.changed()
        if is_user(participant.identity, self._own_identity()):
            joined = ParticipantEvent("joined", participant.identity)
            asyncio.get_running_loop().create_task(self._participants.emit(joined))

    def _on_left(self, participant: rtc.RemoteParticipant) -> None:
        self._watch.changed()
        if is_user(participant.identity, self._own_identity()):
            left = ParticipantEvent("left", participant.identity)
            asyncio.get_running_loop().create_task(self._participants.emit(left))

    def _on_data(self, packet: rtc.DataPacket) -> None:
        sender = packet.participant.identity if packet.participant is not None else None
        message = DataMessage(bytes(packet.data), packet.topic or None, sender)
        asyncio.get_running_loop().create_task(self._data.emit(message))

    def _on_disconnected(self, reason: object) -> None:
        logger.info("left the LiveKit room (%s)", reason)
        self._finish()

    def _track_events(
        self, identity: str, kind: rtc.TrackKind.ValueType
    ) -> AsyncIterator[rtc.Track]:
        # Subscribed now, not at the first iteration: no track is missed.
        return self._tracks_of(self._tracks.subscribe(), identity, kind)

    async def _tracks_of(
        self, events: AsyncIterator[_TrackEvent], identity: str, kind: rtc.TrackKind.ValueType
    ) -> AsyncIterator[rtc.Track]:
        # Tracks already subscribed first, then those that come later (once each).
        seen: set[str] = set()
        if self._room is not None and self._joined:
            participant = self._room.remote_participants.get(identity)
            if participant is not None:
                for publication in participant.track_publications.values():
                    track = publication.track
                    if track is not None and track.kind == kind and track.sid not in seen:
                        seen.add(track.sid)
                        yield track
        async for event in events:
            later = event.track
            if event.identity == identity and later.kind == kind and later.sid not in seen:
                seen.add(later.sid)
                yield later

    def _audio(self, identity: str, sample_rate: int) -> AsyncIterator[AudioChunk]:
        if sample_rate <= 0:
            raise AudioFormatError(f"sample_rate must be positive, got {sample_rate}")
        return self._read_audio(self._track_events(identity, rtc.TrackKind.KIND_AUDIO), sample_rate)

    async def _read_audio(
        self, tracks: AsyncIterator[rtc.Track], sample_rate: int
    ) -> AsyncIterator[AudioChunk]:
        produced = 0
        async for track in tracks:
            # The SDK downmixes and resamples to what is asked.
            stream = rtc.AudioStream(track, sample_rate=sample_rate, num_channels=1)
            self._streams.add(stream)
            try:
                async for event in stream:
                    chunk = audio_chunk(event.frame, produced / sample_rate)
                    produced += event.frame.samples_per_channel
                    yield chunk
            finally:
                self._streams.discard(stream)
                with contextlib.suppress(Exception):
                    await stream.aclose()
            if self._left:
                return

    async def _video(
        self, tracks: AsyncIterator[rtc.Track], format: VideoFormat
    ) -> AsyncIterator[VideoFrame]:
        first_us: int | None = None
        async for track in tracks:
            stream = rtc.VideoStream(track)
            self._streams.add(stream)
            try:
                async for event in stream:
                    first_us = event.timestamp_us if first_us is None else first_us
                    yield video_frame(event.frame, format, (event.timestamp_us - first_us) / 1e6)
            finally:
                self._streams.discard(stream)
                with contextlib.suppress(Exception):
                    await stream.aclose()
            if self._left:
                return


def _without(text: str, secret: str) -> str:
    # The SDK's messages may quote the URL it tried, token and all.
    return text.replace(secret, "<token>") if secret else text
