"""`LocalRoom.participants` and `wait_for_participants`: the avatar counts, users do too."""

from __future__ import annotations

import asyncio

from heygen_models.full import AVATAR_IDENTITY

from heygen_core.session import AvatarSession
from heygen_core.simulator import Simulator, SimulatorConfig
from heygen_core.simulator.rooms.local_room import LocalRoom

KEY = "sim-key"
AVATAR_LATE = 2.0  # seconds after the session starts


async def test_a_late_avatar_is_waited_for_and_a_closed_room_ends_the_wait() -> None:
    config = SimulatorConfig(connect_delay_seconds=0.2, avatar_join_delay_seconds=AVATAR_LATE)
    async with Simulator(config) as sim:
        session = AvatarSession.live_avatar(sandbox=True, api_key=KEY, base_url=sim.url, media=True)
        async with session:
            sid = str(session.session_id)
            user = LocalRoom()
            await user.connect(sim.room_url, sim.room_token(sid, "alice"))
            # The session's own (LITE) room joined before the avatar came.
            assert AVATAR_IDENTITY not in user.participants
            assert await user.wait_for_participants([AVATAR_IDENTITY], 0.05) == (AVATAR_IDENTITY,)
            assert "alice" in session.media.participants
            assert await user.wait_for_participants([AVATAR_IDENTITY], 10) == ()
            assert AVATAR_IDENTITY in user.participants
            assert AVATAR_IDENTITY in session.media.participants
            assert "heygen" not in session.media.users
            waiting = asyncio.create_task(user.wait_for_participants(["nobody"], 30))
            await asyncio.sleep(0.05)
        # The session stopped, so its room closed: the wait ends, naming who never came.
        assert await asyncio.wait_for(waiting, 5) == ("nobody",)
        await user.disconnect()
