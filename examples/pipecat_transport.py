"""A Pipecat pipeline on heygen-core's drop-in HeyGenTransport (extra ``pipecat``).

    python examples/pipecat_transport.py

The one change from a Pipecat pipeline is the import::

    # from pipecat.transports.heygen.transport import HeyGenTransport
    from heygen_core.pipecat import HeyGenTransport

The bot joins the avatar's room: ``transport.input()`` yields what the users
say, ``transport.output()`` sends the bot's TTS audio to the avatar. Here a
stand-in bot answers each user who joins with a short tone, and a simulated
user, alice, joins the room, talks for half a second and leaves. Only real
users are reported: the avatar (``heygen``) never is.

It always runs against the embedded simulator (offline, no key, no cost):
alice joins with a room token only the simulator can mint.
"""

from __future__ import annotations

import asyncio
import math
import struct
import sys

import aiohttp
from pipecat.frames.frames import (
    EndFrame,
    Frame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    UserAudioRawFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.services.heygen.api_liveavatar import LiveAvatarNewSessionRequest
from pipecat.workers.runner import WorkerRunner

from heygen_core.pipecat import HeyGenTransport
from heygen_core.session import SANDBOX_AVATAR_ID
from heygen_core.simulator import Simulator, SimulatorConfig
from heygen_core.simulator.rooms.local_room import LocalRoom

RATE = 24_000
TIMEOUT = 10.0  # nothing waits forever


def beep(seconds: float, rate: int = RATE) -> bytes:
    """A 440 Hz tone, mono PCM16."""
    return b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(rate * seconds))
    )


class Listener(FrameProcessor):
    """Where speech-to-text would be: adds up what each user said."""

    def __init__(self) -> None:
        super().__init__()
        self.heard: dict[str, float] = {}

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Count each user's audio and pass everything on."""
        await super().process_frame(frame, direction)
        if isinstance(frame, UserAudioRawFrame):
            seconds = len(frame.audio) / 2 / frame.sample_rate
            self.heard[frame.user_id] = self.heard.get(frame.user_id, 0.0) + seconds
        await self.push_frame(frame, direction)


async def alice(sim: Simulator, transport: HeyGenTransport) -> None:
    """A user: joins the avatar's room once the session is up, talks 0.5 s, leaves."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while (session := transport.avatar_session) is None or session.session_id is None:
        if loop.time() > deadline:
            raise TimeoutError("the session did not open")
        await asyncio.sleep(0.05)
    room = LocalRoom()
    await room.connect(sim.room_url, sim.room_token(session.session_id, "alice"))
    await room.publish_audio(beep(0.5, 16_000), 16_000)
    await asyncio.sleep(0.5)
    await room.disconnect()


async def main() -> int:
    """Run the conversation; 0 if alice was heard and answered."""
    async with (
        Simulator(SimulatorConfig(connect_delay_seconds=0.3)) as sim,
        aiohttp.ClientSession() as http,
    ):
        transport = HeyGenTransport(
            http,
            "any-key",  # the simulator takes any non-empty key
            session_request=LiveAvatarNewSessionRequest(
                avatar_id=SANDBOX_AVATAR_ID, is_sandbox=True
            ),
            base_url=sim.url,  # the only argument Pipecat's class does not take
            end_timeout=5.0,
        )
        listener = Listener()
        worker = PipelineWorker(
            Pipeline([transport.input(), listener, transport.output()]),
            cancel_on_idle_timeout=False,
        )
        left = asyncio.Event()

        async def on_client_connected(_transport: HeyGenTransport, participant: str) -> None:
            print(f"client connected: {participant}", flush=True)
            # The bot answers at once: a TTS turn straight to the avatar.
            answer = TTSAudioRawFrame(audio=beep(1.0), sample_rate=RATE, num_channels=1)
            await worker.queue_frames([TTSStartedFrame(), answer, TTSStoppedFrame()])

        # add_event_handler rather than the decorator, which Pipecat leaves untyped.
        transport.add_event_handler("on_client_connected", on_client_connected)

        async def on_client_disconnected(_transport: HeyGenTransport, participant: str) -> None:
            print(f"client disconnected: {participant}", flush=True)
            left.set()

        transport.add_event_handler("on_client_disconnected", on_client_disconnected)

        async def end_when_alice_left() -> None:
            await asyncio.wait_for(left.wait(), TIMEOUT)
            await asyncio.sleep(1.0)  # the bot's answer plays out
            await worker.queue_frame(EndFrame())

        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(worker)
        await asyncio.gather(runner.run(), alice(sim, transport), end_when_alice_left())

        session = transport.avatar_session
        assert session is not None and session.session_id is not None
        answered = len(sim.received_audio(session.session_id)) / 2 / RATE
        for user, seconds in listener.heard.items():
            print(f"heard {user}: {seconds:.1f} s")
        print(f"the avatar said the bot's answer: {answered:.1f} s")
        print(f"session stopped: {session.stopped_cleanly}")
    return 0 if listener.heard.get("alice", 0) > 0.3 and answered >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
