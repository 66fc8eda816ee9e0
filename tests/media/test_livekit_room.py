"""LiveKitRoom: the SDK pieces that need no server, offline; real rooms when configured."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pytest
from heygen_models.full import AVATAR_IDENTITY
from livekit import rtc

from heygen_core.errors import AudioFormatError, MediaError
from heygen_core.media.livekit import LiveKitRoom, audio_chunk, is_user, video_frame
from heygen_core.media.room import ParticipantEvent

CANARY = "canary-jwt-7d1e2f"
LIVEKIT_ENV = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")
needs_livekit = pytest.mark.skipif(
    not all(os.environ.get(name) for name in LIVEKIT_ENV),
    reason="needs a LiveKit server: set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET",
)


def tone(frequency: float, rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * frequency * t) * 32767).astype(np.int16)


def peak_hz(samples: np.ndarray, rate: int) -> float:
    return float(np.argmax(np.abs(np.fft.rfft(samples))) * rate / samples.size)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_sdk_resampler_keeps_the_pitch() -> None:
    resampler = rtc.AudioResampler(48_000, 24_000, num_channels=1)
    samples = tone(440, 48_000, 0.2)
    frames = resampler.push(rtc.AudioFrame(samples.tobytes(), 48_000, 1, samples.size))
    frames += resampler.flush()
    out = np.concatenate([audio_chunk(f, 0.0).samples for f in frames])
    assert abs(out.size - samples.size // 2) <= 48
    assert abs(peak_hz(out, 24_000) - 440) < 10


def test_audio_frames_become_chunks_and_refuse_stereo() -> None:
    samples = np.arange(-240, 240, dtype=np.int16)
    chunk = audio_chunk(rtc.AudioFrame(samples.tobytes(), 48_000, 1, samples.size), 1.5)
    assert np.array_equal(chunk.samples, samples)
    assert (chunk.sample_rate, chunk.timestamp, chunk.duration) == (48_000, 1.5, 0.01)
    stereo = rtc.AudioFrame(bytes(960 * 2), 48_000, 2, 480)
    with pytest.raises(AudioFormatError, match="mono"):
        audio_chunk(stereo, 0.0)


async def test_an_audio_source_takes_frames_in_real_time() -> None:
    source = rtc.AudioSource(24_000, 1, queue_size_ms=100)
    frame = rtc.AudioFrame(tone(300, 24_000, 0.01).tobytes(), 24_000, 1, 240)
    started = time.monotonic()
    for _ in range(30):  # 300 ms of audio through a 100 ms queue
        await source.capture_frame(frame)
    assert time.monotonic() - started >= 0.15
    await source.aclose()


@pytest.mark.parametrize("layout", ["RGBA", "BGRA", "ARGB", "ABGR"])
@pytest.mark.parametrize("format", ["RGB24", "RGBA"])
def test_packed_frames_convert_to_either_format(layout: str, format: str) -> None:
    rgba = (10, 20, 30, 255)
    order = {"RGBA": "RGBA", "BGRA": "BGRA", "ARGB": "ARGB", "ABGR": "ABGR"}[layout]
    pixel = bytes(rgba["RGBA".index(c)] for c in order)
    frame = rtc.VideoFrame(3, 2, getattr(rtc.VideoBufferType, layout), pixel * 6)
    out = video_frame(frame, format, 0.25)  # type: ignore[arg-type]
    channels = 3 if format == "RGB24" else 4
    assert out.pixels.shape == (2, 3, channels) and out.timestamp == 0.25
    assert out.pixels[1, 2].tolist() == list(rgba[:channels])


@pytest.mark.parametrize("format", ["RGB24", "RGBA"])
def test_yuv_frames_convert_through_the_sdk(format: str) -> None:
    # A mid-grey I420 frame: Y=128, U=V=128.
    frame = rtc.VideoFrame(4, 4, rtc.VideoBufferType.I420, bytes([128] * 24))
    out = video_frame(frame, format, 0.0)  # type: ignore[arg-type]
    assert out.pixels.shape[:2] == (4, 4)
    assert abs(int(out.pixels[..., :3].mean()) - 128) < 12


def test_the_avatar_and_ourselves_are_not_users() -> None:
    assert not is_user(AVATAR_IDENTITY, "bot")
    assert not is_user("bot", "bot")
    assert is_user("alice", "bot")


async def test_a_refused_connection_is_a_clear_error_without_the_token() -> None:
    room = LiveKitRoom(connect_timeout=10)
    started = time.monotonic()
    with pytest.raises(MediaError, match="could not join the LiveKit room") as refused:
        await room.connect(f"ws://127.0.0.1:{closed_port()}", CANARY)
    assert time.monotonic() - started < 10
    assert CANARY not in str(refused.value) and CANARY not in repr(room)
    with pytest.raises(MediaError, match="not joined"):
        await room.send_data(b"x", "t")
    with pytest.raises(MediaError, match="already used"):
        await room.connect("ws://127.0.0.1:1", CANARY)
    await room.disconnect()


async def test_iterators_end_when_joining_fails() -> None:
    room = LiveKitRoom(connect_timeout=10)
    iterators = [room.user_events(), room.data(), room.avatar_audio(), room.avatar_video()]
    with pytest.raises(MediaError):
        await room.connect(f"ws://127.0.0.1:{closed_port()}", CANARY)
    for iterator in iterators:
        assert await asyncio.wait_for(anext(iterator, None), 2) is None


# -- the SDK's room, faked: what LiveKitRoom makes of its participants and tracks ----------


@dataclass
class FakeTrack:
    sid: str
    kind: int


@dataclass
class FakePublication:
    track: FakeTrack | None


@dataclass
class FakeParticipant:
    identity: str
    tracks: list[FakeTrack] = field(default_factory=list)

    @property
    def track_publications(self) -> dict[str, FakePublication]:
        return {t.sid: FakePublication(t) for t in self.tracks}


@dataclass
class FakeLocalParticipant:
    identity: str
    published: list[object] = field(default_factory=list)

    async def publish_track(self, track: object, options: object) -> None:
        self.published.append(track)


class FakeSdkRoom:
    """Stands in for `rtc.Room` (the third-party SDK): its state, and its events fired by hand."""

    def __init__(self, *participants: FakeParticipant) -> None:
        self.remote_participants = {p.identity: p for p in participants}
        self.local_participant = FakeLocalParticipant("bot")
        self.handlers: dict[str, Callable[..., Any]] = {}

    def on(self, event: str, callback: Callable[..., Any]) -> None:
        self.handlers[event] = callback

    async def connect(self, url: str, token: str, options: object) -> None:
        pass

    async def disconnect(self) -> None:
        self.handlers["disconnected"]("CLIENT_INITIATED")

    def join(self, participant: FakeParticipant) -> None:
        self.remote_participants[participant.identity] = participant
        self.handlers["participant_connected"](participant)

    def leave(self, identity: str) -> None:
        self.handlers["participant_disconnected"](self.remote_participants.pop(identity))

    def subscribe(self, identity: str, track: FakeTrack) -> None:
        participant = self.remote_participants[identity]
        participant.tracks.append(track)
        self.handlers["track_subscribed"](track, FakePublication(track), participant)


AUDIO = rtc.TrackKind.KIND_AUDIO
VIDEO = rtc.TrackKind.KIND_VIDEO


async def joined_room(sdk: FakeSdkRoom) -> LiveKitRoom:
    room = LiveKitRoom(room=cast(rtc.Room, sdk))
    await room.connect("wss://livekit.invalid", CANARY)
    return room


async def test_only_heygen_is_the_avatar_and_never_a_user() -> None:
    sdk = FakeSdkRoom(
        FakeParticipant(AVATAR_IDENTITY, [FakeTrack("TA1", AUDIO), FakeTrack("TV1", VIDEO)]),
        FakeParticipant("impostor", [FakeTrack("TI1", AUDIO)]),
    )
    room = await joined_room(sdk)
    assert room.users == ("impostor",)
    events = room.user_events()
    sdk.join(sdk.remote_participants[AVATAR_IDENTITY])  # the avatar (re)joining is no user
    sdk.join(FakeParticipant("alice"))
    sdk.leave("impostor")
    got = [await asyncio.wait_for(anext(events), 5) for _ in range(3)]
    assert got == [
        ParticipantEvent("joined", "impostor"),  # already there: reported first
        ParticipantEvent("joined", "alice"),
        ParticipantEvent("left", "impostor"),
    ]
    tracks = room._track_events(AVATAR_IDENTITY, AUDIO)
    assert (await asyncio.wait_for(anext(tracks), 5)).sid == "TA1"  # subscribed before
    sdk.subscribe("alice", FakeTrack("TX2", AUDIO))
    sdk.subscribe(AVATAR_IDENTITY, FakeTrack("TV2", VIDEO))
    sdk.subscribe(AVATAR_IDENTITY, FakeTrack("TA2", AUDIO))
    assert (await asyncio.wait_for(anext(tracks), 5)).sid == "TA2"
    await room.disconnect()
    assert await asyncio.wait_for(anext(tracks, None), 5) is None


async def test_users_present_when_joining_reach_iterators_made_before() -> None:
    sdk = FakeSdkRoom(FakeParticipant(AVATAR_IDENTITY), FakeParticipant("alice"))
    room = LiveKitRoom(room=cast(rtc.Room, sdk))
    early = room.user_events()
    await room.connect("wss://livekit.invalid", CANARY)
    late = room.user_events()
    for events in (early, late):
        first = await asyncio.wait_for(anext(events), 5)
        assert first == ParticipantEvent("joined", "alice")
    sdk.join(FakeParticipant("bob"))
    for events in (early, late):
        assert await asyncio.wait_for(anext(events), 5) == ParticipantEvent("joined", "bob")
    await room.disconnect()


async def test_participants_include_the_avatar_and_waiting_ends_when_all_have_joined() -> None:
    agent = "liveavatar-agent-s1"
    sdk = FakeSdkRoom(FakeParticipant("alice"))
    room = LiveKitRoom(room=cast(rtc.Room, sdk))
    # Waiting may start before joining: those already there count once joined.
    waiting = asyncio.create_task(room.wait_for_participants([AVATAR_IDENTITY, agent], 10))
    await room.connect("wss://livekit.invalid", CANARY)
    assert room.participants == ("alice",) and room.users == ("alice",)
    sdk.join(FakeParticipant(AVATAR_IDENTITY))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # the agent is still missing
    assert room.participants == ("alice", AVATAR_IDENTITY)
    assert room.users == ("alice",)  # the avatar is a participant, never a user
    sdk.join(FakeParticipant(agent))
    assert await asyncio.wait_for(waiting, 5) == ()
    assert await room.wait_for_participants([AVATAR_IDENTITY], 0.01) == ()  # here: at once
    await room.disconnect()


async def test_waiting_for_participants_names_the_missing_ones() -> None:
    sdk = FakeSdkRoom(FakeParticipant(AVATAR_IDENTITY))
    room = await joined_room(sdk)
    started = time.monotonic()
    missing = await room.wait_for_participants([AVATAR_IDENTITY, "agent", "other"], 0.3)
    assert missing == ("agent", "other")
    assert 0.25 <= time.monotonic() - started < 3
    sdk.leave(AVATAR_IDENTITY)  # someone leaving counts too
    assert await room.wait_for_participants([AVATAR_IDENTITY], 0.05) == (AVATAR_IDENTITY,)
    # Leaving the room ends a wait at once, with who was still missing.
    waiting = asyncio.create_task(room.wait_for_participants(["agent"], 30))
    await asyncio.sleep(0.05)
    await room.disconnect()
    assert await asyncio.wait_for(waiting, 2) == ("agent",)
    assert room.participants == ()


async def test_publishing_returns_once_the_audio_has_played_out() -> None:
    sdk = FakeSdkRoom(FakeParticipant(AVATAR_IDENTITY))
    room = await joined_room(sdk)
    started = time.monotonic()
    # 0.6 s fits in the SDK's 1 s queue: only waiting for playout takes that long.
    await room.publish_audio(tone(300, 24_000, 0.6).tobytes(), 24_000)
    assert time.monotonic() - started >= 0.5
    assert len(sdk.local_participant.published) == 1
    await room.disconnect()


async def test_bad_audio_is_refused_before_any_room_is_needed() -> None:
    room = LiveKitRoom()
    with pytest.raises(AudioFormatError, match="16-bit"):
        await room.publish_audio(b"\x00\x01\x02", 16_000)
    with pytest.raises(AudioFormatError, match="positive"):
        await room.publish_audio(b"\x00\x01", 0)


# -- real rooms ---------------------------------------------------------------------------


def token(identity: str, room: str) -> str:
    from livekit import api

    grants = api.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True)
    return (
        api.AccessToken(os.environ["LIVEKIT_API_KEY"], os.environ["LIVEKIT_API_SECRET"])
        .with_identity(identity)
        .with_grants(grants)
        .to_jwt()
    )


async def join(identity: str, room: str) -> LiveKitRoom:
    joined = LiveKitRoom()
    await joined.connect(os.environ["LIVEKIT_URL"], token(identity, room))
    return joined


@needs_livekit
async def test_real_room_data_users_and_audio() -> None:
    name = f"heygen-core-test-{os.getpid()}"
    bot = await join("bot", name)
    try:
        events = bot.user_events()
        chat = bot.data("chat")
        alice = await join("alice", name)
        joined = await asyncio.wait_for(anext(events), 10)
        assert (joined.kind, joined.identity) == ("joined", "alice")
        heard = bot.user_audio("alice", 16_000)
        await alice.send_data(b"hello", "chat")
        message = await asyncio.wait_for(anext(chat), 10)
        assert (message.payload, message.sender) == (b"hello", "alice")
        await alice.publish_audio(tone(330, 24_000, 1.0).tobytes(), 24_000)
        chunks = [await asyncio.wait_for(anext(heard), 10) for _ in range(80)]
        assert {c.sample_rate for c in chunks} == {16_000}  # resampled as asked
        got = np.concatenate([c.samples for c in chunks])
        assert got.size >= 16_000 * 0.7
        assert abs(peak_hz(got, 16_000) - 330) < 10  # and still the same tone
        await alice.disconnect()
        left = await asyncio.wait_for(anext(events), 10)
        assert (left.kind, left.identity) == ("left", "alice")
    finally:
        await bot.disconnect()


@needs_livekit
async def test_real_room_avatar_audio_is_only_the_heygen_participant() -> None:
    name = f"heygen-core-avatar-{os.getpid()}"
    bot = await join("bot", name)
    try:
        heard = bot.avatar_audio(24_000)
        impostor = await join("someone-else", name)
        avatar = await join(AVATAR_IDENTITY, name)
        impostor_task = asyncio.create_task(
            impostor.publish_audio(tone(900, 24_000, 1.0).tobytes(), 24_000)
        )
        await avatar.publish_audio(tone(300, 24_000, 1.0).tobytes(), 24_000)
        await impostor_task
        chunks = [await asyncio.wait_for(anext(heard), 10) for _ in range(40)]
        samples = np.concatenate([c.samples for c in chunks])
        assert abs(peak_hz(samples, 24_000) - 300) < 20
        await avatar.disconnect()
        await impostor.disconnect()
    finally:
        await bot.disconnect()
