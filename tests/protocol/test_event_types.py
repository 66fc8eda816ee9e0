"""One event union per protocol and direction: narrowed without casts, at type-check and run time.

`decode` with literal arguments, `RealtimeConnection.events()` and
`AvatarSession.events()` return precise unions, so ``isinstance`` and
``match`` narrow them for mypy --strict; the same unions work with
``isinstance`` at run time. The aliases codegen emits (``*Variant``,
``*_TAG``) must agree with the generated union models they name.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any, get_args

import pytest
from heygen_models import full, lite, realtime_alpha
from mypy import api as mypy_api

from heygen_core.protocol import events
from heygen_core.protocol.codec import DIRECTIONS, PROTOCOLS, decode, encode, event_union, tag_field
from heygen_core.protocol.events import Direction, ProtocolName, UnknownEvent
from heygen_core.realtime.events import ConnectionLost, SessionEvent, SocketEvent

ROOT = Path(__file__).resolve().parents[2]
# Its own directory under the project's cache, so it never races `make typecheck`.
MYPY_CACHE = ROOT / ".mypy_cache" / "tests-event-types"

MODULES = {"lite": lite, "full": full, "realtime-alpha": realtime_alpha}
PUBLIC_ALIASES = {
    ("lite", "server"): events.LiteServerEvent,
    ("lite", "client"): events.LiteClientEvent,
    ("full", "server"): events.FullServerEvent,
    ("full", "client"): events.FullClientEvent,
    ("realtime-alpha", "server"): events.AlphaServerEvent,
    ("realtime-alpha", "client"): events.AlphaClientEvent,
}

NARROWING = """\
from typing import assert_type

from heygen_models import full, lite, realtime_alpha

from heygen_core.protocol.codec import decode
from heygen_core.protocol.events import AlphaServerEvent, FullServerEvent, LiteServerEvent
from heygen_core.protocol.events import Direction, ProtocolName, UnknownEvent
from heygen_core.realtime.connection import RealtimeConnection
from heygen_core.realtime.events import ConnectionLost, SessionEvent
from heygen_core.session import AvatarSession


def describe(event: SessionEvent) -> str:
    if isinstance(event, lite.AgentSpeakEnded):
        return str(event.task)
    match event:
        case full.AvatarTranscription(text=text):
            return f"{text} ({event.source_event_id})"
        case lite.SessionStateUpdated():
            return event.state
        case realtime_alpha.AgentStatus():
            return f"{event.status}"
        case ConnectionLost():
            return ",".join(event.lost_event_ids)
        case UnknownEvent():
            return event.tag
    return type(event).__name__


def decoded(raw: str) -> None:
    assert_type(decode(raw, "lite", "server"), LiteServerEvent)
    assert_type(decode(raw, "full", "server"), FullServerEvent)
    assert_type(decode(raw, "realtime-alpha", "server"), AlphaServerEvent)
    event = decode(raw, "full", "server")
    if isinstance(event, full.SessionStopped):
        print(event.end_reason)


def log(event: SessionEvent) -> None:
    print(describe(event))


async def consume(session: AvatarSession, connection: RealtimeConnection) -> None:
    session.on_event(log)
    async for event in session.events():
        print(describe(event))
    async for socket_event in connection.events():
        if isinstance(socket_event, lite.AgentSpeakStarted):
            print(socket_event.event_id)
"""

MISTAKES = """\
from heygen_models import lite

from heygen_core.protocol.codec import decode
from heygen_core.realtime.events import SessionEvent


def wrong(event: SessionEvent, raw: str) -> None:
    if isinstance(event, lite.AgentSpeakEnded):
        print(event.text)  # line 9: a FULL transcription's field, not this event's
    print(event.reconnecting)  # line 10: only ConnectionLost has it
    print(decode(raw, "lite", "server").event_id)  # line 11: an UnknownEvent has none
"""


def run_mypy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **files: str) -> tuple[str, int]:
    paths = []
    for name, source in files.items():
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        paths.append(str(path))
    monkeypatch.chdir(ROOT)  # the config's mypy_path is relative to the project root
    out, err, status = mypy_api.run(
        ["--config-file", "pyproject.toml", "--strict", "--cache-dir", str(MYPY_CACHE), *paths]
    )
    return out + err, status


def test_mypy_narrows_events_without_casts_and_rejects_wrong_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report, status = run_mypy(tmp_path, monkeypatch, narrowing=NARROWING, mistakes=MISTAKES)
    errors = [line for line in report.splitlines() if ": error:" in line]
    assert not [line for line in errors if "narrowing.py" in line], report
    assert status == 1, report
    lines = sorted({int(line.split(":")[1]) for line in errors if "mistakes.py" in line})
    assert lines == [9, 10, 11], report
    assert '"AgentSpeakEnded" has no attribute "text"' in report
    assert '"UnknownEvent" of' in report and 'has no attribute "event_id"' in report


@pytest.mark.parametrize(("protocol", "direction"), PUBLIC_ALIASES)
def test_variant_aliases_are_the_union_members(
    protocol: ProtocolName, direction: Direction
) -> None:
    module = MODULES[protocol]
    union = event_union(protocol, direction)
    root = union.model_fields["root"].annotation
    variant = getattr(module, union.__name__ + "Variant")
    assert set(get_args(variant) or (variant,)) == set(get_args(root) or (root,))
    public = PUBLIC_ALIASES[protocol, direction]
    assert set(get_args(public)) == {*(get_args(variant) or (variant,)), UnknownEvent}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_tag_constants_are_the_models_tags(protocol: ProtocolName) -> None:
    module = MODULES[protocol]
    field = tag_field(protocol)
    checked = 0
    for direction in DIRECTIONS:
        root = event_union(protocol, direction).model_fields["root"].annotation
        for member in get_args(root) or (root,):
            constant = "".join(
                "_" + c if c.isupper() and i else c for i, c in enumerate(member.__name__)
            ).upper()
            (tag,) = get_args(member.model_fields[field].annotation)
            assert getattr(module, constant + "_TAG") == tag, member.__name__
            checked += 1
    assert checked >= 2


def wire(protocol: ProtocolName, tag: str, **fields: Any) -> str:
    return json.dumps({tag_field(protocol): tag, **fields})


def test_decoded_events_are_instances_of_their_protocols_union() -> None:
    lite_event = decode(wire("lite", lite.AGENT_SPEAK_ENDED_TAG, event_id="u1"), "lite", "server")
    full_event = decode(wire("full", full.AVATAR_SPEAK_ENDED_TAG, event_id="e1"), "full", "server")
    alpha_event = decode(
        wire("realtime-alpha", realtime_alpha.AGENT_STATUS_TAG, status="idle"),
        "realtime-alpha",
        "server",
    )
    unknown = decode(wire("lite", "agent.something_new"), "lite", "server")
    assert isinstance(lite_event, lite.AgentSpeakEnded) and lite_event.event_id == "u1"
    assert isinstance(full_event, full.AvatarSpeakEnded)
    assert isinstance(alpha_event, realtime_alpha.AgentStatus) and alpha_event.status == "idle"
    assert isinstance(unknown, UnknownEvent) and unknown.tag == "agent.something_new"
    # The aliases are real unions: usable with isinstance at run time too.
    assert isinstance(lite_event, events.LiteServerEvent)
    assert not isinstance(lite_event, events.FullServerEvent | events.AlphaServerEvent)
    assert not isinstance(full_event, events.LiteServerEvent)
    for event in (lite_event, full_event, alpha_event, unknown):
        assert isinstance(event, SessionEvent)
    assert not isinstance(full_event, SocketEvent)  # FULL events come from the room
    assert isinstance(ConnectionLost(None, "", (), False), SocketEvent)


def test_client_events_built_with_tag_constants_round_trip() -> None:
    speak = lite.AgentSpeak(type=lite.AGENT_SPEAK_TAG, audio="AAAA", event_id="u1")
    text = full.AvatarSpeakText(event_type=full.AVATAR_SPEAK_TEXT_TAG, text="hi", event_id="e1")
    assert decode(encode(speak), "lite", "client") == speak
    assert decode(encode(text), "full", "client") == text
    assert json.loads(encode(speak))["type"] == lite.AGENT_SPEAK_TAG
