"""`AvatarSession`: a HeyGen LiveAvatar in front of a LiveKit Agents `AgentSession`.

In the style of LiveKit's avatar plugins, and a drop-in for
``livekit.plugins.liveavatar.AvatarSession``::

    avatar = AvatarSession(avatar_id=..., api_key=...)
    await avatar.start(agent_session, room=ctx.room)

The avatar joins the agent's room (the LITE token request's
``livekit_config``, with a room token minted by ``livekit-api``) and speaks
the agent's replies, which reach it through our `AvatarSession` (ready gate,
keep-alive, reconnects, one ``event_id`` per reply, 24 kHz conversion).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any, Literal

from heygen_models import liveavatar as la
from heygen_models.full import AVATAR_IDENTITY
from livekit import rtc
from livekit.agents import AgentSession, get_job_context
from livekit.agents.voice.avatar import AvatarSession as BaseAvatarSession
from livekit.agents.voice.events import AgentStateChangedEvent, CloseEvent

from heygen_core.audio.pump import PumpConfig
from heygen_core.errors import SessionError
from heygen_core.livekit_agents._listening import ListeningFollower
from heygen_core.livekit_agents._tokens import LiveKitCredentials, avatar_room_token
from heygen_core.livekit_agents.audio_output import HeyGenAudioOutput
from heygen_core.session import SANDBOX_AVATAR_ID, OpenSessionRecord
from heygen_core.session import AvatarSession as HeyGenSession
from heygen_core.session._cancellation import wait_close

logger = logging.getLogger("heygen_core.livekit_agents")

VideoQuality = Literal["very_high", "high", "medium", "low"]
"""The avatar's video quality (``video_settings.quality`` of the token request)."""

# The plugin's environment variables, read too so that swapping the import is enough.
_PLUGIN_API_KEY_ENV = "LIVEAVATAR_API_KEY"
_PLUGIN_AVATAR_ID_ENV = "LIVEAVATAR_AVATAR_ID"

_AVATAR_NAME = "HeyGen avatar"

# A reply is one utterance: it ends at the agent's flush(), not at a pause of
# the TTS (the pump's default gap of 0.5 s would split a slow TTS's reply).
_REPLY_GAP_SECONDS = 60.0


class AvatarSession(BaseAvatarSession[Any]):
    """A HeyGen LiveAvatar that speaks for an `AgentSession`, in the agent's own room.

    Args:
        avatar_id: The avatar; default ``LIVEAVATAR_AVATAR_ID``, else the
            free sandbox avatar (`heygen_core.session.SANDBOX_AVATAR_ID`).
        api_key: LiveAvatar key; default ``HEYGEN_LIVE_AVATAR_API_KEY``,
            else ``LIVEAVATAR_API_KEY`` (the plugin's variable).
        base_url: The LiveAvatar API's base URL (the simulator's, in tests).
        is_sandbox: A free sandbox session; default: only with the sandbox avatar.
        video_quality: The avatar's video quality.
        avatar_participant_identity: The avatar's identity in the room;
            default ``heygen`` (`heygen_models.full.AVATAR_IDENTITY`), the
            identity it has in the rooms the service makes.
        avatar_participant_name: The avatar's display name in the room.
        token_request: A whole LITE token request for options beyond these
            (``max_session_duration``...); its ``livekit_config`` is set by `start`.
        pump: Chunking and pacing of the audio (default: a reply is one
            utterance however slowly its TTS delivers it).
        ready_timeout: Seconds to wait for the service to report ready.
        timeout: Seconds for each REST call.
        command_timeout: Seconds each interrupt or listening command may take.
        session_record: Where the open session is recorded until its stop
            is confirmed (see `heygen_core.session.AvatarSession.live_avatar`).
    """

    def __init__(
        self,
        *,
        avatar_id: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        is_sandbox: bool | None = None,
        video_quality: VideoQuality | None = None,
        avatar_participant_identity: str | None = None,
        avatar_participant_name: str | None = None,
        token_request: la.LiteSessionTokenRequest | None = None,
        pump: PumpConfig | None = None,
        ready_timeout: float = 10.0,
        timeout: float = 30.0,
        command_timeout: float = 5.0,
        session_record: OpenSessionRecord | Literal["default"] | None = "default",
    ) -> None:
        super().__init__()
        avatar = avatar_id or os.environ.get(_PLUGIN_AVATAR_ID_ENV) or SANDBOX_AVATAR_ID
        self._avatar_id = avatar
        self._sandbox = avatar == SANDBOX_AVATAR_ID if is_sandbox is None else is_sandbox
        self._video_quality = video_quality
        self._api_key = api_key
        self._base_url = base_url
        self._identity = avatar_participant_identity or AVATAR_IDENTITY
        self._name = avatar_participant_name or _AVATAR_NAME
        self._token_request = token_request
        self._pump = pump or PumpConfig(end_gap_seconds=_REPLY_GAP_SECONDS)
        self._ready_timeout = ready_timeout
        self._timeout = timeout
        self._command_timeout = command_timeout
        self._session_record = session_record
        self._heygen: HeyGenSession | None = None
        self._output: HeyGenAudioOutput | None = None
        self._listening: ListeningFollower | None = None
        self._agent: AgentSession[Any] | None = None
        self._lk_room: rtc.Room | None = None
        self._started = False
        self._closing: asyncio.Task[None] | None = None
        self._shutdown_tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"AvatarSession(avatar_id={self._avatar_id!r}, session={self._heygen!r})"

    @property
    def avatar_identity(self) -> str:
        """The avatar's participant identity in the room."""
        return self._identity

    @property
    def provider(self) -> str:
        """The avatar provider (for LiveKit's metrics)."""
        return "heygen"

    @property
    def session(self) -> HeyGenSession | None:
        """The avatar session underneath, once started (its id, events, pump stats)."""
        return self._heygen

    @property
    def audio_output(self) -> HeyGenAudioOutput | None:
        """The audio output installed in the agent session, once started."""
        return self._output

    async def start(
        self,
        agent_session: AgentSession[Any],
        room: rtc.Room,
        *,
        livekit_url: str | None = None,
        livekit_api_key: str | None = None,
        livekit_api_secret: str | None = None,
    ) -> None:
        """Start the avatar in `room` and make it the agent session's audio output.

        The LiveKit URL, key and secret default to ``LIVEKIT_URL``,
        ``LIVEKIT_API_KEY`` and ``LIVEKIT_API_SECRET``. Whatever fails on
        the way, the avatar session is stopped before this raises.

        Raises:
            CredentialsError: No LiveKit URL, key or secret (nothing was created).
            SessionError: Started twice, or the session could not be set up.
            HeyGenError: The service refused the session (its typed error).
        """
        if self._started:
            raise SessionError("this AvatarSession was already started: create a new one")
        self._started = True
        credentials = LiveKitCredentials.resolve(livekit_url, livekit_api_key, livekit_api_secret)
        agent_identity = _agent_identity(room)
        await super().start(agent_session, room)
        self._agent, self._lk_room = agent_session, room
        try:
            await self._start(agent_session, room, credentials, agent_identity)
        except BaseException:
            # No half-started session may stay open (and billed).
            await self.aclose()
            raise

    async def _start(
        self,
        agent_session: AgentSession[Any],
        room: rtc.Room,
        credentials: LiveKitCredentials,
        agent_identity: str | None,
    ) -> None:
        token = avatar_room_token(
            credentials,
            room=room.name,
            identity=self._identity,
            name=self._name,
            publish_on_behalf=agent_identity,
        )
        config = la.LiveKitConfig(
            livekit_url=credentials.url, livekit_room=room.name, livekit_client_token=token
        )
        heygen = self._heygen = HeyGenSession.live_avatar(
            token_request=self._request(config),
            api_key=self._api_key or os.environ.get(_PLUGIN_API_KEY_ENV) or None,
            base_url=self._base_url,
            pump=self._pump,
            ready_timeout=self._ready_timeout,
            timeout=self._timeout,
            session_record=self._session_record,
        )
        await heygen.open()
        logger.info("avatar session %s started in room %s", heygen.session_id, room.name)
        output = self._output = HeyGenAudioOutput(heygen, command_timeout=self._command_timeout)
        agent_session.output.replace_audio_tail(output)
        listening = self._listening = ListeningFollower(heygen, timeout=self._command_timeout)
        listening.follow(agent_session.agent_state)
        agent_session.on("agent_state_changed", self._on_agent_state)
        agent_session.on("close", self._on_agent_close)
        room.on("disconnected", self._on_room_disconnected)

    def _request(self, config: la.LiveKitConfig) -> la.LiteSessionTokenRequest:
        if self._token_request is not None:
            return self._token_request.model_copy(update={"livekit_config": config})
        request = la.LiteSessionTokenRequest(
            mode="LITE", avatar_id=self._avatar_id, is_sandbox=self._sandbox, livekit_config=config
        )
        if self._video_quality is not None:
            request.video_settings = la.VideoSettings(quality=self._video_quality)
        return request

    # -- following the agent ----------------------------------------------------------------

    def _on_agent_state(self, event: AgentStateChangedEvent) -> None:
        if self._listening is not None:
            self._listening.follow(event.new_state)

    def _on_agent_close(self, event: CloseEvent) -> None:
        del event
        self._close_soon("the agent session closed")

    def _on_room_disconnected(self, *args: object) -> None:
        del args
        self._close_soon("the room disconnected")

    def _close_soon(self, why: str) -> None:
        logger.info("%s: stopping the avatar session", why)
        task = asyncio.create_task(self.aclose(), name="heygen-lk-close")
        self._shutdown_tasks.add(task)
        task.add_done_callback(self._shutdown_tasks.discard)

    # -- closing ----------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop the avatar session (exactly once) and report unfinished replies finished.

        Called on the agent session's close, the room's disconnection and
        the job's shutdown; safe to call again, and from a cancelled task
        (the stop goes on, as `heygen_core.session.AvatarSession.aclose`).
        """
        task = self._closing
        if task is None:
            task = self._closing = asyncio.create_task(self._close_once(), name="heygen-lk-aclose")
        await wait_close(task)

    async def _close_once(self) -> None:
        if self._agent is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._agent.off("agent_state_changed", self._on_agent_state)
            with contextlib.suppress(KeyError, ValueError):
                self._agent.off("close", self._on_agent_close)
        if self._lk_room is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._lk_room.off("disconnected", self._on_room_disconnected)
        if self._listening is not None:
            await self._listening.aclose()
        try:
            if self._heygen is not None:
                # Settles every utterance still playing: the replies end.
                await self._heygen.aclose()
        finally:
            if self._output is not None:
                await self._output.aclose()
            try:
                await super().aclose()
            except Exception as exc:
                logger.warning("closing the LiveKit avatar session failed: %s", exc)


def _agent_identity(room: rtc.Room) -> str | None:
    """The agent's identity, for the avatar's ``lk.publish_on_behalf`` attribute."""
    job = get_job_context(required=False)
    if job is not None:
        return job.token_claims().identity
    if room.isconnected():
        return room.local_participant.identity
    return None
