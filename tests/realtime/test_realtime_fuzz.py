"""Fuzz the receive side: whatever a server sends, the connection survives it.

A real WebSocket server on loopback sends hypothesis-generated frames:
random bytes, binary frames, truncated or invalid JSON, wrong field types,
unknown tags and oversized messages. Each must reach the user as exactly
one event (a typed event, an `UnknownEvent` or a `ProtocolErrorEvent`),
and the connection must keep working afterwards in both directions.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from heygen_models import lite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from websockets.asyncio.server import ServerConnection, serve

from heygen_core.protocol.codec import UnknownEvent
from heygen_core.protocol.schemas import schema_document
from heygen_core.realtime.connection import RealtimeConnection
from heygen_core.realtime.events import ProtocolErrorEvent, SessionEvent

LITE = schema_document("lite")
SERVER_EXAMPLES: list[dict[str, Any]] = [
    example
    for variant in LITE.defs["ServerEvent"]["oneOf"]
    for example in LITE.defs[variant["$ref"].rsplit("/", 1)[-1]]["examples"]
]
WRONG: list[object] = [12345, None, True, ["x"], {"nested": {"deep": []}}, "text"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@dataclass(frozen=True)
class Oversized:
    """A valid event padded past the 1 MB limit (built at send time: keeps reprs short)."""

    example: dict[str, Any]

    def frame(self) -> str:
        return json.dumps({**self.example, "padding": "A" * 1_100_000})


Frame = str | bytes | Oversized


@st.composite
def hostile_frames(draw: st.DrawFn) -> Frame:
    kind = draw(
        st.sampled_from(["bytes", "text", "truncated", "wrong_type", "unknown", "json", "big"])
    )
    example = draw(st.sampled_from(SERVER_EXAMPLES))
    if kind == "bytes":
        return draw(st.binary(max_size=64))
    if kind == "text":
        return draw(st.text(max_size=64))
    if kind == "truncated":
        raw = json.dumps(example)
        return raw[: draw(st.integers(0, max(0, len(raw) - 1)))]
    if kind == "wrong_type":
        mutated = dict(example)
        key = draw(st.sampled_from(sorted(mutated)))
        mutated[key] = draw(st.sampled_from(WRONG))
        return json.dumps(mutated)
    if kind == "unknown":
        return json.dumps(
            {"type": "x." + draw(st.text(min_size=1, max_size=10)), "v": draw(json_values)}
        )
    if kind == "json":
        return json.dumps(draw(json_values))
    return Oversized(example)


def one_event_kind(event: SessionEvent) -> str:
    if isinstance(event, ProtocolErrorEvent):
        return "error"
    if isinstance(event, UnknownEvent):
        return "unknown"
    assert isinstance(event, BaseModel), event
    return "typed"


async def scenario(frames: list[Frame]) -> None:
    received: asyncio.Queue[str | bytes] = asyncio.Queue()

    async def handler(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.state_updated", "state": "connected"}))
        for frame in frames:
            await ws.send(frame.frame() if isinstance(frame, Oversized) else frame)
        await ws.send(json.dumps({"type": "agent.speak_ended", "event_id": "after-fuzz"}))
        async for message in ws:
            await received.put(message)

    async with serve(handler, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        conn = RealtimeConnection(
            f"ws://127.0.0.1:{port}", ready_timeout=5, keep_alive_interval=None
        )
        events = conn.events()
        await conn.connect()
        try:
            first = await asyncio.wait_for(anext(events), 5)
            assert isinstance(first, lite.SessionStateUpdated)
            kinds = [one_event_kind(await asyncio.wait_for(anext(events), 5)) for _ in frames]
            assert len(kinds) == len(frames)
            for frame, kind in zip(frames, kinds, strict=True):
                if isinstance(frame, bytes | Oversized):
                    assert kind == "error"
            last = await asyncio.wait_for(anext(events), 5)
            assert isinstance(last, lite.AgentSpeakEnded) and last.event_id == "after-fuzz"
            await conn.send(lite.AgentSpeakEnd(type="agent.speak_end", event_id="still-works"))
            assert (
                json.loads(await asyncio.wait_for(received.get(), 5))["event_id"] == "still-works"
            )
            assert not conn.is_closed
        finally:
            await conn.close()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile_frames(), min_size=1, max_size=8))
def test_hostile_frames_never_break_the_connection(frames: list[Frame]) -> None:
    asyncio.run(scenario(frames))
