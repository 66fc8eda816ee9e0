"""The room transport's control messages, typed: one encoder, one decoder, both sides.

Control messages are JSON text frames with a ``type`` (see
`heygen_core.simulator.rooms.wire` for the transport as a whole):

- server -> client: `Welcome`, `Joined`, `Left`, `Data` (with its sender)
  and `Closed`, after which the server closes the socket;
- client -> server: `Data` (no sender: the server stamps it) and
  `Subscribe` (video frames are rendered only for those who asked).

`LocalRoom` and the simulator's `RoomHub` both speak through `encode_control`
and `decode_control`, so the two ends cannot drift apart.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from heygen_core.simulator.rooms.wire import RoomWireError


@dataclass(frozen=True)
class Welcome:
    """Server -> client, first: who we are, in which room, and who is there.

    Attributes:
        identity: The joining participant's identity (from its token).
        room: The room's name.
        participants: Identities already in the room (the avatar first when there).
    """

    identity: str
    room: str
    participants: tuple[str, ...]
    type: Literal["welcome"] = field(default="welcome", init=False)


@dataclass(frozen=True)
class Joined:
    """Server -> client: `identity` joined the room."""

    identity: str
    type: Literal["joined"] = field(default="joined", init=False)


@dataclass(frozen=True)
class Left:
    """Server -> client: `identity` left the room."""

    identity: str
    type: Literal["left"] = field(default="left", init=False)


@dataclass(frozen=True)
class Data:
    """A data packet; a client sends it without `sender`, the server forwards it with one.

    Attributes:
        topic: The packet's topic.
        payload: Its bytes (base64 on the wire).
        sender: Identity of the participant that sent it (server -> client only).
    """

    topic: str
    payload: bytes = field(repr=False)
    sender: str | None = None
    type: Literal["data"] = field(default="data", init=False)


@dataclass(frozen=True)
class Closed:
    """Server -> client, last: why the room is closing (the socket closes next)."""

    reason: str
    type: Literal["closed"] = field(default="closed", init=False)


@dataclass(frozen=True)
class Subscribe:
    """Client -> server: whether to send this participant the avatar's video."""

    video: bool
    type: Literal["subscribe"] = field(default="subscribe", init=False)


ControlMessage: TypeAlias = Welcome | Joined | Left | Data | Closed | Subscribe
"""Any control message, either direction."""


def encode_control(message: ControlMessage) -> str:
    """Encode a control message as the JSON text of one frame."""
    fields: dict[str, object]
    if isinstance(message, Welcome):
        fields = {
            "identity": message.identity,
            "room": message.room,
            "participants": list(message.participants),
        }
    elif isinstance(message, Joined | Left):
        fields = {"identity": message.identity}
    elif isinstance(message, Data):
        fields = {"topic": message.topic, "payload": base64.b64encode(message.payload).decode()}
        if message.sender is not None:
            fields["sender"] = message.sender
    elif isinstance(message, Closed):
        fields = {"reason": message.reason}
    else:
        fields = {"video": message.video}
    return json.dumps({"type": message.type, **fields}, separators=(",", ":"))


def decode_control(text: str | bytes) -> ControlMessage:
    """Decode the JSON text of one control frame.

    Raises:
        RoomWireError: Not JSON, not an object, an unknown ``type``, or a
            field missing or of the wrong type. Receivers log and skip it.
    """
    try:
        raw = json.loads(text)
    except ValueError:
        raise RoomWireError("a control message that is not JSON") from None
    if not isinstance(raw, dict):
        raise RoomWireError("a control message that is not a JSON object")
    kind = raw.get("type")
    parse = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parse is None:
        raise RoomWireError(f"unknown control message type {kind!r}")
    return parse(raw)


def _text(raw: Mapping[str, object], name: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str):
        raise RoomWireError(f"{raw.get('type')} message: {name!r} must be a string")
    return value


def _welcome(raw: Mapping[str, object]) -> Welcome:
    participants = raw.get("participants")
    if not isinstance(participants, list) or not all(isinstance(p, str) for p in participants):
        raise RoomWireError("welcome message: 'participants' must be a list of strings")
    return Welcome(_text(raw, "identity"), _text(raw, "room"), tuple(participants))


def _data(raw: Mapping[str, object]) -> Data:
    try:
        payload = base64.b64decode(_text(raw, "payload"), validate=True)
    except (binascii.Error, ValueError):
        raise RoomWireError("data message: 'payload' is not base64") from None
    sender = raw.get("sender")
    if sender is not None and not isinstance(sender, str):
        raise RoomWireError("data message: 'sender' must be a string")
    return Data(_text(raw, "topic"), payload, sender)


def _subscribe(raw: Mapping[str, object]) -> Subscribe:
    video = raw.get("video")
    if not isinstance(video, bool):
        raise RoomWireError("subscribe message: 'video' must be a boolean")
    return Subscribe(video)


_PARSERS: dict[str, Callable[[Mapping[str, object]], ControlMessage]] = {
    Welcome.type: _welcome,
    Joined.type: lambda raw: Joined(_text(raw, "identity")),
    Left.type: lambda raw: Left(_text(raw, "identity")),
    Data.type: _data,
    Closed.type: lambda raw: Closed(_text(raw, "reason")),
    Subscribe.type: _subscribe,
}
