"""The simulated LiveAvatar catalogue: avatars, voices, agents, contexts, languages.

A small built-in catalogue: public (stock) avatars and voices shared by every
account, per-account private avatars and voices, the seed voice agents and
contexts every account starts with (`heygen_core.simulator.accounts` keeps
them), and the fixed lists of languages and managed LLM models. Each account (API key)
starts from its own copy of the built-in private avatars, so one test's PATCH
or DELETE does not leak into another account. Entries are the generated
models themselves, so they cannot drift from the schema.
"""

from __future__ import annotations

import uuid

from heygen_models import liveavatar as la

SANDBOX_AVATAR_ID = "dd73ea75-1218-4ef3-92ce-606d5f7fbc0a"
"""The public avatar that sandbox sessions (``is_sandbox: true``) must use."""

PIPECAT_LIVEAVATAR_AVATAR_ID = "1c690fe7-23e0-49f9-bfba-14344450285b"
"""The public avatar Pipecat 1.14's LiveAvatar service uses when given none."""

STREAMING_PUBLIC_AVATARS: tuple[str, ...] = (
    "Wayne_20240711",
    "Shawn_Therapist_public",
    "Anna_public_3_20240108",
    "Santa_Fireplace_Front_public",
    PIPECAT_LIVEAVATAR_AVATAR_ID,
)
"""Avatar ids and names ``streaming.new`` accepts for every account: public
avatars other clients default to (the official SDK demos, Pipecat). Every
LiveAvatar public avatar, and the account's own avatars, are accepted too;
anything else is refused, as the Streaming API refuses an avatar that does
not exist."""

_PREVIEWS = "https://files.simulator.invalid/previews"
_CREATED_AT = "2025-11-07T05:31:56Z"


def _public_avatars() -> list[la.PublicAvatar]:
    return [
        la.PublicAvatar(
            id=SANDBOX_AVATAR_ID,
            name="Wayne",
            preview_url=f"{_PREVIEWS}/{SANDBOX_AVATAR_ID}.webp",
            default_voice_id="c2527536-6d1f-4412-a643-53a3497dada9",
        ),
        la.PublicAvatar(
            id=PIPECAT_LIVEAVATAR_AVATAR_ID,
            name="Pipecat default",
            preview_url=f"{_PREVIEWS}/{PIPECAT_LIVEAVATAR_AVATAR_ID}.webp",
            default_voice_id=None,
        ),
        la.PublicAvatar(
            id="513fd1b7-7ef9-466d-9af2-344e51eeb833",
            name="Ann Therapist",
            preview_url=f"{_PREVIEWS}/513fd1b7-7ef9-466d-9af2-344e51eeb833.webp",
            default_voice_id=None,
        ),
        la.PublicAvatar(
            id="7b888024-f8c9-4205-95e1-78ce01497bda",
            name="Shawn Therapist",
            preview_url=f"{_PREVIEWS}/7b888024-f8c9-4205-95e1-78ce01497bda.webp",
            default_voice_id="1bd001e7-e50f-421d-8919-86aad5158bc8",
        ),
    ]


def _private_avatars() -> list[la.Avatar]:
    return [
        la.Avatar(
            id="bf00036b-558a-44b5-b2ff-1e3cec0f4ceb",
            name="Clint",
            preview_url=f"{_PREVIEWS}/bf00036b-558a-44b5-b2ff-1e3cec0f4ceb.webp",
            default_voice_id="c76c3978-1247-4c31-948f-9b1b037a391a",
            created_at=_CREATED_AT,
        ),
        la.Avatar(
            id="073b60a9-89a8-45aa-8902-c358f64d2852",
            name="Studio avatar",
            default_voice_id=None,
            created_at=_CREATED_AT,
        ),
    ]


def _public_voices() -> list[la.Voice]:
    return [
        la.Voice(
            id="c2527536-6d1f-4412-a643-53a3497dada9", name="Wayne", language="en", gender="male"
        ),
        la.Voice(
            id="c76c3978-1247-4c31-948f-9b1b037a391a", name="Maria", language="es", gender="female"
        ),
        la.Voice(
            id="1bd001e7-e50f-421d-8919-86aad5158bc8", name="Shawn", language="en", gender="male"
        ),
    ]


SEED_CONTEXT_ID = "5b9dba8a-aa31-11f0-a6ee-066a7fa2e369"
"""The context every account starts with (the schema's example ``context_id``)."""


def seed_voice_agents() -> list[la.StoredVoiceAgent]:
    """Return the voice agents every account starts with (the first is the schema's example)."""
    return [
        la.StoredVoiceAgent(
            id="4737ace9-ad5f-4d09-9577-4c0b9ba3dbd7",
            name="Support agent",
            agent_type="liveavatar_agent",
            agent_configuration=la.VoiceAgentConfiguration.model_validate(
                {
                    "voice_id": "c2527536-6d1f-4412-a643-53a3497dada9",
                    "context_id": SEED_CONTEXT_ID,
                    "llm_settings": {"provider": "openai", "model": "gpt-4o-mini"},
                }
            ),
            created_at=_CREATED_AT,
            updated_at=_CREATED_AT,
        ),
        la.StoredVoiceAgent(
            id="a3c1e5f7-2b4d-4e6f-8a0b-1c2d3e4f5a6b",
            name="ElevenLabs receptionist",
            agent_type="elevenlabs_agent",
            agent_configuration=la.VoiceAgentConfiguration.model_validate(
                {"agent_id": "agent_01jz8x7y6w5v4t3s2r1q0p"}
            ),
            created_at=_CREATED_AT,
            updated_at=_CREATED_AT,
        ),
    ]


def seed_contexts() -> list[la.Context]:
    """Return the contexts every account starts with."""
    return [
        la.Context(
            id=SEED_CONTEXT_ID,
            name="Billing support",
            prompt="You are a billing support agent for Acme. Greet ${customer_name} by name.",
            opening_text="Hi ${customer_name}, how can I help with your bill?",
            created_at=_CREATED_AT,
            updated_at=_CREATED_AT,
            required_dynamic_variables=["customer_name"],
            links=[],
        )
    ]


def languages() -> list[la.Language]:
    """Return the supported languages (a fixed list)."""
    names = {
        "en": "English",
        "es": "Spanish",
        "fr": "French",
        "de": "German",
        "it": "Italian",
        "pt": "Portuguese",
        "ja": "Japanese",
        "zh": "Chinese",
        "multi": "Multilingual",
    }
    return [la.Language(code=code, language=name) for code, name in names.items()]


def llm_models() -> la.LlmModels:
    """Return the managed LLM models per provider (a fixed list)."""
    return la.LlmModels({"openai": ["gpt-4o", "gpt-4o-mini", "gpt-5-nano", "gpt-5.4-nano"]})


class Catalogue:
    """Avatars and voices, public and per account.

    Accounts are identified by an opaque owner id (never the API key itself).
    """

    def __init__(self) -> None:
        self._public_avatars = {avatar.id: avatar for avatar in _public_avatars()}
        self._public_voices = {voice.id: voice for voice in _public_voices()}
        self._private_avatars: dict[str, dict[str, la.Avatar]] = {}
        self._private_voices: dict[str, dict[str, la.Voice]] = {}

    def public_avatars(self) -> list[la.PublicAvatar]:
        """Return the public avatars, in catalogue order."""
        return list(self._public_avatars.values())

    def private_avatars(self, owner: str) -> list[la.Avatar]:
        """Return `owner`'s own avatars, in catalogue order."""
        return list(self._avatars_of(owner).values())

    def is_public_avatar(self, avatar_id: str) -> bool:
        """Tell whether `avatar_id` is a public (stock) avatar."""
        return avatar_id in self._public_avatars

    def is_streaming_avatar(self, owner: str, avatar: str) -> bool:
        """Tell whether ``streaming.new`` knows `avatar` (an id or name) for `owner`."""
        return (
            avatar in STREAMING_PUBLIC_AVATARS
            or avatar in self._public_avatars
            or avatar in self._avatars_of(owner)
        )

    def avatar(self, owner: str, avatar_id: str) -> la.Avatar | None:
        """Return an avatar `owner` can use (public or their own), as an `Avatar`."""
        public = self._public_avatars.get(avatar_id)
        if public is not None:
            return la.Avatar.model_validate(public.model_dump(exclude_unset=True))
        return self._avatars_of(owner).get(avatar_id)

    def update_avatar(
        self, owner: str, avatar_id: str, changes: la.UpdateAvatarRequest
    ) -> la.Avatar:
        """Apply `changes` to one of `owner`'s avatars and return it (KeyError if absent)."""
        avatars = self._avatars_of(owner)
        fields = avatars[avatar_id].model_dump(exclude_unset=True)
        fields.update(changes.model_dump(exclude_unset=True))
        avatars[avatar_id] = la.Avatar.model_validate(fields)
        return avatars[avatar_id]

    def delete_avatar(self, owner: str, avatar_id: str) -> la.Avatar:
        """Remove one of `owner`'s avatars and return it (KeyError if absent)."""
        return self._avatars_of(owner).pop(avatar_id)

    def voices(self, owner: str, *, private: bool) -> list[la.Voice]:
        """Return the public voices, or `owner`'s private ones."""
        source = self._private_voices.get(owner, {}) if private else self._public_voices
        return list(source.values())

    def voice(self, owner: str, voice_id: str) -> la.Voice | None:
        """Return a voice `owner` can use (public or their own)."""
        found = self._public_voices.get(voice_id)
        return found if found is not None else self._private_voices.get(owner, {}).get(voice_id)

    def is_public_voice(self, voice_id: str) -> bool:
        """Tell whether `voice_id` is a public (stock) voice."""
        return voice_id in self._public_voices

    def rename_voice(self, owner: str, voice_id: str, name: str) -> la.Voice:
        """Rename one of `owner`'s private voices and return it (KeyError if absent)."""
        voices = self._private_voices.get(owner, {})
        fields = voices[voice_id].model_dump(exclude_unset=True)
        voices[voice_id] = la.Voice.model_validate({**fields, "name": name})
        return voices[voice_id]

    def delete_voice(self, owner: str, voice_id: str) -> la.Voice:
        """Remove one of `owner`'s private voices and return it (KeyError if absent)."""
        return self._private_voices.get(owner, {}).pop(voice_id)

    def add_voice(self, owner: str, request: la.ThirdPartyVoiceRequest) -> la.Voice:
        """Register a third-party voice as a private voice of `owner`; return it."""
        name = request.name if isinstance(request.name, str) else request.provider_voice_id
        voice = la.Voice(id=str(uuid.uuid4()), name=name)
        self._private_voices.setdefault(owner, {})[voice.id] = voice
        return voice

    def _avatars_of(self, owner: str) -> dict[str, la.Avatar]:
        avatars = self._private_avatars.get(owner)
        if avatars is None:
            avatars = self._private_avatars[owner] = {a.id: a for a in _private_avatars()}
        return avatars
