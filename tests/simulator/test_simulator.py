"""The embedded REST simulator, over real loopback HTTP, as a client sees it."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import select
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from heygen_models import liveavatar as la
from heygen_models import streaming as st

from heygen_core.protocol.codec import decode_as
from heygen_core.rest.operations import ApiName, api_spec
from heygen_core.simulator import Simulator, SimulatorConfig, SimulatorThread
from tests.support.polling import eventually
from tests.support.real_world_bodies import (
    OFFICIAL_LITE_TOKEN_BODY,
    PIPECAT_NEW_SESSION_BODY,
    SANDBOX_AVATAR,
)

KEY = "sim-test-key-0123456789"
PRIVATE_AVATAR = "bf00036b-558a-44b5-b2ff-1e3cec0f4ceb"  # "Clint", in every account
OTHER_PRIVATE_AVATAR = "073b60a9-89a8-45aa-8902-c358f64d2852"
OFFICIAL_LITE_BODY = OFFICIAL_LITE_TOKEN_BODY
# The official JS SDK's shape: `avatar_name` instead of `avatar_id`.
OFFICIAL_NEW = {"avatar_name": "Wayne_20240711", "quality": "medium", "version": "v2"}
SCRIPT = shutil.which("heygen-avatar", path=str(Path(sys.executable).parent))
_UNSET: Any = object()


@dataclass
class Answer:
    status: int
    body: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


class Api:
    """Calls operations by operationId; method and path come from the schema."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        self.http = http
        self.base_url = base_url

    async def call(
        self,
        api: ApiName,
        operation_id: str,
        *,
        key: str | None = KEY,
        bearer: str | None = None,
        body: Any = _UNSET,
        raw: bytes | None = None,
        query: Mapping[str, str] | None = None,
        client_timeout: float | None = None,
        **path: str,
    ) -> Answer:
        spec = api_spec(api)
        op = spec.operation(operation_id)
        headers = {}
        if key is not None:
            headers[spec.schemes["ApiKey"].header] = key
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        kwargs: dict[str, Any] = {"headers": headers, "params": query}
        if body is not _UNSET:
            kwargs["json"] = body
        elif raw is not None:
            kwargs["data"] = raw
            headers["Content-Type"] = "application/json"
        if client_timeout is not None:
            kwargs["timeout"] = aiohttp.ClientTimeout(total=client_timeout)
        url = self.base_url + op.path.format(**path)
        async with self.http.request(op.method, url, **kwargs) as response:
            return Answer(response.status, await response.read(), dict(response.headers))

    async def ok(self, api: ApiName, operation_id: str, **kwargs: Any) -> Any:
        """Call, expect the schema's success status, decode with its response model."""
        op = api_spec(api).operation(operation_id)
        answer = await self.call(api, operation_id, **kwargs)
        assert answer.status == op.success_status, (operation_id, answer.status, answer.body)
        return decode_as(op.response_model, answer.body)


@asynccontextmanager
async def running(config: SimulatorConfig) -> AsyncIterator[tuple[Simulator, Api]]:
    async with Simulator(config) as sim, aiohttp.ClientSession() as http:
        yield sim, Api(http, sim.url)


@pytest.fixture
async def sim_api() -> AsyncIterator[tuple[Simulator, Api]]:
    async with running(SimulatorConfig(api_key=KEY)) as pair:
        yield pair


async def new_liveavatar_session(api: Api, body: Any = None, **kwargs: Any) -> tuple[str, str]:
    data = (
        await api.ok(
            "liveavatar", "create_session_token", body=body or OFFICIAL_LITE_BODY, **kwargs
        )
    ).data
    return data.session_id, data.session_token


def validation_items(answer: Answer) -> list[la.ValidationErrorItem]:
    assert answer.status == 422, answer.body
    return decode_as(la.HTTPValidationError, answer.body).detail


def streaming_error(answer: Answer, status: int, code: int) -> st.ErrorResponse:
    assert answer.status == status, answer.body
    error = decode_as(st.ErrorResponse, answer.body)
    assert error.code == code, answer.body
    return error


def liveavatar_error(answer: Answer, status: int) -> la.ErrorEnvelope:
    assert answer.status == status, answer.body
    return decode_as(la.ErrorEnvelope, answer.body)


# --------------------------------------------------------------------- coverage


async def test_every_operation_of_both_apis_answers_its_success_model(
    sim_api: tuple[Simulator, Api],
) -> None:
    sim, api = sim_api
    seen: list[tuple[str, str]] = []

    async def ok(api_name: ApiName, operation_id: str, **kwargs: Any) -> Any:
        seen.append((api_name, operation_id))
        return await api.ok(api_name, operation_id, **kwargs)

    # LiveAvatar
    token = (await ok("liveavatar", "create_session_token", body=OFFICIAL_LITE_BODY)).data
    started = (await ok("liveavatar", "start_session", key=None, bearer=token.session_token)).data
    assert started.session_id == token.session_id
    await ok("liveavatar", "keep_alive_session", key=None, bearer=token.session_token, body={})
    listed = await ok("liveavatar", "list_sessions", query={"type": "active"})
    assert [entry.id for entry in listed.data.results] == [token.session_id]
    entry = (await ok("liveavatar", "get_session", session_id=token.session_id)).data
    assert (entry.mode, entry.is_sandbox, entry.source) == ("LITE", True, "API")
    transcript = await ok("liveavatar", "get_session_transcript", session_id=token.session_id)
    assert transcript.data.session_active is True
    await ok("liveavatar", "stop_session", body={"session_id": token.session_id})
    avatars = await ok("liveavatar", "list_avatars")
    assert PRIVATE_AVATAR in [a.id for a in avatars.data.results]
    public = await ok("liveavatar", "list_public_avatars", key=None)
    assert SANDBOX_AVATAR in [a.id for a in public.data.results]
    assert (await ok("liveavatar", "get_avatar", avatar_id=SANDBOX_AVATAR)).data.name
    renamed = await ok(
        "liveavatar", "update_avatar", avatar_id=PRIVATE_AVATAR, body={"name": "Clint (support)"}
    )
    assert renamed.data.name == "Clint (support)"
    await ok("liveavatar", "delete_avatar", avatar_id=OTHER_PRIVATE_AVATAR)
    voices = await ok("liveavatar", "list_voices", query={"voice_type": "public"})
    assert (await ok("liveavatar", "get_voice", voice_id=voices.data.results[0].id)).data.name
    created = await ok(
        "liveavatar",
        "create_third_party_voice",
        body={
            "provider_voice_id": "21m00Tcm4TlvDq8ikWAM",
            "secret_id": "1b2c3d4e-5f60-4718-92a3-b4c5d6e7f809",
            "name": "Rachel",
        },
    )
    mine = await ok("liveavatar", "list_voices", query={"voice_type": "private"})
    assert [v.id for v in mine.data.results] == [created.data.voice_id]
    voice = {"voice_id": created.data.voice_id}
    assert (await ok("liveavatar", "get_voice_preview", **voice)).data.audio_base64
    await ok("liveavatar", "update_voice", **voice, body={"name": "Rachel (calm)"})
    await ok("liveavatar", "delete_voice", **voice)
    await ok("liveavatar", "delete_session_events", session_id=token.session_id)
    memory = await ok(
        "liveavatar",
        "create_memory",
        body={"memory_type": "session", "session_id": token.session_id},
    )
    assert memory.data.id
    context_body = {"name": "Billing", "prompt": "Help ${name}.", "opening_text": "Hi!"}
    context = (await ok("liveavatar", "create_context", body=context_body)).data
    assert context.required_dynamic_variables == ["name"]
    cid = {"context_id": context.id}
    assert (await ok("liveavatar", "get_context", **cid)).data.name == "Billing"
    await ok("liveavatar", "update_context", **cid, body={**context_body, "name": "Bills"})
    copy = (await ok("liveavatar", "copy_context", **cid)).data
    assert copy.name == "Bills (Copy)"
    listed_contexts = await ok("liveavatar", "list_contexts")
    assert copy.id in [c.id for c in listed_contexts.data.results]
    await ok("liveavatar", "delete_context", **cid)
    secret_body = {"secret_name": "LLM", "secret_value": "sk-x", "secret_type": "LLM_API_KEY"}
    secret = (await ok("liveavatar", "create_secret", body=secret_body)).data
    assert [s.id for s in (await ok("liveavatar", "list_secrets")).data.root] == [secret.id]
    llm_body = {"display_name": "Mine", "model_name": "gpt-4o-mini", "secret_id": secret.id}
    llm = (await ok("liveavatar", "create_llm_configuration", body=llm_body)).data
    await ok("liveavatar", "get_llm_configuration", config_id=llm.id)
    await ok("liveavatar", "update_llm_configuration", config_id=llm.id, body={"display_name": "X"})
    assert (await ok("liveavatar", "list_llm_configurations")).data.root
    await ok("liveavatar", "delete_secret", secret_id=secret.id)
    assert (await ok("liveavatar", "list_llm_models", key=None)).data.root
    agents = (await ok("liveavatar", "list_voice_agents")).data.root
    await ok("liveavatar", "get_voice_agent", agent_id=agents[0].id)
    await ok("liveavatar", "delete_voice_agent", agent_id=agents[0].id)
    embed = await ok("liveavatar", "create_embed", body={"avatar_id": SANDBOX_AVATAR})
    assert embed.data.url
    assert (await ok("liveavatar", "get_credits")).data.credits_left
    assert (await ok("liveavatar", "list_languages", key=None)).data.root

    # Streaming
    bearer = (await ok("streaming", "create_token", body={})).data.token
    new = (await ok("streaming", "new_session", key=None, bearer=bearer, body=OFFICIAL_NEW)).data
    sid = {"session_id": new.session_id}
    await ok("streaming", "start_session", body=sid)
    task = await ok(
        "streaming", "send_task", body={**sid, "text": "Hello there!", "task_type": "repeat"}
    )
    assert task.data.duration_ms > 0 and task.data.task_id
    for operation_id in ("interrupt_task", "start_listening", "stop_listening", "keep_alive"):
        await ok("streaming", operation_id, body=sid)
    active = await ok("streaming", "list_sessions")
    assert [(s.session_id, s.status) for s in active.data.sessions] == [
        (new.session_id, "connected")
    ]
    await ok("streaming", "stop_session", body=sid)
    history = await ok("streaming", "list_sessions_v2", query={"page": "1", "page_size": "10"})
    assert [(r.session_id, r.status) for r in history.data.data] == [(new.session_id, "closed")]

    expected = {("liveavatar", op) for op in api_spec("liveavatar").operations} | {
        ("streaming", op) for op in api_spec("streaming").operations
    }
    assert set(seen) == expected
    assert sim.requests_by_operation["create_session_token"] == 1
    assert sim.requests_by_api_operation["streaming.stop_session"] == 1
    assert sim.requests_by_operation["stop_session"] == 2  # one per API


async def test_pipecat_new_session_body_is_accepted(sim_api: tuple[Simulator, Api]) -> None:
    sim, api = sim_api
    envelope = await api.ok("streaming", "new_session", body=PIPECAT_NEW_SESSION_BODY)
    data = envelope.data
    assert envelope.code == 100 and envelope.message == "success"
    assert data.url == f"heygen-sim://127.0.0.1:{sim.port}"
    assert data.realtime_endpoint == (
        f"ws://127.0.0.1:{sim.port}/v2-alpha/interactive-avatar/session/{data.session_id}"
    )
    assert data.access_token.count(".") == 2 and data.livekit_agent_token
    assert data.is_paid is False and data.session_duration_limit == 600
    assert data.sdp is None and data.ice_servers is None


async def test_official_lite_token_body_gives_a_ws_url_only_to_lite(
    sim_api: tuple[Simulator, Api],
) -> None:
    sim, api = sim_api
    _, lite_token = await new_liveavatar_session(api, OFFICIAL_LITE_BODY)
    lite = (await api.ok("liveavatar", "start_session", key=None, bearer=lite_token)).data
    assert lite.ws_url == f"ws://127.0.0.1:{sim.port}/v1/sessions/{lite.session_id}/ws"
    assert lite.livekit_url == f"heygen-sim://127.0.0.1:{sim.port}"
    claims = lite.livekit_client_token.split(".")[1]
    assert json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["simulated"]
    assert lite.max_session_duration == 60  # the sandbox's minute
    full_body = {"mode": "FULL", "avatar_id": PRIVATE_AVATAR, "max_session_duration": 300}
    _, full_token = await new_liveavatar_session(api, full_body)
    full = (await api.ok("liveavatar", "start_session", key=None, bearer=full_token)).data
    assert full.ws_url is None and full.max_session_duration == 300
    agent_body = {
        "mode": "LITE",
        "avatar_id": PRIVATE_AVATAR,
        "elevenlabs_agent_config": {
            "secret_id": "1b2c3d4e-5f60-4718-92a3-b4c5d6e7f809",
            "agent_id": "agent_01jz8x7y6w5v4t3s2r1q0p",
        },
    }
    _, agent_token = await new_liveavatar_session(api, agent_body)
    agent = (await api.ok("liveavatar", "start_session", key=None, bearer=agent_token)).data
    assert agent.ws_url is None and agent.max_session_duration == 1200


# ------------------------------------------------------------------- validation


async def test_liveavatar_validation_errors_are_fastapi_422_naming_the_field(
    sim_api: tuple[Simulator, Api],
) -> None:
    _, api = sim_api
    missing = validation_items(
        await api.call("liveavatar", "create_session_token", body={"mode": "LITE"})
    )
    assert [(i.loc, i.type) for i in missing] == [(["body", "LITE", "avatar_id"], "missing")]
    renamed = validation_items(
        await api.call(
            "liveavatar", "create_session_token", body={"mode": "CUSTOM", "avatar_id": "x"}
        )
    )
    assert renamed[0].loc == ["body"] and "CUSTOM" in renamed[0].msg
    bad_uuid = validation_items(
        await api.call(
            "liveavatar", "create_session_token", body={"mode": "FULL", "avatar_id": "x"}
        )
    )
    assert [(i.loc, i.type) for i in bad_uuid] == [(["body", "FULL", "avatar_id"], "uuid_parsing")]
    too_long = validation_items(
        await api.call(
            "liveavatar",
            "create_session_token",
            body={**OFFICIAL_LITE_BODY, "is_sandbox": False, "max_session_duration": 5000},
        )
    )
    assert too_long[0].loc == ["body", "LITE", "max_session_duration"]
    query = validation_items(
        await api.call("liveavatar", "list_sessions", query={"type": "active", "page_size": "500"})
    )
    assert [(i.loc, i.type) for i in query] == [(["query", "page_size"], "less_than_equal")]
    no_type = validation_items(await api.call("liveavatar", "list_sessions"))
    assert [(i.loc, i.type) for i in no_type] == [(["query", "type"], "missing")]
    query_uuid = validation_items(
        await api.call("liveavatar", "list_sessions", query={"type": "active", "avatar_id": "x"})
    )
    assert [(i.loc, i.type) for i in query_uuid] == [(["query", "avatar_id"], "uuid_parsing")]
    path = validation_items(await api.call("liveavatar", "get_session", session_id="nope"))
    assert [(i.loc, i.type) for i in path] == [(["path", "session_id"], "uuid_parsing")]
    not_json = validation_items(
        await api.call("liveavatar", "create_session_token", raw=b"{not json")
    )
    assert [(i.loc, i.type) for i in not_json] == [(["body"], "json_invalid")]
    no_body = validation_items(await api.call("liveavatar", "create_session_token"))
    assert [(i.loc, i.type) for i in no_body] == [(["body"], "missing")]
    # Start takes no body or {}: both work.
    _, token = await new_liveavatar_session(api)
    await api.ok("liveavatar", "start_session", key=None, bearer=token, body={})
    _, token = await new_liveavatar_session(api)
    await api.ok("liveavatar", "start_session", key=None, bearer=token)


async def test_avatar_persona_and_voice_agent_together_are_a_422_naming_both(
    sim_api: tuple[Simulator, Api],
) -> None:
    sim, api = sim_api
    persona = {"voice_id": "c2527536-6d1f-4412-a643-53a3497dada9", "language": "en"}
    agent = {"id": "4737ace9-ad5f-4d09-9577-4c0b9ba3dbd7"}
    full = {"mode": "FULL", "avatar_id": PRIVATE_AVATAR}
    both = validation_items(
        await api.call(
            "liveavatar",
            "create_session_token",
            body={**full, "avatar_persona": persona, "voice_agent": agent},
        )
    )
    assert [(i.loc, i.type) for i in both] == [(["body", "FULL"], "value_error")]
    assert "avatar_persona and voice_agent are mutually exclusive" in both[0].msg
    assert sim.open_sessions() == 0
    # Either one alone is fine.
    await new_liveavatar_session(api, {**full, "avatar_persona": persona})
    await new_liveavatar_session(api, {**full, "voice_agent": agent})


async def test_streaming_validation_errors_use_vendor_codes_naming_the_field(
    sim_api: tuple[Simulator, Api],
) -> None:
    sim, api = sim_api
    missing = streaming_error(await api.call("streaming", "start_session", body={}), 400, 40001)
    assert "session_id" in missing.message
    task = {"session_id": "s", "text": "hi", "task_type": "talk"}
    invalid = streaming_error(await api.call("streaming", "send_task", body=task), 400, 400175)
    assert "task_type" in invalid.message
    # The camelCase spelling is not refused: like the vendor, the simulator
    # ignores the unknown field, and the session keeps the default idle
    # timeout (what users who sent it saw, docs/protocol.md §2).
    camel = await api.call(
        "streaming",
        "new_session",
        body={"avatar_id": "Wayne_20240711", "activityIdleTimeout": 600},
    )
    assert camel.status == 200, camel.body
    created = sim.state.streaming_session(json.loads(camel.body)["data"]["session_id"])
    assert created is not None and created.idle_timeout == 120.0
    rate = streaming_error(
        await api.call(
            "streaming", "new_session", body={"avatar_id": "Wayne", "voice": {"rate": 3.0}}
        ),
        400,
        400175,
    )
    assert "voice.rate" in rate.message
    no_avatar = streaming_error(await api.call("streaming", "new_session", body={}), 400, 40001)
    assert "avatar_id" in no_avatar.message
    not_json = await api.call("streaming", "new_session", raw=b"{oops")
    streaming_error(not_json, 400, 400175)
    bodyless = streaming_error(await api.call("streaming", "create_token"), 415, 40001)
    assert bodyless.message == "Unsupported media type"
    page = streaming_error(
        await api.call("streaming", "list_sessions_v2", query={"page_size": "0"}), 400, 400175
    )
    assert "page_size" in page.message


# ------------------------------------------------------------------------- auth


async def test_missing_or_wrong_credentials_get_401_without_echoing_them(
    sim_api: tuple[Simulator, Api],
) -> None:
    _, api = sim_api
    wrong = "wrong-key-that-must-not-be-echoed"
    for key in (None, wrong):
        answer = await api.call(
            "liveavatar", "create_session_token", key=key, body=OFFICIAL_LITE_BODY
        )
        error = liveavatar_error(answer, 401)
        assert error.code == 401 and "X-API-KEY" in error.message
        assert wrong.encode() not in answer.body
        answer = await api.call("streaming", "create_token", key=key, body={})
        streaming_error(answer, 401, 400112)
        assert wrong.encode() not in answer.body
    start = liveavatar_error(
        await api.call("liveavatar", "start_session", key=None, bearer="not-a-session-token"), 401
    )
    assert "Authorization: Bearer" in start.message
    # The API key does not start a session: only its session token does.
    liveavatar_error(await api.call("liveavatar", "start_session"), 401)
    stop = liveavatar_error(await api.call("liveavatar", "stop_session", key=None, body={}), 401)
    assert "X-API-KEY or Authorization: Bearer" in stop.message
    streaming_error(
        await api.call("streaming", "new_session", key=None, bearer="nope", body=OFFICIAL_NEW),
        401,
        400112,
    )
    # Public avatars need no credentials at all.
    await api.ok("liveavatar", "list_public_avatars", key=None)


async def test_secrets_stay_out_of_reprs_and_logs(
    sim_api: tuple[Simulator, Api], caplog: pytest.LogCaptureFixture
) -> None:
    sim, api = sim_api
    assert KEY not in repr(SimulatorConfig(api_key=KEY))
    caplog.set_level(logging.DEBUG, logger="heygen_core")
    session_id, token = await new_liveavatar_session(api)
    await api.ok("liveavatar", "start_session", key=None, bearer=token)
    await api.call("liveavatar", "create_session_token", key="bad-secret", body=OFFICIAL_LITE_BODY)
    bearer = (await api.ok("streaming", "create_token", body={})).data.token
    session = sim.state.liveavatar_session(session_id)
    assert session is not None
    for text in (repr(session), repr(sim), repr(sim.state), caplog.text):
        for secret in (KEY, token, bearer, "bad-secret"):
            assert secret not in text


# ----------------------------------------------------------------------- limits


async def test_rate_limit_answers_429_with_retry_after_per_caller_and_endpoint() -> None:
    async with running(SimulatorConfig(rate_limit_per_second=3)) as (_, api):
        # Sent at once; 7 calls cannot fit even if they straddle two 1-second windows.
        answers = await asyncio.gather(*(api.call("liveavatar", "list_avatars") for _ in range(7)))
        limited = [a for a in answers if a.status == 429]
        assert limited and all(a.status in (200, 429) for a in answers)
        error = decode_as(la.ErrorEnvelope, limited[0].body)
        assert error.code == 429
        retry_after = int(limited[0].headers["Retry-After"])
        assert retry_after >= 1
        assert int(limited[0].headers["X-RateLimit-Reset"]) >= int(time.time())
        # Another endpoint, and another caller, have their own budgets.
        await api.ok("liveavatar", "list_voices")
        await api.ok("liveavatar", "list_avatars", key="another-key")
        streaming = await asyncio.gather(
            *(api.call("streaming", "list_sessions") for _ in range(7))
        )
        limited_streaming = [a for a in streaming if a.status == 429]
        assert limited_streaming
        streaming_error(limited_streaming[0], 429, 429)
        assert int(limited_streaming[0].headers["Retry-After"]) >= 1
        await asyncio.sleep(retry_after)
        await api.ok("liveavatar", "list_avatars")


async def test_concurrent_session_limit_per_key() -> None:
    async with running(SimulatorConfig(max_concurrent_sessions=2)) as (sim, api):
        first, _ = await new_liveavatar_session(api)
        await new_liveavatar_session(api)
        refused = await api.call("liveavatar", "create_session_token", body=OFFICIAL_LITE_BODY)
        # Not 403: the key is fine, the account is full (see SessionLimitReached).
        error = liveavatar_error(refused, 409)
        assert error.message == (
            "concurrent session limit (2) reached for this API key: "
            "stop a session, or wait for one to end"
        )
        other, _ = await new_liveavatar_session(api, key="other-account")  # its own limit
        # Accounts do not see each other's sessions.
        foreign = await api.call("liveavatar", "stop_session", body={"session_id": other})
        liveavatar_error(foreign, 404)
        await api.ok("liveavatar", "stop_session", body={"session_id": first})
        await new_liveavatar_session(api)

        for _ in range(2):
            await api.ok("streaming", "new_session", body=OFFICIAL_NEW)
        over = await api.call("streaming", "new_session", body=OFFICIAL_NEW)
        assert "(2)" in streaming_error(over, 400, 10007).message
        theirs = (
            await api.ok("streaming", "new_session", key="other-account", body=OFFICIAL_NEW)
        ).data.session_id
        foreign_stop = await api.call("streaming", "stop_session", body={"session_id": theirs})
        streaming_error(foreign_stop, 400, 10002)
        assert sim.open_sessions() == 2 + 1 + 2 + 1


# ------------------------------------------------------------------ state rules


async def test_liveavatar_state_errors_and_idempotent_stop(sim_api: tuple[Simulator, Api]) -> None:
    sim, api = sim_api
    session_id, token = await new_liveavatar_session(api)
    await api.ok("liveavatar", "start_session", key=None, bearer=token)
    twice = liveavatar_error(
        await api.call("liveavatar", "start_session", key=None, bearer=token), 400
    )
    assert twice.code == 400006
    other_id, other_token = await new_liveavatar_session(api)
    cross = await api.call(
        "liveavatar", "stop_session", key=None, bearer=other_token, body={"session_id": session_id}
    )
    cross_error = liveavatar_error(cross, 403)
    assert cross_error.message.startswith(
        f"This session token belongs to another session, not {session_id}: leave session_id out"
    )
    await api.ok(
        "liveavatar", "stop_session", key=None, bearer=token, body={"reason": "USER_CLOSED"}
    )
    stopped = (await api.ok("liveavatar", "get_session", session_id=session_id)).data
    # Clients retry stop: a stopped session is stopped again with 200, by token or by key,
    # and keeps its first end reason and time.
    await api.ok("liveavatar", "stop_session", key=None, bearer=token, body={"reason": "UNKNOWN"})
    await api.ok("liveavatar", "stop_session", body={"session_id": session_id})
    again = (await api.ok("liveavatar", "get_session", session_id=session_id)).data
    assert again.end_reason is not None and again.end_reason.root == "USER_CLOSED"
    assert again.end_at == stopped.end_at
    after = await api.call("liveavatar", "start_session", key=None, bearer=token)
    assert liveavatar_error(after, 400).code == 400006
    keep = await api.call("liveavatar", "keep_alive_session", body={"session_id": session_id})
    assert liveavatar_error(keep, 400).code == 400006
    unknown = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
    liveavatar_error(
        await api.call("liveavatar", "stop_session", body={"session_id": unknown}), 404
    )
    liveavatar_error(await api.call("liveavatar", "get_session", session_id=unknown), 404)
    no_id = validation_items(await api.call("liveavatar", "stop_session", body={}))
    assert no_id[0].loc == ["body", "session_id"]
    entry = (await api.ok("liveavatar", "get_session", session_id=session_id)).data
    assert entry.end_reason is not None and entry.end_reason.root == "USER_CLOSED"
    # A token for a session that never started can be stopped too.
    await api.ok("liveavatar", "stop_session", body={"session_id": other_id, "reason": "UNKNOWN"})
    assert sim.open_sessions() == 0


async def test_streaming_calls_before_start_or_after_stop_get_400006(
    sim_api: tuple[Simulator, Api],
) -> None:
    _, api = sim_api
    session_id = (await api.ok("streaming", "new_session", body=OFFICIAL_NEW)).data.session_id
    sid = {"session_id": session_id}
    task = {**sid, "text": "Hello", "task_type": "chat"}
    early = streaming_error(await api.call("streaming", "send_task", body=task), 400, 400006)
    assert early.message == "Session is not in correct state"
    streaming_error(await api.call("streaming", "keep_alive", body=sid), 400, 400006)
    await api.ok("streaming", "start_session", body=sid)
    streaming_error(await api.call("streaming", "start_session", body=sid), 400, 400006)
    await api.ok("streaming", "send_task", body=task)
    await api.ok("streaming", "stop_session", body=sid)
    await api.ok("streaming", "stop_session", body=sid)  # idempotent
    for operation_id in ("interrupt_task", "start_listening", "stop_listening", "keep_alive"):
        streaming_error(await api.call("streaming", operation_id, body=sid), 400, 400006)
    streaming_error(await api.call("streaming", "send_task", body=task), 400, 400006)
    unknown = streaming_error(
        await api.call("streaming", "stop_session", body={"session_id": "nope"}), 400, 10002
    )
    assert unknown.message == "Invalid session"


async def test_avatar_rules_and_deleting_an_avatar_ends_its_sessions(
    sim_api: tuple[Simulator, Api],
) -> None:
    _, api = sim_api
    for operation_id, kwargs in (
        ("update_avatar", {"body": {"name": "Mine now"}}),
        ("delete_avatar", {}),
    ):
        public = await api.call("liveavatar", operation_id, avatar_id=SANDBOX_AVATAR, **kwargs)
        liveavatar_error(public, 403)
    unknown = "9e8d7c6b-5a49-4837-a261-5f4e3d2c1b0a"
    liveavatar_error(await api.call("liveavatar", "get_avatar", avatar_id=unknown), 404)
    body = {"mode": "LITE", "avatar_id": unknown}
    liveavatar_error(await api.call("liveavatar", "create_session_token", body=body), 404)
    sandbox = {"mode": "FULL", "avatar_id": PRIVATE_AVATAR, "is_sandbox": True}
    refused = liveavatar_error(
        await api.call("liveavatar", "create_session_token", body=sandbox), 400
    )
    assert SANDBOX_AVATAR in refused.message
    session_id, _ = await new_liveavatar_session(api, {"mode": "FULL", "avatar_id": PRIVATE_AVATAR})
    await api.ok("liveavatar", "delete_avatar", avatar_id=PRIVATE_AVATAR)
    liveavatar_error(await api.call("liveavatar", "get_avatar", avatar_id=PRIVATE_AVATAR), 404)
    entry = (await api.ok("liveavatar", "get_session", session_id=session_id)).data
    assert entry.end_reason is not None and entry.end_reason.root == "AVATAR_DELETED"


async def test_lists_page_with_full_urls_and_tokens(sim_api: tuple[Simulator, Api]) -> None:
    _, api = sim_api
    ids = [(await new_liveavatar_session(api))[0] for _ in range(3)]
    first = (
        await api.ok("liveavatar", "list_sessions", query={"type": "active", "page_size": "2"})
    ).data
    assert first.count == 3 and first.previous is None and len(first.results) == 2
    assert first.next is not None and first.next.startswith(api.base_url + "/v1/sessions?")
    async with api.http.get(first.next, headers={"X-API-KEY": KEY}) as response:
        second = decode_as(la.SessionListEnvelope, await response.read()).data
    assert second.next is None and second.previous is not None
    assert {e.id for e in [*first.results, *second.results]} == set(ids)
    assert (await api.ok("liveavatar", "list_sessions", query={"type": "historic"})).data.count == 0

    for _ in range(3):
        await api.ok("streaming", "new_session", body=OFFICIAL_NEW)
    page = (await api.ok("streaming", "list_sessions_v2", query={"page_size": "2"})).data
    assert (page.total, page.page, len(page.data)) == (3, 1, 2)
    assert isinstance(page.next_pagination_token, str)
    rest = (
        await api.ok("streaming", "list_sessions_v2", query={"token": page.next_pagination_token})
    ).data
    assert (rest.page, len(rest.data), rest.next_pagination_token) == (2, 1, None)


# ----------------------------------------------------------------------- reaper


async def test_sandbox_sessions_end_after_their_minute() -> None:
    config = SimulatorConfig(sandbox_session_seconds=0.3, reaper_interval_seconds=0.05)
    async with running(config) as (sim, api):
        session_id, token = await new_liveavatar_session(api)
        started_at = time.monotonic()
        started = (await api.ok("liveavatar", "start_session", key=None, bearer=token)).data
        assert started.max_session_duration == 1  # the sandbox limit, rounded up
        await eventually(lambda: sim.open_sessions() == 0)
        assert time.monotonic() - started_at >= 0.3
        entry = (await api.ok("liveavatar", "get_session", session_id=session_id)).data
        assert entry.end_reason is not None and entry.end_reason.root == "MAX_DURATION_REACHED"
        assert entry.end_at is not None and entry.credits_consumed == 0
        historic = (await api.ok("liveavatar", "list_sessions", query={"type": "historic"})).data
        assert [e.id for e in historic.results] == [session_id]
        keep = await api.call("liveavatar", "keep_alive_session", key=None, bearer=token, body={})
        assert liveavatar_error(keep, 400).code == 400006


async def test_idle_sessions_and_never_started_tokens_are_reaped() -> None:
    config = SimulatorConfig(
        idle_timeout_seconds=0.5, streaming_idle_timeout_seconds=0.5, reaper_interval_seconds=0.05
    )
    async with running(config) as (sim, api):
        zombie, _ = await new_liveavatar_session(api)
        idle, idle_token = await new_liveavatar_session(api)
        await api.ok("liveavatar", "start_session", key=None, bearer=idle_token)
        kept, kept_token = await new_liveavatar_session(api)
        await api.ok("liveavatar", "start_session", key=None, bearer=kept_token)
        quiet = (await api.ok("streaming", "new_session", body=OFFICIAL_NEW)).data.session_id
        patient_body = {**OFFICIAL_NEW, "activity_idle_timeout": 30}
        patient = (await api.ok("streaming", "new_session", body=patient_body)).data.session_id
        no_idle_body = {**OFFICIAL_NEW, "disable_idle_timeout": True}
        no_idle = (await api.ok("streaming", "new_session", body=no_idle_body)).data.session_id

        def ended(session_id: str) -> bool:
            session = sim.state.liveavatar_session(session_id) or sim.state.streaming_session(
                session_id
            )
            return session is not None and not session.is_open

        # Keep one session alive by hand while the others go quiet past the timeout.
        deadline = time.monotonic() + 3
        while not all(ended(s) for s in (zombie, idle, quiet)):
            assert time.monotonic() < deadline, "idle sessions were not reaped"
            await api.ok("liveavatar", "keep_alive_session", key=None, bearer=kept_token, body={})
            await asyncio.sleep(0.1)
        reasons = {}
        for session_id in (zombie, idle, kept):
            entry = (await api.ok("liveavatar", "get_session", session_id=session_id)).data
            reasons[session_id] = entry.end_reason.root if entry.end_reason else None
        assert reasons == {zombie: "ZOMBIE_SESSION_REAP", idle: "IDLE_TIMEOUT", kept: None}
        active = (await api.ok("streaming", "list_sessions")).data.sessions
        assert {s.session_id for s in active} == {patient, no_idle}
        history = (await api.ok("streaming", "list_sessions_v2")).data.data
        assert {r.session_id: r.status for r in history}[quiet] == "closed"
        streaming_error(
            await api.call("streaming", "start_session", body={"session_id": quiet}), 400, 400006
        )
        assert sim.open_sessions() == 3  # kept, patient, no_idle


async def test_streaming_idle_timeout_absent_or_null_is_the_vendor_default() -> None:
    # The LiveAvatar idle timeout (300 s) must not leak into Streaming sessions.
    async with running(SimulatorConfig()) as (sim, api):
        assert sim.config.idle_timeout_seconds == 300
        absent = (await api.ok("streaming", "new_session", body=OFFICIAL_NEW)).data.session_id
        pipecat = (
            await api.ok("streaming", "new_session", body=PIPECAT_NEW_SESSION_BODY)
        ).data.session_id
        set_body = {**OFFICIAL_NEW, "activity_idle_timeout": 45}
        explicit = (await api.ok("streaming", "new_session", body=set_body)).data.session_id
        timeouts = {}
        for session_id in (absent, pipecat, explicit):
            session = sim.state.streaming_session(session_id)
            assert session is not None
            timeouts[session_id] = session.idle_timeout
        assert timeouts == {absent: 120.0, pipecat: 120.0, explicit: 45.0}
    # And the reaper applies it: a null timeout ends after the (shrunk) default.
    config = SimulatorConfig(streaming_idle_timeout_seconds=0.3, reaper_interval_seconds=0.05)
    async with running(config) as (sim, api):
        quiet = (
            await api.ok("streaming", "new_session", body=PIPECAT_NEW_SESSION_BODY)
        ).data.session_id
        session = sim.state.streaming_session(quiet)
        assert session is not None
        await eventually(lambda: not session.is_open)
        assert session.end_reason is not None and session.end_reason.root == "IDLE_TIMEOUT"


async def test_sessions_end_at_their_maximum_duration() -> None:
    config = SimulatorConfig(streaming_session_duration_limit=1, reaper_interval_seconds=0.05)
    async with running(config) as (sim, api):
        body = {"mode": "FULL", "avatar_id": PRIVATE_AVATAR, "max_session_duration": 1}
        session_id, token = await new_liveavatar_session(api, body)
        started_at = time.monotonic()
        await api.ok("liveavatar", "start_session", key=None, bearer=token)
        streaming_id = (await api.ok("streaming", "new_session", body=OFFICIAL_NEW)).data.session_id
        await api.ok("streaming", "start_session", body={"session_id": streaming_id})
        await eventually(lambda: sim.open_sessions() == 0)
        assert time.monotonic() - started_at >= 1.0
        entry = (await api.ok("liveavatar", "get_session", session_id=session_id)).data
        assert entry.end_reason is not None and entry.end_reason.root == "MAX_DURATION_REACHED"
        assert entry.duration == 1 and entry.credits_consumed == pytest.approx(0.03)
        task = {"session_id": streaming_id, "text": "Still there?", "task_type": "repeat"}
        streaming_error(await api.call("streaming", "send_task", body=task), 400, 400006)
        session = sim.state.streaming_session(streaming_id)
        assert session is not None and session.end_reason is not None
        assert session.end_reason.root == "MAX_DURATION_REACHED"


# ----------------------------------------------------------------------- faults


async def test_injected_faults_are_consumed_in_order(sim_api: tuple[Simulator, Api]) -> None:
    sim, api = sim_api
    sim.inject("create_session_token", 503, "disconnect", ("delay", 0.5), 429)
    unavailable = await api.call("liveavatar", "create_session_token", body=OFFICIAL_LITE_BODY)
    assert liveavatar_error(unavailable, 503).code == 503
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.call("liveavatar", "create_session_token", body=OFFICIAL_LITE_BODY)
    with pytest.raises(asyncio.TimeoutError):
        await api.call(
            "liveavatar", "create_session_token", body=OFFICIAL_LITE_BODY, client_timeout=0.1
        )
    # A late answer still took effect: the timed-out call created a session.
    assert sim.open_sessions() == 1
    limited = await api.call("liveavatar", "create_session_token", body=OFFICIAL_LITE_BODY)
    assert liveavatar_error(limited, 429).code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert sim.pending_faults() == 0
    await new_liveavatar_session(api)  # faults used up: normal again
    assert sim.requests_by_operation["create_session_token"] == 5
    assert sim.open_sessions() == 2

    # A name both APIs use can be qualified; the other API's calls are unaffected.
    sim.inject("streaming.stop_session", 500)
    unknown = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
    liveavatar_error(
        await api.call("liveavatar", "stop_session", body={"session_id": unknown}), 404
    )
    failed = await api.call("streaming", "stop_session", body={"session_id": "x"})
    assert streaming_error(failed, 500, 500).message == "Internal Server Error"
    with pytest.raises(KeyError):
        sim.inject("no_such_operation", 500)
    with pytest.raises(ValueError):
        sim.inject("create_token", 200)


# ------------------------------------------------------------ CLI and fixture


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_simulator_prints_its_url_first_and_exits_cleanly(stop_signal: int) -> None:
    assert SCRIPT, "heygen-avatar is not installed in this environment (make setup)"
    process = subprocess.Popen(
        [SCRIPT, "simulator", "--port", "0", "--api-key", KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 15)
        assert ready, "the simulator printed nothing within 15 s"
        first = process.stdout.readline().strip()
        assert first.startswith("listening on http://127.0.0.1:")
        port = int(first.rsplit(":", 1)[1])
        assert port > 0
        request = urllib.request.Request(
            f"{first.removeprefix('listening on ')}/v1/avatars", headers={"X-API-KEY": KEY}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
            assert decode_as(la.AvatarListEnvelope, response.read()).data.count >= 1
        process.send_signal(stop_signal)
        _, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


@pytest.mark.slow
@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_cli_simulator_rejects_a_bad_port_with_usage(port: str) -> None:
    assert SCRIPT, "heygen-avatar is not installed in this environment (make setup)"
    done = subprocess.run(
        [SCRIPT, "simulator", "--port", port],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "usage: heygen-avatar simulator" in done.stderr
    assert "argument --port" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture
def heygen_simulator_config() -> SimulatorConfig:
    return SimulatorConfig(api_key=KEY, max_concurrent_sessions=1)


def test_pytest_fixture_works_in_a_sync_test(heygen_simulator: SimulatorThread) -> None:
    sim = heygen_simulator
    assert sim.liveavatar_url == sim.streaming_url == sim.url
    token_url = f"{sim.liveavatar_url}/v1/sessions/token"

    def post(key: str) -> tuple[int, bytes]:
        request = urllib.request.Request(
            token_url,
            data=json.dumps(OFFICIAL_LITE_BODY).encode(),
            headers={"X-API-KEY": key, "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    status, body = post(KEY)
    assert status == 200
    decode_as(la.SessionTokenEnvelope, body)
    assert post("not-the-key")[0] == 401
    assert post(KEY)[0] == 409  # the overridden config allows one session
    assert sim.open_sessions() == 1
    assert sim.requests_by_operation["create_session_token"] == 3
    sim.inject("create_session_token", 502)
    assert post(KEY)[0] == 502
