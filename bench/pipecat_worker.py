"""Pipecat's own HeyGen audio path, timed; run by bench_pump.py with .bench/pipecat/bin/python.

This runs Pipecat 1.14's REAL objects (pipecat/services/heygen/): a
`HeyGenVideoService` and its `HeyGenClient`, wired as the service's `setup()`
wires them, minus the network: the client's websocket is a sink, and pacing
is off (the client's own "first 3 s are not paced" rule is made to hold for
the whole utterance by starting its counter far below zero; its bookkeeping
still runs). What is timed is the service's audio send path exactly as
Pipecat runs it:

- `_handle_audio_frame` puts each `TTSAudioRawFrame` on the service's queue
  (what the pipeline does per TTS frame); all frames go on it at once, like a
  TTS faster than real time (our pump's iterator never waits either);
- `_send_task_handler`: per frame `asyncio.wait_for(queue.get(), 0.35)`, the
  stream resampler (`SOXRStreamAudioResampler`, soxr VHQ), the 400 ms first
  chunk and 1 s chunks with their slice copies, then per chunk
  `HeyGenClient.agent_speak` (base64, a dict, `json.dumps`, the socket send),
  and `agent_speak_end` once the queue stays empty for 0.35 s (idle wall
  time, which costs no CPU).

Protocol: one JSON request per stdin line, ``{"pcm": path, "rate": hz}`` (the
file holds the int16 signal, written by bench_pump.py so both sides get the
same input), one JSON answer per stdout line: CPU ms (process_time) and what
was sent. A line ``{"info": true}`` answers with the versions.
"""

from __future__ import annotations

import asyncio
import json
import platform
import sys
import time
from contextlib import suppress
from importlib.metadata import version
from typing import Any

import numpy as np
from _common import FRAME_MS, SinkSocket, frames, machine
from loguru import logger
from pipecat.frames.frames import TTSAudioRawFrame
from pipecat.services.heygen.client import HEY_GEN_SAMPLE_RATE, HeyGenCallbacks, HeyGenClient
from pipecat.services.heygen.video import HeyGenVideoService
from pipecat.transports.base_transport import TransportParams

logger.remove()  # Pipecat logs every session step; the bench reads stdout


async def _nothing(*_: Any) -> None:
    return None


def build(sink: SinkSocket) -> HeyGenVideoService:
    """The service and client as `HeyGenVideoService.setup()` builds them, without connecting."""
    service = HeyGenVideoService(api_key="bench", session=None)  # type: ignore[arg-type]
    # setup()'s own chunk sizes (400 ms first chunk, then 1 s).
    service._first_chunk_size = int(HEY_GEN_SAMPLE_RATE * 2 * 0.4)
    service._chunk_size = int(HEY_GEN_SAMPLE_RATE * 2 * 1.0)
    client = HeyGenClient(
        api_key="bench",
        session=None,  # type: ignore[arg-type]
        params=TransportParams(
            audio_in_sample_rate=48000,
            audio_in_enabled=True,
            video_in_enabled=True,
            audio_out_enabled=True,
            audio_out_sample_rate=HEY_GEN_SAMPLE_RATE,
        ),
        callbacks=HeyGenCallbacks(
            on_connected=_nothing,
            on_participant_connected=_nothing,
            on_participant_disconnected=_nothing,
        ),
        connect_as_user=True,
    )
    # What setup() and _ws_connect() would set, with the sink as the socket.
    client._out_sample_rate = HEY_GEN_SAMPLE_RATE
    client._in_sample_rate = 48000
    client._websocket = sink
    client._connected = True
    # Pacing off: the client skips its sleep while under 3 s sent.
    client._audio_seconds_sent = -1e12
    service._client = client
    service._queue = asyncio.Queue()
    return service


async def run(pcm: bytes, rate: int, keep: bool) -> dict[str, Any]:
    signal = np.frombuffer(pcm, np.int16)
    tts = [
        TTSAudioRawFrame(audio=f.tobytes(), sample_rate=rate, num_channels=1, context_id="c")
        for f in frames(signal, rate)
    ]
    sink = SinkSocket(keep=keep, watch=("agent.speak_end",))
    service = build(sink)
    ended = asyncio.Event()
    original_send = sink.send

    async def send(data: str) -> None:
        await original_send(data)
        if sink.arrived("agent.speak_end"):
            ended.set()

    sink.send = send  # type: ignore[method-assign]
    start = time.process_time()
    task = asyncio.create_task(service._send_task_handler())
    for frame in tts:
        await service._handle_audio_frame(frame)
    await ended.wait()
    cpu = time.process_time() - start
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
    result: dict[str, Any] = {"cpu_s": cpu, "frames": len(tts), "messages": sink.count}
    if keep:
        result["audio_bytes"] = len(sink.audio())
        result["first_chunk_bytes"] = len(_first_audio(sink))
    return result


def _first_audio(sink: SinkSocket) -> bytes:
    import base64

    for data in sink.frames:
        message = json.loads(data)
        if message["type"] == "agent.speak":
            return base64.b64decode(message["audio"])
    return b""


def main() -> int:
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("info"):
            answer: dict[str, Any] = {
                "machine": machine(),
                "pipecat": version("pipecat-ai"),
                "soxr": version("soxr"),
                "frame_ms": FRAME_MS,
                "python": platform.python_version(),
            }
        else:
            with open(request["pcm"], "rb") as f:
                pcm = f.read()
            answer = asyncio.run(run(pcm, request["rate"], request.get("keep", False)))
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
