"""Fields that senders name differently: one reader for each, so callers see one value.

The service and the clients around it disagree on a few field names (the
schemas accept every spelling seen; see docs/protocol.md). These functions
read whichever spelling a message carries.
"""

from __future__ import annotations

from heygen_models import full, lite


def stop_reason(event: full.SessionStopped) -> str | None:
    """Why a FULL (or connector) session ended, from ``end_reason`` or ``stop_reason``.

    The vendor's FULL events page names the field ``end_reason``; the
    official SDK and the connector pages name it ``stop_reason``. None when
    the event carries neither.
    """
    if isinstance(event.end_reason, full.SessionEndReason):
        return event.end_reason.root
    if isinstance(event.stop_reason, str):
        return event.stop_reason
    return None


def agent_state(event: lite.AgentStateUpdated) -> str | None:
    """The avatar's new LITE activity state (``idle``, ``listening``, ``talking``).

    Live sessions send ``new_state``; some senders a bare ``state``. None
    when the event carries neither.
    """
    if isinstance(event.new_state, str):
        return event.new_state
    if isinstance(event.state, str):
        return event.state
    return None
