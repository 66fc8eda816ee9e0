"""A fresh install, as a user gets it: ``pip install heygen-core`` with no extras.

The project is installed (not editable) into a new venv at the versions of
constraints.txt; there the embedded simulator must speak the bundled sample
through an `AvatarSession`, the extras' packages must be absent, and the
features that need them must say which extra to install, in one line.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.packaging._venvs import CONSTRAINTS, clean_env, copy_project, fresh_venv

# Run inside the fresh venv; prints one JSON object.
SCRIPT = r"""
import asyncio
import importlib
import importlib.resources
import importlib.util
import json

import heygen_core
from heygen_core import AvatarSession, MissingExtraError
from heygen_core.samples import speech_sample
from heygen_core.simulator import Simulator, SimulatorConfig


async def speak() -> dict:
    async with Simulator(SimulatorConfig(connect_delay_seconds=0.1)) as sim:
        session = AvatarSession.live_avatar(sandbox=True, base_url=sim.url, api_key="any-key")
        async with session:
            result = await session.speak(speech_sample())
            outcomes = await result.finished()
            sent = session.pump.stats.audio_seconds_sent
        heard = len(sim.received_audio(session.session_id))
        still_open = sim.open_sessions()
    return {
        "outcomes": list(outcomes),
        "seconds_sent": sent,
        "bytes_heard": heard,
        "stopped_cleanly": session.stopped_cleanly,
        "open_sessions": still_open,
    }


def media_error() -> dict:
    from heygen_core.media.registry import open_room

    try:
        open_room("wss://example.livekit.cloud")
    except MissingExtraError as exc:
        return {"extra": exc.extra, "package": exc.package, "message": str(exc)}
    return {}


def adapter_error(module: str) -> dict:
    # The framework adapters: importing one without its extra is the error.
    try:
        importlib.import_module(module)
    except MissingExtraError as exc:
        return {"extra": exc.extra, "package": exc.package, "message": str(exc)}
    except Exception as exc:
        return {"other": repr(exc)}
    return {}


print(json.dumps({
    "module": heygen_core.__file__,
    "typed": [
        importlib.resources.files(package).joinpath("py.typed").is_file()
        for package in ("heygen_core", "heygen_models")
    ],
    "extras_found": [
        name
        for name in ("livekit", "rich", "pipecat")
        if importlib.util.find_spec(name) is not None
    ],
    "speak": asyncio.run(speak()),
    "media": media_error(),
    "adapters": {
        module: adapter_error(module)
        for module in ("heygen_core.pipecat", "heygen_core.livekit_agents")
    },
}))
"""

# What setuptools prints when the package configuration is off: data files
# outside a declared package, metadata it will refuse one day, and entry-point
# names outside the recommended ``[\w.-]+`` (some tools cannot read them).
SETUPTOOLS_WARNINGS = re.compile(
    r"^.*(absent from the `packages` configuration|as data is deprecated|package_data"
    r"|SetuptoolsDeprecationWarning|does not follow recommended pattern).*$",
    re.M,
)


@pytest.mark.slow
def test_a_fresh_install_without_extras_speaks_and_names_the_missing_extras(
    tmp_path: Path,
) -> None:
    env_dir = tmp_path / "venv"
    python, pip = fresh_venv(env_dir)
    source = copy_project(tmp_path / "src")
    install = subprocess.run(
        [
            *pip,
            "install",
            "-v",
            "-c",
            str(CONSTRAINTS),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=clean_env(),
        check=False,
    )
    log = install.stdout + install.stderr
    assert install.returncode == 0, log[-4000:]
    warnings = [m.group(0) for m in SETUPTOOLS_WARNINGS.finditer(log)]
    assert not warnings, f"setuptools warned while building: {warnings}"

    listed = subprocess.run(
        [*pip, "list", "--format=json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
        check=True,
    )
    installed = {entry["name"].lower() for entry in json.loads(listed.stdout)}
    assert "heygen-core" in installed
    assert not {"livekit", "livekit-api", "livekit-agents", "pipecat-ai", "rich"} & installed

    done = subprocess.run(
        [str(python), "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=clean_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    # The installed copy ran, not the working tree.
    assert Path(report["module"]).is_relative_to(env_dir), report["module"]
    assert report["typed"] == [True, True]
    assert report["extras_found"] == []
    spoke = report["speak"]
    assert spoke["outcomes"] == ["ended"]
    assert spoke["seconds_sent"] > 4.0  # the bundled sample is about 5 s
    assert spoke["bytes_heard"] == round(spoke["seconds_sent"] * 48_000)  # 24 kHz PCM16
    assert spoke["stopped_cleanly"] is True
    assert spoke["open_sessions"] == 0
    media = report["media"]
    assert media.get("extra") == "media", report
    assert media["package"] == "livekit"
    assert "\n" not in media["message"]
    assert "pip install 'heygen-core[media]'" in media["message"]
    # The framework adapters name their extras the same way.
    adapters = report["adapters"]
    for module, extra, package in (
        ("heygen_core.pipecat", "pipecat", "pipecat"),
        ("heygen_core.livekit_agents", "livekit-agents", "livekit"),
    ):
        error = adapters[module]
        assert error.get("extra") == extra, (module, error)
        assert error["package"] == package
        assert "\n" not in error["message"]
        assert f"pip install 'heygen-core[{extra}]'" in error["message"]

    cli = subprocess.run(
        [str(env_dir / "bin" / "heygen-avatar"), "say", "sample.wav"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=clean_env(),
        check=False,
    )
    assert cli.returncode == 1
    assert cli.stdout == ""
    assert cli.stderr.count("\n") == 1, cli.stderr
    assert "pip install 'heygen-core[cli]'" in cli.stderr
