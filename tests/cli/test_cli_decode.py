"""`heygen-avatar decode`, run as users run it: the console script on a pipe."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from heygen_core.protocol.codec import DIRECTIONS, PROTOCOLS
from tests.support.schema_cases import event_types, wire_equal

SCRIPT = shutil.which("heygen-avatar", path=str(Path(sys.executable).parent))


def run(args: list[str], stdin: str) -> subprocess.CompletedProcess[str]:
    assert SCRIPT, "heygen-avatar is not installed in this environment (make setup)"
    return subprocess.run(
        [SCRIPT, *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.slow
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_decode_round_trips_every_schema_example(protocol: str, direction: str) -> None:
    cases = [
        (case.name, example)
        for case in event_types()
        if case.doc.protocol == protocol and case.event_direction == direction
        for example in case.schema["examples"]
    ]
    assert cases
    stdin = "".join(json.dumps(example) + "\n" for _, example in cases)
    result = run(["decode", "--protocol", protocol, "--direction", direction], stdin)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(cases)
    for number, (record, (name, example)) in enumerate(zip(records, cases, strict=True), 1):
        assert record["line"] == number
        assert record["class"] == name
        assert record["known"] is True
        assert wire_equal(record["wire"], example)


@pytest.mark.slow
def test_malformed_lines_are_reported_and_the_rest_processed() -> None:
    stdin = "\n".join(
        [
            '{"type": "session.state_updated", "state": "connected"}',
            "{oops",
            '{"type": "brand.new_event", "x": 1}',
            "",
            '{"type": "agent.speak_started", "event_id": 12}',
            '{"type": "agent.speak_ended", "event_id": "e1"}',
        ]
    )
    result = run(["decode", "--protocol", "lite", "--direction", "server"], stdin)
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["line"] for r in records] == [1, 3, 6]
    assert records[1] == {
        "line": 3,
        "class": "UnknownEvent",
        "known": False,
        "wire": {"type": "brand.new_event", "x": 1},
    }
    errors = result.stderr.splitlines()
    assert len(errors) == 2
    assert errors[0].startswith("line 2:")
    assert errors[1].startswith("line 5:") and "'event_id'" in errors[1]


@pytest.mark.slow
def test_bad_arguments_exit_2_with_usage() -> None:
    result = run(["decode", "--protocol", "nope", "--direction", "server"], "")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
