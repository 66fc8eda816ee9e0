"""What tests read from a simulator and the faults they inject: written once, for both runners.

`Simulator` (on the caller's loop) and `SimulatorThread` (on a loop of its
own) both derive from `SimulatorControls`, which implements every
inspection and fault method over the simulator's parts, running each on the
simulator's loop (`run_on_loop`): directly when already there, and
thread-safely from any other thread. A new method added here is on both by
construction; neither runner copies the other's members.
"""

from __future__ import annotations

import abc
import asyncio
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from heygen_core.simulator.config import SimulatorConfig
from heygen_core.simulator.faults import Fault
from heygen_core.simulator.realtime_ws import (
    EventRecord,
    PlaybackUnderruns,
    RealtimeHub,
    SocketFault,
)
from heygen_core.simulator.rooms.hub import RoomHub
from heygen_core.simulator.runtime import Runtime
from heygen_core.simulator.state import SimulatorState
from heygen_core.simulator.threads import run_on_loop

T = TypeVar("T")


@dataclass(eq=False)
class SimulatorParts:
    """The parts of one simulator that its controls read and drive.

    Attributes:
        runtime: Config, state, faults, limits and REST counters.
        realtime: The realtime WebSockets (LITE and alpha).
        rooms: The sessions' rooms (the avatar's media, FULL mode).
        loop: The loop serving it, while it serves (None otherwise).
        port: The bound TCP port, while it serves (None otherwise).
    """

    runtime: Runtime
    realtime: RealtimeHub
    rooms: RoomHub
    loop: asyncio.AbstractEventLoop | None = None
    port: int | None = None


class SimulatorControls(abc.ABC):
    """Inspection and faults of a simulator, safe to use from any thread.

    Calls that read or change what the simulator's loop owns run on that
    loop; once the simulator stopped, they run in the caller's thread (what
    it recorded can still be read).
    """

    @property
    @abc.abstractmethod
    def _parts(self) -> SimulatorParts:
        """The simulator's parts."""

    def _on_loop(self, call: Callable[[], T]) -> T:
        return run_on_loop(self._parts.loop, call)

    # -- configuration and addresses ------------------------------------------------------

    @property
    def config(self) -> SimulatorConfig:
        """Its limits and switches."""
        return self._parts.runtime.config

    @property
    def state(self) -> SimulatorState:
        """Sessions, tokens and catalogue, for inspection in tests."""
        return self._parts.runtime.state

    @property
    def port(self) -> int:
        """The bound TCP port.

        Raises:
            RuntimeError: Not started.
        """
        port = self._parts.port
        if port is None:
            raise RuntimeError("the simulator is not running: call start() (or use `async with`)")
        return port

    @property
    def url(self) -> str:
        """Base URL of both APIs, ``http://127.0.0.1:PORT``.

        Raises:
            RuntimeError: Not started.
        """
        self.port  # noqa: B018 - raises when not started
        return f"http://{self._parts.runtime.host_port}"

    @property
    def liveavatar_url(self) -> str:
        """Base URL to give a LiveAvatar client (same as `url`)."""
        return self.url

    @property
    def streaming_url(self) -> str:
        """Base URL to give a Streaming client (same as `url`)."""
        return self.url

    # -- REST -----------------------------------------------------------------------------

    @property
    def requests_by_operation(self) -> Counter[str]:
        """Calls received per operationId (both APIs together: ``stop_session`` counts either)."""
        return self._parts.runtime.requests_by_operation

    @property
    def requests_by_api_operation(self) -> Counter[str]:
        """Calls received per ``"api.operationId"``."""
        return self._parts.runtime.requests_by_api_operation

    def open_sessions(self) -> int:
        """Return how many sessions of both APIs are open (not stopped or closed)."""
        return self._on_loop(self.state.open_sessions)

    def inject(self, operation_id: str, *faults: Fault) -> None:
        """Make the next calls of `operation_id` fail, one fault per call, in order.

        Each fault is an HTTP error status (``503``: answered with the API's
        error body; ``429`` also carries ``Retry-After``), ``"disconnect"``
        (the connection is closed without an answer), or ``("delay",
        seconds)`` (the call takes effect, and the answer comes late).
        `operation_id` is a schema operationId; ``stop_session``,
        ``start_session`` and ``list_sessions`` exist in both APIs and match
        either, unless qualified as ``"liveavatar.stop_session"`` /
        ``"streaming.stop_session"``.

        Raises:
            KeyError: Unknown operation.
            ValueError: Not a valid fault.
        """
        faults_queue = self._parts.runtime.faults
        self._on_loop(lambda: faults_queue.inject(operation_id, *faults))

    def pending_faults(self, operation_id: str | None = None) -> int:
        """Return how many injected faults have not been consumed yet."""
        faults_queue = self._parts.runtime.faults
        return self._on_loop(lambda: faults_queue.pending(operation_id))

    # -- realtime sockets -----------------------------------------------------------------

    @property
    def events_by_type(self) -> Counter[str]:
        """Valid realtime client events received, per ``type``.

        All sessions; those dropped before ``connected`` included.
        """
        return self._parts.realtime.events_by_type

    @property
    def server_events_by_type(self) -> Counter[str]:
        """Realtime events the simulator sent, per ``type``."""
        return self._parts.realtime.server_events_by_type

    @property
    def dropped_before_ready(self) -> int:
        """Realtime commands silently dropped because they came before ``connected``."""
        realtime = self._parts.realtime
        return self._on_loop(lambda: realtime.dropped_before_ready)

    @property
    def chunks_after_interrupt(self) -> int:
        """Audio chunks of an interrupted utterance that arrived after the interrupt.

        The simulator drops them, as the service does; a correct client sends none.
        """
        realtime = self._parts.realtime
        return self._on_loop(lambda: realtime.chunks_after_interrupt)

    def open_websockets(self) -> int:
        """Return how many realtime sockets are open."""
        return self._on_loop(self._parts.realtime.open_websockets)

    def playback_underruns(self) -> PlaybackUnderruns:
        """Return how often the avatars' playback ran dry mid-utterance (a snapshot).

        Counted when audio for the utterance being played arrives more than
        `~heygen_core.simulator.realtime_ws.UNDERRUN_TOLERANCE_SECONDS` after
        its audio was played out: the avatar stalled, because the client
        sent late. A correct client pacing real-time audio causes none.
        """
        return self._on_loop(self._parts.realtime.playback_underruns)

    def keep_received_audio(self, keep: bool) -> None:
        """Keep each session's audio for `received_audio` (the default), or only count it.

        Large runs turn it off: 1,000 sessions of 20 s would hold about 1 GB.
        """
        realtime = self._parts.realtime

        def apply() -> None:
            realtime.keep_audio = keep

        self._on_loop(apply)

    def drop_websocket(self, session_id: str, code: int = 1011) -> bool:
        """Close a session's socket as a network drop would, leaving the session alive."""
        realtime = self._parts.realtime
        return self._on_loop(lambda: realtime.drop_websocket(session_id, code))

    def fail_websockets(
        self, fault: SocketFault, count: int | None = None, *, session_id: str | None = None
    ) -> None:
        """Make the next `count` realtime sockets fail (every later one when None).

        `fault` (`SocketFault`): ``"refuse"`` answers the upgrade with HTTP
        503; ``"close_at_once"`` closes the socket (1011) right after it
        opens; ``"close_when_ready"`` closes it right after it reports
        ``connected``. The session stays alive either way. With
        `session_id` only that session's sockets fail; without, any
        session's (including one not created yet). ``count=0`` clears it.

        Raises:
            ValueError: Unknown fault, or a negative count.
        """
        realtime = self._parts.realtime
        self._on_loop(lambda: realtime.fail_websockets(fault, count, session_id))

    def websocket_opens(self, session_id: str) -> int:
        """Return how many realtime sockets of a session opened (refused ones not counted)."""
        realtime = self._parts.realtime
        return self._on_loop(lambda: realtime.websocket_opens[session_id])

    def received_audio(self, session_id: str) -> bytes:
        """Return the audio a session's sockets accepted (24 kHz mono PCM16, arrival order).

        Chunks later interrupted are included; chunks dropped (before
        ``connected``, or after an interrupt) are not; nothing is kept while
        `keep_received_audio` is off.

        Raises:
            KeyError: No such session.
        """
        realtime = self._parts.realtime
        return self._on_loop(lambda: realtime.received_audio(session_id))

    def write_wav(self, session_id: str, path: str | os.PathLike[str]) -> None:
        """Write `received_audio` to `path` as a WAV file (24 000 Hz, mono, 16-bit).

        Raises:
            KeyError: No such session.
        """
        realtime = self._parts.realtime
        self._on_loop(lambda: realtime.write_wav(session_id, path))

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
        realtime = self._parts.realtime
        return self._on_loop(lambda: realtime.client_events(session_id))

    def server_events(self, session_id: str) -> list[EventRecord]:
        """Return the realtime events sent on a session's sockets, as `client_events`.

        Raises:
            KeyError: No such session.
        """
        realtime = self._parts.realtime
        return self._on_loop(lambda: realtime.server_events(session_id))

    # -- rooms ----------------------------------------------------------------------------

    @property
    def room_url(self) -> str:
        """The URL of this simulator's rooms (what its sessions give as ``livekit_url``).

        Use it with `room_token` for a ``livekit_config`` (your own room).
        """
        return self._parts.runtime.room_url

    def room_token(self, room: str, identity: str) -> str:
        """Mint a token to join `room` as `identity` (as ``livekit-api`` does for LiveKit)."""
        rooms = self._parts.rooms
        return self._on_loop(lambda: rooms.mint(room, identity))

    def session_room(self, session_id: str) -> str | None:
        """The room a session's avatar is in (None once the session ended)."""
        rooms = self._parts.rooms
        return self._on_loop(lambda: rooms.session_room(session_id))

    def room_participants(self, session_or_room: str) -> list[str]:
        """Identities in a session's room (or a room by name): the avatar ``heygen`` first."""
        rooms = self._parts.rooms
        return self._on_loop(
            lambda: rooms.participants(rooms.session_room(session_or_room) or session_or_room)
        )

    def send_agent_event(self, session_id: str, payload: bytes) -> None:
        """Publish `payload` as the avatar on ``agent-response`` (e.g. an unknown or broken event).

        It lets tests feed the client what the real service might send; a
        session without a room ignores it.
        """
        rooms = self._parts.rooms
        self._on_loop(lambda: rooms.send_agent_event(session_id, payload))

    @property
    def full_commands_by_type(self) -> Counter[str]:
        """FULL-mode commands received on ``agent-control``, per ``event_type``."""
        return self._parts.rooms.full_commands_by_type

    @property
    def invalid_full_commands(self) -> int:
        """``agent-control`` packets that were not valid FULL commands (ignored)."""
        rooms = self._parts.rooms
        return self._on_loop(lambda: rooms.invalid_full_commands)
