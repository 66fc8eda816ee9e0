"""A Pipecat pipeline with heygen-core's drop-in HeyGenVideoService (extra ``pipecat``).

    python examples/pipecat_video_service.py

The one change from a Pipecat pipeline is the import::

    # from pipecat.services.heygen.video import HeyGenVideoService
    from heygen_core.pipecat import HeyGenVideoService

A stand-in TTS pushes 2 s of speech (the bundled sample) the moment the
pipeline starts, as a bot's greeting would. The service holds it until the
session is ready (Pipecat's own drops it), the avatar says it, and its
voice and video come back down the pipeline; the EndFrame stops the session.

With HEYGEN_LIVE_AVATAR_API_KEY set it uses the real API (a free sandbox
session); without it, the embedded simulator (offline, no key, no cost).
"""

from __future__ import annotations

import asyncio
import sys
import wave

import aiohttp
from pipecat.frames.frames import (
    EndFrame,
    Frame,
    OutputAudioRawFrame,
    OutputImageRawFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.services.heygen.api_liveavatar import LiveAvatarNewSessionRequest
from pipecat.workers.runner import WorkerRunner

from heygen_core.pipecat import HeyGenVideoService
from heygen_core.samples import speech_sample
from heygen_core.service_target import live_avatar_target
from heygen_core.session import SANDBOX_AVATAR_ID

GREETING_SECONDS = 2.0
FRAME_MS = 20  # what a TTS service hands out per frame
START_TIMEOUT = 10.0  # nothing waits forever


def greeting() -> list[Frame]:
    """The first 2 s of the bundled sample as one TTS turn of 20 ms frames."""
    with wave.open(str(speech_sample())) as wav:
        rate = wav.getframerate()
        pcm = wav.readframes(int(rate * GREETING_SECONDS))
    step = rate * 2 * FRAME_MS // 1000
    audio = [
        TTSAudioRawFrame(audio=pcm[i : i + step], sample_rate=rate, num_channels=1)
        for i in range(0, len(pcm), step)
    ]
    return [TTSStartedFrame(), *audio, TTSStoppedFrame()]


class AvatarOutput(FrameProcessor):
    """Where an output transport would be: counts the avatar's voice and video."""

    def __init__(self) -> None:
        super().__init__()
        self.voice_seconds = 0.0
        self.video_frames = 0

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Count the avatar's frames and pass everything on."""
        await super().process_frame(frame, direction)
        if isinstance(frame, OutputAudioRawFrame):
            self.voice_seconds += len(frame.audio) / 2 / frame.sample_rate
        elif isinstance(frame, OutputImageRawFrame):
            self.video_frames += 1
        await self.push_frame(frame, direction)


async def main() -> int:
    """Run the greeting through the avatar; 0 if all of it reached the avatar."""
    async with (
        live_avatar_target() as (base_url, api_key, _),
        aiohttp.ClientSession() as http,
    ):
        avatar = HeyGenVideoService(
            api_key=api_key or "",  # empty: HEYGEN_LIVE_AVATAR_API_KEY
            session=http,
            session_request=LiveAvatarNewSessionRequest(
                avatar_id=SANDBOX_AVATAR_ID, is_sandbox=True
            ),
            base_url=base_url,  # the only argument Pipecat's class does not take
            end_timeout=10.0,
        )
        output = AvatarOutput()
        worker = PipelineWorker(Pipeline([avatar, output]), cancel_on_idle_timeout=False)
        started = asyncio.Event()

        async def on_pipeline_started(_worker: PipelineWorker, _frame: Frame) -> None:
            started.set()

        # add_event_handler rather than the decorator, which Pipecat leaves untyped.
        worker.add_event_handler("on_pipeline_started", on_pipeline_started)

        async def speak() -> None:
            await asyncio.wait_for(started.wait(), START_TIMEOUT)
            print("pipeline started: the TTS greeting goes out at once", flush=True)
            await worker.queue_frames([*greeting(), EndFrame()])

        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(worker)
        await asyncio.gather(runner.run(), speak())

        session = avatar.avatar_session
        if session is None:
            print("the session did not open")
            return 1
        print(f"session {session.session_id} stopped: {session.stopped_cleanly}")
        print(f"avatar voice: {output.voice_seconds:.1f} s, video: {output.video_frames} frames")
    return 0 if session.stopped_cleanly and output.video_frames > 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
