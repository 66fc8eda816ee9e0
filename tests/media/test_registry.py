"""The media registry: which MediaRoom implementation serves a room URL, by its scheme."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from heygen_core.errors import MediaError, MissingExtraError
from heygen_core.media.livekit import LiveKitRoom
from heygen_core.media.registry import open_room, register_room, room_schemes, unregister_room
from heygen_core.simulator.rooms.local_room import LocalRoom
from heygen_core.simulator.rooms.wire import LOCAL_SCHEME, room_url


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


class OwnRoom(LocalRoom):
    """A user's own implementation (a LocalRoom underneath, to have every method)."""


@pytest.fixture
def own_scheme() -> Iterator[str]:
    register_room("own-rtc", OwnRoom)
    yield "own-rtc"
    unregister_room("own-rtc")


def test_livekit_and_simulator_urls_get_their_implementations() -> None:
    for url in ("wss://example.livekit.cloud", "ws://127.0.0.1:7880", "https://x.livekit.cloud"):
        assert type(open_room(url)) is LiveKitRoom, url
    # The simulator's own URLs, as its sessions hand them out.
    assert type(open_room(room_url("127.0.0.1:1"))) is LocalRoom
    assert LOCAL_SCHEME in room_schemes()


def test_an_unknown_scheme_is_a_media_error_naming_the_known_ones() -> None:
    with pytest.raises(MediaError) as unknown:
        open_room("carrier-pigeon://coop/7")
    message = str(unknown.value)
    assert "'carrier-pigeon'" in message
    for scheme in ("wss", LOCAL_SCHEME):
        assert f"{scheme}://" in message
    assert "register_room" in message
    with pytest.raises(MediaError, match="without a scheme"):
        open_room("example.livekit.cloud")


def test_a_registered_scheme_is_served_and_can_be_withdrawn(own_scheme: str) -> None:
    assert type(open_room(f"{own_scheme}://media.example.com")) is OwnRoom
    assert type(open_room(f"{own_scheme.upper()}://media.example.com")) is OwnRoom
    assert own_scheme in room_schemes()
    unregister_room(own_scheme)
    assert own_scheme not in room_schemes()
    with pytest.raises(MediaError, match="own-rtc"):
        open_room(f"{own_scheme}://media.example.com")


def test_a_registered_scheme_wins_over_an_installed_one() -> None:
    register_room("wss", OwnRoom)
    try:
        assert type(open_room("wss://example.livekit.cloud")) is OwnRoom
    finally:
        unregister_room("wss")
    assert type(open_room("wss://example.livekit.cloud")) is LiveKitRoom


def test_a_factory_that_makes_no_media_room_is_refused() -> None:
    register_room("not-a-room", object)  # type: ignore[arg-type]
    try:
        with pytest.raises(MediaError, match="made a object, not a MediaRoom"):
            open_room("not-a-room://x")
    finally:
        unregister_room("not-a-room")


@pytest.mark.parametrize("scheme", ["", "9p", "we b", "wss:"])
def test_bad_schemes_cannot_be_registered(scheme: str) -> None:
    with pytest.raises(ValueError, match="not a URL scheme"):
        register_room(scheme, OwnRoom)


def test_the_interface_imports_no_implementation() -> None:
    done = run_python(
        "import json, sys\n"
        "import heygen_core.media.room\n"
        "print(json.dumps(sorted(m for m in sys.modules"
        " if m.startswith(('heygen_core', 'livekit')))))\n"
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert "heygen_core.media.room" in loaded
    for implementation in (
        "heygen_core.media.livekit",
        "heygen_core.media.registry",
        "heygen_core.simulator",
        "livekit",
    ):
        assert not any(m == implementation or m.startswith(implementation + ".") for m in loaded)


def test_without_the_media_extra_livekit_urls_say_which_extra_to_install() -> None:
    # livekit blocked as if not installed: LiveKit URLs fail with one line
    # naming the extra; the simulator's rooms (base install) still open.
    done = run_python(
        "import sys\n"
        "sys.modules['livekit'] = None\n"
        "sys.modules['livekit.rtc'] = None\n"
        "from heygen_core.errors import MissingExtraError\n"
        "from heygen_core.media.registry import open_room\n"
        f"print(type(open_room({room_url('127.0.0.1:1')!r})).__name__)\n"
        "try:\n"
        "    open_room('wss://example.livekit.cloud')\n"
        "except MissingExtraError as exc:\n"
        "    print(repr(str(exc)))\n"
    )
    assert done.returncode == 0, done.stderr
    local, message = done.stdout.splitlines()
    assert local == "LocalRoom"
    assert "heygen-core[media]" in message and "\\n" not in message
    assert issubclass(MissingExtraError, ImportError)
