"""Typed async client for the legacy HeyGen Streaming API (https://api.heygen.com).

Its methods, one per operation of ``schemas/rest/streaming.openapi.yaml``, are
generated (`heygen_models.streaming_operations`); their request and result
types are the generated models of that file. Wire names are snake_case:
`NewSessionRequest(voice=VoiceSetting(voice_id=...))` sends ``voice_id`` as
given (Pipecat's camelCase aliases silently dropped it).
"""

from __future__ import annotations

from heygen_models.streaming_operations import StreamingOperations

from heygen_core.rest.transport import RestClient

API_KEY_ENV = "HEYGEN_API_KEY"
"""The environment variable read for the HeyGen API key."""


class StreamingClient(RestClient, StreamingOperations):
    """Async client for the Interactive Avatar Streaming API.

    Args:
        api_key: HeyGen API key; default: the ``HEYGEN_API_KEY`` environment variable.
        session_token: A session token, used where an operation accepts one.
        base_url: Overrides ``https://api.heygen.com`` (the simulator).
        session: An aiohttp session to share; the client does not close it.
        timeout: Seconds allowed for each attempt of each call.
        retry: Retry policy (see `RetryPolicy`).
        max_response_bytes: Cap on one answer (see `RestClient`); redirects
            are never followed, and a ``base_url`` with no scheme or ending
            in ``/v1`` is refused (`InvalidBaseUrlError`).
    """

    key_env = API_KEY_ENV
