"""Per-account LiveAvatar resources of the simulator: contexts, secrets, LLMs, agents.

Every record belongs to one account (an opaque owner id, never the API key).
Records made over the API get fresh uuid4 ids, so an id names one record of
one account: asking for another account's record is told apart from asking
for one that never existed (403, not 404). Seeded records (the catalogue's
voice agents and contexts) are copied into each account on first use under
the same ids, as the catalogue does for private avatars, so one test's
DELETE never leaks into another account.

A secret's value is never kept: the simulator calls no provider, and what is
not stored cannot leak.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Generic, TypeVar

from heygen_models import liveavatar as la

from heygen_core.simulator.catalogue import seed_contexts, seed_voice_agents

T = TypeVar("T")

# `${name}` placeholders of a context's prompt and opening text.
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class RecordMissing(KeyError):
    """No record has this id (in any account)."""


class RecordForeign(KeyError):
    """The record exists but belongs to another account."""


class OwnedRecords(Generic[T]):
    """Records of one kind, per account, in creation order."""

    def __init__(self, seed: Callable[[], list[tuple[str, T]]] | None = None) -> None:
        """Create an empty store; `seed` gives the records every account starts with."""
        self._seed = seed
        self._by_owner: dict[str, dict[str, T]] = {}
        self._owner_of: dict[str, str] = {}

    def of(self, owner: str) -> dict[str, T]:
        """Return `owner`'s records by id (seeded on first use), oldest first."""
        records = self._by_owner.get(owner)
        if records is None:
            records = self._by_owner[owner] = dict(self._seed() if self._seed else [])
        return records

    def newest_first(self, owner: str) -> list[T]:
        """Return `owner`'s records, newest first (as the list operations answer)."""
        return list(reversed(self.of(owner).values()))

    def add(self, owner: str, record_id: str, record: T) -> T:
        """Store a new record of `owner` and return it."""
        self.of(owner)[record_id] = record
        self._owner_of[record_id] = owner
        return record

    def get(self, owner: str, record_id: str) -> T:
        """Return `owner`'s record `record_id`.

        Raises:
            RecordForeign: It belongs to another account.
            RecordMissing: No account has it.

        """
        record = self.of(owner).get(record_id)
        if record is not None:
            return record
        if record_id in self._owner_of:
            raise RecordForeign(record_id)
        raise RecordMissing(record_id)

    def replace(self, owner: str, record_id: str, record: T) -> T:
        """Replace `owner`'s record `record_id` (which must exist) and return the new one."""
        self.get(owner, record_id)
        self.of(owner)[record_id] = record
        return record

    def remove(self, owner: str, record_id: str) -> T:
        """Remove `owner`'s record `record_id` and return it (same errors as `get`)."""
        record = self.get(owner, record_id)
        del self.of(owner)[record_id]
        self._owner_of.pop(record_id, None)
        return record


def dynamic_variables(*texts: str) -> list[str]:
    """Return the ``${name}`` placeholders used in `texts`, in order of first use."""
    names: dict[str, None] = {}
    for text in texts:
        for name in _PLACEHOLDER.findall(text):
            names.setdefault(name, None)
    return list(names)


def context_links(requested: list[la.ContextLinkRequest]) -> list[la.ContextLink]:
    """Return the stored links of `requested`: a given id is kept, a new link gets one."""
    links = []
    for link in requested:
        fields = link.model_dump(exclude_unset=True)
        fields.setdefault("id", str(uuid.uuid4()))
        links.append(la.ContextLink.model_validate(fields))
    return links


class AccountStore:
    """The account resources of one simulator.

    Attributes:
        contexts: FULL-mode contexts (prompt, opening text, links).
        secrets: Stored secrets' metadata only (never their values).
        llm_configurations: Custom LLM configurations.
        voice_agents: Voice agents (seeded from the catalogue).
        memories: Memories made from sessions.
    """

    def __init__(self) -> None:
        """Create the empty stores (seeded per account on first use)."""
        self.contexts: OwnedRecords[la.Context] = OwnedRecords(
            lambda: [(c.id, c) for c in seed_contexts()]
        )
        self.secrets: OwnedRecords[la.Secret] = OwnedRecords()
        self.llm_configurations: OwnedRecords[la.LlmConfiguration] = OwnedRecords()
        self.voice_agents: OwnedRecords[la.StoredVoiceAgent] = OwnedRecords(
            lambda: [(a.id, a) for a in seed_voice_agents()]
        )
        self.memories: OwnedRecords[la.Memory] = OwnedRecords()
