"""The LiveAvatar account's credits: what a session costs, and whether the account can pay.

An app that starts billed sessions can check first, and refuse to start one
the account cannot pay for (the service would end it with ``NO_CREDITS``
part-way through instead)::

    async with LiveAvatarClient() as client:
        left = await ensure_credits(client, minutes=10, mode="FULL")

Money, so amounts are `decimal.Decimal`: the service sends the balance as a
decimal string (``"1250.50"``) and it is never rounded through a float.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from heygen_core.errors import InsufficientCreditsError, ProtocolError

if TYPE_CHECKING:
    from heygen_core.rest.liveavatar_client import LiveAvatarClient

BilledMode = Literal["LITE", "FULL"]
"""A session mode that bills by the minute."""

CREDITS_PER_MINUTE: Mapping[BilledMode, Decimal] = MappingProxyType(
    {"LITE": Decimal(1), "FULL": Decimal(2)}
)
"""What a minute of a (non-sandbox) session of each mode costs (docs/protocol.md §1)."""

# A plain decimal literal, as the service sends it. `Decimal()` alone would
# also take "NaN", "Infinity", "1_000" and surrounding blanks.
_DECIMAL_LITERAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def parse_credits(text: str) -> Decimal:
    """Return the balance `text` (a ``credits_left`` string such as ``"1250.50"``) as a Decimal.

    Raises:
        ProtocolError: `text` is not a plain decimal number; the message names
            the field (``credits_left``), not the value.
    """
    if not _DECIMAL_LITERAL.fullmatch(text):
        raise ProtocolError(
            "credits_left is not a decimal number such as '1250.50'; the service's "
            "answer cannot be read as a balance",
            field="credits_left",
            errors=[
                {
                    "loc": ("credits_left",),
                    "msg": "expected a decimal string",
                    "type": "decimal_parsing",
                }
            ],
            message_type="Credits",
        )
    return Decimal(text)


def credits_for(minutes: float, mode: BilledMode) -> Decimal:
    """Return what `minutes` of a billed session in `mode` cost, in credits.

    Raises:
        ValueError: `minutes` is negative or not finite, or `mode` is not billed
            by the minute.
    """
    if not math.isfinite(minutes) or minutes < 0:
        raise ValueError(f"minutes must be a finite number >= 0, got {minutes!r}")
    rate = CREDITS_PER_MINUTE.get(mode)
    if rate is None:
        raise ValueError(f"mode must be one of {sorted(CREDITS_PER_MINUTE)}, got {mode!r}")
    # Through its shortest repr, so 0.1 minutes is 0.1 and not the float's binary expansion.
    return Decimal(repr(float(minutes))) * rate


async def ensure_credits(client: LiveAvatarClient, *, minutes: float, mode: BilledMode) -> Decimal:
    """Check that the account can pay for `minutes` of a `mode` session; return its balance.

    Reads the balance with `LiveAvatarClient.get_credits` (one request). Sandbox
    sessions are free: do not call this for them.

    Args:
        client: A client with the account's API key.
        minutes: How long the session may last (its ``max_session_duration``,
            in minutes).
        mode: ``LITE`` (1 credit a minute) or ``FULL`` (2).

    Returns:
        The credits left before the session starts.

    Raises:
        InsufficientCreditsError: The balance is below the session's cost; it
            carries both numbers.
        ProtocolError: The service sent a balance that is not a decimal number.
        ValueError: `minutes` is negative or not finite, or `mode` is unknown
            (checked before any request).
        ApiError: The service refused the request (a refused key, for example).
    """
    needed = credits_for(minutes, mode)
    left = parse_credits((await client.get_credits()).data.credits_left)
    if left < needed:
        raise InsufficientCreditsError(
            credits_left=left, credits_needed=needed, mode=mode, minutes=minutes
        )
    return left
