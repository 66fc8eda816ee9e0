"""Stream TTS-style audio chunks to the avatar, then interrupt it half-way.

    python examples/streaming_interrupt.py

A text-to-speech engine hands out audio a piece at a time, faster than real
time. `speak()` takes such a stream (an async iterator of PCM chunks) and,
with ``wait=False``, returns at once while the audio goes out in the
background, paced in real time after a 3 s lead. Half-way through,
`interrupt()` stops the avatar: nothing more of that utterance is sent.

With HEYGEN_LIVE_AVATAR_API_KEY set it uses the real API (a sandbox
session); without it, the embedded simulator.
"""

from __future__ import annotations

import asyncio
import sys
import wave
from collections.abc import AsyncIterator

from heygen_models import lite

from heygen_core.protocol.renamed_fields import agent_state
from heygen_core.realtime.events import SessionEvent
from heygen_core.samples import speech_sample
from heygen_core.service_target import live_avatar_target
from heygen_core.session import AvatarSession

CHUNK_MS = 200  # what one TTS callback might deliver

# Nothing waits forever: how long the avatar may take to start speaking.
START_TIMEOUT = 30.0


def load_speech() -> tuple[bytes, int]:
    """The bundled sample, twice over (about 10 s): mono PCM16 and its rate."""
    with wave.open(str(speech_sample())) as wav:
        return wav.readframes(wav.getnframes()) * 2, wav.getframerate()


async def tts_chunks(pcm: bytes, rate: int) -> AsyncIterator[bytes]:
    """Pretend to be a TTS engine: yield 200 ms chunks, about ten times real time."""
    step = rate * 2 * CHUNK_MS // 1000
    for start in range(0, len(pcm), step):
        await asyncio.sleep(CHUNK_MS / 1000 / 10)
        yield pcm[start : start + step]


async def main() -> int:
    """Stream, interrupt half-way, and report what was sent; 0 if it was interrupted."""
    pcm, rate = load_speech()
    total = len(pcm) / 2 / rate
    started = asyncio.Event()

    def on_event(event: SessionEvent) -> None:
        # The avatar says it has started as documented (speak_started) or as
        # live sessions do (its state turns talking), and acknowledges the
        # interrupt as speak_interrupted or a cleared buffer.
        if isinstance(event, lite.AgentSpeakInterrupted | lite.AgentAudioBufferCleared):
            print(f"event: {event.type}", flush=True)
        talking = isinstance(event, lite.AgentSpeakStarted) or (
            isinstance(event, lite.AgentStateUpdated) and agent_state(event) == "talking"
        )
        if talking and not started.is_set():
            print("the avatar is talking", flush=True)
            started.set()

    # The real API when HEYGEN_LIVE_AVATAR_API_KEY is set, else an embedded simulator.
    async with live_avatar_target() as (base_url, api_key, _):
        session = AvatarSession.live_avatar(sandbox=True, base_url=base_url, api_key=api_key)
        session.on_event(on_event)
        async with session:
            result = await session.speak(tts_chunks(pcm, rate), sample_rate=rate, wait=False)
            print(f"streaming {total:.1f} s of speech", flush=True)
            await asyncio.wait_for(started.wait(), START_TIMEOUT)
            await asyncio.sleep(total / 2)  # let the avatar say about half of it
            await session.interrupt()
            statuses = await result.finished()
            sent = session.pump.stats.audio_seconds_sent
            print(f"interrupted after {total / 2:.1f} s of playback")
            print(f"sent {sent:.1f} s of {total:.1f} s")
            print(f"outcome: {','.join(statuses)}")
    return 0 if statuses == ("interrupted",) and sent < total else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
