"""The simulated legacy Streaming API (``https://api.heygen.com``).

One handler per operationId of ``schemas/rest/streaming.openapi.yaml``. A
session is ``new`` after ``streaming.new`` and ``connected`` after
``streaming.start``; the calls that drive the avatar are refused with
400006 "Session is not in correct state" before start and after stop, as
the real service does to clients that do not wait for the session.

``streaming.new`` refuses an avatar it does not know (400175, as the service
refuses one that does not exist): it knows the public avatars other clients
default to (`heygen_core.simulator.catalogue.STREAMING_PUBLIC_AVATARS`,
Pipecat's among them), LiveAvatar's public avatars, and the account's own.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
import zlib
from datetime import UTC, datetime, timedelta

from heygen_models import streaming as st

from heygen_core.simulator.limits import ConcurrencyLimitReached, check_concurrency
from heygen_core.simulator.rest.endpoint import Call, Handler
from heygen_core.simulator.rest.paging import paginate
from heygen_core.simulator.rest.replies import (
    STREAMING_CONCURRENCY_LIMIT,
    STREAMING_INVALID_PARAMETER,
    STREAMING_INVALID_SESSION,
    FieldProblem,
    Refusal,
    Reply,
    StreamingDialect,
)
from heygen_core.simulator.rooms.avatar_media import tone_speech
from heygen_core.simulator.runtime import Runtime
from heygen_core.simulator.state import USER_CLOSED, StreamingSession, TransitionRefused

# About 150 spoken words a minute: what `task` reports as the speech length.
_CHARS_PER_SECOND = 14.0
# The schema declares no defaults for /v2/streaming.list paging; these are the
# ones the LiveAvatar API documents.
_DEFAULT_PAGE_SIZE = 20


class StreamingRoutes:
    """Handlers of the Streaming operations."""

    def __init__(self, runtime: Runtime, dialect: StreamingDialect) -> None:
        """Create the handlers over `runtime`'s state, answering errors in `dialect`."""
        self._rt = runtime
        self._state = runtime.state
        self._config = runtime.config
        self._dialect = dialect

    def handlers(self) -> dict[str, Handler]:
        """Return the handler of each operationId."""
        return {
            "create_token": self.create_token,
            "new_session": self.new_session,
            "start_session": self.start_session,
            "send_task": self.send_task,
            "interrupt_task": self.interrupt_task,
            "start_listening": self.start_listening,
            "stop_listening": self.stop_listening,
            "keep_alive": self.keep_alive,
            "stop_session": self.stop_session,
            "list_sessions": self.list_sessions,
            "list_sessions_v2": self.list_sessions_v2,
        }

    def create_token(self, call: Call) -> Reply:
        """Mint a bearer token for the API key's account (``{error: null, data: {token}}``)."""
        token = self._state.create_streaming_token(call.owner)
        return Reply(
            call.op.success_status,
            st.CreateTokenResponse(error=None, data=st.CreateTokenData(token=token)),
        )

    def new_session(self, call: Call) -> Reply:
        """Create a session (state ``new``) with placeholder LiveKit details."""
        request = call.body_as(st.NewSessionRequest)
        avatar = next(
            (
                name
                for name in (request.avatar_id, request.avatar_name)
                if isinstance(name, str) and name
            ),
            None,
        )
        if avatar is None:
            raise Refusal(
                self._dialect.invalid(
                    "body",
                    [FieldProblem(("avatar_id",), "Field required (or avatar_name)", "missing")],
                )
            )
        if not self._state.catalogue.is_streaming_avatar(call.owner, avatar):
            # The Streaming API refuses an avatar that does not exist.
            raise Refusal(
                self._dialect.error(
                    400,
                    f"Avatar {avatar!r} not found: use a public avatar or one of your own",
                    code=STREAMING_INVALID_PARAMETER,
                )
            )
        try:
            check_concurrency(
                self._state, "streaming", call.owner, self._config.max_concurrent_sessions
            )
        except ConcurrencyLimitReached as exc:
            message = str(exc)
            raise Refusal(
                self._dialect.error(
                    400, message[:1].upper() + message[1:], code=STREAMING_CONCURRENCY_LIMIT
                )
            ) from None
        session = self._state.new_streaming(
            call.owner, request, avatar, self._idle_timeout(request)
        )
        data = st.NewSessionData(
            session_id=session.id,
            access_token=self._rt.rooms.mint(session.id, f"user-{session.id[:8]}"),
            url=self._rt.room_url,
            realtime_endpoint=f"{self._rt.ws_base}/v2-alpha/interactive-avatar/session/{session.id}",
            livekit_agent_token=self._rt.rooms.mint(session.id, f"agent-{session.id[:8]}", "agent"),
            is_paid=False,
            session_duration_limit=session.duration_limit,
            sdp=None,
            ice_servers=None,
            ice_servers2=None,
        )
        return self._ok(call, st.NewSessionEnvelope(**self._envelope(), data=data))

    def start_session(self, call: Call) -> Reply:
        """Start a ``new`` session (it becomes ``connected``); 400006 otherwise."""
        session = self._session(call)
        try:
            self._state.start_streaming(session)
        except TransitionRefused:
            raise Refusal(self._dialect.wrong_state("")) from None
        self._rt.rooms.open_session_room(session)
        return self._ok(
            call, st.StartSessionEnvelope(**self._envelope(), data=st.StartSessionData())
        )

    def send_task(self, call: Call) -> Reply:
        """Accept a task; the avatar speaks it in its room; report how long that takes."""
        request = call.body_as(st.TaskRequest)
        session = self._connected(call)
        seconds = len(request.text) / _CHARS_PER_SECOND
        self._rt.rooms.feed_avatar(
            session.id, tone_speech(seconds, zlib.crc32(request.text.encode()))
        )
        data = st.TaskData(duration_ms=round(seconds * 1000, 1), task_id=str(uuid.uuid4()))
        return self._ok(call, st.TaskEnvelope(**self._envelope(), data=data))

    def interrupt_task(self, call: Call) -> Reply:
        """Interrupt the avatar (a connected session only): it stops speaking at once."""
        reply = self._empty_on_connected(call)
        self._rt.rooms.hush_avatar(self._session(call).id)
        return reply

    def start_listening(self, call: Call) -> Reply:
        """Put the avatar in its listening state (a connected session only)."""
        return self._empty_on_connected(call)

    def stop_listening(self, call: Call) -> Reply:
        """Take the avatar out of its listening state (a connected session only)."""
        return self._empty_on_connected(call)

    def keep_alive(self, call: Call) -> Reply:
        """Reset the idle timer (a connected session only)."""
        return self._empty_on_connected(call)

    def stop_session(self, call: Call) -> Reply:
        """Close a session; closing a closed session answers 200 again (idempotent)."""
        session = self._session(call)
        self._state.end(session, USER_CLOSED)
        return self._ok(call, st.EmptyEnvelope(**self._envelope(), data=None))

    def list_sessions(self, call: Call) -> Reply:
        """List the account's open sessions."""
        sessions = [
            st.StreamingSessionSummary(
                session_id=s.id, status=s.status, created_at=int(s.created_unix)
            )
            for s in self._state.streaming_sessions(call.owner)
            if s.is_open
        ]
        return self._ok(
            call,
            st.SessionListEnvelope(**self._envelope(), data=st.SessionListData(sessions=sessions)),
        )

    def list_sessions_v2(self, call: Call) -> Reply:
        """List the account's session history, paged, with status and date filters."""
        query = call.query_as(st.ListSessionsV2Query)
        page_number = query.page if isinstance(query.page, int) else 1
        page_size = query.page_size if isinstance(query.page_size, int) else _DEFAULT_PAGE_SIZE
        if isinstance(query.token, str):
            page_number, page_size = self._decode_page_token(query.token)
        since = self._date(query.date_from, "date_from", end_of_day=False)
        until = self._date(query.date_to, "date_to", end_of_day=True)
        sessions = [
            s
            for s in self._state.streaming_sessions(call.owner)
            if (not isinstance(query.status, str) or s.status == query.status)
            and (since is None or s.created_unix >= since)
            and (until is None or s.created_unix < until)
        ]
        page = paginate(sessions, page_number, page_size)
        now = self._state.clock.monotonic()
        data = st.SessionListV2Data(
            total=page.total,
            page=page_number,
            page_size=page_size,
            next_pagination_token=(
                _page_token(page.next_page, page_size) if page.next_page is not None else None
            ),
            data=[
                st.StreamingSessionRecord(
                    session_id=s.id,
                    status=s.status,
                    created_at=int(s.created_unix),
                    # Simulated accounts are unpaid (`is_paid: false`).
                    api_key_type="trial",
                    duration=float(int(s.duration(now))),
                    avatar_id=s.avatar,
                )
                for s in page.items
            ],
        )
        return self._ok(call, st.SessionListV2Envelope(**self._envelope(), data=data))

    # ------------------------------------------------------------------- helpers

    @staticmethod
    def _ok(call: Call, body: st.Envelope) -> Reply:
        return Reply(call.op.success_status, body)

    def _envelope(self) -> dict[str, int | str]:
        return {"code": self._config.streaming_success_code, "message": "success"}

    def _idle_timeout(self, request: st.NewSessionRequest) -> float | None:
        # A dump, not attribute access: the field is deprecated and reading it warns.
        if request.model_dump(include={"disable_idle_timeout"}).get("disable_idle_timeout"):
            return None
        # Absent or null (Pipecat sends null for "unset"): the service applies
        # its default (120 s), which the config holds so tests can shrink it.
        if "activity_idle_timeout" in request.model_fields_set and isinstance(
            request.activity_idle_timeout, int
        ):
            return float(request.activity_idle_timeout)
        return self._config.streaming_idle_timeout_seconds

    def _session(self, call: Call) -> StreamingSession:
        # Every session operation's body (SessionIdRequest, TaskRequest) names it.
        session_id = getattr(call.body, "session_id", None)
        session = self._state.streaming_session(session_id) if isinstance(session_id, str) else None
        if session is None or session.owner != call.owner:
            raise Refusal(
                self._dialect.error(400, "Invalid session", code=STREAMING_INVALID_SESSION)
            )
        return session

    def _connected(self, call: Call) -> StreamingSession:
        session = self._session(call)
        if session.status != "connected":
            raise Refusal(self._dialect.wrong_state(""))
        self._state.touch(session.id)
        return session

    def _empty_on_connected(self, call: Call) -> Reply:
        self._connected(call)
        return self._ok(call, st.EmptyEnvelope(**self._envelope(), data=None))

    def _decode_page_token(self, token: str) -> tuple[int, int]:
        try:
            padded = token + "=" * (-len(token) % 4)
            value = json.loads(base64.urlsafe_b64decode(padded))
            page, size = int(value["page"]), int(value["page_size"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise Refusal(
                self._dialect.invalid(
                    "query",
                    [FieldProblem(("token",), "not a pagination token of this API", "value_error")],
                )
            ) from None
        if page < 1 or not 1 <= size <= 100:
            raise Refusal(
                self._dialect.invalid(
                    "query",
                    [FieldProblem(("token",), "not a pagination token of this API", "value_error")],
                )
            )
        return page, size

    def _date(self, text: object, name: str, *, end_of_day: bool) -> float | None:
        if not isinstance(text, str):
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise Refusal(
                self._dialect.invalid(
                    "query",
                    [
                        FieldProblem(
                            (name,), "expected a date (YYYY-MM-DD) or ISO 8601 time", "value_error"
                        )
                    ],
                )
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if end_of_day:
            # An inclusive upper bound, returned as an exclusive one; a bare
            # date includes that whole day.
            moment += timedelta(days=1) if len(text) == 10 else timedelta(microseconds=1)
        return moment.timestamp()


def _page_token(page: int, page_size: int) -> str:
    raw = json.dumps({"page": page, "page_size": page_size}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
