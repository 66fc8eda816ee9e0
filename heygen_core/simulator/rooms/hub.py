"""The simulator's rooms: where a session's avatar publishes its media, and FULL mode talks.

Each started LiveAvatar or Streaming session gets a room (named after the
session, or the user's own room for ``livekit_config``) holding the
simulated avatar, participant ``heygen``. Participants join over the room
transport of `heygen_core.simulator.rooms.wire` with the tokens the session handed out.

- The avatar plays back the audio its session's socket received, in real
  time, as its audio track, and renders a synthetic video whose mouth
  follows that audio's level (`avatar_media`). It only ticks while someone
  is in the room: nobody watching costs nothing (500-session benchmarks).
- Audio a participant publishes reaches the others as that participant's track.
- Data packets reach every other participant; FULL sessions' commands on
  ``agent-control`` are answered by the simulated agent (`full_agent`).
- When the session ends, FULL participants get ``session.stopped``, and
  everyone is told the room closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web
from heygen_models.full import (
    AGENT_CONTROL_TOPIC,
    AGENT_IDENTITY_PREFIX,
    AGENT_RESPONSE_TOPIC,
    AVATAR_IDENTITY,
)

from heygen_core.simulator.config import SimulatorConfig
from heygen_core.simulator.rooms.avatar_media import SAMPLE_RATE, FaceRenderer, level_of
from heygen_core.simulator.rooms.control import (
    Closed,
    ControlMessage,
    Data,
    Joined,
    Left,
    Subscribe,
    Welcome,
    decode_control,
    encode_control,
)
from heygen_core.simulator.rooms.full_agent import FullAgent
from heygen_core.simulator.rooms.tokens import RoomGrant, RoomTokens
from heygen_core.simulator.rooms.wire import (
    ROOM_PATH,
    VIDEO,
    RoomWireError,
    pack_audio,
    pack_video,
    unpack,
)
from heygen_core.simulator.state import EndReason, LiveAvatarSession, Session, SimulatorState
from heygen_core.simulator.threads import call_on_loop

logger = logging.getLogger("heygen_core.simulator")

# A participant that reads slower than media arrives loses video frames
# beyond this many queued messages (audio and control are never dropped).
_MAX_QUEUED_VIDEO = 50
_CLOSE_TIMEOUT = 5.0


class _Member:
    """One connected participant and the task that writes to it."""

    def __init__(self, identity: str, ws: web.WebSocketResponse) -> None:
        self.identity = identity
        self.ws = ws
        self.wants_video = False
        self.outbox: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self.queued_video = 0
        self.writer = asyncio.create_task(self._write(), name="heygen-simulator-room-writer")

    def send(self, message: str | bytes, *, video: bool = False) -> None:
        if video:
            if self.queued_video >= _MAX_QUEUED_VIDEO:
                return
            self.queued_video += 1
        self.outbox.put_nowait(message)

    def send_control(self, message: ControlMessage) -> None:
        self.send(encode_control(message))

    def close(self) -> None:
        self.outbox.put_nowait(None)

    async def _write(self) -> None:
        try:
            while True:
                item = await self.outbox.get()
                if item is None:
                    await self.ws.close()
                    return
                if isinstance(item, bytes):
                    if item[0] == VIDEO:  # a video frame left the queue
                        self.queued_video -= 1
                    await self.ws.send_bytes(item)
                else:
                    await self.ws.send_str(item)
        except (ConnectionError, RuntimeError) as exc:
            logger.debug("simulator room %s: send failed: %s", self.identity, exc)


@dataclass(eq=False)
class _Room:
    """One room: its participants and, for a session's room, its avatar."""

    name: str
    session_id: str | None
    agent: FullAgent | None = None
    members: dict[str, _Member] = field(default_factory=dict)
    speech: bytearray = field(default_factory=bytearray)
    audio_samples_out: int = 0
    ticker: asyncio.Task[None] | None = None
    # The service's participants (avatar, agent) that have joined so far, and
    # the timers of those still to come (`SimulatorConfig.*_join_delay_seconds`).
    service_here: set[str] = field(default_factory=set)
    join_timers: list[asyncio.TimerHandle] = field(default_factory=list)

    @property
    def has_avatar(self) -> bool:
        return self.session_id is not None

    @property
    def agent_identity(self) -> str | None:
        """The service's agent, in FULL and connector rooms (it joins with the avatar)."""
        if self.agent is None or self.session_id is None:
            return None
        return AGENT_IDENTITY_PREFIX + self.session_id

    def identities(self) -> list[str]:
        names = list(self.members)
        if not self.has_avatar:
            return names
        service = [
            identity
            for identity in (AVATAR_IDENTITY, self.agent_identity)
            if identity is not None and identity in self.service_here
        ]
        return [*service, *names]

    def cancel_joins(self) -> None:
        for timer in self.join_timers:
            timer.cancel()
        self.join_timers.clear()

    def broadcast(self, message: str | bytes, *, skip: str | None = None) -> None:
        for identity, member in self.members.items():
            if identity != skip:
                member.send(message)


class _AgentPort:
    """What a session's `FullAgent` may do in its room (see `AgentRoom`)."""

    def __init__(self, hub: RoomHub, session_id: str) -> None:
        self._hub = hub
        self._session_id = session_id

    def send_event(self, payload: bytes) -> None:
        self._hub.send_agent_event(self._session_id, payload)

    def speak(self, pcm: bytes) -> None:
        self._hub.feed_avatar(self._session_id, pcm)

    def hush(self) -> None:
        self._hub.hush_avatar(self._session_id)

    def command_received(self, event_type: str) -> None:
        self._hub.full_commands_by_type[event_type] += 1

    def invalid_command_received(self) -> None:
        self._hub.invalid_full_commands += 1


class RoomHub:
    """The rooms of one simulator, their endpoint and what tests read from them.

    Attributes:
        tokens: Mints and checks room tokens.
        full_commands_by_type: FULL commands received on ``agent-control``,
            per ``event_type`` (all sessions).
        invalid_full_commands: ``agent-control`` packets that were not a
            valid FULL command (ignored, as the service says nothing).
    """

    def __init__(self, config: SimulatorConfig, state: SimulatorState) -> None:
        """Create the hub; `attach` it to the serving loop once running."""
        self.config = config
        self.state = state
        self.tokens = RoomTokens(config.room_token_seconds)
        self.full_commands_by_type: Counter[str] = Counter()
        self.invalid_full_commands = 0
        self._rooms: dict[str, _Room] = {}
        self._session_rooms: dict[str, str] = {}
        self._ended_rooms: set[str] = set()
        self._renderer = FaceRenderer(config.avatar_video_width, config.avatar_video_height)
        self._loop: asyncio.AbstractEventLoop | None = None
        state.add_end_listener(self._session_ended)

    def add_routes(self, app: web.Application) -> None:
        """Serve the room endpoint on `app`."""
        app.router.add_get(ROOM_PATH, self._handle)

    def attach(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Bind to the loop serving the rooms (None once stopped)."""
        self._loop = loop

    # -- sessions -------------------------------------------------------------------------

    def open_session_room(
        self, session: Session, room: str | None = None, *, full: bool = False
    ) -> str:
        """Put the avatar of a started session in its room; return the room's name.

        Args:
            session: The session.
            room: The room to join (a ``livekit_config`` room); default: one
                named after the session.
            full: Whether a FULL-mode agent answers commands in the room. A
                LiveAvatar session without a LITE socket (an agent connector,
                such as ElevenLabs') always gets one: it runs on FULL events.
        """
        name = room or session.id
        existing = self._rooms.get(name)
        connector = isinstance(session, LiveAvatarSession) and not session.has_ws_url
        agent = (
            FullAgent(_AgentPort(self, session.id), session, self.state)
            if full or connector
            else None
        )
        if existing is not None:  # the user's own room, already joined by them
            existing.session_id, existing.agent = session.id, agent
            room_of_session = existing
            self._start_ticker(existing)
        else:
            room_of_session = self._rooms[name] = _Room(name, session.id, agent)
        self._session_rooms[session.id] = name
        self._service_joins(room_of_session)
        return name

    def _service_joins(self, room: _Room) -> None:
        """The avatar joins the room, then the agent: at once or after their configured delay.

        The agent (``liveavatar-agent-<session_id>``) always joins after the
        avatar (``heygen``), as on the service (docs/protocol.md §7): at
        ``agent_join_delay_seconds``, or just after the avatar if that is later.
        """
        agent_at = asyncio.get_running_loop().time() + self.config.agent_join_delay_seconds
        self._join_later(room, AVATAR_IDENTITY, self.config.avatar_join_delay_seconds, agent_at)

    def _join_later(
        self, room: _Room, identity: str, delay: float, agent_at: float | None = None
    ) -> None:
        if delay <= 0:
            self._service_join(room, identity, agent_at)
        else:
            timer = asyncio.get_running_loop().call_later(
                delay, self._service_join, room, identity, agent_at
            )
            room.join_timers.append(timer)

    def _service_join(self, room: _Room, identity: str, agent_at: float | None = None) -> None:
        if self._rooms.get(room.name) is not room:
            return  # the session ended first
        if identity not in room.service_here:
            room.service_here.add(identity)
            room.broadcast(encode_control(Joined(identity)))
        agent = room.agent_identity
        if agent_at is not None and agent is not None:
            self._join_later(room, agent, agent_at - asyncio.get_running_loop().time())

    def mint(self, room: str, identity: str, role: str = "client") -> str:
        """Return a room token for `identity` in `room` (role ``client`` or ``agent``)."""
        if role not in ("client", "agent"):
            raise ValueError("role must be 'client' or 'agent'")
        return self.tokens.mint(room, identity, "agent" if role == "agent" else "client")

    def participants(self, room: str) -> list[str]:
        """Identities in `room` now, the avatar first when it is there."""
        found = self._rooms.get(room)
        return found.identities() if found is not None else []

    def session_room(self, session_id: str) -> str | None:
        """The room a session's avatar is in, while the session lasts."""
        return self._session_rooms.get(session_id)

    def has_listeners(self, session_id: str) -> bool:
        """Whether anyone is in the session's room to hear its avatar."""
        room = self._room_of(session_id)
        return room is not None and bool(room.members)

    def feed_avatar(self, session_id: str, pcm: bytes) -> None:
        """Give the avatar audio to speak (it plays in real time, in order)."""
        room = self._room_of(session_id)
        if room is not None and room.members:
            room.speech += pcm

    def hush_avatar(self, session_id: str) -> None:
        """Drop everything the avatar has not spoken yet (an interrupt)."""
        room = self._room_of(session_id)
        if room is not None:
            room.speech.clear()

    def avatar_speaking(self, session_id: str) -> bool:
        """Whether the avatar still has audio to speak."""
        room = self._room_of(session_id)
        return room is not None and bool(room.speech)

    def send_agent_event(self, session_id: str, payload: bytes) -> None:
        """Publish a FULL event from the avatar on ``agent-response``."""
        room = self._room_of(session_id)
        if room is None:
            return
        room.broadcast(encode_control(Data(AGENT_RESPONSE_TOPIC, payload, AVATAR_IDENTITY)))

    def _room_of(self, session_id: str) -> _Room | None:
        name = self._session_rooms.get(session_id)
        return self._rooms.get(name) if name is not None else None

    def _session_ended(self, session: Session, reason: EndReason) -> None:
        call_on_loop(self._loop, self._close_session_room, session.id, reason)

    def _close_session_room(self, session_id: str, reason: EndReason) -> None:
        room = self._room_of(session_id)
        if room is None:
            return
        if room.agent is not None:  # said in the room, before it closes
            room.agent.session_stopped(reason)
        del self._session_rooms[session_id]
        del self._rooms[room.name]
        room.cancel_joins()
        self._ended_rooms.add(room.name)
        if room.ticker is not None:
            room.ticker.cancel()
        for member in room.members.values():
            member.send_control(Closed(f"session ended: {reason.root}"))
            member.close()

    async def close_all(self) -> None:
        """Tell every participant the simulator is going away and close them."""
        members: list[_Member] = []
        for room in self._rooms.values():
            room.cancel_joins()
            if room.ticker is not None:
                room.ticker.cancel()
            if room.agent is not None:
                room.agent.cancel()
            for member in room.members.values():
                member.send_control(Closed("simulator shutting down"))
                member.close()
                members.append(member)
        if members:
            await asyncio.wait([m.writer for m in members], timeout=_CLOSE_TIMEOUT)

    # -- serving --------------------------------------------------------------------------

    def _grant(self, request: web.Request) -> RoomGrant | str:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else request.query.get("access_token")
        if not token:
            return "no room token: send it as 'Authorization: Bearer <token>'"
        grant = self.tokens.verify(token)
        if isinstance(grant, str):
            return grant
        if grant.room in self._ended_rooms and grant.room not in self._rooms:
            return "the session of this room has ended"
        if grant.identity == AVATAR_IDENTITY:
            return f"identity {AVATAR_IDENTITY!r} is the avatar's"
        return grant

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        grant = self._grant(request)
        if isinstance(grant, str):
            return web.json_response({"code": 401, "message": grant}, status=401)
        ws = web.WebSocketResponse(compress=False, max_msg_size=8 * 1024 * 1024)
        await ws.prepare(request)
        room = self._rooms.get(grant.room)
        if room is None:  # a user's own room (livekit_config), before the avatar comes
            room = self._rooms[grant.room] = _Room(grant.room, None)
        old = room.members.pop(grant.identity, None)
        if old is not None:  # as LiveKit: a second join with one identity replaces the first
            old.send_control(Closed("joined again from elsewhere"))
            old.close()
        member = _Member(grant.identity, ws)
        member.send_control(Welcome(grant.identity, grant.room, tuple(room.identities())))
        room.broadcast(encode_control(Joined(grant.identity)))
        room.members[grant.identity] = member
        self._start_ticker(room)
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    self._on_text(room, member, msg.data)
                elif msg.type is WSMsgType.BINARY:
                    self._on_media(room, member, msg.data)
        finally:
            if room.members.get(grant.identity) is member:
                del room.members[grant.identity]
                room.broadcast(encode_control(Left(grant.identity)))
            member.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(member.writer, _CLOSE_TIMEOUT)
        return ws

    def _on_text(self, room: _Room, member: _Member, text: str) -> None:
        try:
            message = decode_control(text)
        except RoomWireError as exc:  # skipped, as a LiveKit server ignores what it cannot read
            logger.debug("simulator room %s: %s", room.name, exc)
            return
        if isinstance(message, Subscribe):
            member.wants_video = message.video
        elif isinstance(message, Data):
            # Stamped with its sender, whatever the client claimed.
            forwarded = Data(message.topic, message.payload, member.identity)
            room.broadcast(encode_control(forwarded), skip=member.identity)
            agent = room.agent
            # A command published before the service's agent joined reaches
            # no one, as on the real service (hence the FULL ready gate).
            if (
                message.topic == AGENT_CONTROL_TOPIC
                and agent is not None
                and room.agent_identity in room.service_here
            ):
                agent.on_command(message.payload)
        # Server -> client messages sent by a client mean nothing here.

    def _on_media(self, room: _Room, member: _Member, frame: bytes) -> None:
        try:
            packet = unpack(frame)
        except RoomWireError as exc:
            logger.debug("simulator room %s: %s", room.name, exc)
            return
        if packet.kind != "audio":
            return
        # Each participant's track reaches the others stamped with who sent it.
        out = pack_audio(member.identity, packet.sample_rate, packet.timestamp, packet.data)
        room.broadcast(out, skip=member.identity)

    # -- the avatar's tracks --------------------------------------------------------------

    def _start_ticker(self, room: _Room) -> None:
        if room.has_avatar and room.members and (room.ticker is None or room.ticker.done()):
            room.ticker = asyncio.create_task(self._tick(room), name="heygen-simulator-avatar")

    async def _tick(self, room: _Room) -> None:
        loop = asyncio.get_running_loop()
        interval = 1.0 / self.config.avatar_frame_rate
        start = last = loop.time()
        deadline = start
        level = 0.0
        while room.members:
            now = loop.time()
            # Real time: take what has been "played" since the last tick.
            take = min(len(room.speech), round((now - last) * SAMPLE_RATE) * 2)
            last = now
            if take:
                pcm = bytes(room.speech[:take])
                del room.speech[:take]
                stamp = room.audio_samples_out / SAMPLE_RATE
                room.audio_samples_out += take // 2
                room.broadcast(pack_audio(AVATAR_IDENTITY, SAMPLE_RATE, stamp, pcm))
                level = max(level_of(pcm), level * 0.6)  # the mouth closes gradually
            else:
                level *= 0.6
            watchers = [m for m in room.members.values() if m.wants_video]
            if watchers:
                frame = pack_video(
                    AVATAR_IDENTITY,
                    self._renderer.width,
                    self._renderer.height,
                    now - start,
                    self._renderer.render(level),
                )
                for member in watchers:
                    member.send(frame, video=True)
            deadline = max(deadline + interval, now)
            await asyncio.sleep(deadline - loop.time())
        room.speech.clear()  # nobody left to hear it
