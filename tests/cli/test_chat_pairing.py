"""Piped ``heygen-avatar chat``: each line waits for its answer, so questions and answers pair."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from heygen_core.cli._exit_codes import LIVEAVATAR_KEY_ENV
from heygen_core.simulator import SimulatorConfig, SimulatorThread

KEY = "chat-test-key"
SCRIPT = Path(sys.executable).parent / "heygen-avatar"


@pytest.mark.slow
def test_piped_lines_are_answered_one_at_a_time(tmp_path: Path) -> None:
    questions = ["first question", "second question", "third question"]
    with SimulatorThread(SimulatorConfig(api_key=KEY, connect_delay_seconds=0.05)) as sim:
        done = subprocess.run(
            [str(SCRIPT), "chat", "--mode", "full", "--api-base", sim.url],
            input="".join(f"{line}\n" for line in questions),
            capture_output=True,
            text=True,
            env={
                **os.environ,
                LIVEAVATAR_KEY_ENV: KEY,
                "HEYGEN_CORE_STATE_DIR": str(tmp_path / "state"),
            },
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        (session,) = list(sim.state.liveavatar_sessions())
        said = [(entry.role, entry.transcript) for entry in session.transcript]

    # What the user read: each answer right under its question.
    transcript = [
        line for line in done.stdout.splitlines() if line.startswith(("you: ", "avatar: "))
    ]
    expected: list[str] = []
    for line in questions:
        expected += [f"you: {line}", f"avatar: You said: {line}"]
    assert transcript == expected

    # What the service heard: the next line was sent only after the answer
    # to the one before (its user transcription comes when it arrives).
    assert said == [
        (role, text)
        for line in questions
        for role, text in (("user", line), ("avatar", f"You said: {line}"))
    ]
