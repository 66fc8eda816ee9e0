"""`AvatarSession`: the REST lifecycle of a session, its events, and closing exactly once.

What a session does in its mode is delegated: to a `LiteDriver` (control
socket and audio pump) and, in FULL mode, to a `FullDriver` (commands and
events over the room's data channel). The session owns what both share: the
REST calls that create, start and stop it, its room, and one event stream.

Its parts, each in a module of its own: `ServiceLifecycle` (the create
request, the open-session record and the stop, reported on every path),
`_api_calls` (how each API sets a session up and stops it), `FullCommands`
(the FULL and agent-connector commands) and `LongAudioWarning` (audio
longer than the session can last).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from heygen_core.errors import SessionError
from heygen_core.realtime.hub import EventHub
from heygen_core.session._cancellation import absorb_cancellation, wait_close
from heygen_core.session._full_commands import FullCommands
from heygen_core.session._long_audio import LongAudioWarning
from heygen_core.session._service_lifecycle import ServiceLifecycle
from heygen_core.session._socket_settings import SocketSettings
from heygen_core.session.open_record import ApiName, OpenSessionRecord

# Start-up cost: importing this module loads only the plain-Python parts above.
# The REST clients and the generated models (pydantic, aiohttp) are imported
# by the constructors that build them; the socket, audio and room stacks
# (websockets, numpy, soxr, livekit) by `open`, the first thing that needs them.
if TYPE_CHECKING:
    import aiohttp
    from heygen_models import liveavatar as la
    from heygen_models import streaming as st

    from heygen_core.audio.format import AudioInput
    from heygen_core.audio.pump import AudioPump, PumpConfig
    from heygen_core.media.room import MediaRoom
    from heygen_core.realtime.connection import Dialect, EventCallback, RealtimeConnection
    from heygen_core.realtime.events import SessionEvent
    from heygen_core.rest.liveavatar_client import LiveAvatarClient
    from heygen_core.rest.retry import RetryPolicy
    from heygen_core.rest.streaming_client import StreamingClient
    from heygen_core.session._api_calls import Endpoints
    from heygen_core.session._full_driver import FullDriver
    from heygen_core.session._lite_driver import LiteDriver
    from heygen_core.session.speak_result import SpeakResult
    from heygen_core.session.startup import SetupSlot

logger = logging.getLogger("heygen_core.session")

SANDBOX_AVATAR_ID = "dd73ea75-1218-4ef3-92ce-606d5f7fbc0a"
"""The public avatar that LiveAvatar sandbox sessions (free, about a minute) must use."""


class AvatarSession(FullCommands):
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
        setup: Callable[[AvatarSession], Awaitable[Endpoints]],
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
        self._service = ServiceLifecycle(
            stop=lambda: stop(self), api=api, base_url=base_url, record=session_record
        )
        self._long_audio = LongAudioWarning(api)
        self.mode: Literal["LITE", "FULL"] = mode
        """``LITE`` (your audio over the control socket) or ``FULL`` (text commands in the room)."""
        self._join_room = join_room or mode == "FULL"
        self._room: MediaRoom | None = None
        self._events: EventHub[SessionEvent] = EventHub()
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
        self.start_data: la.StartSessionData | st.NewSessionData | None = None
        """What the service returned when the session started (LiveKit URL, tokens...)."""
        self._stopped = False
        self._closing: asyncio.Task[None] | None = None

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
            reconnect: How the control socket reconnects and when it gives up
                (a `ReconnectPolicy`; default: five opens per outage, five
                reconnects a minute, 30 s per outage).
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
        # Imported on first use (see the module's imports): the models, the client.
        from heygen_models import liveavatar as la

        from heygen_core.rest.liveavatar_client import LiveAvatarClient
        from heygen_core.session._api_calls import liveavatar_calls, public_url

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
        setup, stop = liveavatar_calls(client, request, media_role)
        if send_audio_format:
            # The audio stack is loaded here only when the caller configures it.
            from heygen_core.audio.pump import PumpConfig

            pump = replace(pump or PumpConfig(), send_audio_format=True)
        return cls(
            setup=setup,
            stop=stop,
            clients=(client,),
            pump_config=pump,
            ready_timeout=ready_timeout,
            ready_fallback=ready_fallback,
            keep_alive_interval=keep_alive_interval,
            rest_keep_alive=None,  # LITE keeps alive on the socket itself
            reconnect=reconnect,
            mode="FULL" if request.mode == "FULL" else "LITE",
            join_room=media,
            ping_interval=ping_interval,
            api="liveavatar",
            base_url=public_url(client.base_url),
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
            reconnect: How the control socket reconnects and when it gives up
                (a `ReconnectPolicy`; default: five opens per outage, five
                reconnects a minute, 30 s per outage).
            timeout: Seconds for each REST call (``streaming.new`` goes on
                for up to 10 s after, as in `live_avatar`).
            ping_interval: Seconds between WebSocket pings on the control
                socket; None (the default) sends none (see `live_avatar`).
            session_record: Where the open session is recorded until its stop
                is confirmed (see `live_avatar`); None: not recorded.
        """
        # Imported on first use (see the module's imports): the models, the client.
        from heygen_models import streaming as st

        from heygen_core.rest.streaming_client import StreamingClient
        from heygen_core.session._api_calls import public_url, streaming_calls

        client = StreamingClient(api_key, base_url=base_url, session=http, timeout=timeout)
        request = new_session or st.NewSessionRequest(version="v2", avatar_id=avatar_id)

        setup, stop = streaming_calls(client, request, dialect)

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
            base_url=public_url(client.base_url),
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

        Prefer ``async with``; after `open()` you must call `aclose()`. The
        set-up (create, start, connect) waits for a slot of this event loop's
        `StartupLimits.max_concurrent_setups`, within ``timeout=``.
        """
        from heygen_core.session._warm_up import LITE_STACK, ROOM_STACK, warm_up
        from heygen_core.session.startup import SetupSlot

        # Before a set-up slot is taken: the first open in a process imports
        # for a few hundred ms, off the loop (see _warm_up).
        await warm_up(LITE_STACK + ROOM_STACK if self._join_room else LITE_STACK)
        async with SetupSlot(min(client.timeout for client in self._clients)) as slot:
            await self._open(slot)

    async def _open(self, slot: SetupSlot) -> None:
        # The room and socket stacks are imported when a session opens, not with
        # this module (see its imports).
        from heygen_core.session._lite_driver import LiteDriver

        endpoints = await self._setup(self)
        self.connector = self.mode == "LITE" and endpoints.ws_url is None
        if self._join_room or self.connector:
            if not endpoints.room_url or not endpoints.room_token:
                raise SessionError("the service returned no LiveKit URL or token for this session")
            from heygen_core.media.registry import open_room
            from heygen_core.session._full_driver import FullDriver

            room = self._room = open_room(endpoints.room_url)
            await room.connect(endpoints.room_url, endpoints.room_token)
            if self.mode == "FULL" or self.connector:
                full = self._full = FullDriver(
                    room, self._events.emit, self._events.finish, self.session_id
                )
                full.start()
                slot.release()  # waiting for the avatar to join costs nothing
                await self._wait_full_ready(full)
        if endpoints.ws_url is None:
            return
        logger.info("session %s started; connecting %s socket", self.session_id, endpoints.dialect)
        # Set before connecting, so a failed connect is still closed by `aclose`.
        self._lite = LiteDriver(
            endpoints.ws_url, endpoints.dialect, self._socket_settings, self._events.emit
        )
        await self._lite.open(connected=slot.release)  # waiting for ready costs nothing

    async def _wait_full_ready(self, full: FullDriver) -> None:
        """The FULL ready gate, with the same timeout and fallback as a socket's."""
        settings = self._socket_settings
        missing = await full.wait_ready(settings.ready_timeout)
        if not missing:
            return
        from heygen_core.realtime.events import ReadyTimeout

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
        await wait_close(task)

    async def _close_once(self) -> None:
        self._stopped = True
        await self._leave()
        try:
            await self._service.settle_creation()
            await self._service.stop()
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
                absorb_cancellation()
            except Exception as exc:
                logger.warning("session %s: leaving failed (%s)", self.session_id, exc)
        self._events.finish()

    async def _close_clients(self) -> None:
        for client in self._clients:
            with contextlib.suppress(Exception):
                await client.close()

    # -- at the service ------------------------------------------------------------------

    @property
    def session_id(self) -> str | None:
        """The service's session id, once created."""
        return self._service.session_id

    @property
    def session_token(self) -> str | None:
        """The session's token (LiveAvatar sessions), once created; a secret."""
        return self._service.session_token

    @property
    def stopped_cleanly(self) -> bool:
        """Whether the REST stop call succeeded (set when the session closes)."""
        return self._service.stopped_cleanly

    @property
    def may_have_created(self) -> bool:
        """Whether a session may exist at the service that this one has not seen stopped.

        True once the request that creates a session was sent, until its stop
        is confirmed; False when the service refused the request, or it never
        reached the service. After a cancellation or a timeout during that
        request, a session may exist that `session_id` does not name yet:
        closing waits for the answer and stops it, or logs at ERROR.
        """
        return self._service.may_have_created

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
        from heygen_core.session._api_calls import viewer_link

        return viewer_link(self.start_data)

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
            self._long_audio.check(audio, sample_rate, channels, self.session_id)
        return await driver.speak(audio, sample_rate=sample_rate, channels=channels, wait=wait)

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
