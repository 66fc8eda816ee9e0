"""Sessions with their room: the avatar's media, FULL mode and the media CLI, offline."""

from __future__ import annotations

import asyncio
import json
import math
import os
import socket
import struct
import subprocess
import sys
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from heygen_models import full
from heygen_models import liveavatar as la
from heygen_models import streaming as st
from heygen_models.full import AGENT_IDENTITY_PREFIX, AVATAR_IDENTITY

from heygen_core.errors import AudioFormatError, HeyGenError, MediaError
from heygen_core.media.room import (
    AudioChunk,
    ParticipantEvent,
    VideoFrame,
)
from heygen_core.protocol.codec import UnknownEvent
from heygen_core.realtime.events import ProtocolErrorEvent, SessionEvent
from heygen_core.rest.streaming_client import StreamingClient
from heygen_core.session import SANDBOX_AVATAR_ID, AvatarSession
from heygen_core.simulator import Simulator, SimulatorConfig, SimulatorThread
from heygen_core.simulator.rooms.local_room import LocalRoom

KEY = "sim-key"
RATE = 24_000
SCRIPT = Path(sys.executable).parent / "heygen-avatar"


def tone(
    seconds: float, rate: int = RATE, frequency: float = 330, amplitude: float = 0.4
) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * math.pi * frequency * t) * 32767).astype(np.int16)


def magnitude_near(samples: np.ndarray, rate: int, frequency: float) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    at = round(frequency * samples.size / rate)
    return float(spectrum[max(0, at - 3) : at + 4].max())


async def take_audio(stream: AsyncIterator[AudioChunk], seconds: float) -> np.ndarray:
    chunks: list[np.ndarray] = []
    while sum(c.size for c in chunks) < RATE * seconds:
        chunks.append((await asyncio.wait_for(anext(stream), 5)).samples)
    return np.concatenate(chunks)


def wav_file(path: Path, samples: np.ndarray, rate: int) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return path


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(SimulatorConfig(connect_delay_seconds=0.2)) as simulator:
        yield simulator


async def collect_audio(stream: AsyncIterator[AudioChunk], into: list[AudioChunk]) -> None:
    async for chunk in stream:
        into.append(chunk)


async def collect_video(stream: AsyncIterator[VideoFrame], into: list[float]) -> None:
    async for frame in stream:
        into.append(float(frame.pixels.mean()))


async def collect_users(stream: AsyncIterator[ParticipantEvent]) -> list[tuple[str, str]]:
    return [(event.kind, event.identity) async for event in stream]


async def watch(
    sim: Simulator, session_id: str
) -> tuple[LocalRoom, asyncio.Task[list[tuple[str, str]]]]:
    """Join a session's room beside it; the task collects who joins and leaves until it closes."""
    watcher = LocalRoom()
    await watcher.connect(sim.room_url, sim.room_token(session_id, "watcher"))
    return watcher, asyncio.create_task(collect_users(watcher.user_events()))


def own_room_request_at(url: str, room: str, token: str) -> la.LiteSessionTokenRequest:
    """A sandbox LITE token request that puts the avatar in the caller's room (livekit_config)."""
    return la.LiteSessionTokenRequest(
        mode="LITE",
        avatar_id=SANDBOX_AVATAR_ID,
        is_sandbox=True,
        livekit_config=la.LiveKitConfig(
            livekit_url=url, livekit_room=room, livekit_client_token=token
        ),
    )


def own_room_request(sim: Simulator, room: str) -> la.LiteSessionTokenRequest:
    """`own_room_request_at` the simulator's room `room`, joined as "customer-2"."""
    return own_room_request_at(sim.room_url, room, sim.room_token(room, "customer-2"))


async def test_lite_session_media_follows_the_spoken_audio(sim: Simulator) -> None:
    session = AvatarSession.live_avatar(sandbox=True, api_key=KEY, base_url=sim.url, media=True)
    audio: list[AudioChunk] = []
    levels: list[float] = []
    async with session:
        room = session.media
        tasks = [
            asyncio.create_task(collect_audio(room.avatar_audio(24_000), audio)),
            asyncio.create_task(collect_video(room.avatar_video("RGB24"), levels)),
        ]
        await asyncio.sleep(0.5)  # silence first: the avatar's video is dark
        quiet = len(levels)
        closed = max(levels[:quiet]) + 0.5

        async def speak_until_closed(audio: np.ndarray) -> int:
            result = await session.speak(audio, sample_rate=RATE)
            assert await result.finished() == ("ended",)
            # Then the mouth closes again: frames like the silent ones come back.
            spoken = len(levels)
            for _ in range(100):
                if len(levels) > spoken + 3 and max(levels[-3:]) <= closed:
                    break
                await asyncio.sleep(0.05)
            return len(levels)

        loud_end = await speak_until_closed(tone(1.0))
        soft_end = await speak_until_closed(tone(0.6, amplitude=0.08))
        await asyncio.sleep(0.3)  # the rest of the audio
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    returned = np.concatenate([c.samples for c in audio]) if audio else np.zeros(0, np.int16)
    assert abs(returned.size - 1.6 * RATE) <= RATE * 0.1  # about the 1.6 s of audio spoken
    spectrum = np.abs(np.fft.rfft(returned))
    assert abs(np.argmax(spectrum) * RATE / returned.size - 330) < 5
    assert quiet > 0 and len(levels) > quiet
    loudest = quiet + int(np.argmax(levels[quiet:loud_end]))
    assert levels[loudest] > 2 * max(max(levels[:quiet]), 1.0)  # open while speaking
    assert max(levels[loud_end - 3 : loud_end]) <= closed < levels[loudest]  # closed after
    assert loudest < loud_end - 3
    # Quieter speech opens the mouth, but far less: it follows the level.
    soft = max(levels[loud_end:soft_end])
    assert closed < soft < closed + (levels[loudest] - closed) / 4
    assert max(levels[soft_end - 3 : soft_end]) <= closed


async def test_full_mode_speak_text_answers_with_typed_events(sim: Simulator) -> None:
    session = AvatarSession.live_avatar(mode="FULL", sandbox=True, api_key=KEY, base_url=sim.url)
    seen: list[SessionEvent] = []
    session.on_event(seen.append)
    async with session:
        stream = session.events()
        event_id = await session.speak_text("Hello there")
        kinds: list[str] = []
        while "AvatarSpeakEnded" not in kinds:
            event = await asyncio.wait_for(anext(stream), 10)
            kinds.append(type(event).__name__)
        assert kinds.index("AvatarTranscription") < kinds.index("AvatarSpeakEnded")
        assert "AvatarSpeakStarted" in kinds
        transcription = next(e for e in seen if isinstance(e, full.AvatarTranscription))
        assert transcription.text == "Hello there"
        assert transcription.source_event_id == event_id
        with pytest.raises(HeyGenError, match="FULL session"):
            await session.speak(tone(0.1), sample_rate=RATE)
    assert sim.open_sessions() == 0


async def test_full_mode_speak_response_and_interrupt(sim: Simulator) -> None:
    # The answer, "You said: " and these 20 words, takes 6.6 s to speak.
    question = "What is the weather like " + " ".join(["today"] * 15) + "?"
    session = AvatarSession.live_avatar(mode="FULL", sandbox=True, api_key=KEY, base_url=sim.url)
    loop = asyncio.get_running_loop()
    async with session:
        stream = session.events()
        event_id = await session.speak_response(question)
        texts: list[tuple[str, str]] = []
        while not any(kind == "AvatarSpeakStarted" for kind, _ in texts):
            event = await asyncio.wait_for(anext(stream), 10)
            texts.append((type(event).__name__, str(getattr(event, "text", ""))))
        started = loop.time()
        assert ("UserTranscription", question) in texts
        await session.interrupt()
        while True:
            event = await asyncio.wait_for(anext(stream), 10)
            if isinstance(event, full.AvatarSpeakEnded):
                break
        assert event.source_event_id == event_id
        assert loop.time() - started < 3.0  # cut short, not its natural end at 6.6 s
        await session.start_listening()
        await session.stop_listening()
    # The room was left after the commands went out, so the simulator has them all.
    commands = sim.full_commands_by_type
    assert commands["avatar.speak_response"] == 1 and commands["avatar.interrupt"] == 1
    assert commands["avatar.start_listening"] == 1 and commands["avatar.stop_listening"] == 1


async def test_lite_sessions_refuse_full_commands(sim: Simulator) -> None:
    async with AvatarSession.live_avatar(sandbox=True, api_key=KEY, base_url=sim.url) as session:
        with pytest.raises(HeyGenError, match="FULL-mode command"):
            await session.speak_text("hi")
        with pytest.raises(HeyGenError, match="media=True"):
            _ = session.media


async def test_the_room_is_left_on_every_exit(sim: Simulator) -> None:
    session = AvatarSession.live_avatar(sandbox=True, api_key=KEY, base_url=sim.url, media=True)
    audio: list[AudioChunk] = []
    with pytest.raises(RuntimeError):
        async with session:
            sid = session.session_id
            assert sid is not None
            watcher, seen = await watch(sim, sid)
            (us,) = watcher.users
            assert sim.room_participants(sid) == [AVATAR_IDENTITY, us, "watcher"]
            reader = asyncio.create_task(collect_audio(session.media.avatar_audio(), audio))
            raise RuntimeError("app bug")
    await asyncio.wait_for(reader, 5)  # the iterator ended with the room
    # The stop call closes the room; someone else in it saw us leave before that.
    assert await asyncio.wait_for(seen, 5) == [("joined", us), ("left", us)]
    assert watcher.close_reason is not None and "session ended" in watcher.close_reason
    assert sim.open_sessions() == 0
    await watcher.disconnect()


def test_viewer_url_carries_the_room_and_client_token() -> None:
    # A LiveKit room (the caller's own, by URL only: LITE joins no room); the
    # simulator's local rooms get no link (tests/session/test_first_run.py).
    request = own_room_request_at("wss://example.livekit.cloud", "r", "viewer-token")
    with SimulatorThread(SimulatorConfig(connect_delay_seconds=0.1)) as sim:

        async def main() -> str | None:
            async with AvatarSession.live_avatar(
                api_key=KEY, base_url=sim.url, token_request=request
            ) as session:
                return session.viewer_url

        url = asyncio.run(main())
    assert url is not None
    query = parse_qs(urlparse(url).query)
    assert url.startswith("https://meet.livekit.io/custom?")
    assert query["liveKitUrl"] == ["wss://example.livekit.cloud"]
    assert query["token"] == ["viewer-token"]


@pytest.mark.slow
def test_say_saves_the_avatars_audio_and_frames(tmp_path: Path) -> None:
    speech = wav_file(tmp_path / "in.wav", tone(1.2, 16_000), 16_000)
    out_wav, frames = tmp_path / "avatar.wav", tmp_path / "frames"
    env = {k: v for k, v in os.environ.items() if k != "HEYGEN_LIVE_AVATAR_API_KEY"}
    done = subprocess.run(
        [
            str(SCRIPT),
            "say",
            str(speech),
            "--json",
            "--save-audio",
            str(out_wav),
            "--save-frames",
            str(frames),
            "--frame-rate",
            "4",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    with wave.open(str(out_wav)) as saved:
        assert (saved.getframerate(), saved.getnchannels(), saved.getsampwidth()) == (RATE, 1, 2)
        assert abs(saved.getnframes() / RATE - 1.2) < 0.2
    pngs = sorted(frames.glob("*.png"))
    assert len(pngs) == report["frames_saved"] >= 3
    header = pngs[0].read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    assert width > 0 and height > 0
    assert "watch:" not in done.stderr  # no viewer link for the simulator


@pytest.mark.slow
def test_say_with_a_key_prints_no_viewer_link_for_a_simulator_room(tmp_path: Path) -> None:
    # The simulator's rooms are local: a meet.livekit.io link to one opens
    # nowhere (issue 12, first-run 8), so none is printed, key or not.
    speech = wav_file(tmp_path / "in.wav", tone(0.3), RATE)
    with SimulatorThread(SimulatorConfig(connect_delay_seconds=0.1)) as sim:
        env = {**os.environ, "HEYGEN_LIVE_AVATAR_API_KEY": KEY}
        done = subprocess.run(
            [str(SCRIPT), "say", str(speech), "--api-base", sim.url],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert "watch:" not in done.stderr


@pytest.mark.slow
def test_say_help_warns_that_the_link_carries_a_token() -> None:
    done = subprocess.run(
        [str(SCRIPT), "say", "--help"], capture_output=True, text=True, check=True
    )
    assert "carries the session's LiveKit" in done.stdout


@pytest.mark.slow
def test_chat_full_mode_prints_transcripts() -> None:
    env = {k: v for k, v in os.environ.items() if k != "HEYGEN_LIVE_AVATAR_API_KEY"}
    done = subprocess.run(
        [str(SCRIPT), "chat", "--mode", "full"],
        input="Hello avatar\nHow are you\n\nGoodbye now\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for line in ("Hello avatar", "How are you", "Goodbye now"):  # every line answered
        assert f"you: {line}\n" in done.stdout
        assert f"avatar: You said: {line}\n" in done.stdout


async def test_users_join_publish_and_leave_while_the_avatar_is_filtered_out(
    sim: Simulator,
) -> None:
    session = AvatarSession.live_avatar(sandbox=True, api_key=KEY, base_url=sim.url, media=True)
    async with session:
        bot = session.media
        assert bot.users == ()  # the avatar is in the room, but is no user
        events = bot.user_events()
        sid = session.session_id
        assert sid is not None
        user = LocalRoom()
        await user.connect(sim.room_url, sim.room_token(sid, "alice"))
        joined = await asyncio.wait_for(anext(events), 5)
        assert (joined.kind, joined.identity) == ("joined", "alice")
        assert bot.users == ("alice",)
        heard = bot.user_audio("alice", 16_000)
        started = asyncio.get_running_loop().time()
        await user.publish(tone(0.5, 48_000).astype(np.float32) / 32768, sample_rate=48_000)
        assert asyncio.get_running_loop().time() - started >= 0.49  # played out in real time
        chunks: list[AudioChunk] = []
        while sum(c.duration for c in chunks) < 0.45:
            chunks.append(await asyncio.wait_for(anext(heard), 5))
        assert {c.sample_rate for c in chunks} == {16_000}
        samples = np.concatenate([c.samples for c in chunks])
        peak = np.argmax(np.abs(np.fft.rfft(samples))) * 16_000 / samples.size
        assert abs(peak - 330) < 5  # resampled from 48 kHz, still the same tone
        with pytest.raises(AudioFormatError, match="whole 16-bit samples"):
            await user.publish_audio(b"\x00\x01\x02", 16_000)
        with pytest.raises(AudioFormatError):
            await user.publish(np.array([np.nan, 0.0], np.float32), sample_rate=16_000)
        await user.disconnect()
        left = await asyncio.wait_for(anext(events), 5)
        assert (left.kind, left.identity) == ("left", "alice")
        assert bot.users == ()


async def test_only_the_heygen_participant_is_the_avatar(sim: Simulator) -> None:
    session = AvatarSession.live_avatar(sandbox=True, api_key=KEY, base_url=sim.url, media=True)
    async with session:
        sid = session.session_id
        assert sid is not None
        other = LocalRoom()
        await other.connect(sim.room_url, sim.room_token(sid, "someone-else"))
        avatar = session.media.avatar_audio(RATE)
        theirs = session.media.user_audio("someone-else", RATE)
        # Someone else talks, louder and at another pitch, while the avatar speaks.
        loud = tone(1.2, frequency=900, amplitude=0.8).tobytes()
        talking = asyncio.create_task(other.publish_audio(loud, RATE))
        result = await session.speak(tone(1.0), sample_rate=RATE)
        assert await result.finished() == ("ended",)
        await talking
        voice = await take_audio(avatar, 0.95)
        heard = await take_audio(theirs, 1.15)
        await other.disconnect()
    assert magnitude_near(voice, RATE, 900) < 0.05 * magnitude_near(voice, RATE, 330)
    assert magnitude_near(heard, RATE, 330) < 0.05 * magnitude_near(heard, RATE, 900)


async def test_users_already_in_the_room_are_reported_as_joined(sim: Simulator) -> None:
    # The user's own room (livekit_config): a customer is there before the avatar and us.
    customer = LocalRoom()
    await customer.connect(sim.room_url, sim.room_token("shop-room", "customer"))
    request = own_room_request(sim, "shop-room")
    session = AvatarSession.live_avatar(
        api_key=KEY, base_url=sim.url, token_request=request, media=True
    )
    async with session:
        events = session.media.user_events()
        first = await asyncio.wait_for(anext(events), 5)
        assert (first.kind, first.identity) == ("joined", "customer")
        # A room made to listen before it joins hears of them as it joins.
        helper = LocalRoom()
        early, video = helper.user_events(), helper.avatar_video()
        await helper.connect(sim.room_url, sim.room_token("shop-room", "helper"))
        assert (await asyncio.wait_for(anext(video), 5)).width > 0  # video asked for before
        present = {(await asyncio.wait_for(anext(early), 5)).identity for _ in range(2)}
        assert isinstance(session.media, LocalRoom)
        assert present == {"customer", session.media.identity}
        joined = await asyncio.wait_for(anext(events), 5)
        assert (joined.kind, joined.identity) == ("joined", "helper")
        await helper.disconnect()
        left = await asyncio.wait_for(anext(events), 5)
        assert (left.kind, left.identity) == ("left", "helper")
    await customer.disconnect()


async def test_lite_media_joins_as_the_agent_or_as_the_client(sim: Simulator) -> None:
    for role in ("agent", "client"):
        session = AvatarSession.live_avatar(
            sandbox=True, api_key=KEY, base_url=sim.url, media=True, media_role=role
        )
        async with session:
            room = session.media
            assert isinstance(room, LocalRoom) and room.identity is not None
            assert room.identity.startswith("agent-" if role == "agent" else "user-")
    with pytest.raises(ValueError, match="media_role"):
        AvatarSession.live_avatar(sandbox=True, api_key=KEY, media_role="bot")  # type: ignore[arg-type]


async def test_data_packets_reach_the_others_by_topic(sim: Simulator) -> None:
    session = AvatarSession.live_avatar(sandbox=True, api_key=KEY, base_url=sim.url, media=True)
    async with session:
        sid = session.session_id
        assert sid is not None
        user = LocalRoom()
        await user.connect(sim.room_url, sim.room_token(sid, "bob"))
        chat = session.media.data("chat")
        await user.send_data(b"other topic", "noise")
        await user.send_data(b"hello", "chat")
        message = await asyncio.wait_for(anext(chat), 5)
        assert (message.payload, message.topic, message.sender) == (b"hello", "chat", "bob")
        await user.disconnect()


async def test_bring_your_own_room_with_livekit_config(sim: Simulator) -> None:
    # The avatar joins the user's own room (livekit_config); the app is there already.
    viewer = LocalRoom()
    await viewer.connect(sim.room_url, sim.room_token("support-room", "customer"))
    assert not viewer.avatar_present
    request = own_room_request(sim, "support-room")
    heard = viewer.avatar_audio(24_000)
    session = AvatarSession.live_avatar(api_key=KEY, base_url=sim.url, token_request=request)
    async with session:
        assert session.session_id is not None
        assert sim.session_room(session.session_id) == "support-room"
        assert viewer.avatar_present
        result = await session.speak(tone(0.5), sample_rate=RATE)
        assert await result.finished() == ("ended",)
        received = 0
        while received < RATE * 0.45:
            received += (await asyncio.wait_for(anext(heard), 5)).samples.size
    await viewer.disconnect()
    assert sim.open_sessions() == 0


async def test_streaming_api_session_media_follows_the_audio(sim: Simulator) -> None:
    session = AvatarSession.interactive_avatar(
        avatar_id="Wayne_20240711", api_key=KEY, base_url=sim.url, media=True
    )
    async with session:
        heard = session.media.avatar_audio(16_000)
        result = await session.speak(tone(0.6), sample_rate=RATE)
        assert await result.finished() == ("ended",)
        total = 0
        while total < 16_000 * 0.55:
            chunk = await asyncio.wait_for(anext(heard), 5)
            assert chunk.sample_rate == 16_000
            total += chunk.samples.size
    assert sim.open_sessions() == 0


async def test_full_session_stopped_by_the_service_reports_its_reason() -> None:
    config = SimulatorConfig(connect_delay_seconds=0.1, sandbox_session_seconds=0.8)
    async with Simulator(config) as simulator:
        session = AvatarSession.live_avatar(
            mode="FULL", sandbox=True, api_key=KEY, base_url=simulator.url
        )
        async with session:
            seen = [event async for event in session.events()]  # ends with the room
        stopped = [e for e in seen if isinstance(e, full.SessionStopped)]
        assert len(stopped) == 1
        assert stopped[0].end_reason == full.SessionEndReason("MAX_DURATION_REACHED")


async def test_push_to_talk_only_in_push_to_talk_sessions(sim: Simulator) -> None:
    async def ptt_events(interactivity: str) -> list[str]:
        request = la.FullSessionTokenRequest(
            mode="FULL",
            avatar_id=SANDBOX_AVATAR_ID,
            is_sandbox=True,
            interactivity_type=interactivity,  # type: ignore[arg-type]
        )
        session = AvatarSession.live_avatar(api_key=KEY, base_url=sim.url, token_request=request)
        async with session:
            stream = session.events()
            await session.start_push_to_talk()
            await session.stop_push_to_talk()
            return [type(await asyncio.wait_for(anext(stream), 5)).__name__ for _ in range(2)]

    assert await ptt_events("PUSH_TO_TALK") == ["UserPushToTalkStarted", "UserPushToTalkStopped"]
    assert await ptt_events("CONVERSATIONAL") == [
        "UserPushToTalkStartFailed",
        "UserPushToTalkStopFailed",
    ]
    assert sim.full_commands_by_type["user.start_push_to_talk"] == 2


async def test_unknown_and_malformed_full_events_are_surfaced(sim: Simulator) -> None:
    session = AvatarSession.live_avatar(mode="FULL", sandbox=True, api_key=KEY, base_url=sim.url)
    async with session:
        sid = session.session_id
        assert sid is not None
        stream = session.events()
        raw = session.media.data("agent-response")
        # Another participant cannot speak for the avatar: what it publishes
        # on the response topic (a forged event, a broken packet) is ignored.
        other = LocalRoom()
        await other.connect(sim.room_url, sim.room_token(sid, "mallory"))
        forged = b'{"event_type": "avatar.speak_ended", "event_id": "x", "session_id": "s"}'
        await other.send_data(forged, "agent-response")
        await other.send_data(b"{not json either", "agent-response")
        await other.send_data(b'{"event_type": "avatar.dance"}', "agent-control")
        for _ in range(2):  # they reached our room, ahead of what follows
            assert (await asyncio.wait_for(anext(raw), 5)).sender == "mallory"
        # The avatar itself stands in for a service that evolved: a new event
        # type, then a broken packet.
        sim.send_agent_event(sid, b'{"event_type": "avatar.new_thing", "x": 1}')
        sim.send_agent_event(sid, b"{not json")
        first = await asyncio.wait_for(anext(stream), 5)
        second = await asyncio.wait_for(anext(stream), 5)
        assert isinstance(first, UnknownEvent) and first.tag == "avatar.new_thing"
        assert isinstance(second, ProtocolErrorEvent) and second.excerpt == "{not json"
        await session.speak_text("still alive")
        kinds = {type(await asyncio.wait_for(anext(stream), 5)).__name__ for _ in range(2)}
        assert "AvatarSpeakStarted" in kinds
        assert sim.invalid_full_commands == 1
        await other.disconnect()


async def test_joining_fails_clearly_and_never_shows_the_token(sim: Simulator) -> None:
    canary = "canary-token-3f9a1c"
    with pytest.raises(MediaError, match="refused") as refused:
        await LocalRoom().connect(sim.room_url, canary)
    assert canary not in str(refused.value)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(MediaError, match="is the simulator running") as unreachable:
        await LocalRoom().connect(f"heygen-sim://127.0.0.1:{closed_port}", canary)
    assert canary not in str(unreachable.value)
    with pytest.raises(MediaError, match="not a simulator room URL"):
        await LocalRoom().connect("https://example.invalid", canary)


async def test_iterators_of_a_room_that_could_not_join_end(sim: Simulator) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    for url, token in (
        (sim.room_url, "not-a-room-token"),  # refused
        (f"heygen-sim://127.0.0.1:{closed_port}", "t"),  # unreachable
    ):
        room = LocalRoom()
        iterators = [room.user_events(), room.data(), room.avatar_audio(), room.avatar_video()]
        with pytest.raises(MediaError):
            await room.connect(url, token)
        for iterator in iterators:
            assert await asyncio.wait_for(anext(iterator, None), 2) is None
        with pytest.raises(MediaError, match="already used"):
            await room.connect(url, token)


async def test_a_failed_room_join_still_stops_the_session(sim: Simulator) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    # The user's own room, on a server that is not there.
    request = own_room_request_at(f"heygen-sim://127.0.0.1:{closed_port}", "r", "t")
    session = AvatarSession.live_avatar(
        api_key=KEY, base_url=sim.url, token_request=request, media=True
    )
    with pytest.raises(MediaError):
        async with session:
            pass
    assert session.stopped_cleanly and sim.open_sessions() == 0


async def test_cancelling_a_media_session_leaves_the_room_and_stops_it(sim: Simulator) -> None:
    entered = asyncio.Event()
    sid: list[str] = []

    async def app() -> None:
        session = AvatarSession.live_avatar(
            mode="FULL", sandbox=True, api_key=KEY, base_url=sim.url
        )
        async with session:
            assert session.session_id is not None
            sid.append(session.session_id)
            entered.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(app())
    await asyncio.wait_for(entered.wait(), 10)
    watcher, seen = await watch(sim, sid[0])
    agent = AGENT_IDENTITY_PREFIX + sid[0]  # a FULL room holds the service's agent too
    (us,) = [user for user in watcher.users if user != agent]
    assert sim.room_participants(sid[0]) == [AVATAR_IDENTITY, agent, us, "watcher"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sim.open_sessions() == 0
    # Someone else in the room saw us leave before the stop call closed it.
    ours = [change for change in await asyncio.wait_for(seen, 5) if change[1] != agent]
    assert ours == [("joined", us), ("left", us)]
    assert sim.room_participants(sid[0]) == []
    await watcher.disconnect()


async def test_streaming_tasks_are_spoken_in_the_room(sim: Simulator) -> None:
    session = AvatarSession.interactive_avatar(
        avatar_id="Wayne_20240711", api_key=KEY, base_url=sim.url, media=True
    )
    async with session:
        assert session.session_id is not None
        heard = session.media.avatar_audio(24_000)
        client = StreamingClient(KEY, base_url=sim.url)
        async with client:
            task = await client.send_task(
                st.TaskRequest(
                    session_id=session.session_id, text="Hello there, welcome.", task_type="repeat"
                )
            )
        spoken = task.data.duration_ms / 1000
        total = 0
        while total < RATE * spoken * 0.9:
            total += (await asyncio.wait_for(anext(heard), 5)).samples.size
