"""Running simulator code on its own loop, whichever thread asks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TypeVarTuple

Args = TypeVarTuple("Args")


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
