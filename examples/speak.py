"""Speak a WAV file through a LiveAvatar LITE session, printing the events as they arrive.

    python examples/speak.py [SPEECH.wav]

With HEYGEN_LIVE_AVATAR_API_KEY set it uses the real API (a free sandbox
session with the public sandbox avatar); without it, the embedded simulator
(offline, no key, no cost). With no file it speaks the bundled sample.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from heygen_core.realtime.events import SessionEvent
from heygen_core.samples import speech_sample
from heygen_core.service_target import live_avatar_target
from heygen_core.session import SANDBOX_AVATAR_ID, AvatarSession


def print_event(event: SessionEvent) -> None:
    """Print one event by its wire tag (or class, for the library's own events)."""
    tag = getattr(event, "type", None) or type(event).__name__
    print(f"event: {tag}", flush=True)


async def main(path: Path) -> int:
    """Speak `path` once; return 0 if the avatar finished it."""
    # The real API when HEYGEN_LIVE_AVATAR_API_KEY is set, else an embedded simulator.
    async with live_avatar_target() as (base_url, api_key, _):
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
