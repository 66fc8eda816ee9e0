"""`HeyGenVideoService`: a drop-in for Pipecat's, on `AvatarSession`.

Swap one import and the pipeline is unchanged::

    # from pipecat.services.heygen.video import HeyGenVideoService
    from heygen_core.pipecat import HeyGenVideoService

It sits after the TTS, as Pipecat's does: TTS audio in, the avatar's voice
and video out. What changes is underneath (see `heygen_core.pipecat._link`):
audio that comes before the session is ready waits for it instead of being
dropped, each TTS turn is one utterance with one ``event_id``, the control
socket keeps alive and reconnects, and every failure reaches the pipeline
as an ``ErrorFrame``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    CancelFrame,
    EndFrame,
    Frame,
    OutputImageRawFrame,
    SpeechOutputAudioRawFrame,
    StartFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessorSetup
from pipecat.services.ai_service import AIService
from pipecat.services.heygen.client import ServiceType
from pipecat.services.heygen.video import HeyGenVideoSettings
from pipecat.services.settings import ServiceSettings

from heygen_core.audio.format import SAMPLE_RATE
from heygen_core.audio.pump import PumpConfig
from heygen_core.pipecat._link import COMMAND_TIMEOUT
from heygen_core.pipecat._processor import build_link, command, push_error
from heygen_core.pipecat._requests import SessionRequest
from heygen_core.rest.retry import RetryPolicy
from heygen_core.session import AvatarSession


class HeyGenVideoService(AIService):
    """Pipecat's ``HeyGenVideoService``, on heygen-core's `AvatarSession`.

    Frames, as Pipecat's: it consumes ``TTSAudioRawFrame`` (sent to the
    avatar, converted to 24 kHz mono), and pushes the avatar's voice
    (``SpeechOutputAudioRawFrame``, an ``OutputAudioRawFrame``, at the
    pipeline's output rate) and video (``OutputImageRawFrame``, RGB).
    ``InterruptionFrame`` interrupts the avatar;
    ``UserStartedSpeakingFrame`` / ``UserStoppedSpeakingFrame`` turn its
    listening pose on and off; ``EndFrame`` lets the avatar finish (up to
    `end_timeout`) and stops the session, ``CancelFrame`` stops it at once:
    either way exactly once. Errors are pushed as ``ErrorFrame``s.

    The session is opened when the pipeline starts (StartFrame), in the
    background: TTS audio that comes before it is ready is held and sent
    once it is, not lost.

    Args:
        api_key: HeyGen (Interactive Avatar) or LiveAvatar API key; empty:
            the environment's (``HEYGEN_API_KEY`` / ``HEYGEN_LIVE_AVATAR_API_KEY``).
        session: The aiohttp session for REST calls (shared, not closed here).
        session_request: Pipecat's ``LiveAvatarNewSessionRequest`` or
            ``NewSessionRequest``, or heygen_models' ``LiteSessionTokenRequest``
            or ``NewSessionRequest``; None: Pipecat's default avatar.
        service_type: Pipecat's ``ServiceType``; None: the request's API
            (Pipecat's default, ``INTERACTIVE_AVATAR``, without a request).
        settings: Pipecat's ``HeyGenVideoService.Settings`` (its ``extra`` dict).
        base_url: The API's base URL (None: the real service; ``sim.url`` offline).
        pump: Chunking and pacing of the audio sent (`PumpConfig`).
        ready_timeout: Seconds to wait for the service to report ready.
        reconnect: How the control socket reconnects (None: the default policy).
        end_timeout: On ``EndFrame``, seconds the avatar may take to finish
            speaking before the session is stopped.
        **kwargs: Passed to Pipecat's ``AIService`` (``name``, ...).

    Raises:
        SessionError: `session_request` and `service_type` do not match, or
            the request does not fit the service's schema (at construction).
    """

    Settings = HeyGenVideoSettings
    _settings: HeyGenVideoSettings

    def __init__(
        self,
        *,
        api_key: str,
        session: aiohttp.ClientSession,
        session_request: SessionRequest | None = None,
        service_type: ServiceType | None = None,
        settings: HeyGenVideoSettings | None = None,
        base_url: str | None = None,
        pump: PumpConfig | None = None,
        ready_timeout: float = 10.0,
        reconnect: RetryPolicy | None = None,
        end_timeout: float = 30.0,
        **kwargs: Any,
    ) -> None:
        default_settings = ServiceSettings(model=None)
        if settings is not None:
            default_settings.apply_update(settings)
        super().__init__(settings=default_settings, **kwargs)
        self._link = build_link(
            api_key=api_key,
            http=session,
            session_request=session_request,
            service_type=service_type,
            # As Pipecat's service does: the session counts a user in its room
            # from the start, so the service does not end it for want of one.
            media_role="client",
            base_url=base_url,
            pump=pump,
            ready_timeout=ready_timeout,
            reconnect=reconnect,
            end_timeout=end_timeout,
            on_error=self._report_error,
            on_open=self._on_open,
        )
        self._out_rate = SAMPLE_RATE
        self._forwarders: list[asyncio.Task[None]] = []

    def __repr__(self) -> str:
        return f"<HeyGenVideoService {self.name} {self._link!r}>"

    @property
    def avatar_session(self) -> AvatarSession | None:
        """The running `AvatarSession`, once open (its id, events, pump statistics)."""
        return self._link.session

    def can_generate_metrics(self) -> bool:
        """Whether this service reports metrics (time to first byte: yes)."""
        return True

    # -- lifecycle ------------------------------------------------------------------------

    # Pipecat's FrameProcessor.setup itself narrows BaseObject.setup's argument.
    async def setup(self, setup: FrameProcessorSetup) -> None:  # type: ignore[override]
        """Take the pipeline's output rate: the avatar's voice is pushed at it."""
        await super().setup(setup)
        self._out_rate = setup.audio_out_sample_rate

    async def start(self, frame: StartFrame) -> None:
        """Start opening the session (in the background; audio waits for it)."""
        await super().start(frame)
        self._link.start()

    async def stop(self, frame: EndFrame) -> None:
        """Let the avatar finish what it was given (up to `end_timeout`), then stop the session."""
        await super().stop(frame)
        await self._link.finish()
        await self._teardown()

    async def cancel(self, frame: CancelFrame) -> None:
        """Stop the session now."""
        await super().cancel(frame)
        await self._teardown()

    async def cleanup(self) -> None:
        """Release everything; the session is stopped if it still runs."""
        # Pipecat's cleanup() carries no annotations.
        await super().cleanup()  # type: ignore[no-untyped-call]
        await self._teardown()

    async def _teardown(self) -> None:
        # Idempotent: the link stops the session once; leaving its room ends
        # the media iterators, so the forwarders finish before EndFrame goes on.
        await self._link.close()
        forwarders, self._forwarders = self._forwarders, []
        for task in forwarders:
            await self.cancel_task(task, COMMAND_TIMEOUT)

    async def _on_open(self, session: AvatarSession) -> None:
        self._forwarders = [
            self.create_task(self._forward_audio(session), "heygen-avatar-audio"),
            self.create_task(self._forward_video(session), "heygen-avatar-video"),
        ]

    async def _forward_audio(self, session: AvatarSession) -> None:
        async for chunk in session.media.avatar_audio(self._out_rate):
            await self.push_frame(
                SpeechOutputAudioRawFrame(
                    audio=chunk.pcm, sample_rate=chunk.sample_rate, num_channels=1
                )
            )

    async def _forward_video(self, session: AvatarSession) -> None:
        async for image in session.media.avatar_video("RGB24"):
            await self.push_frame(
                OutputImageRawFrame(
                    image=image.data, size=(image.width, image.height), format="RGB"
                )
            )

    async def _report_error(self, message: str, exc: BaseException | None, fatal: bool) -> None:
        await push_error(self, message, exc, fatal)

    # -- frames ---------------------------------------------------------------------------

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Send TTS audio to the avatar; turn interruptions and user turns into commands.

        Args:
            frame: The frame to process.
            direction: The direction it travels.
        """
        await super().process_frame(frame, direction)
        if isinstance(frame, TTSAudioRawFrame):
            # The avatar's voice replaces the TTS audio downstream.
            self._link.push_audio(frame.audio, frame.sample_rate, frame.num_channels)
            return
        if isinstance(frame, TTSStartedFrame):
            self._link.end_turn()  # a turn whose stop never came ends here
            await self.start_ttfb_metrics()
        elif isinstance(frame, TTSStoppedFrame):
            self._link.end_turn()
        elif isinstance(frame, BotStartedSpeakingFrame):
            # The avatar's audio reached the output: the first byte the user hears.
            await self.stop_ttfb_metrics()
        else:
            await command(self._link, frame)
        await self.push_frame(frame, direction)
