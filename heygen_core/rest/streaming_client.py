"""Typed async client for the legacy HeyGen Streaming API (https://api.heygen.com).

One method per operation of ``schemas/rest/streaming.openapi.yaml``; the
request and result types are the generated models of that file. Wire names
are snake_case: `NewSessionRequest(voice=VoiceSetting(voice_id=...))` sends
``voice_id`` as given (Pipecat's camelCase aliases silently dropped it).
"""

from __future__ import annotations

from heygen_models import streaming as st

from heygen_core.rest.transport import ApiResult, RestClient

API_KEY_ENV = "HEYGEN_API_KEY"
"""The environment variable read for the HeyGen API key."""


class StreamingClient(RestClient):
    """Async client for the Interactive Avatar Streaming API.

    Args:
        api_key: HeyGen API key; default: the ``HEYGEN_API_KEY`` environment variable.
        session_token: A token from `create_token`, used where an operation accepts one.
        base_url: Overrides ``https://api.heygen.com`` (the simulator).
        session: An aiohttp session to share; the client does not close it.
        timeout: Seconds allowed for each attempt of each call.
        retry: Retry policy (see `RetryPolicy`).
    """

    api = "streaming"
    key_env = API_KEY_ENV

    async def __aenter__(self) -> StreamingClient:
        return self

    async def create_token(self) -> ApiResult[st.CreateTokenData]:
        """Create a session token (API key); always sends ``{}``, as the service requires."""
        env, status = await self.call(
            "create_token", st.CreateTokenResponse, body=st.CreateTokenRequest()
        )
        return ApiResult(env.data, status, None, None, env)

    async def new_session(
        self, request: st.NewSessionRequest, *, session_token: str | None = None
    ) -> ApiResult[st.NewSessionData]:
        """Create a streaming session. Never retried blindly (it may have succeeded)."""
        env, status = await self.call(
            "new_session", st.NewSessionEnvelope, body=request, session_token=session_token
        )
        return ApiResult(env.data, status, env.code, env.message, env)

    async def start_session(
        self, request: st.SessionIdRequest, *, session_token: str | None = None
    ) -> ApiResult[st.StartSessionData | None]:
        """Start a session created by `new_session`."""
        env, status = await self.call(
            "start_session", st.StartSessionEnvelope, body=request, session_token=session_token
        )
        data = env.data if isinstance(env.data, st.StartSessionData) else None
        return ApiResult(data, status, env.code, env.message, env)

    async def send_task(
        self, request: st.TaskRequest, *, session_token: str | None = None
    ) -> ApiResult[st.TaskData]:
        """Make the avatar speak text (``repeat``) or answer it (``chat``)."""
        env, status = await self.call(
            "send_task", st.TaskEnvelope, body=request, session_token=session_token
        )
        return ApiResult(env.data, status, env.code, env.message, env)

    async def interrupt_task(
        self, request: st.SessionIdRequest, *, session_token: str | None = None
    ) -> ApiResult[None]:
        """Interrupt what the avatar is saying."""
        return await self._empty("interrupt_task", request, session_token)

    async def start_listening(
        self, request: st.SessionIdRequest, *, session_token: str | None = None
    ) -> ApiResult[None]:
        """Put the avatar in its listening state."""
        return await self._empty("start_listening", request, session_token)

    async def stop_listening(
        self, request: st.SessionIdRequest, *, session_token: str | None = None
    ) -> ApiResult[None]:
        """Take the avatar out of its listening state."""
        return await self._empty("stop_listening", request, session_token)

    async def keep_alive(
        self, request: st.SessionIdRequest, *, session_token: str | None = None
    ) -> ApiResult[None]:
        """Reset the session's idle timer."""
        return await self._empty("keep_alive", request, session_token)

    async def stop_session(
        self, request: st.SessionIdRequest, *, session_token: str | None = None
    ) -> ApiResult[None]:
        """Stop a session (safe to repeat)."""
        return await self._empty("stop_session", request, session_token)

    async def list_sessions(self) -> ApiResult[st.SessionListData]:
        """List the account's active sessions."""
        env, status = await self.call("list_sessions", st.SessionListEnvelope)
        return ApiResult(env.data, status, env.code, env.message, env)

    async def list_sessions_v2(
        self, query: st.ListSessionsV2Query | None = None
    ) -> ApiResult[st.SessionListV2Data]:
        """List sessions with paging and filters."""
        env, status = await self.call("list_sessions_v2", st.SessionListV2Envelope, query=query)
        return ApiResult(env.data, status, env.code, env.message, env)

    async def _empty(
        self, operation_id: str, request: st.SessionIdRequest, session_token: str | None
    ) -> ApiResult[None]:
        env, status = await self.call(
            operation_id, st.EmptyEnvelope, body=request, session_token=session_token
        )
        return ApiResult(None, status, env.code, env.message, env)
