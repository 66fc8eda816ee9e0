"""`AvatarSession`: the REST lifecycle of a session, its events, and closing exactly once.

What a session does in its mode is delegated: to a `LiteDriver` (control
socket and audio pump) and, in FULL mode, to a `FullDriver` (commands and
events over the room's data channel). The session owns what both share: the
REST calls that create, start and stop it, its room, and one event stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Literal
from urllib.parse import urlencode

import aiohttp
from heygen_models import liveavatar as la
from heygen_models import streaming as st

from heygen_core.audio.format import AudioInput
from heygen_core.audio.pump import AudioPump, PumpConfig
from heygen_core.errors import HeyGenError, SessionError
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
from heygen_core.session.speak_result import SpeakResult

logger = logging.getLogger("heygen_core.session")

SANDBOX_AVATAR_ID = "dd73ea75-1218-4ef3-92ce-606d5f7fbc0a"
"""The public avatar that LiveAvatar sandbox sessions (free, about a minute) must use."""

# Stopping must finish even while the caller is being cancelled; this bounds it.
_STOP_TIMEOUT = 10.0


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
    runner that likewise turns SIGINT into cancellation of the task.
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
    ) -> None:
        self._setup = setup
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
        self._stopped = False
        self.stopped_cleanly = False
        """Whether the REST stop call succeeded (set when the session closes)."""
        self._stop_lock = asyncio.Lock()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else ("open" if self._lite else "new")
        return f"AvatarSession(session_id={self.session_id!r}, {state})"

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def live_avatar(
        cls,
        *,
        avatar_id: str = SANDBOX_AVATAR_ID,
        sandbox: bool = False,
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
    ) -> AvatarSession:
        """A LiveAvatar session: LITE (your audio in) or FULL (text in, the service's own voice).

        LITE drives the avatar with audio over the control socket; FULL sends
        typed commands (`speak_text`, `speak_response`, ...) as data packets
        in the session's room and receives its events there.

        Args:
            avatar_id: The avatar; the sandbox needs `SANDBOX_AVATAR_ID`.
            sandbox: A free sandbox session (about a minute long).
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
            timeout: Seconds for each REST call.
            ping_interval: Seconds between WebSocket pings on the control
                socket; None (the default) sends none, as HeyGen's own starter
                does: the service stalls pongs, and a missed pong closes the
                socket with 1011 (then it is reconnected). The keep-alive and
                the service's own events carry liveness instead.
        """
        if media_role not in ("agent", "client"):
            raise ValueError(f"media_role must be 'agent' or 'client', got {media_role!r}")
        client = LiveAvatarClient(api_key, base_url=base_url, session=http, timeout=timeout)
        request: la.LiteSessionTokenRequest | la.FullSessionTokenRequest
        if token_request is not None:
            request = token_request
        elif mode == "FULL":
            request = la.FullSessionTokenRequest(
                mode="FULL", avatar_id=avatar_id, is_sandbox=sandbox
            )
        else:
            request = la.LiteSessionTokenRequest(
                mode="LITE", avatar_id=avatar_id, is_sandbox=sandbox
            )
        full = request.mode == "FULL"

        async def setup(session: AvatarSession) -> _Endpoints:
            token = await client.create_session_token(request)
            session.session_id = token.data.session_id
            session.session_token = token.data.session_token
            session._created = True
            started = await client.start_session(token.data.session_token)
            data = session.start_data = started.data
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
            timeout: Seconds for each REST call.
            ping_interval: Seconds between WebSocket pings on the control
                socket; None (the default) sends none (see `live_avatar`).
        """
        client = StreamingClient(api_key, base_url=base_url, session=http, timeout=timeout)
        request = new_session or st.NewSessionRequest(version="v2", avatar_id=avatar_id)

        async def setup(session: AvatarSession) -> _Endpoints:
            new = await client.new_session(request)
            data = new.data
            session.session_id = data.session_id
            session._created = True
            session.start_data = data
            await client.start_session(st.SessionIdRequest(session_id=data.session_id))
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

        Safe to call many times and from a cancelled task: the stop call is
        shielded from cancellation (bounded by a timeout), then any pending
        cancellation is re-raised.
        """
        task = asyncio.ensure_future(self._close_once())
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            # Keep stopping the billable session; then let cancellation go on.
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(task), _STOP_TIMEOUT)
            raise

    async def _close_once(self) -> None:
        async with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
            if self._lite is not None:
                await self._lite.close()
            if self._full is not None:
                await self._full.close()
            if self._room is not None:
                # Leave the room on every exit path, before the session ends.
                with contextlib.suppress(Exception):
                    await self._room.disconnect()
            self._events.finish()
            try:
                if self._created:
                    await asyncio.wait_for(self._stop(self), _STOP_TIMEOUT)
                    self.stopped_cleanly = True
            except (HeyGenError, TimeoutError) as exc:
                logger.error(
                    "could not stop session %s (%s); it ends at its idle timeout",
                    self.session_id,
                    exc,
                )
            finally:
                for client in self._clients:
                    await client.close()

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
        """
        data = self.start_data
        if isinstance(data, la.StartSessionData):
            url, token = data.livekit_url, data.livekit_client_token
        elif isinstance(data, st.NewSessionData):
            url, token = data.url, data.access_token
        else:
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
        return await self._lite_driver("audio pump").speak(
            audio, sample_rate=sample_rate, channels=channels, wait=wait
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
