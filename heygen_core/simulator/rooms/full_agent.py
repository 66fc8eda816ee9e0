"""The simulated FULL-mode agent: answers ``agent-control`` commands as the service would.

- ``avatar.speak_text``: ``avatar.speak_started``, ``avatar.transcription``,
  the words spoken in real time (speech-like audio on the avatar's track,
  moving its mouth), then ``avatar.speak_ended``.
- ``avatar.speak_response``: ``user.transcription`` of the text, then the
  simulated LLM's answer (``avatar.transcription.chunk`` per word, and
  speech as above). The "LLM" echoes: it is deterministic, for tests.
- ``avatar.speak_audio``: the audio given (24 kHz PCM16), spoken.
- ``avatar.interrupt``: stops at once; the current speech ends with
  ``avatar.speak_ended``, and nothing queued is spoken.
- Push-to-talk: ``user.push_to_talk_started`` / ``_stopped`` in a
  ``PUSH_TO_TALK`` session, ``_start_failed`` / ``_stop_failed`` otherwise.
- ``session.update``: ``session.updated``; ``session.stop``: the session
  ends (``USER_CLOSED``) and ``session.stopped`` follows.

Connector sessions (a LITE token with an agent config, such as
``elevenlabs_agent_config``: no ``ws_url``) play an ElevenLabs agent, over
``elevenlabs_agent_command`` and ``elevenlabs_agent_event``:

- ``user_message``: ``user.transcription`` and a ``user_transcript`` event,
  then the agent's answer: an ``agent_response`` event (the same echo as
  above), its transcript and its speech. A message naming the weather makes
  the agent call the client tool ``get_weather`` instead (a
  ``client_tool_call`` event) and wait for its result.
- ``client_tool_result`` for a pending call: the agent answers with the
  result (``The tool said: ...``), as above.
- ``contextual_update`` and ``user_activity``: accepted, nothing said.
- ``session.stopped`` carries ``stop_reason`` there (as the connector pages
  say), ``end_reason`` in FULL sessions (as the FULL events page says).

The text commands ``avatar.speak_text`` / ``speak_response`` / ``speak_audio``
are not answered in a connector session (its agent owns what is said), and
``elevenlabs_agent_command`` is not answered in a FULL one.

Commands that are not valid FULL commands are ignored and counted (the
service answers nothing). Utterances are spoken one at a time, in order.

The agent reaches its room only through `AgentRoom`, the few operations it
needs, so it does not depend on the simulator's `RoomHub` (which owns it).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import uuid
import zlib
from collections import deque
from typing import Any, Protocol, get_args

from heygen_models import full
from heygen_models import liveavatar as la
from pydantic import BaseModel

from heygen_core.errors import ProtocolError
from heygen_core.protocol.codec import UnknownEvent, decode, encode
from heygen_core.simulator.rooms.avatar_media import SAMPLE_RATE, tone_speech
from heygen_core.simulator.state import USER_CLOSED, EndReason, Session, SimulatorState

# Pace of the simulated voice, and the bounds of one utterance.
_SECONDS_PER_WORD = 0.3
_MIN_SECONDS = 0.6
_MAX_SECONDS = 20.0


class _Utterance:
    __slots__ = ("pcm", "source", "text")

    def __init__(self, source: str | None, text: str | None, pcm: bytes) -> None:
        self.source = source
        self.text = text
        self.pcm = pcm


class AgentRoom(Protocol):
    """What a FULL agent needs of the room it answers in, for one session."""

    def send_event(self, payload: bytes) -> None:
        """Publish an encoded FULL event as the avatar on ``agent-response``."""

    def speak(self, pcm: bytes) -> None:
        """Queue 24 kHz mono PCM16 for the avatar to speak, after what it is saying."""

    def hush(self) -> None:
        """Drop everything the avatar has not spoken yet."""

    def command_received(self, event_type: str) -> None:
        """Count a valid command received on ``agent-control``."""

    def invalid_command_received(self) -> None:
        """Count an ``agent-control`` packet that was not a valid command."""


class FullAgent:
    """The agent of one FULL session's room.

    Args:
        room: The session's room, to publish events, speak and count commands.
        session: The session it belongs to.
        state: The simulator's sessions (a command keeps the session alive,
            and ``session.stop`` ends it).
    """

    def __init__(self, room: AgentRoom, session: Session, state: SimulatorState) -> None:
        self._room = room
        self._session = session
        self._state = state
        request = getattr(session, "request", None)
        self._push_to_talk = (
            isinstance(request, la.FullSessionTokenRequest)
            and request.interactivity_type == "PUSH_TO_TALK"
        )
        # A LITE token here means an agent connector (no LITE socket).
        self._connector = isinstance(request, la.LiteSessionTokenRequest)
        self._pending_tool_calls: set[str] = set()
        self._talking = False
        self._queue: deque[_Utterance] = deque()
        self._current: _Utterance | None = None
        self._speaker: asyncio.Task[None] | None = None

    def on_command(self, payload: bytes) -> None:
        """Handle one packet received on ``agent-control``."""
        try:
            event = decode(payload, "full", "client")
        except ProtocolError:
            self._room.invalid_command_received()
            return
        if isinstance(event, UnknownEvent):
            self._room.invalid_command_received()
            return
        command: BaseModel = event
        self._room.command_received(str(getattr(command, "event_type", "?")))
        self._state.touch(self._session.id)
        source = _event_id(command)
        if isinstance(command, full.ElevenlabsAgentCommand):
            if self._connector:
                self._on_connector_command(source, command)
        elif self._connector and isinstance(
            command, full.AvatarSpeakText | full.AvatarSpeakResponse | full.AvatarSpeakAudio
        ):
            pass  # the connector's agent owns what is said
        elif isinstance(command, full.AvatarSpeakText):
            self._say(source, command.text, announce=False)
        elif isinstance(command, full.AvatarSpeakResponse):
            self._emit(full.UserTranscription, source, text=command.text)
            self._say(source, _answer(command.text), announce=True)
        elif isinstance(command, full.AvatarSpeakAudio):
            self._speak_audio(source, command.audio)
        elif isinstance(command, full.AvatarInterrupt):
            self._interrupt()
        elif isinstance(command, full.UserStartPushToTalk):
            if self._push_to_talk and not self._talking:
                self._talking = True
                self._emit(full.UserPushToTalkStarted, source)
            else:
                self._emit(full.UserPushToTalkStartFailed, source)
        elif isinstance(command, full.UserStopPushToTalk):
            if self._talking:
                self._talking = False
                self._emit(full.UserPushToTalkStopped, source)
            else:
                self._emit(full.UserPushToTalkStopFailed, source)
        elif isinstance(command, full.SessionUpdate):
            self._emit(full.SessionUpdated, source)
        elif isinstance(command, full.SessionStop):
            self._state.end(self._session, USER_CLOSED)
        # avatar.start_listening / stop_listening change only the avatar's pose.

    def _on_connector_command(
        self, source: str | None, command: full.ElevenlabsAgentCommand
    ) -> None:
        data = command.data if isinstance(command.data, full.ElevenlabsCommandData) else None
        kind = command.elevenlabs_event_type
        if kind == "user_message" and data is not None and isinstance(data.text, str):
            self._emit(full.UserTranscription, source, text=data.text)
            self._elevenlabs(
                source,
                "user_transcript",
                user_transcription_event={"user_transcript": data.text},
            )
            if "weather" in data.text.lower():
                call_id = f"call_{uuid.uuid4().hex[:12]}"
                self._pending_tool_calls.add(call_id)
                self._elevenlabs(
                    source,
                    "client_tool_call",
                    client_tool_call={
                        "tool_name": "get_weather",
                        "tool_call_id": call_id,
                        "parameters": {"question": data.text},
                    },
                )
            else:
                self._agent_says(source, _answer(data.text))
        elif kind == "client_tool_result" and data is not None:
            pending = data.tool_call_id
            if isinstance(pending, str) and pending in self._pending_tool_calls:
                self._pending_tool_calls.discard(pending)
                result = data.result if isinstance(data.result, str) else ""
                failed = data.is_error is True
                self._agent_says(
                    source, f"The tool failed: {result}" if failed else f"The tool said: {result}"
                )
        # contextual_update and user_activity: the agent takes note, says nothing.

    def _agent_says(self, source: str | None, answer: str) -> None:
        self._elevenlabs(source, "agent_response", agent_response_event={"agent_response": answer})
        self._say(source, answer, announce=True)

    def _elevenlabs(self, source: str | None, kind: str, **payload: Any) -> None:
        # `data` is the ElevenLabs event itself, which names its own type.
        data = full.ElevenlabsEventData.model_validate({"type": kind, **payload})
        self._emit(full.ElevenlabsAgentEvent, source, elevenlabs_event_type=kind, data=data)

    def session_stopped(self, reason: EndReason) -> None:
        """The session ended: stop speaking and say ``session.stopped``."""
        self.cancel()
        if self._connector:
            self._emit(full.SessionStopped, None, stop_reason=reason.root)
        else:
            self._emit(full.SessionStopped, None, end_reason=full.SessionEndReason(reason.root))

    def cancel(self) -> None:
        """Stop speaking at once, without events."""
        self._queue.clear()
        if self._speaker is not None:
            self._speaker.cancel()
            self._speaker = None

    def _say(self, source: str | None, text: str, *, announce: bool) -> None:
        words = max(1, len(text.split()))
        seconds = min(_MAX_SECONDS, max(_MIN_SECONDS, words * _SECONDS_PER_WORD))
        pcm = tone_speech(seconds, zlib.crc32(text.encode()))
        if announce:  # an LLM answer streams its transcript word by word
            for word in text.split():
                self._emit(full.AvatarTranscriptionChunk, source, text=word)
        self._enqueue(_Utterance(source, text, pcm))

    def _speak_audio(self, source: str | None, audio: str) -> None:
        try:
            pcm = base64.b64decode(audio, validate=True)
        except (binascii.Error, ValueError):
            self._room.invalid_command_received()
            return
        self._enqueue(_Utterance(source, None, pcm[: len(pcm) - len(pcm) % 2]))

    def _enqueue(self, utterance: _Utterance) -> None:
        self._queue.append(utterance)
        if self._speaker is None or self._speaker.done():
            self._speaker = asyncio.create_task(self._speak(), name="heygen-simulator-full")

    async def _speak(self) -> None:
        while self._queue:
            utterance = self._current = self._queue.popleft()
            self._emit(full.AvatarSpeakStarted, utterance.source)
            if utterance.text is not None:
                self._emit(full.AvatarTranscription, utterance.source, text=utterance.text)
            self._room.speak(utterance.pcm)
            await asyncio.sleep(len(utterance.pcm) / 2 / SAMPLE_RATE)
            self._current = None
            self._emit(full.AvatarSpeakEnded, utterance.source)

    def _interrupt(self) -> None:
        current = self._current
        self.cancel()
        self._current = None
        self._room.hush()
        if current is not None:
            self._emit(full.AvatarSpeakEnded, current.source)

    def _emit(self, model: type[BaseModel], source: str | None, **fields: Any) -> None:
        (tag,) = get_args(model.model_fields["event_type"].annotation)
        event = model(
            event_type=tag,
            event_id=str(uuid.uuid4()),
            session_id=self._session.id,
            source_event_id=source,
            **fields,
        )
        # What either side said in full goes into the session's transcript,
        # as the service records it (GET /v1/sessions/{id}/transcript).
        if isinstance(event, full.UserTranscription):
            self._state.record_transcript(self._session.id, "user", event.text)
        elif isinstance(event, full.AvatarTranscription):
            self._state.record_transcript(self._session.id, "avatar", event.text)
        with contextlib.suppress(RuntimeError):  # the loop is closing
            self._room.send_event(encode(event).encode())


def _event_id(command: BaseModel) -> str | None:
    value = getattr(command, "event_id", None)
    return value if isinstance(value, str) else None


def _answer(text: str) -> str:
    # The simulated LLM: deterministic, so tests can assert on what it says.
    return f"You said: {text.strip()}"
