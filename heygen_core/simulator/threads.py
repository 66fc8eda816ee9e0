"""Running simulator code on its own loop, whichever thread asks."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import time
from collections.abc import Callable
from typing import TypeVar, TypeVarTuple

Args = TypeVarTuple("Args")
T = TypeVar("T")

# How often a caller waiting on the loop checks that the loop still runs.
_POLL_SECONDS = 0.05


def call_on_loop(
    loop: asyncio.AbstractEventLoop | None,
    callback: Callable[[*Args], object],
    *args: *Args,
) -> None:
    """Run `callback(*args)` on `loop`: at once when already on it, else soon, thread-safely.

    Session ends may come from another thread (a test calling
    ``state.end``); on the loop itself they run directly, so what they send
    goes out before the answer of the REST call that caused them. Nothing
    happens when `loop` is None (the simulator is stopped) or closed.
    """
    if loop is None:
        return
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        callback(*args)
    else:
        with contextlib.suppress(RuntimeError):  # the loop already closed
            loop.call_soon_threadsafe(callback, *args)


def run_on_loop(
    loop: asyncio.AbstractEventLoop | None, call: Callable[[], T], timeout: float = 10.0
) -> T:
    """Return `call()` run on `loop`, waiting for it when asked from another thread.

    On the loop itself it runs at once (waiting there would deadlock). When
    `loop` is None, closed, or stops before getting to it, it runs in the
    caller's thread: a stopped simulator is still read after it stopped.
    Exceptions of `call` are raised here.

    Raises:
        TimeoutError: The loop is running but did not get to `call` in `timeout` seconds.
    """
    if loop is None or loop.is_closed():
        return call()
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        return call()
    result: concurrent.futures.Future[T] = concurrent.futures.Future()

    def run() -> None:
        if not result.set_running_or_notify_cancel():
            return  # the caller gave up and ran it itself
        try:
            result.set_result(call())
        except BaseException as exc:  # handed to the caller, which raises it
            result.set_exception(exc)

    try:
        loop.call_soon_threadsafe(run)
    except RuntimeError:  # closed meanwhile
        return call()
    deadline = time.monotonic() + timeout
    while not concurrent.futures.wait([result], timeout=_POLL_SECONDS).done:
        # A loop that stopped may never run what was scheduled; cancel()
        # succeeds only if it has not started, so it never runs twice.
        if not loop.is_running() and result.cancel():
            return call()
        if time.monotonic() > deadline:
            raise TimeoutError(f"the simulator's loop did not answer in {timeout} s")
    return result.result()
