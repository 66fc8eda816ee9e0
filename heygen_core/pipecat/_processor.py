"""What both drop-ins' Pipecat processors do alike with their `AvatarLink`.

`HeyGenVideoService` and `HeyGenTransport` build the link the same way
(from Pipecat's arguments), turn the same frames into avatar commands and
report errors the same way; only where they sit in the pipeline differs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

import aiohttp
from pipecat.frames.frames import (
    Frame,
    InterruptionFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameProcessor
from pipecat.services.heygen.client import ServiceType

from heygen_core.audio.pump import PumpConfig
from heygen_core.pipecat._link import AvatarLink, ErrorReporter
from heygen_core.pipecat._requests import SessionOptions, SessionRequest, session_factory
from heygen_core.rest.retry import RetryPolicy
from heygen_core.session import AvatarSession


def build_link(
    *,
    api_key: str,
    http: aiohttp.ClientSession,
    session_request: SessionRequest | None,
    service_type: ServiceType | None,
    media_role: Literal["agent", "client"],
    base_url: str | None,
    pump: PumpConfig | None,
    ready_timeout: float,
    reconnect: RetryPolicy | None,
    end_timeout: float,
    on_error: ErrorReporter,
    on_open: Callable[[AvatarSession], Awaitable[None]],
) -> AvatarLink:
    """The link of a drop-in, from its constructor's arguments.

    Raises:
        SessionError: `session_request` and `service_type` do not match, or
            the request does not fit the service's schema.
    """
    make_session = session_factory(
        api_key=api_key,
        http=http,
        session_request=session_request,
        service_type=service_type,
        media_role=media_role,
        options=SessionOptions(
            base_url=base_url, pump=pump, ready_timeout=ready_timeout, reconnect=reconnect
        ),
    )
    return AvatarLink(make_session, on_error=on_error, on_open=on_open, end_timeout=end_timeout)


async def command(link: AvatarLink, frame: Frame) -> None:
    """Turn an interruption or a user's turn into its avatar command; other frames: nothing."""
    if isinstance(frame, InterruptionFrame):
        await link.interrupt()
    elif isinstance(frame, UserStartedSpeakingFrame):
        await link.listening(True)
    elif isinstance(frame, UserStoppedSpeakingFrame):
        await link.listening(False)


async def push_error(
    processor: FrameProcessor, message: str, exc: BaseException | None, fatal: bool
) -> None:
    """Push a link's error as an ``ErrorFrame`` (`fatal`: the pipeline cannot go on)."""
    await processor.push_error(
        message,
        # ErrorFrame takes an Exception; a bare BaseException (a cancellation) goes without.
        exception=exc if isinstance(exc, Exception) else None,
        force_treat_as_permanent=fatal,
    )
