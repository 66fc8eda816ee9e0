"""Drive ``livekit-plugins-liveavatar`` 1.8.9 against a HeyGen simulator.

Run with the peer's own interpreter (``.peers/livekit-plugin/bin/python``):

    drive.py BASE_URL AVATAR_ID CLIP_PATH

It goes through the plugin's public API only: ``AvatarSession.start``
(its ``LiveAvatarAPI`` mints the session token and starts the session
against ``BASE_URL/v1/sessions``, then its socket task connects to the
returned ``ws_url``), a pre-recorded clip spoken with ``AgentSession.say``
(which plays through the audio output the plugin installed, so the
plugin chunks it into ``agent.speak`` events and ends it with
``agent.speak_end``), ``SpeechHandle.wait_for_playout`` (which returns
only once the plugin saw the avatar finish), and ``AgentSession.aclose``
(on which the plugin stops the session over REST).

No LiveKit server runs offline, so two LiveKit pieces are stood in for:
the room is a ``rtc.Room`` that reports itself connected under a fixed
name and local identity (all the plugin reads of it), and the agent
session runs without a room, STT, LLM or TTS. Nothing of the plugin is
replaced.

Prints one JSON line: the audio output class the plugin installed, and
what the playout wait returned and when.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from livekit import rtc
from livekit.agents import Agent, AgentSession
from livekit.agents.utils import http_context
from livekit.plugins import liveavatar

SAMPLE_RATE = 24_000
# 20 ms frames, as a TTS would push them.
FRAME_SAMPLES = 480
ROOM_NAME = "peer-livekit-plugin"
LOCAL_IDENTITY = "agent-under-test"
# A generous bound: the clip plays in real time on the simulator.
PLAYOUT_TIMEOUT = 30.0


class OfflineRoom(rtc.Room):
    """A room that says it is connected: the plugin only reads its name and identity."""

    @property
    def name(self) -> str:
        """The room name sent in ``livekit_config``."""
        return ROOM_NAME

    @property
    def local_participant(self) -> Any:
        """The agent's identity (the plugin puts it in the avatar's token)."""
        return SimpleNamespace(identity=LOCAL_IDENTITY)

    def isconnected(self) -> bool:
        """Connected, so the plugin takes the local identity from this room."""
        return True


async def frames(pcm: bytes) -> AsyncIterator[rtc.AudioFrame]:
    """Yield `pcm` (24 kHz mono PCM16) as 20 ms frames."""
    step = FRAME_SAMPLES * 2
    for start in range(0, len(pcm), step):
        chunk = pcm[start : start + step]
        yield rtc.AudioFrame(
            data=chunk, sample_rate=SAMPLE_RATE, num_channels=1, samples_per_channel=len(chunk) // 2
        )


async def main(base_url: str, avatar_id: str, pcm: bytes) -> dict[str, Any]:
    """Run one session through the plugin speaking `pcm`; return what it reported."""
    report: dict[str, Any] = {}
    async with http_context.open():
        session = AgentSession()
        await session.start(Agent(instructions="Speak the clip."))
        avatar = liveavatar.AvatarSession(
            avatar_id=avatar_id,
            api_url=f"{base_url}/v1/sessions",
            api_key="peer-livekit-plugin-key",
        )
        await avatar.start(
            session,
            OfflineRoom(),
            livekit_url="wss://livekit.invalid",
            livekit_api_key="devkey",
            livekit_api_secret="devsecret-devsecret-devsecret-devsecret",
        )
        report["audio_output"] = type(session.output.audio).__name__
        handle = session.say("clip", audio=frames(pcm), add_to_chat_ctx=False)
        started = time.monotonic()
        try:
            await asyncio.wait_for(handle.wait_for_playout(), PLAYOUT_TIMEOUT)
            report["playout"] = "returned"
        except TimeoutError:
            report["playout"] = "timed out"
        report["playout_seconds"] = round(time.monotonic() - started, 3)
        report["interrupted"] = handle.interrupted
        await session.aclose()
        await avatar.aclose()
        # The plugin stops the session from its socket task once the agent
        # session closed; wait for that task (the plugin exposes no public
        # handle on it) rather than let asyncio.run cancel the stop.
        main_task = avatar._main_atask
        if main_task is not None:
            await asyncio.wait_for(main_task, 10.0)
    return report


if __name__ == "__main__":
    url, avatar, clip = sys.argv[1:4]
    print(json.dumps(asyncio.run(main(url, avatar, Path(clip).read_bytes()))), flush=True)
