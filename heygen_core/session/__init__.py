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
`_full_commands` and `_long_audio`. `startup` (`StartupLimits`): how many sessions
of one event loop set up, and send their first audio burst, at once.

Names are imported on first use, as in the top package: `SessionEvent` (the
union of every typed event) would import the generated models and pydantic,
and `SpeakResult` the audio stack, for a caller who wants only `AvatarSession`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heygen_core._lazy import lazy_exports

if TYPE_CHECKING:
    from heygen_core.realtime.events import SessionEvent
    from heygen_core.session.avatar_session import SANDBOX_AVATAR_ID, AvatarSession
    from heygen_core.session.open_record import OpenSessionEntry, OpenSessionRecord
    from heygen_core.session.speak_result import SpeakResult
    from heygen_core.session.startup import StartupLimits, set_startup_limits, startup_limits

__all__ = [
    "SANDBOX_AVATAR_ID",
    "AvatarSession",
    "OpenSessionEntry",
    "OpenSessionRecord",
    "SessionEvent",
    "SpeakResult",
    "StartupLimits",
    "set_startup_limits",
    "startup_limits",
]

_LAZY = {
    "SessionEvent": "heygen_core.realtime.events",
    "SANDBOX_AVATAR_ID": "heygen_core.session.avatar_session",
    "AvatarSession": "heygen_core.session.avatar_session",
    "OpenSessionEntry": "heygen_core.session.open_record",
    "OpenSessionRecord": "heygen_core.session.open_record",
    "SpeakResult": "heygen_core.session.speak_result",
    "StartupLimits": "heygen_core.session.startup",
    "set_startup_limits": "heygen_core.session.startup",
    "startup_limits": "heygen_core.session.startup",
}

if not TYPE_CHECKING:
    # Run time only: mypy sees the TYPE_CHECKING imports above instead, so a
    # misspelled import is an error rather than `Any`.
    __getattr__, __dir__ = lazy_exports(globals(), _LAZY)
