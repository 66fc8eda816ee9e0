"""`AvatarSession`: open a streaming-avatar session in one line, speak, and never leak it.

    async with AvatarSession.live_avatar(avatar_id=..., sandbox=True) as session:
        await session.speak("hello.wav")

Entering creates the session token, starts the session, opens the control
socket and waits until the service is ready. Leaving stops the session
through REST exactly once, whatever the exit: a return, an exception, task
cancellation or Ctrl-C. A session left open keeps billing.

Modules: `avatar_session` (lifecycle, REST, events), `_lite_driver` (control
socket and audio pump), `_full_driver` (FULL commands over the room's data
channel), `speak_result` (what `speak` returns), `open_record` (the sessions
opened and not yet seen stopped, on disk, so a crashed process's sessions
can be stopped later). The session's parts: `_service_lifecycle` (create
request, record and stop), `_cancellation`, `_exit_report`, `_api_calls`,
`_full_commands` and `_long_audio`.
"""

from heygen_core.realtime.events import SessionEvent
from heygen_core.session.avatar_session import SANDBOX_AVATAR_ID, AvatarSession
from heygen_core.session.open_record import OpenSessionEntry, OpenSessionRecord
from heygen_core.session.speak_result import SpeakResult

__all__ = [
    "SANDBOX_AVATAR_ID",
    "AvatarSession",
    "OpenSessionEntry",
    "OpenSessionRecord",
    "SessionEvent",
    "SpeakResult",
]
