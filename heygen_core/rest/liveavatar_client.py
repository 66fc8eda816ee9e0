"""Typed async client for the LiveAvatar REST API (https://api.liveavatar.com).

Its methods, one per operation of ``schemas/rest/liveavatar.openapi.yaml``, are
generated (`heygen_models.liveavatar_operations`); their request and result
types are the generated models of that file.
"""

from __future__ import annotations

from heygen_models.liveavatar_operations import LiveAvatarOperations

from heygen_core.rest.transport import RestClient

API_KEY_ENV = "HEYGEN_LIVE_AVATAR_API_KEY"
"""The environment variable read for the LiveAvatar API key."""


class LiveAvatarClient(RestClient, LiveAvatarOperations):
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
        max_response_bytes: Cap on one answer (see `RestClient`); redirects
            are never followed, and a ``base_url`` with no scheme or ending
            in ``/v1`` is refused (`InvalidBaseUrlError`).
    """

    key_env = API_KEY_ENV
