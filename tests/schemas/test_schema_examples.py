"""Every `examples` entry in every schema parses, round-trips and validates."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from heygen_core import decode, decode_as, encode
from tests.support.schema_cases import TypeCase, example_cases, wire_equal

EXAMPLES = example_cases()


def test_there_are_examples_in_every_schema() -> None:
    modules = {case.doc.module for case, _, _ in EXAMPLES}
    assert {"liveavatar", "streaming", "lite", "realtime_alpha", "full"} <= modules


@pytest.mark.parametrize(
    ("case", "index", "example"), EXAMPLES, ids=[f"{c.id}[{i}]" for c, i, _ in EXAMPLES]
)
def test_example_parses_and_round_trips(case: TypeCase, index: int, example: Any) -> None:
    Draft202012Validator(case.doc.json_schema(case.name)).validate(example)
    raw = json.dumps(example)
    model = decode_as(case.doc.model(case.name), raw)
    assert wire_equal(json.loads(encode(model)), example)
    if case.event_direction is not None:
        event = decode(raw, case.doc.protocol, case.event_direction)  # type: ignore[arg-type]
        assert type(event).__name__ == case.name
        assert wire_equal(json.loads(encode(event)), example)
