"""Start-up cost: what `from heygen_core import AvatarSession` loads, in a fresh interpreter.

Behaviour, not speed (``make bench`` reports the milliseconds): the heavy
stacks are imported when first needed, so importing the session class loads
none of them, and building a session loads only its REST client's models
(pydantic and the generated models). aiohttp waits for the first request;
the socket (websockets), the audio stack (numpy, soxr), the room (livekit)
for `open` or a speak; the simulator and the CLI's dependencies (rich, jwt)
for an explicit import.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Loaded by none of the statements below: each is needed only once a session
# sends its first request, opens, speaks or joins its room, or by another
# entry point altogether.
NEVER_AT_START_UP = (
    "numpy",
    "soxr",
    "aiohttp",
    "websockets",
    "livekit",
    "rich",
    "jwt",
    "heygen_core.simulator",
    "heygen_core.audio",
    "heygen_core.media.room",
    "heygen_core.media.livekit",
    "heygen_core.realtime.connection",
)
# Not loaded by the import alone either: the REST client and its models,
# which building a session (its request, its client) does need.
CLIENT_STACK = ("pydantic", "heygen_models", "heygen_core.rest.transport")
# The realtime event models (~30 ms to build): the codec loads a protocol's
# models when it first decodes or encodes one of its events, after `open`.
EVENT_MODELS = ("heygen_models.lite", "heygen_models.full", "heygen_models.realtime_alpha")


def loaded_after(statement: str, watched: tuple[str, ...]) -> list[str]:
    """Which of `watched` (packages count with their submodules) a fresh interpreter loaded."""
    probe = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    modules = done.stdout.split()
    return [name for name in watched if any(m == name or m.startswith(name + ".") for m in modules)]


def test_the_probe_sees_a_heavy_import() -> None:
    # Guards the probe itself: an empty answer below must mean "not loaded".
    assert loaded_after("import numpy, websockets", NEVER_AT_START_UP) == ["numpy", "websockets"]
    client = "import heygen_core.rest.liveavatar_client"
    assert loaded_after(client, CLIENT_STACK) == list(CLIENT_STACK)


@pytest.mark.parametrize(
    "statement",
    [
        "from heygen_core import AvatarSession",
        "from heygen_core.session import AvatarSession",
        "import heygen_core.session",
    ],
)
def test_importing_the_session_class_loads_no_heavy_stack(statement: str) -> None:
    assert loaded_after(statement, NEVER_AT_START_UP + CLIENT_STACK) == []


@pytest.mark.parametrize(
    "build",
    [
        "AvatarSession.live_avatar(api_key='k')",
        "AvatarSession.live_avatar(api_key='k', mode='FULL')",
        "AvatarSession.interactive_avatar(api_key='k', avatar_id='a')",
    ],
)
def test_building_a_session_loads_only_its_rest_client(build: str) -> None:
    # Its request and client are built here (pydantic, the models); aiohttp is
    # the first request's, and the socket, audio and room stacks are `open`'s.
    statement = f"from heygen_core import AvatarSession\nsession = {build}"
    assert loaded_after(statement, NEVER_AT_START_UP + EVENT_MODELS) == []
    assert loaded_after(statement, CLIENT_STACK) == list(CLIENT_STACK)


def test_the_codec_loads_a_protocols_event_models_on_first_use() -> None:
    # Guards the probe for EVENT_MODELS: the first decode loads that
    # protocol's models, and only that protocol's (an unknown tag still
    # needs the union to tell it is unknown).
    statement = (
        "from heygen_core.protocol.codec import decode\n"
        "decode('{\"type\": \"no.such_event\"}', 'lite', 'server')"
    )
    assert loaded_after(statement, EVENT_MODELS) == ["heygen_models.lite"]
