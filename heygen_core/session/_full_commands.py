"""The FULL and agent-connector commands an `AvatarSession` offers, in the session's room.

FULL sessions take text (`speak_text`, `speak_response`); agent-connector
sessions (a LITE token with an ElevenLabs agent config) talk to their agent
(`send_user_message`, `send_tool_result`, ...). Both go to the `FullDriver`
of the room the session joined; each command first checks that the session
is of the right kind and open, and says what to do when it is not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from heygen_core.errors import SessionError

if TYPE_CHECKING:
    # A type only: importing the driver (the FULL models, pydantic) is left
    # to the session's open, so `from heygen_core import AvatarSession` stays cheap.
    from heygen_core.session._full_driver import FullDriver


class FullCommands:
    """The FULL and connector commands of `AvatarSession` (which sets the state below)."""

    mode: Literal["LITE", "FULL"]
    connector: bool
    _full: FullDriver | None
    _stopped: bool

    def _commands(self, command: str) -> FullDriver:
        """The FULL driver, for `command`; raises in a LITE session or outside `async with`."""
        if self.mode != "FULL" and not self.connector:
            raise SessionError(f"{command} is a FULL-mode command; this is a LITE session")
        if self._full is None or self._stopped:
            raise SessionError(
                "the session has not joined its room: use FULL commands inside `async with`"
            )
        return self._full

    def _connector(self, command: str) -> FullDriver:
        """The FULL driver of a connector session, for `command`."""
        if not self.connector:
            raise SessionError(
                f"{command} is an agent-connector command: start a LITE session with an "
                "agent config (elevenlabs_agent_config), inside `async with`"
            )
        return self._commands(command)

    def _not_connector(self, command: str) -> FullDriver:
        if self.connector:
            raise SessionError(
                f"{command} is not available in an agent-connector session: its agent owns "
                "what the avatar says (use send_user_message)"
            )
        return self._commands(command)

    @property
    def stop_reason(self) -> str | None:
        """FULL and connector sessions: why the service ended the session, once it has.

        Read from its ``session.stopped``, whichever name the field has there
        (``end_reason`` or ``stop_reason``); None until then.
        """
        return self._full.stop_reason if self._full is not None else None

    async def speak_text(self, text: str) -> str:
        """FULL: make the avatar say `text`; returns the command's event id."""
        return await self._not_connector("speak_text").speak_text(text)

    async def speak_response(self, text: str) -> str:
        """FULL: let the avatar's LLM answer `text` and speak the answer; returns the event id."""
        return await self._not_connector("speak_response").speak_response(text)

    async def send_user_message(self, text: str) -> str:
        """Connector: send the agent a user message (as if typed); returns the event id.

        The agent answers with ``elevenlabs_agent_event`` events and the
        avatar speaks its answer (``avatar.speak_started`` / ``_ended``).
        """
        return await self._connector("send_user_message").send_user_message(text)

    async def send_contextual_update(self, text: str) -> str:
        """Connector: give the agent context it uses without answering; returns the event id."""
        return await self._connector("send_contextual_update").send_contextual_update(text)

    async def send_user_activity(self) -> str:
        """Connector: tell the agent the user is active (keeps it from taking over)."""
        return await self._connector("send_user_activity").send_user_activity()

    async def send_tool_result(
        self,
        tool_call_id: str,
        result: str,
        *,
        is_error: bool = False,
        source_event_id: str | None = None,
    ) -> str:
        """Connector: answer the agent's ``client_tool_call``; returns the event id.

        Args:
            tool_call_id: The ``tool_call_id`` of the call (in its event's ``data``).
            result: The tool's result, as text.
            is_error: Whether the tool failed (`result` then says how).
            source_event_id: The ``event_id`` of the call's event, if wanted.
        """
        return await self._connector("send_tool_result").send_tool_result(
            tool_call_id, result, is_error=is_error, source_event_id=source_event_id
        )

    async def start_push_to_talk(self) -> None:
        """FULL, push-to-talk sessions: the user starts talking."""
        await self._commands("start_push_to_talk").start_push_to_talk()

    async def stop_push_to_talk(self) -> None:
        """FULL, push-to-talk sessions: the user stops talking."""
        await self._commands("stop_push_to_talk").stop_push_to_talk()
