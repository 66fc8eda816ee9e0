"""The simulated realtime WebSockets: LITE (``/v1/sessions/{id}/ws``) and Realtime alpha.

Faithful to the service, including its unfriendly parts:

- A socket starts in ``connecting``; ``connected`` follows after
  ``connect_delay_seconds``, and every command received before that is
  silently dropped (no error), as the LITE service does.
- Invalid frames get an ``error`` event naming the field; the socket stays open.
- One playback buffer per session (docs/protocol.md §7): every
  ``agent.speak`` appends to it, with or without an ``event_id`` and
  whatever that id is; ``agent.speak_end`` closes what is buffered,
  whatever its id. Audio sent after that fills the next buffer, which plays
  once the first has. The avatar plays in real time: the end of speech is
  reported when ``agent.speak_end`` has arrived *and* the audio has played
  out, never before; ``agent.interrupt`` stops playback at once and drops
  what is queued. A buffer that runs dry before its ``agent.speak_end``
  just waits, silently: the service sends no warning for it.
- How speech is reported depends on ``SimulatorConfig.profile``
  (`SpeechProfile`): ``live`` sends ``agent.state_updated`` and the
  ``agent.audio_buffer_appended`` / ``_committed`` / ``_cleared``
  acknowledgements and no ``agent.speak_*``; ``documented`` sends
  ``agent.speak_started`` / ``_ended`` (and ``_interrupted``) per
  ``event_id``; ``chunked`` sends them for every ~20 ms of audio played.
  ``agent.state_updated`` is sent in every profile.
- With ``SimulatorConfig.stall_pongs`` pings are never answered, as the
  media servers do: a client that pings times out and closes (1011).
- Unknown fields of client events are refused (``error`` event) exactly
  where the schema forbids them (``additionalProperties: false``), and
  otherwise ignored.
- When the session ends for any reason (REST stop, idle timeout, maximum
  duration, sandbox minute) its socket gets ``closing``, ``closed`` and a
  normal close. A client closing its socket does not end the session: it
  keeps billing until it is stopped or reaped.
- Tests can make a session's next sockets fail (`RealtimeHub.fail_websockets`):
  refused, or closed at once after opening, before or after ``connected``.

`RealtimeHub` owns the endpoints, the open sockets and what tests inspect:
audio received per session, client and server events, and counters.
Per-message work is one decode, one base64 decode and a few dict updates;
playback is timed with ``loop.call_at``, one timer per playing socket.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import os
import uuid
import wave
from collections import Counter, deque
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal, TypeAlias, get_args

from aiohttp import WSMsgType, web
from heygen_models import lite, realtime_alpha
from pydantic import BaseModel

from heygen_core.errors import ProtocolError
from heygen_core.protocol.codec import UnknownEvent, decode, encode, event_union
from heygen_core.simulator.config import SimulatorConfig
from heygen_core.simulator.rooms.hub import RoomHub
from heygen_core.simulator.state import EndReason, Session, SimulatorState
from heygen_core.simulator.threads import call_on_loop

logger = logging.getLogger("heygen_core.simulator")

WsDialect: TypeAlias = Literal["lite", "realtime-alpha"]
"""The two dialects a realtime socket may speak."""

EventRecord: TypeAlias = tuple[float, str, dict[str, Any]]
"""One logged event: loop time, ``type``, the wire object (audio left out)."""

SocketFault: TypeAlias = Literal["refuse", "close_at_once", "close_when_ready"]
"""How the simulator fails a realtime socket (`RealtimeHub.fail_websockets`).

- ``refuse``: the upgrade is answered HTTP 503; no socket opens.
- ``close_at_once``: the socket opens (``connecting`` is sent) and is closed
  at once with 1011, the session staying alive.
- ``close_when_ready``: the socket opens, reports ``connected``, and is then
  closed at once with 1011.
"""

LITE_PATH = "/v1/sessions/{session_id}/ws"
"""Route of the LITE socket (the ``ws_url`` that start returns)."""

ALPHA_PATH = "/v2-alpha/interactive-avatar/session/{session_id}"
"""Route of the Realtime alpha socket (the ``realtime_endpoint`` of ``streaming.new``)."""

BYTES_PER_SECOND = 48_000
"""24 kHz mono PCM16: the only audio format the service plays."""

MAX_MESSAGE_BYTES = 1_000_000
"""The service's limit on one WebSocket message (docs/protocol.md §3)."""

# Frames up to this size are read and answered with an error event; aiohttp
# closes the socket (1009) only beyond it, so one oversized message is survivable.
_READ_LIMIT = 16 * 1024 * 1024
# A close handshake waits this long for the client's close frame.
_CLOSE_TIMEOUT = 5.0
# Wakeups this close to the end of playback count as the end (timer slack).
_EPSILON = 0.0005
# The `chunked` profile reports speech per this much audio played.
_CHUNK_SECONDS = 0.02
# Audio for the playing item that arrives this long after its clock ran out
# is an underrun (the avatar stalled, docs/protocol.md §7). Below it, the gap
# is the simulator's own timer and socket slack, not a client's lateness: a
# loaded event loop wakes a few ms late, and a 10 ms stall is half a video frame.
UNDERRUN_TOLERANCE_SECONDS = 0.010

# Closes: normal (session over), going away (simulator stopping), replaced.
_CLOSE_NORMAL = 1000
_CLOSE_GOING_AWAY = 1001
_CLOSE_REPLACED = 4001
# An injected socket fault closes as an internal error does (a drop, reconnected).
_CLOSE_FAULT = 1011

_LITE_ONLY = (lite.AgentSpeak, lite.AgentSpeakEnd, lite.SessionKeepAlive)
_ALPHA_ONLY = (
    realtime_alpha.AgentAudioBufferAppend,
    realtime_alpha.AgentAudioBufferCommit,
    realtime_alpha.AgentAudioBufferClear,
    realtime_alpha.AgentEndListening,
)


class _InvalidFrame(Exception):
    """A client frame the service refuses with an ``error`` event."""

    def __init__(self, message: str, event_id: str | None = None) -> None:
        super().__init__(message)
        self.event_id = event_id


@dataclass
class _SessionRecord:
    """What one session's sockets received and sent, kept after they close."""

    audio: list[bytes] = field(default_factory=list)
    audio_bytes: int = 0
    client_events: list[EventRecord] = field(default_factory=list)
    server_events: list[EventRecord] = field(default_factory=list)


class _Item:
    """One thing the avatar plays: a LITE utterance or an alpha commit."""

    __slots__ = ("buffered", "closed", "dialect", "event_id", "ids", "task")

    def __init__(
        self, dialect: WsDialect, event_id: str, ids: frozenset[str] = frozenset()
    ) -> None:
        self.dialect: WsDialect = dialect
        self.event_id = event_id
        # Event ids whose audio it carries (an alpha commit's appends, or
        # the ids of a LITE buffer's chunks), in arrival order.
        self.ids: dict[str, None] = dict.fromkeys(ids or (event_id,))
        self.task = lite.Task(id=str(uuid.uuid4()))
        # Seconds received while queued behind another item (not yet scheduled).
        self.buffered = 0.0
        # No more audio will come: speak_end arrived (LITE), always for a commit.
        self.closed = dialect == "realtime-alpha"


@dataclass(frozen=True)
class PlaybackUnderruns:
    """Underruns of the simulated avatars' playback (`RealtimeHub.playback_underruns`).

    An underrun is audio arriving for the utterance being played more than
    `UNDERRUN_TOLERANCE_SECONDS` after what it had was played out: the avatar
    stalled for that gap, mid-utterance (a client sent too late).

    Attributes:
        count: Underruns in every session.
        per_session: Underruns per session id (sessions without one absent).
        max_gap_seconds: The longest stall (0 when none).
        total_gap_seconds: All stalls together.
    """

    count: int = 0
    per_session: dict[str, int] = field(default_factory=dict)
    max_gap_seconds: float = 0.0
    total_gap_seconds: float = 0.0


class _Playback:
    """The avatar's real-time playback clock: one item plays at a time, in order.

    The head item plays from when it became head (its first audio arrived,
    or the previous item finished); each chunk extends the clock by its
    duration, from now when the audio had run out (an underrun, counted by
    the hub when the gap is over `UNDERRUN_TOLERANCE_SECONDS`). The head
    finishes when it is closed and the clock has passed. One ``call_at``
    timer follows the clock; chunks arriving meanwhile only move the clock,
    and the timer re-arms itself when it fires early.
    """

    def __init__(self, connection: _Connection) -> None:
        self._conn = connection
        self._loop = connection.loop
        self.items: deque[_Item] = deque()
        self._clock = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def enqueue(self, item: _Item, seconds: float) -> None:
        """Queue `item` with its first `seconds` of audio."""
        item.buffered = seconds
        self.items.append(item)
        if len(self.items) == 1:
            self._start_head()

    def add(self, item: _Item, seconds: float) -> None:
        """Add `seconds` of audio to a queued or playing item."""
        if self.items and self.items[0] is item:
            now = self._loop.time()
            if now - self._clock > UNDERRUN_TOLERANCE_SECONDS:
                self._conn.hub.note_underrun(self._conn.session_id, now - self._clock)
            self._clock = max(self._clock, now) + seconds
            self._arm()
        else:
            item.buffered += seconds

    def close(self, item: _Item) -> None:
        """Mark that `item` gets no more audio; it finishes once played out."""
        item.closed = True
        if self.items and self.items[0] is item and self._timer is None:
            self._tick()

    def remaining(self) -> float:
        """Seconds of audio the playing item still has to play (0 when none)."""
        return max(0.0, self._clock - self._loop.time()) if self.items else 0.0

    def stop(self) -> list[_Item]:
        """Stop at once; return every item that was playing or queued."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        stopped = list(self.items)
        self.items.clear()
        return stopped

    def _start_head(self) -> None:
        head = self.items[0]
        self._clock = self._loop.time() + head.buffered
        head.buffered = 0.0
        self._arm()
        self._conn.on_head(head)

    def _arm(self) -> None:
        if self._timer is None:
            self._timer = self._loop.call_at(self._clock, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self._clock - self._loop.time() > _EPSILON:
            self._arm()  # more audio arrived since the timer was set
            return
        head = self.items[0]
        if not head.closed:
            return  # ran dry before its end: it waits, and the service says nothing
        self.items.popleft()
        self._conn.on_played(head)
        if self.items:
            self._start_head()


class _Connection:
    """One open realtime socket: ready gate, decoding, playback, outgoing events."""

    def __init__(
        self,
        hub: RealtimeHub,
        ws: web.WebSocketResponse,
        session_id: str,
        endpoint: WsDialect,
        record: _SessionRecord,
    ) -> None:
        self.hub = hub
        self.ws = ws
        self.session_id = session_id
        self.endpoint = endpoint
        # What the client speaks; on the alpha endpoint it follows the client.
        self.dialect: WsDialect = endpoint
        self.record = record
        self.loop = asyncio.get_running_loop()
        self.ready = False
        self.gated = endpoint == "lite" or hub.config.realtime_alpha_ready_gate
        # A `close_when_ready` fault: dropped right after reporting `connected`.
        self.drop_when_ready = False
        self.ending = False
        self.finished = asyncio.Event()
        self.playback = _Playback(self)
        self.profile = hub.config.profile
        # The LITE buffer that `agent.speak` appends to (None after speak_end).
        self.open_buffer: _Item | None = None
        self.interrupted: set[str] = set()
        self._chunk_timer: asyncio.TimerHandle | None = None
        self.listening = False
        self.lite_state: Literal["idle", "listening", "talking"] = "idle"
        self.alpha_status: Literal["idle", "listening", "talking"] = "idle"
        self.alpha_buffer: list[bytes] = []
        self.alpha_buffer_ids: set[str] = set()
        self._outbox: asyncio.Queue[str | tuple[int, str]] = asyncio.Queue()
        self._ready_timer: asyncio.TimerHandle | None = None
        self._writer: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def open(self) -> None:
        """Report ``connecting`` and schedule ``connected``."""
        self._writer = asyncio.create_task(self._write(), name="heygen-simulator-ws-writer")
        self.emit(lite.SessionStateUpdated(type=lite.SESSION_STATE_UPDATED_TAG, state="connecting"))
        self._ready_timer = self.loop.call_later(
            self.hub.config.connect_delay_seconds, self._become_ready
        )

    def _become_ready(self) -> None:
        self._ready_timer = None
        if self.ending:
            return
        self.ready = True
        self.emit(lite.SessionStateUpdated(type=lite.SESSION_STATE_UPDATED_TAG, state="connected"))
        if self.drop_when_ready:
            self.end(_CLOSE_FAULT, "connection dropped by the simulator (fault)", states=False)

    def end(self, code: int, reason: str, *, states: bool) -> None:
        """Close the socket: ``closing`` and ``closed`` first when `states` (session over)."""
        if self.ending:
            return
        self.ending = True
        self._cancel_timers()
        if states:
            self.emit(
                lite.SessionStateUpdated(type=lite.SESSION_STATE_UPDATED_TAG, state="closing")
            )
            self.emit(lite.SessionStateUpdated(type=lite.SESSION_STATE_UPDATED_TAG, state="closed"))
        self._outbox.put_nowait((code, reason))

    async def finish(self) -> None:
        """Clean up after the reading side stopped (the client closed, or we did)."""
        self._cancel_timers()
        writer = self._writer
        if writer is not None and not writer.done():
            if self.ending:
                # Our close handshake is in flight: let it complete.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(writer), _CLOSE_TIMEOUT)
            writer.cancel()
            with contextlib.suppress(BaseException):
                await writer
        self.finished.set()

    def _cancel_timers(self) -> None:
        if self._ready_timer is not None:
            self._ready_timer.cancel()
            self._ready_timer = None
        self._stop_chunks()
        self.playback.stop()

    async def _write(self) -> None:
        # The one task that writes: timers and the reader only queue, so
        # events leave in the order they were produced.
        try:
            while True:
                item = await self._outbox.get()
                if isinstance(item, tuple):
                    code, reason = item
                    await self.ws.close(code=code, message=reason.encode()[:123])
                    return
                await self.ws.send_str(item)
        except (ConnectionError, RuntimeError) as exc:
            # The client went away mid-send: the reader sees the close.
            logger.debug("simulator socket %s: send failed: %s", self.session_id, exc)

    def emit(self, event: BaseModel) -> None:
        """Queue one server event (built with a generated model), and record it."""
        text = encode(event)
        wire = event.model_dump(mode="json", by_alias=True, exclude_unset=True)
        kind = str(wire["type"])
        self.hub.server_events_by_type[kind] += 1
        self.record.server_events.append((self.loop.time(), kind, wire))
        self._outbox.put_nowait(text)

    # -- receiving ------------------------------------------------------------------------

    def on_frame(self, kind: WSMsgType, data: bytes) -> None:
        """Handle one client frame (text frames arrive undecoded, as bytes)."""
        if self.ending:
            return
        try:
            event, dialect = self._decode(kind, data)
        except _InvalidFrame as exc:
            if not self.ready and self.gated:
                self.hub.dropped_before_ready += 1
                return
            self._error(str(exc), exc.event_id)
            return
        wire = event.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude={"audio"})
        kind_name = str(wire["type"])
        self.hub.events_by_type[kind_name] += 1
        self.record.client_events.append((self.loop.time(), kind_name, wire))
        if not self.ready and self.gated:
            # Exactly as the service does: no error, no trace on the wire.
            self.hub.dropped_before_ready += 1
            return
        self.hub.state.touch(self.session_id)
        self.dialect = dialect
        try:
            self._dispatch(event, dialect)
        except _InvalidFrame as exc:
            self._error(str(exc), exc.event_id)

    def _decode(self, kind: WSMsgType, data: bytes) -> tuple[BaseModel, WsDialect]:
        if kind is not WSMsgType.TEXT:
            raise _InvalidFrame(
                f"binary frame ({len(data)} bytes) refused: send JSON text frames, "
                "with audio as base64 in the 'audio' field"
            )
        if len(data) > MAX_MESSAGE_BYTES:
            raise _InvalidFrame(
                f"message of {len(data)} bytes is over the {MAX_MESSAGE_BYTES}-byte limit: "
                "send shorter audio chunks (about 1 s each)"
            )
        if self.endpoint == "lite":
            order: tuple[WsDialect, ...] = ("lite",)
        else:
            # Both dialects are spoken here (today's Pipecat speaks LITE):
            # the client's current one first, so a LITE client pays one decode.
            order = (
                ("lite", "realtime-alpha") if self.dialect == "lite" else ("realtime-alpha", "lite")
            )
        errors: list[ProtocolError] = []
        unknown: UnknownEvent | None = None
        for dialect in order:
            try:
                event = decode(data, dialect, "client")
            except ProtocolError as exc:
                errors.append(exc)
                continue
            if isinstance(event, UnknownEvent):
                unknown = event
                continue
            return event, dialect
        event_id = _event_id_of(data)
        if errors:
            # A tag one dialect knows, with a bad field: that is the useful message.
            raise _InvalidFrame(str(errors[0]), event_id)
        assert unknown is not None
        known = ", ".join(sorted(_client_types(order)))
        raise _InvalidFrame(
            f"field 'type': unknown event type {unknown.tag!r}; expected one of {known}", event_id
        )

    def _error(self, message: str, event_id: str | None) -> None:
        detail = (
            lite.ErrorDetail(type="invalid_request_error", message=message, event_id=event_id)
            if event_id is not None
            else lite.ErrorDetail(type="invalid_request_error", message=message)
        )
        self.emit(lite.ErrorEvent(type=lite.ERROR_EVENT_TAG, error=detail))

    def _dispatch(self, event: BaseModel, dialect: WsDialect) -> None:
        if isinstance(event, lite.AgentSpeak):
            self._speak(event)
        elif isinstance(event, lite.AgentSpeakEnd):
            self._speak_end(event)
        elif isinstance(event, realtime_alpha.AgentAudioBufferAppend):
            self._append(event)
        elif isinstance(event, realtime_alpha.AgentAudioBufferCommit):
            self._commit(event)
        elif isinstance(event, realtime_alpha.AgentAudioBufferClear):
            self.alpha_buffer.clear()
            self.alpha_buffer_ids.clear()
        elif isinstance(event, lite.AgentInterrupt | realtime_alpha.AgentInterrupt):
            self._interrupt(dialect, event.event_id if isinstance(event.event_id, str) else None)
        elif isinstance(event, lite.AgentStartListening | realtime_alpha.AgentStartListening):
            self._start_listening(dialect)
        elif isinstance(
            event,
            lite.AgentStopListening
            | realtime_alpha.AgentStopListening
            | realtime_alpha.AgentEndListening,
        ):
            self._stop_listening(dialect)
        # session.keep_alive: resetting the idle timer (done above) is all it does.

    # -- LITE playback --------------------------------------------------------------------

    def _speak(self, event: lite.AgentSpeak) -> None:
        event_id = event.event_id if isinstance(event.event_id, str) else None
        if event_id is not None and event_id in self.interrupted:
            self.hub.chunks_after_interrupt += 1
            return
        pcm = _pcm(event.audio, event_id or "", whole_samples=True)
        self._record(pcm)
        self._to_avatar(pcm)
        seconds = len(pcm) / BYTES_PER_SECOND
        # Chunks without an id are reported under one the simulator makes up.
        key = event_id or (
            self.open_buffer.event_id
            if self.open_buffer is not None
            else f"anonymous-{uuid.uuid4()}"
        )
        item = self.open_buffer
        if self.profile == "live":
            self.emit(
                _ack(lite.AgentAudioBufferAppended, lite.AGENT_AUDIO_BUFFER_APPENDED_TAG, event_id)
            )
        if item is None:
            item = self.open_buffer = _Item("lite", key)
            if self.profile == "documented":
                self.emit(_speak_event(lite.AgentSpeakStarted, key, item.task))
            self.playback.enqueue(item, seconds)
            return
        if key not in item.ids:
            # Another id joins the same buffer: documented reports it as its own utterance.
            item.ids[key] = None
            if self.profile == "documented":
                self.emit(_speak_event(lite.AgentSpeakStarted, key, item.task))
        self.playback.add(item, seconds)

    def _speak_end(self, event: lite.AgentSpeakEnd) -> None:
        item, self.open_buffer = self.open_buffer, None
        if item is None:
            return  # nothing buffered (or it was interrupted): the service says nothing
        if self.profile == "live":
            event_id = event.event_id if isinstance(event.event_id, str) else None
            self.emit(
                _ack(
                    lite.AgentAudioBufferCommitted, lite.AGENT_AUDIO_BUFFER_COMMITTED_TAG, event_id
                )
            )
        self.playback.close(item)

    def on_head(self, item: _Item) -> None:
        """An item started playing (called by the playback clock)."""
        if item.dialect != "lite":
            return
        self._set_lite_state("talking")
        if self.profile == "chunked":
            self._chunk_tick(item, first=True)

    def _chunk_tick(self, item: _Item, *, first: bool = False) -> None:
        # `chunked`: one started/ended pair per ~20 ms of audio played; a
        # buffer that has run dry waits for more audio without reporting.
        self._chunk_timer = None
        if not self.playback.items or self.playback.items[0] is not item:
            return
        if first or self.playback.remaining() > _EPSILON:
            if not first:
                self.emit(_speak_event(lite.AgentSpeakEnded, item.event_id, item.task))
            self.emit(_speak_event(lite.AgentSpeakStarted, item.event_id, item.task))
        self._chunk_timer = self.loop.call_later(_CHUNK_SECONDS, self._chunk_tick, item)

    def _stop_chunks(self) -> None:
        if self._chunk_timer is not None:
            self._chunk_timer.cancel()
            self._chunk_timer = None

    def on_played(self, item: _Item) -> None:
        """An item finished playing (called by the playback timer)."""
        if item.dialect == "lite":
            if self.profile == "documented":
                for event_id in item.ids:
                    self.emit(_speak_event(lite.AgentSpeakEnded, event_id, item.task))
            elif self.profile == "chunked":
                self._stop_chunks()
                self.emit(_speak_event(lite.AgentSpeakEnded, item.event_id, item.task))
            if not any(i.dialect == "lite" for i in self.playback.items):
                self._set_lite_state("listening" if self.listening else "idle")
        elif not any(i.dialect == "realtime-alpha" for i in self.playback.items):
            self._set_alpha_status("listening" if self.listening else "idle")

    def _set_lite_state(self, new: Literal["idle", "listening", "talking"]) -> None:
        if new != self.lite_state:
            previous, self.lite_state = self.lite_state, new
            self.emit(
                lite.AgentStateUpdated(
                    type=lite.AGENT_STATE_UPDATED_TAG, previous_state=previous, new_state=new
                )
            )

    # -- alpha playback -------------------------------------------------------------------

    def _append(self, event: realtime_alpha.AgentAudioBufferAppend) -> None:
        if event.event_id in self.interrupted:
            self.hub.chunks_after_interrupt += 1
            return
        pcm = _pcm(event.audio, event.event_id, whole_samples=True)
        self._record(pcm)
        self.alpha_buffer.append(pcm)
        self.alpha_buffer_ids.add(event.event_id)

    def _commit(self, event: realtime_alpha.AgentAudioBufferCommit) -> None:
        # The vendor demo commits with one zero byte as `audio`: whole
        # samples of it are played, a lone byte is not an error.
        pcm = _pcm(event.audio, event.event_id, whole_samples=False)
        pcm = pcm[: len(pcm) - len(pcm) % 2]
        if pcm:
            self._record(pcm)
            self.alpha_buffer.append(pcm)
        seconds = sum(map(len, self.alpha_buffer)) / BYTES_PER_SECOND
        ids = frozenset(self.alpha_buffer_ids | {event.event_id})
        self._to_avatar(b"".join(self.alpha_buffer))
        self.alpha_buffer.clear()
        self.alpha_buffer_ids.clear()
        if seconds == 0:
            return  # nothing to play
        self._set_alpha_status("talking", event.event_id)
        self.playback.enqueue(_Item("realtime-alpha", event.event_id, ids), seconds)

    def _set_alpha_status(
        self, new: Literal["idle", "listening", "talking"], event_id: str | None = None
    ) -> None:
        if new != self.alpha_status:
            self.alpha_status = new
            self.emit(
                realtime_alpha.AgentStatus(
                    type=realtime_alpha.AGENT_STATUS_TAG, status=new, event_id=event_id
                )
                if event_id is not None
                else realtime_alpha.AgentStatus(type=realtime_alpha.AGENT_STATUS_TAG, status=new)
            )

    # -- both -----------------------------------------------------------------------------

    def _interrupt(self, dialect: WsDialect, event_id: str | None) -> None:
        self._stop_chunks()
        stopped = self.playback.stop()
        self.open_buffer = None
        if self.hub.rooms is not None:
            self.hub.rooms.hush_avatar(self.session_id)
        self.listening = False
        for item in stopped:
            # Late chunks of these are dropped (and counted): the service
            # never plays an interrupted utterance's tail.
            # (The made-up ids of chunks without one never come back: no harm.)
            self.interrupted.update(item.ids)
            if item.dialect == "lite" and self.profile != "live":
                for stopped_id in item.ids:
                    self.emit(_speak_event(lite.AgentSpeakInterrupted, stopped_id, item.task))
        if dialect == "lite" and self.profile == "live":
            self.emit(
                _ack(lite.AgentAudioBufferCleared, lite.AGENT_AUDIO_BUFFER_CLEARED_TAG, event_id)
            )
        # Appended but uncommitted alpha audio is dropped too; later appends
        # of it count as chunks after the interrupt.
        self.interrupted.update(self.alpha_buffer_ids)
        self.alpha_buffer.clear()
        self.alpha_buffer_ids.clear()
        # Back to idle: each dialect reports it if it was playing, or if it
        # is the one the client spoke (an interrupt also ends listening).
        if dialect == "lite" or any(item.dialect == "lite" for item in stopped):
            self._set_lite_state("idle")
        if dialect == "realtime-alpha" or any(i.dialect == "realtime-alpha" for i in stopped):
            self._set_alpha_status("idle")

    def _start_listening(self, dialect: WsDialect) -> None:
        self.listening = True
        if dialect == "lite":
            if self.lite_state == "idle":
                self._set_lite_state("listening")
        elif self.alpha_status == "idle":  # alpha: only while idle
            self._set_alpha_status("listening")

    def _stop_listening(self, dialect: WsDialect) -> None:
        self.listening = False
        if dialect == "lite":
            if self.lite_state == "listening":
                self._set_lite_state("idle")
        elif self.alpha_status == "listening":
            self._set_alpha_status("idle")

    def _to_avatar(self, pcm: bytes) -> None:
        # What the avatar plays is what its tracks in the room carry.
        if pcm and self.hub.rooms is not None:
            self.hub.rooms.feed_avatar(self.session_id, pcm)

    def _record(self, pcm: bytes) -> None:
        if pcm:
            if self.hub.keep_audio:
                self.record.audio.append(pcm)
            self.record.audio_bytes += len(pcm)


class RealtimeHub:
    """The realtime endpoints of one simulator, and what tests read from them.

    One socket per session at a time: a new connection to a session replaces
    the open one (as a reconnect does), which is closed with code 4001.

    Attributes:
        events_by_type: Valid client events received, per ``type`` (every
            session, those dropped before ``connected`` included).
        server_events_by_type: Events the simulator sent, per ``type``.
        dropped_before_ready: Client frames silently dropped because they
            came before ``connected``.
        chunks_after_interrupt: Audio chunks of an interrupted utterance that
            arrived after the interrupt (dropped; a correct client sends none).
        websocket_opens: Sockets opened (upgraded), per session id.
        keep_audio: Whether each session's received audio is kept for
            `received_audio` (on by default). A scale run turns it off:
            1,000 sessions of 20 s would hold about 1 GB.
    """

    def __init__(
        self, config: SimulatorConfig, state: SimulatorState, rooms: RoomHub | None = None
    ) -> None:
        """Create the hub; `attach` it to the serving loop once running.

        With `rooms`, the audio each session plays reaches its avatar's tracks.
        """
        self.config = config
        self.state = state
        self.rooms = rooms
        self.events_by_type: Counter[str] = Counter()
        self.server_events_by_type: Counter[str] = Counter()
        self.dropped_before_ready = 0
        self.chunks_after_interrupt = 0
        self.websocket_opens: Counter[str] = Counter()
        self.keep_audio = True
        self._underruns: Counter[str] = Counter()
        self._underrun_max_gap = 0.0
        self._underrun_total_gap = 0.0
        # Per session id (None: any session): the fault and how many sockets
        # are left to fail (None: every later one).
        self._socket_faults: dict[str | None, tuple[SocketFault, int | None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sockets: dict[str, _Connection] = {}
        self._records: dict[str, _SessionRecord] = {}
        state.add_end_listener(self._session_ended)

    def add_routes(self, app: web.Application) -> None:
        """Serve both socket endpoints on `app`."""
        app.router.add_get(LITE_PATH, self._handle_lite)
        app.router.add_get(ALPHA_PATH, self._handle_alpha)

    def attach(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Bind to the loop serving the sockets (None once stopped)."""
        self._loop = loop

    # -- inspection -----------------------------------------------------------------------

    def open_websockets(self) -> int:
        """Return how many realtime sockets are open."""
        return len(self._sockets)

    def note_underrun(self, session_id: str, gap: float) -> None:
        """Count one underrun of `session_id`'s playback: it stalled for `gap` seconds."""
        self._underruns[session_id] += 1
        self._underrun_max_gap = max(self._underrun_max_gap, gap)
        self._underrun_total_gap += gap

    def playback_underruns(self) -> PlaybackUnderruns:
        """Return the underruns counted so far, in every session (a snapshot)."""
        return PlaybackUnderruns(
            count=sum(self._underruns.values()),
            per_session=dict(self._underruns),
            max_gap_seconds=self._underrun_max_gap,
            total_gap_seconds=self._underrun_total_gap,
        )

    def fail_websockets(
        self, fault: SocketFault, count: int | None = None, session_id: str | None = None
    ) -> None:
        """Make the next `count` realtime sockets fail as `fault` (every later one when None).

        With `session_id`, only that session's sockets (it wins over a fault
        for any session); ``count=0`` clears the fault. Refused upgrades do
        not count as opens (`websocket_opens`).

        Raises:
            ValueError: Unknown fault, or a negative count.
        """
        if fault not in get_args(SocketFault):
            raise ValueError(f"fault must be one of {', '.join(get_args(SocketFault))}")
        if count is not None and count < 0:
            raise ValueError("count must be >= 0, or None for every later socket")
        if count == 0:
            self._socket_faults.pop(session_id, None)
        else:
            self._socket_faults[session_id] = (fault, count)

    def _take_socket_fault(self, session_id: str) -> SocketFault | None:
        key: str | None = session_id if session_id in self._socket_faults else None
        entry = self._socket_faults.get(key)
        if entry is None:
            return None
        fault, left = entry
        if left is not None:
            if left <= 1:
                del self._socket_faults[key]
            else:
                self._socket_faults[key] = (fault, left - 1)
        return fault

    def received_audio(self, session_id: str) -> bytes:
        """Return the audio a session's sockets accepted, in arrival order.

        24 kHz mono PCM16. Chunks later interrupted are included; chunks
        dropped (before ``connected``, or after an interrupt) are not.

        Raises:
            KeyError: No such session.
        """
        return b"".join(list(self._record_of(session_id).audio))

    def write_wav(self, session_id: str, path: str | os.PathLike[str]) -> None:
        """Write `received_audio` as a WAV file (24 000 Hz, mono, 16-bit)."""
        audio = self.received_audio(session_id)
        with wave.open(os.fspath(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(BYTES_PER_SECOND // 2)
            out.writeframes(audio)

    def client_events(self, session_id: str) -> list[EventRecord]:
        """Return a session's valid client events: (loop time, type, wire object without audio).

        Events dropped before ``connected`` are included (compare their time
        with the ``connected`` entry of `server_events`).

        Raises:
            KeyError: No such session.
        """
        return list(self._record_of(session_id).client_events)

    def server_events(self, session_id: str) -> list[EventRecord]:
        """Return the events sent on a session's sockets: (loop time, type, wire object).

        Raises:
            KeyError: No such session.
        """
        return list(self._record_of(session_id).server_events)

    def _record_of(self, session_id: str) -> _SessionRecord:
        record = self._records.get(session_id)
        if record is not None:
            return record
        if self._session(session_id) is None:
            raise KeyError(f"no session {session_id!r} in this simulator")
        return _SessionRecord()

    def _session(self, session_id: str) -> Session | None:
        return self.state.liveavatar_session(session_id) or self.state.streaming_session(session_id)

    # -- serving --------------------------------------------------------------------------

    async def _handle_lite(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, "lite")

    async def _handle_alpha(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, "realtime-alpha")

    def _refusal(self, session_id: str, endpoint: WsDialect) -> str | None:
        if endpoint == "lite":
            la_session = self.state.liveavatar_session(session_id)
            if la_session is None:
                return "no such session"
            if not la_session.has_ws_url:
                return "this session has no LITE WebSocket (FULL mode, or an ElevenLabs agent)"
            if la_session.status != "started":
                return (
                    f"session is {la_session.status}: start it first"
                    if la_session.is_open
                    else "session has ended"
                )
            return None
        st_session = self.state.streaming_session(session_id)
        if st_session is None:
            return "no such session"
        if st_session.status != "connected":
            return (
                "session is new: call streaming.start first"
                if st_session.is_open
                else "session has ended"
            )
        return None

    async def _handle(self, request: web.Request, endpoint: WsDialect) -> web.StreamResponse:
        session_id = request.match_info["session_id"]
        refusal = self._refusal(session_id, endpoint)
        if refusal is not None:
            # Refused before the upgrade, so a client sees a plain HTTP 404.
            return web.json_response({"code": 404, "message": refusal}, status=404)
        fault = self._take_socket_fault(session_id)
        if fault == "refuse":
            message = "service unavailable (a fault injected by the simulator)"
            return web.json_response({"code": 503, "message": message}, status=503)
        ws = web.WebSocketResponse(
            compress=False,  # base64 audio barely compresses; deflate only costs CPU
            max_msg_size=_READ_LIMIT,
            decode_text=False,  # decode() takes bytes; and the size check is exact
            timeout=_CLOSE_TIMEOUT,
            # `stall_pongs`: pings reach the loop below, which leaves them
            # unanswered, as the media servers do (docs/protocol.md §7).
            autoping=not self.config.stall_pongs,
        )
        await ws.prepare(request)
        self.websocket_opens[session_id] += 1
        record = self._records.setdefault(session_id, _SessionRecord())
        conn = _Connection(self, ws, session_id, endpoint, record)
        conn.drop_when_ready = fault == "close_when_ready"
        old = self._sockets.get(session_id)
        self._sockets[session_id] = conn
        if old is not None:
            old.end(_CLOSE_REPLACED, "replaced by a newer connection to this session", states=False)
        conn.open()
        session = self._session(session_id)
        if session is None or not session.is_open:  # ended while we upgraded
            conn.end(_CLOSE_NORMAL, "session ended", states=True)
        elif fault == "close_at_once":
            conn.end(_CLOSE_FAULT, "connection dropped by the simulator (fault)", states=False)
        try:
            while True:
                msg = await ws.receive()
                if msg.type is WSMsgType.TEXT or msg.type is WSMsgType.BINARY:
                    conn.on_frame(msg.type, msg.data)
                elif msg.type is WSMsgType.PING or msg.type is WSMsgType.PONG:
                    continue  # only without autoping: a stalled pong
                elif msg.type is WSMsgType.ERROR:
                    logger.debug("simulator socket %s: %s", session_id, ws.exception())
                    break
                else:  # CLOSE, CLOSING, CLOSED
                    break
        finally:
            if self._sockets.get(session_id) is conn:
                del self._sockets[session_id]
            await conn.finish()
        return ws

    def _session_ended(self, session: Session, reason: EndReason) -> None:
        call_on_loop(self._loop, self._close_session, session.id, reason)

    def _close_session(self, session_id: str, reason: EndReason) -> None:
        conn = self._sockets.get(session_id)
        if conn is not None:
            conn.end(_CLOSE_NORMAL, f"session ended: {reason.root}", states=True)

    def drop_websocket(self, session_id: str, code: int = 1011) -> bool:
        """Close a session's socket abruptly, the session staying alive (a network drop).

        Returns whether a socket was open. Clients should reconnect.
        """
        conn = self._sockets.get(session_id)
        if conn is None:
            return False
        conn.end(code, "connection dropped by the simulator", states=False)
        return True

    async def close_all(self) -> None:
        """Close every socket (going away) and wait for their handlers to finish."""
        conns = list(self._sockets.values())
        for conn in conns:
            conn.end(_CLOSE_GOING_AWAY, "simulator shutting down", states=False)
        if not conns:
            return
        waiters = [asyncio.ensure_future(c.finished.wait()) for c in conns]
        _, pending = await asyncio.wait(waiters, timeout=_CLOSE_TIMEOUT)
        for waiter in pending:  # a handler stuck past the timeout: cleanup cancels it
            waiter.cancel()


_Ack: TypeAlias = (
    lite.AgentAudioBufferAppended | lite.AgentAudioBufferCommitted | lite.AgentAudioBufferCleared
)
_SpeakEvent: TypeAlias = lite.AgentSpeakStarted | lite.AgentSpeakEnded | lite.AgentSpeakInterrupted


def _ack(model: type[_Ack], tag: str, source_event_id: str | None) -> BaseModel:
    # `live`: an acknowledgement names the client event it answers, when that had an id.
    if source_event_id is None:
        return model.model_validate({"type": tag})
    return model.model_validate({"type": tag, "source_event_id": source_event_id})


_SPEAK_TAGS: dict[type[_SpeakEvent], str] = {
    lite.AgentSpeakStarted: lite.AGENT_SPEAK_STARTED_TAG,
    lite.AgentSpeakEnded: lite.AGENT_SPEAK_ENDED_TAG,
    lite.AgentSpeakInterrupted: lite.AGENT_SPEAK_INTERRUPTED_TAG,
}


def _speak_event(model: type[_SpeakEvent], event_id: str, task: lite.Task) -> BaseModel:
    # `documented` and `chunked`: the utterance's id, and the task the service made for it.
    return model(type=_SPEAK_TAGS[model], event_id=event_id, task=task)


def _pcm(audio: str, event_id: str, *, whole_samples: bool) -> bytes:
    try:
        pcm = base64.b64decode(audio, validate=True)
    except (binascii.Error, ValueError):
        raise _InvalidFrame(
            "field 'audio': not valid base64 (send base64 of raw PCM16 24 kHz mono)", event_id
        ) from None
    if whole_samples and len(pcm) % 2:
        raise _InvalidFrame(
            f"field 'audio': {len(pcm)} bytes is not a whole number of 16-bit samples "
            "(send raw PCM16 24 kHz mono)",
            event_id,
        )
    return pcm


def _event_id_of(data: bytes) -> str | None:
    # Only on the error path: a second parse to quote the client's event_id.
    try:
        payload = json.loads(data)
    except ValueError:
        return None
    event_id = payload.get("event_id") if isinstance(payload, dict) else None
    return event_id if isinstance(event_id, str) else None


@cache
def _client_types(dialects: tuple[WsDialect, ...]) -> frozenset[str]:
    # The tags the schemas define, for the "unknown event type" message.
    names: set[str] = set()
    for dialect in dialects:
        for member in get_args(event_union(dialect, "client").model_fields["root"].annotation):
            names.update(get_args(member.model_fields["type"].annotation))
    return frozenset(names)
