"""The simulator process: one aiohttp app serving both APIs on loopback.

`Simulator` runs on the caller's event loop (``async with Simulator() as
sim``); `SimulatorThread` runs one on its own loop in a daemon thread, for
synchronous tests and for code on another event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from types import TracebackType

from aiohttp import web

from heygen_core.rest.operations import ApiName, api_spec
from heygen_core.simulator.config import SimulatorConfig
from heygen_core.simulator.controls import SimulatorControls, SimulatorParts
from heygen_core.simulator.faults import FaultQueue
from heygen_core.simulator.limits import RateLimiter, Reaper
from heygen_core.simulator.realtime_ws import RealtimeHub
from heygen_core.simulator.rest.account_routes import AccountRoutes
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
            {
                **LiveAvatarRoutes(runtime, liveavatar_dialect).handlers(),
                **AccountRoutes(runtime, liveavatar_dialect).handlers(),
            },
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


class Simulator(SimulatorControls):
    """A local stand-in for the LiveAvatar and Streaming APIs, REST and realtime.

    Serves both REST APIs from one loopback port (their paths do not
    collide), enforcing their auth, validation, rate and concurrency limits,
    session state machines and timeouts, with faults on demand; and the
    realtime WebSockets their sessions hand out (LITE ``ws_url`` and alpha
    ``realtime_endpoint``), with real-time playback of the audio sent. Use
    it as an async context manager::

        async with Simulator(SimulatorConfig(api_key="test-key")) as sim:
            client = LiveAvatarClient(api_key="test-key", base_url=sim.liveavatar_url)

    What it offers besides `start` and `stop` (inspection, faults, rooms) is
    in `SimulatorControls`, shared with `SimulatorThread`.
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
        config = config or SimulatorConfig()
        self._host = host
        self._port = port
        state = SimulatorState(config)
        operations = [(api, op_id) for api in _APIS for op_id in api_spec(api).operations]
        rooms = RoomHub(config, state)
        runtime = Runtime(
            rooms=rooms,
            config=config,
            state=state,
            faults=FaultQueue(operations),
            limiter=RateLimiter(config.rate_limit_per_second, state.clock),
        )
        self._simulator_parts = SimulatorParts(
            runtime=runtime, realtime=RealtimeHub(config, state, rooms), rooms=rooms
        )
        self._runner: web.AppRunner | None = None
        self._reaper = Reaper(state, config)
        self._reaper_task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        where = self.url if self._parts.port is not None else "not started"
        return f"<Simulator {where} open_sessions={self.open_sessions()}>"

    @property
    def _parts(self) -> SimulatorParts:
        return self._simulator_parts

    async def start(self) -> None:
        """Bind the port, start serving and start the reaper.

        Raises:
            RuntimeError: Already started.
            OSError: The port cannot be bound.

        """
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        parts = self._parts
        runner = web.AppRunner(
            build_app(parts.runtime, parts.realtime),
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
        loop = asyncio.get_running_loop()
        parts.realtime.attach(loop)
        parts.rooms.attach(loop)
        parts.port = int(runner.addresses[0][1])
        parts.runtime.host_port = self._host_port(parts.port)
        parts.loop = loop
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
        parts = self._parts
        if runner is not None:
            # Sockets first: an open WebSocket would hold cleanup until its timeout.
            await parts.realtime.close_all()
            await parts.rooms.close_all()
            parts.realtime.attach(None)
            parts.rooms.attach(None)
            await runner.cleanup()
        parts.port = None
        parts.loop = None

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

    def _host_port(self, port: int) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{host}:{port}"


class SimulatorThread(SimulatorControls):
    """A `Simulator` running on its own event loop in a daemon thread.

    For synchronous tests, and for code whose event loop must not host the
    server::

        with SimulatorThread(SimulatorConfig(api_key="k")) as sim:
            requests.post(f"{sim.url}/v1/sessions/token", ...)

    It offers all of `Simulator` but its lifecycle (`SimulatorControls`),
    from any thread: each call runs on the simulator's loop.

    Attributes:
        simulator: The `Simulator` it runs.
    """

    def __init__(
        self, config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        """Prepare the simulator (see `Simulator`); `start` runs it."""
        self.simulator = Simulator(config, host, port)
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def __repr__(self) -> str:
        return f"<SimulatorThread {self.simulator!r}>"

    @property
    def _parts(self) -> SimulatorParts:
        # The very parts of the simulator it runs: one state, one loop.
        return self.simulator._parts

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
        thread, loop, stopping = self._thread, self._parts.loop, self._stopping
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
        self._stopping = asyncio.Event()
        await self.simulator.start()
        try:
            self._ready.set()
            await self._stopping.wait()
        finally:
            await self.simulator.stop()
