"""How each realtime dialect carries speech: one strategy object per dialect.

The audio pump chunks and paces audio the same way whatever the socket
speaks; what differs is the wire. On LITE each chunk is a speak message and
an utterance ends with its own end message, and the service reports when it
starts, ends or is cut short. On the Realtime alpha API audio is appended to
a buffer that must be committed to play, short buffers are cleared instead
of committed, an interrupt also clears the buffer, and the only report is
the avatar's status. Live LITE sessions differ from the documentation: they
report the avatar's state (``agent.state_updated``) and acknowledge buffer
operations (``agent.audio_buffer_*``) instead of speak started/ended, so the
avatar's state is read in both dialects. A `SpeechDialect` holds those rules and builds its
messages from the generated models (``heygen_models.lite``,
``heygen_models.realtime_alpha``), so every tag and field comes from the
schemas; see docs/protocol.md for the wire facts.
"""

from __future__ import annotations

import binascii
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar, Literal, Protocol, get_args

from heygen_models import lite, realtime_alpha
from pydantic import BaseModel

from heygen_core.protocol.codec import encode
from heygen_core.protocol.renamed_fields import agent_state
from heygen_core.realtime.connection import Dialect
from heygen_core.realtime.events import SessionEvent

__all__ = [
    "AudioTemplate",
    "LiteSpeech",
    "Playback",
    "PlaybackStatus",
    "RealtimeAlphaSpeech",
    "SpeechDialect",
    "UtteranceEnd",
    "UtteranceWire",
    "speech_dialect",
]


PlaybackStatus = Literal["playing", "ended", "interrupted"]
"""What the service can report about an utterance it received."""


@dataclass(frozen=True)
class Playback:
    """What a server event says about the avatar's playback.

    Attributes:
        status: The utterance's new status.
        event_id: The utterance it is about, or None when the report is about
            no one utterance: ``ended`` then covers every utterance that was
            fully sent (the alpha API reports only that the avatar is idle),
            ``interrupted`` every utterance on the wire (LITE's
            ``agent.audio_buffer_cleared`` acknowledges an interrupt).
    """

    status: PlaybackStatus
    event_id: str | None


@dataclass(frozen=True)
class UtteranceEnd:
    """The messages that end an utterance, and whether it is over once they are sent.

    Attributes:
        messages: Client events to send, in order.
        over: True when the avatar will play nothing more of it and report
            nothing about it, so the utterance ends as soon as they are sent.
    """

    messages: tuple[BaseModel, ...]
    over: bool


class UtteranceWire(Protocol):
    """Builds the messages of one utterance, keeping whatever state its dialect needs."""

    def chunk(self, audio: str, seconds: float) -> tuple[BaseModel, ...]:
        """Return the messages that carry one chunk.

        Args:
            audio: The chunk, base64 of 24 kHz mono PCM16.
            seconds: The chunk's length.
        """
        ...

    def frames(self, chunk: bytes | memoryview, seconds: float) -> tuple[str, ...]:
        """Return the encoded frames that carry one chunk of raw audio.

        The same text `heygen_core.protocol.codec.encode` gives for the
        messages `chunk` returns, built from a prefix and suffix prepared
        once per utterance around a fast base64 of the audio.

        Args:
            chunk: The chunk, 24 kHz mono PCM16.
            seconds: The chunk's length.
        """
        ...

    def end(self) -> UtteranceEnd:
        """Return what ends the utterance after its last chunk."""
        ...


class SpeechDialect(Protocol):
    """One realtime dialect's rules for speech: its messages and its reports.

    Attributes:
        name: The dialect, as `RealtimeConnection.dialect` names it.
    """

    name: ClassVar[Dialect]

    def utterance(self, event_id: str) -> UtteranceWire:
        """Start building the messages of the utterance `event_id`."""
        ...

    def interrupt(self) -> tuple[BaseModel, ...]:
        """Return the messages that stop the avatar and drop what it holds."""
        ...

    def start_listening(self) -> BaseModel:
        """Return the message that puts the avatar in its listening pose."""
        ...

    def stop_listening(self) -> BaseModel:
        """Return the message that takes the avatar out of its listening pose."""
        ...

    def playback(self, event: SessionEvent) -> Playback | None:
        """Return what `event` says about playback, or None if it says nothing."""
        ...

    def avatar_state(self, event: SessionEvent) -> str | None:
        """Return the avatar's new state (``idle``, ``listening``, ``talking``), if reported.

        The audio pump ends every fully sent utterance when the avatar
        leaves ``talking``: live LITE sessions report nothing else.
        """
        ...


def _new_id() -> str:
    return uuid.uuid4().hex


class AudioTemplate:
    """One audio message's wire JSON, split around its audio: prefix + base64 + suffix.

    Built from the generated model itself (a model with a placeholder audio,
    encoded by `heygen_core.protocol.codec.encode` and split around it), so
    no field name or tag is written here. A chunk then costs one base64 pass
    and two joins instead of a model, its validation and a JSON encoding:
    the pump sends 50 kB and more of audio per message.

    Args:
        build: Makes the message with the given ``audio`` string.
    """

    __slots__ = ("prefix", "suffix")

    def __init__(self, build: Callable[[str], BaseModel]) -> None:
        while True:
            # A random placeholder: base64 needs no JSON escaping, and one that
            # also occurs in another field (the event id) is simply redrawn.
            placeholder = uuid.uuid4().hex
            text = encode(build(placeholder))
            if text.count(placeholder) == 1:
                break
        self.prefix, self.suffix = text.split(placeholder)

    def frame(self, chunk: bytes | memoryview) -> str:
        """Return the message's JSON with `chunk` (raw bytes) as its base64 audio."""
        # One join: `a + b + c` would copy the 64 kB of base64 once more.
        audio = binascii.b2a_base64(chunk, newline=False).decode("ascii")
        return "".join((self.prefix, audio, self.suffix))


# -- LITE -------------------------------------------------------------------------------


class _LiteUtterance(UtteranceWire):
    def __init__(self, event_id: str) -> None:
        self._event_id = event_id
        self._speak: AudioTemplate | None = None  # built at the first chunk

    def chunk(self, audio: str, seconds: float) -> tuple[BaseModel, ...]:
        return (lite.AgentSpeak(type=lite.AGENT_SPEAK_TAG, audio=audio, event_id=self._event_id),)

    def frames(self, chunk: bytes | memoryview, seconds: float) -> tuple[str, ...]:
        speak = self._speak
        if speak is None:
            speak = self._speak = AudioTemplate(lambda audio: self.chunk(audio, 0.0)[0])
        return (speak.frame(chunk),)

    def end(self) -> UtteranceEnd:
        # The service answers with its own report when playback ends.
        return UtteranceEnd(
            (lite.AgentSpeakEnd(type=lite.AGENT_SPEAK_END_TAG, event_id=self._event_id),),
            over=False,
        )


class LiteSpeech(SpeechDialect):
    """LiveAvatar LITE: speak chunks under one event id, then an end message.

    The documented service reports each utterance by its event id: started
    (playing), ended, or interrupted. Live sessions instead report the
    avatar's state (`avatar_state`) and acknowledge an interrupt with
    ``agent.audio_buffer_cleared`` (docs/protocol.md §7).
    """

    name: ClassVar[Dialect] = "lite"

    _REPORTS: ClassVar[Mapping[type[object], PlaybackStatus]] = MappingProxyType(
        {
            lite.AgentSpeakStarted: "playing",
            lite.AgentSpeakEnded: "ended",
            lite.AgentSpeakInterrupted: "interrupted",
        }
    )

    def utterance(self, event_id: str) -> UtteranceWire:
        """Start building the messages of the utterance `event_id`."""
        return _LiteUtterance(event_id)

    def interrupt(self) -> tuple[BaseModel, ...]:
        """Return the interrupt message."""
        return (lite.AgentInterrupt(type=lite.AGENT_INTERRUPT_TAG, event_id=_new_id()),)

    def start_listening(self) -> BaseModel:
        """Return the start-listening message."""
        return lite.AgentStartListening(type=lite.AGENT_START_LISTENING_TAG, event_id=_new_id())

    def stop_listening(self) -> BaseModel:
        """Return the stop-listening message."""
        return lite.AgentStopListening(type=lite.AGENT_STOP_LISTENING_TAG, event_id=_new_id())

    def playback(self, event: SessionEvent) -> Playback | None:
        """Map a speak started/ended/interrupted report, or a buffer-cleared ack, to a status."""
        if isinstance(event, lite.AgentAudioBufferCleared):
            # One playback buffer: what it held, every utterance on the wire, is dropped.
            return Playback("interrupted", None)
        status = self._REPORTS.get(type(event))
        if status is None:
            return None
        event_id = getattr(event, "event_id", None)
        # Without an id (the field is optional) the report cannot be matched.
        return Playback(status, event_id) if isinstance(event_id, str) else None

    def avatar_state(self, event: SessionEvent) -> str | None:
        """Read ``agent.state_updated`` (``new_state`` or a bare ``state``)."""
        return agent_state(event) if isinstance(event, lite.AgentStateUpdated) else None


# -- Realtime alpha ---------------------------------------------------------------------

# The alpha API's vendor demo commits once more than 1 s is buffered and
# clears instead of committing when under 80 ms is buffered.
_ALPHA_COMMIT_MS = 1000
_ALPHA_MIN_COMMIT_MS = 80
_ALPHA_COMMIT_AUDIO = "AA=="  # one zero byte, as the vendor demo sends


class _AlphaUtterance(UtteranceWire):
    def __init__(self, event_id: str) -> None:
        self._event_id = event_id
        self._buffered_ms = 0.0  # appended since the last commit
        self._committed = False  # whether any of it was committed (will play)
        self._append: AudioTemplate | None = None  # built at the first chunk
        self._commit_frame: str | None = None

    def _append_model(self, audio: str) -> BaseModel:
        return realtime_alpha.AgentAudioBufferAppend(
            type=realtime_alpha.AGENT_AUDIO_BUFFER_APPEND_TAG, audio=audio, event_id=self._event_id
        )

    def _commits(self, seconds: float) -> bool:
        # Counts the chunk in; whether a commit follows its append.
        self._buffered_ms += seconds * 1000
        if self._buffered_ms < _ALPHA_COMMIT_MS:
            return False
        self._buffered_ms = 0.0
        self._committed = True
        return True

    def chunk(self, audio: str, seconds: float) -> tuple[BaseModel, ...]:
        append = self._append_model(audio)
        return (append, self._commit()) if self._commits(seconds) else (append,)

    def frames(self, chunk: bytes | memoryview, seconds: float) -> tuple[str, ...]:
        append = self._append
        if append is None:
            append = self._append = AudioTemplate(self._append_model)
        frame = append.frame(chunk)
        if not self._commits(seconds):
            return (frame,)
        if self._commit_frame is None:
            self._commit_frame = encode(self._commit())  # the same every time
        return frame, self._commit_frame

    def end(self) -> UtteranceEnd:
        if self._buffered_ms >= _ALPHA_MIN_COMMIT_MS:
            return UtteranceEnd((self._commit(),), over=False)
        clear: tuple[BaseModel, ...] = ()
        if self._buffered_ms > 0:
            clear = (
                realtime_alpha.AgentAudioBufferClear(
                    type=realtime_alpha.AGENT_AUDIO_BUFFER_CLEAR_TAG, event_id=self._event_id
                ),
            )
        # If nothing was ever committed, the avatar plays nothing and reports
        # nothing, so the utterance is over now.
        return UtteranceEnd(clear, over=not self._committed)

    def _commit(self) -> BaseModel:
        return realtime_alpha.AgentAudioBufferCommit(
            type=realtime_alpha.AGENT_AUDIO_BUFFER_COMMIT_TAG,
            audio=_ALPHA_COMMIT_AUDIO,
            event_id=self._event_id,
        )


class RealtimeAlphaSpeech(SpeechDialect):
    """The Realtime alpha API: append to a buffer, commit about every second.

    An utterance's tail is committed when it is at least 80 ms long and
    cleared otherwise. The only report is the avatar's status: idle means
    every committed utterance has been played.
    """

    name: ClassVar[Dialect] = "realtime-alpha"

    def utterance(self, event_id: str) -> UtteranceWire:
        """Start building the messages of the utterance `event_id`."""
        return _AlphaUtterance(event_id)

    def interrupt(self) -> tuple[BaseModel, ...]:
        """Return the interrupt message, then a buffer clear for audio not yet committed."""
        return (
            realtime_alpha.AgentInterrupt(
                type=realtime_alpha.AGENT_INTERRUPT_TAG, event_id=_new_id()
            ),
            realtime_alpha.AgentAudioBufferClear(
                type=realtime_alpha.AGENT_AUDIO_BUFFER_CLEAR_TAG, event_id=_new_id()
            ),
        )

    def start_listening(self) -> BaseModel:
        """Return the start-listening message."""
        return realtime_alpha.AgentStartListening(
            type=realtime_alpha.AGENT_START_LISTENING_TAG, event_id=_new_id()
        )

    def stop_listening(self) -> BaseModel:
        """Return the stop-listening message."""
        return realtime_alpha.AgentStopListening(
            type=realtime_alpha.AGENT_STOP_LISTENING_TAG, event_id=_new_id()
        )

    def playback(self, event: SessionEvent) -> Playback | None:
        """Map the avatar going idle to every fully sent utterance having ended."""
        if isinstance(event, realtime_alpha.AgentStatus) and event.status == "idle":
            return Playback("ended", None)
        return None

    def avatar_state(self, event: SessionEvent) -> str | None:
        """Read ``agent.status`` (its ``status`` field, when present)."""
        if isinstance(event, realtime_alpha.AgentStatus) and isinstance(event.status, str):
            return event.status
        return None


_DIALECTS: Mapping[Dialect, SpeechDialect] = MappingProxyType(
    {dialect.name: dialect for dialect in (LiteSpeech(), RealtimeAlphaSpeech())}
)


def speech_dialect(name: Dialect) -> SpeechDialect:
    """Return the speech rules of the dialect `name`.

    Raises:
        ValueError: `name` is not a dialect.
    """
    try:
        return _DIALECTS[name]
    except KeyError:
        known = ", ".join(repr(n) for n in get_args(Dialect))
        raise ValueError(f"unknown dialect {name!r}; expected one of {known}") from None
