"""The room tokens the simulator hands out, and checks when a participant joins.

They are shaped like LiveKit's access tokens (a JWT signed with HS256, made
with PyJWT: ``sub`` the identity, ``video.room`` and ``video.roomJoin``,
``iat``, ``nbf`` and ``exp``), because some clients decode them, but they say
plainly that they are simulated (``simulated: true``) and are signed with a
secret that lives only in this simulator: no LiveKit server would accept one,
and no other simulator either. Like LiveKit's, they expire
(``SimulatorConfig.room_token_seconds``): joining with an expired token is
refused; a participant already in the room stays.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import jwt

Role = Literal["client", "agent", "avatar"]
"""Who a token is for: a user or viewer, a bot feeding the avatar, the avatar."""

_ROLES: frozenset[str] = frozenset({"client", "agent", "avatar"})
_ALGORITHM = "HS256"


@dataclass(frozen=True)
class RoomGrant:
    """What a valid room token allows: join `room` as `identity`."""

    room: str
    identity: str
    role: Role


class RoomTokens:
    """Mints and verifies one simulator's room tokens.

    Args:
        ttl_seconds: How long a token stays valid after it is minted.
        clock: Unix time source (tests may move it); `time.time` by default.
    """

    def __init__(self, ttl_seconds: float = 6 * 3600.0, clock: Callable[[], float] | None = None):
        """Create a minter with a fresh secret."""
        self._secret = secrets.token_bytes(32)
        self._ttl = ttl_seconds
        self._clock = clock or time.time

    def __repr__(self) -> str:
        return "<RoomTokens>"

    def mint(self, room: str, identity: str, role: Role) -> str:
        """Return a token that lets `identity` join `room` until it expires."""
        now = self._clock()
        claims = {
            "sub": identity,
            "video": {"room": room, "roomJoin": True},
            "room": room,
            "role": role,
            "simulated": True,
            "iat": int(now),
            "nbf": int(now),
            # Kept as a float: a sub-second lifetime (tests) still expires.
            "exp": now + self._ttl,
        }
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def verify(self, token: str) -> RoomGrant | str:
        """Return the grant of a valid token this simulator minted, else why it is refused."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                # Expiry is checked below against our clock (tests may move it),
                # not PyJWT's.
                options={"require": ["exp", "sub"], "verify_exp": False},
            )
        except jwt.PyJWTError:
            return "invalid room token: use a token this simulator handed out"
        exp = claims["exp"]
        if not isinstance(exp, int | float) or exp <= self._clock():
            return "room token expired: ask the service for a new one"
        room, identity, role = claims.get("room"), claims.get("sub"), claims.get("role")
        if not isinstance(room, str) or not isinstance(identity, str) or role not in _ROLES:
            return "invalid room token: use a token this simulator handed out"
        grant_role: Role = (
            "client" if role == "client" else "agent" if role == "agent" else "avatar"
        )
        return RoomGrant(room, identity, grant_role)
