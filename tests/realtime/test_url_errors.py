"""A bad or unreachable ``ws_url`` raises `RealtimeConnectionError`, naming no credential."""

from __future__ import annotations

import socket

import pytest

from heygen_core.errors import RealtimeConnectionError
from heygen_core.realtime.connection import RealtimeConnection

TOKEN = "ws-token-5f2b9c0e"
PASSWORD = "userinfo-pw-77aa"


async def open_error(url: str) -> str:
    conn = RealtimeConnection(url, keep_alive_interval=None, open_timeout=2)
    with pytest.raises(RealtimeConnectionError) as caught:
        await conn.connect()
    await conn.close()
    message = str(caught.value)
    assert TOKEN not in message and PASSWORD not in message, message
    assert "?" not in message, message  # no query string at all
    return message


@pytest.mark.parametrize("port", ["99999", "65536", "abc"])
async def test_an_invalid_port_is_a_typed_error_that_says_so(port: str) -> None:
    message = await open_error(f"ws://127.0.0.1:{port}/v1/sessions/s1/ws?token={TOKEN}")
    assert f"ws://127.0.0.1:{port}/v1/sessions/s1/ws" in message
    assert "port must be a number from 1 to 65535" in message


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"http://127.0.0.1:8080/v1/sessions/s1/ws?token={TOKEN}", "scheme isn't ws or wss"),
        (f"ws:///v1/sessions/s1/ws?token={TOKEN}", "hostname isn't provided"),
        (f"ws://[::1/v1/sessions/s1/ws?token={TOKEN}", "IPv6"),
        (f"ws://me:{PASSWORD}@127.0.0.1:99999/ws?token={TOKEN}", "port"),
    ],
)
async def test_a_malformed_url_is_a_typed_error_without_its_query(url: str, says: str) -> None:
    message = await open_error(url)
    assert says in message


async def test_an_unreachable_url_is_reported_without_its_credentials() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    message = await open_error(f"ws://me:{PASSWORD}@127.0.0.1:{port}/v1/x/ws?token={TOKEN}")
    assert f"ws://127.0.0.1:{port}/v1/x/ws" in message
