"""Typed async client for the LiveAvatar REST API (https://api.liveavatar.com).

One method per operation of ``schemas/rest/liveavatar.openapi.yaml``; the
request and result types are the generated models of that file.
"""

from __future__ import annotations

from heygen_models import liveavatar as la

from heygen_core.rest.transport import ApiResult, RestClient

API_KEY_ENV = "HEYGEN_LIVE_AVATAR_API_KEY"
"""The environment variable read for the LiveAvatar API key."""

TokenRequest = la.SessionTokenRequest | la.FullSessionTokenRequest | la.LiteSessionTokenRequest
"""What `create_session_token` accepts: the union, or either mode's model."""


class LiveAvatarClient(RestClient):
    """Async client for the LiveAvatar API.

    Use it as an async context manager, or call `close()`.

    Args:
        api_key: LiveAvatar API key (not a HeyGen key); default: the
            ``HEYGEN_LIVE_AVATAR_API_KEY`` environment variable.
        session_token: Default session token for calls that accept one.
        base_url: Overrides ``https://api.liveavatar.com`` (the simulator).
        session: An aiohttp session to share; the client does not close it.
        timeout: Seconds allowed for each attempt of each call.
        retry: Retry policy (see `RetryPolicy`).
    """

    api = "liveavatar"
    key_env = API_KEY_ENV

    async def __aenter__(self) -> LiveAvatarClient:
        return self

    async def create_session_token(self, request: TokenRequest) -> ApiResult[la.SessionTokenData]:
        """Create a session token for a FULL or LITE session (API key). Never retried blindly."""
        body = (
            request
            if isinstance(request, la.SessionTokenRequest)
            else la.SessionTokenRequest(request)
        )
        env, status = await self.call("create_session_token", la.SessionTokenEnvelope, body=body)
        return ApiResult(env.data, status, env.code, env.message, env)

    async def start_session(
        self, session_token: str | None = None
    ) -> ApiResult[la.StartSessionData]:
        """Start the session a token was created for (Bearer session token)."""
        env, status = await self.call(
            "start_session",
            la.StartSessionEnvelope,
            body=la.StartSessionRequest(),
            session_token=session_token,
        )
        return ApiResult(env.data, status, env.code, env.message, env)

    async def stop_session(
        self, request: la.StopSessionRequest | None = None, *, session_token: str | None = None
    ) -> ApiResult[None]:
        """Stop a session: with the API key give ``session_id``; with a token it is implied."""
        env, status = await self.call(
            "stop_session",
            la.Envelope,
            body=request or la.StopSessionRequest(),
            session_token=session_token,
        )
        return ApiResult(None, status, env.code, env.message, env)

    async def keep_alive_session(
        self, request: la.KeepAliveRequest | None = None, *, session_token: str | None = None
    ) -> ApiResult[None]:
        """Reset the session's idle timer (the service ends idle sessions after 5 minutes)."""
        env, status = await self.call(
            "keep_alive_session",
            la.Envelope,
            body=request or la.KeepAliveRequest(),
            session_token=session_token,
        )
        return ApiResult(None, status, env.code, env.message, env)

    async def list_sessions(self, query: la.ListSessionsQuery) -> ApiResult[la.SessionList]:
        """List active or historic sessions, a page at a time."""
        env, status = await self.call("list_sessions", la.SessionListEnvelope, query=query)
        return ApiResult(env.data, status, env.code, env.message, env)

    async def get_session(self, session_id: str) -> ApiResult[la.SessionEntry]:
        """Fetch one session's record."""
        env, status = await self.call(
            "get_session", la.SessionEnvelope, path_params={"session_id": session_id}
        )
        return ApiResult(env.data, status, env.code, env.message, env)

    async def get_session_transcript(
        self, session_id: str, query: la.TranscriptQuery | None = None
    ) -> ApiResult[la.TranscriptData]:
        """Fetch a session's transcript."""
        env, status = await self.call(
            "get_session_transcript",
            la.TranscriptEnvelope,
            query=query,
            path_params={"session_id": session_id},
        )
        return ApiResult(env.data, status, env.code, env.message, env)

    async def list_avatars(
        self, query: la.ListAvatarsQuery | None = None
    ) -> ApiResult[la.AvatarList]:
        """List the account's avatars."""
        env, status = await self.call("list_avatars", la.AvatarListEnvelope, query=query)
        return ApiResult(env.data, status, env.code, env.message, env)

    async def list_public_avatars(
        self, query: la.ListPublicAvatarsQuery | None = None
    ) -> ApiResult[la.PublicAvatarList]:
        """List public avatars (no credentials needed)."""
        env, status = await self.call(
            "list_public_avatars", la.PublicAvatarListEnvelope, query=query
        )
        return ApiResult(env.data, status, env.code, env.message, env)

    async def get_avatar(self, avatar_id: str) -> ApiResult[la.Avatar]:
        """Fetch one avatar."""
        env, status = await self.call(
            "get_avatar", la.AvatarEnvelope, path_params={"avatar_id": avatar_id}
        )
        return ApiResult(env.data, status, env.code, env.message, env)

    async def update_avatar(
        self, avatar_id: str, request: la.UpdateAvatarRequest
    ) -> ApiResult[la.Avatar]:
        """Rename an avatar or change its default voice."""
        env, status = await self.call(
            "update_avatar", la.AvatarEnvelope, body=request, path_params={"avatar_id": avatar_id}
        )
        return ApiResult(env.data, status, env.code, env.message, env)

    async def delete_avatar(self, avatar_id: str) -> ApiResult[la.Avatar]:
        """Delete one of the account's avatars."""
        env, status = await self.call(
            "delete_avatar", la.AvatarEnvelope, path_params={"avatar_id": avatar_id}
        )
        return ApiResult(env.data, status, env.code, env.message, env)

    async def list_voices(self, query: la.ListVoicesQuery | None = None) -> ApiResult[la.VoiceList]:
        """List public or private voices."""
        env, status = await self.call("list_voices", la.VoiceListEnvelope, query=query)
        return ApiResult(env.data, status, env.code, env.message, env)

    async def get_voice(self, voice_id: str) -> ApiResult[la.Voice]:
        """Fetch one voice."""
        env, status = await self.call(
            "get_voice", la.VoiceEnvelope, path_params={"voice_id": voice_id}
        )
        return ApiResult(env.data, status, env.code, env.message, env)

    async def create_third_party_voice(
        self, request: la.ThirdPartyVoiceRequest
    ) -> ApiResult[la.ThirdPartyVoiceData]:
        """Register a third-party provider's voice."""
        env, status = await self.call(
            "create_third_party_voice", la.ThirdPartyVoiceEnvelope, body=request
        )
        return ApiResult(env.data, status, env.code, env.message, env)
