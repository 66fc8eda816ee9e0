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
    event_types,
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
EVENTS = event_types()


def test_every_schema_has_types() -> None:
    modules = {case.doc.module for case in ALL}
    assert {"liveavatar", "streaming", "lite", "realtime_alpha", "full"} <= modules
    for module in modules:
        assert sum(1 for case in ALL if case.doc.module == module) >= 3, module


@pytest.mark.parametrize("case", ALL, ids=_ids(ALL))
def test_generated_instances_round_trip(case: TypeCase) -> None:
    schema = case.doc.json_schema(case.name)
    model = case.doc.model(case.name)
    validator = Draft202012Validator(schema)

    @given(from_schema(schema))
    def check(instance: Any) -> None:
        raw = json.dumps(instance)
        decoded = decode_as(model, raw)
        assert type(decoded) is model
        wire = json.loads(encode(decoded))
        assert wire_equal(wire, instance), (instance, wire)
        validator.validate(wire)
        if case.event_direction is not None:
            event = decode(raw, case.doc.protocol, case.event_direction)  # type: ignore[arg-type]
            assert type(event).__name__ == case.name
            assert wire_equal(json.loads(encode(event)), instance)

    check()


# Types with no required field have nothing to remove: left out rather than
# skipped, so a skip in the report always means something.
WITH_REQUIRED = [case for case in OBJECTS if object_shape(case.doc, case.name)[1]]


def test_the_required_field_filter_keeps_most_objects() -> None:
    # The filter must not quietly drop the test's subjects (it drops 18 of 129 today).
    assert len(WITH_REQUIRED) > len(OBJECTS) * 3 // 4


@pytest.mark.parametrize("case", WITH_REQUIRED, ids=_ids(WITH_REQUIRED))
def test_removing_a_required_field_is_rejected_naming_it(case: TypeCase) -> None:
    _, required = object_shape(case.doc, case.name)
    model = case.doc.model(case.name)

    @given(from_schema(case.doc.json_schema(case.name)), st.sampled_from(sorted(required)))
    def check(instance: dict[str, Any], field: str) -> None:
        del instance[field]
        with pytest.raises(ProtocolError) as info:
            decode_as(model, json.dumps(instance))
        assert info.value.field == field
        assert repr(field) in str(info.value)

    check()


@pytest.mark.parametrize("case", OBJECTS, ids=_ids(OBJECTS))
def test_a_wrong_type_is_rejected_naming_the_field(case: TypeCase) -> None:
    props, _ = object_shape(case.doc, case.name)
    model = case.doc.model(case.name)
    rejected = {}
    for field, sub in props.items():
        validator = Draft202012Validator({"$defs": case.doc.defs, **sub})
        wrong = [v for v in WRONG_VALUES if not validator.is_valid(v)]
        if wrong:
            rejected[field] = wrong
    if not rejected:
        pytest.skip("every field accepts any JSON value")

    @given(
        from_schema(case.doc.json_schema(case.name)),
        st.sampled_from(sorted(rejected)).flatmap(
            lambda f: st.tuples(st.just(f), st.sampled_from(rejected[f]))
        ),
    )
    def check(instance: dict[str, Any], mutation: tuple[str, Any]) -> None:
        field, value = mutation
        instance[field] = value
        with pytest.raises(ProtocolError) as info:
            decode_as(model, json.dumps(instance))
        assert info.value.field is not None
        assert info.value.field.split(".")[0].split("[")[0] == field, info.value

    check()


TAGGED = [case for case in OBJECTS if case.event_direction is not None]


@pytest.mark.parametrize("case", TAGGED, ids=_ids(TAGGED))
def test_a_wrong_tag_is_rejected_by_the_model_and_unknown_to_the_union(case: TypeCase) -> None:
    tag = case.tag_field
    assert tag is not None
    model = case.doc.model(case.name)
    assert "const" in resolve(case.doc, object_shape(case.doc, case.name)[0][tag])

    @given(from_schema(case.doc.json_schema(case.name)))
    def check(instance: dict[str, Any]) -> None:
        instance[tag] = "no.such.event"
        raw = json.dumps(instance)
        with pytest.raises(ProtocolError) as info:
            decode_as(model, raw)
        assert info.value.field == tag
        event = decode(raw, case.doc.protocol, case.event_direction)  # type: ignore[arg-type]
        assert isinstance(event, UnknownEvent)
        assert event.tag == "no.such.event"
        assert event.payload == instance
        assert json.loads(encode(event)) == instance

    check()


@pytest.mark.parametrize("case", TAGGED, ids=_ids(TAGGED))
def test_a_missing_tag_is_rejected_naming_it(case: TypeCase) -> None:
    tag = case.tag_field
    assert tag is not None

    @given(from_schema(case.doc.json_schema(case.name)))
    def check(instance: dict[str, Any]) -> None:
        del instance[tag]
        with pytest.raises(ProtocolError) as info:
            decode(json.dumps(instance), case.doc.protocol, case.event_direction)  # type: ignore[arg-type]
        assert info.value.field == tag

    check()
