"""The room tokens the simulator hands out, and checks when a participant joins.

They are shaped like LiveKit's access tokens (a JWT signed with HS256),
because some clients split them on dots, but they say plainly that they are
simulated, and are signed with a secret that lives only in this simulator:
no LiveKit server would accept one, and no other simulator either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Literal

Role = Literal["client", "agent", "avatar"]
"""Who a token is for: a user or viewer, a bot feeding the avatar, the avatar."""


@dataclass(frozen=True)
class RoomGrant:
    """What a valid room token allows: join `room` as `identity`."""

    room: str
    identity: str
    role: Role


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class RoomTokens:
    """Mints and verifies one simulator's room tokens."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def __repr__(self) -> str:
        return "<RoomTokens>"

    def mint(self, room: str, identity: str, role: Role) -> str:
        """Return a token that lets `identity` join `room`."""
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = {"sub": identity, "room": room, "role": role, "simulated": True}
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{header}.{body}.{self._sign(header, body)}"

    def verify(self, token: str) -> RoomGrant | None:
        """Return the grant of a token this simulator minted, else None."""
        parts = token.split(".")
        if len(parts) != 3 or not hmac.compare_digest(parts[2], self._sign(parts[0], parts[1])):
            return None
        try:
            claims = json.loads(_unb64(parts[1]))
            grant = RoomGrant(str(claims["room"]), str(claims["sub"]), claims["role"])
        except (ValueError, KeyError, TypeError):
            return None
        return grant if grant.role in ("client", "agent", "avatar") else None

    def _sign(self, header: str, body: str) -> str:
        digest = hmac.new(self._secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
        return _b64(digest)
