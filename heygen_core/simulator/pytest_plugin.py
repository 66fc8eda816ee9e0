"""The ``heygen_simulator`` pytest fixture (registered as a ``pytest11`` plugin).

Each test that asks for ``heygen_simulator`` gets a fresh simulator running
in a background thread, so it works in plain synchronous tests and in async
tests alike, without pytest-asyncio. Override ``heygen_simulator_config`` to
change its limits::

    @pytest.fixture
    def heygen_simulator_config():
        return SimulatorConfig(api_key="test-key", idle_timeout_seconds=1.0)

    def test_token(heygen_simulator):
        url = heygen_simulator.liveavatar_url

Nothing heavy is imported when pytest loads the plugin: the simulator (and
aiohttp) are imported when a test first uses the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from heygen_core.simulator.config import SimulatorConfig
    from heygen_core.simulator.server import SimulatorThread


@pytest.fixture
def heygen_simulator_config() -> SimulatorConfig:
    """The `SimulatorConfig` of ``heygen_simulator``; override it to change limits."""
    from heygen_core.simulator.config import SimulatorConfig

    return SimulatorConfig()


@pytest.fixture
def heygen_simulator(heygen_simulator_config: SimulatorConfig) -> Iterator[SimulatorThread]:
    """A running simulator of both APIs (thread-backed), stopped after the test."""
    from heygen_core.simulator.server import SimulatorThread

    with SimulatorThread(heygen_simulator_config) as simulator:
        yield simulator
