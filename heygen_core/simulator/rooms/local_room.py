"""`LocalRoom`: a session's room as the embedded simulator serves it, offline.

The simulator stands in for LiveKit with its own room transport
(`heygen_core.simulator.rooms.wire`) on loopback, so everything `MediaRoom` offers
(the avatar's voice and video, users, publishing, data packets) works in
tests and demos with no LiveKit server, whether the simulator runs in this
process, in a thread or in another process (``heygen-avatar simulator``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable

import numpy as np
import websockets
from heygen_models.full import AVATAR_IDENTITY
from websockets.asyncio.client import ClientConnection

from heygen_core.audio.convert import AudioConverter
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
from heygen_core.simulator.rooms.control import (
    Closed,
    ControlMessage,
    Data,
    Joined,
    Left,
    Subscribe,
    Welcome,
    decode_control,
    encode_control,
)
from heygen_core.simulator.rooms.wire import (
    MediaPacket,
    RoomWireError,
    pack_audio,
    room_socket_url,
    unpack,
)

logger = logging.getLogger("heygen_core.media.room")
# websockets logs every header at DEBUG, our `Authorization: Bearer <room
# token>` included: its records go through a logger that redacts them.
_websockets_logger = redacting_logger("heygen_core.media.room.websocket")

# Published audio leaves in frames of this length, paced to real time.
_PUBLISH_FRAME_SECONDS = 0.02


class LocalRoom(MediaRoom):
    """A room of the embedded simulator (``heygen-sim://`` URLs).

    Args:
        connect_timeout: Seconds to join before giving up.
    """

    def __init__(self, connect_timeout: float = 10.0) -> None:
        self._connect_timeout = connect_timeout
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._identity: str | None = None
        self._users: list[str] = []
        self._avatar_present = False
        self._media: EventHub[MediaPacket] = EventHub()
        self._participants: EventHub[ParticipantEvent] = EventHub()
        self._watch = ParticipantWatch()
        self._data: EventHub[DataMessage] = EventHub()
        self._video_wanted = False
        self._left = False
        self.close_reason: str | None = None
        """Why the simulator closed the room (the session ended, ...), once it did."""

    def __repr__(self) -> str:
        state = "left" if self._left else "joined" if self._ws is not None else "not joined"
        return f"<LocalRoom {self._identity or '-'} {state}>"

    @property
    def identity(self) -> str | None:
        """Our identity in the room, once joined."""
        return self._identity

    async def connect(self, url: str, token: str) -> None:
        """Join the simulator room at `url` with a token the session handed out.

        Raises:
            MediaError: Not a simulator URL, refused, or unreachable.
        """
        if self._ws is not None or self._left:
            raise MediaError("this room object was already used: make a new one to join again")
        try:
            socket_url = room_socket_url(url)
        except ValueError as exc:
            self._fail()
            raise MediaError(str(exc)) from None
        try:
            self._ws = await asyncio.wait_for(
                websockets.connect(
                    socket_url,
                    additional_headers={"Authorization": f"Bearer {token}"},
                    max_size=16 * 1024 * 1024,
                    compression=None,
                    logger=_websockets_logger,
                ),
                self._connect_timeout,
            )
            welcome = decode_control(await asyncio.wait_for(self._ws.recv(), self._connect_timeout))
            if not isinstance(welcome, Welcome):
                raise RoomWireError(f"expected a welcome message first, got {welcome.type!r}")
        except websockets.InvalidStatus as exc:
            self._fail()
            status = exc.response.status_code
            body = exc.response.body.decode("utf-8", "replace")[:200] if exc.response.body else ""
            raise MediaError(
                f"the simulator refused to join its room (HTTP {status}: {body}); "
                "use the livekit_url and a token of a started session"
            ) from None
        except (OSError, TimeoutError, websockets.WebSocketException, ValueError) as exc:
            await self._drop_socket()
            self._fail()
            raise MediaError(
                f"could not join the simulator's room at {socket_url}: "
                f"{type(exc).__name__}: {exc}; is the simulator running?"
            ) from None
        self._identity = welcome.identity
        for name in welcome.participants:
            # Iterators made before joining hear of those already here; later
            # ones start from `users` (see `user_events`).
            if self._add(name):
                await self._participants.emit(ParticipantEvent("joined", name))
        self._watch.changed()
        if self._video_wanted:  # avatar_video() was called before joining
            self._send_control(Subscribe(video=True))
        self._reader = asyncio.create_task(self._read(), name="heygen-local-room")

    async def disconnect(self) -> None:
        """Leave the room; every iterator ends. Safe to call more than once."""
        self._left = True
        reader, self._reader = self._reader, None
        await self._drop_socket()
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
        self._finish()

    @property
    def users(self) -> tuple[str, ...]:
        """Identities of the users in the room now (the avatar left out)."""
        return tuple(self._users)

    @property
    def participants(self) -> tuple[str, ...]:
        """Identities of everyone else in the room now, the avatar included."""
        return ((AVATAR_IDENTITY,) if self._avatar_present else ()) + tuple(self._users)

    async def wait_for_participants(
        self, identities: Iterable[str], limit: float
    ) -> tuple[str, ...]:
        """Wait until all of `identities` are in the room; return those still missing.

        Empty once they are all there; gives up after `limit` seconds, or
        at once when the room is left.
        """
        return await self._watch.wait(identities, lambda: self.participants, limit)

    @property
    def avatar_present(self) -> bool:
        """Whether the avatar (participant ``heygen``) is in the room."""
        return self._avatar_present

    def avatar_audio(self, sample_rate: int = 24_000) -> AsyncIterator[AudioChunk]:
        """The avatar's voice (participant ``heygen`` only), mono, at `sample_rate`."""
        return self._audio_of(AVATAR_IDENTITY, sample_rate)

    def avatar_video(self, format: VideoFormat = "RGB24") -> AsyncIterator[VideoFrame]:
        """The avatar's video frames (participant ``heygen`` only)."""
        if format not in ("RGB24", "RGBA"):
            raise ValueError(f"format must be 'RGB24' or 'RGBA', got {format!r}")
        packets = self._media.subscribe()
        if not self._video_wanted:
            # The simulator renders video only for participants that ask.
            self._video_wanted = True
            self._send_control(Subscribe(video=True))
        return self._frames(packets, format)

    def user_events(self) -> AsyncIterator[ParticipantEvent]:
        """Users joining and leaving (the avatar is filtered out).

        It starts with the users already in the room, each as ``joined``.
        """
        return present_then_changes(self.users, self._participants.subscribe())

    def user_audio(self, identity: str, sample_rate: int = 16_000) -> AsyncIterator[AudioChunk]:
        """One user's microphone, mono, at `sample_rate` (for speech-to-text)."""
        if identity == AVATAR_IDENTITY:
            raise ValueError("that is the avatar: use avatar_audio()")
        return self._audio_of(identity, sample_rate)

    async def publish_audio(self, pcm: bytes, sample_rate: int) -> None:
        """Publish mono PCM16 into the room as this participant, paced to real time.

        Returns once it has all been played out (as `LiveKitRoom` does): about
        its duration after the call.

        Raises:
            AudioFormatError: Odd byte count or a bad sample rate.
            MediaError: The room is not joined.
        """
        check_pcm16(pcm, sample_rate)
        ws = self._joined()
        loop = asyncio.get_running_loop()
        step = max(2, int(sample_rate * _PUBLISH_FRAME_SECONDS) * 2)
        start = loop.time()
        for offset in range(0, len(pcm), step):
            stamp = offset / 2 / sample_rate
            await asyncio.sleep(max(0.0, start + stamp - loop.time()))
            await ws.send(pack_audio("", sample_rate, stamp, pcm[offset : offset + step]))
        await asyncio.sleep(max(0.0, start + len(pcm) / 2 / sample_rate - loop.time()))

    async def send_data(self, payload: bytes, topic: str) -> None:
        """Send a reliable data packet on `topic` to everyone else in the room."""
        ws = self._joined()
        await ws.send(encode_control(Data(topic, payload)))

    def data(self, topic: str | None = None) -> AsyncIterator[DataMessage]:
        """Data packets received from now on (on `topic` only, when given)."""
        return on_topic(self._data.subscribe(), topic)

    # -- internals ------------------------------------------------------------------------

    def _joined(self) -> ClientConnection:
        if self._ws is None or self._left:
            raise MediaError("the room is not joined: connect() first (or it was left)")
        return self._ws

    def _send_control(self, message: ControlMessage) -> None:
        ws = self._ws
        if ws is None or self._left:
            return

        async def send() -> None:
            with contextlib.suppress(websockets.ConnectionClosed):
                await ws.send(encode_control(message))

        # Fire and forget: a subscription must not make an iterator async to create.
        asyncio.get_running_loop().create_task(send())

    async def _drop_socket(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()

    def _fail(self) -> None:
        # A failed join: the object is spent, and iterators made on it end.
        self._left = True
        self._finish()

    def _finish(self) -> None:
        self._media.finish()
        self._participants.finish()
        self._data.finish()
        self._watch.close()

    def _add(self, identity: str) -> bool:
        if identity == AVATAR_IDENTITY:
            self._avatar_present = True
            return False
        if identity == self._identity or identity in self._users:
            return False
        self._users.append(identity)
        return True

    async def _read(self) -> None:
        ws = self._ws
        assert ws is not None
        try:
            async for message in ws:
                if isinstance(message, bytes):
                    try:
                        await self._media.emit(unpack(message))
                    except RoomWireError as exc:
                        logger.debug("room: %s", exc)
                    continue
                try:
                    control = decode_control(message)
                except RoomWireError as exc:  # a newer simulator's, or garbage: skipped
                    logger.debug("room: %s", exc)
                    continue
                await self._on_control(control)
        except websockets.ConnectionClosed:
            pass
        finally:
            self._finish()

    async def _on_control(self, message: ControlMessage) -> None:
        if isinstance(message, Joined):
            if self._add(message.identity):
                await self._participants.emit(ParticipantEvent("joined", message.identity))
            self._watch.changed()
        elif isinstance(message, Left):
            if message.identity == AVATAR_IDENTITY:
                self._avatar_present = False
            elif message.identity in self._users:
                self._users.remove(message.identity)
                await self._participants.emit(ParticipantEvent("left", message.identity))
            self._watch.changed()
        elif isinstance(message, Data):
            await self._data.emit(DataMessage(message.payload, message.topic, message.sender))
        elif isinstance(message, Closed):
            self.close_reason = message.reason
            logger.info("room closed by the simulator: %s", self.close_reason)
        # A welcome after joining or a subscribe (client -> server) means nothing here.

    def _audio_of(self, identity: str, sample_rate: int) -> AsyncIterator[AudioChunk]:
        if sample_rate <= 0:
            raise AudioFormatError(f"sample_rate must be positive, got {sample_rate}")
        # Subscribed now, not at the first iteration: nothing in between is lost.
        return self._convert(self._media.subscribe(), identity, sample_rate)

    async def _convert(
        self, packets: AsyncIterator[MediaPacket], identity: str, sample_rate: int
    ) -> AsyncIterator[AudioChunk]:
        converter: AudioConverter | None = None
        produced = 0
        async for packet in packets:
            if packet.kind != "audio" or packet.identity != identity:
                continue
            if converter is None or converter.sample_rate != packet.sample_rate:
                converter = AudioConverter(packet.sample_rate, 1, output_rate=sample_rate)
            pcm = converter.push(packet.data)
            if pcm:
                yield AudioChunk(pcm, sample_rate, produced / sample_rate)
                produced += len(pcm) // 2

    async def _frames(
        self, packets: AsyncIterator[MediaPacket], format: VideoFormat
    ) -> AsyncIterator[VideoFrame]:
        async for packet in packets:
            if packet.kind != "video" or packet.identity != AVATAR_IDENTITY:
                continue
            data = packet.data
            if format == "RGBA":
                rgb = np.frombuffer(data, np.uint8).reshape(-1, 3)
                alpha = np.full((rgb.shape[0], 1), 255, np.uint8)
                data = np.hstack([rgb, alpha]).tobytes()
            yield VideoFrame(packet.width, packet.height, format, data, packet.timestamp)
