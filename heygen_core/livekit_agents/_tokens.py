"""The avatar's LiveKit credentials and room token (``livekit_config`` of the LITE token request).

The avatar joins the agent's own room (the token request's ``livekit_config``,
``LiveKitConfig`` in schemas/rest/liveavatar.openapi.yaml) with a token the
agent mints: ``livekit-api``'s `AccessToken`, for the room the agent is in,
under the identity the avatar will have there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from livekit import api
from livekit.agents.voice.room_io import ATTRIBUTE_PUBLISH_ON_BEHALF

from heygen_core.errors import CredentialsError

URL_ENV = "LIVEKIT_URL"
"""The LiveKit server URL, when not given (as LiveKit Agents reads it)."""
API_KEY_ENV = "LIVEKIT_API_KEY"
"""The LiveKit API key, when not given."""
API_SECRET_ENV = "LIVEKIT_API_SECRET"
"""The LiveKit API secret, when not given."""


@dataclass(frozen=True)
class LiveKitCredentials:
    """Where the agent's LiveKit server is and the key pair that signs room tokens.

    Attributes:
        url: The server's URL (``wss://...``), given to the avatar.
        api_key: The LiveKit API key.
        api_secret: The LiveKit API secret (never shown in a ``repr``).
    """

    url: str
    api_key: str
    api_secret: str = field(repr=False)

    @classmethod
    def resolve(
        cls, url: str | None, api_key: str | None, api_secret: str | None
    ) -> LiveKitCredentials:
        """The credentials given, each missing one read from its ``LIVEKIT_*`` variable.

        Raises:
            CredentialsError: One of the three is neither given nor set.
        """
        values = {
            URL_ENV: url or os.environ.get(URL_ENV),
            API_KEY_ENV: api_key or os.environ.get(API_KEY_ENV),
            API_SECRET_ENV: api_secret or os.environ.get(API_SECRET_ENV),
        }
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise CredentialsError(
                "the avatar joins your LiveKit room with a token signed by your LiveKit key: "
                f"set {', '.join(missing)} or pass livekit_url=, livekit_api_key= and "
                "livekit_api_secret= to AvatarSession.start"
            )
        return cls(
            url=str(values[URL_ENV]),
            api_key=str(values[API_KEY_ENV]),
            api_secret=str(values[API_SECRET_ENV]),
        )


def avatar_room_token(
    credentials: LiveKitCredentials,
    *,
    room: str,
    identity: str,
    name: str,
    publish_on_behalf: str | None,
) -> str:
    """A token for the avatar to join `room` as `identity`, publishing for the agent.

    It is an ``agent``-kind participant whose ``lk.publish_on_behalf``
    attribute names the agent, as LiveKit's own avatar plugins mint it: the
    room's clients then take the avatar's audio and video as the agent's.
    """
    token = (
        api.AccessToken(api_key=credentials.api_key, api_secret=credentials.api_secret)
        .with_kind("agent")
        .with_identity(identity)
        .with_name(name)
        .with_grants(api.VideoGrants(room_join=True, room=room))
    )
    if publish_on_behalf:
        token = token.with_attributes({ATTRIBUTE_PUBLISH_ON_BEHALF: publish_on_behalf})
    return token.to_jwt()
