"""Which `MediaRoom` implementation serves a room URL, looked up by its scheme.

A session hands out its room as a URL (``livekit_url``); the scheme says
which implementation can join it. Implementations are found two ways:

- installed packages declare them as entry points of the group
  ``heygen_core.media_rooms``: the name is the URL scheme, the value a
  ``module:Class`` whose no-argument call makes an unconnected room.
  heygen-core declares its own this way (LiveKit's schemes and the embedded
  simulator's), so this module knows none of them;
- `register_room` adds one at run time (it wins over an entry point of the
  same scheme), for code that is not an installed package::

      register_room("myrtc", MyRoom)
      room = open_room("myrtc://media.example.com")
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from urllib.parse import urlsplit

from heygen_core.errors import MediaError
from heygen_core.media.room import MediaRoom

ENTRY_POINT_GROUP = "heygen_core.media_rooms"
"""Entry-point group of `MediaRoom` implementations (name: URL scheme, value: ``module:Class``)."""

RoomFactory = Callable[[], MediaRoom]
"""Makes an unconnected room (a `MediaRoom` subclass itself will do)."""

_registered: dict[str, RoomFactory] = {}
_lock = threading.Lock()


def register_room(scheme: str, factory: RoomFactory) -> None:
    """Make `open_room` serve URLs of `scheme` with rooms `factory` makes.

    Args:
        scheme: A URL scheme (``myrtc`` for ``myrtc://...``), case-insensitive.
        factory: Called with no arguments for each room; a `MediaRoom`
            subclass will do.

    Raises:
        ValueError: `scheme` is not a valid URL scheme.
    """
    name = scheme.lower()
    # What urlsplit would recognise as a scheme: a letter, then letters,
    # digits, '+', '-' or '.'.
    if not name or not name[0].isascii() or not name[0].isalpha():
        raise ValueError(f"not a URL scheme: {scheme!r}")
    if not all(c.isascii() and (c.isalnum() or c in "+-.") for c in name):
        raise ValueError(f"not a URL scheme: {scheme!r}")
    with _lock:
        _registered[name] = factory


def unregister_room(scheme: str) -> None:
    """Forget a scheme `register_room` added (entry points are untouched); no error if absent."""
    with _lock:
        _registered.pop(scheme.lower(), None)


def room_schemes() -> tuple[str, ...]:
    """Every URL scheme a room can be opened for, sorted."""
    with _lock:
        registered = set(_registered)
    return tuple(sorted(registered | set(_entry_points())))


def open_room(url: str) -> MediaRoom:
    """Return an unconnected room able to join `url` (a session's ``livekit_url``).

    Raises:
        MediaError: No implementation serves the URL's scheme (the message
            lists those that do), or the implementation made no `MediaRoom`.
        MissingExtraError: The implementation needs an extra that is not
            installed (LiveKit rooms: ``heygen-core[media]``).
    """
    scheme = urlsplit(url).scheme
    with _lock:
        factory = _registered.get(scheme)
    if factory is None:
        entry = _entry_points().get(scheme) if scheme else None
        if entry is None:
            known = ", ".join(f"{name}://" for name in room_schemes()) or "none"
            what = f"scheme {scheme!r}" if scheme else "a URL without a scheme"
            raise MediaError(
                f"no media room implementation for {what} (known: {known}); "
                "register one with heygen_core.media.registry.register_room"
            )
        factory = entry.load()
    room = factory()
    if not isinstance(room, MediaRoom):
        raise MediaError(
            f"the room implementation for {scheme}:// made a {type(room).__name__}, not a MediaRoom"
        )
    return room


def _entry_points() -> dict[str, EntryPoint]:
    # Read on each call, not cached: it is a scan of installed metadata, done
    # once per session, and a package installed meanwhile is then seen.
    found: dict[str, EntryPoint] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        # The first declaration of a scheme wins, as `sys.path` order decides.
        found.setdefault(entry.name.lower(), entry)
    return found
