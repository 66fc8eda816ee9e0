"""What differs between the two APIs: how a session is set up and stopped, and what it returns.

`AvatarSession.live_avatar` (LiveAvatar: a token, then start) and
`AvatarSession.interactive_avatar` (the legacy Streaming API:
``streaming.new``, then start) build their session from these calls; the
session runs them without knowing which API it speaks to.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlencode, urlsplit

from heygen_models import liveavatar as la

from heygen_core.errors import SessionError

if TYPE_CHECKING:
    # The Streaming API's models are imported by its calls below, so that a
    # LiveAvatar session does not load them.
    from heygen_models import streaming as st

    # Types only: building a session must not import the socket stack
    # (websockets), which its open loads; the clients are the caller's.
    from heygen_core.realtime.connection import Dialect
    from heygen_core.rest.liveavatar_client import LiveAvatarClient
    from heygen_core.rest.streaming_client import StreamingClient
    from heygen_core.session.avatar_session import AvatarSession

# Room URL schemes a browser's LiveKit viewer can join; others (the
# simulator's local rooms) get no viewer link.
_VIEWABLE_SCHEMES = frozenset({"ws", "wss", "http", "https"})


@dataclass(frozen=True)
class Endpoints:
    """Where a started session is reached: its control socket and its room."""

    ws_url: str | None
    dialect: Dialect
    room_url: str | None
    room_token: str | None = field(repr=False)


def liveavatar_calls(
    client: LiveAvatarClient,
    request: la.LiteSessionTokenRequest | la.FullSessionTokenRequest,
    media_role: Literal["agent", "client"],
) -> tuple[
    Callable[[AvatarSession], Awaitable[Endpoints]],
    Callable[[AvatarSession], Awaitable[object]],
]:
    """A LiveAvatar session's setup (token, start) and stop, for `request`."""
    full = request.mode == "FULL"

    async def setup(session: AvatarSession) -> Endpoints:
        token = await session._service.create(
            client,
            # The generated method is named for its operation.
            client.create_session_token.__name__,
            lambda allowance: client.create_session_token(request, timeout=allowance),
            lambda answer: (answer.data.session_id, answer.data.session_token),
        )
        started = await client.start_session(token.data.session_token)
        data = session.start_data = started.data
        session._long_audio.started(data.max_session_duration)
        # No ws_url in a LITE session: an agent connector (ElevenLabs),
        # which runs on FULL events in the room (see `AvatarSession.open`).
        ws_url = data.ws_url if isinstance(data.ws_url, str) else None
        agent = data.livekit_agent_token if isinstance(data.livekit_agent_token, str) else None
        # A bot feeding the avatar joins as the agent; FULL and connector
        # commands are sent as the client, as the official SDK does.
        as_client = full or ws_url is None or media_role == "client" or agent is None
        room_token = data.livekit_client_token if as_client else agent
        return Endpoints(ws_url, "lite", data.livekit_url, room_token)

    async def stop(session: AvatarSession) -> object:
        if session.session_token is not None:
            return await client.stop_session(session_token=session.session_token)
        return None

    return setup, stop


def streaming_calls(
    client: StreamingClient, request: st.NewSessionRequest, dialect: Dialect
) -> tuple[
    Callable[[AvatarSession], Awaitable[Endpoints]],
    Callable[[AvatarSession], Awaitable[object]],
]:
    """A Streaming API session's setup (``streaming.new``, start) and stop, for `request`."""
    from heygen_models import streaming as st

    async def setup(session: AvatarSession) -> Endpoints:
        new = await session._service.create(
            client,
            client.new_session.__name__,
            lambda allowance: client.new_session(request, timeout=allowance),
            lambda answer: (answer.data.session_id, None),
        )
        data = new.data
        session.start_data = data
        await client.start_session(st.SessionIdRequest(session_id=data.session_id))
        session._long_audio.started(data.session_duration_limit)
        endpoint = data.realtime_endpoint
        if not isinstance(endpoint, str):
            raise SessionError("the service returned no realtime_endpoint for this session")
        agent = data.livekit_agent_token if isinstance(data.livekit_agent_token, str) else None
        return Endpoints(endpoint, dialect, data.url, agent or data.access_token)

    async def stop(session: AvatarSession) -> object:
        assert session.session_id is not None
        return await client.stop_session(st.SessionIdRequest(session_id=session.session_id))

    return setup, stop


def viewer_link(data: la.StartSessionData | st.NewSessionData | None) -> str | None:
    """A LiveKit meet link to the room in `data` (None if none, or a browser cannot join it)."""
    from heygen_models import streaming as st

    if isinstance(data, la.StartSessionData):
        url, token = data.livekit_url, data.livekit_client_token
    elif isinstance(data, st.NewSessionData):
        url, token = data.url, data.access_token
    else:
        return None
    if urlsplit(url).scheme.lower() not in _VIEWABLE_SCHEMES:
        return None
    query = urlencode({"liveKitUrl": url, "token": token})
    return f"https://meet.livekit.io/custom?{query}"


def public_url(url: str) -> str:
    """`url` without user info, query or fragment: what may be written down."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else url
