"""Which LiveAvatar service to talk to: the one named, the real one, or a local simulator.

The command line and the examples share one rule, so a script written
against the simulator runs unchanged against HeyGen once a key is set:

1. an explicit base URL wins (a ``heygen-avatar simulator``, a proxy);
2. else, with ``HEYGEN_LIVE_AVATAR_API_KEY`` set, the real API;
3. else an embedded simulator, started in-process for the duration.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import NamedTuple

from heygen_core.rest.liveavatar_client import API_KEY_ENV
from heygen_core.rest.operations import api_spec

SIMULATOR_KEY = "simulator-key"
"""The key used against an in-process simulator (it accepts any non-empty key)."""


class ServiceTarget(NamedTuple):
    """Where a session goes.

    Attributes:
        base_url: The LiveAvatar API's base URL.
        api_key: The key to pass, or None to read ``HEYGEN_LIVE_AVATAR_API_KEY``.
        label: What to show the user: the URL, or ``"simulator"``.
    """

    base_url: str
    api_key: str | None
    label: str


@contextlib.asynccontextmanager
async def live_avatar_target(api_base: str | None = None) -> AsyncIterator[ServiceTarget]:
    """Yield the LiveAvatar service to use (see the module docstring for the rule).

    An embedded simulator is stopped when the block exits.
    """
    if api_base is not None:
        yield ServiceTarget(api_base, None, api_base)
        return
    if os.environ.get(API_KEY_ENV):
        real = api_spec("liveavatar").base_url
        yield ServiceTarget(real, None, real)
        return
    # Imported here: the simulator (an aiohttp server) is not needed otherwise.
    from heygen_core.simulator import Simulator

    async with Simulator() as sim:
        yield ServiceTarget(sim.url, SIMULATOR_KEY, "simulator")
