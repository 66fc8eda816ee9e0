"""Chat with a FULL-mode avatar in text: it speaks with its own voice and LLM.

    python examples/full_chat.py

FULL mode takes text, not audio: `speak_text` makes the avatar say exactly
what you give it, `speak_response` lets its LLM answer you and speak the
answer. The commands travel as data packets in the session's room, and the
service's events (transcripts, speak started/ended) come back the same way,
through `session.events()`.

With HEYGEN_LIVE_AVATAR_API_KEY set it uses the real API (a sandbox
session); without it, the embedded simulator, whose "LLM" answers
"You said: ..." (deterministic, for tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator

from heygen_models import full

from heygen_core.realtime.events import SessionEvent
from heygen_core.service_target import live_avatar_target
from heygen_core.session import AvatarSession

# How long one answer may take, start to end (an LLM plus its speech).
ANSWER_TIMEOUT = 60.0


async def print_transcripts(
    events: AsyncIterator[SessionEvent], turns: asyncio.Queue[None]
) -> None:
    """Print what each side says; put one item in `turns` each time the avatar finishes."""
    async for event in events:
        if isinstance(event, full.UserTranscription):
            print(f"you: {event.text}", flush=True)
        elif isinstance(event, full.AvatarTranscription):
            print(f"avatar: {event.text}", flush=True)
        elif isinstance(event, full.AvatarSpeakEnded):
            turns.put_nowait(None)


async def main() -> int:
    """Say a greeting, ask one question, print the transcripts; 0 when both were spoken."""
    # The real API when HEYGEN_LIVE_AVATAR_API_KEY is set, else an embedded simulator.
    async with live_avatar_target() as (base_url, api_key, _):
        session = AvatarSession.live_avatar(
            mode="FULL", sandbox=True, base_url=base_url, api_key=api_key
        )
        async with session:
            turns: asyncio.Queue[None] = asyncio.Queue()
            # Subscribe before sending, so no event of the first answer is missed.
            reader = asyncio.create_task(print_transcripts(session.events(), turns))
            try:
                await session.speak_text("Hello! Ask me anything.")
                await asyncio.wait_for(turns.get(), ANSWER_TIMEOUT)
                await session.speak_response("What can you do?")
                await asyncio.wait_for(turns.get(), ANSWER_TIMEOUT)
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
    print("done")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
