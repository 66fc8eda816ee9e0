"""`ensure_credits`: an app can refuse to start a session the account cannot pay for.

Exact balances (and malformed ones the simulator never sends) come from a
stub of ``GET /v1/users/credits`` on loopback; the end-to-end case runs
against the simulator, whose balance is its configured starting credits.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from aiohttp import web

import heygen_core
from heygen_core import InsufficientCreditsError, ensure_credits
from heygen_core.errors import AuthenticationError, HeyGenError, ProtocolError
from heygen_core.rest import CREDITS_PER_MINUTE, LiveAvatarClient
from heygen_core.rest.credits import credits_for, parse_credits
from heygen_core.simulator import Simulator, SimulatorConfig

KEY = "sk-canary-credits-7a6b5c4d"


@dataclass
class CreditsStub:
    """A stub LiveAvatar API whose balance the test sets; it counts the requests."""

    url: str = ""
    credits_left: object = "0"
    requests: list[str] = field(default_factory=list)


@pytest.fixture
async def stub() -> AsyncIterator[CreditsStub]:
    state = CreditsStub()

    async def credits(request: web.Request) -> web.Response:
        state.requests.append(request.headers.get("X-API-KEY", ""))
        body = {"code": 1000, "message": "ok", "data": {"credits_left": state.credits_left}}
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/v1/users/credits", credits)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield state
    finally:
        await runner.cleanup()


@pytest.fixture
async def client(stub: CreditsStub) -> AsyncIterator[LiveAvatarClient]:
    async with LiveAvatarClient(KEY, base_url=stub.url) as live:
        yield live


def test_the_rates_are_the_documented_ones() -> None:
    assert dict(CREDITS_PER_MINUTE) == {"LITE": Decimal(1), "FULL": Decimal(2)}
    assert credits_for(10, "FULL") == Decimal(20)
    assert credits_for(0.1, "LITE") == Decimal("0.1")  # not the float's binary expansion


async def test_enough_credits_returns_the_exact_balance(
    stub: CreditsStub, client: LiveAvatarClient
) -> None:
    stub.credits_left = "20.10"
    left = await ensure_credits(client, minutes=10, mode="FULL")
    assert left == Decimal("20.10") and str(left) == "20.10"
    # Exactly enough is enough: 20.1 minutes of LITE cost 20.1 credits.
    assert await ensure_credits(client, minutes=20.1, mode="LITE") == Decimal("20.10")
    assert stub.requests == [KEY, KEY]


async def test_too_few_credits_raise_with_both_numbers(
    stub: CreditsStub, client: LiveAvatarClient
) -> None:
    stub.credits_left = "19.99"
    with pytest.raises(InsufficientCreditsError) as raised:
        await ensure_credits(client, minutes=10, mode="FULL")
    error = raised.value
    assert isinstance(error, HeyGenError)
    assert error.credits_left == Decimal("19.99")
    assert error.credits_needed == Decimal(20)
    assert (error.mode, error.minutes) == ("FULL", 10)
    message = str(error)
    assert "19.99" in message and "20" in message and "FULL" in message
    assert "add credits" in message and "sandbox" in message
    assert KEY not in message + repr(error)
    # The same minutes of LITE cost half as much, and the account can pay for them.
    assert await ensure_credits(client, minutes=10, mode="LITE") == Decimal("19.99")


@pytest.mark.parametrize(
    "value", ["NaN", "Infinity", "-Infinity", "1_000", " 12", "12 ", "", "1e3", "12,50", "twelve"]
)
async def test_a_malformed_balance_is_a_protocol_error(
    stub: CreditsStub, client: LiveAvatarClient, value: str
) -> None:
    stub.credits_left = value
    with pytest.raises(ProtocolError) as raised:
        await ensure_credits(client, minutes=1, mode="LITE")
    assert raised.value.field == "credits_left"
    assert raised.value.message_type == "Credits"
    assert "decimal" in str(raised.value)


async def test_a_balance_that_is_not_a_string_is_a_protocol_error(
    stub: CreditsStub, client: LiveAvatarClient
) -> None:
    # The schema says string; a bare JSON number fails the envelope's model.
    stub.credits_left = 1000
    with pytest.raises(ProtocolError):
        await ensure_credits(client, minutes=1, mode="LITE")


def test_parse_credits_accepts_plain_decimals_only() -> None:
    assert parse_credits("1250.50") == Decimal("1250.50")
    assert parse_credits("-3") == Decimal(-3)  # an overdrawn account is a balance too
    assert parse_credits("0") == Decimal(0)


@pytest.mark.parametrize(
    ("minutes", "mode"), [(-1.0, "LITE"), (math.nan, "LITE"), (math.inf, "FULL"), (1.0, "CUSTOM")]
)
async def test_bad_arguments_fail_before_any_request(
    stub: CreditsStub, client: LiveAvatarClient, minutes: float, mode: str
) -> None:
    with pytest.raises(ValueError, match=r"minutes|mode"):
        await ensure_credits(client, minutes=minutes, mode=mode)  # type: ignore[arg-type]
    assert stub.requests == []


def test_the_helper_and_its_error_are_public() -> None:
    assert heygen_core.ensure_credits is ensure_credits
    assert heygen_core.InsufficientCreditsError is InsufficientCreditsError


async def test_against_the_simulator_the_starting_balance_decides() -> None:
    async with (
        Simulator(SimulatorConfig(api_key=KEY, starting_credits=30.0)) as sim,
        LiveAvatarClient(KEY, base_url=sim.url) as live,
    ):
        left = await ensure_credits(live, minutes=15, mode="FULL")
        assert left == Decimal(30)
        with pytest.raises(InsufficientCreditsError) as raised:
            await ensure_credits(live, minutes=15.5, mode="FULL")
        assert raised.value.credits_needed == Decimal(31)
    async with (
        Simulator(SimulatorConfig(api_key=KEY)) as sim,
        LiveAvatarClient("sk-wrong-key", base_url=sim.url) as refused,
    ):
        with pytest.raises(AuthenticationError):
            await ensure_credits(refused, minutes=1, mode="LITE")
