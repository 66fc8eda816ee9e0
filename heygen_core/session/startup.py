"""Start-up storms: how many sessions of one event loop set up, and send their lead, at once.

A process that opens many sessions together (a worker taking a burst of
calls, a load test) would otherwise run every set-up at the same moment
(REST create and start, the socket's TCP and WebSocket handshakes) and then
every first utterance's lead (`PumpConfig.lead_seconds` of audio sent back
to back). Both are CPU and network bursts on the client and at the service;
run all at once, they delay the paced chunks of sessions already speaking
until those avatars run dry. The library smooths them with two gates per
event loop, sized by `StartupLimits`:

- the set-up gate: at most `StartupLimits.max_concurrent_setups` sessions
  create, start and connect at once. Waiting for the service's ``connected``
  (about a second), or for the avatar to join a FULL session's room, holds
  no slot: it costs nothing, and holding one would serialise the storm.
  The wait for a slot counts against the session's ``timeout=``;
- the lead gate: at most
  `StartupLimits.max_concurrent_lead_bursts` utterances send their lead at
  once, each for `StartupLimits.lead_burst_hold_seconds` at most.

Set the process's limits with `set_startup_limits`; they apply to every
loop, the gates of loops already running included.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from types import TracebackType

from heygen_core._slot_gate import Slot, SlotGate
from heygen_core.errors import SessionError

__all__ = ["StartupLimits", "set_startup_limits", "startup_limits"]


@dataclass(frozen=True)
class StartupLimits:
    """How many sessions of one event loop may set up, and send a lead burst, at once.

    The defaults were chosen by measurement (`bench/bench_scale.py`: 1,000
    LITE sessions started within 2 s against a simulator in another process,
    on 2 shared cores); the comments on each field give the figures.

    Attributes:
        max_concurrent_setups: Sessions creating, starting and connecting
            their socket at the same time; the others wait their turn
            (within their ``timeout=``), in order.
        max_concurrent_lead_bursts: Utterances sending their lead (the first
            `PumpConfig.lead_seconds` of audio, back to back) at the same time;
            the others wait before their first chunk, in order.
        lead_burst_hold_seconds: The longest one lead burst keeps its slot:
            a real-time stream delivers its lead only as fast as it is spoken,
            and must not keep others waiting that long.

    Raises:
        ValueError: A limit below 1, or a hold bound not above 0.
    """

    # A set-up (two REST calls and a WebSocket handshake) takes about 0.2 s
    # in a storm. Unlimited, 1,000 at once all progress slowly together: open
    # took 2.7 s at the median and 3.4 s at p99 (all at once) and p99 2.3 s
    # (spread over 2 s). 64 served them in order (all at once: 1.8 / 2.4 s)
    # but queued a storm spread over 2 s (500 a second against ~330 a second
    # through 64 slots: median 2.0 s); 128 keeps up with it (1.1 / 1.5 s).
    max_concurrent_setups: int = 128
    # A lead is 3.4 s of audio, about 220 kB of base64 to encode, send and
    # decode. Unlimited, 1,000 within 2 s delayed paced chunks by 258 ms at
    # p99 (367 ms at worst); 16 at once: 28-82 ms at p99 over runs. 8 let
    # the last session start only after 5 s; 32 was no better than 16.
    max_concurrent_lead_bursts: int = 16
    # A buffer's lead is on the wire within milliseconds, or tens of them
    # under load: 0.5 s is ample, and a real-time stream (which delivers its
    # lead as fast as it is spoken) delays the others by no more than that.
    lead_burst_hold_seconds: float = 0.5

    def __post_init__(self) -> None:
        for name in ("max_concurrent_setups", "max_concurrent_lead_bursts"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        hold = self.lead_burst_hold_seconds
        if isinstance(hold, bool) or not isinstance(hold, int | float) or not hold > 0:
            raise ValueError(f"lead_burst_hold_seconds must be > 0, got {hold!r}")


_limits = StartupLimits()


def startup_limits() -> StartupLimits:
    """Return the process's start-up limits (`StartupLimits()` until `set_startup_limits`)."""
    return _limits


def set_startup_limits(limits: StartupLimits) -> None:
    """Set the process's start-up limits; every event loop's gates follow from their next use.

    Raises:
        TypeError: `limits` is not a `StartupLimits`.
    """
    global _limits
    if not isinstance(limits, StartupLimits):
        raise TypeError(f"limits must be a StartupLimits, got {type(limits).__name__}")
    _limits = limits


class _LoopGates:
    """The gates of one event loop."""

    def __init__(self, limits: StartupLimits) -> None:
        self.limits = limits
        # Set-ups hold their slot until released: the session releases it
        # before any wait that costs nothing, and on every exit.
        self.setup = SlotGate(limits.max_concurrent_setups)
        self.lead = SlotGate(limits.max_concurrent_lead_bursts, limits.lead_burst_hold_seconds)

    def follow(self, limits: StartupLimits) -> None:
        # Limits changed since: resize in place, so slots held stay counted.
        if limits is self.limits:
            return
        self.limits = limits
        self.setup.resize(limits.max_concurrent_setups)
        self.lead.resize(limits.max_concurrent_lead_bursts, limits.lead_burst_hold_seconds)


# Per loop, forgotten with it: tests (and apps) run many loops in turn, and
# a gate's waiters belong to the loop that made them.
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopGates] = (
    weakref.WeakKeyDictionary()
)


def _loop_gates() -> _LoopGates:
    loop = asyncio.get_running_loop()
    gates = _gates.get(loop)
    if gates is None:
        gates = _gates[loop] = _LoopGates(_limits)
    else:
        gates.follow(_limits)
    return gates


def lead_gate() -> SlotGate:
    """The running loop's lead-burst gate (what `LiteDriver` gives its pump)."""
    return _loop_gates().lead


class SetupSlot:
    """A set-up slot of the running loop, held from ``async with`` until `release` or exit.

    Args:
        timeout: How long to wait for a slot (the session's ``timeout=``); None: no bound.
    """

    def __init__(self, timeout: float | None) -> None:
        self._timeout = timeout
        self._slot: Slot | None = None

    async def __aenter__(self) -> SetupSlot:
        gates = _loop_gates()
        gate = gates.setup
        try:
            async with asyncio.timeout(self._timeout):
                self._slot = await gate.acquire()
        except TimeoutError:
            raise SessionError(
                f"the session did not start setting up within {self._timeout:g} s "
                f"(its timeout=): {gate.held} sessions of this process are setting up and "
                f"{gate.waiting} more are waiting, with StartupLimits(max_concurrent_setups="
                f"{gates.limits.max_concurrent_setups}); raise it with "
                "heygen_core.set_startup_limits(StartupLimits(max_concurrent_setups=...)), "
                "open fewer sessions at once, or raise timeout="
            ) from None
        return self

    def release(self) -> None:
        """Give the slot back (idempotent): the costly part of the set-up is over."""
        if self._slot is not None:
            self._slot.release()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
