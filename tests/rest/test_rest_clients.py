"""The REST clients against the embedded simulator, over real loopback HTTP."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from heygen_models import liveavatar as la
from heygen_models import streaming as st

from heygen_core.errors import (
    ApiError,
    AuthenticationError,
    CredentialsError,
    HeyGenError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    RequestRejectedError,
    ServerError,
    SessionLimitError,
    SessionStateError,
    TransportError,
)
from heygen_core.protocol.codec import encode
from heygen_core.protocol.schemas import schema_documents
from heygen_core.rest.liveavatar_client import LiveAvatarClient
from heygen_core.rest.operations import api_spec
from heygen_core.rest.redaction import REDACTED, redacted_repr
from heygen_core.rest.result import ApiResult
from heygen_core.rest.retry import RetryPolicy
from heygen_core.rest.streaming_client import StreamingClient
from heygen_core.simulator import Simulator, SimulatorConfig
from tests.support.real_world_bodies import PIPECAT_NEW_SESSION_BODY, SANDBOX_AVATAR

KEY = "sk-canary-4f1d2c3b5a69"
FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(SimulatorConfig(api_key=KEY)) as simulator:
        yield simulator


@pytest.fixture
async def live(sim: Simulator) -> AsyncIterator[LiveAvatarClient]:
    async with LiveAvatarClient(KEY, base_url=sim.url, retry=FAST) as client:
        yield client


@pytest.fixture
async def streaming(sim: Simulator) -> AsyncIterator[StreamingClient]:
    async with StreamingClient(KEY, base_url=sim.url, retry=FAST) as client:
        yield client


def lite_sandbox() -> la.LiteSessionTokenRequest:
    return la.LiteSessionTokenRequest(mode="LITE", avatar_id=SANDBOX_AVATAR, is_sandbox=True)


def test_every_operation_has_a_client_method() -> None:
    for api, client in (("liveavatar", LiveAvatarClient), ("streaming", StreamingClient)):
        for operation_id in api_spec(api).operations:  # type: ignore[arg-type]
            assert callable(getattr(client, operation_id, None)), f"{api}.{operation_id}"


async def test_liveavatar_session_lifecycle(sim: Simulator, live: LiveAvatarClient) -> None:
    token = await live.create_session_token(lite_sandbox())
    assert token.status == 200
    session_id = token.data.session_id
    started = await live.start_session(token.data.session_token)
    assert started.status == 201
    assert started.data.session_id == session_id
    assert isinstance(started.data.ws_url, str) and started.data.ws_url.startswith("ws://127.0.0.1")
    assert sim.open_sessions() == 1

    await live.keep_alive_session(session_token=token.data.session_token)
    await live.keep_alive_session(la.KeepAliveRequest(session_id=session_id))
    active = await live.list_sessions(la.ListSessionsQuery(type="active"))
    assert [entry.id for entry in active.data.results] == [session_id]
    entry = await live.get_session(session_id)
    assert entry.data.mode == "LITE" and entry.data.is_sandbox is True
    transcript = await live.get_session_transcript(session_id)
    assert transcript.data.transcript_data == []

    stopped = await live.stop_session(la.StopSessionRequest(session_id=session_id))
    assert stopped.status == 200 and stopped.data is None
    again = await live.stop_session(session_token=token.data.session_token)
    assert again.status == 200  # stop is idempotent, so retrying it is safe
    assert sim.open_sessions() == 0
    historic = await live.list_sessions(la.ListSessionsQuery(type="historic"))
    ended = [e for e in historic.data.results if e.id == session_id]
    assert len(ended) == 1
    reason = ended[0].end_reason
    assert reason is not None and getattr(reason, "root", reason) == "USER_CLOSED"


async def test_liveavatar_full_mode_token_has_no_ws_url(live: LiveAvatarClient) -> None:
    request = la.FullSessionTokenRequest(mode="FULL", avatar_id=SANDBOX_AVATAR, is_sandbox=True)
    token = await live.create_session_token(request)
    started = await live.start_session(token.data.session_token)
    assert started.data.ws_url in (None, la.MISSING) or not hasattr(started.data, "ws_url")
    await live.stop_session(session_token=token.data.session_token)


async def test_liveavatar_avatars_and_voices(sim: Simulator, live: LiveAvatarClient) -> None:
    avatars = await live.list_avatars()
    assert avatars.data.results
    public = await live.list_public_avatars()
    assert SANDBOX_AVATAR in [a.id for a in public.data.results]
    async with LiveAvatarClient(api_key="", base_url=sim.url) as anonymous:
        assert not anonymous.has_api_key
        public_again = await anonymous.list_public_avatars()  # needs no credentials
        assert public_again.data.count == public.data.count
        with pytest.raises(CredentialsError, match="HEYGEN_LIVE_AVATAR_API_KEY"):
            await anonymous.list_avatars()
    own = avatars.data.results[0]
    fetched = await live.get_avatar(own.id)
    assert fetched.data.id == own.id
    renamed = await live.update_avatar(own.id, la.UpdateAvatarRequest(name="Renamed"))
    assert renamed.data.name == "Renamed"
    deleted = await live.delete_avatar(own.id)
    assert deleted.data.id == own.id
    with pytest.raises(NotFoundError):
        await live.get_avatar(own.id)

    voices = await live.list_voices(la.ListVoicesQuery(voice_type="public"))
    assert voices.data.results
    voice = await live.get_voice(voices.data.results[0].id)
    assert voice.data.id == voices.data.results[0].id
    created = await live.create_third_party_voice(
        la.ThirdPartyVoiceRequest(
            provider_voice_id="pv-1", secret_id="7b0c3a52-5d55-4bd4-9a5e-1c1a1f0e2b11"
        )
    )
    assert created.data.voice_id


async def test_streaming_session_lifecycle(sim: Simulator, streaming: StreamingClient) -> None:
    token = await streaming.create_token()
    assert token.data.token
    request = st.NewSessionRequest.model_validate(PIPECAT_NEW_SESSION_BODY)
    new = await streaming.new_session(request)
    session_id = new.data.session_id
    assert new.data.realtime_endpoint and session_id in str(new.data.realtime_endpoint)
    ids = st.SessionIdRequest(session_id=session_id)
    with pytest.raises(SessionStateError) as early:
        await streaming.send_task(
            st.TaskRequest(session_id=session_id, text="hi", task_type="repeat")
        )
    assert early.value.code == 400006
    await streaming.start_session(ids)
    task = await streaming.send_task(
        st.TaskRequest(session_id=session_id, text="Hello there", task_type="repeat")
    )
    assert task.data.duration_ms > 0 and task.data.task_id
    await streaming.interrupt_task(ids)
    await streaming.start_listening(ids)
    await streaming.stop_listening(ids)
    await streaming.keep_alive(ids)
    listed = await streaming.list_sessions()
    assert session_id in [s.session_id for s in listed.data.sessions]
    paged = await streaming.list_sessions_v2(st.ListSessionsV2Query(page=1, page_size=10))
    assert session_id in [s.session_id for s in paged.data.data]
    # The session token works in place of the key.
    async with StreamingClient(
        api_key="", session_token=token.data.token, base_url=sim.url
    ) as by_token:
        await by_token.keep_alive(ids)
    await streaming.stop_session(ids)
    await streaming.stop_session(ids)
    assert sim.open_sessions() == 0


async def test_avatar_name_is_accepted_in_place_of_avatar_id(streaming: StreamingClient) -> None:
    new = await streaming.new_session(st.NewSessionRequest(avatar_name="Wayne_20240711"))
    await streaming.stop_session(st.SessionIdRequest(session_id=new.data.session_id))


async def test_wrong_key_is_an_authentication_error_without_the_key(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "sk-canary-wrong-99887766"
    async with LiveAvatarClient(wrong, base_url=sim.url) as client:
        assert wrong not in repr(client)
        with pytest.raises(AuthenticationError) as live_error:
            await client.create_session_token(lite_sandbox())
    async with StreamingClient(wrong, base_url=sim.url) as client:
        with pytest.raises(AuthenticationError) as streaming_error:
            await client.create_token()
    assert live_error.value.status == 401
    assert streaming_error.value.code == 400112
    for error in (live_error.value, streaming_error.value):
        for text in (str(error), repr(error), error.body_excerpt, error.message):
            assert wrong not in text and KEY not in text
    assert wrong not in caplog.text and KEY not in caplog.text


async def test_session_token_never_appears_in_errors(
    sim: Simulator, live: LiveAvatarClient
) -> None:
    token = await live.create_session_token(lite_sandbox())
    secret = token.data.session_token
    await live.start_session(secret)
    await live.stop_session(session_token=secret)
    with pytest.raises(ApiError) as info:
        await live.start_session(secret)
    for text in (str(info.value), repr(info.value), info.value.body_excerpt):
        assert secret not in text


def assert_redacted(result: ApiResult[Any], secrets: list[str], shown: str) -> None:
    """`result`'s repr and str hide every secret, and still show `shown` (not a secret)."""
    assert secrets and all(secrets)
    for text in (repr(result), str(result), f"{result}", f"{result!r}"):
        for secret in secrets:
            assert secret not in text, text
        assert text.count(REDACTED) >= len(secrets), text
        assert shown in text


async def test_reprs_of_token_bearing_results_redact_every_secret(
    sim: Simulator, live: LiveAvatarClient, streaming: StreamingClient
) -> None:
    lite = await live.create_session_token(lite_sandbox())
    assert_redacted(lite, [lite.data.session_token], lite.data.session_id)
    lite_started = await live.start_session(lite.data.session_token)
    client_token = lite_started.data.livekit_client_token
    agent_token = lite_started.data.livekit_agent_token
    assert isinstance(agent_token, str)
    assert_redacted(lite_started, [client_token, agent_token], lite.data.session_id)
    full = await live.create_session_token(
        la.FullSessionTokenRequest(mode="FULL", avatar_id=SANDBOX_AVATAR, is_sandbox=True)
    )
    full_started = await live.start_session(full.data.session_token)
    full_agent = full_started.data.livekit_agent_token
    assert isinstance(full_agent, str)
    full_tokens = [full_started.data.livekit_client_token, full_agent]
    assert_redacted(full_started, full_tokens, full.data.session_id)

    token = await streaming.create_token()
    assert_redacted(token, [token.data.token], "status=200")
    new = await streaming.new_session(st.NewSessionRequest(avatar_id="Wayne_20240711"))
    agent = new.data.livekit_agent_token
    assert isinstance(agent, str)
    assert_redacted(new, [new.data.access_token, agent], new.data.session_id)
    await streaming.stop_session(st.SessionIdRequest(session_id=new.data.session_id))
    for session in (lite, full):
        await live.stop_session(session_token=session.data.session_token)


def test_redaction_covers_nested_and_undeclared_secret_fields() -> None:
    turn = st.IceServer(urls="turn:turn.example.net", username="user", credential="turn-canary")
    data = st.NewSessionData.model_validate(
        {
            "session_id": "s-1",
            "access_token": "jwt-canary",
            "url": "wss://example.livekit.cloud",
            "ice_servers2": [turn.model_dump()],
            "refresh_token": "undeclared-canary",  # the service may add fields
            "extra": {"api_key": "nested-canary", "region": "eu"},
        }
    )
    text = redacted_repr(data)
    for canary in ("turn-canary", "jwt-canary", "undeclared-canary", "nested-canary"):
        assert canary not in text
    for shown in ("s-1", "wss://example.livekit.cloud", "username='user'", "'region': 'eu'"):
        assert shown in text


def test_every_x_secret_schema_property_is_redacted_on_its_model() -> None:
    marked = 0
    for doc in schema_documents():
        for name, schema in doc.defs.items():
            for prop, sub in schema.get("properties", {}).items():
                if not sub.get("x-secret"):
                    continue
                marked += 1
                model = doc.model(name)
                field = next(
                    f for f, info in model.model_fields.items() if (info.alias or f) == prop
                )
                # Built without validation: only the repr is under test.
                instance = model.model_construct(**{field: "secret-canary"})
                assert "secret-canary" not in redacted_repr(instance), (name, prop)
                # The generated model itself hides it too (codegen's x-secret step).
                assert "secret-canary" not in repr(instance), (name, prop)
                assert "secret-canary" not in str(instance), (name, prop)
                assert instance.model_dump(by_alias=True)[prop] == "secret-canary"  # still sent
    assert marked >= 8  # tokens of both APIs, LiveKit JWTs, Agora token, TURN credential


async def test_session_limit_is_its_own_error_not_a_credential_problem() -> None:
    config = SimulatorConfig(api_key=KEY, max_concurrent_sessions=1)
    async with (
        Simulator(config) as sim,
        LiveAvatarClient(KEY, base_url=sim.url, retry=FAST) as live,
        StreamingClient(KEY, base_url=sim.url, retry=FAST) as streaming,
    ):
        await live.create_session_token(lite_sandbox())
        with pytest.raises(SessionLimitError) as live_error:
            await live.create_session_token(lite_sandbox())
        await streaming.new_session(st.NewSessionRequest(avatar_id="Wayne_20240711"))
        with pytest.raises(SessionLimitError) as streaming_error:
            await streaming.new_session(st.NewSessionRequest(avatar_id="Wayne_20240711"))
        assert sim.requests_by_operation["create_session_token"] == 2  # never retried
    assert live_error.value.status == 409
    assert streaming_error.value.code == 10007
    for error in (live_error.value, streaming_error.value):
        assert not isinstance(error, AuthenticationError)
        text = str(error)
        assert "concurrent session limit (1) reached" in text.lower()
        assert "Stop a session you no longer need" in text and "heygen-avatar sessions list" in text
        assert "credential" not in text.lower()


async def test_a_token_for_another_session_says_so_not_check_the_credential(
    live: LiveAvatarClient,
) -> None:
    mine = await live.create_session_token(lite_sandbox())
    other = await live.create_session_token(lite_sandbox())
    with pytest.raises(PermissionDeniedError) as info:
        await live.stop_session(
            la.StopSessionRequest(session_id=other.data.session_id),
            session_token=mine.data.session_token,
        )
    error = info.value
    assert isinstance(error, AuthenticationError)  # still caught as a refused credential
    assert error.status == 403
    text = str(error)
    assert f"belongs to another session, not {other.data.session_id}" in text
    assert "leave session_id out" in text
    assert "Check the credential" not in text
    for secret in (mine.data.session_token, other.data.session_token, KEY):
        assert secret not in text and secret not in repr(error)


async def send_raw(sim: Simulator, operation_id: str, body: bytes) -> tuple[int, Any]:
    """POST `body` to a LiveAvatar operation with plain aiohttp, past the client's checks."""
    spec = api_spec("liveavatar")
    op = spec.operation(operation_id)
    headers = {spec.schemes["ApiKey"].header: KEY, "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(op.method, sim.url + op.path, data=body, headers=headers) as response,
    ):
        return response.status, await response.json()


async def test_a_malformed_uuid_in_a_body_is_refused_before_sending(
    sim: Simulator, live: LiveAvatarClient
) -> None:
    for bad in ("not-a-uuid", KEY):  # a key pasted in the wrong place stays out of the message
        with pytest.raises(InvalidRequestError) as info:
            await live.stop_session(la.StopSessionRequest(session_id=bad))
        error = info.value
        assert isinstance(error, ProtocolError) and isinstance(error, HeyGenError)
        assert (error.operation_id, error.where, error.field) == (
            "stop_session",
            "body",
            "session_id",
        )
        assert [(e["loc"], e["type"]) for e in error.errors] == [
            (("body", "session_id"), "uuid_parsing")
        ]
        assert str(error) == (
            "stop_session was not sent: session_id: expected a UUID such as "
            "3c90c3cc-0d44-4b50-8888-8dd25736052a (use the id from create_session_token "
            "or list_sessions)"
        )
        assert bad not in str(error) and bad not in repr(error)
    assert sim.requests_by_operation["stop_session"] == 0
    # The same body sent past the client: the simulator's own 422 still answers it.
    status, answer = await send_raw(sim, "stop_session", b'{"session_id":"not-a-uuid"}')
    assert status == 422
    assert [(d["loc"], d["type"]) for d in answer["detail"]] == [
        (["body", "session_id"], "uuid_parsing")
    ]


async def test_a_malformed_uuid_in_a_query_is_refused_before_sending(
    sim: Simulator, live: LiveAvatarClient
) -> None:
    query = la.ListSessionsQuery(type="active", avatar_id=SANDBOX_AVATAR, embed_id="embed-1")
    with pytest.raises(InvalidRequestError) as info:
        await live.list_sessions(query)
    assert (info.value.where, info.value.field) == ("query", "embed_id")
    assert "list_sessions was not sent: embed_id: expected a UUID such as" in str(info.value)
    assert "embed-1" not in str(info.value)
    assert sim.requests_by_operation["list_sessions"] == 0
    # A well-formed one is sent.
    await live.list_sessions(la.ListSessionsQuery(type="active", avatar_id=SANDBOX_AVATAR))
    assert sim.requests_by_operation["list_sessions"] == 1


async def test_a_malformed_uuid_in_a_path_is_refused_before_sending(
    sim: Simulator, live: LiveAvatarClient
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await live.get_session("nope")
    assert (info.value.where, info.value.field) == ("path", "session_id")
    assert [e["loc"] for e in info.value.errors] == [("path", "session_id")]
    assert "get_session was not sent: session_id: expected a UUID" in str(info.value)
    with pytest.raises(InvalidRequestError) as deleting:
        await live.delete_avatar("Wayne_20240711")  # a Streaming avatar name, not an id
    assert "avatar_id: expected a UUID" in str(deleting.value)
    assert "list_avatars or list_public_avatars" in str(deleting.value)
    assert sim.requests_by_operation["get_session"] == 0
    assert sim.requests_by_operation["delete_avatar"] == 0


async def test_avatar_persona_with_voice_agent_is_refused_before_sending(
    sim: Simulator, live: LiveAvatarClient
) -> None:
    # The generated model cannot express the schema's `not: {required: [...]}`.
    request = la.FullSessionTokenRequest(
        mode="FULL",
        avatar_id=SANDBOX_AVATAR,
        is_sandbox=True,
        avatar_persona=la.AvatarPersona(language="en"),
        voice_agent=la.VoiceAgent(id="4737ace9-ad5f-4d09-9577-4c0b9ba3dbd7"),
    )
    with pytest.raises(InvalidRequestError) as info:
        await live.create_session_token(request)
    error = info.value
    assert str(error) == (
        "create_session_token was not sent: send avatar_persona or voice_agent, not both"
    )
    assert (error.where, error.field, error.message_type) == (
        "body",
        None,
        "FullSessionTokenRequest",
    )
    assert sim.requests_by_operation["create_session_token"] == 0
    # Sent past the client, the simulator refuses it with the service's 422.
    status, answer = await send_raw(
        sim, "create_session_token", encode(la.SessionTokenRequest(request)).encode()
    )
    assert status == 422
    assert [(d["loc"], d["type"]) for d in answer["detail"]] == [(["body", "FULL"], "value_error")]
    assert "avatar_persona and voice_agent are mutually exclusive" in answer["detail"][0]["msg"]


async def test_streaming_validation_codes_are_validation_errors_naming_the_field(
    streaming: StreamingClient,
) -> None:
    with pytest.raises(RequestRejectedError) as missing:
        await streaming.new_session(st.NewSessionRequest())  # neither avatar_id nor avatar_name
    assert (missing.value.status, missing.value.code) == (400, 40001)
    assert "avatar_id" in str(missing.value)
    with pytest.raises(RequestRejectedError) as invalid:
        await streaming.list_sessions_v2(st.ListSessionsV2Query(token="not-a-page-token"))
    assert (invalid.value.status, invalid.value.code) == (400, 400175)
    assert "Invalid parameter: token" in str(invalid.value)


async def test_a_per_call_timeout_overrides_the_clients(sim: Simulator) -> None:
    sim.inject("create_token", ("delay", 2.0))
    async with StreamingClient(KEY, base_url=sim.url, timeout=30, retry=FAST) as patient:
        with pytest.raises(TransportError) as info:
            await patient.create_token(timeout=0.3)
    assert info.value.timed_out and "0.3 s" in str(info.value)
    sim.inject("create_token", ("delay", 0.5))
    async with StreamingClient(KEY, base_url=sim.url, timeout=0.2, retry=FAST) as hasty:
        answer = await hasty.create_token(timeout=5)
        assert answer.status == 200 and answer.data.token
        with pytest.raises(ValueError, match="positive"):
            await hasty.create_token(timeout=0)


async def test_call_by_operation_id_checks_the_expected_answer_type(
    streaming: StreamingClient,
) -> None:
    body = st.CreateTokenRequest()
    answer, status = await streaming.call("create_token", st.CreateTokenResponse, body=body)
    assert status == 200 and answer.data.token
    with pytest.raises(TypeError, match="answers CreateTokenResponse, not EmptyEnvelope"):
        await streaming.call("create_token", st.EmptyEnvelope, body=body)


async def test_validation_error_carries_field_locations(live: LiveAvatarClient) -> None:
    # Valid by the schema, but over the account's limit: the service's 422.
    request = la.LiteSessionTokenRequest(
        mode="LITE", avatar_id=SANDBOX_AVATAR, is_sandbox=True, max_session_duration=999_999
    )
    with pytest.raises(RequestRejectedError) as info:
        await live.create_session_token(request)
    assert info.value.status == 422
    assert any(error.loc[-1] == "max_session_duration" for error in info.value.errors)
    assert "max_session_duration" in str(info.value)


async def test_client_refuses_to_send_an_invalid_body(live: LiveAvatarClient) -> None:
    # model_construct skips validation; encode() still keeps it off the wire.
    bad = la.SessionTokenRequest(la.LiteSessionTokenRequest.model_construct(mode="LITE"))
    with pytest.raises(ProtocolError):
        await live.create_session_token(bad)


async def test_unknown_streaming_session_is_an_api_error(streaming: StreamingClient) -> None:
    with pytest.raises(ApiError) as info:
        await streaming.keep_alive(st.SessionIdRequest(session_id="no-such-session"))
    assert info.value.code == 10002


async def test_not_found(live: LiveAvatarClient) -> None:
    with pytest.raises(NotFoundError) as info:
        await live.get_session("00000000-0000-4000-8000-000000000000")
    assert info.value.status == 404
    assert info.value.path == "/v1/sessions/{session_id}"


async def test_session_state_error(live: LiveAvatarClient) -> None:
    token = await live.create_session_token(lite_sandbox())
    await live.start_session(token.data.session_token)
    with pytest.raises(SessionStateError) as info:
        await live.start_session(token.data.session_token)
    assert info.value.code == 400006
    assert "Start the session first" in str(info.value)
    await live.stop_session(la.StopSessionRequest(session_id=token.data.session_id))


async def test_rate_limit_gives_retry_after() -> None:
    config = SimulatorConfig(api_key=KEY, rate_limit_per_second=2)
    async with (
        Simulator(config) as sim,
        LiveAvatarClient(KEY, base_url=sim.url, retry=RetryPolicy(max_attempts=1)) as client,
    ):
        await client.list_avatars()
        await client.list_avatars()
        with pytest.raises(RateLimitError) as info:
            await client.list_avatars()
    assert info.value.status == 429
    assert info.value.retry_after is not None and info.value.retry_after >= 1


async def test_rate_limited_call_waits_retry_after_then_succeeds(sim: Simulator) -> None:
    sim.inject("create_session_token", 429)
    async with LiveAvatarClient(KEY, base_url=sim.url, retry=FAST) as client:
        started = time.monotonic()
        token = await client.create_session_token(lite_sandbox())
        waited = time.monotonic() - started
    assert token.data.session_token
    assert waited >= 0.9  # the simulator asks for Retry-After: 1
    assert sim.requests_by_operation["create_session_token"] == 2


async def test_server_errors_are_retried_for_safe_calls(
    sim: Simulator, live: LiveAvatarClient
) -> None:
    token = await live.create_session_token(lite_sandbox())
    sim.inject("get_session", 503, 500)
    entry = await live.get_session(token.data.session_id)
    assert entry.data.id == token.data.session_id
    assert sim.requests_by_operation["get_session"] == 3
    sim.inject("keep_alive_session", "disconnect")
    await live.keep_alive_session(la.KeepAliveRequest(session_id=token.data.session_id))
    assert sim.requests_by_operation["keep_alive_session"] == 2


async def test_token_creation_is_never_retried_blindly(
    sim: Simulator, live: LiveAvatarClient
) -> None:
    sim.inject("create_session_token", 503)
    with pytest.raises(ServerError) as info:
        await live.create_session_token(lite_sandbox())
    assert info.value.status == 503
    assert sim.requests_by_operation["create_session_token"] == 1
    sim.inject("new_session", "disconnect")
    async with StreamingClient(KEY, base_url=sim.url, retry=FAST) as client:
        with pytest.raises(TransportError):
            await client.new_session(st.NewSessionRequest(avatar_id="Wayne_20240711"))
    assert sim.requests_by_operation["new_session"] == 1


async def test_retries_stop_after_max_attempts(sim: Simulator) -> None:
    sim.inject("list_avatars", 500, 500, 500, 500)
    policy = RetryPolicy(max_attempts=3, base_delay=0.01)
    async with LiveAvatarClient(KEY, base_url=sim.url, retry=policy) as client:
        with pytest.raises(ServerError):
            await client.list_avatars()
    assert sim.requests_by_operation["list_avatars"] == 3


async def test_timeout_is_a_transport_error(sim: Simulator) -> None:
    sim.inject("create_token", ("delay", 2.0))
    async with StreamingClient(KEY, base_url=sim.url, timeout=0.3, retry=FAST) as client:
        with pytest.raises(TransportError) as info:
            await client.create_token()
    assert info.value.timed_out
    assert "0.3 s" in str(info.value)


async def test_refused_connection_is_a_transport_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policy = RetryPolicy(max_attempts=2, base_delay=0.01)
    async with LiveAvatarClient(KEY, base_url=f"http://127.0.0.1:{port}", retry=policy) as client:
        with pytest.raises(TransportError, match=r"connection to http://127\.0\.0\.1"):
            await client.list_avatars()


async def test_api_key_from_the_environment(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEYGEN_LIVE_AVATAR_API_KEY", KEY)
    monkeypatch.setenv("HEYGEN_API_KEY", KEY)
    async with (
        LiveAvatarClient(base_url=sim.url) as live,
        StreamingClient(base_url=sim.url) as streaming,
    ):
        assert (await live.list_avatars()).data.results
        assert (await streaming.create_token()).data.token
    monkeypatch.delenv("HEYGEN_LIVE_AVATAR_API_KEY")
    async with LiveAvatarClient(base_url=sim.url) as live:
        with pytest.raises(
            CredentialsError, match="pass api_key= or set HEYGEN_LIVE_AVATAR_API_KEY"
        ):
            await live.create_session_token(lite_sandbox())


async def test_a_given_http_session_is_left_open(sim: Simulator) -> None:
    async with aiohttp.ClientSession() as http:
        async with LiveAvatarClient(KEY, base_url=sim.url, session=http) as client:
            await client.list_avatars()
        assert not http.closed
        async with StreamingClient(KEY, base_url=sim.url, session=http) as other:
            await other.create_token()
        assert not http.closed


async def test_an_owned_http_session_is_closed(sim: Simulator) -> None:
    client = LiveAvatarClient(KEY, base_url=sim.url)
    await client.list_avatars()
    http = client._session
    assert http is not None and not http.closed
    await client.close()
    assert http.closed
    with pytest.raises(Exception, match="is closed"):
        await client.list_avatars()
