"""Event tags come from the models: no hand-written module spells one as a string.

A tag written out by hand drifts silently when the schema renames it; built
from a model (``lite.AgentSpeak(type=lite.AGENT_SPEAK_TAG, ...)``) or matched
with ``isinstance``, it cannot. Docstrings may still name tags, for readers,
and a message may mention one inside a sentence.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

from heygen_core.protocol.codec import DIRECTIONS, PROTOCOLS, event_union, tag_field

PACKAGE = Path(__file__).resolve().parents[2] / "heygen_core"
TAG_FIELDS = frozenset(tag_field(protocol) for protocol in PROTOCOLS)


def schema_tags() -> frozenset[str]:
    tags: set[str] = set()
    for protocol in PROTOCOLS:
        for direction in DIRECTIONS:
            root = event_union(protocol, direction).model_fields["root"].annotation
            for member in get_args(root) or (root,):  # a one-member union is the member
                tags.update(get_args(member.model_fields[tag_field(protocol)].annotation))
    return frozenset(tags)


def exempt_nodes(tree: ast.Module) -> set[int]:
    """ids of string constants that may equal a tag by coincidence, not as a tag.

    Docstrings (bare expression statements), and values of keyword arguments
    other than a tag field: pydantic's ``warnings="error"`` is no event tag.
    """
    exempt = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    exempt |= {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.keyword) and node.arg is not None and node.arg not in TAG_FIELDS
    }
    return exempt


def tag_literals(source: str, tags: frozenset[str]) -> list[str]:
    """``line: 'tag'`` for every string constant of `source` that is a tag."""
    tree = ast.parse(source)
    exempt = exempt_nodes(tree)
    hits = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in tags
        and id(node) not in exempt
    ]
    return [f"{node.lineno}: {node.value!r}" for node in sorted(hits, key=lambda n: n.lineno)]


def test_the_schemas_have_tags_to_look_for() -> None:
    # Guards the scan itself: without tags it would pass vacuously. One of
    # each protocol and direction (agent.status is alpha's only server event).
    expected = {"agent.speak", "agent.speak_ended", "avatar.speak_text", "avatar.speak_ended"}
    assert expected | {"agent.audio_buffer_commit", "agent.status"} <= schema_tags()


def test_no_hand_written_module_spells_an_event_tag() -> None:
    tags = schema_tags()
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{hit}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for hit in tag_literals(path.read_text(), tags)
    ]
    assert not found, "spelt tags (use the model's *_TAG constant, or isinstance):\n" + "\n".join(
        found
    )


def test_the_scan_finds_tags_and_skips_prose() -> None:
    sample = (
        '"""Mentions agent.speak_ended in prose."""\n'
        "KIND = 'agent.speak_ended'\n"
        "def f() -> None:\n"
        "    '''agent.speak'''\n"
        "    print(f'before agent.speak_end; after', end='error')\n"
        "    send(lite.AgentSpeak(type='agent.speak'))\n"
        "    seen = event['event_type'] == 'avatar.speak_text'\n"
    )
    assert tag_literals(sample, schema_tags()) == [
        "2: 'agent.speak_ended'",
        "6: 'agent.speak'",
        "7: 'avatar.speak_text'",
    ]
