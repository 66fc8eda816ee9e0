"""The schema lint passes on schemas/ and fails, naming the place, on each broken rule.

Each case copies schemas/ to a temporary folder, breaks one rule there, and
runs ``codegen/lint_schemas.py`` on the copy as `make schema-lint` does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LINT = ROOT / "codegen" / "lint_schemas.py"

Doc = dict[str, Any]


def run_lint(schemas: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(LINT), str(schemas)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def lite_drop_examples(doc: Doc) -> None:
    del doc["$defs"]["AgentSpeakStarted"]["examples"]


def lite_tag_not_const(doc: Doc) -> None:
    doc["$defs"]["AgentSpeakStarted"]["properties"]["type"] = {"type": "string"}


def lite_event_out_of_union(doc: Doc) -> None:
    union = doc["$defs"]["ServerEvent"]
    union["oneOf"] = [v for v in union["oneOf"] if not v["$ref"].endswith("/AgentSpeakStarted")]
    union["discriminator"]["mapping"] = {
        tag: ref
        for tag, ref in union["discriminator"]["mapping"].items()
        if not ref.endswith("/AgentSpeakStarted")
    }


def stop_untyped_response(doc: Doc) -> None:
    doc["paths"]["/v1/sessions/stop"]["post"]["responses"]["200"] = {"description": "ok"}


def token_unmarked(doc: Doc) -> None:
    del doc["components"]["schemas"]["SessionTokenData"]["properties"]["session_token"]["x-secret"]


def jwt_unmarked(doc: Doc) -> None:
    # "jwt" is a credential word too (codegen/model_base.py), not only "token".
    doc["components"]["schemas"]["StartSessionData"]["properties"]["livekit_jwt"] = {
        "type": "string"
    }


CASES: dict[str, tuple[str, Callable[[Doc], None], str]] = {
    "event without examples": (
        "realtime/lite.schema.json",
        lite_drop_examples,
        "event AgentSpeakStarted has no examples",
    ),
    "event tag not a const": (
        "realtime/lite.schema.json",
        lite_tag_not_const,
        "AgentSpeakStarted lacks a const tag",
    ),
    "event outside its union": (
        "realtime/lite.schema.json",
        lite_event_out_of_union,
        "AgentSpeakStarted has no place in ClientEvent or ServerEvent",
    ),
    "operation without a typed response": (
        "rest/liveavatar.openapi.yaml",
        stop_untyped_response,
        "response 200 has no typed ($ref) schema",
    ),
    "credential without x-secret": (
        "rest/liveavatar.openapi.yaml",
        token_unmarked,
        "SessionTokenData.session_token: name suggests a credential",
    ),
    "jwt without x-secret": (
        "rest/liveavatar.openapi.yaml",
        jwt_unmarked,
        "StartSessionData.livekit_jwt: name suggests a credential",
    ),
}


def test_the_project_schemas_pass() -> None:
    done = run_lint(ROOT / "schemas")
    assert done.returncode == 0, done.stdout
    assert "clean" in done.stdout


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_broken_rule_fails_the_lint_and_names_it(case: str, tmp_path: Path) -> None:
    relative, breakage, expected = CASES[case]
    schemas = tmp_path / "schemas"
    shutil.copytree(ROOT / "schemas", schemas)
    path = schemas / relative
    if path.suffix == ".json":
        doc = json.loads(path.read_text())
        breakage(doc)
        path.write_text(json.dumps(doc))
    else:
        doc = yaml.safe_load(path.read_text())
        breakage(doc)
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    done = run_lint(schemas)
    assert done.returncode == 1, done.stdout
    assert expected in done.stdout
