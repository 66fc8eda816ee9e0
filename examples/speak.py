"""Speak a WAV file through a LiveAvatar LITE session, printing the events as they arrive.

    python examples/speak.py [SPEECH.wav]

With HEYGEN_LIVE_AVATAR_API_KEY set it uses the real API (a free sandbox
session with the public sandbox avatar); without it, the embedded simulator
(offline, no key, no cost). With no file it speaks the bundled sample.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from heygen_core.realtime import Event
from heygen_core.samples import speech_sample
from heygen_core.session import SANDBOX_AVATAR_ID, AvatarSession
from heygen_core.simulator import Simulator


@contextlib.asynccontextmanager
async def service() -> AsyncIterator[tuple[str | None, str | None]]:
    """Yield (base URL, API key): the real API's (key set) or a simulator's."""
    if os.environ.get("HEYGEN_LIVE_AVATAR_API_KEY"):
        yield None, None  # the real API; the key is read from the environment
        return
    async with Simulator() as sim:  # any non-empty key works against it
        yield sim.url, "simulator"


def print_event(event: Event) -> None:
    """Print one event by its wire tag (or class, for the library's own events)."""
    tag = getattr(event, "type", None) or type(event).__name__
    print(f"event: {tag}", flush=True)


async def main(path: Path) -> int:
    """Speak `path` once; return 0 if the avatar finished it."""
    async with service() as (base_url, api_key):
        session = AvatarSession.live_avatar(
            avatar_id=SANDBOX_AVATAR_ID, sandbox=True, base_url=base_url, api_key=api_key
        )
        session.on_event(print_event)  # registered before entering: sees the first events
        async with session:  # creates, starts and connects; stops the session on every exit
            print(f"session {session.session_id} is ready", flush=True)
            result = await session.speak(path)  # returns when the avatar has finished
            statuses = await result.finished()
            print(f"sent {session.pump.stats.audio_seconds_sent:.2f} s of audio")
            print(f"outcome: {','.join(statuses)}")
    print(f"session stopped: {session.stopped_cleanly}")
    return 0 if statuses == ("ended",) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else speech_sample())))
