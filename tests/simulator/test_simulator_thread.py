"""SimulatorThread offers all of Simulator, from any thread, by construction."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import get_args

import pytest
from heygen_models import full
from heygen_models.full import AVATAR_IDENTITY

from heygen_core.protocol.codec import UnknownEvent
from heygen_core.session import AvatarSession
from heygen_core.simulator import Simulator, SimulatorConfig, SimulatorThread
from heygen_core.simulator.controls import SimulatorControls
from heygen_core.simulator.threads import run_on_loop

KEY = "thread-key"
LIFECYCLE = {"start", "stop"}


def public_names(obj: object) -> set[str]:
    return {name for name in dir(obj) if not name.startswith("_")}


def tag_of(model: type[full.AvatarSpeakText]) -> str:
    (tag,) = get_args(model.model_fields["event_type"].annotation)
    return str(tag)


def test_every_non_lifecycle_member_of_simulator_is_shared_with_the_thread() -> None:
    simulator = Simulator()
    thread = SimulatorThread()
    members = public_names(simulator) - LIFECYCLE
    # Written once in SimulatorControls, so neither runner can fall behind.
    assert members <= public_names(SimulatorControls)
    assert members <= public_names(thread)
    assert {"send_agent_event", "session_room", "full_commands_by_type"} <= members
    # The thread's own extras are its lifecycle and the simulator it runs.
    assert public_names(thread) - members == {"start", "stop", "simulator"}


@pytest.fixture
def threaded() -> Iterator[SimulatorThread]:
    with SimulatorThread(SimulatorConfig(api_key=KEY, connect_delay_seconds=0.1)) as sim:
        yield sim


async def test_rooms_and_full_mode_are_driven_from_another_thread(
    threaded: SimulatorThread,
) -> None:
    sim = threaded
    assert threading.current_thread() is not sim._thread  # this test's loop is not the simulator's
    session = AvatarSession.live_avatar(mode="FULL", sandbox=True, api_key=KEY, base_url=sim.url)
    async with session:
        sid = session.session_id
        assert sid is not None
        room = sim.session_room(sid)
        assert room is not None
        assert sim.room_participants(sid)[0] == AVATAR_IDENTITY
        assert sim.room_participants(room) == sim.room_participants(sid)
        stream = session.events()
        sim.send_agent_event(sid, b'{"event_type": "avatar.from_a_thread"}')
        event = await asyncio.wait_for(anext(stream), 5)
        assert isinstance(event, UnknownEvent) and event.tag == "avatar.from_a_thread"
        await session.speak_text("hello")
        while not isinstance(await asyncio.wait_for(anext(stream), 10), full.AvatarSpeakStarted):
            pass
        assert sim.full_commands_by_type[tag_of(full.AvatarSpeakText)] == 1
        assert sim.invalid_full_commands == 0
        assert sim.open_sessions() == 1
    assert sim.session_room(sid) is None  # the session ended with the `async with`
    assert sim.open_sessions() == 0
    assert sim.pending_faults() == 0
    sim.inject("create_session_token", 503)
    assert sim.pending_faults("create_session_token") == 1


def test_a_stopped_simulator_is_still_read_from_the_callers_thread() -> None:
    sim = SimulatorThread()
    sim.start()
    port = sim.port
    sim.stop()
    assert port > 0
    with pytest.raises(RuntimeError, match="not running"):
        sim.port  # noqa: B018
    assert sim.open_sessions() == 0
    assert sim.session_room("no-such-session") is None
    with pytest.raises(KeyError):
        sim.received_audio("no-such-session")


# -- run_on_loop: the hook both runners use ----------------------------------------------


@pytest.fixture
def loop_thread() -> Iterator[tuple[asyncio.AbstractEventLoop, threading.Thread]]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop, thread
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_run_on_loop_runs_on_the_loops_thread_and_raises_there_errors_here(
    loop_thread: tuple[asyncio.AbstractEventLoop, threading.Thread],
) -> None:
    loop, thread = loop_thread
    assert run_on_loop(loop, threading.current_thread) is thread

    def fail() -> None:
        raise KeyError("no such session")

    with pytest.raises(KeyError, match="no such session"):
        run_on_loop(loop, fail)


def test_run_on_loop_on_the_loop_itself_runs_at_once() -> None:
    async def main() -> list[str]:
        order: list[str] = []
        run_on_loop(asyncio.get_running_loop(), lambda: order.append("ran"))
        order.append("after")
        return order

    assert asyncio.run(main()) == ["ran", "after"]


def test_run_on_loop_without_a_running_loop_runs_in_the_caller() -> None:
    assert run_on_loop(None, threading.current_thread) is threading.current_thread()
    idle = asyncio.new_event_loop()  # never run: it would never get to the call
    try:
        assert run_on_loop(idle, threading.current_thread) is threading.current_thread()
    finally:
        idle.close()
    closed = asyncio.new_event_loop()
    closed.close()
    assert run_on_loop(closed, threading.current_thread) is threading.current_thread()


def test_run_on_loop_gives_up_on_a_busy_loop(
    loop_thread: tuple[asyncio.AbstractEventLoop, threading.Thread],
) -> None:
    loop, _ = loop_thread
    release = threading.Event()
    loop.call_soon_threadsafe(release.wait, 5)  # the loop is stuck until released
    try:
        with pytest.raises(TimeoutError, match="did not answer"):
            run_on_loop(loop, lambda: None, timeout=0.3)
    finally:
        release.set()
