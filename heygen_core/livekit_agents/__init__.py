"""A HeyGen avatar for LiveKit Agents (extra ``livekit-agents``): `AvatarSession`.

A drop-in for LiveKit's LiveAvatar plugin, on our session::

    from heygen_core.livekit_agents import AvatarSession

    avatar = AvatarSession(avatar_id=..., api_key=...)
    await avatar.start(agent_session, room=ctx.room)

Modules: `avatar` (`AvatarSession`), `audio_output` (`HeyGenAudioOutput`,
the agent's audio output that feeds our pump), `_tokens` (the avatar's
LiveKit credentials and room token) and `_listening` (the listening pose
following the agent's state).
"""

from heygen_core._extras import import_extra

# Before the modules below import it: a missing extra says which to install.
import_extra("livekit.agents", extra="livekit-agents", feature="heygen_core.livekit_agents")
import_extra("livekit.api", extra="livekit-agents", feature="heygen_core.livekit_agents")

from heygen_core.livekit_agents._tokens import LiveKitCredentials  # noqa: E402
from heygen_core.livekit_agents.audio_output import HeyGenAudioOutput  # noqa: E402
from heygen_core.livekit_agents.avatar import AvatarSession, VideoQuality  # noqa: E402

__all__ = ["AvatarSession", "HeyGenAudioOutput", "LiveKitCredentials", "VideoQuality"]
