"""No credential reaches a log line, with every logger at DEBUG.

Every logger (ours, websockets', aiohttp's, the simulator's) logs at DEBUG
into one capturing handler while a LITE session speaks, loses its socket,
reconnects and closes; while a socket with a token in its URL's query does
the same; while a FULL session joins its room; and while a malformed URL
fails. No formatted record (message with its arguments, traceback, stack)
may contain the API key, a session token, the ws_url's token or a room JWT.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterator

import numpy as np
import pytest
from heygen_models import liveavatar as la

from heygen_core.errors import RealtimeConnectionError
from heygen_core.realtime.connection import RealtimeConnection, ReconnectPolicy
from heygen_core.realtime.events import Reconnected, SessionEvent, SocketEvent
from heygen_core.rest.liveavatar_client import LiveAvatarClient
from heygen_core.session import SANDBOX_AVATAR_ID, AvatarSession
from heygen_core.simulator import Simulator, SimulatorConfig
from tests.support.polling import eventually

API_KEY = "sk-live-apikey-0d1e2f3a4b5c"
WS_TOKEN = "wstoken-9a8b7c6d5e4f"
RATE = 24_000
FAST_RECONNECT = ReconnectPolicy(base_delay=0.02, max_delay=0.05)


class Capture(logging.Handler):
    """Keeps every record, formatted as a handler would write it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[Capture]:
    """Every logger at DEBUG, into one handler (also those that do not propagate)."""
    capture = Capture()
    root = logging.getLogger()
    loggers = [root] + [
        item
        for item in logging.root.manager.loggerDict.values()
        if isinstance(item, logging.Logger)
    ]
    saved = [(item, item.level, item.disabled) for item in loggers]
    logging.disable(logging.NOTSET)
    for item in loggers:
        item.setLevel(logging.DEBUG)
        item.disabled = False
        if item is root or not item.propagate:
            item.addHandler(capture)
    try:
        yield capture
    finally:
        for item, level, disabled in saved:
            item.setLevel(level)
            item.disabled = disabled
            item.removeHandler(capture)


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (0.3 * np.sin(2 * math.pi * 220.0 * t) * 32767).astype(np.int16)


def room_tokens(session: AvatarSession) -> list[str]:
    data = session.start_data
    assert isinstance(data, la.StartSessionData)
    tokens = [data.livekit_client_token, data.livekit_agent_token]
    return [token for token in tokens if isinstance(token, str)]


def assert_no_secret(capture: Capture, secrets: list[str]) -> None:
    assert capture.lines, "nothing was logged: the capture is broken"
    assert all(secrets), secrets
    for line in capture.lines:
        for secret in secrets:
            assert secret not in line, f"a secret in a log line: {line[:300]}"


async def test_a_lite_session_with_a_drop_logs_no_secret(captured: Capture) -> None:
    secrets = [API_KEY]
    seen: list[SessionEvent] = []
    async with Simulator(SimulatorConfig(connect_delay_seconds=0.05)) as sim:
        session = AvatarSession.live_avatar(
            sandbox=True, api_key=API_KEY, base_url=sim.url, media=True, reconnect=FAST_RECONNECT
        )
        session.on_event(seen.append)
        async with session:
            assert session.session_token is not None and session.session_id is not None
            secrets += [session.session_token, *room_tokens(session)]
            await asyncio.wait_for(session.speak(tone(0.3), sample_rate=RATE), 10)
            assert sim.drop_websocket(session.session_id)
            await eventually(lambda: any(isinstance(e, Reconnected) for e in seen), within=5)
            await asyncio.wait_for(session.speak(tone(0.3), sample_rate=RATE), 10)
    assert len(secrets) == 4  # the key, the session token and both room tokens
    assert_no_secret(captured, secrets)


async def test_a_socket_with_a_token_in_its_url_logs_no_secret(captured: Capture) -> None:
    seen: list[SocketEvent] = []
    async with (
        Simulator(SimulatorConfig(connect_delay_seconds=0.05)) as sim,
        LiveAvatarClient(API_KEY, base_url=sim.url) as client,
    ):
        token = await client.create_session_token(
            la.LiteSessionTokenRequest(mode="LITE", avatar_id=SANDBOX_AVATAR_ID, is_sandbox=True)
        )
        started = await client.start_session(token.data.session_token)
        assert isinstance(started.data.ws_url, str)
        # As a service may hand it out: the socket's credential in the query.
        conn = RealtimeConnection(
            f"{started.data.ws_url}?token={WS_TOKEN}",
            keep_alive_interval=None,
            reconnect=FAST_RECONNECT,
        )
        conn.on_event(seen.append)
        try:
            await conn.connect()
            await asyncio.wait_for(conn.wait_ready(), 5)
            assert sim.drop_websocket(token.data.session_id)
            await eventually(lambda: any(isinstance(e, Reconnected) for e in seen), within=5)
            await asyncio.wait_for(conn.wait_ready(), 5)
        finally:
            await conn.close()
            await client.stop_session(session_token=token.data.session_token)
    assert_no_secret(captured, [API_KEY, token.data.session_token, WS_TOKEN])


async def test_a_full_session_in_its_room_logs_no_secret(captured: Capture) -> None:
    secrets = [API_KEY]
    async with Simulator(SimulatorConfig(connect_delay_seconds=0.05)) as sim:
        session = AvatarSession.live_avatar(
            mode="FULL", sandbox=True, api_key=API_KEY, base_url=sim.url
        )
        async with session:
            assert session.session_token is not None
            secrets += [session.session_token, *room_tokens(session)]
            await asyncio.wait_for(session.speak_text("hello"), 5)
            await asyncio.sleep(0.2)
    assert len(secrets) >= 3  # the key, the session token and the room token used
    assert_no_secret(captured, secrets)


async def test_a_malformed_url_logs_no_secret(captured: Capture) -> None:
    app = logging.getLogger("an_app")
    for url in (
        f"ws://127.0.0.1:99999/v1/sessions/s/ws?token={WS_TOKEN}",
        f"wss://user:{WS_TOKEN}@127.0.0.1:1/v1/sessions/s/ws",
        f"https://127.0.0.1/v1/sessions/s/ws?token={WS_TOKEN}",
    ):
        conn = RealtimeConnection(url, keep_alive_interval=None, open_timeout=2)
        try:
            await conn.connect()
        except RealtimeConnectionError:
            app.exception("could not connect")  # what a user's code would log
        finally:
            await conn.close()
    assert sum("could not connect" in line for line in captured.lines) == 3
    assert_no_secret(captured, [WS_TOKEN])
