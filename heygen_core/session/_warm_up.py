"""The first `open` in a process imports its stacks in a worker thread, not on the event loop.

`from heygen_core import AvatarSession` loads none of the heavy stacks; a
session imports them when it first needs them. Imported on the event loop,
they would stall it: aiohttp, websockets and the socket's models,
numpy and soxr take 200 to 350 ms together on the machine `make bench`
runs on, and every other task of the loop (sessions already speaking, a
voice pipeline's audio) waits that long. Imported in a thread, they let the
loop run between the interpreter's switches (every 5 ms); the session then
finds them loaded.

Opens that come while a warm-up runs wait for that same warm-up; a module a
warm-up could not import is left to the session's own import, which raises
the error a user should see (a missing extra, for example).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import sys
import threading
from collections.abc import Sequence

__all__ = ["LITE_STACK", "ROOM_STACK", "warm_up"]

LITE_STACK = ("aiohttp", "heygen_core.session._lite_driver", "heygen_core.audio.convert")
"""What a LITE session imports: REST (aiohttp), its socket and pump, and the audio stack."""

ROOM_STACK = ("heygen_core.media.registry", "heygen_core.session._full_driver")
"""What joining the session's room adds (FULL mode, connectors, media)."""

_lock = threading.Lock()
# Per module: the warm-up that imports it, once started (process-wide, as
# sys.modules is; a concurrent future, so any loop can wait for it).
_started: dict[str, concurrent.futures.Future[None]] = {}


def _import_all(names: Sequence[str], done: concurrent.futures.Future[None]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:
            continue  # the session's own import raises it again, where it belongs
    done.set_result(None)


async def warm_up(modules: Sequence[str]) -> None:
    """Import `modules` in a worker thread, unless loaded or being loaded; wait until done."""
    waits: set[concurrent.futures.Future[None]] = set()
    with _lock:
        todo = [name for name in modules if name not in sys.modules and name not in _started]
        if todo:
            done: concurrent.futures.Future[None] = concurrent.futures.Future()
            for name in todo:
                _started[name] = done
            # A daemon thread: an interpreter exiting mid-import need not wait for it.
            threading.Thread(
                target=_import_all, args=(todo, done), name="heygen-warm-up", daemon=True
            ).start()
        waits = {_started[name] for name in modules if name in _started}
    for future in waits:
        if not future.done():
            # Shielded: one open given up on does not stop the others' wait.
            await asyncio.shield(asyncio.wrap_future(future))
