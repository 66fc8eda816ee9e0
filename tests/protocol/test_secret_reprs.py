"""No credential in a generated model's repr or str, nor in `say`'s event lines.

The services accept and send fields the schemas do not declare (server events
and answers are open, ``extra="allow"``). One named like a credential
(``session_token``, ``api_key``, ``livekit_jwt``) is a secret by the project's
name rule (rule 10 of schemas/README.md), as a declared ``x-secret`` field is:
the models' own repr and str, `redacted_wire` and the CLI's ``event:`` lines
show it as ``<redacted>``, at any depth, while an innocuous extra stays visible.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from heygen_models import lite
from heygen_models import liveavatar as la
from heygen_models.base import SchemaModel
from pydantic import BaseModel

from heygen_core.cli._say import _describe
from heygen_core.protocol.codec import decode, decode_as
from heygen_core.protocol.schemas import schema_documents
from heygen_core.rest.redaction import REDACTED, redacted_repr, redacted_wire

# Undeclared credential-named fields, each with its own canary value.
CREDENTIALS = {
    "session_token": "token-canary",
    "api_key": "key-canary",
    "livekit_jwt": "jwt-canary",
    "X-Api-Key": "header-canary",
}
VISIBLE = {"region": "eu-visible"}


def with_extras(wire: dict[str, Any]) -> dict[str, Any]:
    """`wire` plus credential extras at the top, in a dict and in a list of dicts."""
    return {
        **wire,
        **CREDENTIALS,
        **VISIBLE,
        "details": {"access_token": "nested-canary", "note": "nested-visible"},
        "servers": [{"password": "listed-canary", "url": "turn:listed-visible"}],
    }


CANARIES = (*CREDENTIALS.values(), "nested-canary", "listed-canary")
SHOWN = ("eu-visible", "nested-visible", "listed-visible")


def assert_hidden(text: str) -> None:
    for canary in CANARIES:
        assert canary not in text, (canary, text)
    for shown in SHOWN:
        assert shown in text, (shown, text)
    assert REDACTED in text


def server_event_examples() -> list[tuple[str, dict[str, Any]]]:
    """(protocol, first example) of every server event of every realtime schema."""
    found = []
    for doc in schema_documents():
        if doc.kind != "realtime":
            continue
        for member in doc.defs["ServerEvent"]["oneOf"]:
            name = member["$ref"].rsplit("/", 1)[-1]
            found.append((doc.protocol, doc.defs[name]["examples"][0]))
    return found


@pytest.mark.parametrize(
    ("protocol", "example"),
    server_event_examples(),
    ids=lambda value: (
        value if isinstance(value, str) else value.get("type", value.get("event_type"))
    ),
)
def test_a_decoded_server_event_hides_undeclared_credentials(
    protocol: Any, example: dict[str, Any]
) -> None:
    event = decode(json.dumps(with_extras(example)), protocol, "server")
    assert isinstance(event, SchemaModel)
    assert_hidden(repr(event))
    assert_hidden(str(event))
    assert_hidden(redacted_repr(event))
    # Only the text is redacted: the values are kept and re-sent as received.
    assert event.model_dump(by_alias=True)["livekit_jwt"] == "jwt-canary"


def test_a_nested_model_hides_its_own_undeclared_credentials() -> None:
    event = decode(
        json.dumps(
            {
                "type": "agent.speak_started",
                "event_id": "e-1",
                "task": {"id": "task-visible", "session_token": "task-canary"},
            }
        ),
        "lite",
        "server",
    )
    assert isinstance(event, lite.AgentSpeakStarted)
    for text in (repr(event), str(event), _describe(event)):
        assert "task-canary" not in text
        assert "task-visible" in text


def test_a_null_stays_visible_and_any_credential_word_is_hidden() -> None:
    event = lite.AgentSpeakEnded.model_validate(
        {"type": "agent.speak_ended", "event_id": "e-1", "refresh_token": None, "tokens": 12}
    )
    # A null holds no secret; `tokens` is a count but named like a credential,
    # so it is hidden: the rule errs on the safe side for undeclared fields.
    assert "refresh_token=None" in repr(event)
    assert "tokens=<redacted>" in repr(event)


def test_rest_answers_hide_undeclared_credentials() -> None:
    body = {
        "code": 1000,
        "message": "ok",
        "data": with_extras({"session_id": "s-visible", "session_token": "declared-canary"}),
    }
    answer = decode_as(la.SessionTokenEnvelope, json.dumps(body))
    for text in (repr(answer), str(answer), repr(answer.data), redacted_repr(answer)):
        assert_hidden(text)
        assert "declared-canary" not in text  # x-secret: declared, left out
        assert "s-visible" in text


def test_every_open_model_hides_undeclared_credentials() -> None:
    checked = 0
    for doc in schema_documents():
        for name in doc.defs:
            model = doc.model(name)
            if not issubclass(model, SchemaModel) or model.model_config.get("extra") != "allow":
                continue
            # Built without validation: only the repr is under test.
            instance = model.model_construct(**with_extras({}))
            assert_hidden(repr(instance))
            assert_hidden(str(instance))
            checked += 1
    assert checked >= 50  # every server event and answer of the five schemas


def test_say_event_lines_hide_every_secret() -> None:
    event = decode(
        json.dumps(
            with_extras({"type": "session.state_updated", "event_id": "e-1", "state": "connected"})
        ),
        "lite",
        "server",
    )
    line = _describe(event)
    assert_hidden(line)
    wire = json.loads(line)
    assert wire["session_token"] == REDACTED
    assert wire["details"] == {"access_token": REDACTED, "note": "nested-visible"}
    assert wire["servers"] == [{"password": REDACTED, "url": "turn:listed-visible"}]
    assert wire["state"] == "connected"


def test_redacted_wire_hides_declared_and_undeclared_secrets() -> None:
    data = la.StartSessionData.model_validate(
        {
            "session_id": "s-1",
            "livekit_url": "wss://visible.livekit.cloud",
            "livekit_client_token": "declared-canary",
            "max_session_duration": 60,
            **with_extras({}),
        }
    )
    wire = redacted_wire(data)
    text = json.dumps(wire)
    assert_hidden(text)
    assert "declared-canary" not in text
    assert wire["livekit_client_token"] == REDACTED
    assert wire["livekit_url"] == "wss://visible.livekit.cloud"
    # The real wire form is unchanged.
    assert data.model_dump(mode="json", by_alias=True)["livekit_client_token"] == "declared-canary"


def test_a_model_of_another_package_goes_by_field_names() -> None:
    class Foreign(BaseModel):
        user_token: str
        region: str

    wire = redacted_wire(Foreign(user_token="foreign-canary", region="eu"))
    assert wire == {"user_token": REDACTED, "region": "eu"}
