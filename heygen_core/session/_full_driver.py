"""The FULL driver: typed commands and events as data packets in the session's room.

A FULL session has no control socket of its own: the client publishes
commands on the agent-control topic and the avatar answers on the
agent-response topic (topics and the avatar's identity come from
``heygen_models.full``, which declares them). The service speaks with its
own voice and LLM, so the commands carry text, not audio.

Agent-connector sessions (a LITE token with an ElevenLabs agent config:
no LITE socket) run on the same event system, plus the connector's own
``elevenlabs_agent_command`` commands (`send_connector_command`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable

from heygen_models import full
from heygen_models.full import (
    AGENT_CONTROL_TOPIC,
    AGENT_IDENTITY_PREFIX,
    AGENT_RESPONSE_TOPIC,
    AVATAR_IDENTITY,
)
from pydantic import MISSING

from heygen_core.errors import ProtocolError
from heygen_core.media.room import MediaRoom
from heygen_core.protocol.codec import decode, encode
from heygen_core.protocol.events import FullServerEvent
from heygen_core.protocol.renamed_fields import stop_reason
from heygen_core.realtime.events import ProtocolErrorEvent

logger = logging.getLogger("heygen_core.session")


_EXCERPT = 200


class FullDriver:
    """Sends FULL commands into the room and reads the avatar's events from it.

    Args:
        room: The joined room.
        on_event: Receives every event the avatar publishes (an undecodable
            packet as a `ProtocolErrorEvent`).
        on_end: Called once the room's data stream ends (the room was left
            or closed), so the session's event stream ends with it.
        session_id: The session's id: names the service's agent in the room
            (the ready gate) and is sent with connector commands.
    """

    def __init__(
        self,
        room: MediaRoom,
        on_event: Callable[[FullServerEvent | ProtocolErrorEvent], Awaitable[None]],
        on_end: Callable[[], None],
        session_id: str | None = None,
    ) -> None:
        self._room = room
        self._on_event = on_event
        self._on_end = on_end
        self._session_id = session_id
        self._reader: asyncio.Task[None] | None = None
        self.stop_reason: str | None = None
        """Why the service ended the session (its ``session.stopped``), once it has."""

    async def wait_ready(self, limit: float) -> tuple[str, ...]:
        """Wait until the avatar and the service's agent are in the room; return who is missing.

        A FULL session is ready only once both participants ``heygen`` and
        ``liveavatar-agent-<session_id>`` have joined (the official SDK waits
        for both): commands published earlier may reach no one. Returns an
        empty tuple once both are there, else those still missing after
        `limit` seconds (or when the room was left first).
        """
        required = [AVATAR_IDENTITY]
        if self._session_id is not None:
            required.append(AGENT_IDENTITY_PREFIX + self._session_id)
        return await self._room.wait_for_participants(required, limit)

    def start(self) -> None:
        """Start reading the avatar's events."""
        if self._reader is None:
            self._reader = asyncio.create_task(self._read(), name="heygen-full-events")

    async def close(self) -> None:
        """Stop reading (idempotent); leaving the room is the session's job."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader

    async def _read(self) -> None:
        async for message in self._room.data(AGENT_RESPONSE_TOPIC):
            if message.sender != AVATAR_IDENTITY:
                # Only the avatar speaks for the service: anyone else in the
                # room publishing on this topic must not forge its events.
                logger.debug("ignored an agent-response packet from %r", message.sender)
                continue
            event: FullServerEvent | ProtocolErrorEvent
            try:
                event = decode(message.payload, "full", "server")
            except ProtocolError as error:
                excerpt = message.payload[:_EXCERPT].decode("utf-8", "replace")
                event = ProtocolErrorEvent(error, excerpt, len(message.payload))
            if isinstance(event, full.SessionStopped):
                self.stop_reason = stop_reason(event)
            await self._on_event(event)
        self._on_end()

    async def _send(self, command: full.ClientEventVariant) -> None:
        await self._room.send_data(encode(command).encode(), AGENT_CONTROL_TOPIC)

    async def speak_text(self, text: str) -> str:
        """Make the avatar say `text`; returns the command's event id."""
        event_id = _new_id()
        await self._send(
            full.AvatarSpeakText(
                event_type=full.AVATAR_SPEAK_TEXT_TAG, text=text, event_id=event_id
            )
        )
        return event_id

    async def speak_response(self, text: str) -> str:
        """Let the avatar's LLM answer `text` and speak the answer; returns the event id."""
        event_id = _new_id()
        await self._send(
            full.AvatarSpeakResponse(
                event_type=full.AVATAR_SPEAK_RESPONSE_TAG, text=text, event_id=event_id
            )
        )
        return event_id

    async def send_user_message(self, text: str) -> str:
        """Connector: the user says `text` to the agent (as typed); returns the event id."""
        return await self._agent_command("user_message", full.ElevenlabsCommandData(text=text))

    async def send_contextual_update(self, text: str) -> str:
        """Connector: give the agent silent context; returns the event id."""
        return await self._agent_command("contextual_update", full.ElevenlabsCommandData(text=text))

    async def send_user_activity(self) -> str:
        """Connector: tell the agent the user is active (no payload); returns the event id."""
        return await self._agent_command("user_activity")

    async def send_tool_result(
        self, tool_call_id: str, result: str, *, is_error: bool, source_event_id: str | None
    ) -> str:
        """Connector: answer the agent's ``client_tool_call``; returns the event id."""
        return await self._agent_command(
            "client_tool_result",
            full.ElevenlabsCommandData(tool_call_id=tool_call_id, result=result, is_error=is_error),
            source_event_id=source_event_id,
        )

    async def _agent_command(
        self,
        kind: str,
        data: full.ElevenlabsCommandData | None = None,
        *,
        source_event_id: str | None = None,
    ) -> str:
        # Every connector command is one ElevenlabsAgentCommand; only its kind,
        # payload and the event it answers differ.
        event_id = _new_id()
        command = full.ElevenlabsAgentCommand(
            event_type=full.ELEVENLABS_AGENT_COMMAND_TAG,
            event_id=event_id,
            session_id=self._session_id or MISSING,
            source_event_id=source_event_id,
            elevenlabs_event_type=kind,
            data=MISSING if data is None else data,
        )
        await self._send(command)
        return event_id

    async def start_push_to_talk(self) -> None:
        """Push-to-talk sessions: the user starts talking."""
        await self._send(
            full.UserStartPushToTalk(
                event_type=full.USER_START_PUSH_TO_TALK_TAG, event_id=_new_id()
            )
        )

    async def stop_push_to_talk(self) -> None:
        """Push-to-talk sessions: the user stops talking."""
        await self._send(
            full.UserStopPushToTalk(event_type=full.USER_STOP_PUSH_TO_TALK_TAG, event_id=_new_id())
        )

    async def interrupt(self) -> None:
        """Stop the avatar now."""
        await self._send(
            full.AvatarInterrupt(event_type=full.AVATAR_INTERRUPT_TAG, event_id=_new_id())
        )

    async def start_listening(self) -> None:
        """Put the avatar in its listening pose."""
        await self._send(
            full.AvatarStartListening(
                event_type=full.AVATAR_START_LISTENING_TAG, event_id=_new_id()
            )
        )

    async def stop_listening(self) -> None:
        """Take the avatar out of its listening pose."""
        await self._send(
            full.AvatarStopListening(event_type=full.AVATAR_STOP_LISTENING_TAG, event_id=_new_id())
        )


def _new_id() -> str:
    return uuid.uuid4().hex
