"""The services' limits: request rate, concurrent sessions, and session lifetimes.

- `RateLimiter`: per caller, per endpoint, 1-second fixed window (the
  LiveAvatar docs' rule, applied to both APIs).
- `ConcurrencyLimitReached`: raised by `check_concurrency` when an account
  already has its maximum of open sessions.
- `Reaper`: the background sweep that ends sandbox sessions after their
  minute, sessions past their maximum duration, idle sessions, and tokens
  whose session never started.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass

from heygen_core.simulator.config import SimulatorConfig
from heygen_core.simulator.state import (
    IDLE_TIMEOUT,
    MAX_DURATION_REACHED,
    ZOMBIE_SESSION_REAP,
    ApiName,
    Clock,
    EndReason,
    LiveAvatarSession,
    Session,
    SimulatorState,
)

logger = logging.getLogger("heygen_core.simulator")


@dataclass(frozen=True)
class RateLimited:
    """A request over the limit: when the caller may try again.

    Attributes:
        retry_after: Whole seconds to wait (at least 1): the ``Retry-After`` header.
        reset_at: Unix seconds when the window resets: ``X-RateLimit-Reset``.
    """

    retry_after: int
    reset_at: int


class RateLimiter:
    """Counts requests per (caller, endpoint) in 1-second fixed windows.

    Only the current second's counts are kept: a new second drops all the
    others, so memory is bounded by the callers of one second, however many
    distinct keys a long run sees.
    """

    def __init__(self, per_second: int, clock: Clock) -> None:
        """Create a limiter allowing `per_second` requests per caller and endpoint."""
        self._per_second = per_second
        self._clock = clock
        self._window: int | None = None
        self._counts: dict[tuple[str, str], int] = {}

    @property
    def counters(self) -> int:
        """How many (caller, endpoint) counters are kept: those of the current second."""
        return len(self._counts)

    def hit(self, caller: str, endpoint: str) -> RateLimited | None:
        """Count one request; return `RateLimited` when it is over the limit."""
        now = self._clock.monotonic()
        window = math.floor(now)
        if window != self._window:
            # Every count belongs to a second that is over: none can limit again.
            self._window = window
            self._counts.clear()
        key = (caller, endpoint)
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        if count <= self._per_second:
            return None
        remaining = window + 1 - now
        return RateLimited(
            retry_after=max(1, math.ceil(remaining)),
            reset_at=math.ceil(self._clock.unix() + remaining),
        )


class ConcurrencyLimitReached(Exception):
    """The account already has its maximum number of open sessions.

    Attributes:
        limit: The maximum.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"concurrent session limit ({limit}) reached for this API key: "
            "stop a session, or wait for one to end"
        )
        self.limit = limit


def check_concurrency(state: SimulatorState, api: ApiName, owner: str, limit: int) -> None:
    """Raise `ConcurrencyLimitReached` when `owner` cannot open one more `api` session."""
    if state.open_count(api, owner) >= limit:
        raise ConcurrencyLimitReached(limit)


class Reaper:
    """Ends sessions whose time is up, as the real services do on their own."""

    def __init__(self, state: SimulatorState, config: SimulatorConfig) -> None:
        """Create a reaper over `state` with `config`'s limits (not yet running)."""
        self._state = state
        self._config = config

    def sweep(self) -> list[Session]:
        """End every expired session now; return the sessions ended."""
        now = self._state.clock.monotonic()
        ended: list[Session] = []
        for session in self._state.sessions():
            if not session.is_open:
                continue
            reason = self._expired(session, now)
            if reason is not None and self._state.end(session, reason):
                logger.info("simulator ended session %s: %s", session.id, reason.root)
                ended.append(session)
        return ended

    async def run(self) -> None:
        """Sweep every ``reaper_interval_seconds`` until cancelled."""
        while True:
            await asyncio.sleep(self._config.reaper_interval_seconds)
            try:
                self.sweep()
            except Exception:  # keep reaping: one bad sweep must not stop the loop
                logger.exception("simulator reaper sweep failed")

    def _expired(self, session: Session, now: float) -> EndReason | None:
        idle_for = now - session.last_activity
        if isinstance(session, LiveAvatarSession):
            if session.started_mono is None:
                # A token minted but never started: the service reaps it as a zombie.
                return (
                    ZOMBIE_SESSION_REAP if idle_for >= self._config.idle_timeout_seconds else None
                )
            running = now - session.started_mono
            if session.is_sandbox and running >= self._config.sandbox_session_seconds:
                return MAX_DURATION_REACHED
            if running >= session.max_session_duration:
                return MAX_DURATION_REACHED
            return IDLE_TIMEOUT if idle_for >= self._config.idle_timeout_seconds else None
        if (
            session.started_mono is not None
            and now - session.started_mono >= session.duration_limit
        ):
            return MAX_DURATION_REACHED
        if session.idle_timeout is not None and idle_for >= session.idle_timeout:
            return IDLE_TIMEOUT
        return None
