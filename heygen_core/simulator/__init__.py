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

import importlib
from typing import TYPE_CHECKING

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
    # Hidden from mypy, so that a misspelled name is an error rather than `Any`.

    def __getattr__(name: str) -> object:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *_LAZY})
