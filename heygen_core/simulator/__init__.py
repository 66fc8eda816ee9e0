"""A local simulator of the LiveAvatar and Streaming APIs, for tests and demos.

It serves both REST APIs and the realtime WebSockets their sessions hand out
(the LITE ``ws_url`` and the alpha ``realtime_endpoint``), playing the audio
it is sent in real time and recording it for inspection.

::

    from heygen_core.simulator import Simulator, SimulatorConfig

    async with Simulator(SimulatorConfig(idle_timeout_seconds=1.0)) as sim:
        ...  # point a client at sim.url

`SimulatorThread` runs one in a background thread (for synchronous code), and
the ``heygen_simulator`` pytest fixture gives each test its own. The package
imports aiohttp only when `Simulator` or `SimulatorThread` is first used, so
the pytest plugin stays cheap to load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from heygen_core.simulator.config import SimulatorConfig

if TYPE_CHECKING:
    from heygen_core.simulator.server import Simulator, SimulatorThread

__all__ = ["Simulator", "SimulatorConfig", "SimulatorThread"]


def __getattr__(name: str) -> Any:
    if name in ("Simulator", "SimulatorThread"):
        from heygen_core.simulator import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
