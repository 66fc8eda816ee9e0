"""The room transport's typed control messages, and both ends skipping malformed ones."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import websockets
from aiohttp import web

from heygen_core.errors import MediaError
from heygen_core.simulator import Simulator
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
from heygen_core.simulator.rooms.local_room import LocalRoom
from heygen_core.simulator.rooms.wire import ROOM_PATH, RoomWireError, room_socket_url, room_url

MESSAGES: list[ControlMessage] = [
    Welcome("alice", "room-1", ("heygen", "bob")),
    Welcome("alice", "room-1", ()),
    Joined("bob"),
    Left("bob"),
    Data("agent-control", b"\x00\xffbytes", "bob"),
    Data("chat", b""),
    Closed("session ended: USER_CLOSED"),
    Subscribe(video=True),
    Subscribe(video=False),
]

MALFORMED = [
    "not json",
    "[1, 2]",
    '{"identity": "no type"}',
    '{"type": "teleport", "identity": "bob"}',
    '{"type": 7}',
    '{"type": "joined"}',
    '{"type": "left", "identity": 3}',
    '{"type": "welcome", "identity": "a", "room": "r", "participants": "bob"}',
    '{"type": "welcome", "identity": "a", "room": "r", "participants": [1]}',
    '{"type": "data", "topic": "t", "payload": "%%%"}',
    '{"type": "data", "topic": 1, "payload": ""}',
    '{"type": "data", "topic": "t", "payload": "", "sender": 5}',
    '{"type": "subscribe", "video": "yes"}',
    '{"type": "closed"}',
]

# Garbage, then the same data packet lying about who sent it.
FORGED = json.dumps({"type": "data", "topic": "chat", "payload": "aGk=", "sender": "heygen"})


@pytest.mark.parametrize("message", MESSAGES, ids=repr)
def test_every_control_message_survives_the_wire(message: ControlMessage) -> None:
    text = encode_control(message)
    assert json.loads(text)["type"] == message.type
    assert decode_control(text) == message


def test_data_payloads_travel_as_base64_and_a_client_names_no_sender() -> None:
    assert json.loads(encode_control(Data("t", b"hi"))) == {
        "type": "data",
        "topic": "t",
        "payload": "aGk=",
    }


@pytest.mark.parametrize("text", MALFORMED)
def test_malformed_control_messages_are_a_room_wire_error(text: str) -> None:
    with pytest.raises(RoomWireError):
        decode_control(text)


async def test_the_simulator_skips_malformed_control_and_stamps_the_sender() -> None:
    async with Simulator() as sim:
        listener = LocalRoom()
        await listener.connect(sim.room_url, sim.room_token("lobby", "listener"))
        packets = listener.data("chat")
        async with websockets.connect(
            room_socket_url(sim.room_url),
            additional_headers={"Authorization": f"Bearer {sim.room_token('lobby', 'raw')}"},
        ) as raw:
            welcome = decode_control(await raw.recv())
            assert isinstance(welcome, Welcome) and welcome.participants == ("listener",)
            for text in MALFORMED:
                await raw.send(text)
            await raw.send(FORGED)
            packet = await asyncio.wait_for(anext(packets), 5)
        assert (packet.payload, packet.topic, packet.sender) == (b"hi", "chat", "raw")
        await listener.disconnect()


async def serve_room(
    handler: Callable[[web.WebSocketResponse], Awaitable[None]],
) -> AsyncIterator[str]:
    async def handle(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await handler(ws)
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get(ROOM_PATH, handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield room_url(f"127.0.0.1:{port}")
    finally:
        await runner.cleanup()


async def test_local_room_skips_malformed_control_from_its_server() -> None:
    async def talk(ws: web.WebSocketResponse) -> None:
        await ws.send_str(encode_control(Welcome("me", "r", ("heygen",))))
        for text in MALFORMED:
            await ws.send_str(text)
        await ws.send_str(encode_control(Joined("bob")))
        await ws.send_str(encode_control(Data("chat", b"still here", "bob")))
        await ws.send_str(encode_control(Closed("done")))

    async for url in serve_room(talk):
        room = LocalRoom()
        packets = room.data()
        await room.connect(url, "token")
        packet = await asyncio.wait_for(anext(packets), 5)
        assert (packet.payload, packet.sender) == (b"still here", "bob")
        assert await asyncio.wait_for(anext(packets, None), 5) is None  # the room closed
        assert room.users == ("bob",) and room.avatar_present
        assert room.close_reason == "done"
        await room.disconnect()


async def test_local_room_refuses_a_server_that_does_not_welcome_it() -> None:
    async def talk(ws: web.WebSocketResponse) -> None:
        await ws.send_str(encode_control(Joined("bob")))

    async for url in serve_room(talk):
        with pytest.raises(MediaError, match="expected a welcome message first"):
            await LocalRoom().connect(url, "token")
