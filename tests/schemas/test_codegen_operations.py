"""An operation added to a REST schema becomes a working typed method, with no hand-written code.

The test copies schemas/ to a temporary folder, adds two operations to the
LiveAvatar document, runs codegen/generate.py on the copy into a temporary
``heygen_models`` package, and, in a subprocess that imports that package
ahead of the real one, calls the new methods of the unchanged
`LiveAvatarClient` against a stub aiohttp server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from heygen_core.protocol.constraints import UUID_EXAMPLE
from heygen_core.rest.liveavatar_client import LiveAvatarClient

ROOT = Path(__file__).resolve().parents[2]
KEY = "trial-key-7f3a9c"
TOKEN = "trial-session-token-51bd"
WIDGET = "9e8d7c6b-5a49-4837-a261-5f4e3d2c1b0a"


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


NEW_PATHS: dict[str, Any] = {
    "/v1/widgets/{widget_id}/resize": {
        "post": {
            "summary": "Resize a widget",
            "description": "Trial operation: a path parameter, a query and a body.",
            "operationId": "resize_widget",
            "security": [{"ApiKey": []}],
            "parameters": [
                {
                    "name": "widget_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "format": "uuid", "x-id-source": ["list_avatars"]},
                },
                {
                    "name": "ResizeQuery",
                    "in": "query",
                    "style": "form",
                    "explode": True,
                    "required": False,
                    "schema": {"$ref": "#/components/schemas/ResizeQuery"},
                },
            ],
            "requestBody": {"required": True, "content": _json("ResizeRequest")},
            "responses": {
                "200": {"description": "The widget.", "content": _json("WidgetEnvelope")},
                "422": {"$ref": "#/components/responses/ValidationFailed"},
            },
        }
    },
    "/v1/widgets/touch": {
        "post": {
            "summary": "Touch the session's widget",
            "operationId": "touch_widget",
            "security": [{"SessionToken": []}],
            "requestBody": {"required": False, "content": _json("TouchRequest")},
            "responses": {"200": {"description": "Touched.", "content": _json("Envelope")}},
        }
    },
}

NEW_SCHEMAS: dict[str, Any] = {
    "ResizeQuery": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"dry_run": {"type": "boolean"}, "unit": {"enum": ["mm", "cm"]}},
    },
    "ResizeRequest": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"width": {"type": "integer", "minimum": 1}, "label": {"type": "string"}},
        "required": ["width"],
    },
    "TouchRequest": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"note": {"type": "string"}},
    },
    "Widget": {
        "type": "object",
        "additionalProperties": True,
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "width": {"type": "integer"},
            "label": {"type": "string"},
        },
        "required": ["id", "width"],
    },
    "WidgetEnvelope": {
        "allOf": [
            {"$ref": "#/components/schemas/Envelope"},
            {
                "type": "object",
                "additionalProperties": True,
                "properties": {"data": {"$ref": "#/components/schemas/Widget"}},
                "required": ["data"],
            },
        ]
    },
}

# Runs in the subprocess, with the trial package first on sys.path.
CLIENT_SCRIPT = """
import asyncio, json, sys, typing

import heygen_models
from heygen_models import liveavatar as la

from heygen_core.errors import InvalidRequestError
from heygen_core.rest.liveavatar_client import LiveAvatarClient
from heygen_core.rest.operations import api_spec


async def main() -> None:
    base_url, key, token, widget = sys.argv[1:5]
    out = {"package": heygen_models.__file__}
    async with LiveAvatarClient(key, base_url=base_url) as client:
        result = await client.resize_widget(
            widget,
            la.ResizeRequest(width=12, label="gear"),
            la.ResizeQuery(dry_run=True, unit="mm"),
        )
        out["resized"] = {
            "type": type(result.data).__name__,
            "module": type(result.data).__module__,
            "data": result.data.model_dump(mode="json"),
            "width": result.data.width,
            "status": result.status,
            "code": result.code,
            "message": result.message,
        }
        touched = await client.touch_widget(token)
        out["touched"] = {"data": touched.data, "status": touched.status}
        try:
            await client.resize_widget("not-a-uuid", la.ResizeRequest(width=1))
        except InvalidRequestError as error:
            out["refused"] = str(error)
    op = api_spec("liveavatar").operation("resize_widget")
    out["operation"] = [op.method, op.path, list(op.path_params), op.retry_safe]
    hints = typing.get_type_hints(LiveAvatarClient.resize_widget)
    out["hints"] = {name: str(hint) for name, hint in hints.items()}
    print(json.dumps(out))


asyncio.run(main())
"""


@pytest.fixture(scope="module")
def trial_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A heygen_models package generated from schemas/ plus the two trial operations."""
    tmp = tmp_path_factory.mktemp("codegen")
    schemas = tmp / "schemas"
    shutil.copytree(ROOT / "schemas", schemas)
    path = schemas / "rest" / "liveavatar.openapi.yaml"
    document = yaml.safe_load(path.read_text())
    document["paths"].update(NEW_PATHS)
    document["components"]["schemas"].update(NEW_SCHEMAS)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    package = tmp / "site" / "heygen_models"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "codegen" / "generate.py"),
            "--schemas",
            str(schemas),
            "--out",
            str(package),
        ],
        check=True,
        cwd=tmp,
    )
    return package


@pytest.fixture
async def stub() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A stub of the service that records each request and echoes the body as a Widget."""
    received: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        text = await request.text()
        received.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "api_key": request.headers.get("X-API-KEY"),
                "authorization": request.headers.get("Authorization"),
                "content_type": request.content_type,
                "body": json.loads(text) if text else None,
            }
        )
        if request.path.endswith("/resize"):
            body = json.loads(text)
            data = {"id": request.path.split("/")[3], **body, "colour": "blue"}
            return web.json_response({"code": 1000, "message": "resized", "data": data})
        return web.json_response({"code": 1000, "message": "touched", "data": None})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        await runner.cleanup()


def test_the_real_client_lacks_the_trial_operations() -> None:
    # Otherwise the subprocess below would prove nothing about codegen.
    assert not hasattr(LiveAvatarClient, "resize_widget")
    assert not hasattr(LiveAvatarClient, "touch_widget")


def test_the_trial_package_has_the_operation_table(trial_package: Path) -> None:
    module = (trial_package / "liveavatar_operations.py").read_text()
    assert "async def resize_widget(" in module
    assert "async def touch_widget(" in module
    assert '"widget_id": ("list_avatars",)' in module  # x-id-source reached the table
    assert (trial_package / "schemas" / "liveavatar.json").is_file()


async def test_a_new_operation_is_a_working_typed_method(
    trial_package: Path, stub: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = stub
    env = {**os.environ, "PYTHONPATH": str(trial_package.parent)}
    env.pop("HEYGEN_LIVE_AVATAR_API_KEY", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CLIENT_SCRIPT,
        url,
        KEY,
        TOKEN,
        WIDGET,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    out = json.loads(stdout)
    assert Path(out["package"]).parent == trial_package

    resize, touch = received  # the malformed id was refused before sending
    assert resize == {
        "method": "POST",
        "path": f"/v1/widgets/{WIDGET}/resize",
        "query": {"dry_run": "true", "unit": "mm"},
        "api_key": KEY,
        "authorization": None,
        "content_type": "application/json",
        "body": {"width": 12, "label": "gear"},
    }
    assert touch == {
        "method": "POST",
        "path": "/v1/widgets/touch",
        "query": {},
        "api_key": None,
        "authorization": f"Bearer {TOKEN}",
        "content_type": "application/json",
        "body": {},  # no required field: the default-constructed TouchRequest
    }

    assert out["resized"] == {
        "type": "Widget",
        "module": "heygen_models.liveavatar",
        "data": {"id": WIDGET, "width": 12, "label": "gear", "colour": "blue"},
        "width": 12,
        "status": 200,
        "code": 1000,
        "message": "resized",
    }
    assert out["touched"] == {"data": None, "status": 200}
    assert out["refused"] == (
        "resize_widget was not sent: widget_id: expected a UUID such as "
        f"{UUID_EXAMPLE} (use the id from list_avatars)"
    )
    assert out["operation"] == ["POST", "/v1/widgets/{widget_id}/resize", ["widget_id"], False]
    hints = out["hints"]
    assert hints["widget_id"] == "<class 'str'>"
    assert hints["request"] == "<class 'heygen_models.liveavatar.ResizeRequest'>"
    assert "heygen_models.liveavatar.ResizeQuery" in hints["query"] and "None" in hints["query"]
    assert hints["return"] == ("heygen_core.rest.result.ApiResult[heygen_models.liveavatar.Widget]")
    assert "session_token" not in hints  # an API-key-only operation takes no token
