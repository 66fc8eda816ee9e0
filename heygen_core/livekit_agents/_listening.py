"""The avatar's listening pose, following the agent's state (``agent_state_changed``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from heygen_core.errors import HeyGenError
from heygen_core.session import AvatarSession as HeyGenSession

logger = logging.getLogger("heygen_core.livekit_agents")


class ListeningFollower:
    """Sends start_listening / stop_listening as the agent starts and stops listening.

    Commands go out one at a time, in order, each within `timeout`; only
    the latest wish is sent (a burst of state changes sends what it ended
    on), and nothing is sent twice in a row.
    """

    def __init__(self, session: HeyGenSession, *, timeout: float) -> None:
        self._session = session
        self._timeout = timeout
        self._wanted: bool | None = None
        self._sent: bool | None = None
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="heygen-lk-listening")

    def follow(self, agent_state: str) -> None:
        """The agent is now in `agent_state`: listen in ``listening``, else not."""
        self._wanted = agent_state == "listening"
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._wanted is not None and self._wanted != self._sent:
                wanted = self._wanted
                command = self._session.start_listening if wanted else self._session.stop_listening
                try:
                    await asyncio.wait_for(command(), self._timeout)
                except (HeyGenError, TimeoutError) as exc:
                    # The pose is cosmetic: the conversation goes on without it.
                    logger.warning("the avatar's listening pose was not changed: %s", exc)
                # Marked sent even when it failed: a dead socket is not retried in a loop.
                self._sent = wanted

    async def aclose(self) -> None:
        """Stop following (nothing more is sent)."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
