"""Every session test runs against every simulator profile (live, documented, chunked).

The client must be proven on how the service behaves and on how its docs
say it behaves, not on the one we wrote first. Tests build their simulators
with `tests.support.profiles.sim_config`, which reads the profile set here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import get_args

import pytest

from heygen_core.simulator.config import DEFAULT_PROFILE, SpeechProfile
from tests.support import profiles

PROFILES: tuple[SpeechProfile, ...] = get_args(SpeechProfile)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "speech_profile" not in metafunc.fixturenames:
        return
    chosen = (
        (DEFAULT_PROFILE,) if metafunc.definition.get_closest_marker("one_profile") else PROFILES
    )
    metafunc.parametrize("speech_profile", chosen, indirect=True, ids=[f"{p}" for p in chosen])


@pytest.fixture(autouse=True)
def speech_profile(request: pytest.FixtureRequest) -> Iterator[SpeechProfile]:
    profile: SpeechProfile = getattr(request, "param", DEFAULT_PROFILE)
    profiles.current = profile
    yield profile
    profiles.current = DEFAULT_PROFILE
