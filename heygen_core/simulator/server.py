"""The simulator process: one aiohttp app serving both APIs on loopback.

`Simulator` runs on the caller's event loop (``async with Simulator() as
sim``); `SimulatorThread` runs one on its own loop in a daemon thread, for
synchronous tests and for code on another event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections import Counter
from types import TracebackType

from aiohttp import web

from heygen_core.rest.operations import ApiName, api_spec
from heygen_core.simulator.config import SimulatorConfig
from heygen_core.simulator.faults import Fault, FaultQueue
from heygen_core.simulator.limits import RateLimiter, Reaper
from heygen_core.simulator.realtime_ws import EventRecord, RealtimeHub
from heygen_core.simulator.rest.auth import Authenticator
from heygen_core.simulator.rest.endpoint import Call, Endpoint, Handler, add_routes
from heygen_core.simulator.rest.liveavatar_routes import LiveAvatarRoutes
from heygen_core.simulator.rest.replies import Dialect, LiveAvatarDialect, Reply, StreamingDialect
from heygen_core.simulator.rest.streaming_routes import StreamingRoutes
from heygen_core.simulator.rooms.hub import RoomHub
from heygen_core.simulator.runtime import Runtime
from heygen_core.simulator.state import SimulatorState

logger = logging.getLogger("heygen_core.simulator")

_APIS: tuple[ApiName, ...] = ("liveavatar", "streaming")
# In-flight answers (a delay fault) get this long to finish when stopping.
_SHUTDOWN_SECONDS = 0.5


def _not_implemented(dialect: Dialect, api: str, operation_id: str) -> Handler:
    # A schema that gains an operation must not stop the simulator from
    # starting for every test; the call itself says what is missing.
    def handler(call: Call) -> Reply:
        return dialect.error(501, f"the simulator does not implement {api} {operation_id} yet")

    return handler


def build_app(runtime: Runtime, realtime: RealtimeHub | None = None) -> web.Application:
    """Return the aiohttp app serving every operation of both APIs' schemas.

    With `realtime`, it also serves the realtime WebSockets (LITE and alpha).
    """
    state = runtime.state

    def liveavatar_bearer(token: str) -> tuple[str, str | None] | None:
        session = state.liveavatar_by_token(token)
        return (session.owner, session.id) if session else None

    def streaming_bearer(token: str) -> tuple[str, str | None] | None:
        owner = state.streaming_token_owner(token)
        return (owner, None) if owner else None

    liveavatar_dialect = LiveAvatarDialect(api_spec("liveavatar"))
    streaming_dialect = StreamingDialect()
    apis: list[tuple[ApiName, Dialect, dict[str, Handler], Authenticator, bool]] = [
        (
            "liveavatar",
            liveavatar_dialect,
            LiveAvatarRoutes(runtime, liveavatar_dialect).handlers(),
            Authenticator(api_spec("liveavatar"), runtime.config, liveavatar_bearer),
            False,
        ),
        (
            "streaming",
            streaming_dialect,
            StreamingRoutes(runtime, streaming_dialect).handlers(),
            Authenticator(api_spec("streaming"), runtime.config, streaming_bearer),
            # Real behaviour: a body-less POST is refused "Unsupported media type".
            True,
        ),
    ]
    endpoints = []
    for api, dialect, handlers, auth, require_json in apis:
        for op in api_spec(api).operations.values():
            handler = handlers.get(op.operation_id) or _not_implemented(
                dialect, api, op.operation_id
            )
            endpoints.append(
                Endpoint(
                    api, op, handler, runtime, dialect, auth, require_json_media_type=require_json
                )
            )
    app = web.Application()
    add_routes(app, endpoints)
    if realtime is not None:
        realtime.add_routes(app)
    runtime.rooms.add_routes(app)
    return app


class Simulator:
    """A local stand-in for the LiveAvatar and Streaming APIs, REST and realtime.

    Serves both REST APIs from one loopback port (their paths do not
    collide), enforcing their auth, validation, rate and concurrency limits,
    session state machines and timeouts, with faults on demand; and the
    realtime WebSockets their sessions hand out (LITE ``ws_url`` and alpha
    ``realtime_endpoint``), with real-time playback of the audio sent. Use
    it as an async context manager::

        async with Simulator(SimulatorConfig(api_key="test-key")) as sim:
            client = LiveAvatarClient(api_key="test-key", base_url=sim.liveavatar_url)

    Attributes:
        config: Its limits.
        state: Sessions, tokens and catalogue, for inspection in tests.
        requests_by_operation: Calls received per operationId (both APIs
            together: ``stop_session`` counts either API's).
        requests_by_api_operation: Calls per ``"api.operationId"``.
        events_by_type: Valid realtime client events received, per ``type``
            (all sessions; those dropped before ``connected`` included).
        server_events_by_type: Realtime events the simulator sent, per ``type``.
    """

    def __init__(
        self, config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        """Prepare a simulator (not yet listening).

        Args:
            config: Limits and switches; the real services' defaults if None.
            host: Interface to listen on (loopback by default).
            port: TCP port; 0 picks a free one (see `url` once started).

        """
        self.config = config or SimulatorConfig()
        self._host = host
        self._port = port
        self.state = SimulatorState(self.config)
        operations = [(api, op_id) for api in _APIS for op_id in api_spec(api).operations]
        self._rooms = RoomHub(self.config, self.state)
        self._runtime = Runtime(
            rooms=self._rooms,
            config=self.config,
            state=self.state,
            faults=FaultQueue(operations),
            limiter=RateLimiter(self.config.rate_limit_per_second, self.state.clock),
        )
        self.requests_by_operation = self._runtime.requests_by_operation
        self.requests_by_api_operation = self._runtime.requests_by_api_operation
        self._realtime = RealtimeHub(self.config, self.state, self._rooms)
        self.events_by_type = self._realtime.events_by_type
        self.server_events_by_type = self._realtime.server_events_by_type
        self._runner: web.AppRunner | None = None
        self._reaper = Reaper(self.state, self.config)
        self._reaper_task: asyncio.Task[None] | None = None
        self._bound_port: int | None = None

    def __repr__(self) -> str:
        where = self.url if self._bound_port is not None else "not started"
        return f"<Simulator {where} open_sessions={self.open_sessions()}>"

    @property
    def url(self) -> str:
        """Base URL of both APIs, ``http://127.0.0.1:PORT``.

        Raises:
            RuntimeError: Not started.

        """
        self.port  # noqa: B018 - raises when not started
        return f"http://{self._host_port()}"

    @property
    def liveavatar_url(self) -> str:
        """Base URL to give a LiveAvatar client (same as `url`)."""
        return self.url

    @property
    def streaming_url(self) -> str:
        """Base URL to give a Streaming client (same as `url`)."""
        return self.url

    @property
    def port(self) -> int:
        """The bound TCP port.

        Raises:
            RuntimeError: Not started.

        """
        if self._bound_port is None:
            raise RuntimeError("the simulator is not running: call start() (or use `async with`)")
        return self._bound_port

    def open_sessions(self) -> int:
        """Return how many sessions of both APIs are open (not stopped or closed)."""
        return self.state.open_sessions()

    # -- realtime sockets -----------------------------------------------------------------

    @property
    def dropped_before_ready(self) -> int:
        """Realtime commands silently dropped because they came before ``connected``."""
        return self._realtime.dropped_before_ready

    @property
    def chunks_after_interrupt(self) -> int:
        """Audio chunks of an interrupted utterance that arrived after the interrupt.

        The simulator drops them, as the service does; a correct client sends none.
        """
        return self._realtime.chunks_after_interrupt

    def open_websockets(self) -> int:
        """Return how many realtime sockets are open."""
        return self._realtime.open_websockets()

    def drop_websocket(self, session_id: str, code: int = 1011) -> bool:
        """Close a session's socket as a network drop would, leaving the session alive."""
        return self._realtime.drop_websocket(session_id, code)

    def received_audio(self, session_id: str) -> bytes:
        """Return the audio a session's sockets accepted (24 kHz mono PCM16, arrival order).

        Chunks later interrupted are included; chunks dropped (before
        ``connected``, or after an interrupt) are not.

        Raises:
            KeyError: No such session.

        """
        return self._realtime.received_audio(session_id)

    def write_wav(self, session_id: str, path: str | os.PathLike[str]) -> None:
        """Write `received_audio` to `path` as a WAV file (24 000 Hz, mono, 16-bit).

        Raises:
            KeyError: No such session.

        """
        self._realtime.write_wav(session_id, path)

    def client_events(self, session_id: str) -> list[EventRecord]:
        """Return a session's realtime client events, in arrival order.

        Each is ``(loop time, type, wire object without "audio")``; the time
        is the simulator loop's ``time()`` (``time.monotonic`` on the default
        loop, comparable with a test's loop in the same process). Events
        dropped before ``connected`` are included; compare their time with
        the ``connected`` entry of `server_events`.

        Raises:
            KeyError: No such session.

        """
        return self._realtime.client_events(session_id)

    def server_events(self, session_id: str) -> list[EventRecord]:
        """Return the realtime events sent on a session's sockets, as `client_events`.

        Raises:
            KeyError: No such session.

        """
        return self._realtime.server_events(session_id)

    # -- rooms ------------------------------------------------------------------------------

    @property
    def room_url(self) -> str:
        """The URL of this simulator's rooms (what its sessions give as ``livekit_url``).

        Use it with `room_token` for a ``livekit_config`` (your own room).
        """
        return self._runtime.room_url

    def room_token(self, room: str, identity: str) -> str:
        """Mint a token to join `room` as `identity` (as ``livekit-api`` does for LiveKit)."""
        return self._rooms.mint(room, identity)

    def session_room(self, session_id: str) -> str | None:
        """The room a session's avatar is in (None once the session ended)."""
        return self._rooms.session_room(session_id)

    def room_participants(self, session_or_room: str) -> list[str]:
        """Identities in a session's room (or a room by name): the avatar ``heygen`` first."""
        return self._rooms.participants(self.session_room(session_or_room) or session_or_room)

    def send_agent_event(self, session_id: str, payload: bytes) -> None:
        """Publish `payload` as the avatar on ``agent-response`` (e.g. an unknown or broken event).

        It lets tests feed the client what the real service might send; a
        session without a room ignores it.
        """
        self._rooms.send_agent_event(session_id, payload)

    @property
    def full_commands_by_type(self) -> Counter[str]:
        """FULL-mode commands received on ``agent-control``, per ``event_type``."""
        return self._rooms.full_commands_by_type

    @property
    def invalid_full_commands(self) -> int:
        """``agent-control`` packets that were not valid FULL commands (ignored)."""
        return self._rooms.invalid_full_commands

    def inject(self, operation_id: str, *faults: Fault) -> None:
        """Make the next calls of `operation_id` fail, one fault per call, in order.

        Each fault is an HTTP error status (``503``: answered with the API's
        error body; ``429`` also carries ``Retry-After``), ``"disconnect"``
        (the connection is closed without an answer), or ``("delay",
        seconds)`` (the call takes effect, and the answer comes late).
        `operation_id` is a schema operationId; ``stop_session``,
        ``start_session`` and ``list_sessions`` exist in both APIs and match
        either, unless qualified as ``"liveavatar.stop_session"`` /
        ``"streaming.stop_session"``. Safe to call from any thread.

        Raises:
            KeyError: Unknown operation.
            ValueError: Not a valid fault.

        """
        self._runtime.faults.inject(operation_id, *faults)

    def pending_faults(self, operation_id: str | None = None) -> int:
        """Return how many injected faults have not been consumed yet."""
        return self._runtime.faults.pending(operation_id)

    async def start(self) -> None:
        """Bind the port, start serving and start the reaper.

        Raises:
            RuntimeError: Already started.
            OSError: The port cannot be bound.

        """
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        runner = web.AppRunner(
            build_app(self._runtime, self._realtime),
            access_log=None,  # our own debug line per request carries no headers
            handle_signals=False,
            shutdown_timeout=_SHUTDOWN_SECONDS,
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._realtime.attach(asyncio.get_running_loop())
        self._rooms.attach(asyncio.get_running_loop())
        self._bound_port = int(runner.addresses[0][1])
        self._runtime.host_port = self._host_port()
        self._reaper_task = asyncio.create_task(self._reaper.run(), name="heygen-simulator-reaper")
        logger.info("simulator listening on %s", self.url)

    async def stop(self) -> None:
        """Stop the reaper and the server (idempotent)."""
        task, self._reaper_task = self._reaper_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        runner, self._runner = self._runner, None
        if runner is not None:
            # Sockets first: an open WebSocket would hold cleanup until its timeout.
            await self._realtime.close_all()
            await self._rooms.close_all()
            self._realtime.attach(None)
            self._rooms.attach(None)
            await runner.cleanup()
        self._bound_port = None

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _host_port(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{host}:{self._bound_port}"


class SimulatorThread:
    """A `Simulator` running on its own event loop in a daemon thread.

    For synchronous tests, and for code whose event loop must not host the
    server::

        with SimulatorThread(SimulatorConfig(api_key="k")) as sim:
            requests.post(f"{sim.url}/v1/sessions/token", ...)

    Attributes:
        simulator: The running `Simulator` (read its state; call `inject`).
    """

    def __init__(
        self, config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        """Prepare the simulator (see `Simulator`); `start` runs it."""
        self.simulator = Simulator(config, host, port)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def __repr__(self) -> str:
        return f"<SimulatorThread {self.simulator!r}>"

    @property
    def config(self) -> SimulatorConfig:
        """The simulator's limits."""
        return self.simulator.config

    @property
    def room_url(self) -> str:
        """The URL of the simulator's rooms (see `Simulator.room_url`)."""
        return self.simulator.room_url

    def room_token(self, room: str, identity: str) -> str:
        """Mint a token to join `room` as `identity` (see `Simulator.room_token`)."""
        return self.simulator.room_token(room, identity)

    def room_participants(self, session_or_room: str) -> list[str]:
        """Identities in a session's room (see `Simulator.room_participants`)."""
        return self.simulator.room_participants(session_or_room)

    @property
    def state(self) -> SimulatorState:
        """Sessions, tokens and catalogue."""
        return self.simulator.state

    @property
    def url(self) -> str:
        """Base URL of both APIs."""
        return self.simulator.url

    @property
    def liveavatar_url(self) -> str:
        """Base URL for a LiveAvatar client."""
        return self.simulator.liveavatar_url

    @property
    def streaming_url(self) -> str:
        """Base URL for a Streaming client."""
        return self.simulator.streaming_url

    @property
    def port(self) -> int:
        """The bound TCP port."""
        return self.simulator.port

    @property
    def requests_by_operation(self) -> Counter[str]:
        """Calls received per operationId."""
        return self.simulator.requests_by_operation

    @property
    def requests_by_api_operation(self) -> Counter[str]:
        """Calls received per ``"api.operationId"``."""
        return self.simulator.requests_by_api_operation

    def open_sessions(self) -> int:
        """Return how many sessions of both APIs are open."""
        return self.simulator.open_sessions()

    @property
    def events_by_type(self) -> Counter[str]:
        """Valid realtime client events received, per ``type``."""
        return self.simulator.events_by_type

    @property
    def server_events_by_type(self) -> Counter[str]:
        """Realtime events the simulator sent, per ``type``."""
        return self.simulator.server_events_by_type

    @property
    def dropped_before_ready(self) -> int:
        """Realtime commands silently dropped because they came before ``connected``."""
        return self.simulator.dropped_before_ready

    @property
    def chunks_after_interrupt(self) -> int:
        """Audio chunks of an interrupted utterance that arrived after the interrupt."""
        return self.simulator.chunks_after_interrupt

    def open_websockets(self) -> int:
        """Return how many realtime sockets are open."""
        return self.simulator.open_websockets()

    def drop_websocket(self, session_id: str, code: int = 1011) -> bool:
        """Close a session's socket as a network drop would (see `Simulator.drop_websocket`)."""
        assert self._loop is not None, "the simulator thread is not running"
        future = asyncio.run_coroutine_threadsafe(self._drop(session_id, code), self._loop)
        return future.result(timeout=10)

    async def _drop(self, session_id: str, code: int) -> bool:
        return self.simulator.drop_websocket(session_id, code)

    def received_audio(self, session_id: str) -> bytes:
        """Return the audio a session's sockets accepted (see `Simulator.received_audio`)."""
        return self.simulator.received_audio(session_id)

    def write_wav(self, session_id: str, path: str | os.PathLike[str]) -> None:
        """Write a session's received audio as a 24 kHz mono 16-bit WAV file."""
        self.simulator.write_wav(session_id, path)

    def client_events(self, session_id: str) -> list[EventRecord]:
        """Return a session's realtime client events (see `Simulator.client_events`)."""
        return self.simulator.client_events(session_id)

    def server_events(self, session_id: str) -> list[EventRecord]:
        """Return the realtime events sent on a session's sockets."""
        return self.simulator.server_events(session_id)

    def inject(self, operation_id: str, *faults: Fault) -> None:
        """Queue faults for the next calls of `operation_id` (see `Simulator.inject`)."""
        self.simulator.inject(operation_id, *faults)

    def pending_faults(self, operation_id: str | None = None) -> int:
        """Return how many injected faults have not been consumed yet."""
        return self.simulator.pending_faults(operation_id)

    def start(self, timeout: float = 10.0) -> None:
        """Start the thread and wait until the simulator listens.

        Raises:
            RuntimeError: Already started, or it did not come up in `timeout` seconds.
            OSError: The port cannot be bound.

        """
        if self._thread is not None:
            raise RuntimeError("the simulator thread is already running")
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="heygen-simulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"the simulator did not start within {timeout} s")
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the simulator and join its thread (idempotent)."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout)
        self._thread = None

    def __enter__(self) -> SimulatorThread:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start(); the thread must not die silently
            self._error = exc
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        await self.simulator.start()
        try:
            self._ready.set()
            await self._stopping.wait()
        finally:
            await self.simulator.stop()
