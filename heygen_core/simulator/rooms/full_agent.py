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
        if isinstance(command, full.AvatarSpeakText):
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

    def session_stopped(self, reason: EndReason) -> None:
        """The session ended: stop speaking and say ``session.stopped``."""
        self.cancel()
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
        with contextlib.suppress(RuntimeError):  # the loop is closing
            self._room.send_event(encode(event).encode())


def _event_id(command: BaseModel) -> str | None:
    value = getattr(command, "event_id", None)
    return value if isinstance(value, str) else None


def _answer(text: str) -> str:
    # The simulated LLM: deterministic, so tests can assert on what it says.
    return f"You said: {text.strip()}"
