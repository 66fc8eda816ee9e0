"""``heygen-avatar say``: its inputs and output paths are checked before a session exists.

Run in-process (the CLI's own `main`) against a simulator thread on
loopback; the simulator's request counters show whether a session was asked for.
"""

from __future__ import annotations

import json
import math
import struct
import tempfile
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from heygen_core.cli._exit_codes import LIVEAVATAR_KEY_ENV
from heygen_core.cli.main import main
from heygen_core.simulator import SimulatorConfig, SimulatorThread

KEY = "say-test-key"
RATE = 24_000


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SimulatorThread]:
    monkeypatch.setenv(LIVEAVATAR_KEY_ENV, KEY)
    monkeypatch.setenv("HEYGEN_CORE_STATE_DIR", str(tmp_path / "state"))
    with SimulatorThread(SimulatorConfig(api_key=KEY, connect_delay_seconds=0.05)) as simulator:
        yield simulator


def speech(path: Path, seconds: float = 0.3) -> Path:
    count = int(RATE * seconds)
    samples = (int(8000 * math.sin(2 * math.pi * 220 * i / RATE)) for i in range(count))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(struct.pack(f"<{count}h", *samples))
    return path


def say(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    code = main(["say", *args, "--api-base", sim.url])
    out, err = capsys.readouterr()
    return code, out, err


def no_session_was_asked_for(sim: SimulatorThread) -> bool:
    return sim.requests_by_operation["create_session_token"] == 0


def test_save_audio_into_a_missing_folder_is_refused_before_any_session(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "missing" / "dir" / "a.wav"
    code, _, err = say(sim, capsys, str(speech(tmp_path / "in.wav")), "--save-audio", str(target))
    assert code == 2, err
    assert f"--save-audio {target}: the folder {target.parent} does not exist" in err
    assert "Traceback" not in err and "Wave_write" not in err
    assert no_session_was_asked_for(sim)


def test_save_audio_naming_a_folder_is_refused_before_any_session(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = say(sim, capsys, str(speech(tmp_path / "in.wav")), "--save-audio", str(tmp_path))
    assert code == 2, err
    assert "is a directory" in err
    assert no_session_was_asked_for(sim)


def test_save_frames_naming_a_file_is_refused_before_any_session(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a_file = tmp_path / "frames.txt"
    a_file.write_text("not a folder")
    code, out, err = say(
        sim, capsys, str(speech(tmp_path / "in.wav")), "--save-frames", str(a_file)
    )
    assert code == 2, err
    assert f"--save-frames {a_file} is not a folder" in err
    assert "frames saved" not in out
    assert no_session_was_asked_for(sim)


def test_save_frames_under_a_file_is_refused_before_any_session(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a_file = tmp_path / "frames.txt"
    a_file.write_text("not a folder")
    code, _, err = say(
        sim, capsys, str(speech(tmp_path / "in.wav")), "--save-frames", str(a_file / "sub")
    )
    assert code == 2, err
    assert "cannot create the folder" in err
    assert no_session_was_asked_for(sim)


def test_a_wav_file_without_frames_is_refused_before_any_session(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.wav"
    with wave.open(str(empty), "wb") as out:  # a valid header, 0 frames
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
    code, out_text, err = say(sim, capsys, str(empty), "--json")
    assert code == 1, err
    assert "AudioFormatError" in err
    assert out_text == ""  # no report: nothing was spoken
    assert no_session_was_asked_for(sim)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_failed_write_of_the_avatars_audio_is_reported_and_the_audio_kept(
    sim: SimulatorThread,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # /dev/full passes every check (it exists and is writable) and then
    # fails the write with ENOSPC, as a full disk does after speaking.
    spare_dir = tmp_path / "spare"
    spare_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spare_dir))
    code, out, err = say(
        sim, capsys, str(speech(tmp_path / "in.wav", 0.6)), "--json", "--save-audio", "/dev/full"
    )
    assert code == 1, err
    assert "Traceback" not in err and "Wave_write" not in err
    report = json.loads(out.splitlines()[-1])  # the report is not lost either
    assert report["outcome"] == "ended" and report["session_stopped"] is True
    assert "could not save the avatar's audio to /dev/full" in err
    (spare,) = spare_dir.glob("heygen-avatar-*.wav")
    assert f"saved to {spare} instead" in err
    with wave.open(str(spare)) as saved:
        assert (saved.getframerate(), saved.getnchannels()) == (RATE, 1)
        assert abs(saved.getnframes() / RATE - report["avatar_audio_seconds"]) < 0.01
        assert saved.getnframes() > 0


def test_say_against_a_simulator_prints_no_viewer_link(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The simulator's rooms are local: a meet.livekit.io link to them opens nowhere.
    code, _, err = say(sim, capsys, str(speech(tmp_path / "in.wav")))
    assert code == 0, err
    assert "watch:" not in err
    assert "meet.livekit.io" not in err


@pytest.mark.parametrize(
    ("room", "local"),
    [
        ("wss://example.livekit.cloud", False),
        ("https://rooms.example.com", False),
        ("ws://127.0.0.1:7880", True),
        ("ws://localhost:7880", True),
        ("heygen-sim://127.0.0.1:8765/rooms", True),
    ],
)
def test_only_rooms_a_browser_elsewhere_can_join_get_a_viewer_link(room: str, local: bool) -> None:
    from urllib.parse import urlencode

    from heygen_core.cli._say import _local_room

    link = "https://meet.livekit.io/custom?" + urlencode({"liveKitUrl": room, "token": "t"})
    assert _local_room(link) is local
