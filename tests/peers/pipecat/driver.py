"""Drive Pipecat 1.14's HeyGen clients against a heygen-core simulator.

Run with the peer's own interpreter (``.peers/pipecat/bin/python``), never
heygen-core's: this script imports only Pipecat and its dependencies, and
calls only their public constructors and methods.

    driver.py BASE_URL EARLY_PCM LATE_PCM

``EARLY_PCM`` and ``LATE_PCM`` are raw 24 kHz mono PCM16 files (what
Pipecat's ``HeyGenClient.agent_speak`` takes). The driver:

1. ``LiveAvatarApi``: ``create_session_token``, ``start_session`` and
   ``stop_session`` called directly (LITE, no socket).
2. ``HeyGenClient`` (LiveAvatar, Pipecat's default request): ``setup``
   (token, start, socket), then speaks ``EARLY_PCM`` at once, as a bot's
   greeting would. Pipecat does not wait for the service's ``connected``
   state before sending, so the service drops that audio. Once Pipecat has
   logged ``connected``, it speaks ``LATE_PCM``, which is delivered; then
   ``stop`` (socket closed, session stopped).
3. ``HeyGenApi`` (Streaming): ``create_token``, ``new_session`` (which also
   calls ``streaming.start``) and ``close_session``.

It prints one JSON object per line on stdout (``{"step": ..., ...}``) for
the test to check against what the simulator saw.

Pipecat hard-codes its base URLs (``LiveAvatarApi.BASE_URL``,
``HeyGenApi.BASE_URL``) and ``HeyGenClient`` builds its API object itself,
so no constructor takes a base URL: the driver sets those class attributes.
Every HTTP request goes through one aiohttp session whose trace refuses
anything but loopback, and the socket URL is the simulator's own ``ws_url``,
so nothing can reach the real services.

``HeyGenClient`` also joins the session's LiveKit room to receive the
avatar's media; the simulator's rooms (``heygen-sim://``) are not LiveKit
servers, so that join fails at once and Pipecat logs it and carries on, as
it does with any room it cannot join. The socket traffic does not depend on it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from loguru import logger
from pipecat.clocks.system_clock import SystemClock
from pipecat.processors.frame_processor import FrameProcessorSetup
from pipecat.services.heygen.api_interactive_avatar import HeyGenApi, NewSessionRequest
from pipecat.services.heygen.api_liveavatar import LiveAvatarApi, LiveAvatarNewSessionRequest
from pipecat.services.heygen.client import HeyGenCallbacks, HeyGenClient, ServiceType
from pipecat.transports.base_transport import TransportParams
from pipecat.utils.asyncio.task_manager import TaskManager

API_KEY = "pipecat-peer-key"
# Pipecat's HeyGenVideoService sends 600 ms first, then 1 s chunks (video.py).
FIRST_CHUNK = 24_000 * 2 * 6 // 10
CHUNK = 24_000 * 2
CONNECTED_TIMEOUT = 15.0
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def report(step: str, **fields: Any) -> None:
    """Print one result line for the test."""
    print(json.dumps({"step": step, **fields}), flush=True)


def loopback_only() -> aiohttp.TraceConfig:
    """Return a trace that fails any HTTP request not to loopback (before it is sent)."""

    async def on_request_start(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        if params.url.host not in LOOPBACK:
            raise RuntimeError(f"refusing a non-loopback request to {params.url.host}")

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    return trace


async def speak(client: HeyGenClient, pcm: bytes) -> str:
    """Speak `pcm` as Pipecat's HeyGenVideoService does: chunks, then speak_end."""
    event_id = str(uuid.uuid4())
    offset, size = 0, FIRST_CHUNK
    while offset < len(pcm):
        await client.agent_speak(pcm[offset : offset + size], event_id)
        offset += size
        size = CHUNK
    await client.agent_speak_end(event_id)
    return event_id


async def liveavatar_api(http: aiohttp.ClientSession) -> None:
    """Token, start and stop through LiveAvatarApi's own methods."""
    api = LiveAvatarApi(API_KEY, session=http)
    request = LiveAvatarNewSessionRequest(avatar_id="1c690fe7-23e0-49f9-bfba-14344450285b")
    token = await api.create_session_token(request)
    started = await api.start_session(token.data.session_token)
    report("liveavatar_api.started", session_id=started.data.session_id, code=started.code)
    stopped = await api.stop_session(started.data.session_id, token.data.session_token)
    report("liveavatar_api.stopped", session_id=started.data.session_id, code=stopped["code"])


async def heygen_client(http: aiohttp.ClientSession, early: bytes, late: bytes) -> None:
    """HeyGenClient on LiveAvatar: setup, early audio, audio after connected, stop."""
    connected = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_log(message: Any) -> None:
        # Pipecat exposes the socket's state only in its debug log.
        if message.record["message"].endswith("session state updated: connected"):
            loop.call_soon_threadsafe(connected.set)

    logger.add(on_log, level="DEBUG")

    ready = asyncio.Event()

    async def on_connected() -> None:
        # Called at the end of a setup that did not raise (its only public signal).
        ready.set()

    async def ignore(_identity: str) -> None:
        return None

    client = HeyGenClient(
        api_key=API_KEY,
        session=http,
        params=TransportParams(audio_out_enabled=True, audio_out_sample_rate=24_000),
        service_type=ServiceType.LIVE_AVATAR,
        callbacks=HeyGenCallbacks(
            on_connected=on_connected,
            on_participant_connected=ignore,
            on_participant_disconnected=ignore,
        ),
    )
    # HeyGenClient.setup reads only the task manager and sample rates; a
    # pipeline worker exists only inside a running Pipecat pipeline.
    setup = FrameProcessorSetup(
        clock=SystemClock(),
        task_manager=TaskManager(),
        pipeline_worker=None,
    )
    await client.setup(setup)
    await asyncio.wait_for(ready.wait(), CONNECTED_TIMEOUT)
    report("heygen_client.setup")
    try:
        early_id = await speak(client, early)
        # Whether Pipecat had seen `connected` before sending: it never waits for it.
        report(
            "heygen_client.early_audio",
            event_id=early_id,
            bytes=len(early),
            connected_before=connected.is_set(),
        )
        await asyncio.wait_for(connected.wait(), CONNECTED_TIMEOUT)
        late_id = await speak(client, late)
        report("heygen_client.late_audio", event_id=late_id, bytes=len(late))
    finally:
        await client.stop()
    report("heygen_client.stopped")


async def streaming_api(http: aiohttp.ClientSession) -> None:
    """Token, new (and start) and stop through HeyGenApi."""
    api = HeyGenApi(API_KEY, session=http)
    token = await api.create_token()
    report("heygen_api.token", has_token=bool(token))
    # Pipecat's own default request (HeyGenClient's INTERACTIVE_AVATAR default).
    session = await api.new_session(
        NewSessionRequest(avatar_id="Shawn_Therapist_public", version="v2")
    )
    report("heygen_api.started", session_id=session.session_id, ws_url=session.ws_url)
    await api.close_session(session.session_id)
    report("heygen_api.stopped", session_id=session.session_id)


async def main(base_url: str, early: bytes, late: bytes) -> None:
    """Run the three scenarios in order against `base_url`."""
    if urlsplit(base_url).hostname not in LOOPBACK:
        raise SystemExit(f"refusing a non-loopback base URL: {base_url}")
    # No base-URL parameter anywhere in Pipecat's HeyGen module: see the docstring.
    LiveAvatarApi.BASE_URL = f"{base_url}/v1"
    HeyGenApi.BASE_URL = f"{base_url}/v1"
    async with aiohttp.ClientSession(trace_configs=[loopback_only()]) as http:
        await liveavatar_api(http)
        await heygen_client(http, early, late)
        await streaming_api(http)
    report("done")


if __name__ == "__main__":
    logger.remove()
    # Pipecat logs the session's LiveKit tokens at INFO: keep them out of test output.
    logger.add(sys.stderr, level="WARNING")
    base, early_path, late_path = sys.argv[1:4]
    asyncio.run(main(base, Path(early_path).read_bytes(), Path(late_path).read_bytes()))
