"""Pipecat's session requests and service types, turned into an `AvatarSession`.

Pipecat's HeyGen classes take ``session_request`` (its own
``LiveAvatarNewSessionRequest`` or ``NewSessionRequest``) and
``service_type`` (its ``ServiceType``). The drop-ins take the same, and
our generated request models too; this module converts Pipecat's models
into ours (validated against the schema) and builds the session.

Pipecat's defaults are kept, so a pipeline that passed nothing gets the
session it got before: the Interactive Avatar (Streaming) API with
Pipecat's default avatar, or, for ``ServiceType.LIVE_AVATAR``, a LITE
LiveAvatar session with Pipecat's default LiveAvatar avatar.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, TypeVar

import aiohttp
import pydantic
from heygen_models import liveavatar as la
from heygen_models import streaming as st
from pipecat.services.heygen.api_interactive_avatar import NewSessionRequest
from pipecat.services.heygen.api_liveavatar import LiveAvatarNewSessionRequest
from pipecat.services.heygen.client import ServiceType

from heygen_core.audio.pump import PumpConfig
from heygen_core.errors import SessionError
from heygen_core.rest.retry import RetryPolicy
from heygen_core.session import AvatarSession

logger = logging.getLogger("heygen_core.pipecat")

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)

SessionRequest: TypeAlias = (
    LiveAvatarNewSessionRequest
    | NewSessionRequest
    | la.LiteSessionTokenRequest
    | st.NewSessionRequest
)
"""What ``session_request`` accepts: Pipecat's request models, or our generated ones."""

# Pipecat's own defaults (pipecat/services/heygen/client.py), so that a
# pipeline passing no request gets the avatar it got with Pipecat.
PIPECAT_INTERACTIVE_AVATAR_ID = "Shawn_Therapist_public"
"""The avatar Pipecat's HeyGen classes use on the Interactive Avatar API when given none."""
PIPECAT_LIVE_AVATAR_ID = "1c690fe7-23e0-49f9-bfba-14344450285b"
"""The avatar Pipecat's HeyGen classes use on LiveAvatar when given none."""


@dataclass(frozen=True)
class SessionOptions:
    """How the drop-ins build their `AvatarSession` (see `AvatarSession.live_avatar`).

    Attributes:
        base_url: The API's base URL (None: the real service; the
            simulator's ``sim.url`` in tests).
        pump: Chunking and pacing of the audio sent to the avatar.
        ready_timeout: Seconds to wait for the service to report ready.
        reconnect: How the control socket reconnects (None: the default).
        keep_alive_interval: Seconds between keep-alives (None: off).
    """

    base_url: str | None = None
    pump: PumpConfig | None = None
    ready_timeout: float = 10.0
    reconnect: RetryPolicy | None = None
    keep_alive_interval: float | None = 60.0


def _api_of(
    session_request: SessionRequest | None, service_type: ServiceType | str | None
) -> Literal["liveavatar", "streaming"]:
    """Which API serves the session: the service type's, else the request's, else Pipecat's."""
    by_request: Literal["liveavatar", "streaming"] | None = None
    if isinstance(session_request, LiveAvatarNewSessionRequest | la.LiteSessionTokenRequest):
        by_request = "liveavatar"
    elif isinstance(session_request, NewSessionRequest | st.NewSessionRequest):
        by_request = "streaming"
    elif session_request is not None:
        raise SessionError(
            f"session_request must be Pipecat's LiveAvatarNewSessionRequest or "
            f"NewSessionRequest, or heygen_models' LiteSessionTokenRequest or "
            f"NewSessionRequest, not {type(session_request).__name__}"
        )
    if service_type is None:
        # Pipecat defaults to the Interactive Avatar API; a request says better.
        return by_request or "streaming"
    value = service_type.value if isinstance(service_type, ServiceType) else service_type
    if value == ServiceType.LIVE_AVATAR.value:
        by_type: Literal["liveavatar", "streaming"] = "liveavatar"
    elif value == ServiceType.INTERACTIVE_AVATAR.value:
        by_type = "streaming"
    else:
        raise SessionError(
            f"unknown service_type {service_type!r}: use ServiceType.LIVE_AVATAR "
            "or ServiceType.INTERACTIVE_AVATAR"
        )
    if by_request is not None and by_request != by_type:
        # Pipecat logs a warning and silently uses its default avatar instead:
        # a session with an avatar nobody asked for. Say so before any call.
        wanted = "LiveAvatarNewSessionRequest" if by_type == "liveavatar" else "NewSessionRequest"
        raise SessionError(
            f"service_type {value} needs a {wanted}, but session_request is a "
            f"{type(session_request).__name__}: pass the matching request, or leave "
            "service_type out (the request's type then chooses the API)"
        )
    return by_type


def lite_request(request: LiveAvatarNewSessionRequest | None) -> la.LiteSessionTokenRequest:
    """Our LITE token request from Pipecat's `LiveAvatarNewSessionRequest` (None: its default).

    Raises:
        SessionError: The request is for FULL mode (the service's own voice,
            no TTS audio in), or does not fit the schema (the message says which field).
    """
    if request is None:
        request = LiveAvatarNewSessionRequest(avatar_id=PIPECAT_LIVE_AVATAR_ID)
    if (request.mode or "LITE") != "LITE":
        raise SessionError(
            f"mode {request.mode!r}: the Pipecat adapters send your TTS audio to the avatar, "
            "which only LITE sessions take; use mode='LITE' (the default)"
        )
    fields: dict[str, Any] = {
        "mode": "LITE",
        "avatar_id": request.avatar_id,
        "is_sandbox": bool(request.is_sandbox),
    }
    if request.video_settings is not None:
        fields["video_settings"] = request.video_settings.model_dump(mode="json")
    if request.max_session_duration is not None:
        fields["max_session_duration"] = request.max_session_duration
    if request.livekit_config is not None:
        fields["livekit_config"] = request.livekit_config.model_dump(mode="json")
    if request.avatar_persona is not None:
        # A deprecated FULL-mode setting (docs/protocol.md §1): a LITE token
        # request has no such field, and the voice is your TTS's anyway.
        logger.warning("session_request.avatar_persona is ignored: LITE sessions have no persona")
    return _validated(la.LiteSessionTokenRequest, fields)


def streaming_request(request: NewSessionRequest | None) -> st.NewSessionRequest:
    """Our ``streaming.new`` request from Pipecat's `NewSessionRequest` (None: Pipecat's default).

    Raises:
        SessionError: The request does not fit the schema (the message says which field).
    """
    if request is None:
        request = NewSessionRequest(avatar_id=PIPECAT_INTERACTIVE_AVATAR_ID, version="v2")
    # Field names, not Pipecat's camelCase aliases (voiceId): ours are the wire's.
    fields = request.model_dump(mode="json", exclude_none=True, by_alias=False)
    return _validated(st.NewSessionRequest, fields)


def _validated(model: type[ModelT], fields: dict[str, Any]) -> ModelT:
    try:
        return model.model_validate(fields)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise SessionError(
            f"session_request does not fit the service's {model.__name__} ({problems}); "
            "fix those fields"
        ) from None


def session_factory(
    *,
    api_key: str,
    http: aiohttp.ClientSession | None,
    session_request: SessionRequest | None,
    service_type: ServiceType | str | None,
    media_role: Literal["agent", "client"],
    options: SessionOptions,
) -> Callable[[], AvatarSession]:
    """Check Pipecat's arguments now; return what builds the (unopened) session, in its room.

    The request is converted here, when the processor is constructed, so a
    mistake fails at once rather than when the pipeline starts.

    Raises:
        SessionError: A request and service type that do not match, a FULL
            request, or a request that does not fit the schema.
    """
    api = _api_of(session_request, service_type)
    key = api_key or None  # empty: the environment's key, as AvatarSession does
    if api == "liveavatar":
        if isinstance(session_request, la.LiteSessionTokenRequest):
            token_request = session_request
        else:
            assert session_request is None or isinstance(
                session_request, LiveAvatarNewSessionRequest
            )
            token_request = lite_request(session_request)

        return _builder(
            AvatarSession.live_avatar,
            key,
            http,
            options,
            token_request=token_request,
            media_role=media_role,
        )

    if isinstance(session_request, st.NewSessionRequest):
        new_session = session_request
    else:
        assert session_request is None or isinstance(session_request, NewSessionRequest)
        new_session = streaming_request(session_request)

    # The Streaming API's room has one bot role: the agent.
    return _builder(AvatarSession.interactive_avatar, key, http, options, new_session=new_session)


def _builder(
    open_session: Callable[..., AvatarSession],
    key: str | None,
    http: aiohttp.ClientSession | None,
    options: SessionOptions,
    **api_arguments: Any,
) -> Callable[[], AvatarSession]:
    # What both APIs' sessions take alike; `api_arguments` is what only one of them takes.
    def build() -> AvatarSession:
        return open_session(
            api_key=key,
            base_url=options.base_url,
            media=True,
            http=http,
            pump=options.pump,
            ready_timeout=options.ready_timeout,
            reconnect=options.reconnect,
            keep_alive_interval=options.keep_alive_interval,
            **api_arguments,
        )

    return build
