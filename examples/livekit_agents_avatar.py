"""A HeyGen avatar speaking for a LiveKit Agents `AgentSession`, offline against the simulator.

    python examples/livekit_agents_avatar.py

In a LiveKit worker, the avatar is two lines in your entrypoint (the same
as LiveKit's LiveAvatar plugin, with our import)::

    from heygen_core.livekit_agents import AvatarSession

    avatar = AvatarSession(avatar_id="...")  # key: HEYGEN_LIVE_AVATAR_API_KEY
    await avatar.start(session, room=ctx.room)  # LIVEKIT_URL / _API_KEY / _API_SECRET

Offline there is no LiveKit server: this runs LiveKit's own `AgentSession`
without room I/O, in a stand-in room that only has a name, and points the
avatar at the embedded simulator, which joins its avatar to that room and
plays the reply. `say` returns once the avatar has finished, and closing
the agent session stops the avatar session.
"""

from __future__ import annotations

import asyncio
import math
import sys
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

from livekit import rtc
from livekit.agents import Agent, AgentSession

from heygen_core.livekit_agents import AvatarSession
from heygen_core.simulator import Simulator, SimulatorConfig

RATE = 16_000  # a TTS's rate: the avatar's pump converts it to 24 kHz


class StandInRoom(rtc.Room):
    """The agent's room, as far as the avatar needs it: a name and the agent's identity."""

    @property
    def name(self) -> str:
        """The room the avatar joins."""
        return "example-room"

    @property
    def local_participant(self) -> Any:
        """The agent (the avatar publishes on its behalf)."""
        return SimpleNamespace(identity="example-agent")

    def isconnected(self) -> bool:
        """Connected (a worker's room is, by the time the avatar starts)."""
        return True


async def tts_frames(seconds: float) -> AsyncIterator[rtc.AudioFrame]:
    """Stand-in TTS output: a tone, in 20 ms frames."""
    step = RATE // 50
    samples = [
        int(8000 * math.sin(2 * math.pi * 220 * i / RATE)) for i in range(int(RATE * seconds))
    ]
    for start in range(0, len(samples), step):
        part = samples[start : start + step]
        data = b"".join(s.to_bytes(2, "little", signed=True) for s in part)
        yield rtc.AudioFrame(
            data=data, sample_rate=RATE, num_channels=1, samples_per_channel=len(part)
        )


async def main() -> int:
    """Speak one reply through the avatar; return 0 if it played and the session stopped."""
    async with Simulator(SimulatorConfig(connect_delay_seconds=0.2)) as sim:
        session: AgentSession[Any] = AgentSession()
        await session.start(Agent(instructions="Say hello."))
        avatar = AvatarSession(base_url=sim.url, api_key="simulator-key")
        await avatar.start(
            session,
            room=StandInRoom(),
            # The simulator's rooms; a worker reads LIVEKIT_URL and its key pair instead.
            livekit_url=sim.room_url,
            livekit_api_key="devkey",
            livekit_api_secret="devsecret-devsecret-devsecret-devsecret",
        )
        heygen = avatar.session
        assert heygen is not None and heygen.session_id is not None
        print(f"avatar session {heygen.session_id} is ready", flush=True)
        handle = session.say("Hello!", audio=tts_frames(1.0), add_to_chat_ctx=False)
        await asyncio.wait_for(handle.wait_for_playout(), 15.0)
        spoken = [
            w["event_id"] for _, k, w in sim.client_events(heygen.session_id) if k == "agent.speak"
        ]
        print(f"say returned: interrupted={handle.interrupted}")
        seconds = len(sim.received_audio(heygen.session_id)) / 48_000  # 24 kHz PCM16
        print(f"the avatar received {seconds:.2f} s of audio")
        print(f"event ids for the reply: {len(set(spoken))}")
        await session.aclose()  # the avatar session is stopped with it
        await avatar.aclose()
        print(f"session stopped: {heygen.stopped_cleanly}")
        return 0 if heygen.stopped_cleanly and not handle.interrupted else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
