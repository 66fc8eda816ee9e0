"""Property tests over every request, response and event type in every schema.

Types are enumerated from the schema files (tests/support/schema_cases.py), so a new
type is covered as soon as `make generate` has run.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator

from heygen_core import ProtocolError, UnknownEvent, decode, decode_as, encode
from tests.support.schema_cases import (
    TypeCase,
    all_types,
    object_shape,
    object_types,
    resolve,
    wire_equal,
)

# Values of every JSON type; a mutation picks one the field's schema rejects.
WRONG_VALUES: list[Any] = [{"unexpected": 1}, ["x"], 12345, 1.5, "not-valid-here", True, None]


def _ids(cases: list[TypeCase]) -> list[str]:
    return [case.id for case in cases]


ALL = all_types()
OBJECTS = object_types()


def test_every_schema_has_types() -> None:
    modules = {case.doc.module for case in ALL}
    assert {"liveavatar", "streaming", "lite", "realtime_alpha", "full"} <= modules
    for module in modules:
        assert sum(1 for case in ALL if case.doc.module == module) >= 3, module


def wrong_values_by_field(case: TypeCase) -> dict[str, list[Any]]:
    """Per field of an object type: the values of `WRONG_VALUES` its schema rejects."""
    props, _ = object_shape(case.doc, case.name)
    rejected = {}
    for field, sub in props.items():
        validator = Draft202012Validator({"$defs": case.doc.defs, **sub})
        wrong = [v for v in WRONG_VALUES if not validator.is_valid(v)]
        if wrong:
            rejected[field] = wrong
    return rejected


# Drawing an instance from a schema is nearly all of these tests' cost (a type
# with open objects draws arbitrary JSON for its extra fields), so each type is
# drawn once per example and every property is checked on that draw: a
# round trip, a removed required field, a field of the wrong type, and for
# events a wrong and a missing tag.
@pytest.mark.parametrize("case", ALL, ids=_ids(ALL))
def test_every_property_holds_for_generated_instances(case: TypeCase) -> None:
    schema = case.doc.json_schema(case.name)
    model = case.doc.model(case.name)
    validator = Draft202012Validator(schema)
    is_object = bool(object_shape(case.doc, case.name)[0])
    required = sorted(object_shape(case.doc, case.name)[1]) if is_object else []
    rejected = wrong_values_by_field(case) if is_object else {}

    @given(from_schema(schema), st.data())
    def check(instance: Any, data: st.DataObject) -> None:
        round_trips(case, model, validator, instance)
        if required:
            field = data.draw(st.sampled_from(required), label="removed field")
            removing_a_required_field_is_rejected(model, dict(instance), field)
        if rejected:
            field = data.draw(st.sampled_from(sorted(rejected)), label="mutated field")
            value = data.draw(st.sampled_from(rejected[field]), label="wrong value")
            a_wrong_type_is_rejected(model, dict(instance), field, value)
        if case.event_direction is not None:
            a_wrong_tag_is_rejected_and_unknown_to_the_union(case, model, dict(instance))
            a_missing_tag_is_rejected(case, dict(instance))

    check()


def round_trips(case: TypeCase, model: Any, validator: Draft202012Validator, instance: Any) -> None:
    raw = json.dumps(instance)
    decoded = decode_as(model, raw)
    assert type(decoded) is model
    wire = json.loads(encode(decoded))
    assert wire_equal(wire, instance), (instance, wire)
    validator.validate(wire)
    if case.event_direction is not None:
        event = decode(raw, case.doc.protocol, case.event_direction)  # type: ignore[call-overload]
        assert type(event).__name__ == case.name
        assert wire_equal(json.loads(encode(event)), instance)


def removing_a_required_field_is_rejected(model: Any, instance: dict[str, Any], field: str) -> None:
    del instance[field]
    with pytest.raises(ProtocolError) as info:
        decode_as(model, json.dumps(instance))
    assert info.value.field == field
    assert repr(field) in str(info.value)


def a_wrong_type_is_rejected(model: Any, instance: dict[str, Any], field: str, value: Any) -> None:
    instance[field] = value
    with pytest.raises(ProtocolError) as info:
        decode_as(model, json.dumps(instance))
    assert info.value.field is not None
    assert info.value.field.split(".")[0].split("[")[0] == field, info.value


def a_wrong_tag_is_rejected_and_unknown_to_the_union(
    case: TypeCase, model: Any, instance: dict[str, Any]
) -> None:
    tag = case.tag_field
    assert tag is not None
    instance[tag] = "no.such.event"
    raw = json.dumps(instance)
    with pytest.raises(ProtocolError) as info:
        decode_as(model, raw)
    assert info.value.field == tag
    event = decode(raw, case.doc.protocol, case.event_direction)  # type: ignore[call-overload]
    assert isinstance(event, UnknownEvent)
    assert event.tag == "no.such.event"
    assert event.payload == instance
    assert json.loads(encode(event)) == instance


def a_missing_tag_is_rejected(case: TypeCase, instance: dict[str, Any]) -> None:
    tag = case.tag_field
    assert tag is not None
    del instance[tag]
    with pytest.raises(ProtocolError) as info:
        decode(json.dumps(instance), case.doc.protocol, case.event_direction)  # type: ignore[call-overload]
    assert info.value.field == tag


TAGGED = [case for case in OBJECTS if case.event_direction is not None]


def test_the_property_test_reaches_every_kind_of_check() -> None:
    # The checks above run only where they apply; make sure each applies
    # somewhere, so none of them is quietly dead.
    assert sum(1 for case in OBJECTS if object_shape(case.doc, case.name)[1]) > len(OBJECTS) // 2
    assert sum(1 for case in OBJECTS if wrong_values_by_field(case)) > len(OBJECTS) // 2
    assert len(TAGGED) >= 20
    for case in TAGGED:
        tag = case.tag_field
        assert tag is not None
        assert "const" in resolve(case.doc, object_shape(case.doc, case.name)[0][tag])
