"""The LITE driver: a session's control socket and the audio pump that speaks on it.

Used by LiveAvatar LITE sessions and by Interactive Avatar sessions (whose
socket speaks the Realtime alpha dialect, or LITE's); a FULL session gets
one too when the service also gives it a socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Callable
from typing import get_args

from heygen_models import lite

from heygen_core.audio.format import AudioInput
from heygen_core.audio.pump import AudioPump
from heygen_core.realtime.connection import Dialect, RealtimeConnection, SocketEventCallback
from heygen_core.session._socket_settings import SocketSettings
from heygen_core.session.speak_result import SpeakResult
from heygen_core.session.startup import lead_gate


class LiteDriver:
    """Speaks to the avatar over its control socket: audio, interrupts, listening.

    Args:
        url: The socket's URL (``ws_url`` or ``realtime_endpoint``).
        dialect: What the socket speaks.
        settings: Ready gate, keep-alive, reconnect and pump settings.
        on_event: Receives every event of the socket, after the pump has
            seen it (so an utterance is already marked ended when a user
            hears of its ``speak_ended``).
    """

    def __init__(
        self,
        url: str,
        dialect: Dialect,
        settings: SocketSettings,
        on_event: SocketEventCallback,
    ) -> None:
        self.connection = RealtimeConnection(
            url,
            dialect=dialect,
            ready_timeout=settings.ready_timeout,
            ready_fallback=settings.ready_fallback,
            keep_alive_interval=settings.keep_alive_interval,
            rest_keep_alive=settings.rest_keep_alive,
            reconnect=settings.reconnect,
            ping_interval=settings.ping_interval,
            # Sent first on each socket, reconnected ones included.
            first_frame=audio_format_frame() if sends_audio_format(dialect, settings) else None,
        )
        # The pump subscribes first: see `on_event` above. Its utterances share
        # the loop's lead gate with every other session's (`StartupLimits`).
        self.pump = AudioPump(self.connection, settings.pump, lead_gate=lead_gate())
        self.connection.on_event(on_event)

    async def open(self, connected: Callable[[], None] | None = None) -> None:
        """Connect the socket and wait until the service is ready for commands.

        `connected` is called once the socket is open, before the wait for
        ready (the session gives its set-up slot back there: that wait costs nothing).
        """
        await self.connection.connect()
        if connected is not None:
            connected()
        await self.connection.wait_ready()  # sends the `start` frame, when asked

    async def close(self) -> None:
        """Mark unfinished utterances lost and close the socket (idempotent)."""
        self.pump.close("lost")
        await self.connection.close()

    async def speak(
        self,
        audio: AudioInput | AsyncIterable[AudioInput],
        *,
        sample_rate: int | None,
        channels: int | None,
        wait: bool,
    ) -> SpeakResult:
        """Send `audio` as utterances; with `wait`, return once the avatar is done."""
        utterances, task = self.pump.start_speaking(
            audio, sample_rate=sample_rate, channels=channels
        )
        result = SpeakResult(utterances, task)
        if wait:
            try:
                await result.finished()
            except asyncio.CancelledError:
                task.cancel()  # the caller gave up on it: stop sending (it is interrupted)
                raise
        return result

    async def interrupt(self) -> None:
        """Stop the avatar now; nothing queued for the current utterance is sent after."""
        await self.pump.interrupt()

    async def start_listening(self) -> None:
        """Put the avatar in its listening pose."""
        await self.pump.start_listening()

    async def stop_listening(self) -> None:
        """Take the avatar out of its listening pose."""
        await self.pump.stop_listening()


def sends_audio_format(dialect: Dialect, settings: SocketSettings) -> bool:
    """Whether a socket sends LITE's ``start`` frame: asked for, and a LITE-dialect socket."""
    return dialect == "lite" and settings.pump is not None and settings.pump.send_audio_format


def audio_format_frame() -> lite.AudioFormatStart:
    """The LITE ``start`` frame announcing the audio format (`PumpConfig.send_audio_format`).

    The schema fixes each of its fields to the one format the service takes,
    so every value is read from the generated model, never spelt here.
    """
    values: dict[str, object] = {}
    for name, info in lite.AudioFormatStart.model_fields.items():
        if not info.is_required():
            continue
        # A one-value enum is a Literal; a fixed integer is a ge == le bound.
        choices = get_args(info.annotation)
        bounds = [getattr(m, "ge", None) for m in info.metadata]
        values[name] = choices[0] if choices else next(b for b in bounds if b is not None)
    return lite.AudioFormatStart.model_validate(values)
