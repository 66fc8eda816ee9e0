"""What is still unresolved about each session when the process exits, logged at ERROR then.

A created session not seen stopped, or a create request not answered.
Paths that cannot log themselves (the loop closed with the close pending,
a third Ctrl-C during ``asyncio.run``'s teardown) end here, so no session
is left unreported.
"""

from __future__ import annotations

import atexit
import itertools
import logging

logger = logging.getLogger("heygen_core.session")

# One message per unresolved session, keyed by its `ExitNotice`.
_unresolved: dict[int, str] = {}
_keys = itertools.count()


@atexit.register
def _report_unresolved_at_exit() -> None:
    for message in list(_unresolved.values()):
        logger.error("%s", message)
    _unresolved.clear()


class ExitNotice:
    """One session's line in the report made at exit: set while unresolved, cleared once not."""

    def __init__(self) -> None:
        self._key = next(_keys)

    def set(self, message: str) -> None:
        """Log `message` at ERROR if the process exits before `clear` (replaces the last one)."""
        _unresolved[self._key] = message

    def clear(self) -> None:
        """Nothing is left to report: the session was stopped, or its outcome already logged."""
        _unresolved.pop(self._key, None)
