"""heygen_core.protocol.codec on hand-picked messages: the behaviour users rely on."""

from __future__ import annotations

import json

import pytest
from heygen_models import full, lite, realtime_alpha

from heygen_core import ProtocolError, UnknownEvent, decode, decode_as, encode
from heygen_core.protocol.codec import event_union, tag_field


def test_pipecat_interrupt_keeps_its_explicit_null() -> None:
    raw = '{"type": "agent.interrupt", "event_id": null}'
    event = decode(raw, "lite", "client")
    assert isinstance(event, lite.AgentInterrupt)
    assert json.loads(encode(event)) == {"type": "agent.interrupt", "event_id": None}


def test_absent_optional_field_stays_absent() -> None:
    event = decode('{"type": "agent.interrupt"}', "lite", "client")
    assert encode(event) == '{"type":"agent.interrupt"}'


def test_full_sdk_interrupt_with_only_its_tag() -> None:
    event = decode('{"event_type": "avatar.interrupt"}', "full", "client")
    assert type(event).__name__ == "AvatarInterrupt"
    assert encode(event) == '{"event_type":"avatar.interrupt"}'


def test_constructed_models_encode_to_wire_json() -> None:
    speak = lite.AgentSpeak(type="agent.speak", audio="AAAA", event_id="e1")
    assert json.loads(encode(speak)) == {"type": "agent.speak", "audio": "AAAA", "event_id": "e1"}


def test_client_events_are_closed() -> None:
    with pytest.raises(ProtocolError) as info:
        decode(
            '{"type": "agent.speak", "audio": "AA==", "event_id": "e", "x": 1}', "lite", "client"
        )
    assert info.value.field == "x"


def test_server_events_keep_unknown_fields() -> None:
    raw = (
        '{"type": "agent.speak_started", "event_id": "e1", "task": {"id": "t", "new": 2}, "z": [1]}'
    )
    event = decode(raw, "lite", "server")
    assert type(event).__name__ == "AgentSpeakStarted"
    assert json.loads(encode(event)) == json.loads(raw)


def test_unknown_tag_is_surfaced_with_its_payload() -> None:
    raw = '{"type": "avatar.did_something_new", "value": 3}'
    event = decode(raw, "lite", "server")
    assert isinstance(event, UnknownEvent)
    assert (event.protocol, event.direction, event.tag) == (
        "lite",
        "server",
        "avatar.did_something_new",
    )
    assert event.payload == {"type": "avatar.did_something_new", "value": 3}
    assert json.loads(encode(event)) == event.payload


def test_bad_field_names_the_field() -> None:
    raw = '{"type": "agent.speak_started", "event_id": 5}'
    with pytest.raises(ProtocolError) as info:
        decode(raw, "lite", "server")
    assert info.value.field == "event_id"
    assert "'event_id'" in str(info.value)
    assert info.value.message_type == "agent.speak_started"


def test_nested_bad_field_gives_a_dotted_path() -> None:
    raw = '{"type": "agent.speak_started", "event_id": "e", "task": {"id": 7}}'
    with pytest.raises(ProtocolError) as info:
        decode(raw, "lite", "server")
    assert info.value.field == "task.id"


@pytest.mark.parametrize("raw", ["{not json", "", "[1, 2]", '"text"', "null", b"\xff\xfe"])
def test_malformed_messages_raise_protocol_error(raw: str | bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        decode(raw, "lite", "server")
    assert info.value.field is None


def test_missing_tag_names_the_tag_field() -> None:
    with pytest.raises(ProtocolError) as info:
        decode('{"event_id": "e"}', "full", "server")
    assert info.value.field == "event_type"


def test_non_string_tag_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError) as info:
        decode('{"type": 5}', "lite", "server")
    assert info.value.field == "type"


def test_error_messages_leave_values_out() -> None:
    secret = "sk-canary-0123456789"
    with pytest.raises(ProtocolError) as info:
        decode(
            json.dumps({"type": "agent.speak", "audio": 1, "event_id": secret}), "lite", "client"
        )
    assert secret not in str(info.value)
    assert secret not in repr(info.value.errors)


def test_wrong_type_assigned_after_construction_is_not_sent() -> None:
    speak = lite.AgentSpeak(type="agent.speak", audio="AAAA", event_id="e1")
    speak.event_id = 5  # type: ignore[assignment]
    with pytest.raises(ProtocolError, match="AgentSpeak"):
        encode(speak)


def test_realtime_alpha_decodes_both_spellings_of_stop_listening() -> None:
    old = decode('{"type": "agent.end_listening", "event_id": "e"}', "realtime-alpha", "client")
    new = decode('{"type": "agent.stop_listening", "event_id": "e"}', "realtime-alpha", "client")
    assert type(old).__name__ == "AgentEndListening"
    assert type(new).__name__ == "AgentStopListening"
    assert realtime_alpha.ClientEvent is event_union("realtime-alpha", "client")


def test_tag_fields() -> None:
    assert tag_field("lite") == "type"
    assert tag_field("realtime-alpha") == "type"
    assert tag_field("full") == "event_type"
    assert full.ServerEvent is event_union("full", "server")


def test_decode_as_rest_body_discriminated_on_mode() -> None:
    from heygen_models import liveavatar

    body = (
        '{"mode": "LITE", "avatar_id": "dd73ea75-1218-4ef3-92ce-606d5f7fbc0a", "is_sandbox": true}'
    )
    request = decode_as(liveavatar.SessionTokenRequest, body)
    assert type(request.root).__name__ == "LiteSessionTokenRequest"
    assert json.loads(encode(request)) == json.loads(body)
    with pytest.raises(ProtocolError) as info:
        decode_as(liveavatar.SessionTokenRequest, '{"mode": "LITE", "is_sandbox": true}')
    assert info.value.field == "avatar_id"


def test_unknown_protocol_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="expected one of"):
        decode("{}", "nope", "server")  # type: ignore[call-overload]
