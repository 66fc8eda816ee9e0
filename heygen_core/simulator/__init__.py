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
imports its parts (and aiohttp, pydantic) only when a name is first used, so
the pytest plugin stays cheap to load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heygen_core._lazy import lazy_exports

if TYPE_CHECKING:
    # The real names for mypy; at run time `__getattr__` imports them on first
    # use. Even `SimulatorConfig` waits: its module imports the generated
    # models (pydantic), which the pytest plugin must not load at pytest start.
    from heygen_core.simulator.config import SimulatorConfig
    from heygen_core.simulator.server import Simulator, SimulatorThread

__all__ = ["Simulator", "SimulatorConfig", "SimulatorThread"]

_LAZY: dict[str, str] = {
    "Simulator": "heygen_core.simulator.server",
    "SimulatorConfig": "heygen_core.simulator.config",
    "SimulatorThread": "heygen_core.simulator.server",
}

if not TYPE_CHECKING:
    # Run time only: mypy sees the TYPE_CHECKING imports above instead, so a
    # misspelled import is an error rather than `Any`.
    __getattr__, __dir__ = lazy_exports(globals(), _LAZY)
