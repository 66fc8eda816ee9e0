"""The simulated LiveAvatar account resources.

Contexts, secrets, LLM configurations and models, voice agents, memories,
embeds, credits and languages: one handler per operationId of
``schemas/rest/liveavatar.openapi.yaml``, answering with the generated models
and the same error shapes as the session and avatar handlers (404 for an
unknown id, 403 for another account's record, 422 from validation).
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from heygen_models import liveavatar as la

from heygen_core.simulator.accounts import (
    OwnedRecords,
    RecordForeign,
    RecordMissing,
    context_links,
    dynamic_variables,
)
from heygen_core.simulator.catalogue import languages, llm_models
from heygen_core.simulator.rest.endpoint import Call, Handler
from heygen_core.simulator.rest.liveavatar_handlers import LiveAvatarHandlers
from heygen_core.simulator.rest.paging import page_fields, paginate
from heygen_core.simulator.rest.replies import LiveAvatarDialect, Reply
from heygen_core.simulator.runtime import Runtime
from heygen_core.simulator.state import iso_timestamp

T = TypeVar("T")

_EMBEDS = "https://embed.simulator.invalid"
# A memory is a summary of what was said; with nothing said, it says so.
_EMPTY_MEMORY = "Nothing was said in this session."


class AccountRoutes(LiveAvatarHandlers):
    """Handlers of the LiveAvatar account-resource operations."""

    def __init__(self, runtime: Runtime, dialect: LiveAvatarDialect) -> None:
        """Create the handlers over `runtime`'s state, answering errors in `dialect`."""
        super().__init__(runtime, dialect)
        self._accounts = runtime.state.accounts

    def handlers(self) -> dict[str, Handler]:
        """Return the handler of each operationId."""
        return {
            "list_contexts": self.list_contexts,
            "create_context": self.create_context,
            "get_context": self.get_context,
            "update_context": self.update_context,
            "delete_context": self.delete_context,
            "copy_context": self.copy_context,
            "list_secrets": self.list_secrets,
            "create_secret": self.create_secret,
            "delete_secret": self.delete_secret,
            "list_llm_configurations": self.list_llm_configurations,
            "create_llm_configuration": self.create_llm_configuration,
            "get_llm_configuration": self.get_llm_configuration,
            "update_llm_configuration": self.update_llm_configuration,
            "list_llm_models": self.list_llm_models,
            "list_voice_agents": self.list_voice_agents,
            "get_voice_agent": self.get_voice_agent,
            "delete_voice_agent": self.delete_voice_agent,
            "create_memory": self.create_memory,
            "create_embed": self.create_embed,
            "get_credits": self.get_credits,
            "list_languages": self.list_languages,
        }

    # ------------------------------------------------------------------ contexts

    def list_contexts(self, call: Call) -> Reply:
        """List the account's contexts, newest first, paged."""
        query = call.query_as(la.ListContextsQuery)
        summaries = [
            la.ContextSummary.model_validate(
                context.model_dump(include={"id", "name", "created_at", "updated_at"})
            )
            for context in self._accounts.contexts.newest_first(call.owner)
        ]
        page = paginate(summaries, query.page, query.page_size)
        return self._ok(
            call,
            la.ContextListEnvelope(
                code=self._config.liveavatar_success_code,
                message="success",
                data=la.ContextList(**page_fields(call.request, page, query.page_size)),
            ),
        )

    def create_context(self, call: Call) -> Reply:
        """Store a new context; its ``${var}`` placeholders become its required variables."""
        request = call.body_as(la.CreateContextRequest)
        now = self._now()
        context = self._context(str(uuid.uuid4()), request, created_at=now, updated_at=now)
        self._accounts.contexts.add(call.owner, context.id, context)
        return self._context_reply(call, context)

    def get_context(self, call: Call) -> Reply:
        """Return one of the account's contexts."""
        return self._context_reply(call, self._find(call, self._accounts.contexts, "Context"))

    def update_context(self, call: Call) -> Reply:
        """Replace a context's name, prompt and opening text (and links, when sent)."""
        old = self._find(call, self._accounts.contexts, "Context")
        request = call.body_as(la.UpdateContextRequest)
        context = self._context(
            old.id,
            request,
            created_at=old.created_at if isinstance(old.created_at, str) else self._now(),
            updated_at=self._now(),
            links=old.links if isinstance(old.links, list) else [],
        )
        self._accounts.contexts.replace(call.owner, old.id, context)
        return self._context_reply(call, context)

    def delete_context(self, call: Call) -> Reply:
        """Delete one of the account's contexts."""
        context = self._find(call, self._accounts.contexts, "Context")
        self._accounts.contexts.remove(call.owner, context.id)
        return self._done(call, "Context deleted")

    def copy_context(self, call: Call) -> Reply:
        """Copy a context under a new id, named ``"{name} (Copy)"`` unless a name is sent."""
        original = self._find(call, self._accounts.contexts, "Context")
        request = call.body_as(la.CopyContextRequest)
        name = request.name if isinstance(request.name, str) else f"{original.name} (Copy)"
        now = self._now()
        fields = original.model_dump(exclude_unset=True)
        fields.update(id=str(uuid.uuid4()), name=name, created_at=now, updated_at=now)
        copy = la.Context.model_validate(fields)
        self._accounts.contexts.add(call.owner, copy.id, copy)
        return self._context_reply(call, copy)

    # ------------------------------------------------------------------- secrets

    def list_secrets(self, call: Call) -> Reply:
        """List the account's secrets' metadata, newest first (never a value)."""
        return self._ok(
            call,
            la.SecretListEnvelope(
                code=self._config.liveavatar_success_code,
                message="success",
                data=la.SecretList(self._accounts.secrets.newest_first(call.owner)),
            ),
        )

    def create_secret(self, call: Call) -> Reply:
        """Store a secret's metadata and answer ``{id, secret_name}``; the value is dropped."""
        request = call.body_as(la.CreateSecretRequest)
        secret = la.Secret(
            id=str(uuid.uuid4()),
            secret_name=request.secret_name,
            secret_type=request.secret_type.root,
            created_at=self._now(),
        )
        self._accounts.secrets.add(call.owner, secret.id, secret)
        return self._ok(
            call,
            la.SecretEnvelope(
                code=self._config.liveavatar_success_code,
                message="success",
                data=la.Secret(id=secret.id, secret_name=request.secret_name),
            ),
        )

    def delete_secret(self, call: Call) -> Reply:
        """Delete one of the account's secrets."""
        secret = self._find(call, self._accounts.secrets, "Secret", "secret_id")
        self._accounts.secrets.remove(call.owner, secret.id)
        return self._done(call, "Secret deleted")

    # ------------------------------------------------------- LLM configurations

    def list_llm_configurations(self, call: Call) -> Reply:
        """List the account's LLM configurations, newest first."""
        return self._ok(
            call,
            la.LlmConfigurationListEnvelope(
                code=self._config.liveavatar_success_code,
                message="success",
                data=la.LlmConfigurationList(
                    self._accounts.llm_configurations.newest_first(call.owner)
                ),
            ),
        )

    def create_llm_configuration(self, call: Call) -> Reply:
        """Store an LLM configuration using one of the account's secrets."""
        request = call.body_as(la.CreateLlmConfigurationRequest)
        self._secret_exists(call, request.secret_id)
        fields = request.model_dump(exclude_unset=True)
        fields.setdefault("base_url", None)  # the vendor's null: OpenAI's own endpoint
        configuration = la.LlmConfiguration.model_validate(
            {**fields, "id": str(uuid.uuid4()), "created_at": self._now()}
        )
        self._accounts.llm_configurations.add(call.owner, configuration.id, configuration)
        return self._llm_reply(call, configuration)

    def get_llm_configuration(self, call: Call) -> Reply:
        """Return one of the account's LLM configurations."""
        return self._llm_reply(
            call,
            self._find(call, self._accounts.llm_configurations, "LLM configuration", "config_id"),
        )

    def update_llm_configuration(self, call: Call) -> Reply:
        """Change the fields sent; the others stay."""
        old = self._find(call, self._accounts.llm_configurations, "LLM configuration", "config_id")
        changes = call.body_as(la.UpdateLlmConfigurationRequest)
        if isinstance(changes.secret_id, str):
            self._secret_exists(call, changes.secret_id)
        fields = old.model_dump(exclude_unset=True)
        fields.update(changes.model_dump(exclude_unset=True))
        configuration = la.LlmConfiguration.model_validate(fields)
        self._accounts.llm_configurations.replace(call.owner, old.id, configuration)
        return self._llm_reply(call, configuration)

    def list_llm_models(self, call: Call) -> Reply:
        """Return the managed models per provider (no credentials needed)."""
        return self._ok(
            call,
            la.LlmModelsEnvelope(
                code=self._config.liveavatar_success_code,
                message="LLM models retrieved successfully",
                data=llm_models(),
            ),
        )

    # -------------------------------------------------------------- voice agents

    def list_voice_agents(self, call: Call) -> Reply:
        """List the account's voice agents, without their configurations."""
        agents = [
            la.StoredVoiceAgent.model_validate(
                agent.model_dump(exclude_unset=True, exclude={"agent_configuration"})
            )
            for agent in self._accounts.voice_agents.of(call.owner).values()
        ]
        return self._ok(
            call,
            la.VoiceAgentListEnvelope(
                code=self._config.liveavatar_success_code,
                message="success",
                data=la.VoiceAgentList(agents),
            ),
        )

    def get_voice_agent(self, call: Call) -> Reply:
        """Return one of the account's voice agents, with its configuration."""
        agent = self._find(call, self._accounts.voice_agents, "Voice agent", "agent_id")
        return self._ok(
            call,
            la.VoiceAgentEnvelope(
                code=self._config.liveavatar_success_code, message="success", data=agent
            ),
        )

    def delete_voice_agent(self, call: Call) -> Reply:
        """Delete one of the account's voice agents."""
        agent = self._find(call, self._accounts.voice_agents, "Voice agent", "agent_id")
        self._accounts.voice_agents.remove(call.owner, agent.id)
        return self._done(call, "Voice agent deleted")

    # ------------------------------------------------------ memory and embeds

    def create_memory(self, call: Call) -> Reply:
        """Summarise one of the account's sessions into a memory."""
        request = call.body_as(la.CreateMemoryRequest)
        session = self._state.liveavatar_session(request.session_id)
        if session is None or session.owner != call.owner:
            raise self._refuse(404, f"Session {request.session_id} not found")
        said = [f"{entry.role}: {entry.transcript}" for entry in list(session.transcript)]
        memory = la.Memory(
            id=str(uuid.uuid4()),
            memory_content=" ".join(said) if said else _EMPTY_MEMORY,
            created_at=self._now(),
        )
        self._accounts.memories.add(call.owner, memory.id, memory)
        return self._ok(
            call,
            la.MemoryEnvelope(
                code=self._config.liveavatar_success_code, message="success", data=memory
            ),
        )

    def create_embed(self, call: Call) -> Reply:
        """Return an embed URL and script for an avatar the account can use."""
        request = call.body_as(la.CreateEmbedRequest)
        catalogue = self._state.catalogue
        if catalogue.avatar(call.owner, request.avatar_id) is None:
            raise self._refuse(404, f"Avatar {request.avatar_id} not found")
        if (
            isinstance(request.voice_id, str)
            and catalogue.voice(call.owner, request.voice_id) is None
        ):
            raise self._refuse(404, f"Voice {request.voice_id} not found")
        if isinstance(request.context_id, str):
            self._get(call, self._accounts.contexts, "Context", request.context_id)
        if isinstance(request.voice_agent_id, str):
            self._get(call, self._accounts.voice_agents, "Voice agent", request.voice_agent_id)
        embed_id = str(uuid.uuid4())
        script = (
            f'<script src="{_EMBEDS}/widget.js" data-id="{embed_id}" '
            f'data-type="{request.type}"></script>'
        )
        return self._ok(
            call,
            la.EmbedEnvelope(
                code=self._config.liveavatar_success_code,
                message="success",
                data=la.Embed(url=f"{_EMBEDS}/v1/{embed_id}", script=script),
            ),
        )

    # --------------------------------------------------- credits and languages

    def get_credits(self, call: Call) -> Reply:
        """Return the account's credits left (a decimal string, as the vendor sends)."""
        left = max(0.0, self._state.credits_left(call.owner))
        return self._ok(
            call,
            la.CreditsEnvelope(
                code=self._config.liveavatar_success_code,
                message="success",
                data=la.Credits(credits_left=f"{left:.2f}"),
            ),
        )

    def list_languages(self, call: Call) -> Reply:
        """Return the supported languages (no credentials needed)."""
        return self._ok(
            call,
            la.LanguageListEnvelope(
                code=self._config.liveavatar_success_code,
                message="success",
                data=la.LanguageList(languages()),
            ),
        )

    # ------------------------------------------------------------------- helpers

    def _done(self, call: Call, message: str) -> Reply:
        return self._ok(
            call, la.Envelope(code=self._config.liveavatar_success_code, message=message, data=None)
        )

    def _now(self) -> str:
        return iso_timestamp(self._state.clock.unix())

    def _find(
        self, call: Call, records: OwnedRecords[T], what: str, parameter: str = "context_id"
    ) -> T:
        """The record the path's `parameter` names (404 unknown, 403 another account's)."""
        return self._get(call, records, what, call.path[parameter])

    def _get(self, call: Call, records: OwnedRecords[T], what: str, record_id: str) -> T:
        try:
            return records.get(call.owner, record_id)
        except RecordForeign:
            raise self._refuse(403, f"{what} {record_id} belongs to another account") from None
        except RecordMissing:
            raise self._refuse(404, f"{what} {record_id} not found") from None

    def _secret_exists(self, call: Call, secret_id: str) -> None:
        self._get(call, self._accounts.secrets, "Secret", secret_id)

    def _context(
        self,
        context_id: str,
        request: la.CreateContextRequest | la.UpdateContextRequest,
        *,
        created_at: str,
        updated_at: str,
        links: list[la.ContextLink] | None = None,
    ) -> la.Context:
        sent = request.links
        return la.Context(
            id=context_id,
            name=request.name,
            prompt=request.prompt,
            opening_text=request.opening_text,
            created_at=created_at,
            updated_at=updated_at,
            required_dynamic_variables=dynamic_variables(request.prompt, request.opening_text),
            links=context_links(sent) if isinstance(sent, list) else (links or []),
        )

    def _context_reply(self, call: Call, context: la.Context) -> Reply:
        return self._ok(
            call,
            la.ContextEnvelope(
                code=self._config.liveavatar_success_code, message="success", data=context
            ),
        )

    def _llm_reply(self, call: Call, configuration: la.LlmConfiguration) -> Reply:
        return self._ok(
            call,
            la.LlmConfigurationEnvelope(
                code=self._config.liveavatar_success_code, message="success", data=configuration
            ),
        )
