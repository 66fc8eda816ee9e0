"""Simulated sessions, their state machines, tokens and the clock.

LiveAvatar sessions go ``issued`` (token minted) -> ``started`` -> ``stopped``
(with an end reason and end time). Streaming sessions go ``new``
(``streaming.new``) -> ``connected`` (``streaming.start``) -> ``closed``.
A session is open until it is stopped or closed, whoever ends it: the
client, or the reaper (`heygen_core.simulator.limits`).

Everything here runs on the simulator's event loop; a lock guards it anyway,
so tests may read it from another thread (`SimulatorThread`).

Session tokens are JWTs (HS256, made with PyJWT and signed with a secret
that lives only in this simulator), because the web SDK decodes them and
reads ``start_session_data``: its ``mode`` (``FULL`` or ``LITE``),
``is_sandbox``, ``avatar_id`` and, for a LITE session with an agent
connector, ``agent_type`` (``elevenlabs`` or ``cartesia``; the value the
service puts there is not documented). They also carry ``session_id``,
``iat`` and ``simulated: true``; the simulator itself looks tokens up,
it does not trust their claims.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, TypeAlias

import jwt
from heygen_models import liveavatar as la
from heygen_models import streaming as st

from heygen_core.rest.credits import CREDITS_PER_MINUTE
from heygen_core.simulator.accounts import AccountStore
from heygen_core.simulator.catalogue import Catalogue
from heygen_core.simulator.config import SimulatorConfig

LiveAvatarStatus: TypeAlias = Literal["issued", "started", "stopped"]
"""A LiveAvatar session's state: token issued, started, or stopped."""

StreamingStatus: TypeAlias = Literal["new", "connected", "closed"]
"""A Streaming session's state: created, started (connected), or closed."""

ApiName: TypeAlias = Literal["liveavatar", "streaming"]

EndReason: TypeAlias = la.SessionEndReason
"""Why a session ended: the schema's `SessionEndReason` (``USER_CLOSED``, ...)."""

USER_CLOSED = la.SessionEndReason("USER_CLOSED")
"""The client stopped the session (the documented default reason of stop)."""
IDLE_TIMEOUT = la.SessionEndReason("IDLE_TIMEOUT")
"""No activity for the idle timeout."""
MAX_DURATION_REACHED = la.SessionEndReason("MAX_DURATION_REACHED")
"""The session reached its maximum duration (or the sandbox limit)."""
ZOMBIE_SESSION_REAP = la.SessionEndReason("ZOMBIE_SESSION_REAP")
"""A token was minted but its session never started within the idle timeout."""
AVATAR_DELETED = la.SessionEndReason("AVATAR_DELETED")
"""The session's avatar was deleted."""


class Clock:
    """Time for the simulator: monotonic seconds for limits, wall time for timestamps.

    Limits use the monotonic clock so a wall-clock jump never ends a session;
    timestamps the API reports use wall time. Subclass to control time.
    """

    def monotonic(self) -> float:
        """Return monotonic seconds (for durations and limits)."""
        return time.monotonic()

    def unix(self) -> float:
        """Return the wall-clock time as unix seconds (for reported timestamps)."""
        return time.time()


def iso_timestamp(unix: float) -> str:
    """Format unix seconds as the services do: ISO 8601, UTC, ``Z`` suffix."""
    moment = datetime.fromtimestamp(unix, UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def account_id(api_key: str) -> str:
    """Return the opaque account id of an API key (a digest: the key is never kept)."""
    return "acct_" + hashlib.sha256(api_key.encode()).hexdigest()[:24]


@dataclass(eq=False)
class LiveAvatarSession:
    """One LiveAvatar session, from token issue to stop.

    Attributes:
        id: The session id (a uuid4).
        owner: Account id of the API key that minted it.
        token: Its session token (never shown in a ``repr``).
        request: The validated token request (FULL or LITE configuration).
        max_session_duration: Seconds it may last once started.
        status: ``issued``, ``started`` or ``stopped``.
        created_mono / created_unix: When the token was issued.
        updated_unix: Last state change.
        last_activity: Monotonic time of the last activity (idle timer).
        started_mono / started_unix: When it started, or None.
        ended_mono / ended_unix: When it stopped, or None.
        end_reason: Why it stopped, or None while open.
        transcript: What was said, in order (its recorded events); cleared
            by ``delete_session_events``.
    """

    id: str
    owner: str = field(repr=False)
    token: str = field(repr=False)
    request: la.FullSessionTokenRequest | la.LiteSessionTokenRequest = field(repr=False)
    max_session_duration: int
    created_mono: float
    created_unix: float
    status: LiveAvatarStatus = "issued"
    updated_unix: float = 0.0
    last_activity: float = 0.0
    started_mono: float | None = None
    started_unix: float | None = None
    ended_mono: float | None = None
    ended_unix: float | None = None
    end_reason: EndReason | None = None
    transcript: list[la.TranscriptEntry] = field(default_factory=list, repr=False)

    @property
    def is_open(self) -> bool:
        """Whether it still counts as open (issued or started)."""
        return self.status != "stopped"

    @property
    def is_sandbox(self) -> bool:
        """Whether it is a sandbox session (no credits, short-lived)."""
        return self.request.is_sandbox

    @property
    def has_ws_url(self) -> bool:
        """Whether start returns a LITE WebSocket URL (LITE without a hosted-agent connector).

        A connector (ElevenLabs or Cartesia agent) runs over the FULL event
        system in the room instead (docs/protocol.md §7).
        """
        request = self.request
        if not isinstance(request, la.LiteSessionTokenRequest):
            return False
        return not isinstance(request.elevenlabs_agent_config, la.ElevenLabsAgentConfig) and (
            not isinstance(request.cartesia_agent_config, la.CartesiaAgentConfig)
        )

    def duration(self, now_mono: float) -> float:
        """Seconds between start and stop (or now); 0 when never started."""
        if self.started_mono is None:
            return 0.0
        end = self.ended_mono if self.ended_mono is not None else now_mono
        return max(0.0, end - self.started_mono)

    def credits_consumed(self, now_mono: float) -> float:
        """Credits it has used so far (whole seconds, 2 decimals); 0 for sandbox sessions."""
        if self.is_sandbox:
            return 0.0
        # The client's rates (docs/protocol.md §1), so both bill alike.
        rate = float(CREDITS_PER_MINUTE[self.request.mode])
        return round(int(self.duration(now_mono)) / 60 * rate, 2)


@dataclass(eq=False)
class StreamingSession:
    """One legacy Streaming session, from ``streaming.new`` to ``streaming.stop``.

    Attributes:
        id: The session id.
        owner: Account id of the API key (or of the key behind the bearer token).
        request: The validated ``streaming.new`` body.
        avatar: The avatar it was asked for (``avatar_id`` or ``avatar_name``).
        idle_timeout: Seconds without activity before it closes; None when
            the request disabled the idle timeout.
        duration_limit: Seconds it may last once started.
        status: ``new``, ``connected`` or ``closed``.
        end_reason: Why it closed (same vocabulary as LiveAvatar), or None.
    """

    id: str
    owner: str = field(repr=False)
    request: st.NewSessionRequest = field(repr=False)
    avatar: str
    idle_timeout: float | None
    duration_limit: int
    created_mono: float
    created_unix: float
    status: StreamingStatus = "new"
    last_activity: float = 0.0
    started_mono: float | None = None
    ended_mono: float | None = None
    ended_unix: float | None = None
    end_reason: EndReason | None = None

    @property
    def is_open(self) -> bool:
        """Whether it still counts as open (new or connected)."""
        return self.status != "closed"

    def duration(self, now_mono: float) -> float:
        """Seconds between start and close (or now); 0 when never started."""
        if self.started_mono is None:
            return 0.0
        end = self.ended_mono if self.ended_mono is not None else now_mono
        return max(0.0, end - self.started_mono)


Session: TypeAlias = LiveAvatarSession | StreamingSession
"""A session of either API."""

EndListener: TypeAlias = Callable[[Session, EndReason], None]
"""Called once when a session ends, on the thread that ended it."""


class TransitionRefused(Exception):
    """A transition the session's state does not allow (start twice, start after stop)."""


class SimulatorState:
    """Every session, token and catalogue entry of one simulator."""

    def __init__(self, config: SimulatorConfig, clock: Clock | None = None) -> None:
        """Create an empty state.

        Args:
            config: The limits (idle timeout, durations).
            clock: Time source; the system clocks by default.

        """
        self.config = config
        self.clock = clock or Clock()
        self.catalogue = Catalogue()
        self.accounts = AccountStore()
        self._lock = threading.RLock()
        self._liveavatar: dict[str, LiveAvatarSession] = {}
        self._liveavatar_tokens: dict[str, str] = {}
        self._streaming: dict[str, StreamingSession] = {}
        self._streaming_tokens: dict[str, str] = {}
        self._token_secret = secrets.token_bytes(32)
        self._end_listeners: list[EndListener] = []

    def __repr__(self) -> str:
        return f"<SimulatorState open={self.open_sessions()}>"

    # ---------------------------------------------------------------- LiveAvatar

    def issue_liveavatar(
        self,
        owner: str,
        request: la.FullSessionTokenRequest | la.LiteSessionTokenRequest,
        max_session_duration: int,
    ) -> LiveAvatarSession:
        """Mint a session token and its session (state ``issued``)."""
        now, unix = self.clock.monotonic(), self.clock.unix()
        session_id = str(uuid.uuid4())
        session = LiveAvatarSession(
            id=session_id,
            owner=owner,
            token=self._session_token(session_id, request, unix),
            request=request,
            max_session_duration=max_session_duration,
            created_mono=now,
            created_unix=unix,
            updated_unix=unix,
            last_activity=now,
        )
        with self._lock:
            self._liveavatar[session.id] = session
            self._liveavatar_tokens[session.token] = session.id
        return session

    def _session_token(
        self,
        session_id: str,
        request: la.FullSessionTokenRequest | la.LiteSessionTokenRequest,
        issued_at: float,
    ) -> str:
        start_data: dict[str, str | bool] = {
            "mode": request.mode,
            "avatar_id": request.avatar_id,
            "is_sandbox": request.is_sandbox,
        }
        if isinstance(request, la.LiteSessionTokenRequest):
            if isinstance(request.elevenlabs_agent_config, la.ElevenLabsAgentConfig):
                start_data["agent_type"] = "elevenlabs"
            elif isinstance(request.cartesia_agent_config, la.CartesiaAgentConfig):
                start_data["agent_type"] = "cartesia"
        claims = {
            "session_id": session_id,
            "start_session_data": start_data,
            "iat": int(issued_at),
            # A nonce: two tokens for equal requests in one second differ.
            "jti": secrets.token_urlsafe(16),
            "simulated": True,
        }
        return jwt.encode(claims, self._token_secret, algorithm="HS256")

    def liveavatar_session(self, session_id: str) -> LiveAvatarSession | None:
        """Return the LiveAvatar session `session_id`, or None."""
        with self._lock:
            return self._liveavatar.get(session_id)

    def liveavatar_by_token(self, token: str) -> LiveAvatarSession | None:
        """Return the LiveAvatar session a session token was minted for, or None.

        A token stays known after its session stops, so a retried stop is
        answered 200 and a late start or keep-alive gets the state error
        (400006) rather than a confusing 401.
        """
        with self._lock:
            session_id = self._liveavatar_tokens.get(token)
            return self._liveavatar.get(session_id) if session_id else None

    def liveavatar_sessions(self, owner: str | None = None) -> list[LiveAvatarSession]:
        """Return LiveAvatar sessions (of one account, or all), newest first."""
        with self._lock:
            found = [s for s in self._liveavatar.values() if owner is None or s.owner == owner]
        return sorted(found, key=lambda s: s.created_mono, reverse=True)

    def start_liveavatar(self, session: LiveAvatarSession) -> None:
        """Move an ``issued`` session to ``started``.

        Raises:
            TransitionRefused: It was already started, or stopped.

        """
        with self._lock:
            if session.status != "issued":
                raise TransitionRefused(f"session is {session.status}")
            now = self.clock.monotonic()
            session.status = "started"
            session.started_mono = session.last_activity = now
            session.started_unix = session.updated_unix = self.clock.unix()

    def record_transcript(
        self, session_id: str, role: Literal["user", "avatar"], text: str
    ) -> None:
        """Add an utterance to a LiveAvatar session's transcript (unknown ids are ignored)."""
        with self._lock:
            session = self._liveavatar.get(session_id)
            if session is None:
                return
            unix = self.clock.unix()
            started = session.started_unix if session.started_unix is not None else unix
            session.transcript.append(
                la.TranscriptEntry(
                    role=role,
                    transcript=text,
                    absolute_timestamp=int(unix),
                    relative_timestamp=int(unix - started),
                )
            )

    def delete_events(self, session: LiveAvatarSession) -> None:
        """Forget everything recorded of a LiveAvatar session (its transcript)."""
        with self._lock:
            session.transcript.clear()

    def credits_left(self, owner: str) -> float:
        """Return `owner`'s LiveAvatar credits: the starting credits less every session's use."""
        now = self.clock.monotonic()
        used = sum(s.credits_consumed(now) for s in self.liveavatar_sessions(owner))
        return self.config.starting_credits - used

    # ----------------------------------------------------------------- Streaming

    def create_streaming_token(self, owner: str) -> str:
        """Mint a Streaming bearer token for `owner`'s account."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._streaming_tokens[token] = owner
        return token

    def streaming_token_owner(self, token: str) -> str | None:
        """Return the account a Streaming bearer token belongs to, or None."""
        with self._lock:
            return self._streaming_tokens.get(token)

    def new_streaming(
        self,
        owner: str,
        request: st.NewSessionRequest,
        avatar: str,
        idle_timeout: float | None,
    ) -> StreamingSession:
        """Create a Streaming session (state ``new``)."""
        now = self.clock.monotonic()
        session = StreamingSession(
            id=str(uuid.uuid4()),
            owner=owner,
            request=request,
            avatar=avatar,
            idle_timeout=idle_timeout,
            duration_limit=self.config.streaming_session_duration_limit,
            created_mono=now,
            created_unix=self.clock.unix(),
            last_activity=now,
        )
        with self._lock:
            self._streaming[session.id] = session
        return session

    def streaming_session(self, session_id: str) -> StreamingSession | None:
        """Return the Streaming session `session_id`, or None."""
        with self._lock:
            return self._streaming.get(session_id)

    def streaming_sessions(self, owner: str | None = None) -> list[StreamingSession]:
        """Return Streaming sessions (of one account, or all), newest first."""
        with self._lock:
            found = [s for s in self._streaming.values() if owner is None or s.owner == owner]
        return sorted(found, key=lambda s: s.created_mono, reverse=True)

    def start_streaming(self, session: StreamingSession) -> None:
        """Move a ``new`` session to ``connected``.

        Raises:
            TransitionRefused: It was already started, or closed.

        """
        with self._lock:
            if session.status != "new":
                raise TransitionRefused(f"session is {session.status}")
            session.status = "connected"
            session.started_mono = session.last_activity = self.clock.monotonic()

    # -------------------------------------------------------------------- common

    def add_end_listener(self, listener: EndListener) -> None:
        """Call `listener(session, reason)` whenever a session ends, whoever ends it.

        It runs on the thread that called `end` (the simulator's loop, or a
        test's thread), after the state lock is released; it must not block.
        """
        with self._lock:
            self._end_listeners.append(listener)

    def end(self, session: Session, reason: EndReason) -> bool:
        """Stop (LiveAvatar) or close (Streaming) a session.

        Every end listener hears of it (the realtime sockets close then).

        Returns:
            True if it was open; False if it had already ended (then its
            first end reason is kept: stop is idempotent).

        """
        with self._lock:
            if not session.is_open:
                return False
            session.ended_mono = self.clock.monotonic()
            session.ended_unix = self.clock.unix()
            session.end_reason = reason
            if isinstance(session, LiveAvatarSession):
                session.status = "stopped"
                session.updated_unix = session.ended_unix
            else:
                session.status = "closed"
            listeners = list(self._end_listeners)
        for listener in listeners:
            listener(session, reason)
        return True

    def touch(self, session_id: str) -> bool:
        """Reset a session's idle timer (any API); False if unknown or ended."""
        with self._lock:
            session: Session | None = self._liveavatar.get(session_id) or self._streaming.get(
                session_id
            )
            if session is None or not session.is_open:
                return False
            session.last_activity = self.clock.monotonic()
            return True

    def sessions(self) -> Iterator[Session]:
        """Iterate over a snapshot of every session of both APIs."""
        with self._lock:
            snapshot: list[Session] = [*self._liveavatar.values(), *self._streaming.values()]
        return iter(snapshot)

    def open_count(self, api: ApiName, owner: str) -> int:
        """Return how many of `owner`'s sessions of `api` are open."""
        with self._lock:
            pool: dict[str, LiveAvatarSession] | dict[str, StreamingSession] = (
                self._liveavatar if api == "liveavatar" else self._streaming
            )
            return sum(1 for s in pool.values() if s.owner == owner and s.is_open)

    def open_sessions(self) -> int:
        """Return how many sessions of both APIs are open (not stopped or closed)."""
        return sum(1 for s in self.sessions() if s.is_open)
