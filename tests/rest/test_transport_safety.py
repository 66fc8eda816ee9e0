"""The REST transport against hostile or misconfigured servers, over real loopback HTTP.

Redirects (credentials never leave the origin), response size caps (plain and
gzip-bombed bodies), the per-attempt deadline, and `base_url` checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from heygen_models import liveavatar as la

from heygen_core.errors import (
    InvalidBaseUrlError,
    ProtocolError,
    ResponseTooLargeError,
    TransportError,
    UnexpectedRedirectError,
)
from heygen_core.rest.liveavatar_client import LiveAvatarClient
from heygen_core.rest.retry import RetryPolicy
from heygen_core.rest.streaming_client import StreamingClient
from heygen_core.rest.transport import DEFAULT_MAX_RESPONSE_BYTES
from heygen_core.simulator import Simulator, SimulatorConfig
from tests.support.real_world_bodies import SANDBOX_AVATAR

KEY = "sk-canary-redirect-7c1e9a"
TOKEN = "st-canary-token-55d0b2"
ONCE = RetryPolicy(max_attempts=1)
MIB = 1024 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    """What one test server received."""

    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def record(self, request: web.Request) -> None:
        self.requests.append((request.method, request.path_qs, dict(request.headers)))


@contextlib.asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[str]:
    """Run `handler` for every path on 127.0.0.1; yield the base URL."""

    async def route(request: web.Request) -> web.StreamResponse:
        return await handler(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", route)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


# -- redirects ------------------------------------------------------------------------


async def test_a_redirect_to_another_origin_sends_no_credential_there() -> None:
    elsewhere = Seen()
    api = Seen()

    async def other(request: web.Request) -> web.StreamResponse:
        elsewhere.record(request)
        return web.json_response({"code": 100, "data": None, "message": "ok"})

    async with serve(other) as other_url:

        async def redirecting(request: web.Request) -> web.StreamResponse:
            api.record(request)
            # 307 keeps the method and body: the worst case for a POST.
            raise web.HTTPTemporaryRedirect(f"{other_url}{request.path}?token=leak-me")

        async with (
            serve(redirecting) as api_url,
            LiveAvatarClient(KEY, base_url=api_url, retry=ONCE) as live,
            StreamingClient(KEY, base_url=api_url, retry=ONCE) as streaming,
        ):
            calls: list[Awaitable[object]] = [
                live.list_avatars(),  # X-API-KEY
                live.create_session_token(  # X-API-KEY and a body
                    la.LiteSessionTokenRequest(
                        mode="LITE", avatar_id=SANDBOX_AVATAR, is_sandbox=True
                    )
                ),
                live.start_session(TOKEN),  # Authorization: Bearer <token>
                live.keep_alive_session(session_token=TOKEN),
                streaming.create_token(),  # x-api-key
            ]
            for call in calls:
                with pytest.raises(UnexpectedRedirectError) as info:
                    await call
                error = info.value
                assert error.status == 307
                assert error.location == other_url
                assert not error.same_origin
                assert "leak-me" not in str(error) and "base_url" in str(error)
                assert KEY not in str(error) and TOKEN not in str(error)

    assert len(api.requests) == 5  # each call reached the API once, and was not repeated
    assert elsewhere.requests == []  # so no header, key or token ever reached the other host


async def test_a_same_origin_redirect_is_not_followed_either() -> None:
    # Decision: same-origin redirects are refused too. The APIs never redirect,
    # so one means base_url is wrong, and following a 301/302 would silently
    # turn a POST into a GET without its body.
    api = Seen()

    async def handler(request: web.Request) -> web.StreamResponse:
        api.record(request)
        if request.path.startswith("/moved"):
            return web.json_response({"code": 100, "data": {"results": []}, "message": "ok"})
        raise web.HTTPPermanentRedirect("/moved" + request.path)

    async with (
        serve(handler) as api_url,
        LiveAvatarClient(KEY, base_url=api_url, retry=ONCE) as live,
    ):
        with pytest.raises(UnexpectedRedirectError) as info:
            await live.list_avatars()
    assert info.value.status == 308
    assert info.value.same_origin and info.value.location == api_url
    assert "path of base_url" in str(info.value)
    assert [path for _, path, _ in api.requests] == ["/v1/avatars"]


# -- response size ----------------------------------------------------------------------


@dataclass
class Writer:
    """A server that streams a large body and notes how far it got."""

    total: int
    declare_length: bool
    written: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        if self.declare_length:
            response.content_length = self.total
        else:
            response.enable_chunked_encoding()
        chunk = b" " * (64 * 1024)
        try:
            await response.prepare(request)
            while self.written < self.total:
                await response.write(chunk)
                self.written += len(chunk)
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client hung up: what we want to see
        finally:
            self.done.set()
        return response


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
async def test_an_oversized_body_is_refused_without_reading_it_all(declare_length: bool) -> None:
    server = Writer(total=200 * MIB, declare_length=declare_length)
    async with (
        serve(server) as url,
        LiveAvatarClient(KEY, base_url=url, retry=ONCE, max_response_bytes=MIB) as live,
    ):
        started = time.monotonic()
        with pytest.raises(ResponseTooLargeError) as info:
            await live.list_avatars()
        elapsed = time.monotonic() - started
        await asyncio.wait_for(server.done.wait(), 5)
    assert isinstance(info.value, ProtocolError)
    assert info.value.limit == MIB and "1 MiB" in str(info.value)
    assert "max_response_bytes" in str(info.value)
    assert elapsed < 2
    # The connection was dropped: the server could not write far past the cap.
    assert server.written < 32 * MIB


def test_the_default_cap_is_a_few_mebibytes() -> None:
    assert MIB <= DEFAULT_MAX_RESPONSE_BYTES <= 16 * MIB
    client = LiveAvatarClient(KEY)
    assert client.max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES
    with pytest.raises(ValueError, match="max_response_bytes"):
        LiveAvatarClient(KEY, max_response_bytes=0)


@functools.cache
def gzip_bomb() -> bytes:
    """200 MiB of zeros, gzipped: about 200 KB on the wire."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip stream
    block = bytes(MIB)
    parts = [compressor.compress(block) for _ in range(200)]
    parts.append(compressor.flush())
    return b"".join(parts)


@pytest.mark.parametrize("seconds", [1.0, 30.0])
async def test_a_gzip_bomb_stops_at_the_cap_quickly_and_in_little_memory(seconds: float) -> None:
    bomb = gzip_bomb()
    assert len(bomb) < MIB

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=bomb,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )

    async with (
        serve(handler) as url,
        LiveAvatarClient(KEY, base_url=url, retry=ONCE, timeout=seconds) as live,
    ):
        tracemalloc.start()
        started = time.monotonic()
        try:
            with pytest.raises(ResponseTooLargeError) as info:
                await live.list_avatars()
            elapsed = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert info.value.limit == DEFAULT_MAX_RESPONSE_BYTES
    # The whole body inflates to 200 MiB; only about the cap was ever held.
    assert peak < 4 * DEFAULT_MAX_RESPONSE_BYTES, f"peak {peak / MIB:.0f} MiB"
    # Well within the deadline too (before, a 1 s timeout fired after ~3 s).
    assert elapsed < min(seconds, 1.3)


async def test_reading_an_inflating_body_never_stalls_the_event_loop() -> None:
    # aiohttp can inflate a compressed body read after read without the read
    # ever suspending: then no deadline can fire and no other task runs until
    # the body is in (a 0.35 s stall here before). With the cap raised, the
    # read must still yield between chunks.
    bomb = gzip_bomb()

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=bomb,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )

    gaps: list[float] = []

    async def ticker() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    async with (
        serve(handler) as url,
        LiveAvatarClient(KEY, base_url=url, retry=ONCE, max_response_bytes=128 * MIB) as live,
    ):
        ticking = asyncio.create_task(ticker())
        try:
            with pytest.raises(ResponseTooLargeError):
                await live.list_avatars()
        finally:
            ticking.cancel()
    assert gaps and max(gaps) < 0.1, f"the loop stalled for {max(gaps):.2f} s"


# -- deadline ------------------------------------------------------------------------------


async def trickle_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    with contextlib.suppress(ConnectionError):
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: " + b"a" * 500:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.02)
    writer.close()


async def trickle_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9999\r\n\r\n"
    )
    with contextlib.suppress(ConnectionError):
        for _ in range(500):
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.02)
    writer.close()


@pytest.mark.parametrize("trickle", [trickle_headers, trickle_body], ids=["headers", "body"])
async def test_a_trickling_server_fails_at_the_timeout(
    trickle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> None:
    handlers: set[asyncio.Task[None]] = set()

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        await trickle(reader, writer)

    server = await asyncio.start_server(tracked, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with LiveAvatarClient(
            KEY, base_url=f"http://127.0.0.1:{port}", retry=ONCE, timeout=1
        ) as live:
            started = time.monotonic()
            with pytest.raises(TransportError) as info:
                await live.list_avatars()
            elapsed = time.monotonic() - started
    finally:
        for task in handlers:
            task.cancel()
        server.close()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()
    assert info.value.timed_out
    assert 0.9 <= elapsed < 1.3


# -- base_url ------------------------------------------------------------------------------


@pytest.mark.parametrize("client_class", [LiveAvatarClient, StreamingClient])
@pytest.mark.parametrize(
    ("base_url", "reason", "suggestion", "says"),
    [
        ("127.0.0.1:8080", "no_scheme", "http://127.0.0.1:8080", "add http:// or https://"),
        ("localhost:8080", "no_scheme", "http://localhost:8080", "add http:// or https://"),
        ("api.liveavatar.com", "no_scheme", "https://api.liveavatar.com", "add http://"),
        ("http://127.0.0.1:8080/v1", "version_path", "http://127.0.0.1:8080", "without /v1"),
        ("https://api.liveavatar.com/v1/", "version_path", "https://api.liveavatar.com", "/v1"),
        ("https://proxy.example/heygen/v2", "version_path", "https://proxy.example/heygen", "v2"),
        ("ws://127.0.0.1:8080", "unsupported_scheme", "http://127.0.0.1:8080", "http://"),
        ("http://", "no_host", None, "no host"),
        ("http://127.0.0.1:8080/?x=1", "query", "http://127.0.0.1:8080", "query"),
        ("http://127.0.0.1:99999", "malformed", None, "not a valid URL"),
    ],
)
def test_an_unusable_base_url_is_refused_when_the_client_is_made(
    client_class: type[LiveAvatarClient | StreamingClient],
    base_url: str,
    reason: str,
    suggestion: str | None,
    says: str,
) -> None:
    with pytest.raises(InvalidBaseUrlError) as info:
        client_class(KEY, base_url=base_url)
    error = info.value
    assert isinstance(error, ValueError)
    assert error.base_url == base_url and error.reason == reason
    assert error.suggestion == suggestion
    assert says in str(error) and "base_url" in str(error)


def test_a_password_in_a_base_url_is_not_repeated() -> None:
    with pytest.raises(InvalidBaseUrlError) as info:
        LiveAvatarClient(KEY, base_url="user:hunter2@127.0.0.1:8080")
    assert "hunter2" not in str(info.value) and "hunter2" not in info.value.base_url
    assert info.value.suggestion == "http://***@127.0.0.1:8080"


def test_good_base_urls_are_kept_without_the_trailing_slash() -> None:
    for given, kept in [
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("https://proxy.example/heygen", "https://proxy.example/heygen"),
        ("HTTPS://api.liveavatar.com", "HTTPS://api.liveavatar.com"),
    ]:
        assert LiveAvatarClient(KEY, base_url=given).base_url == kept
    assert LiveAvatarClient(KEY).base_url == "https://api.liveavatar.com"
    assert StreamingClient(KEY).base_url == "https://api.heygen.com"


# -- retry log -------------------------------------------------------------------------------


async def test_each_retry_logs_one_info_line_saying_what_and_when(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The CLI shows these lines while a command waits; keep their shape.
    caplog.set_level(logging.INFO, logger="heygen_core.rest")
    policy = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.02)
    async with (
        Simulator(SimulatorConfig(api_key=KEY)) as sim,
        LiveAvatarClient(KEY, base_url=sim.url, retry=policy) as live,
    ):
        sim.inject("list_avatars", 503, 500)
        await live.list_avatars()
    lines = [
        record.getMessage()
        for record in caplog.records
        if record.name == "heygen_core.rest" and record.levelno == logging.INFO
    ]
    assert len(lines) == 2, lines
    for number, line in enumerate(lines, 1):
        assert line.startswith("GET /v1/avatars failed (ServerError); retry ")
        assert f"retry {number} in " in line and line.endswith(" s")
    assert KEY not in caplog.text
