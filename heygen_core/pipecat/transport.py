"""`HeyGenTransport`: a drop-in for Pipecat's, on `AvatarSession`.

Swap one import and the pipeline is unchanged::

    # from pipecat.transports.heygen.transport import HeyGenParams, HeyGenTransport
    from heygen_core.pipecat import HeyGenParams, HeyGenTransport

The bot joins the avatar's room, as with Pipecat's: ``input()`` yields what
the users say, ``output()`` sends the bot's TTS audio to the avatar, whom
the users see and hear in the room. Underneath, the session is heygen-core's
(see `heygen_core.pipecat._link`): nothing sent before the service is ready
is lost, one ``event_id`` per bot turn, keep-alive and reconnect, typed
errors as ``ErrorFrame``s, and only real users (never the avatar,
``heygen``) are captured and reported.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from heygen_models.full import AGENT_IDENTITY_PREFIX, AVATAR_IDENTITY
from pipecat.frames.frames import (
    BotConnectedFrame,
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    ClientConnectedFrame,
    EndFrame,
    Frame,
    OutputAudioRawFrame,
    StartFrame,
    TTSAudioRawFrame,
    UserAudioRawFrame,
)
from pipecat.pipeline.capabilities import BotCapabilities
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.services.heygen.client import ServiceType
from pipecat.transports.base_input import BaseInputTransport
from pipecat.transports.base_output import BaseOutputTransport
from pipecat.transports.base_transport import BaseTransport
from pipecat.transports.heygen.transport import HeyGenParams

from heygen_core.audio.pump import PumpConfig
from heygen_core.media.room import ParticipantEvent
from heygen_core.pipecat._link import COMMAND_TIMEOUT, AvatarLink
from heygen_core.pipecat._processor import build_link, command, push_error
from heygen_core.pipecat._requests import SessionRequest
from heygen_core.rest.retry import RetryPolicy
from heygen_core.session import AvatarSession

logger = logging.getLogger("heygen_core.pipecat")

AUDIO_LEAD_SECONDS = 3.0
"""Audio the output takes ahead of real time (as the audio pump sends it), then as it plays."""


def is_user(identity: str) -> bool:
    """Whether a room participant is a user: neither the avatar nor the service's agent."""
    return identity != AVATAR_IDENTITY and not identity.startswith(AGENT_IDENTITY_PREFIX)


class _Holder:
    """The session the transport's input and output share: opened once, stopped once.

    It is stopped when the last of them to start has stopped (so the input
    ending first does not cut off the avatar's last words), at once on a
    cancel, and at cleanup in any case.
    """

    def __init__(self, link: AvatarLink) -> None:
        self.link = link
        self._running: set[FrameProcessor] = set()

    def start(self, processor: FrameProcessor) -> None:
        self._running.add(processor)
        self.link.start()

    async def stop(self, processor: FrameProcessor) -> None:
        self._running.discard(processor)
        if not self._running:
            await self.link.close()


class HeyGenInputTransport(BaseInputTransport):
    """The users' audio from the avatar's room, each user's as ``UserAudioRawFrame``s.

    Every user is captured (Pipecat's captures only the first), at the
    pipeline's input rate; the avatar and the service's agent never are.
    """

    def __init__(self, transport: HeyGenTransport, params: HeyGenParams, **kwargs: Any) -> None:
        super().__init__(params, **kwargs)
        self._transport = transport
        self._watcher: asyncio.Task[None] | None = None
        self._users: dict[str, asyncio.Task[None]] = {}

    async def start(self, frame: StartFrame) -> None:
        """Join in (the session opens in the background) and become ready."""
        await super().start(frame)
        await self.set_transport_ready(frame)
        self._transport._holder.start(self)

    async def stop(self, frame: EndFrame) -> None:
        """Stop capturing; the session stops once the output is done too."""
        await super().stop(frame)
        await self._stop_capture()
        await self._transport._holder.stop(self)

    async def cancel(self, frame: CancelFrame) -> None:
        """Stop capturing and stop the session now."""
        await super().cancel(frame)
        await self._transport._holder.link.close()
        await self._stop_capture()

    async def cleanup(self) -> None:
        """Release everything; the session is stopped if it still runs."""
        # Pipecat's cleanup() carries no annotations.
        await super().cleanup()  # type: ignore[no-untyped-call]
        await self._transport._holder.link.close()
        await self._stop_capture()

    def watch(self, session: AvatarSession) -> None:
        """Follow the users of the session's room (called once it is open)."""
        if self._watcher is None:
            self._watcher = self.create_task(self._watch(session), "heygen-room-users")

    async def _watch(self, session: AvatarSession) -> None:
        await self.push_frame(BotConnectedFrame())
        async for event in session.media.user_events():
            if is_user(event.identity):
                await self._on_user(session, event)

    async def _on_user(self, session: AvatarSession, event: ParticipantEvent) -> None:
        identity = event.identity
        if event.kind == "joined":
            if identity in self._users:
                return
            # Subscribed before anyone is told: nothing they say is missed.
            audio = session.media.user_audio(identity, self.sample_rate)
            self._users[identity] = self.create_task(
                self._capture(identity, audio), f"heygen-user-audio-{identity}"
            )
            await self._transport._client_connected(identity)
            await self.push_frame(ClientConnectedFrame())
        else:
            task = self._users.pop(identity, None)
            if task is not None:
                await self.cancel_task(task, COMMAND_TIMEOUT)
            await self._transport._client_disconnected(identity)

    async def _capture(self, identity: str, audio: Any) -> None:
        async for chunk in audio:
            await self.push_audio_frame(
                UserAudioRawFrame(
                    audio=chunk.pcm,
                    sample_rate=chunk.sample_rate,
                    num_channels=1,
                    user_id=identity,
                )
            )

    async def _stop_capture(self) -> None:
        tasks = [t for t in (self._watcher, *self._users.values()) if t is not None]
        self._watcher, self._users = None, {}
        for task in tasks:
            await self.cancel_task(task, COMMAND_TIMEOUT)


class HeyGenOutputTransport(BaseOutputTransport):
    """The bot's audio to the avatar: each bot turn one utterance, converted to 24 kHz.

    A turn runs from Pipecat's ``BotStartedSpeakingFrame`` to its
    ``BotStoppedSpeakingFrame`` (TTS audio outside one starts a turn too,
    rather than being dropped as Pipecat's transport drops it). It takes
    audio as a sound card would: `AUDIO_LEAD_SECONDS` ahead, then in real time.
    """

    def __init__(self, transport: HeyGenTransport, params: HeyGenParams, **kwargs: Any) -> None:
        super().__init__(params, **kwargs)
        self._transport = transport
        self._in_turn = False

    @property
    def _link(self) -> AvatarLink:
        return self._transport._holder.link

    @property
    def capabilities(self) -> BotCapabilities:
        """Audio out, and video out: the avatar publishes its video to the room itself."""
        return super().capabilities.override(BotCapabilities(video_out=True))

    async def start(self, frame: StartFrame) -> None:
        """Join in (the session opens in the background) and become ready."""
        await super().start(frame)
        await self.set_transport_ready(frame)
        self._transport._holder.start(self)

    async def stop(self, frame: EndFrame) -> None:
        """Send what is left, let the avatar finish (bounded), then stop the session."""
        await super().stop(frame)  # the media sender plays out what it holds first
        await self._link.finish()
        await self._transport._holder.stop(self)

    async def cancel(self, frame: CancelFrame) -> None:
        """Stop the session now."""
        await super().cancel(frame)
        await self._link.close()

    async def cleanup(self) -> None:
        """Release everything; the session is stopped if it still runs."""
        # Pipecat's cleanup() carries no annotations.
        await super().cleanup()  # type: ignore[no-untyped-call]
        await self._link.close()

    async def push_frame(
        self, frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM
    ) -> None:
        """Push a frame on, ending the avatar's turn when Pipecat says the bot stopped.

        Args:
            frame: The frame to push.
            direction: The direction to push it.
        """
        # BaseOutputTransport makes the bot-speaking frames itself; they are
        # where its turns start and end.
        if direction == FrameDirection.DOWNSTREAM:
            if isinstance(frame, BotStartedSpeakingFrame):
                self._in_turn = True
            elif isinstance(frame, BotStoppedSpeakingFrame):
                self._in_turn = False
                self._link.end_turn()
        await super().push_frame(frame, direction)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Turn interruptions and user turns into avatar commands, then as Pipecat's.

        Args:
            frame: The frame to process.
            direction: The direction it travels.
        """
        await super().process_frame(frame, direction)
        await command(self._link, frame)

    async def write_audio_frame(self, frame: OutputAudioRawFrame) -> bool:
        """Send a chunk of the bot's audio to the avatar (held until the session is ready).

        Args:
            frame: The audio, at any rate (converted to 24 kHz mono).

        Returns:
            Whether it was taken (not after the session stopped).
        """
        if self._link.closed:
            return False
        if not self._in_turn and not isinstance(frame, TTSAudioRawFrame):
            # The silence Pipecat pads the end with, outside any turn: not speech.
            return True
        self._link.push_audio(frame.audio, frame.sample_rate, frame.num_channels)
        seconds = len(frame.audio) / 2 / frame.num_channels / frame.sample_rate
        await self._link.pace(seconds, AUDIO_LEAD_SECONDS)
        return True


class HeyGenTransport(BaseTransport):
    """Pipecat's ``HeyGenTransport``, on heygen-core's `AvatarSession`.

    The bot joins the avatar's room (LiveAvatar: as the agent, with the
    session's agent token). Events, as Pipecat's: ``on_connected(transport)``
    once the session is ready; ``on_client_connected(transport, participant)``
    and ``on_client_disconnected(transport, participant)`` with the user's
    identity, for real users only (never the avatar, ``heygen``).

    Args:
        session: The aiohttp session for REST calls (shared, not closed here).
        api_key: HeyGen or LiveAvatar API key; empty: the environment's.
        params: Pipecat's ``HeyGenParams`` (audio in and out on by default).
        input_name: Name of the input processor.
        output_name: Name of the output processor.
        session_request: As `HeyGenVideoService`'s.
        service_type: As `HeyGenVideoService`'s.
        base_url: The API's base URL (None: the real service; ``sim.url`` offline).
        pump: Chunking and pacing of the audio sent (`PumpConfig`).
        ready_timeout: Seconds to wait for the service to report ready.
        reconnect: How the control socket reconnects (None: the default policy).
        end_timeout: On ``EndFrame``, seconds the avatar may take to finish
            speaking before the session is stopped.

    Raises:
        SessionError: `session_request` and `service_type` do not match, or
            the request does not fit the service's schema (at construction).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        params: HeyGenParams | None = None,
        input_name: str | None = None,
        output_name: str | None = None,
        session_request: SessionRequest | None = None,
        service_type: ServiceType | None = None,
        *,
        base_url: str | None = None,
        pump: PumpConfig | None = None,
        ready_timeout: float = 10.0,
        reconnect: RetryPolicy | None = None,
        end_timeout: float = 30.0,
    ) -> None:
        super().__init__(input_name=input_name, output_name=output_name)
        self._params = params or HeyGenParams()
        self._holder = _Holder(
            build_link(
                api_key=api_key,
                http=session,
                session_request=session_request,
                service_type=service_type,
                media_role="agent",  # a bot feeding the avatar, as Pipecat's transport joins
                base_url=base_url,
                pump=pump,
                ready_timeout=ready_timeout,
                reconnect=reconnect,
                end_timeout=end_timeout,
                on_error=self._report_error,
                on_open=self._on_open,
            )
        )
        self._input: HeyGenInputTransport | None = None
        self._output: HeyGenOutputTransport | None = None
        self._register_event_handler("on_connected")
        self._register_event_handler("on_client_connected")
        self._register_event_handler("on_client_disconnected")

    def __repr__(self) -> str:
        return f"<HeyGenTransport {self.name} {self._holder.link!r}>"

    @property
    def avatar_session(self) -> AvatarSession | None:
        """The running `AvatarSession`, once open (its id, events, pump statistics)."""
        return self._holder.link.session

    def input(self) -> HeyGenInputTransport:
        """The input processor: the users' audio from the avatar's room."""
        if self._input is None:
            self._input = HeyGenInputTransport(self, self._params, name=self._input_name)
        return self._input

    def output(self) -> HeyGenOutputTransport:
        """The output processor: the bot's audio to the avatar."""
        if self._output is None:
            self._output = HeyGenOutputTransport(self, self._params, name=self._output_name)
        return self._output

    def get_client_id(self, client: Any) -> str:
        """The id of a client as passed to ``on_client_connected``: its room identity."""
        return str(client)

    async def _on_open(self, session: AvatarSession) -> None:
        await self._call_event_handler("on_connected")
        if self._input is not None:
            self._input.watch(session)

    async def _client_connected(self, identity: str) -> None:
        await self._call_event_handler("on_client_connected", identity)

    async def _client_disconnected(self, identity: str) -> None:
        await self._call_event_handler("on_client_disconnected", identity)

    async def _report_error(self, message: str, exc: BaseException | None, fatal: bool) -> None:
        # The output's errors go upstream from the output, so every processor
        # before it (and the pipeline's error handlers) sees them.
        reporter = self._output or self._input
        if reporter is None:
            logger.error("%s", message)
            return
        await push_error(reporter, message, exc, fatal)
