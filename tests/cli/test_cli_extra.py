"""Without the ``cli`` extra (rich), every command says which extra to install, in one line."""

from __future__ import annotations

import io
import json
import sys

import pytest

from heygen_core.cli.main import main


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["decode", "--protocol", "lite", "--direction", "server"],
        ["say", "speech.wav"],
        ["simulator", "--port", "0"],
    ],
    ids=lambda argv: argv[0],
)
def test_without_rich_every_command_names_the_cli_extra(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # None in sys.modules makes `import rich` raise ModuleNotFoundError, as
    # in an install without the extra.
    monkeypatch.setitem(sys.modules, "rich", None)
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("heygen-avatar: MissingExtraError: ")
    assert "pip install 'heygen-core[cli]'" in err


def test_with_rich_the_same_command_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    line = '{"type": "agent.speak_started", "event_id": "e1"}\n'
    monkeypatch.setattr(sys, "stdin", io.StringIO(line))
    assert main(["decode", "--protocol", "lite", "--direction", "server"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert json.loads(out)["class"] == "AgentSpeakStarted"
