"""Reconnecting is bounded in time whatever the failure pattern, and ends cleanly.

Against the simulator, whose sockets are made to fail (`fail_websockets`):
every socket closing right after it opens, closing right after it reports
``connected``, or being refused after a drop. Each time the library gives
up within the policy's budget with `RealtimeConnectionError` and a
`ConnectionLost` that says it is not reconnecting, and the session is still
stopped.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np
import pytest
from heygen_models import liveavatar as la
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from heygen_core.errors import RealtimeConnectionError
from heygen_core.realtime.connection import ReconnectPolicy
from heygen_core.realtime.events import ConnectionLost, Reconnected, SessionEvent
from heygen_core.rest.liveavatar_client import LiveAvatarClient
from heygen_core.rest.retry import RetryPolicy
from heygen_core.session import SANDBOX_AVATAR_ID, AvatarSession
from heygen_core.simulator import Simulator, SimulatorConfig
from heygen_core.simulator.realtime_ws import SocketFault
from tests.support.polling import eventually

KEY = "sim-key"
RATE = 24_000


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (0.3 * np.sin(2 * math.pi * 220.0 * t) * 32767).astype(np.int16)


def session_for(sim: Simulator, reconnect: RetryPolicy, seen: list[SessionEvent]) -> AvatarSession:
    session = AvatarSession.live_avatar(
        sandbox=True, api_key=KEY, base_url=sim.url, reconnect=reconnect, ready_timeout=5.0
    )
    session.on_event(seen.append)
    return session


def gave_up(seen: list[SessionEvent]) -> bool:
    return any(isinstance(e, ConnectionLost) and not e.reconnecting for e in seen)


async def entry_fails(
    sim: Simulator, reconnect: RetryPolicy, seen: list[SessionEvent], match: str
) -> str:
    """Enter a session whose sockets never become ready; return its id once the entry failed."""
    session = session_for(sim, reconnect, seen)
    with pytest.raises(RealtimeConnectionError, match=match):
        async with asyncio.timeout(6):
            async with session:
                pytest.fail("the session opened on sockets that never became ready")
    sid = session.session_id
    assert sid is not None
    return sid


@asynccontextmanager
async def dropped_session(
    reconnect: RetryPolicy, seen: list[SessionEvent], fault: SocketFault
) -> AsyncIterator[tuple[Simulator, AvatarSession, str]]:
    """A ready session whose socket was just dropped, every later one failing with `fault`.

    After it, the session is stopped, once.
    """
    async with Simulator(SimulatorConfig(connect_delay_seconds=0.05)) as sim:
        session = session_for(sim, reconnect, seen)
        async with session:
            sid = session.session_id
            assert sid is not None
            sim.fail_websockets(fault, session_id=sid)
            assert sim.drop_websocket(sid)
            yield sim, session, sid
        assert sim.open_sessions() == 0
        assert sim.requests_by_operation["stop_session"] == 1


async def test_sockets_that_close_as_they_open_fail_the_entry_within_the_deadline() -> None:
    # Many attempts and reconnects allowed, so only the time budget can end it.
    policy = ReconnectPolicy(
        max_attempts=1000, base_delay=0.02, max_delay=0.05, max_reconnects=1000, give_up_after=1.5
    )
    seen: list[SessionEvent] = []
    async with Simulator(SimulatorConfig(connect_delay_seconds=0.2)) as sim:
        sim.fail_websockets("close_at_once")  # every socket of every session
        started = time.monotonic()
        sid = await entry_fails(sim, policy, seen, "no socket became ready")
        assert time.monotonic() - started < 4
        assert sim.websocket_opens(sid) >= 2  # it did try again, then stopped
        opens = sim.websocket_opens(sid)
        await asyncio.sleep(0.3)
        assert sim.websocket_opens(sid) == opens
        assert gave_up(seen)
        assert sim.open_sessions() == 0  # the failed entry still stopped it


async def test_a_plain_retry_policy_counts_opens_that_close_before_ready() -> None:
    # A successful open that dies before `connected` is a failed attempt.
    policy = RetryPolicy(max_attempts=4, base_delay=0.02, max_delay=0.05)
    seen: list[SessionEvent] = []
    async with Simulator(SimulatorConfig(connect_delay_seconds=0.2)) as sim:
        sim.fail_websockets("close_at_once")
        sid = await entry_fails(sim, policy, seen, "3 reconnects in a row failed")
        assert sim.websocket_opens(sid) == 4  # the first socket and three reconnects
        assert gave_up(seen)
        assert sim.open_sessions() == 0


async def test_sockets_that_drop_once_connected_exhaust_the_reconnect_window() -> None:
    # Each socket becomes ready (ending its outage) and drops at once: only
    # the sliding window of reconnects can stop this.
    policy = ReconnectPolicy(
        max_attempts=3, base_delay=0.02, max_delay=0.05, max_reconnects=3, window_seconds=30.0
    )
    seen: list[SessionEvent] = []
    async with dropped_session(policy, seen, "close_when_ready") as (sim, session, sid):
        await eventually(lambda: gave_up(seen), within=4)
        assert sum(isinstance(e, Reconnected) for e in seen) == 3
        opens = sim.websocket_opens(sid)
        assert opens == 4
        assert session.connection.failure is not None
        assert "lost 4 times within 30 s" in session.connection.failure
        with pytest.raises(RealtimeConnectionError):
            await asyncio.wait_for(session.speak(tone(0.2), sample_rate=RATE), 2)
        await asyncio.sleep(0.3)
        assert sim.websocket_opens(sid) == opens


async def test_speak_after_a_drop_with_every_later_socket_refused_ends_within_the_deadline() -> (
    None
):
    policy = ReconnectPolicy(
        max_attempts=1000, base_delay=0.02, max_delay=0.05, max_reconnects=1000, give_up_after=1.0
    )
    seen: list[SessionEvent] = []
    async with dropped_session(policy, seen, "refuse") as (_, session, _):
        await eventually(lambda: any(isinstance(e, ConnectionLost) for e in seen))
        started = time.monotonic()
        # It waits at the ready gate while reconnecting, then fails.
        with pytest.raises(RealtimeConnectionError, match="no socket became ready"):
            await asyncio.wait_for(session.speak(tone(0.5), sample_rate=RATE), 4)
        assert time.monotonic() - started < 2.5
        assert gave_up(seen)
        # The session is over for good: a later speak fails at once.
        with pytest.raises(RealtimeConnectionError):
            await asyncio.wait_for(session.speak(tone(0.1), sample_rate=RATE), 1)


def test_reconnect_policy_validates_its_budget() -> None:
    with pytest.raises(ValueError, match="max_reconnects"):
        ReconnectPolicy(max_reconnects=-1)
    with pytest.raises(ValueError, match="positive"):
        ReconnectPolicy(give_up_after=0)
    with pytest.raises(ValueError, match="max_attempts"):
        ReconnectPolicy(max_attempts=0)


async def test_the_simulator_fails_only_the_next_count_sockets_of_a_session() -> None:
    async with (
        Simulator(SimulatorConfig(connect_delay_seconds=0.05)) as sim,
        LiveAvatarClient(KEY, base_url=sim.url) as client,
    ):
        token = await client.create_session_token(
            la.LiteSessionTokenRequest(mode="LITE", avatar_id=SANDBOX_AVATAR_ID, is_sandbox=True)
        )
        sid = token.data.session_id
        started = await client.start_session(token.data.session_token)
        url = started.data.ws_url
        assert isinstance(url, str)
        sim.fail_websockets("refuse", 1, session_id=sid)
        with pytest.raises(InvalidStatus) as refused:
            await connect(url, proxy=None)
        assert refused.value.response.status_code == 503
        sim.fail_websockets("close_at_once", 1, session_id=sid)
        async with connect(url, proxy=None) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 2)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
        async with connect(url, proxy=None) as ws:  # the faults are used up
            async with asyncio.timeout(2):
                while json.loads(await ws.recv()).get("state") != "connected":
                    pass
        assert sim.websocket_opens(sid) == 2
        with pytest.raises(ValueError, match="fault must be one of"):
            sim.fail_websockets("explode")  # type: ignore[arg-type]
        await client.stop_session(session_token=token.data.session_token)
