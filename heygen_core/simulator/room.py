"""The LiveKit room details the simulator hands out: plainly fake placeholders.

No LiveKit server runs behind them. The URL uses the reserved ``.invalid``
top-level domain, so nothing can ever resolve it, and every token says
"simulated" so it is never mistaken for a real credential.
"""

from __future__ import annotations

import base64
import json
import secrets

LIVEKIT_URL = "wss://livekit.simulator.invalid"
"""The LiveKit server URL of every simulated session."""


def placeholder_token(role: str) -> str:
    """Return an opaque placeholder LiveKit token, e.g. ``simulated-client-token-1f2e...``."""
    return f"simulated-{role}-token-{secrets.token_hex(8)}"


def placeholder_jwt(role: str, room: str) -> str:
    """Return a JWT-shaped placeholder (three base64url parts, unsigned).

    The legacy Streaming API hands out LiveKit JWTs, and some clients split
    them on dots; this keeps that shape while saying plainly it is fake.
    """

    def part(value: dict[str, object]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = part({"alg": "none", "typ": "JWT"})
    claims = part({"sub": f"simulated-{role}", "room": room, "simulated": True})
    return f"{header}.{claims}.simulated-{secrets.token_hex(8)}"
