"""Closing under fire: a second cancellation during the stop, a cancel or timeout mid-create.

A session the library cannot stop must at least be named at ERROR; a session
the service created while nobody was waiting for its answer must still be
stopped. These run on the default simulator profile only: they are about the
REST lifecycle, which the speech profiles do not change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from heygen_core.errors import TransportError
from heygen_core.session import AvatarSession, OpenSessionRecord
from heygen_core.session import _service_lifecycle as service_lifecycle
from heygen_core.simulator import Simulator, SimulatorThread
from tests.support.profiles import sim_config

pytestmark = pytest.mark.one_profile

KEY = "sim-key"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(sim_config(connect_delay_seconds=0.05)) as simulator:
        yield simulator


async def until(condition: Callable[[], bool], limit: float = 10.0) -> None:
    """Poll the simulator's counters every millisecond (cancel points are a few ms apart)."""
    async with asyncio.timeout(limit):
        while not condition():  # noqa: ASYNC110 - no event to wait on: another thread counts
            await asyncio.sleep(0.001)


def errors_naming(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR
        and r.name.startswith("heygen_core")
        and text in r.getMessage()
    ]


# -- defect 1: a second cancellation while the stop is being retried ----------------------


@pytest.mark.parametrize("second_after", [0.05, 0.2, 0.4])
def test_a_second_ctrl_c_while_the_stop_is_retried_still_stops_or_names_the_session(
    second_after: float, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    # The stop answers 503 four times: every attempt of one stop call fails, so
    # the first stop is still being retried when the second Ctrl-C comes.
    random.seed(20240607)  # the retry backoff's jitter
    caplog.set_level(logging.INFO, logger="heygen_core")
    record = OpenSessionRecord(tmp_path)
    opened: list[AvatarSession] = []
    with SimulatorThread(sim_config(connect_delay_seconds=0.05)) as sim:
        sim.inject("stop_session", 503, 503, 503, 503)

        async def main() -> None:
            session = AvatarSession.live_avatar(
                api_key=KEY, base_url=sim.url, session_record=record
            )
            opened.append(session)
            entered = asyncio.Event()

            async def app() -> None:
                async with session:
                    entered.set()
                    await asyncio.sleep(60)

            task = asyncio.create_task(app())
            await asyncio.wait_for(entered.wait(), 10)
            # The first Ctrl-C: asyncio.run cancels the task, which closes the session.
            task.cancel()
            await until(lambda: sim.requests_by_operation["stop_session"] >= 1)
            await asyncio.sleep(second_after)
            assert sim.open_sessions() == 1  # the stop is still being retried
            # The second: asyncio.run's SIGINT handler raises KeyboardInterrupt,
            # and its teardown cancels every task left, the close's included.
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            asyncio.run(main())
        (session,) = opened
        assert session.session_id is not None
        stopped = sim.open_sessions() == 0
    reported = errors_naming(caplog, f"session {session.session_id} was not stopped")
    assert stopped or reported, "the session was left started and nothing said so"
    if stopped:
        assert record.entries() == []
    else:
        assert [e.session_id for e in record.entries()] == [session.session_id]


# A plain library user's script: asyncio.run and `async with`, nothing else.
_LIBRARY_USER = """
import asyncio, logging, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # see tests/support/interruptible.py
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
from heygen_core.session import AvatarSession

async def main():
    async with AvatarSession.live_avatar(api_key="sim-key", base_url=sys.argv[1]) as session:
        print("open", session.session_id, flush=True)
        await asyncio.sleep(60)

asyncio.run(main())
"""


@pytest.mark.slow
@pytest.mark.parametrize("second_after", [0.05, 0.4])
def test_a_real_double_ctrl_c_in_a_library_script_stops_or_names_the_session(
    second_after: float, tmp_path: Path
) -> None:
    with SimulatorThread(sim_config(connect_delay_seconds=0.05)) as sim:
        sim.inject("stop_session", 503, 503, 503, 503)
        proc = subprocess.Popen(
            [sys.executable, "-c", _LIBRARY_USER, sim.url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "HEYGEN_CORE_STATE_DIR": str(tmp_path)},
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("open "), line
            session_id = line.split()[1]
            proc.send_signal(signal.SIGINT)
            deadline = time.monotonic() + 10
            while sim.requests_by_operation["stop_session"] < 1:
                assert time.monotonic() < deadline
                time.sleep(0.001)
            time.sleep(second_after)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stopped = sim.open_sessions() == 0
    named = f"ERROR heygen_core.session session {session_id} was not stopped" in err
    assert stopped or named, err
    left = OpenSessionRecord(tmp_path).entries()
    assert [e.session_id for e in left] == ([] if stopped else [session_id])


async def test_a_stop_that_fails_names_the_session_at_error_and_keeps_it_recorded(
    sim: Simulator, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    record = OpenSessionRecord(tmp_path)
    sim.inject("stop_session", 400)  # not retried: the session stays open
    session = AvatarSession.live_avatar(api_key=KEY, base_url=sim.url, session_record=record)
    async with session:
        (entry,) = record.entries()
        assert entry.session_id == session.session_id and entry.api == "liveavatar"
    assert session.session_id is not None
    assert not session.stopped_cleanly and session.may_have_created
    assert errors_naming(caplog, f"session {session.session_id} was not stopped")
    assert [e.session_id for e in record.entries()] == [session.session_id]
    assert sim.open_sessions() == 1


async def test_a_clean_close_removes_the_session_from_the_record(
    sim: Simulator, tmp_path: Path
) -> None:
    record = OpenSessionRecord(tmp_path)
    session = AvatarSession.live_avatar(api_key=KEY, base_url=sim.url, session_record=record)
    async with session:
        (entry,) = record.entries()
        assert entry.base_url == sim.url
        assert session.session_token is not None
        assert (
            session.session_token
            not in (tmp_path / "open-sessions")
            .joinpath(f"liveavatar-{session.session_id}.json")
            .read_text()
        )
    assert session.stopped_cleanly and not session.may_have_created
    assert record.entries() == []


async def test_session_record_none_writes_nothing(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEYGEN_CORE_STATE_DIR", str(tmp_path))
    async with AvatarSession.live_avatar(api_key=KEY, base_url=sim.url, session_record=None):
        assert not (tmp_path / "open-sessions").exists()


async def test_the_default_record_is_the_state_directory(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEYGEN_CORE_STATE_DIR", str(tmp_path))
    record = OpenSessionRecord(tmp_path)
    async with AvatarSession.interactive_avatar(
        avatar_id="Wayne_20240711", api_key=KEY, base_url=sim.url
    ) as session:
        (entry,) = record.entries()
        assert (entry.api, entry.session_id) == ("streaming", session.session_id)
    assert record.entries() == []


# -- defect 2: cancel or timeout while the create request is in flight --------------------


@pytest.mark.parametrize("cancel_after", [0.001, 0.02, 0.3], ids=["1ms", "20ms", "mid-delay"])
async def test_cancel_while_the_token_request_is_in_flight_stops_the_session(
    sim: Simulator, caplog: pytest.LogCaptureFixture, cancel_after: float, tmp_path: Path
) -> None:
    caplog.set_level(logging.INFO, logger="heygen_core")
    sim.inject("create_session_token", ("delay", 0.6))  # issued at once, answered late
    session = AvatarSession.live_avatar(
        api_key=KEY, base_url=sim.url, session_record=OpenSessionRecord(tmp_path)
    )

    async def app() -> None:
        async with session:
            await asyncio.sleep(60)

    task = asyncio.create_task(app())
    # Cancel once the request has reached the service (it may have created a session).
    await until(lambda: sim.requests_by_operation["create_session_token"] == 1)
    await asyncio.sleep(cancel_after)
    assert session.session_id is None and session.may_have_created
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sim.open_sessions() == 0
    assert session.session_id is not None and session.stopped_cleanly
    assert not session.may_have_created
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("a session may have been created" in m for m in warnings)
    assert any(
        f"created session {session.session_id} after its caller stopped waiting" in r.getMessage()
        for r in caplog.records
    )
    assert OpenSessionRecord(tmp_path).entries() == []


def test_a_plain_cancel_1_to_10_ms_in_never_leaves_a_session() -> None:
    # No fault: the service answers at once, and each cancel races the
    # request (sent or not, answered or not). A sweep, in one simulator.
    leaked: list[float] = []
    with SimulatorThread(sim_config(connect_delay_seconds=0.05)) as sim:
        for step in range(1, 21):
            cancel_after = step * 0.0005

            async def main(cancel_after: float = cancel_after) -> AvatarSession:
                session = AvatarSession.live_avatar(api_key=KEY, base_url=sim.url)

                async def app() -> None:
                    async with session:
                        await asyncio.sleep(60)

                task = asyncio.create_task(app())
                await asyncio.sleep(cancel_after)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return session

            session = asyncio.run(main())
            if sim.open_sessions():
                leaked.append(cancel_after)
                break  # a leak counts against the per-key limit of the next trials
            assert not session.may_have_created
    assert leaked == []


async def test_a_token_timeout_still_stops_the_session_the_service_issued(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="heygen_core")
    sim.inject("create_session_token", ("delay", 3.0))
    session = AvatarSession.live_avatar(api_key=KEY, base_url=sim.url, timeout=1)
    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(TransportError, match="a session may have been created") as raised:
        async with session:
            pass
    assert raised.value.timed_out
    assert loop.time() - began < 5  # waited for the late answer, within its bound
    assert sim.open_sessions() == 0
    assert session.session_id is not None and session.stopped_cleanly
    assert not session.may_have_created


async def test_streaming_new_session_cancelled_mid_flight_is_stopped(sim: Simulator) -> None:
    sim.inject("new_session", ("delay", 0.5))
    session = AvatarSession.interactive_avatar(
        avatar_id="Wayne_20240711", api_key=KEY, base_url=sim.url
    )

    async def app() -> None:
        async with session:
            await asyncio.sleep(60)

    task = asyncio.create_task(app())
    await until(lambda: sim.requests_by_operation["new_session"] == 1)
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sim.open_sessions() == 0
    assert session.session_id is not None and not session.may_have_created


async def test_an_answer_that_never_comes_is_reported_with_how_to_find_the_session(
    sim: Simulator, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The wait for the answer is bounded (10 s); shortened here to keep the test fast.
    monkeypatch.setattr(service_lifecycle, "_CREATE_GRACE", 0.3)
    sim.inject("create_session_token", ("delay", 2.0))
    session = AvatarSession.live_avatar(api_key=KEY, base_url=sim.url, timeout=0.2)
    with pytest.raises(TransportError):
        async with session:
            pass
    assert sim.open_sessions() == 1  # issued; its answer was never seen
    assert session.session_id is None and session.may_have_created
    assert errors_naming(caplog, "a session may have been created and not stopped")
    assert errors_naming(caplog, "heygen-avatar sessions list")


async def test_a_refused_token_request_created_nothing(sim: Simulator) -> None:
    sim.inject("create_session_token", 409)
    session = AvatarSession.live_avatar(api_key=KEY, base_url=sim.url)
    with pytest.raises(Exception, match="409"):
        async with session:
            pass
    assert not session.may_have_created


async def test_an_unreachable_service_created_nothing() -> None:
    session = AvatarSession.live_avatar(api_key=KEY, base_url="http://127.0.0.1:9")
    with pytest.raises(TransportError):
        async with session:
            pass
    assert not session.may_have_created
