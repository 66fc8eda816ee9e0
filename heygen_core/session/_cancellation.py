"""Going on past a cancellation: what stops a billable session must not be cut short.

``asyncio.run``'s teardown (after a second Ctrl-C) cancels every task,
the close included. Leaving the room and stopping the session absorb a few
of those cancellations and go on, each within its own deadline, so a
session is stopped or reported on every path.
"""

from __future__ import annotations

import asyncio
import contextlib

MAX_ABSORBED_CANCELS = 3
"""Cancellations a bounded wait absorbs (each starts it again) before giving up."""


def absorb_cancellation() -> None:
    """Undo one pending cancellation of the current task (it goes on past it)."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


async def wait_absorbing(task: asyncio.Future[object], limit: float) -> None:
    """Wait up to `limit` seconds for `task`, past a few cancellations of the caller.

    Raises:
        asyncio.CancelledError: The caller was cancelled more than
            `MAX_ABSORBED_CANCELS` times.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    absorbed = 0
    while not task.done() and (remaining := deadline - loop.time()) > 0:
        try:
            await asyncio.wait({task}, timeout=remaining)
        except asyncio.CancelledError:
            absorbed += 1
            if absorbed > MAX_ABSORBED_CANCELS:
                raise
            absorb_cancellation()


async def wait_close(task: asyncio.Task[None]) -> None:
    """Wait for a close running in `task`, which the caller's cancellation does not stop.

    On the caller's first cancellation the wait goes on until the close is
    done (the close is bounded itself), then the cancellation is re-raised;
    a second cancellation stops only this wait.

    Raises:
        asyncio.CancelledError: The caller was cancelled.
        Exception: What the close raised.
    """
    try:
        # `wait` raises only when this caller is cancelled, never with the close's outcome.
        await asyncio.wait({task})
    except asyncio.CancelledError:
        # Keep stopping the billable session; then let cancellation go on.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait({task})
        raise
    if not task.cancelled() and (error := task.exception()) is not None:
        raise error
