"""Talk to a hosted ElevenLabs agent through an avatar (a LITE connector session).

    python examples/connector_agent.py

A LITE token with `elevenlabs_agent_config` gives a session with no audio
socket: the agent listens, thinks and speaks through the avatar, and the two
talk over the room's data channel. You send typed commands (a user message,
context, a tool result) and read the agent's typed events.

With HEYGEN_LIVE_AVATAR_API_KEY set it uses the real API and needs your
agent: ELEVENLABS_AGENT_ID, and LIVEAVATAR_SECRET_ID (the id of your stored
ElevenLabs key, from `heygen-avatar secrets list`). Without a key it runs
against the embedded simulator, whose agent echoes messages and calls a
`get_weather` client tool when asked about the weather.
"""

from __future__ import annotations

import asyncio
import os
import sys

from heygen_models import full
from heygen_models import liveavatar as la

from heygen_core.service_target import live_avatar_target
from heygen_core.session import SANDBOX_AVATAR_ID, AvatarSession, SessionEvent

# How long the agent may take to answer one message.
ANSWER_TIMEOUT = 60.0
# The simulator accepts any well-formed ids; a real agent needs real ones.
PLACEHOLDER_SECRET_ID = "3c90c3cc-0d44-4b50-8888-8dd25736052a"


async def agent_event(events: asyncio.Queue[SessionEvent], kind: str) -> full.ElevenlabsAgentEvent:
    """The next `elevenlabs_agent_event` of `kind` (others are printed and skipped)."""
    while True:
        event = await asyncio.wait_for(events.get(), ANSWER_TIMEOUT)
        if isinstance(event, full.ElevenlabsAgentEvent):
            if event.elevenlabs_event_type == kind:
                return event
            print(f"agent event: {event.elevenlabs_event_type}", flush=True)


def payload(event: full.ElevenlabsAgentEvent) -> dict[str, object]:
    """The event's `data` as plain JSON values (empty when the event carries none)."""
    return event.data.model_dump() if isinstance(event.data, full.ElevenlabsEventData) else {}


async def main() -> int:
    """Ask a question, answer the agent's tool call, print its answers; 0 when both came."""
    async with live_avatar_target() as (base_url, api_key, _):
        request = la.LiteSessionTokenRequest(
            mode="LITE",
            avatar_id=SANDBOX_AVATAR_ID,
            is_sandbox=True,
            elevenlabs_agent_config=la.ElevenLabsAgentConfig(
                secret_id=os.environ.get("LIVEAVATAR_SECRET_ID", PLACEHOLDER_SECRET_ID),
                agent_id=os.environ.get("ELEVENLABS_AGENT_ID", "my-agent"),
            ),
        )
        session = AvatarSession.live_avatar(
            token_request=request, base_url=base_url, api_key=api_key
        )
        events: asyncio.Queue[SessionEvent] = asyncio.Queue()
        session.on_event(events.put_nowait)  # subscribed before anything is sent
        async with session:
            await session.send_user_message("Hello!")
            answer = await agent_event(events, "agent_response")
            print(f"agent: {payload(answer).get('agent_response_event')}", flush=True)

            await session.send_user_message("What is the weather like?")
            call = await agent_event(events, "client_tool_call")
            tool = payload(call)["client_tool_call"]
            assert isinstance(tool, dict)
            print(f"tool call: {tool['tool_name']}", flush=True)
            # Your code runs the tool; the agent speaks what it returns.
            await session.send_tool_result(str(tool["tool_call_id"]), "sunny, 21 degrees")
            answer = await agent_event(events, "agent_response")
            print(f"agent: {payload(answer).get('agent_response_event')}", flush=True)
    print("session stopped:", session.stopped_cleanly)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
