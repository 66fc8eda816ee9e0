"""Traffic of other clients decodes as typed events, in the right protocol and direction.

The messages are what the official web SDK (``@heygen/liveavatar-web-sdk``
0.0.18), the LiveKit plugin (``livekit-plugins-liveavatar`` 1.8.9) and
HeyGen's LiveKit starter agent send or read, written from their source.
"""

from __future__ import annotations

import json

import pytest
from heygen_models import full, lite

from heygen_core.protocol.codec import UnknownEvent, decode, encode
from heygen_core.protocol.events import Direction, ProtocolName
from heygen_core.protocol.renamed_fields import agent_state, stop_reason

SID = "3f9a1c2e-7b4d-4e8f-a1b2-c3d4e5f6a7b8"
EID = "6f1c2b9e-3d4a-4f5b-9c8d-7e6f5a4b3c2d"

# (who, protocol, direction, message, expected model)
CAPTURES: list[tuple[str, ProtocolName, Direction, dict[str, object], type]] = [
    (
        "starter",
        "lite",
        "client",
        {"type": "start", "encoding": "pcm_s16le", "sample_rate": 24000, "channels": 1},
        lite.AudioFormatStart,
    ),
    ("starter", "lite", "client", {"type": "agent.speak", "audio": "AAAAAA=="}, lite.AgentSpeak),
    ("starter", "lite", "client", {"type": "agent.speak_end"}, lite.AgentSpeakEnd),
    (
        "starter",
        "lite",
        "client",
        {"type": "agent.interrupt", "event_id": EID},
        lite.AgentInterrupt,
    ),
    (
        "livekit-plugin",
        "lite",
        "client",
        {"type": "agent.speak", "event_id": EID, "audio": "AAAAAA=="},
        lite.AgentSpeak,
    ),
    (
        "livekit-plugin",
        "lite",
        "client",
        {"type": "agent.speak_end", "event_id": EID},
        lite.AgentSpeakEnd,
    ),
    (
        "livekit-plugin",
        "lite",
        "client",
        {"type": "agent.start_listening", "event_id": EID},
        lite.AgentStartListening,
    ),
    (
        "livekit-plugin",
        "lite",
        "client",
        {"type": "agent.stop_listening", "event_id": EID},
        lite.AgentStopListening,
    ),
    (
        "livekit-plugin",
        "lite",
        "client",
        {"type": "session.keep_alive", "event_id": EID},
        lite.SessionKeepAlive,
    ),
    (
        "livekit-plugin",
        "lite",
        "server",
        {"type": "session.state_updated", "state": "connected"},
        lite.SessionStateUpdated,
    ),
    (
        "livekit-plugin",
        "lite",
        "server",
        {"type": "agent.state_updated", "previous_state": "idle", "new_state": "talking"},
        lite.AgentStateUpdated,
    ),
    (
        "livekit-plugin",
        "lite",
        "server",
        {"type": "agent.state_updated", "state": "listening"},
        lite.AgentStateUpdated,
    ),
    (
        "livekit-plugin",
        "lite",
        "server",
        {"type": "agent.audio_buffer_appended", "source_event_id": EID},
        lite.AgentAudioBufferAppended,
    ),
    (
        "livekit-plugin",
        "lite",
        "server",
        {"type": "agent.audio_buffer_committed", "source_event_id": EID},
        lite.AgentAudioBufferCommitted,
    ),
    (
        "livekit-plugin",
        "lite",
        "server",
        {"type": "agent.audio_buffer_cleared", "source_event_id": EID},
        lite.AgentAudioBufferCleared,
    ),
    (
        "livekit-plugin",
        "lite",
        "server",
        {"type": "agent.speak_interrupted", "event_id": EID},
        lite.AgentSpeakInterrupted,
    ),
    ("web-sdk", "full", "client", {"event_type": "avatar.interrupt"}, full.AvatarInterrupt),
    (
        "web-sdk",
        "full",
        "client",
        {"event_type": "session.update", "event_id": EID},
        full.SessionUpdate,
    ),
    (
        "web-sdk",
        "full",
        "client",
        {"event_type": "session.stop", "event_id": EID},
        full.SessionStop,
    ),
    ("web-sdk", "full", "client", {"event_type": "session.stop"}, full.SessionStop),
    (
        "web-sdk",
        "full",
        "client",
        {"event_type": "avatar.speak_audio", "event_id": EID, "audio": "AAAAAA=="},
        full.AvatarSpeakAudio,
    ),
    (
        "web-sdk",
        "full",
        "client",
        {
            "event_type": "elevenlabs_agent_command",
            "event_id": EID,
            "session_id": SID,
            "source_event_id": None,
            "elevenlabs_event_type": "user_message",
            "data": {"text": "hi"},
        },
        full.ElevenlabsAgentCommand,
    ),
    (
        "web-sdk",
        "full",
        "client",
        {
            "event_type": "elevenlabs_agent_command",
            "event_id": EID,
            "session_id": SID,
            "source_event_id": None,
            "elevenlabs_event_type": "contextual_update",
            "data": {"text": "context"},
        },
        full.ElevenlabsAgentCommand,
    ),
    (
        "web-sdk",
        "full",
        "client",
        {
            "event_type": "elevenlabs_agent_command",
            "event_id": EID,
            "session_id": SID,
            "source_event_id": None,
            "elevenlabs_event_type": "user_activity",
        },
        full.ElevenlabsAgentCommand,
    ),
    (
        "web-sdk",
        "full",
        "client",
        {
            "event_type": "elevenlabs_agent_command",
            "event_id": EID,
            "session_id": SID,
            "source_event_id": EID,
            "elevenlabs_event_type": "client_tool_result",
            "data": {"tool_call_id": "c1", "result": "ok", "is_error": False},
        },
        full.ElevenlabsAgentCommand,
    ),
    (
        "web-sdk",
        "full",
        "server",
        {
            "event_id": EID,
            "event_type": "session.stopped",
            "session_id": SID,
            "stop_reason": "USER_CLOSED",
        },
        full.SessionStopped,
    ),
    (
        "web-sdk",
        "full",
        "server",
        {
            "event_id": EID,
            "event_type": "elevenlabs_agent_event",
            "session_id": SID,
            "elevenlabs_event_type": "agent_response",
            "data": {"type": "agent_response"},
        },
        full.ElevenlabsAgentEvent,
    ),
    (
        "web-sdk",
        "full",
        "server",
        {
            "event_id": EID,
            "event_type": "user.transcription.chunk",
            "session_id": SID,
            "text": "hel",
        },
        full.UserTranscriptionChunk,
    ),
    (
        "web-sdk",
        "full",
        "server",
        {"event_id": EID, "event_type": "session.updated", "session_id": SID},
        full.SessionUpdated,
    ),
]


@pytest.mark.parametrize(
    ("protocol", "direction", "message", "model"),
    [c[1:] for c in CAPTURES],
    ids=[f"{c[0]}:{c[1]}:{c[2]}:{c[3].get('type', c[3].get('event_type'))}" for c in CAPTURES],
)
def test_captured_message_decodes_typed(
    protocol: ProtocolName, direction: Direction, message: dict[str, object], model: type
) -> None:
    event = decode(json.dumps(message), protocol, direction)
    assert not isinstance(event, UnknownEvent)
    assert type(event) is model
    assert json.loads(encode(event)) == message  # nothing lost or added


def test_state_and_stop_reason_read_either_spelling() -> None:
    new = decode('{"type":"agent.state_updated","new_state":"talking"}', "lite", "server")
    bare = decode('{"type":"agent.state_updated","state":"idle"}', "lite", "server")
    assert isinstance(new, lite.AgentStateUpdated) and isinstance(bare, lite.AgentStateUpdated)
    assert (agent_state(new), agent_state(bare)) == ("talking", "idle")
    end = decode('{"event_type":"session.stopped","end_reason":"IDLE_TIMEOUT"}', "full", "server")
    stop = decode(
        '{"event_type":"session.stopped","stop_reason":"AGENT_HANG_UP"}', "full", "server"
    )
    assert isinstance(end, full.SessionStopped) and isinstance(stop, full.SessionStopped)
    assert (stop_reason(end), stop_reason(stop)) == ("IDLE_TIMEOUT", "AGENT_HANG_UP")
