"""The simulator's LiveAvatar account resources, through the generated client over loopback.

Contexts, secrets, LLM configurations and models, voice agents, voices,
memories, embeds, credits, languages and session events: each operation's
result, and its refusals (unknown id 404, another account's record 403,
invalid body 422), as a user of `LiveAvatarClient` sees them.
"""

from __future__ import annotations

import asyncio
import base64
import io
import re
import uuid
import wave
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from heygen_models import liveavatar as la

from heygen_core.errors import NotFoundError, PermissionDeniedError
from heygen_core.rest.liveavatar_client import LiveAvatarClient
from heygen_core.rest.operations import api_spec
from heygen_core.rest.retry import RetryPolicy
from heygen_core.simulator import Simulator, SimulatorConfig
from tests.support.real_world_bodies import SANDBOX_AVATAR

KEY = "acct-one-key-0123456789"
OTHER_KEY = "acct-two-key-9876543210"
PRIVATE_AVATAR = "bf00036b-558a-44b5-b2ff-1e3cec0f4ceb"  # "Clint", in every account
PUBLIC_VOICE = "c2527536-6d1f-4412-a643-53a3497dada9"
SEED_AGENT = "4737ace9-ad5f-4d09-9577-4c0b9ba3dbd7"
SECRET_VALUE = "sk-provider-secret-5e6f7a8b9c"
FAST = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    # No fixed key: each distinct key is its own account.
    async with Simulator(SimulatorConfig(starting_credits=50)) as simulator:
        yield simulator


@pytest.fixture
async def live(sim: Simulator) -> AsyncIterator[LiveAvatarClient]:
    async with LiveAvatarClient(KEY, base_url=sim.url, retry=FAST) as client:
        yield client


@pytest.fixture
async def other(sim: Simulator) -> AsyncIterator[LiveAvatarClient]:
    async with LiveAvatarClient(OTHER_KEY, base_url=sim.url, retry=FAST) as client:
        yield client


async def send_raw(
    sim: Simulator, operation_id: str, body: Any = None, key: str = KEY, **path: str
) -> tuple[int, Any]:
    """Call a LiveAvatar operation with plain aiohttp, past the client's own checks."""
    spec = api_spec("liveavatar")
    op = spec.operation(operation_id)
    url = sim.url + op.path.format(**path)
    headers = {spec.schemes["ApiKey"].header: key}
    async with (
        aiohttp.ClientSession() as http,
        http.request(op.method, url, json=body, headers=headers) as response,
    ):
        return response.status, await response.json()


def context_request(name: str = "Billing") -> la.CreateContextRequest:
    return la.CreateContextRequest(
        name=name,
        prompt="You help ${customer_name} with the ${plan} plan.",
        opening_text="Hi ${customer_name}!",
        links=[la.ContextLinkRequest(url="https://example.com/faq")],
    )


def secret_request(name: str = "My LLM key") -> la.CreateSecretRequest:
    return la.CreateSecretRequest(
        secret_name=name, secret_value=SECRET_VALUE, secret_type=la.SecretType("LLM_API_KEY")
    )


# --------------------------------------------------------------------- coverage


async def test_every_liveavatar_operation_has_a_handler(sim: Simulator) -> None:
    # A schema that gains an operation fails here until the simulator serves it.
    spec = api_spec("liveavatar")
    for operation_id, op in spec.operations.items():
        names = re.findall(r"\{(\w+)\}", op.path)
        status, answer = await send_raw(
            sim, operation_id, {}, **{name: str(uuid.uuid4()) for name in names}
        )
        assert status != 501, (operation_id, answer)
        assert sim.requests_by_operation[operation_id] >= 1, operation_id


# --------------------------------------------------------------------- contexts


async def test_context_crud_and_copy(live: LiveAvatarClient) -> None:
    created = (await live.create_context(context_request())).data
    assert created.name == "Billing"
    assert created.required_dynamic_variables == ["customer_name", "plan"]
    assert isinstance(created.links, list) and created.links[0].url == "https://example.com/faq"
    assert isinstance(created.links[0].id, str)
    fetched = (await live.get_context(created.id)).data
    assert fetched.prompt == created.prompt

    update = la.UpdateContextRequest(name="Bills", prompt="Just help.", opening_text="Hello.")
    updated = (await live.update_context(created.id, update)).data
    assert (updated.id, updated.name, updated.required_dynamic_variables) == (
        created.id,
        "Bills",
        [],
    )
    assert updated.links == created.links  # links left out of the update are kept

    copy = (await live.copy_context(created.id)).data
    named = (await live.copy_context(created.id, la.CopyContextRequest(name="Mine"))).data
    assert copy.id not in (created.id, named.id)
    assert (copy.name, named.name, copy.prompt) == ("Bills (Copy)", "Mine", "Just help.")

    page = (await live.list_contexts(la.ListContextsQuery(page=1, page_size=2))).data
    assert page.count == 4  # the seeded context and ours
    assert [c.id for c in page.results] == [named.id, copy.id]
    assert isinstance(page.next, str) and "page=2" in page.next

    deleted = await live.delete_context(created.id)
    assert deleted.status == 200 and deleted.data is None
    with pytest.raises(NotFoundError) as gone:
        await live.get_context(created.id)
    assert f"Context {created.id} not found" in str(gone.value)
    with pytest.raises(NotFoundError):
        await live.delete_context(created.id)


async def test_contexts_belong_to_their_account(
    live: LiveAvatarClient, other: LiveAvatarClient
) -> None:
    mine = (await live.create_context(context_request())).data
    for attempt in (
        other.get_context(mine.id),
        other.update_context(
            mine.id, la.UpdateContextRequest(name="x", prompt="x", opening_text="x")
        ),
        other.copy_context(mine.id),
        other.delete_context(mine.id),
    ):
        with pytest.raises(PermissionDeniedError) as info:
            await attempt
        assert info.value.status == 403 and "another account" in info.value.message
    assert mine.id not in [c.id for c in (await other.list_contexts()).data.results]
    assert (await live.get_context(mine.id)).data.name == "Billing"  # untouched


async def test_invalid_context_bodies_are_422(sim: Simulator) -> None:
    status, answer = await send_raw(sim, "create_context", {"name": "x", "prompt": "y"})
    assert status == 422
    assert [(d["loc"], d["type"]) for d in answer["detail"]] == [
        (["body", "opening_text"], "missing")
    ]
    status, answer = await send_raw(sim, "get_context", context_id="not-a-uuid")
    assert status == 422 and answer["detail"][0]["loc"] == ["path", "context_id"]


async def test_full_token_must_name_a_known_context(
    live: LiveAvatarClient, other: LiveAvatarClient
) -> None:
    def full(context_id: str) -> la.FullSessionTokenRequest:
        return la.FullSessionTokenRequest(
            mode="FULL",
            avatar_id=SANDBOX_AVATAR,
            is_sandbox=True,
            avatar_persona=la.AvatarPersona(context_id=context_id),
        )

    with pytest.raises(NotFoundError):
        await live.create_session_token(full(str(uuid.uuid4())))
    mine = (await live.create_context(context_request())).data
    with pytest.raises(PermissionDeniedError):
        await other.create_session_token(full(mine.id))
    token = (await live.create_session_token(full(mine.id))).data
    await live.stop_session(la.StopSessionRequest(session_id=token.session_id))


# ---------------------------------------------------------------------- secrets


async def test_secrets_never_show_their_value(sim: Simulator, live: LiveAvatarClient) -> None:
    created = await live.create_secret(secret_request())
    assert created.data.secret_name == "My LLM key"
    listed = (await live.list_secrets()).data.root
    assert [(s.id, s.secret_type) for s in listed] == [(created.data.id, "LLM_API_KEY")]
    for text in (repr(created), repr(listed), created.envelope.model_dump_json()):
        assert SECRET_VALUE not in text
    status, raw = await send_raw(sim, "list_secrets")
    assert status == 200 and SECRET_VALUE not in str(raw)
    status, raw = await send_raw(
        sim,
        "create_secret",
        {"secret_name": "again", "secret_value": SECRET_VALUE, "secret_type": "OPENAI_API_KEY"},
    )
    assert status == 200 and SECRET_VALUE not in str(raw)
    assert set(raw["data"]) == {"id", "secret_name"}

    await live.delete_secret(created.data.id)
    assert created.data.id not in [s.id for s in (await live.list_secrets()).data.root]
    with pytest.raises(NotFoundError):
        await live.delete_secret(created.data.id)


async def test_secrets_refusals(
    sim: Simulator, live: LiveAvatarClient, other: LiveAvatarClient
) -> None:
    mine = (await live.create_secret(secret_request())).data
    with pytest.raises(PermissionDeniedError):
        await other.delete_secret(mine.id)
    assert (await other.list_secrets()).data.root == []
    status, answer = await send_raw(
        sim, "create_secret", {"secret_name": "x", "secret_value": SECRET_VALUE, "secret_type": "X"}
    )
    assert status == 422 and answer["detail"][0]["loc"] == ["body", "secret_type"]
    assert SECRET_VALUE not in str(answer)  # the input is left out of a 422


# ----------------------------------------------------------- LLM configurations


async def test_llm_configurations(live: LiveAvatarClient, other: LiveAvatarClient) -> None:
    secret = (await live.create_secret(secret_request())).data
    request = la.CreateLlmConfigurationRequest(
        display_name="My LLM", model_name="gpt-4o-mini", secret_id=secret.id
    )
    created = (await live.create_llm_configuration(request)).data
    assert (created.display_name, created.secret_id, created.base_url) == (
        "My LLM",
        secret.id,
        None,
    )
    change = la.UpdateLlmConfigurationRequest(base_url="https://llm.example.com/v1")
    updated = (await live.update_llm_configuration(created.id, change)).data
    assert (updated.display_name, updated.base_url) == ("My LLM", "https://llm.example.com/v1")
    fetched = (await live.get_llm_configuration(created.id)).data
    assert fetched == updated
    second = (await live.create_llm_configuration(request)).data
    listed = (await live.list_llm_configurations()).data.root
    assert [c.id for c in listed] == [second.id, created.id]  # newest first

    with pytest.raises(NotFoundError) as unknown_secret:
        await live.create_llm_configuration(
            la.CreateLlmConfigurationRequest(
                display_name="x", model_name="y", secret_id=str(uuid.uuid4())
            )
        )
    assert "Secret" in unknown_secret.value.message
    with pytest.raises(NotFoundError):
        await live.get_llm_configuration(str(uuid.uuid4()))
    with pytest.raises(PermissionDeniedError):
        await other.get_llm_configuration(created.id)
    with pytest.raises(PermissionDeniedError):  # someone else's secret cannot be used
        await other.create_llm_configuration(request)


async def test_llm_models_and_languages_need_no_key(sim: Simulator) -> None:
    async with LiveAvatarClient(api_key="", base_url=sim.url, retry=FAST) as anonymous:
        models = (await anonymous.list_llm_models()).data.root
        languages = (await anonymous.list_languages()).data.root
    assert "gpt-4o-mini" in models["openai"]
    codes = [language.code for language in languages]
    assert "en" in codes and len(codes) == len(set(codes))
    assert all(language.language for language in languages)


# ------------------------------------------------------------------ voice agents


async def test_voice_agents(live: LiveAvatarClient, other: LiveAvatarClient) -> None:
    agents = (await live.list_voice_agents()).data.root
    assert SEED_AGENT in [a.id for a in agents] and len(agents) >= 2
    assert all(isinstance(a.agent_configuration, type(la.MISSING)) for a in agents)
    agent = (await live.get_voice_agent(SEED_AGENT)).data
    assert isinstance(agent.agent_configuration, la.VoiceAgentConfiguration)
    await live.delete_voice_agent(SEED_AGENT)
    with pytest.raises(NotFoundError):
        await live.get_voice_agent(SEED_AGENT)
    with pytest.raises(NotFoundError):
        await live.delete_voice_agent(SEED_AGENT)
    # Each account has its own copy: deleting ours left theirs.
    assert (await other.get_voice_agent(SEED_AGENT)).data.id == SEED_AGENT


# ------------------------------------------------------------------------ voices


async def test_private_voices_can_be_renamed_and_deleted(
    live: LiveAvatarClient, other: LiveAvatarClient
) -> None:
    voice_id = (
        await live.create_third_party_voice(
            la.ThirdPartyVoiceRequest(
                provider_voice_id="21m00Tcm4TlvDq8ikWAM", secret_id=str(uuid.uuid4()), name="Ra"
            )
        )
    ).data.voice_id
    renamed = (await live.update_voice(voice_id, la.UpdateVoiceRequest(name="Rachel"))).data
    assert (renamed.id, renamed.name) == (voice_id, "Rachel")
    assert (await live.get_voice(voice_id)).data.name == "Rachel"
    with pytest.raises(NotFoundError):
        await other.update_voice(voice_id, la.UpdateVoiceRequest(name="Mine now"))
    await live.delete_voice(voice_id)
    with pytest.raises(NotFoundError):
        await live.get_voice(voice_id)
    with pytest.raises(NotFoundError):
        await live.delete_voice(voice_id)


async def test_public_voices_cannot_be_changed(sim: Simulator, live: LiveAvatarClient) -> None:
    with pytest.raises(PermissionDeniedError) as renaming:
        await live.update_voice(PUBLIC_VOICE, la.UpdateVoiceRequest(name="Mine"))
    assert "Public voices cannot be changed" in renaming.value.message
    with pytest.raises(PermissionDeniedError):
        await live.delete_voice(PUBLIC_VOICE)
    assert (await live.get_voice(PUBLIC_VOICE)).data.name == "Wayne"
    status, answer = await send_raw(sim, "update_voice", {"name": ""}, voice_id=PUBLIC_VOICE)
    assert status == 422 and answer["detail"][0]["loc"] == ["body", "name"]


async def test_voice_preview_is_a_playable_wav(live: LiveAvatarClient) -> None:
    preview = (await live.get_voice_preview(PUBLIC_VOICE)).data
    with wave.open(io.BytesIO(base64.b64decode(preview.audio_base64, validate=True))) as clip:
        assert (clip.getnchannels(), clip.getsampwidth(), clip.getframerate()) == (1, 2, 24_000)
        frames = clip.readframes(clip.getnframes())
    assert len(frames) > 0 and any(frames)  # sound, not silence
    with pytest.raises(NotFoundError):
        await live.get_voice_preview("no-such-voice")


# ------------------------------------------------ session events, memory, credits


async def test_delete_session_events_clears_the_transcript(
    sim: Simulator, live: LiveAvatarClient, other: LiveAvatarClient
) -> None:
    request = la.LiteSessionTokenRequest(mode="LITE", avatar_id=SANDBOX_AVATAR, is_sandbox=True)
    session_id = (await live.create_session_token(request)).data.session_id
    sim.state.record_transcript(session_id, "user", "Hello there")
    sim.state.record_transcript(session_id, "avatar", "Hi, how can I help?")
    said = (await live.get_session_transcript(session_id)).data.transcript_data
    assert [(e.role, e.transcript) for e in said] == [
        ("user", "Hello there"),
        ("avatar", "Hi, how can I help?"),
    ]
    with pytest.raises(NotFoundError):  # sessions of another account stay hidden
        await other.delete_session_events(session_id)
    assert len((await live.get_session_transcript(session_id)).data.transcript_data) == 2

    deleted = await live.delete_session_events(session_id)
    assert deleted.status == 200 and deleted.data is None
    assert (await live.get_session_transcript(session_id)).data.transcript_data == []
    with pytest.raises(NotFoundError):
        await live.delete_session_events(str(uuid.uuid4()))


async def test_memory_summarises_a_session(
    sim: Simulator, live: LiveAvatarClient, other: LiveAvatarClient
) -> None:
    request = la.LiteSessionTokenRequest(mode="LITE", avatar_id=SANDBOX_AVATAR, is_sandbox=True)
    session_id = (await live.create_session_token(request)).data.session_id
    sim.state.record_transcript(session_id, "user", "I am Ada and want the pro plan")
    memory = (
        await live.create_memory(
            la.CreateMemoryRequest(memory_type="session", session_id=session_id)
        )
    ).data
    assert isinstance(memory.memory_content, str) and "Ada" in memory.memory_content
    with pytest.raises(NotFoundError):
        await other.create_memory(
            la.CreateMemoryRequest(memory_type="session", session_id=session_id)
        )
    status, answer = await send_raw(
        sim, "create_memory", {"memory_type": "chat", "session_id": session_id}
    )
    assert status == 422 and answer["detail"][0]["loc"] == ["body", "memory_type"]


async def test_embeds(live: LiveAvatarClient) -> None:
    first = (await live.create_embed(la.CreateEmbedRequest(avatar_id=SANDBOX_AVATAR))).data
    second = (
        await live.create_embed(
            la.CreateEmbedRequest(
                avatar_id=PRIVATE_AVATAR, voice_agent_id=SEED_AGENT, type="WIDGET"
            )
        )
    ).data
    assert first.url != second.url
    embed_id = second.url.rsplit("/", 1)[-1]
    assert uuid.UUID(embed_id)
    assert isinstance(second.script, str) and embed_id in second.script
    assert "WIDGET" in second.script
    with pytest.raises(NotFoundError):
        await live.create_embed(la.CreateEmbedRequest(avatar_id=str(uuid.uuid4())))
    with pytest.raises(NotFoundError):
        await live.create_embed(
            la.CreateEmbedRequest(avatar_id=SANDBOX_AVATAR, context_id=str(uuid.uuid4()))
        )


async def test_credits_are_used_by_billed_sessions(
    live: LiveAvatarClient, other: LiveAvatarClient
) -> None:
    assert (await live.get_credits()).data.credits_left == "50.00"  # SimulatorConfig
    sandbox = la.LiteSessionTokenRequest(mode="LITE", avatar_id=SANDBOX_AVATAR, is_sandbox=True)
    billed = la.LiteSessionTokenRequest(mode="LITE", avatar_id=PRIVATE_AVATAR)
    ids = []
    for request in (sandbox, billed):
        token = (await live.create_session_token(request)).data
        await live.start_session(token.session_token)
        ids.append(token.session_id)
    await asyncio.sleep(1.1)
    for session_id in ids:
        await live.stop_session(la.StopSessionRequest(session_id=session_id))
    free, paid = [(await live.get_session(i)).data.credits_consumed for i in ids]
    assert free == 0 and isinstance(paid, float) and paid > 0
    assert (await live.get_credits()).data.credits_left == f"{50 - paid:.2f}"
    assert (await other.get_credits()).data.credits_left == "50.00"  # per account
