"""`AvatarSession`: the REST lifecycle of a session, its events, and closing exactly once.

What a session does in its mode is delegated: to a `LiteDriver` (control
socket and audio pump) and, in FULL mode, to a `FullDriver` (commands and
events over the room's data channel). The session owns what both share: the
REST calls that create, start and stop it, its room, and one event stream.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import logging
import os
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Literal, TypeVar
from urllib.parse import urlencode, urlsplit

import aiohttp
import numpy as np
from heygen_models import liveavatar as la
from heygen_models import streaming as st

from heygen_core.audio.convert import AudioConverter
from heygen_core.audio.format import AudioInput
from heygen_core.audio.pump import AudioPump, PumpConfig
from heygen_core.audio.wav import read_wav
from heygen_core.errors import (
    ApiError,
    CredentialsError,
    HeyGenError,
    InvalidRequestError,
    ServerError,
    SessionError,
    SessionStateError,
    TransportError,
)
from heygen_core.media.registry import open_room
from heygen_core.media.room import MediaRoom
from heygen_core.realtime.connection import Dialect, EventCallback, RealtimeConnection
from heygen_core.realtime.events import ReadyTimeout, SessionEvent
from heygen_core.realtime.hub import EventHub
from heygen_core.rest.liveavatar_client import LiveAvatarClient
from heygen_core.rest.retry import RetryPolicy
from heygen_core.rest.streaming_client import StreamingClient
from heygen_core.session._full_driver import FullDriver
from heygen_core.session._lite_driver import LiteDriver, SocketSettings
from heygen_core.session.open_record import ApiName, OpenSessionEntry, OpenSessionRecord
from heygen_core.session.speak_result import SpeakResult

logger = logging.getLogger("heygen_core.session")

SANDBOX_AVATAR_ID = "dd73ea75-1218-4ef3-92ce-606d5f7fbc0a"
"""The public avatar that LiveAvatar sandbox sessions (free, about a minute) must use."""

# Stopping must finish even while the caller is being cancelled; this bounds it.
_STOP_TIMEOUT = 10.0
# How long the request that creates a session (token, streaming.new) may go
# on after its caller stopped waiting (cancelled, or its timeout ran out):
# once sent, it may have created a session, and only its answer names it.
_CREATE_GRACE = 10.0
# Room URL schemes a browser's LiveKit viewer can join; others (the
# simulator's local rooms) get no viewer link.
_VIEWABLE_SCHEMES = frozenset({"ws", "wss", "http", "https"})

# Cancellations of the stop absorbed (each starts it again) before giving up.
_MAX_ABSORBED_CANCELS = 3

R = TypeVar("R")

# What is still unresolved about each session, logged at ERROR if the
# process exits first: a created session not seen stopped, or a create
# request not answered. Paths that cannot log themselves (the loop closed
# with the close pending, a third Ctrl-C during asyncio.run's teardown) end
# here, so no session is left unreported.
_unresolved: dict[int, str] = {}
_exit_keys = itertools.count()


@atexit.register
def _report_unresolved_at_exit() -> None:
    for message in list(_unresolved.values()):
        logger.error("%s", message)
    _unresolved.clear()


@dataclass(frozen=True)
class _Endpoints:
    """Where a started session is reached: its control socket and its room."""

    ws_url: str | None
    dialect: Dialect
    room_url: str | None
    room_token: str | None = field(repr=False)


class AvatarSession:
    """A running avatar session: REST lifecycle, control socket and audio pump.

    Build one with `AvatarSession.live_avatar` or
    `AvatarSession.interactive_avatar` and use it as an async context manager.
    Ctrl-C safety (the session is stopped) relies on `asyncio.run`, or a
    runner that likewise turns SIGINT into cancellation of the task. Closing
    stops the session, or logs at ERROR that session ``<id>`` was not stopped,
    on every path: a second Ctrl-C (``asyncio.run`` then cancels the close
    itself) does not abandon the stop, which goes on within its bound.

    While open, the session is written to an `OpenSessionRecord` (no secret,
    only its id, API, base URL and process), removed once the stop is
    confirmed, so the sessions a crashed process left behind can be stopped
    later (``heygen-avatar sessions stop --orphans``).
    """

    def __init__(
        self,
        *,
        setup: Callable[[AvatarSession], Awaitable[_Endpoints]],
        stop: Callable[[AvatarSession], Awaitable[object]],
        clients: tuple[LiveAvatarClient | StreamingClient, ...],
        pump_config: PumpConfig | None,
        ready_timeout: float,
        ready_fallback: Literal["open", "raise"],
        keep_alive_interval: float | None,
        rest_keep_alive: Callable[[], Awaitable[object]] | None,
        reconnect: RetryPolicy | None,
        mode: Literal["LITE", "FULL"] = "LITE",
        join_room: bool = False,
        ping_interval: float | None = None,
        api: ApiName = "liveavatar",
        base_url: str = "",
        session_record: OpenSessionRecord | None = None,
    ) -> None:
        self._setup = setup
        self._api: ApiName = api
        self._base_url = base_url
        self._record = session_record
        self._recorded = False
        self.mode: Literal["LITE", "FULL"] = mode
        """``LITE`` (your audio over the control socket) or ``FULL`` (text commands in the room)."""
        self._join_room = join_room or mode == "FULL"
        self._room: MediaRoom | None = None
        self._events: EventHub[SessionEvent] = EventHub()
        self._stop = stop
        self._clients = clients
        self._socket_settings = SocketSettings(
            pump=pump_config,
            ready_timeout=ready_timeout,
            ready_fallback=ready_fallback,
            keep_alive_interval=keep_alive_interval,
            rest_keep_alive=rest_keep_alive,
            reconnect=reconnect,
            ping_interval=ping_interval,
        )
        self._lite: LiteDriver | None = None
        self._full: FullDriver | None = None
        self.connector = False
        """Whether this is an agent-connector session (a LITE token with an ElevenLabs
        agent config): it has no LITE socket and runs on FULL events, with the
        connector's commands (`send_user_message`, `send_tool_result`, ...)."""
        self.session_id: str | None = None
        """The service's session id, once created."""
        self.start_data: la.StartSessionData | st.NewSessionData | None = None
        """What the service returned when the session started (LiveKit URL, tokens...)."""
        self.session_token: str | None = None
        self._created = False
        # The request that creates the session, run as its own task (see `_create_session`).
        self._create_task: asyncio.Task[object] | None = None
        self._create_sent = False
        self._nothing_created = False
        self._stop_confirmed = False
        self._started_at: float | None = None
        self._max_duration: int | None = None
        self._stopped = False
        self.stopped_cleanly = False
        """Whether the REST stop call succeeded (set when the session closes)."""
        self._closing: asyncio.Task[None] | None = None
        self._exit_key = next(_exit_keys)

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else ("open" if self._lite else "new")
        return f"AvatarSession(session_id={self.session_id!r}, {state})"

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def live_avatar(
        cls,
        *,
        avatar_id: str | None = None,
        sandbox: bool | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        mode: Literal["LITE", "FULL"] = "LITE",
        token_request: la.LiteSessionTokenRequest | la.FullSessionTokenRequest | None = None,
        media: bool = False,
        media_role: Literal["agent", "client"] = "agent",
        http: aiohttp.ClientSession | None = None,
        pump: PumpConfig | None = None,
        send_audio_format: bool = False,
        ready_timeout: float = 10.0,
        ready_fallback: Literal["open", "raise"] = "open",
        keep_alive_interval: float | None = 60.0,
        reconnect: RetryPolicy | None = None,
        timeout: float = 30.0,
        ping_interval: float | None = None,
        session_record: OpenSessionRecord | Literal["default"] | None = "default",
    ) -> AvatarSession:
        """A LiveAvatar session: LITE (your audio in) or FULL (text in, the service's own voice).

        LITE drives the avatar with audio over the control socket; FULL sends
        typed commands (`speak_text`, `speak_response`, ...) as data packets
        in the session's room and receives its events there.

        Asking for nothing gets the free sandbox: ``live_avatar()`` is a
        sandbox session (about a minute long) with the sandbox avatar. A
        billed session is a deliberate choice: give your own `avatar_id`
        (then `sandbox` defaults to False), or pass ``sandbox=False``.

        Args:
            avatar_id: The avatar; default `SANDBOX_AVATAR_ID`, the public
                avatar the sandbox needs.
            sandbox: A free sandbox session (about a minute long); default:
                True unless you give your own `avatar_id`. The service
                allows the sandbox only with `SANDBOX_AVATAR_ID` (docs/protocol.md §1),
                so ``sandbox=True`` with another avatar raises `SessionError`.
            api_key: LiveAvatar key; default ``HEYGEN_LIVE_AVATAR_API_KEY``.
            base_url: The API's base URL (the simulator's, in tests).
            mode: ``LITE`` or ``FULL``.
            token_request: A whole token request, for options beyond avatar
                and sandbox (``video_settings``, ``livekit_config``,
                ``avatar_persona``, ...); its mode wins over `mode`.
            media: LITE: also join the session's room (as the agent), for
                `media` (the avatar's audio and video, users). FULL always
                joins (as the client), since its commands travel there.
            media_role: LITE: join as ``"agent"`` (a bot feeding the avatar,
                with the agent token) or as ``"client"`` (beside the users,
                with the client token). FULL always joins as the client.
            http: An aiohttp session to share (not closed by the session).
            pump: Chunking and pacing of audio.
            send_audio_format: LITE: send the ``start`` frame announcing the
                audio format (PCM16, 24 kHz, mono) first on the socket, once
                it is ready, and again on each reconnected socket, as HeyGen's
                own starter agent does. Off by default: the format is fixed.
                Same as ``PumpConfig(send_audio_format=True)``; either turns it on.
            ready_timeout: Seconds to wait for the service to report ready
                (FULL: for the avatar and the service's agent to join the room).
            ready_fallback: When it does not: ``"open"`` sends anyway (and
                emits `ReadyTimeout`, naming who was missing in FULL),
                ``"raise"`` fails the session with `SessionError`.
            keep_alive_interval: Seconds between keep-alives (None: off).
            reconnect: Reconnect policy for the control socket.
            timeout: Seconds for each REST call. The request that creates
                the session is waited for this long, but goes on for up to
                10 s after (it may have created a session): closing waits
                for its answer and stops the session it names.
            ping_interval: Seconds between WebSocket pings on the control
                socket; None (the default) sends none, as HeyGen's own starter
                does: the service stalls pongs, and a missed pong closes the
                socket with 1011 (then it is reconnected). The keep-alive and
                the service's own events carry liveness instead.
            session_record: Where the open session is recorded until its stop
                is confirmed (`OpenSessionRecord`); ``"default"``: the default
                state directory; None: not recorded. A record that cannot be
                written is logged at WARNING and never breaks the session.

        Raises:
            SessionError: ``sandbox=True`` with an avatar other than `SANDBOX_AVATAR_ID`.
        """
        if media_role not in ("agent", "client"):
            raise ValueError(f"media_role must be 'agent' or 'client', got {media_role!r}")
        avatar = SANDBOX_AVATAR_ID if avatar_id is None else avatar_id
        # A user who asks for nothing gets the free sandbox; choosing an
        # avatar of your own is the deliberate choice of a billed session.
        is_sandbox = avatar == SANDBOX_AVATAR_ID if sandbox is None else sandbox
        request: la.LiteSessionTokenRequest | la.FullSessionTokenRequest
        if token_request is not None:
            request = token_request
        elif mode == "FULL":
            request = la.FullSessionTokenRequest(
                mode="FULL", avatar_id=avatar, is_sandbox=is_sandbox
            )
        else:
            request = la.LiteSessionTokenRequest(
                mode="LITE", avatar_id=avatar, is_sandbox=is_sandbox
            )
        if request.is_sandbox and request.avatar_id != SANDBOX_AVATAR_ID:
            # The service refuses it (docs/protocol.md §1); say so before anything is sent.
            raise SessionError(
                f"a sandbox session needs the sandbox avatar {SANDBOX_AVATAR_ID}, not "
                f"{request.avatar_id!r}: leave avatar_id out for the free sandbox, or pass "
                "sandbox=False for a billed session with your own avatar"
            )
        client = LiveAvatarClient(api_key, base_url=base_url, session=http, timeout=timeout)
        full = request.mode == "FULL"

        async def setup(session: AvatarSession) -> _Endpoints:
            token = await session._create_session(
                client,
                "create_session_token",
                lambda allowance: client.create_session_token(request, timeout=allowance),
                lambda answer: (answer.data.session_id, answer.data.session_token),
            )
            started = await client.start_session(token.data.session_token)
            data = session.start_data = started.data
            session._mark_started(data.max_session_duration)
            # No ws_url in a LITE session: an agent connector (ElevenLabs),
            # which runs on FULL events in the room (see `open`).
            ws_url = data.ws_url if isinstance(data.ws_url, str) else None
            agent = data.livekit_agent_token if isinstance(data.livekit_agent_token, str) else None
            # A bot feeding the avatar joins as the agent; FULL and connector
            # commands are sent as the client, as the official SDK does.
            as_client = full or ws_url is None or media_role == "client" or agent is None
            room_token = data.livekit_client_token if as_client else agent
            return _Endpoints(ws_url, "lite", data.livekit_url, room_token)

        async def stop(session: AvatarSession) -> object:
            if session.session_token is not None:
                return await client.stop_session(session_token=session.session_token)
            return None

        return cls(
            setup=setup,
            stop=stop,
            clients=(client,),
            pump_config=(
                replace(pump or PumpConfig(), send_audio_format=True) if send_audio_format else pump
            ),
            ready_timeout=ready_timeout,
            ready_fallback=ready_fallback,
            keep_alive_interval=keep_alive_interval,
            rest_keep_alive=None,  # LITE keeps alive on the socket itself
            reconnect=reconnect,
            mode="FULL" if full else "LITE",
            join_room=media,
            ping_interval=ping_interval,
            api="liveavatar",
            base_url=_public_url(client.base_url),
            session_record=_record(session_record),
        )

    @classmethod
    def interactive_avatar(
        cls,
        *,
        avatar_id: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        new_session: st.NewSessionRequest | None = None,
        dialect: Dialect = "realtime-alpha",
        media: bool = False,
        http: aiohttp.ClientSession | None = None,
        pump: PumpConfig | None = None,
        ready_timeout: float = 10.0,
        ready_fallback: Literal["open", "raise"] = "open",
        keep_alive_interval: float | None = 60.0,
        reconnect: RetryPolicy | None = None,
        timeout: float = 30.0,
        ping_interval: float | None = None,
        session_record: OpenSessionRecord | Literal["default"] | None = "default",
    ) -> AvatarSession:
        """A legacy Streaming API session driven over the Realtime (alpha) socket.

        Args:
            avatar_id: The avatar (or give a whole `new_session` request).
            api_key: HeyGen key; default ``HEYGEN_API_KEY``.
            base_url: The API's base URL (the simulator's, in tests).
            new_session: The ``streaming.new`` request; default: ``version
                v2`` with `avatar_id`.
            dialect: What to speak on the socket: ``realtime-alpha`` (audio
                buffer events) or ``lite`` (as today's Pipecat does).
            media: Also join the session's room (as the agent), for `media`.
            http: An aiohttp session to share (not closed by the session).
            pump: Chunking and pacing of audio.
            ready_timeout: Seconds to wait for the service to report ready.
            ready_fallback: When it does not: ``"open"`` sends anyway (and
                emits `ReadyTimeout`), ``"raise"`` fails the session.
            keep_alive_interval: Seconds between REST keep-alives (None: off).
            reconnect: Reconnect policy for the control socket.
            timeout: Seconds for each REST call (``streaming.new`` goes on
                for up to 10 s after, as in `live_avatar`).
            ping_interval: Seconds between WebSocket pings on the control
                socket; None (the default) sends none (see `live_avatar`).
            session_record: Where the open session is recorded until its stop
                is confirmed (see `live_avatar`); None: not recorded.
        """
        client = StreamingClient(api_key, base_url=base_url, session=http, timeout=timeout)
        request = new_session or st.NewSessionRequest(version="v2", avatar_id=avatar_id)

        async def setup(session: AvatarSession) -> _Endpoints:
            new = await session._create_session(
                client,
                "new_session",
                lambda allowance: client.new_session(request, timeout=allowance),
                lambda answer: (answer.data.session_id, None),
            )
            data = new.data
            session.start_data = data
            await client.start_session(st.SessionIdRequest(session_id=data.session_id))
            session._mark_started(data.session_duration_limit)
            endpoint = data.realtime_endpoint
            if not isinstance(endpoint, str):
                raise SessionError("the service returned no realtime_endpoint for this session")
            agent = data.livekit_agent_token if isinstance(data.livekit_agent_token, str) else None
            return _Endpoints(endpoint, dialect, data.url, agent or data.access_token)

        async def stop(session: AvatarSession) -> object:
            assert session.session_id is not None
            return await client.stop_session(st.SessionIdRequest(session_id=session.session_id))

        async def keep_alive() -> object:
            # `session` is bound below, before any keep-alive can run.
            assert session.session_id is not None
            return await client.keep_alive(st.SessionIdRequest(session_id=session.session_id))

        session = cls(
            setup=setup,
            stop=stop,
            clients=(client,),
            pump_config=pump,
            ready_timeout=ready_timeout,
            ready_fallback=ready_fallback,
            keep_alive_interval=keep_alive_interval,
            rest_keep_alive=keep_alive,
            reconnect=reconnect,
            join_room=media,
            ping_interval=ping_interval,
            api="streaming",
            base_url=_public_url(client.base_url),
            session_record=_record(session_record),
        )
        return session

    # -- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> AvatarSession:
        try:
            await self.open()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Create and start the session, connect its socket (and room), wait until ready.

        Prefer ``async with``; after `open()` you must call `aclose()`.
        """
        endpoints = await self._setup(self)
        self.connector = self.mode == "LITE" and endpoints.ws_url is None
        if self._join_room or self.connector:
            if not endpoints.room_url or not endpoints.room_token:
                raise SessionError("the service returned no LiveKit URL or token for this session")
            room = self._room = open_room(endpoints.room_url)
            await room.connect(endpoints.room_url, endpoints.room_token)
            if self.mode == "FULL" or self.connector:
                full = self._full = FullDriver(
                    room, self._events.emit, self._events.finish, self.session_id
                )
                full.start()
                await self._wait_full_ready(full)
        if endpoints.ws_url is None:
            return
        logger.info("session %s started; connecting %s socket", self.session_id, endpoints.dialect)
        # Set before connecting, so a failed connect is still closed by `aclose`.
        self._lite = LiteDriver(
            endpoints.ws_url, endpoints.dialect, self._socket_settings, self._events.emit
        )
        await self._lite.open()

    async def _wait_full_ready(self, full: FullDriver) -> None:
        """The FULL ready gate, with the same timeout and fallback as a socket's."""
        settings = self._socket_settings
        missing = await full.wait_ready(settings.ready_timeout)
        if not missing:
            return
        names = " and ".join(repr(identity) for identity in missing)
        if settings.ready_fallback == "raise":
            raise SessionError(
                f"{names} did not join the session's room within {settings.ready_timeout:g} s: "
                "the session is not ready (ready_fallback='open' sends commands anyway)"
            )
        logger.warning(
            "%s did not join the room within %.1f s; sending anyway", names, settings.ready_timeout
        )
        await self._events.emit(ReadyTimeout(settings.ready_timeout, missing))

    async def aclose(self) -> None:
        """Close the socket and stop the session through REST, exactly once.

        Safe to call many times and from a cancelled task: the close runs in
        a task of its own, which a cancellation of the caller does not stop
        (it is bounded: up to 10 s for the stop, and 10 s more when the
        request that creates the session is still unanswered); then the
        caller's cancellation is re-raised. A second cancellation stops only
        the caller's wait. The close itself, even when cancelled (as
        ``asyncio.run`` does to every task after a second Ctrl-C), goes on
        stopping the session within its bound; if the stop does not
        succeed, session ``<id>`` is logged at ERROR as not stopped.
        """
        task = self._closing
        if task is None:
            task = self._closing = asyncio.create_task(
                self._close_once(), name="heygen-session-close"
            )
        try:
            # `wait` raises only when this caller is cancelled, never with the close's outcome.
            await asyncio.wait({task})
        except asyncio.CancelledError:
            # Keep stopping the billable session; then let cancellation go on.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait({task})
            raise
        if not task.cancelled() and (error := task.exception()) is not None:
            raise error

    async def _close_once(self) -> None:
        self._stopped = True
        await self._leave()
        try:
            await self._settle_creation()
            await self._stop_service()
        except Exception:
            await self._close_clients()
            raise
        # Not after KeyboardInterrupt, SystemExit or GeneratorExit (the loop
        # is going away; an await would not run): the stop's outcome is logged.
        await self._close_clients()

    async def _leave(self) -> None:
        """Close the socket and the room; each step goes on past a cancellation or a failure."""
        steps: list[Callable[[], Awaitable[None]]] = []
        if self._lite is not None:
            steps.append(self._lite.close)
        if self._full is not None:
            steps.append(self._full.close)
        if self._room is not None:
            # Leave the room on every exit path, before the session ends.
            steps.append(self._room.disconnect)
        for step in steps:
            try:
                await step()
            except asyncio.CancelledError:
                # Cancelled while leaving (asyncio.run's teardown cancels every
                # task): stopping the session matters more, and ends these too.
                _absorb_cancellation()
            except Exception as exc:
                logger.warning("session %s: leaving failed (%s)", self.session_id, exc)
        self._events.finish()

    async def _close_clients(self) -> None:
        for client in self._clients:
            with contextlib.suppress(Exception):
                await client.close()

    # -- creating and stopping at the service -------------------------------------------

    @property
    def may_have_created(self) -> bool:
        """Whether a session may exist at the service that this one has not seen stopped.

        True once the request that creates a session was sent, until its stop
        is confirmed; False when the service refused the request, or it never
        reached the service. After a cancellation or a timeout during that
        request, a session may exist that `session_id` does not name yet:
        closing waits for the answer and stops it, or logs at ERROR.
        """
        return self._create_sent and not self._nothing_created and not self._stop_confirmed

    async def _create_session(
        self,
        client: LiveAvatarClient | StreamingClient,
        operation_id: str,
        send: Callable[[float], Awaitable[R]],
        identify: Callable[[R], tuple[str, str | None]],
    ) -> R:
        """Send the request that creates the session, as a task of its own.

        Once sent, it may have created a session that only its answer names,
        so a caller that stops waiting (cancelled, or `client.timeout` ran
        out) does not cut it short: it goes on for up to `_CREATE_GRACE`
        seconds more, and `aclose` waits (as long, at most) for its answer
        and stops that session.

        Args:
            client: The REST client (for its timeout and the operation's path).
            operation_id: The operation sent (for the error message).
            send: Sends it, given the seconds the request itself may take.
            identify: The session id and token (if any) in its answer.
        """
        wait = client.timeout
        allowance = wait + _CREATE_GRACE

        async def request() -> R:
            answer = await send(allowance)
            self._adopt(*identify(answer))
            return answer

        self._create_sent = True
        _unresolved[self._exit_key] = (
            "a session may have been created by this process and left running; " + self._find_hint()
        )
        task = asyncio.create_task(request(), name="heygen-create-session")
        self._create_task = task
        try:
            await asyncio.wait({task}, timeout=wait)
        except asyncio.CancelledError:
            if not task.done():
                logger.warning(
                    "cancelled while the service was creating the session: a session may "
                    "have been created; closing waits up to %g s for its answer and stops it",
                    _CREATE_GRACE,
                )
            raise
        if not task.done():
            op = client.spec.operation(operation_id)
            logger.warning(
                "no answer within %g s to %s %s: a session may have been created; "
                "closing waits up to %g s more for its answer and stops it",
                wait,
                op.method,
                op.path,
                _CREATE_GRACE,
            )
            raise TransportError(
                f"{op.method} {op.path}: no answer within {wait:g} s (raise timeout= if the "
                "service is slow); a session may have been created: closing the session "
                "waits for the answer and stops it",
                method=op.method,
                path=op.path,
                timed_out=True,
            )
        return task.result()

    def _adopt(self, session_id: str, session_token: str | None) -> None:
        """The service named the session: remember it, record it, and stop it when closing."""
        self.session_id = session_id
        self.session_token = session_token
        self._created = True
        _unresolved[self._exit_key] = (
            f"session {session_id} was not stopped before the process exited; it ends at "
            f"its idle timeout: {self._stop_hint()}"
        )
        if self._record is None:
            return
        entry = OpenSessionEntry(
            api=self._api,
            session_id=session_id,
            base_url=self._base_url,
            pid=os.getpid(),
            created_at=time.time(),
        )
        try:
            self._record.add(entry)
            self._recorded = True
        except Exception as exc:
            logger.warning(
                "could not record open session %s in %s (%s); the session goes on",
                session_id,
                self._record.directory,
                exc,
            )

    def _mark_started(self, max_duration: object) -> None:
        """The session started: its clock runs from now, for `max_duration` seconds if known."""
        self._started_at = time.monotonic()
        self._max_duration = (
            max_duration
            if isinstance(max_duration, int)
            and not isinstance(max_duration, bool)
            and max_duration > 0
            else None
        )

    async def _settle_creation(self) -> None:
        """Wait (bounded) for an unanswered create request; log what may be left behind."""
        task = self._create_task
        if task is None:
            return
        if not task.done():
            await _wait_absorbing(task, _CREATE_GRACE)
            if not task.done():
                task.cancel()
                self._report_unnamed(f"no answer within {_CREATE_GRACE:g} s")
                return
            if self._created:
                logger.info(
                    "the service created session %s after its caller stopped waiting; stopping it",
                    self.session_id,
                )
        if self._created:
            return
        if task.cancelled():
            self._report_unnamed("the request was cancelled before its answer")
            return
        error = task.exception()
        if error is None:
            return
        if _never_created(error):
            self._nothing_created = True
            _unresolved.pop(self._exit_key, None)
        elif isinstance(error, ServerError):
            # It answered, with an error: most likely nothing was created.
            logger.warning(
                "the service failed while creating the session (%s); if it created one anyway, %s",
                error,
                self._find_hint(),
            )
            _unresolved.pop(self._exit_key, None)
        else:
            self._report_unnamed(str(error))

    def _report_unnamed(self, reason: str) -> None:
        logger.error(
            "a session may have been created and not stopped (%s): %s", reason, self._find_hint()
        )
        _unresolved.pop(self._exit_key, None)

    async def _stop_service(self) -> None:
        """Stop the session through REST, bounded; on every other outcome, log it at ERROR."""
        if not self._created:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _STOP_TIMEOUT
        reason = f"no answer within {_STOP_TIMEOUT:g} s"
        absorbed = 0
        while (remaining := deadline - loop.time()) > 0:
            try:
                async with asyncio.timeout(remaining):
                    await self._stop(self)
            except asyncio.CancelledError:
                # Cancelled from outside: asyncio.run's teardown after a second
                # Ctrl-C cancels every task. Stopping is what ends the billing,
                # so start it again within the same bound (a few times at most).
                absorbed += 1
                if absorbed > _MAX_ABSORBED_CANCELS:
                    self._report_not_stopped("the stop was cancelled")
                    raise
                _absorb_cancellation()
                reason = "the stop was cancelled"
                continue
            except SessionStateError:
                # The service says the session is already over: nothing to stop.
                logger.info("session %s had already ended", self.session_id)
                self._confirm_stopped()
                return
            except TimeoutError:
                break
            except HeyGenError as exc:
                reason = str(exc)
                break
            except BaseException as exc:
                self._report_not_stopped(type(exc).__name__)
                raise
            self.stopped_cleanly = True
            self._confirm_stopped()
            return
        self._report_not_stopped(reason)

    def _confirm_stopped(self) -> None:
        self._stop_confirmed = True
        _unresolved.pop(self._exit_key, None)
        if self._record is None or not self._recorded or self.session_id is None:
            return
        try:
            self._record.remove(self._api, self.session_id)
        except Exception as exc:
            logger.warning(
                "could not remove stopped session %s from %s (%s)",
                self.session_id,
                self._record.directory,
                exc,
            )

    def _report_not_stopped(self, reason: str) -> None:
        logger.error(
            "session %s was not stopped (%s); it ends at its idle timeout: %s",
            self.session_id,
            reason,
            self._stop_hint(),
        )
        _unresolved.pop(self._exit_key, None)

    def _stop_hint(self) -> str:
        if self._api == "liveavatar":
            return f"stop it with `heygen-avatar sessions stop {self.session_id}`"
        return "stop it with StreamingClient.stop_session (its session_id)"

    def _find_hint(self) -> str:
        if self._api == "liveavatar":
            return (
                "list the open sessions with `heygen-avatar sessions list` and stop it with "
                "`heygen-avatar sessions stop ID`"
            )
        return "list the open sessions with StreamingClient.list_sessions and stop it"

    # -- using it -------------------------------------------------------------------------

    def _lite_driver(self, what: str) -> LiteDriver:
        if self._lite is None or self._stopped:
            raise SessionError(
                f"no {what}: the session is not open (use `async with`), "
                "or it is a FULL session (use speak_text / speak_response)"
            )
        return self._lite

    @property
    def connection(self) -> RealtimeConnection:
        """The control socket (LITE and Streaming sessions; raises if not open)."""
        return self._lite_driver("control socket").connection

    @property
    def pump(self) -> AudioPump:
        """The audio pump (LITE and Streaming sessions; raises if not open)."""
        return self._lite_driver("audio pump").pump

    @property
    def avatar_state(self) -> str | None:
        """The avatar's last reported state: ``idle``, ``listening`` or ``talking``.

        Read from the control socket (LITE ``agent.state_updated``, alpha
        ``agent.status``), whose events also reach `events()`; None before
        the first report, and in sessions without a control socket.
        """
        return self._lite.pump.avatar_state if self._lite is not None else None

    @property
    def media(self) -> MediaRoom:
        """The session's room: the avatar's audio and video, users, publishing.

        Joined for FULL sessions, and for others created with ``media=True``.
        """
        if self._room is None or self._stopped:
            raise SessionError(
                "the session has not joined its room: create it with media=True "
                "(FULL sessions always do) and use it inside `async with`"
            )
        return self._room

    @property
    def viewer_url(self) -> str | None:
        """A link to watch the session in a browser (LiveKit's meet app).

        It carries the session's client token: share it like a password.
        None before the session started, and for rooms a browser cannot
        join: the embedded simulator's local rooms (``heygen-sim://``).
        """
        data = self.start_data
        if isinstance(data, la.StartSessionData):
            url, token = data.livekit_url, data.livekit_client_token
        elif isinstance(data, st.NewSessionData):
            url, token = data.url, data.access_token
        else:
            return None
        if urlsplit(url).scheme.lower() not in _VIEWABLE_SCHEMES:
            return None
        query = urlencode({"liveKitUrl": url, "token": token})
        return f"https://meet.livekit.io/custom?{query}"

    def _commands(self, command: str) -> FullDriver:
        """The FULL driver, for `command`; raises in a LITE session or outside `async with`."""
        if self.mode != "FULL" and not self.connector:
            raise SessionError(f"{command} is a FULL-mode command; this is a LITE session")
        if self._full is None or self._stopped:
            raise SessionError(
                "the session has not joined its room: use FULL commands inside `async with`"
            )
        return self._full

    def _connector(self, command: str) -> FullDriver:
        """The FULL driver of a connector session, for `command`."""
        if not self.connector:
            raise SessionError(
                f"{command} is an agent-connector command: start a LITE session with an "
                "agent config (elevenlabs_agent_config), inside `async with`"
            )
        return self._commands(command)

    def _not_connector(self, command: str) -> FullDriver:
        if self.connector:
            raise SessionError(
                f"{command} is not available in an agent-connector session: its agent owns "
                "what the avatar says (use send_user_message)"
            )
        return self._commands(command)

    @property
    def stop_reason(self) -> str | None:
        """FULL and connector sessions: why the service ended the session, once it has.

        Read from its ``session.stopped``, whichever name the field has there
        (``end_reason`` or ``stop_reason``); None until then.
        """
        return self._full.stop_reason if self._full is not None else None

    async def speak_text(self, text: str) -> str:
        """FULL: make the avatar say `text`; returns the command's event id."""
        return await self._not_connector("speak_text").speak_text(text)

    async def speak_response(self, text: str) -> str:
        """FULL: let the avatar's LLM answer `text` and speak the answer; returns the event id."""
        return await self._not_connector("speak_response").speak_response(text)

    async def send_user_message(self, text: str) -> str:
        """Connector: send the agent a user message (as if typed); returns the event id.

        The agent answers with ``elevenlabs_agent_event`` events and the
        avatar speaks its answer (``avatar.speak_started`` / ``_ended``).
        """
        return await self._connector("send_user_message").send_user_message(text)

    async def send_contextual_update(self, text: str) -> str:
        """Connector: give the agent context it uses without answering; returns the event id."""
        return await self._connector("send_contextual_update").send_contextual_update(text)

    async def send_user_activity(self) -> str:
        """Connector: tell the agent the user is active (keeps it from taking over)."""
        return await self._connector("send_user_activity").send_user_activity()

    async def send_tool_result(
        self,
        tool_call_id: str,
        result: str,
        *,
        is_error: bool = False,
        source_event_id: str | None = None,
    ) -> str:
        """Connector: answer the agent's ``client_tool_call``; returns the event id.

        Args:
            tool_call_id: The ``tool_call_id`` of the call (in its event's ``data``).
            result: The tool's result, as text.
            is_error: Whether the tool failed (`result` then says how).
            source_event_id: The ``event_id`` of the call's event, if wanted.
        """
        return await self._connector("send_tool_result").send_tool_result(
            tool_call_id, result, is_error=is_error, source_event_id=source_event_id
        )

    async def start_push_to_talk(self) -> None:
        """FULL, push-to-talk sessions: the user starts talking."""
        await self._commands("start_push_to_talk").start_push_to_talk()

    async def stop_push_to_talk(self) -> None:
        """FULL, push-to-talk sessions: the user stops talking."""
        await self._commands("stop_push_to_talk").stop_push_to_talk()

    async def speak(
        self,
        audio: AudioInput | AsyncIterable[AudioInput],
        *,
        sample_rate: int | None = None,
        channels: int | None = None,
        wait: bool = True,
    ) -> SpeakResult:
        """Make the avatar say `audio`.

        Args:
            audio: PCM16 bytes, an int16/float32 numpy array, a WAV file path,
                or an async iterator of such chunks (streaming TTS).
            sample_rate: Rate of bytes or arrays (WAV files carry their own).
            channels: Channels of bytes or arrays (interleaved / columns).
            wait: Return once the avatar has finished: the service reported
                it (speak ended, the avatar left ``talking``, an interrupt was
                acknowledged) or, failing a report, its audio had time to play
                plus `PumpConfig.completion_margin_seconds`
                (`SpeakResult.ended_by` says which), so it never waits
                forever, whatever the service reports. With False,
                return at once (a whole buffer or file
                is converted first, so bad audio still raises here) while the
                audio is sent in the background: `SpeakResult.sent` says when
                it is all on the wire, and `SpeakResult.finished()` waits for
                the avatar.
        """
        driver = self._lite_driver("audio pump")
        if not isinstance(audio, AsyncIterable):
            self._warn_if_too_long(audio, sample_rate, channels)
        return await driver.speak(audio, sample_rate=sample_rate, channels=channels, wait=wait)

    def _seconds_left(self) -> float | None:
        """Seconds the session may still last (its maximum duration, from start), if known."""
        if self._started_at is None or self._max_duration is None:
            return None
        return max(0.0, self._max_duration - (time.monotonic() - self._started_at))

    def _warn_if_too_long(
        self, audio: AudioInput, sample_rate: int | None, channels: int | None
    ) -> None:
        """Warn, before sending, about whole audio longer than the session can still last."""
        left = self._seconds_left()
        if left is None:
            return
        seconds = _audio_seconds(audio, sample_rate, channels)
        if seconds is None or seconds <= left:
            return
        if self._api == "liveavatar":
            how = (
                "for longer sessions use a non-sandbox session (your own avatar_id, "
                "sandbox=False) and set max_session_duration in its token request "
                "(token_request=)"
            )
        else:
            how = "the account's session_duration_limit caps it"
        logger.warning(
            "this audio lasts %.1f s but session %s can last only %.1f s more "
            "(max_session_duration %d s from its start): the service ends the session "
            "before the audio ends; %s",
            seconds,
            self.session_id,
            left,
            self._max_duration,
            how,
        )

    async def interrupt(self) -> None:
        """Stop the avatar now; nothing queued for the current utterance is sent after."""
        if self.mode == "FULL":
            await self._commands("interrupt").interrupt()
        else:
            await self._lite_driver("audio pump").interrupt()

    async def start_listening(self) -> None:
        """Put the avatar in its listening pose."""
        if self.mode == "FULL":
            await self._commands("start listening").start_listening()
        else:
            await self._lite_driver("audio pump").start_listening()

    async def stop_listening(self) -> None:
        """Take the avatar out of its listening pose."""
        if self.mode == "FULL":
            await self._commands("stop listening").stop_listening()
        else:
            await self._lite_driver("audio pump").stop_listening()

    def events(self) -> AsyncIterator[SessionEvent]:
        """Every event from now on: the service's (typed or `UnknownEvent`) and the library's.

        Narrow with ``isinstance`` or ``match`` on the generated models (for
        example ``heygen_models.lite.AgentSpeakEnded``); no cast is needed.
        """
        return self._events.subscribe()

    def on_event(self, callback: EventCallback) -> None:
        """Call `callback` for every event; register before entering to see the first ones."""
        self._events.on(callback)


def _record(choice: OpenSessionRecord | Literal["default"] | None) -> OpenSessionRecord | None:
    return OpenSessionRecord() if choice == "default" else choice


def _public_url(url: str) -> str:
    """`url` without user info, query or fragment: what may be written down."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else url


def _absorb_cancellation() -> None:
    """Undo one pending cancellation of the current task (it goes on past it)."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


async def _wait_absorbing(task: asyncio.Future[object], limit: float) -> None:
    """Wait up to `limit` seconds for `task`, past a few cancellations of the caller."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    absorbed = 0
    while not task.done() and (remaining := deadline - loop.time()) > 0:
        try:
            await asyncio.wait({task}, timeout=remaining)
        except asyncio.CancelledError:
            absorbed += 1
            if absorbed > _MAX_ABSORBED_CANCELS:
                raise
            _absorb_cancellation()


def _never_created(error: BaseException) -> bool:
    """Whether a failed create request certainly created nothing."""
    if isinstance(error, ApiError):
        # The service answered and refused (a 5xx may have done anything).
        return not isinstance(error, ServerError)
    if isinstance(error, TransportError):
        # No connection at all: the request never reached the service.
        return isinstance(error.__context__, aiohttp.ClientConnectorError)
    # Refused by the client itself, before anything was sent.
    return isinstance(error, CredentialsError | InvalidRequestError)


def _audio_seconds(
    audio: AudioInput, sample_rate: int | None, channels: int | None
) -> float | None:
    """How long whole audio lasts, read from its size and header; None when it cannot be told.

    Never raises: audio it cannot measure is left for the pump to convert,
    or to refuse with its own error.
    """
    try:
        if isinstance(audio, bytes | bytearray | memoryview | np.ndarray):
            shape = AudioConverter.for_input(audio, sample_rate, channels)
            if isinstance(audio, np.ndarray):
                return len(audio) / shape.sample_rate
            return memoryview(audio).nbytes / (2 * shape.channels * shape.sample_rate)
        if isinstance(audio, str | os.PathLike):
            wav = read_wav(audio)
        elif audio.seekable():
            start = audio.tell()
            try:
                wav = read_wav(audio)
            finally:
                audio.seek(start)
        else:
            return None  # read once, by the pump
        frame_bytes = wav.bits // 8 * wav.channels
        return len(wav.data) // frame_bytes / wav.sample_rate
    except Exception:
        return None
