"""The simulated LiveAvatar API (``https://api.liveavatar.com``).

One handler per operationId of ``schemas/rest/liveavatar.openapi.yaml``; the
method, path, credentials and body models come from the schema, and every
answer is built with the generated models.
"""

from __future__ import annotations

import base64
import io
import math
import wave
from collections.abc import Callable

from heygen_models import liveavatar as la

from heygen_core.simulator.accounts import RecordForeign, RecordMissing
from heygen_core.simulator.catalogue import SANDBOX_AVATAR_ID
from heygen_core.simulator.limits import ConcurrencyLimitReached, check_concurrency
from heygen_core.simulator.rest.endpoint import Call, Handler
from heygen_core.simulator.rest.liveavatar_handlers import LiveAvatarHandlers
from heygen_core.simulator.rest.paging import page_fields, paginate
from heygen_core.simulator.rest.replies import FieldProblem, Refusal, Reply
from heygen_core.simulator.rooms.avatar_media import SAMPLE_RATE, tone_speech
from heygen_core.simulator.rooms.wire import LOCAL_SCHEME
from heygen_core.simulator.state import (
    AVATAR_DELETED,
    USER_CLOSED,
    LiveAvatarSession,
    TransitionRefused,
    iso_timestamp,
)

# Seconds of a voice preview: long enough to hear, small enough to inline.
_PREVIEW_SECONDS = 0.5


class LiveAvatarRoutes(LiveAvatarHandlers):
    """Handlers of the LiveAvatar session, avatar and voice operations."""

    def handlers(self) -> dict[str, Handler]:
        """Return the handler of each operationId."""
        return {
            "create_session_token": self.create_session_token,
            "start_session": self.start_session,
            "stop_session": self.stop_session,
            "keep_alive_session": self.keep_alive_session,
            "list_sessions": self.list_sessions,
            "get_session": self.get_session,
            "get_session_transcript": self.get_session_transcript,
            "list_avatars": self.list_avatars,
            "list_public_avatars": self.list_public_avatars,
            "get_avatar": self.get_avatar,
            "update_avatar": self.update_avatar,
            "delete_avatar": self.delete_avatar,
            "list_voices": self.list_voices,
            "get_voice": self.get_voice,
            "create_third_party_voice": self.create_third_party_voice,
            "update_voice": self.update_voice,
            "delete_voice": self.delete_voice,
            "get_voice_preview": self.get_voice_preview,
            "delete_session_events": self.delete_session_events,
        }

    # ------------------------------------------------------------------ sessions

    def create_session_token(self, call: Call) -> Reply:
        """Mint a session token: sandbox rule, avatar, duration and concurrency checks."""
        request = call.body_as(la.SessionTokenRequest).root
        if request.is_sandbox and request.avatar_id != SANDBOX_AVATAR_ID:
            raise self._refuse(
                400, f"is_sandbox is only available with the sandbox avatar {SANDBOX_AVATAR_ID}"
            )
        if self._state.catalogue.avatar(call.owner, request.avatar_id) is None:
            raise self._refuse(404, f"Avatar {request.avatar_id} not found")
        if isinstance(request, la.FullSessionTokenRequest):
            self._check_references(call, request)
        limit = self._config.default_max_session_duration
        duration = limit
        if isinstance(request.max_session_duration, int):
            if request.max_session_duration > limit:
                raise Refusal(
                    self._dialect.invalid(
                        "body",
                        [
                            FieldProblem(
                                (request.mode, "max_session_duration"),
                                f"Input should be less than or equal to {limit} "
                                "(the account's maximum session duration)",
                                "less_than_equal",
                            )
                        ],
                    )
                )
            duration = request.max_session_duration
        if request.is_sandbox:
            # Report the sandbox's own limit, so a client scheduling its end is right.
            duration = min(duration, max(1, math.ceil(self._config.sandbox_session_seconds)))
        try:
            check_concurrency(
                self._state, "liveavatar", call.owner, self._config.max_concurrent_sessions
            )
        except ConcurrencyLimitReached as exc:
            # The vendor's status for this is undocumented; 409 (the schema's
            # SessionLimitReached) keeps it apart from credential refusals.
            raise self._refuse(409, str(exc)) from None
        session = self._state.issue_liveavatar(call.owner, request, duration)
        return self._ok(
            call,
            la.SessionTokenEnvelope(
                code=self._config.liveavatar_success_code,
                message="success",
                data=la.SessionTokenData(session_id=session.id, session_token=session.token),
            ),
        )

    def start_session(self, call: Call) -> Reply:
        """Start the session bound to the bearer token (400006 unless just issued)."""
        session = self._bound_session(call)
        try:
            self._state.start_liveavatar(session)
        except TransitionRefused:
            what = "already started" if session.status == "started" else "stopped"
            raise Refusal(
                self._dialect.wrong_state(f"Session is not in correct state: it is {what}")
            ) from None
        ws_url = f"{self._rt.ws_base}/v1/sessions/{session.id}/ws" if session.has_ws_url else None
        rooms = self._rt.rooms
        request = session.request
        own = request.livekit_config if isinstance(request, la.LiteSessionTokenRequest) else None
        if isinstance(own, la.LiveKitConfig):
            # Bring-your-own room: the avatar joins the user's room, and the
            # session hands back the user's own URL and token. Only a room of
            # this simulator can be joined offline; any other stays empty.
            url, client_token = own.livekit_url, own.livekit_client_token
            room = own.livekit_room
            if url.startswith(LOCAL_SCHEME + "://"):
                rooms.open_session_room(session, room)
        else:
            room = rooms.open_session_room(session, full=request.mode == "FULL")
            url, client_token = self._rt.room_url, rooms.mint(room, f"user-{session.id[:8]}")
        return self._ok(
            call,
            la.StartSessionEnvelope(
                code=self._config.liveavatar_success_code,
                message="success",
                data=la.StartSessionData(
                    session_id=session.id,
                    livekit_url=url,
                    livekit_client_token=client_token,
                    livekit_agent_token=rooms.mint(room, f"agent-{session.id[:8]}", "agent"),
                    max_session_duration=session.max_session_duration,
                    ws_url=ws_url,
                ),
            ),
        )

    def stop_session(self, call: Call) -> Reply:
        """Stop a session; stopping a stopped session answers 200 again (idempotent)."""
        body = call.body_as(la.StopSessionRequest)
        session = self._target(call, body.session_id)
        reason = body.reason if isinstance(body.reason, la.SessionEndReason) else USER_CLOSED
        self._state.end(session, reason)
        return self._ok(
            call,
            la.Envelope(
                code=self._config.liveavatar_success_code, message="Session stopped", data=None
            ),
        )

    def keep_alive_session(self, call: Call) -> Reply:
        """Reset the idle timer; 400006 once the session has stopped."""
        body = call.body_as(la.KeepAliveRequest)
        session = self._target(call, body.session_id)
        if not self._state.touch(session.id):
            raise Refusal(
                self._dialect.wrong_state("Session is not in correct state: it is stopped")
            )
        return self._ok(
            call,
            la.Envelope(code=self._config.liveavatar_success_code, message="success", data=None),
        )

    def list_sessions(self, call: Call) -> Reply:
        """List the account's active or historic sessions, newest first, paged."""
        query = call.query_as(la.ListSessionsQuery)
        active = query.type == "active"
        sessions = [
            s
            for s in self._state.liveavatar_sessions(call.owner)
            if s.is_open == active and _matches(s, query)
        ]
        page = paginate([self._entry(s) for s in sessions], query.page, query.page_size)
        return self._ok(
            call,
            la.SessionListEnvelope(
                code=self._config.liveavatar_success_code,
                message="success",
                data=la.SessionList(**page_fields(call.request, page, query.page_size)),
            ),
        )

    def get_session(self, call: Call) -> Reply:
        """Return one of the account's sessions."""
        session = self._owned(call, call.path["session_id"])
        return self._ok(
            call,
            la.SessionEnvelope(
                code=self._config.liveavatar_success_code,
                message="success",
                data=self._entry(session),
            ),
        )

    def get_session_transcript(self, call: Call) -> Reply:
        """Return the session's recorded transcript, within the query's time window."""
        session = self._owned(call, call.path["session_id"])
        query = call.query_as(la.TranscriptQuery)
        start, end = query.start_timestamp, query.end_timestamp
        entries = [
            entry
            for entry in list(session.transcript)
            if (not isinstance(start, int) or entry.absolute_timestamp >= start)
            and (not isinstance(end, int) or entry.absolute_timestamp <= end)
        ]
        return self._ok(
            call,
            la.TranscriptEnvelope(
                code=self._config.liveavatar_success_code,
                message="success",
                data=la.TranscriptData(
                    session_active=session.is_open, next_timestamp=None, transcript_data=entries
                ),
            ),
        )

    def delete_session_events(self, call: Call) -> Reply:
        """Hard-delete a session's recorded events (its transcript goes with them)."""
        session = self._owned(call, call.path["session_id"])
        self._state.delete_events(session)
        return self._ok(
            call,
            la.Envelope(
                code=self._config.liveavatar_success_code,
                message="Session events deleted",
                data=None,
            ),
        )

    # ------------------------------------------------------------------- avatars

    def list_avatars(self, call: Call) -> Reply:
        """List the account's own avatars, paged."""
        query = call.query_as(la.ListAvatarsQuery)
        page = paginate(
            self._state.catalogue.private_avatars(call.owner), query.page, query.page_size
        )
        return self._ok(
            call,
            la.AvatarListEnvelope(
                code=self._config.liveavatar_success_code,
                message="success",
                data=la.AvatarList(**page_fields(call.request, page, query.page_size)),
            ),
        )

    def list_public_avatars(self, call: Call) -> Reply:
        """List the public avatars, paged (no credentials needed)."""
        query = call.query_as(la.ListPublicAvatarsQuery)
        page = paginate(self._state.catalogue.public_avatars(), query.page, query.page_size)
        return self._ok(
            call,
            la.PublicAvatarListEnvelope(
                code=self._config.liveavatar_success_code,
                message="success",
                data=la.PublicAvatarList(**page_fields(call.request, page, query.page_size)),
            ),
        )

    def get_avatar(self, call: Call) -> Reply:
        """Return a public avatar or one of the account's own."""
        avatar_id = call.path["avatar_id"]
        avatar = self._state.catalogue.avatar(call.owner, avatar_id)
        if avatar is None:
            raise self._refuse(404, f"Avatar {avatar_id} not found")
        return self._avatar_reply(call, avatar)

    def update_avatar(self, call: Call) -> Reply:
        """Rename an avatar or change its default voice (403 for public avatars)."""
        avatar_id = self._own_avatar(call)
        changes = call.body_as(la.UpdateAvatarRequest)
        voice_id = changes.default_voice_id
        if isinstance(voice_id, str) and self._state.catalogue.voice(call.owner, voice_id) is None:
            raise self._refuse(404, f"Voice {voice_id} not found")
        avatar = self._state.catalogue.update_avatar(call.owner, avatar_id, changes)
        return self._avatar_reply(call, avatar)

    def delete_avatar(self, call: Call) -> Reply:
        """Delete one of the account's avatars; its open sessions end (AVATAR_DELETED)."""
        avatar_id = self._own_avatar(call)
        avatar = self._state.catalogue.delete_avatar(call.owner, avatar_id)
        for session in self._state.liveavatar_sessions(call.owner):
            if session.request.avatar_id == avatar_id:
                self._state.end(session, AVATAR_DELETED)
        return self._avatar_reply(call, avatar)

    # -------------------------------------------------------------------- voices

    def list_voices(self, call: Call) -> Reply:
        """List public or the account's private voices, paged."""
        query = call.query_as(la.ListVoicesQuery)
        voices = self._state.catalogue.voices(call.owner, private=query.voice_type == "private")
        page = paginate(voices, query.page, query.page_size)
        return self._ok(
            call,
            la.VoiceListEnvelope(
                code=self._config.liveavatar_success_code,
                message="success",
                data=la.VoiceList(**page_fields(call.request, page, query.page_size)),
            ),
        )

    def get_voice(self, call: Call) -> Reply:
        """Return a public voice or one of the account's own."""
        voice_id = call.path["voice_id"]
        voice = self._state.catalogue.voice(call.owner, voice_id)
        if voice is None:
            raise self._refuse(404, f"Voice {voice_id} not found")
        return self._ok(
            call,
            la.VoiceEnvelope(
                code=self._config.liveavatar_success_code, message="success", data=voice
            ),
        )

    def create_third_party_voice(self, call: Call) -> Reply:
        """Register a third-party voice as a private voice; return its new id."""
        voice = self._state.catalogue.add_voice(call.owner, call.body_as(la.ThirdPartyVoiceRequest))
        return self._ok(
            call,
            la.ThirdPartyVoiceEnvelope(
                code=self._config.liveavatar_success_code,
                message="success",
                data=la.ThirdPartyVoiceData(voice_id=voice.id),
            ),
        )

    def update_voice(self, call: Call) -> Reply:
        """Rename one of the account's private voices (403 for public voices)."""
        voice_id = self._own_voice(call)
        name = call.body_as(la.UpdateVoiceRequest).name
        voice = self._state.catalogue.rename_voice(call.owner, voice_id, name)
        return self._ok(
            call,
            la.VoiceEnvelope(
                code=self._config.liveavatar_success_code, message="success", data=voice
            ),
        )

    def delete_voice(self, call: Call) -> Reply:
        """Delete one of the account's private voices (403 for public voices)."""
        voice_id = self._own_voice(call)
        self._state.catalogue.delete_voice(call.owner, voice_id)
        return self._ok(
            call,
            la.Envelope(
                code=self._config.liveavatar_success_code, message="Voice deleted", data=None
            ),
        )

    def get_voice_preview(self, call: Call) -> Reply:
        """Return a short WAV of the voice (a tone, pitched per voice), base64-encoded."""
        voice_id = call.path["voice_id"]
        if self._state.catalogue.voice(call.owner, voice_id) is None:
            raise self._refuse(404, f"Voice {voice_id} not found")
        return self._ok(
            call,
            la.VoicePreviewEnvelope(
                code=self._config.liveavatar_success_code,
                message="success",
                data=la.VoicePreview(audio_base64=_preview_wav(voice_id)),
            ),
        )

    # ------------------------------------------------------------------- helpers

    def _bound_session(self, call: Call) -> LiveAvatarSession:
        session_id = call.caller.session_id
        session = self._state.liveavatar_session(session_id) if session_id else None
        if session is None:  # the schema lets only a session token reach here
            raise self._refuse(401, "Invalid or missing session token")
        return session

    def _target(self, call: Call, session_id: object) -> LiveAvatarSession:
        """The session a stop/keep-alive is about: the token's own, or `session_id` (API key)."""
        if call.caller.session_id is not None:
            if isinstance(session_id, str) and session_id != call.caller.session_id:
                raise self._refuse(
                    403,
                    f"This session token belongs to another session, not {session_id}: "
                    "leave session_id out to act on the token's own session, "
                    "or use the API key to act on another one",
                )
            return self._bound_session(call)
        if not isinstance(session_id, str):
            raise Refusal(
                self._dialect.invalid(
                    "body",
                    [
                        FieldProblem(
                            ("session_id",),
                            "Field required when authenticating with an API key "
                            "(or send the session token instead)",
                            "missing",
                        )
                    ],
                )
            )
        return self._owned(call, session_id)

    def _owned(self, call: Call, session_id: str) -> LiveAvatarSession:
        session = self._state.liveavatar_session(session_id)
        if session is None or session.owner != call.owner:
            raise self._refuse(404, f"Session {session_id} not found")
        return session

    def _own_avatar(self, call: Call) -> str:
        avatar_id = call.path["avatar_id"]
        catalogue = self._state.catalogue
        if catalogue.is_public_avatar(avatar_id):
            raise self._refuse(403, "Public avatars cannot be changed or deleted")
        if catalogue.avatar(call.owner, avatar_id) is None:
            raise self._refuse(404, f"Avatar {avatar_id} not found")
        return avatar_id

    def _own_voice(self, call: Call) -> str:
        voice_id = call.path["voice_id"]
        catalogue = self._state.catalogue
        if catalogue.is_public_voice(voice_id):
            raise self._refuse(403, "Public voices cannot be changed or deleted")
        if voice_id not in {v.id for v in catalogue.voices(call.owner, private=True)}:
            raise self._refuse(404, f"Voice {voice_id} not found")
        return voice_id

    def _check_references(self, call: Call, request: la.FullSessionTokenRequest) -> None:
        """Refuse a FULL token naming a context, voice agent or LLM the account lacks."""
        # A dump, not attribute access: `avatar_persona` is deprecated and reading it warns.
        persona = request.model_dump(include={"avatar_persona"}).get("avatar_persona")
        context_id = persona.get("context_id") if isinstance(persona, dict) else None
        accounts = self._state.accounts
        agent = request.voice_agent
        wanted: list[tuple[str, Callable[[str, str], object], object]] = [
            ("Context", accounts.contexts.get, context_id),
            (
                "Voice agent",
                accounts.voice_agents.get,
                agent.id if isinstance(agent, la.VoiceAgent) else None,
            ),
            ("LLM configuration", accounts.llm_configurations.get, request.llm_configuration_id),
        ]
        for what, find, record_id in wanted:
            if not isinstance(record_id, str):
                continue
            try:
                find(call.owner, record_id)
            except RecordForeign:
                raise self._refuse(403, f"{what} {record_id} belongs to another account") from None
            except RecordMissing:
                raise self._refuse(404, f"{what} {record_id} not found") from None

    def _avatar_reply(self, call: Call, avatar: la.Avatar) -> Reply:
        return self._ok(
            call,
            la.AvatarEnvelope(
                code=self._config.liveavatar_success_code, message="success", data=avatar
            ),
        )

    def _entry(self, session: LiveAvatarSession) -> la.SessionEntry:
        now = self._state.clock.monotonic()
        duration = int(session.duration(now))
        return la.SessionEntry(
            id=session.id,
            created_at=iso_timestamp(session.created_unix),
            updated_at=iso_timestamp(session.updated_unix),
            duration=duration,
            source="API",
            mode=session.request.mode,
            is_sandbox=session.is_sandbox,
            credits_consumed=session.credits_consumed(now),
            end_at=iso_timestamp(session.ended_unix) if session.ended_unix is not None else None,
            end_reason=session.end_reason,
        )


def _matches(session: LiveAvatarSession, query: la.ListSessionsQuery) -> bool:
    if isinstance(query.avatar_id, str) and session.request.avatar_id != query.avatar_id:
        return False
    if isinstance(query.embed_id, str):
        return False  # sessions made over the API never belong to an embed
    if isinstance(query.context_id, str):
        # A dump, not attribute access: `avatar_persona` is deprecated and reading it warns.
        persona = session.request.model_dump(include={"avatar_persona"}).get("avatar_persona")
        return isinstance(persona, dict) and persona.get("context_id") == query.context_id
    return True


def _preview_wav(voice_id: str) -> str:
    """A short 24 kHz mono WAV of the simulated voice, base64-encoded (pitch per voice)."""
    pcm = tone_speech(_PREVIEW_SECONDS, seed=sum(voice_id.encode()))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
