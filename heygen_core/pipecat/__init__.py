"""Drop-in Pipecat HeyGen classes on heygen-core's session (extra ``pipecat``).

Change one import; the pipeline stays as it is::

    # from pipecat.services.heygen.video import HeyGenVideoService
    from heygen_core.pipecat import HeyGenVideoService

    # from pipecat.transports.heygen.transport import HeyGenParams, HeyGenTransport
    from heygen_core.pipecat import HeyGenParams, HeyGenTransport

Both take Pipecat's constructor arguments (and ``base_url=``, to point them
at the embedded simulator) and run on `heygen_core.session.AvatarSession`:
audio sent before the session is ready is held, not dropped; one
``event_id`` per TTS turn; keep-alive and reconnect; conversion to 24 kHz;
typed errors as ``ErrorFrame``s. Modules: `video_service`, `transport`,
`_link` (a session driven turn by turn) and `_requests` (Pipecat's
requests converted to ours).
"""

from __future__ import annotations

from heygen_core._extras import import_extra

# Before anything imports Pipecat: without the extra, one line saying what to install.
import_extra("pipecat", extra="pipecat", feature="heygen_core.pipecat")

from pipecat.services.heygen.api_interactive_avatar import NewSessionRequest  # noqa: E402
from pipecat.services.heygen.api_liveavatar import LiveAvatarNewSessionRequest  # noqa: E402
from pipecat.services.heygen.client import ServiceType  # noqa: E402
from pipecat.transports.heygen.transport import HeyGenParams  # noqa: E402

from heygen_core.pipecat.transport import (  # noqa: E402
    HeyGenInputTransport,
    HeyGenOutputTransport,
    HeyGenTransport,
)
from heygen_core.pipecat.video_service import HeyGenVideoService  # noqa: E402

__all__ = [
    "HeyGenInputTransport",
    "HeyGenOutputTransport",
    "HeyGenParams",
    "HeyGenTransport",
    "HeyGenVideoService",
    "LiveAvatarNewSessionRequest",
    "NewSessionRequest",
    "ServiceType",
]
