"""The simulator ignores unknown request fields, as the vendor's FastAPI models do.

Our request schemas are closed so that our client sends nothing undeclared;
a third-party client may send more, and the live service ignores it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from heygen_core.simulator import Simulator
from heygen_core.simulator.rest.validation import _without_unknown

SANDBOX_AVATAR = "dd73ea75-1218-4ef3-92ce-606d5f7fbc0a"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as simulator:
        yield simulator


async def test_unknown_fields_are_ignored_at_every_depth(sim: Simulator) -> None:
    body = {
        "mode": "LITE",
        "avatar_id": SANDBOX_AVATAR,
        "is_sandbox": True,
        "client_version": "9.9",  # not in the schema
        "video_settings": {"quality": "high", "hdr": True},  # nor this
    }
    async with aiohttp.ClientSession() as http:
        answer = await http.post(
            f"{sim.url}/v1/sessions/token", json=body, headers={"X-API-KEY": "k"}
        )
        assert answer.status == 200, await answer.text()
        # Declared fields are still checked as strictly as before.
        body["video_settings"] = {"quality": "ultra"}
        refused = await http.post(
            f"{sim.url}/v1/sessions/token", json=body, headers={"X-API-KEY": "k"}
        )
        assert refused.status == 422
        detail = (await refused.json())["detail"]
        assert detail[0]["loc"][-2:] == ["video_settings", "quality"]
        token = await http.post(
            f"{sim.url}/v1/streaming.create_token", json={"x": 1}, headers={"x-api-key": "k"}
        )
        assert token.status == 200


def test_a_schema_that_forbids_extras_keeps_them_for_the_model_to_refuse() -> None:
    defs = {
        "Open": {"type": "object", "additionalProperties": False, "properties": {"a": {}}},
        "Strict": {
            "type": "object",
            "additionalProperties": False,
            "x-vendor-forbids-extra": True,
            "properties": {"a": {}},
        },
    }
    value = {"a": 1, "b": 2}
    assert _without_unknown(defs, {"$ref": "#/$defs/Open"}, value) == {"a": 1}
    assert _without_unknown(defs, {"$ref": "#/$defs/Strict"}, value) == value
