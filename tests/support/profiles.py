"""The simulator profile the current session test runs against (tests/session/conftest.py)."""

from __future__ import annotations

from typing import Any

from heygen_core.simulator.config import DEFAULT_PROFILE, SimulatorConfig, SpeechProfile

current: SpeechProfile = DEFAULT_PROFILE
"""Set per test by the `speech_profile` fixture."""


def sim_config(**fields: Any) -> SimulatorConfig:
    """A `SimulatorConfig` with the current test's profile (and any other field given)."""
    return SimulatorConfig(profile=current, **fields)
