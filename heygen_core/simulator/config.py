"""The simulator's limits and behaviour switches, all in one frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal, TypeAlias, get_args

from heygen_models.streaming import NewSessionRequest

SpeechProfile: TypeAlias = Literal["live", "documented", "chunked"]
"""How the simulated LITE service reports speech (docs/protocol.md §3 and §7).

- ``live``: what live sessions send: ``agent.state_updated`` (idle, listening,
  talking) and ``agent.audio_buffer_appended`` per chunk, ``_committed``
  after ``agent.speak_end``, ``_cleared`` after ``agent.interrupt``; no
  ``agent.speak_started`` / ``_ended``.
- ``documented``: what the vendor's event page describes: one
  ``agent.speak_started`` and one ``agent.speak_ended`` per utterance
  (``agent.state_updated`` as well).
- ``chunked``: what another client reported: ``agent.speak_started`` and
  ``agent.speak_ended`` for every ~20 ms of audio played.
"""

SPEECH_PROFILES: tuple[SpeechProfile, ...] = get_args(SpeechProfile)
"""Every `SpeechProfile`, in the order the CLI lists them."""

# As the service behaves, not as its docs say (docs/protocol.md §7): a client
# tested against the documented events alone would hang on the live service.
DEFAULT_PROFILE: SpeechProfile = "live"

# On/off behaviour switches (every other field but the codes is a number).
_SWITCHES = frozenset({"realtime_alpha_ready_gate", "stall_pongs"})
# Fields that are neither numbers nor switches.
_OTHER = frozenset({"api_key", "profile"})
# The Streaming API's default `activity_idle_timeout` (120 s, docs/protocol.md
# §2), read from the schema so the two cannot drift apart.
_STREAMING_IDLE_DEFAULT = float(NewSessionRequest.model_fields["activity_idle_timeout"].default)


@dataclass(frozen=True)
class SimulatorConfig:
    """Every limit of the simulated services; the defaults are the real ones.

    Tests shrink the durations (``sandbox_session_seconds=0.3``) to see the
    reaper act within a second.

    Attributes:
        api_key: The only API key accepted (for both APIs). None accepts any
            non-empty key, each distinct key being its own account. Never
            shown in a ``repr``.
        sandbox_session_seconds: How long a LiveAvatar sandbox session lasts
            after ``start`` (about a minute on the real service).
        default_max_session_duration: Seconds a LiveAvatar session may last
            (the account tier's limit, returned by ``start``); a token request
            may ask for less, not more.
        streaming_session_duration_limit: Seconds a Streaming session may
            last once started (600 is what unpaid accounts see).
        idle_timeout_seconds: Seconds without activity before a LiveAvatar
            session ends (5 minutes on the real service).
        streaming_idle_timeout_seconds: Seconds without activity before a
            Streaming session that did not set ``activity_idle_timeout`` (or
            sent it as null) ends: the vendor's default, 120.
        max_concurrent_sessions: Open sessions allowed per API key and API
            (a session is open from token issue or ``streaming.new`` until it
            stops).
        rate_limit_per_second: Requests allowed per caller per endpoint in
            each 1-second window (caller: API key, else session token, else IP).
        reaper_interval_seconds: How often expired sessions are ended.
        connect_delay_seconds: Seconds between a realtime WebSocket opening
            (``session.state_updated: connecting``) and the service reporting
            ``connected``; commands received in between are silently dropped,
            as the LITE service does. About a second is what clients see.
        realtime_alpha_ready_gate: Whether the Realtime alpha endpoint also
            drops commands received before ``connected``. Off by default:
            the drop is documented for LITE only, and the alpha dialect has
            no ``connected`` event a client could wait for. LITE-dialect
            clients on that endpoint get the states either way.
        liveavatar_success_code: ``code`` of LiveAvatar success envelopes. The
            official web SDK accepts only 1000, so the service must send it;
            the spec's default is 100. Clients should treat it as opaque.
        streaming_success_code: ``code`` of Streaming success envelopes (100;
            the string ``"SUCCESS"`` was also seen).
        avatar_join_delay_seconds: Seconds after a session starts before its
            avatar (participant ``heygen``) joins its room; 0 is at once.
            Tests of the FULL ready gate, which waits for it, raise it.
        agent_join_delay_seconds: Seconds after a FULL or connector session
            starts before the service's agent (``liveavatar-agent-<session_id>``)
            joins its room; 0 is at once.
        avatar_frame_rate: Frames a second of the simulated avatar's video
            (its audio is sent at the same ticks).
        avatar_video_width: Width in pixels of the avatar's video.
        avatar_video_height: Height in pixels of the avatar's video.
        starting_credits: LiveAvatar credits each account starts with; billed
            (non-sandbox) sessions use them up per minute, and
            ``get_credits`` reports what is left.
        profile: How LITE sockets report speech (`SpeechProfile`): ``live``
            (as the service behaves), ``documented`` (as its docs say) or
            ``chunked``. The default is `DEFAULT_PROFILE`.
        stall_pongs: Whether realtime sockets leave WebSocket pings
            unanswered, as the media servers do; a client that pings then
            times out (websockets closes with 1011). Off by default.
        room_token_seconds: Seconds a room token stays valid (its ``exp``);
            a participant joining later is refused (LiveKit's default is 6 h).
    """

    api_key: str | None = field(default=None, repr=False)
    sandbox_session_seconds: float = 60.0
    default_max_session_duration: int = 1200
    streaming_session_duration_limit: int = 600
    idle_timeout_seconds: float = 300.0
    streaming_idle_timeout_seconds: float = _STREAMING_IDLE_DEFAULT
    max_concurrent_sessions: int = 3
    rate_limit_per_second: int = 20
    reaper_interval_seconds: float = 0.5
    connect_delay_seconds: float = 1.0
    realtime_alpha_ready_gate: bool = False
    liveavatar_success_code: int = 1000
    streaming_success_code: int | str = 100
    avatar_join_delay_seconds: float = 0.0
    agent_join_delay_seconds: float = 0.0
    avatar_frame_rate: float = 25.0
    avatar_video_width: int = 160
    avatar_video_height: int = 90
    starting_credits: float = 1000.0
    profile: SpeechProfile = DEFAULT_PROFILE
    stall_pongs: bool = False
    room_token_seconds: float = 6 * 3600.0

    def __post_init__(self) -> None:
        if self.api_key is not None and not self.api_key:
            raise ValueError("api_key must be None (accept any key) or a non-empty string")
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name.endswith("_code") or item.name in _OTHER:
                continue
            if item.name in _SWITCHES:
                if not isinstance(value, bool):
                    raise TypeError(f"{item.name} must be a bool, got {type(value).__name__}")
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"{item.name} must be a number, got {type(value).__name__}")
            if item.name.endswith("_delay_seconds"):
                if value < 0:
                    raise ValueError(f"{item.name} must be >= 0, got {value}")
            elif value <= 0:
                raise ValueError(f"{item.name} must be > 0, got {value}")
        if self.profile not in SPEECH_PROFILES:
            raise ValueError(
                f"profile must be one of {', '.join(SPEECH_PROFILES)}, got {self.profile!r}"
            )
        for name in ("avatar_video_width", "avatar_video_height"):
            value = getattr(self, name)
            if not isinstance(value, int) or value > 4096:
                raise ValueError(f"{name} must be a whole number of pixels up to 4096")
