"""What every handler of a running simulator shares: config, state, limits, counters."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from heygen_core.simulator.config import SimulatorConfig
from heygen_core.simulator.faults import FaultQueue
from heygen_core.simulator.limits import RateLimiter
from heygen_core.simulator.rooms.hub import RoomHub
from heygen_core.simulator.rooms.wire import room_url
from heygen_core.simulator.state import SimulatorState


@dataclass
class Runtime:
    """The shared parts of one simulator.

    Attributes:
        config: Its limits.
        state: Sessions, tokens, catalogue.
        faults: Queued injected faults.
        limiter: The per-caller, per-endpoint rate limiter.
        rooms: The sessions' rooms (the avatar's media, FULL mode).
        requests_by_operation: Calls per operationId (both APIs together).
        requests_by_api_operation: Calls per ``api.operationId``.
        host_port: ``HOST:PORT`` the simulator is reachable at, for the URLs
            it hands out (set once the socket is bound).
    """

    config: SimulatorConfig
    state: SimulatorState
    faults: FaultQueue
    limiter: RateLimiter
    rooms: RoomHub
    requests_by_operation: Counter[str] = field(default_factory=Counter)
    requests_by_api_operation: Counter[str] = field(default_factory=Counter)
    host_port: str = "127.0.0.1:0"

    @property
    def ws_base(self) -> str:
        """``ws://HOST:PORT``: where the simulated realtime WebSockets live."""
        return f"ws://{self.host_port}"

    @property
    def room_url(self) -> str:
        """The ``livekit_url`` of every simulated session: the simulator's own rooms."""
        return room_url(self.host_port)
