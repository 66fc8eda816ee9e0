"""The realtime control channel: one WebSocket to the avatar service.

`RealtimeConnection` sends typed events (encoded by `heygen_core.protocol.codec`),
receives typed events (an async iterator per consumer, and callbacks), holds
commands until the service is ready, keeps the session alive, and reconnects
after an unexpected close (a network drop, or a 1011 from the service).
WebSocket pings are off by default: the service's media servers stall pongs
(docs/protocol.md §7), so a pinging client would close a healthy socket with
1011 itself; the keep-alive and the service's own traffic carry liveness.
It speaks either dialect: ``lite`` (LiveAvatar LITE) or ``realtime-alpha``
(Interactive Avatar Realtime API).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Literal, TypeAlias

from heygen_models import lite
from pydantic import BaseModel
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from heygen_core.errors import HeyGenError, ProtocolError, RealtimeConnectionError
from heygen_core.protocol.codec import decode, encode
from heygen_core.realtime.events import (
    ConnectionLost,
    ProtocolErrorEvent,
    ReadyTimeout,
    Reconnected,
    SessionEvent,
    SocketEvent,
)
from heygen_core.realtime.hub import EventHub
from heygen_core.rest.retry import RetryPolicy

logger = logging.getLogger("heygen_core.realtime.connection")

Dialect = Literal["lite", "realtime-alpha"]
"""The WebSocket dialects: LiveAvatar LITE, or the Realtime alpha API."""

EventCallback: TypeAlias = Callable[[SessionEvent], Awaitable[None] | None]
"""A callback for a session's events: a plain or an async function."""

SocketEventCallback: TypeAlias = Callable[[SocketEvent], Awaitable[None] | None]
"""A callback for a socket's events: a plain or an async function."""

MAX_MESSAGE_BYTES = 1_000_000
"""The service's limit on one WebSocket message (docs/protocol.md §3)."""

# Frames larger than this are still read (so a huge frame cannot close the
# socket) but surfaced as protocol errors, not decoded.
_READ_LIMIT = 64 * 1024 * 1024
_EXCERPT = 200


class RealtimeConnection:
    """One control-channel WebSocket with a ready gate, keep-alive and reconnect.

    Args:
        url: The ``ws_url`` (LITE) or ``realtime_endpoint`` (alpha).
        dialect: ``lite`` or ``realtime-alpha``: what is sent, and how
            server frames are decoded.
        ready_timeout: Seconds to wait for ``session.state_updated:
            connected`` before commands are released anyway.
        wait_for_connected: Hold commands until that state arrives. The
            alpha API has no such event, so its default is off there.
        ready_fallback: What happens when `ready_timeout` runs out:
            ``"open"`` (default) opens the gate and emits `ReadyTimeout`,
            because reports differ on whether every mode sends the state;
            ``"raise"`` makes waiting senders, and every later send, raise
            `RealtimeConnectionError` (until a reconnect starts afresh).
        keep_alive_interval: Seconds between keep-alives (None: none). LITE
            sends ``session.keep_alive`` on the socket; elsewhere
            `rest_keep_alive` is called.
        rest_keep_alive: The REST keep-alive, for dialects without one.
        reconnect: Backoff and attempts for reconnecting after an unexpected
            close (``max_attempts=1`` disables reconnecting).
        lost_utterances: Called when the socket closes other than by
            `close()`, with whether a reconnect follows; returns the event
            ids whose audio was cut off (the audio pump provides it). They
            are reported in a `ConnectionLost` event, which also comes when
            the service ends the session (with ``reconnecting=False``).
        open_timeout: Seconds allowed to open the socket.
        first_frame: An event sent first on every socket (the first and each
            reconnected one, since a new socket starts afresh), as soon as
            the session is ready and before any command held by the gate:
            LITE's ``start`` frame (`PumpConfig.send_audio_format`).
        ping_interval: Seconds between WebSocket pings; None (the default)
            sends none, as HeyGen's own starter does: the service stalls
            pongs, and a missed pong closes the socket (1011, then a reconnect).
        ping_timeout: Seconds to wait for a pong when pinging (None: forever).
    """

    def __init__(
        self,
        url: str,
        *,
        dialect: Dialect = "lite",
        ready_timeout: float = 10.0,
        wait_for_connected: bool | None = None,
        ready_fallback: Literal["open", "raise"] = "open",
        keep_alive_interval: float | None = 60.0,
        rest_keep_alive: Callable[[], Awaitable[object]] | None = None,
        reconnect: RetryPolicy | None = None,
        lost_utterances: Callable[[bool], tuple[str, ...]] | None = None,
        open_timeout: float = 10.0,
        first_frame: BaseModel | None = None,
        ping_interval: float | None = None,
        ping_timeout: float | None = 20.0,
    ) -> None:
        if ready_timeout <= 0:
            raise ValueError("ready_timeout must be positive (seconds)")
        if keep_alive_interval is not None and keep_alive_interval <= 0:
            raise ValueError("keep_alive_interval must be positive (seconds) or None")
        if ping_interval is not None and ping_interval <= 0:
            raise ValueError("ping_interval must be positive (seconds) or None")
        self.url = url
        self.dialect: Dialect = dialect
        self.ready_timeout = ready_timeout
        self.wait_for_connected = (
            dialect == "lite" if wait_for_connected is None else wait_for_connected
        )
        self.ready_fallback = ready_fallback
        self.keep_alive_interval = keep_alive_interval
        self.rest_keep_alive = rest_keep_alive
        self.reconnect_policy = reconnect or RetryPolicy(
            max_attempts=5, base_delay=0.5, max_delay=8.0
        )
        self.lost_utterances = lost_utterances
        self.open_timeout = open_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self._first_frame = encode(first_frame) if first_frame is not None else None
        self._first_frame_due = False
        self._first_frame_lock = asyncio.Lock()
        self.session_state: str | None = None
        self._ws: ClientConnection | None = None
        self._ready = asyncio.Event()
        self._ready_failed = False
        self._gate_opened_at: float | None = None
        self._closing = False
        self._finished = asyncio.Event()
        self._hub: EventHub[SocketEvent] = EventHub()
        self._tasks: list[asyncio.Task[None]] = []
        self._watchdog: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        # The URL path carries only the session id, but the query string of a
        # real endpoint may carry a token: leave it out.
        return f"RealtimeConnection(dialect={self.dialect!r}, state={self.session_state!r})"

    @property
    def is_ready(self) -> bool:
        """Whether commands are being released to the socket."""
        return self._ready.is_set() and not self._ready_failed and not self._finished.is_set()

    @property
    def ready_failed(self) -> bool:
        """Whether the ready timeout ran out with ``ready_fallback="raise"`` (sends raise)."""
        return self._ready_failed

    @property
    def session_over(self) -> bool:
        """Whether the service reported the session closing or closed, socket open or not."""
        return self.session_state in ("closing", "closed", "disconnected")

    @property
    def is_closed(self) -> bool:
        """Whether the connection is finished (closed by us, the service, or for good)."""
        return self._finished.is_set()

    async def connect(self) -> None:
        """Open the socket and start reading; returns before the session is ready."""
        self._ws = await self._open()
        self._first_frame_due = self._first_frame is not None
        self._tasks.append(asyncio.create_task(self._read_loop(), name="heygen-realtime-reader"))
        self._start_watchdog()
        if self.keep_alive_interval is not None:
            self._tasks.append(
                asyncio.create_task(self._keep_alive_loop(), name="heygen-keep-alive")
            )
        if not self.wait_for_connected:
            self._open_gate()

    async def _open(self) -> ClientConnection:
        try:
            return await connect(
                self.url,
                open_timeout=self.open_timeout,
                max_size=_READ_LIMIT,
                # Base64 audio barely compresses; deflate would only cost CPU.
                compression=None,
                proxy=None,
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_timeout,
            )
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            raise RealtimeConnectionError(
                f"could not open the realtime socket ({type(exc).__name__}: {exc}); "
                "check that the session was started and its ws_url is reachable"
            ) from None

    async def wait_ready(self) -> None:
        """Wait until commands may be sent (see `ready_timeout` and `ready_fallback`).

        Raises:
            RealtimeConnectionError: The connection is finished, or the
                service did not report ready in time (``ready_fallback="raise"``).
        """
        if not self._ready.is_set():
            await self._ready.wait()
        if self._finished.is_set():
            raise RealtimeConnectionError("the realtime socket is closed; start a new session")
        if self._ready_failed:
            raise RealtimeConnectionError(
                f"the service did not report 'connected' within {self.ready_timeout:g} s"
            )
        if self._first_frame_due:
            # Every sender passes here once the gate opens: the first one sends
            # the frame while the others queue on the lock, so it leads the socket.
            async with self._first_frame_lock:
                if self._first_frame_due and self._first_frame is not None:
                    await self.send_now(self._first_frame)
                    self._first_frame_due = False

    async def send(self, event: BaseModel) -> None:
        """Send one client event once the session is ready.

        Raises:
            ProtocolError: The encoded event is over the service's 1 MB limit.
            RealtimeConnectionError: The socket is closed for good.
        """
        data = encode(event)
        if len(data) > MAX_MESSAGE_BYTES:
            raise ProtocolError(
                f"{type(event).__name__} is {len(data)} bytes; the service drops messages "
                f"over {MAX_MESSAGE_BYTES} bytes: send shorter audio chunks",
                message_type=type(event).__name__,
            )
        await self.wait_ready()
        await self.send_now(data)

    async def send_now(self, data: str) -> None:
        """Send an encoded frame without waiting for the ready gate."""
        ws = self._ws
        if ws is None or self._finished.is_set():
            raise RealtimeConnectionError("the realtime socket is closed; start a new session")
        try:
            await ws.send(data)
        except ConnectionClosed:
            raise RealtimeConnectionError(
                "the realtime socket closed while sending; the message was not delivered"
            ) from None

    def on_event(self, callback: SocketEventCallback) -> None:
        """Call `callback` with every event (after it is queued for iterators)."""
        self._hub.on(callback)

    def events(self) -> AsyncIterator[SocketEvent]:
        """Yield every event from this call on, until the connection is finished.

        The subscription starts when `events()` is called, not at the first
        iteration, so nothing that arrives in between is missed.
        """
        return self._hub.subscribe()

    async def close(self) -> None:
        """Close the socket cleanly and stop the background tasks (idempotent)."""
        self._closing = True
        for task in self._tasks:
            task.cancel()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), timeout=5)
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        self._tasks.clear()
        self._finish()

    async def wait_closed(self) -> None:
        """Wait until the connection is finished."""
        await self._finished.wait()

    def _finish(self) -> None:
        if self._finished.is_set():
            return
        self._finished.set()
        self._ready.set()  # release waiting senders: they raise, the socket is gone
        # The keep-alive and ready watchdog have nothing left to do.
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        self._hub.finish()

    def _open_gate(self) -> None:
        if not self._ready.is_set():
            self._gate_opened_at = time.monotonic()
            self._ready.set()

    async def _emit(self, event: SocketEvent) -> None:
        await self._hub.emit(event)

    async def _handle_frame(self, frame: str | bytes) -> None:
        if isinstance(frame, bytes):
            error = ProtocolError("binary frame: the service sends JSON text frames")
            await self._emit(ProtocolErrorEvent(error, repr(frame[:_EXCERPT]), len(frame)))
            return
        if len(frame) > MAX_MESSAGE_BYTES:
            error = ProtocolError(f"oversized frame ({len(frame)} bytes); not decoded")
            await self._emit(ProtocolErrorEvent(error, frame[:_EXCERPT], len(frame)))
            return
        try:
            event = decode(frame, self.dialect, "server")
        except ProtocolError as error:
            await self._emit(ProtocolErrorEvent(error, frame[:_EXCERPT], len(frame)))
            return
        if isinstance(event, lite.SessionStateUpdated):
            self.session_state = event.state
            if event.state == "connected":
                self._open_gate()
        await self._emit(event)

    async def _read_loop(self) -> None:
        while True:
            ws = self._ws
            assert ws is not None
            try:
                async for frame in ws:
                    try:
                        await self._handle_frame(frame)
                    except Exception as exc:
                        # A bug of ours must not end the user's session either.
                        logger.exception("failed to handle a frame")
                        error = ProtocolError(f"frame not handled: {type(exc).__name__}")
                        await self._emit(
                            ProtocolErrorEvent(error, str(frame[:_EXCERPT]), len(frame))
                        )
            except ConnectionClosed:
                pass
            if self._closing:
                break
            # Closed by the service: a network drop is reconnected; the end
            # of the session (idle timeout, maximum duration, a REST stop
            # elsewhere) is not, and whatever was unfinished is lost.
            # A 1011 (a stalled pong, or the service's internal error) is a drop.
            reconnecting = not self.session_over and self.reconnect_policy.max_attempts > 1
            lost = self.lost_utterances(reconnecting) if self.lost_utterances else ()
            await self._emit(
                ConnectionLost(ws.close_code, ws.close_reason or "", lost, reconnecting)
            )
            if not reconnecting:
                break
            attempts = await self._reconnect()
            if attempts is None:
                if not self._closing:
                    lost = self.lost_utterances(False) if self.lost_utterances else ()
                    reason = "no reconnect succeeded; the socket is closed for good"
                    await self._emit(ConnectionLost(None, reason, lost, False))
                break
            await self._emit(Reconnected(attempts))
        self._finish()

    async def _reconnect(self) -> int | None:
        if self._watchdog is not None:
            # The lost socket's ready timeout must not fire during the backoff
            # and open (or fail) the gate of a socket not yet connected.
            self._watchdog.cancel()
            self._watchdog = None
        self._ready.clear()
        self._ready_failed = False  # a new socket gets a new ready timeout
        self.session_state = None
        for attempt in range(1, self.reconnect_policy.max_attempts):
            await asyncio.sleep(self.reconnect_policy.backoff(attempt))
            if self._closing:
                return None
            try:
                self._ws = await self._open()
            except RealtimeConnectionError as exc:
                logger.warning("reconnect attempt %d failed: %s", attempt, exc)
                continue
            self._first_frame_due = self._first_frame is not None
            if not self.wait_for_connected:
                self._open_gate()
            else:
                self._start_watchdog()
            return attempt
        logger.error("realtime socket lost for good after %d attempts", attempt)
        return None

    def _start_watchdog(self) -> None:
        # One per socket: the previous socket's, if still waiting, must not
        # time out the new one.
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._watchdog = asyncio.create_task(self._ready_watchdog(), name="heygen-ready-gate")
        self._tasks.append(self._watchdog)

    async def _ready_watchdog(self) -> None:
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=self.ready_timeout)
        except TimeoutError:
            if self._ready.is_set():
                return
            logger.warning(
                "no 'connected' state within %.1f s; fallback: %s",
                self.ready_timeout,
                self.ready_fallback,
            )
            if self.ready_fallback == "raise":
                self._ready_failed = True
            await self._emit(ReadyTimeout(self.ready_timeout))
            self._open_gate()

    async def _keep_alive_loop(self) -> None:
        assert self.keep_alive_interval is not None
        while True:
            await asyncio.sleep(self.keep_alive_interval)
            try:
                if self.dialect == "lite":
                    await self.send(
                        lite.SessionKeepAlive(
                            type=lite.SESSION_KEEP_ALIVE_TAG, event_id=uuid.uuid4().hex
                        )
                    )
                elif self.rest_keep_alive is not None:
                    await self.rest_keep_alive()
            except HeyGenError as exc:
                logger.warning("keep-alive failed: %s", exc)
