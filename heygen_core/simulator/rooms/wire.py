"""The simulator's room transport: how `LocalRoom` and the simulator talk.

No LiveKit server can run offline, so the embedded simulator serves its own
stand-in for a session's room: one loopback WebSocket per participant at
``ws://HOST:PORT/v1/rooms/rtc``, authenticated with the room token the
session handed out (``Authorization: Bearer``), like LiveKit's ``/rtc``.
This is not a HeyGen wire protocol (none of it reaches the real services),
so it lives here rather than in ``schemas/``.

Control messages are JSON text frames with a ``type``:

- server -> client: ``welcome {identity, room, participants}``, ``joined
  {identity}``, ``left {identity}``, ``data {topic, sender, payload}`` (base64)
  and ``closed {reason}``, after which the server closes the socket;
- client -> server: ``data {topic, payload}`` and ``subscribe {video}``
  (video frames are rendered only for participants that asked for them).

They are typed, encoded and decoded in `heygen_core.simulator.rooms.control`.

Media travels in binary frames: a kind byte (`AUDIO` or `VIDEO`), the
sender's identity (u16 length, UTF-8), then for audio the sample rate (u32)
and a timestamp (f64 seconds) before mono PCM16, and for video the width
and height (u16 each) and a timestamp before RGB24 rows. A client publishes
audio with an empty identity; the server stamps its own.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

LOCAL_SCHEME = "heygen-sim"
"""URL scheme of the simulator's rooms (``heygen-sim://HOST:PORT``)."""

ROOM_PATH = "/v1/rooms/rtc"
"""Where the simulator serves room connections."""

AUDIO = 1
"""Kind byte of an audio frame."""

VIDEO = 2
"""Kind byte of a video frame."""

_IDENTITY = struct.Struct(">BH")
_AUDIO = struct.Struct(">Id")
_VIDEO = struct.Struct(">HHd")


@dataclass(frozen=True)
class MediaPacket:
    """One binary media frame of the room transport.

    Attributes:
        kind: ``audio`` or ``video``.
        identity: The participant whose track it belongs to ("" when published).
        timestamp: Seconds since the track's first frame.
        sample_rate: Audio only: samples per second (0 for video).
        width: Video only: pixels per row (0 for audio).
        height: Video only: rows (0 for audio).
        data: Mono PCM16 (audio) or RGB24 rows (video).
    """

    kind: Literal["audio", "video"]
    identity: str
    timestamp: float
    data: bytes = field(repr=False)
    sample_rate: int = 0
    width: int = 0
    height: int = 0


class RoomWireError(ValueError):
    """A frame (media or control) that does not follow the room transport."""


def room_socket_url(url: str) -> str:
    """Return the WebSocket URL behind a simulator room URL.

    Raises:
        ValueError: `url` is not a ``heygen-sim://HOST:PORT`` URL.
    """
    parts = urlsplit(url)
    if parts.scheme != LOCAL_SCHEME or not parts.netloc:
        raise ValueError(f"not a simulator room URL (expected {LOCAL_SCHEME}://HOST:PORT)")
    return f"ws://{parts.netloc}{ROOM_PATH}"


def room_url(host_port: str) -> str:
    """Return the room URL a simulator at ``HOST:PORT`` hands out as ``livekit_url``."""
    return f"{LOCAL_SCHEME}://{host_port}"


def _head(kind: int, identity: str) -> bytes:
    name = identity.encode()
    return _IDENTITY.pack(kind, len(name)) + name


def pack_audio(identity: str, sample_rate: int, timestamp: float, pcm: bytes) -> bytes:
    """Encode one audio frame (mono PCM16)."""
    return _head(AUDIO, identity) + _AUDIO.pack(sample_rate, timestamp) + pcm


def pack_video(identity: str, width: int, height: int, timestamp: float, rgb: bytes) -> bytes:
    """Encode one video frame (RGB24 rows, no padding)."""
    return _head(VIDEO, identity) + _VIDEO.pack(width, height, timestamp) + rgb


def unpack(frame: bytes) -> MediaPacket:
    """Decode one binary frame.

    Raises:
        RoomWireError: Truncated, of an unknown kind, or of the wrong size.
    """
    try:
        kind, length = _IDENTITY.unpack_from(frame)
        offset = _IDENTITY.size
        identity = frame[offset : offset + length].decode()
        offset += length
        if kind == AUDIO:
            rate, timestamp = _AUDIO.unpack_from(frame, offset)
            pcm = frame[offset + _AUDIO.size :]
            if rate <= 0 or len(pcm) % 2:
                raise RoomWireError("audio frame: bad sample rate or odd PCM16 byte count")
            return MediaPacket("audio", identity, timestamp, pcm, sample_rate=rate)
        if kind == VIDEO:
            width, height, timestamp = _VIDEO.unpack_from(frame, offset)
            rgb = frame[offset + _VIDEO.size :]
            if len(rgb) != width * height * 3:
                raise RoomWireError(f"video frame: {len(rgb)} bytes for {width}x{height} RGB24")
            return MediaPacket("video", identity, timestamp, rgb, width=width, height=height)
    except (struct.error, UnicodeDecodeError) as exc:
        raise RoomWireError(f"truncated or malformed media frame: {exc}") from None
    raise RoomWireError(f"unknown media frame kind {kind}")
