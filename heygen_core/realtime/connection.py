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
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias

from heygen_models import lite
from pydantic import BaseModel
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.uri import parse_uri

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
from heygen_core.realtime.log_redaction import redact_text, redacting_logger, safe_url
from heygen_core.rest.retry import RetryPolicy

logger = logging.getLogger("heygen_core.realtime.connection")
# What websockets logs at DEBUG (the request line with the ws_url's query,
# every header) goes through this logger, whose filter redacts credentials.
_websockets_logger = redacting_logger("heygen_core.realtime.websocket")

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


@dataclass(frozen=True)
class ReconnectPolicy(RetryPolicy):
    """How a control socket reconnects after an unexpected close, and when it gives up.

    An *outage* starts when a socket is lost (or when the first socket
    opens) and ends only when a socket's ready gate opens: the service
    reports ``connected`` (in a dialect without that state: the socket
    opened), or the socket stayed open for the whole ready timeout. A
    socket that opens and then closes before that does not end it, so a
    service that accepts every socket and drops it at once cannot keep a
    session reconnecting forever. Reconnecting stops, with a `ConnectionLost`
    (``reconnecting=False``) and `RealtimeConnectionError` for every waiting
    and later send, at the first of:

    - `max_attempts` socket opens in one outage (the lost socket counted
      as the first, as a `RetryPolicy` counts attempts);
    - more than `max_reconnects` losses within any `window_seconds` (a
      socket that becomes ready and then drops, again and again);
    - an outage longer than `give_up_after` seconds (backoff and opens
      included; each open is also cut short to fit).

    A plain `RetryPolicy` given as a reconnect policy gets the window and
    the deadline of this class's defaults.

    Attributes:
        max_attempts: Socket opens per outage, the lost socket included
            (1 disables reconnecting).
        base_delay: Backoff before the first reconnect, in seconds; doubles
            with each attempt of the same outage (full jitter).
        max_delay: Cap on one backoff, in seconds.
        max_reconnects: Reconnects allowed within `window_seconds`.
        window_seconds: The sliding window `max_reconnects` applies to.
        give_up_after: Seconds an outage may last before reconnecting stops.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_reconnects: int = 5
    window_seconds: float = 60.0
    give_up_after: float = 30.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_reconnects < 0:
            raise ValueError("max_reconnects must not be negative")
        if self.window_seconds <= 0 or self.give_up_after <= 0:
            raise ValueError("window_seconds and give_up_after must be positive (seconds)")


DEFAULT_RECONNECT = ReconnectPolicy()
"""The reconnect policy used when none is given (suited to the live service)."""


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
        reconnect: Backoff, attempts and time budget for reconnecting after
            an unexpected close (``max_attempts=1`` disables reconnecting);
            a `ReconnectPolicy` (default `DEFAULT_RECONNECT`: 5 opens per
            outage, 5 reconnects a minute, 30 s per outage), or a plain
            `RetryPolicy` with that window and deadline.
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
        self.reconnect_policy: RetryPolicy = reconnect or DEFAULT_RECONNECT
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
        # The reconnect budget (`ReconnectPolicy`): when the current outage
        # began (None: a socket is ready), the opens it took, recent losses.
        self._outage_since: float | None = None
        self._outage_attempts = 0
        self._losses: deque[float] = deque()
        # Why reconnecting stopped, for the errors of later sends.
        self._failure: str | None = None

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
    def failure(self) -> str | None:
        """Why reconnecting stopped for good (the reconnect budget ran out), if it did."""
        return self._failure

    @property
    def is_closed(self) -> bool:
        """Whether the connection is finished (closed by us, the service, or for good)."""
        return self._finished.is_set()

    async def connect(self) -> None:
        """Open the socket and start reading; returns before the session is ready.

        Raises:
            RealtimeConnectionError: The URL is malformed, or the socket
                could not be opened (the message never quotes the URL's query).
        """
        # Until the service reports ready, the session is in its first outage:
        # a first socket that keeps closing is bounded like any other.
        self._outage_since = time.monotonic()
        self._outage_attempts = 1
        self._ws = await self._open(self.open_timeout)
        self._first_frame_due = self._first_frame is not None
        self._tasks.append(asyncio.create_task(self._read_loop(), name="heygen-realtime-reader"))
        self._start_watchdog()
        if self.keep_alive_interval is not None:
            self._tasks.append(
                asyncio.create_task(self._keep_alive_loop(), name="heygen-keep-alive")
            )
        if not self.wait_for_connected:
            self._open_gate()

    async def _open(self, within: float) -> ClientConnection:
        # Messages name the URL as scheme://host:port/path at most: its query
        # (and any userinfo) may carry a token.
        where = safe_url(self.url)
        try:
            parse_uri(self.url)
        except InvalidURI as exc:
            raise RealtimeConnectionError(
                f"the realtime URL {where} is not a valid WebSocket URL ({exc.msg}): it must "
                "start with ws:// or wss:// and name a host; check the ws_url the session returned"
            ) from None
        except ValueError as exc:  # urllib: a port out of range or not a number, a bad IPv6 host
            raise RealtimeConnectionError(
                f"the realtime URL {where} is not valid ({redact_text(str(exc))}): its port must "
                "be a number from 1 to 65535 and an IPv6 host must be in brackets; check the "
                "ws_url the session returned"
            ) from None
        try:
            return await connect(
                self.url,
                open_timeout=within,
                max_size=_READ_LIMIT,
                # Base64 audio barely compresses; deflate would only cost CPU.
                compression=None,
                proxy=None,
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_timeout,
                logger=_websockets_logger,
            )
        except InvalidStatus as exc:
            raise RealtimeConnectionError(
                f"the service refused the realtime socket at {where} "
                f"(HTTP {exc.response.status_code}); check that the session was started "
                "and has not ended"
            ) from None
        except (OSError, TimeoutError, InvalidHandshake, ValueError) as exc:
            # A redirect's Location, for one, may be quoted in the message.
            detail = redact_text(str(exc).replace(self.url, where)) or "no answer in time"
            raise RealtimeConnectionError(
                f"could not open the realtime socket at {where} ({type(exc).__name__}: {detail}); "
                "check that the session was started and its ws_url is reachable"
            ) from None

    def _closed_message(self) -> str:
        if self._failure is not None:
            return (
                f"the realtime socket is closed for good: {self._failure}. Start a new "
                "session; if this happens again, check the network and the service's status"
            )
        return "the realtime socket is closed; start a new session"

    async def wait_ready(self) -> None:
        """Wait until commands may be sent (see `ready_timeout` and `ready_fallback`).

        Raises:
            RealtimeConnectionError: The connection is finished, or the
                service did not report ready in time (``ready_fallback="raise"``).
        """
        if not self._ready.is_set():
            await self._ready.wait()
        if self._finished.is_set():
            raise RealtimeConnectionError(self._closed_message())
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

    async def send(
        self, event: BaseModel, *, still_wanted: Callable[[], bool] | None = None
    ) -> bool:
        """Send one client event once the session is ready.

        Args:
            event: The client event.
            still_wanted: Asked once the ready gate has let the event
                through, immediately before it goes on the socket (nothing
                is awaited in between); when it says False the event is not
                sent. A sender whose event may have become obsolete while it
                waited at the gate passes it: the audio pump asks whether
                its utterance is still live, so nothing of an utterance a
                drop reported lost reaches a newer socket.

        Returns:
            Whether the event was sent (False only when `still_wanted` said no).

        Raises:
            ProtocolError: The encoded event is over the service's 1 MB limit.
            RealtimeConnectionError: The socket is closed for good.
        """
        return await self._send_gated(encode(event), type(event).__name__, still_wanted)

    async def send_encoded(
        self, data: str, *, still_wanted: Callable[[], bool] | None = None
    ) -> bool:
        """Send a client event already encoded, once the session is ready: as `send`.

        For the audio pump, which encodes each chunk from a template built
        from the generated model (`heygen_core.audio.dialects.AudioTemplate`)
        instead of building a model per chunk.

        Args:
            data: The event's wire JSON.
            still_wanted: As for `send`.

        Returns:
            Whether the event was sent (False only when `still_wanted` said no).

        Raises:
            ProtocolError: `data` is over the service's 1 MB limit.
            RealtimeConnectionError: The socket is closed for good.
        """
        return await self._send_gated(data, "encoded", still_wanted)

    async def _send_gated(
        self, data: str, what: str, still_wanted: Callable[[], bool] | None
    ) -> bool:
        if len(data) > MAX_MESSAGE_BYTES:
            raise ProtocolError(
                f"{what} event is {len(data)} bytes; the service drops messages "
                f"over {MAX_MESSAGE_BYTES} bytes: send shorter audio chunks",
                message_type=what,
            )
        await self.wait_ready()
        if still_wanted is not None and not still_wanted():
            return False
        # No await between the check and the frame leaving: send_now writes
        # it to the current socket before it first suspends.
        await self.send_now(data)
        return True

    async def send_now(self, data: str) -> None:
        """Send an encoded frame without waiting for the ready gate."""
        ws = self._ws
        if ws is None or self._finished.is_set():
            raise RealtimeConnectionError(self._closed_message())
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
        # On a live socket only (the service said ready, the socket opened in
        # a dialect without that state, or its ready timeout ran out): the
        # outage is over, the reconnect budget's opens and deadline start afresh.
        self._socket_ready()
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
            self._stop_watchdog()  # this socket's ready timeout is moot now
            reconnecting = not self.session_over and self.reconnect_policy.max_attempts > 1
            reason = ws.close_reason or ""
            if reconnecting:
                exhausted = self._note_loss()
                if exhausted is not None:
                    reconnecting = False
                    reason = self._give_up(exhausted)
            lost = self.lost_utterances(reconnecting) if self.lost_utterances else ()
            await self._emit(ConnectionLost(ws.close_code, reason, lost, reconnecting))
            if not reconnecting:
                break
            attempts = await self._reconnect()
            if attempts is None:
                if not self._closing:
                    lost = self.lost_utterances(False) if self.lost_utterances else ()
                    await self._emit(ConnectionLost(None, self._failure or "", lost, False))
                break
            await self._emit(Reconnected(attempts))
        self._finish()

    @property
    def _budget(self) -> ReconnectPolicy:
        policy = self.reconnect_policy
        return policy if isinstance(policy, ReconnectPolicy) else DEFAULT_RECONNECT

    def _socket_ready(self) -> None:
        self._outage_since = None
        self._outage_attempts = 0

    def _note_loss(self) -> str | None:
        """Count a lost socket against the budget; say why it is spent, if it is."""
        now = time.monotonic()
        budget = self._budget
        self._losses.append(now)
        while self._losses and self._losses[0] <= now - budget.window_seconds:
            self._losses.popleft()
        if len(self._losses) > budget.max_reconnects:
            return (
                f"the socket was lost {len(self._losses)} times within "
                f"{budget.window_seconds:g} s (at most {budget.max_reconnects} reconnects allowed)"
            )
        if self._outage_since is None:
            self._outage_since = now
            self._outage_attempts = 1  # the lost socket was the outage's first
        elif now - self._outage_since >= budget.give_up_after:
            return self._outage_text(self._outage_since)
        return None

    def _outage_text(self, since: float) -> str:
        return (
            f"no socket became ready within {time.monotonic() - since:.1f} s "
            f"({self._outage_attempts - 1} reconnects failed, or closed before the service "
            "was ready)"
        )

    def _give_up(self, why: str) -> str:
        self._failure = why
        logger.error("realtime socket lost for good: %s", why)
        return why

    async def _reconnect(self) -> int | None:
        """Open a new socket within the budget: its attempt number, or None (given up, closing)."""
        self._stop_watchdog()
        self._ready.clear()
        self._ready_failed = False  # a new socket gets a new ready timeout
        self.session_state = None
        policy = self.reconnect_policy
        since = self._outage_since if self._outage_since is not None else time.monotonic()
        deadline = since + self._budget.give_up_after
        last_error = ""
        while True:
            if self._outage_attempts >= policy.max_attempts:
                self._give_up(
                    f"{self._outage_attempts - 1} reconnects in a row failed, or closed before "
                    f"the service was ready{last_error}"
                )
                return None
            attempt = self._outage_attempts  # reconnects in this outage, this one included
            await asyncio.sleep(max(0.0, min(policy.backoff(attempt), deadline - time.monotonic())))
            if self._closing:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._give_up(self._outage_text(since) + last_error)
                return None
            self._outage_attempts += 1
            try:
                # Cut short to fit the outage's deadline.
                self._ws = await self._open(min(self.open_timeout, remaining))
            except RealtimeConnectionError as exc:
                logger.warning("reconnect attempt %d failed: %s", attempt, exc)
                last_error = f"; the last one: {exc}"
                continue
            self._first_frame_due = self._first_frame is not None
            if not self.wait_for_connected:
                self._open_gate()
            else:
                self._start_watchdog()
            return attempt

    def _stop_watchdog(self) -> None:
        # A lost socket's ready timeout must not fire during the backoff and
        # open (or fail) the gate of a socket not yet connected.
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

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
