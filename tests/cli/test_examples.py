"""The first-run material: every example, the README's quick starts, and `make demo`.

Each example runs as a user runs it (a fresh interpreter, the key unset, so
against the embedded simulator) and must print what its docstring promises.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
README = (ROOT / "README.md").read_text(encoding="utf-8")

# What each example must print (in this order) and exit with 0. A new
# example without an entry here fails `test_every_example_is_covered`.
EXPECTED_OUTPUT: dict[str, list[str]] = {
    # The simulator plays the service as observed (the `live` profile): the
    # avatar acknowledges audio and reports its state, with no speak_* events.
    "speak.py": [
        "is ready",
        "event: agent.audio_buffer_appended",
        "event: agent.state_updated",
        "event: agent.audio_buffer_committed",
        "event: agent.state_updated",
        "sent 4.95 s of audio",
        "outcome: ended",
        "session stopped: True",
    ],
    "streaming_interrupt.py": [
        "streaming 9.9 s of speech",
        "the avatar is talking",
        "event: agent.audio_buffer_cleared",
        "outcome: interrupted",
    ],
    "full_chat.py": [
        "avatar: Hello! Ask me anything.",
        "you: What can you do?",
        "avatar: You said: What can you do?",
        "done",
    ],
    "connector_agent.py": [
        "agent: {'agent_response': 'You said: Hello!'}",
        "tool call: get_weather",
        "agent: {'agent_response': 'The tool said: sunny, 21 degrees'}",
        "session stopped: True",
    ],
    "test_with_simulator.py": ["2 passed"],
    # A LiveKit Agents AgentSession whose reply the avatar speaks (extra livekit-agents).
    "livekit_agents_avatar.py": [
        "is ready",
        "say returned: interrupted=False",
        "the avatar received 1.00 s of audio",
        "event ids for the reply: 1",
        "session stopped: True",
    ],
    # Pipecat pipelines on the drop-in HeyGenVideoService / HeyGenTransport (extra pipecat).
    "pipecat_video_service.py": [
        "pipeline started",
        "stopped: True",
        "avatar voice: ",
    ],
    "pipecat_transport.py": [
        "client connected: alice",
        "client disconnected: alice",
        "heard alice: 0.5 s",
        "the avatar said the bot's answer: 1.0 s",
        "session stopped: True",
    ],
}


def offline_env() -> dict[str, str]:
    """The environment minus any real key, so everything goes to the simulator."""
    secret = ("HEYGEN_LIVE_AVATAR_API_KEY", "HEYGEN_API_KEY")
    return {k: v for k, v in os.environ.items() if k not in secret}


def run_python(args: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=offline_env(),
        check=False,
    )


def assert_in_order(output: str, expected: list[str]) -> None:
    position = 0
    for text in expected:
        found = output.find(text, position)
        assert found >= 0, f"{text!r} missing (after position {position}) in:\n{output}"
        position = found + len(text)


def test_every_example_is_covered() -> None:
    assert {path.name for path in EXAMPLES.glob("*.py")} == set(EXPECTED_OUTPUT)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED_OUTPUT))
def test_example_runs_against_the_simulator(name: str) -> None:
    # The base suite runs without the framework extras.
    if name.startswith("pipecat_"):
        pytest.importorskip("pipecat")
    if name.startswith("livekit_agents_"):
        pytest.importorskip("livekit.agents")
    if name.startswith("test_"):
        # A user's test module: run by pytest, as its docstring says.
        done = run_python(["-m", "pytest", "-q", "-p", "no:cacheprovider", f"examples/{name}"])
    else:
        done = run_python([f"examples/{name}"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert_in_order(done.stdout, EXPECTED_OUTPUT[name])
    if name == "streaming_interrupt.py":
        sent, total = map(float, re.findall(r"sent ([\d.]+) s of ([\d.]+) s", done.stdout)[0])
        # Half-way interrupt after a 3 s lead: what was still queued never left.
        assert sent < total - 0.5


def readme_section(title: str) -> str:
    match = re.search(rf"(?ms)^## {re.escape(title)}\n(.*?)(?=^## )", README)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def test_readme_quick_start_is_exactly_demo_then_test() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", readme_section("Quick start"), re.S)
    assert blocks == ["make demo\nmake test\n"]


def test_ci_runs_the_readme_test_command() -> None:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [line for line in lines if line and not line.startswith(("#", "set ", "cd "))]
    assert commands == ["make test"]


def test_readme_sections_come_in_the_first_run_order() -> None:
    order = [
        "Quick start",
        "Using a real key",
        "Library quick start",
        "Architecture",
        "Changing the protocol",
        "Command line",
        "The simulator in your own tests",
        "Benchmarks",
    ]
    positions = [README.index(f"\n## {title}\n") for title in order]
    assert positions == sorted(positions)


@pytest.mark.slow
def test_readme_library_quick_start_runs(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", readme_section("Library quick start"), re.S)
    assert len(blocks) == 1
    script = tmp_path / "quick_start.py"
    script.write_text(blocks[0])
    done = run_python([str(script)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert_in_order(
        done.stdout,
        ["event: AgentAudioBufferAppended", "event: AgentAudioBufferCommitted", "spoke 4.9"],
    )
    assert done.stdout.rstrip().endswith("session stopped: True")


@pytest.mark.slow
def test_make_demo_speaks_the_bundled_sample() -> None:
    # The demo target's command, as `make demo` runs it once set up.
    recipe = subprocess.run(
        ["make", "-n", "--no-print-directory", "demo"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        # Run as a top-level make, even when `make test` is running this test.
        env={k: v for k, v in offline_env().items() if k not in ("MAKEFLAGS", "MAKELEVEL")},
    ).stdout
    # The demo's own command comes last (set-up steps, if due, come first).
    command = recipe.strip().splitlines()[-1]
    assert command.startswith(".venv/bin/heygen-avatar say ")
    argv = command.split()
    argv[0] = str(Path(sys.executable).parent / "heygen-avatar")
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=offline_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "event:" in done.stderr and "progress:" in done.stderr
    assert "outcome          ended" in done.stdout
    assert "session stopped  yes" in done.stdout
