"""A session's LiveKit room: the avatar's voice and video, users' audio, FULL data.

- `heygen_core.media.room`: the `MediaRoom` interface and the types it carries.
- `heygen_core.media.registry`: `open_room(url)` picks an implementation by the
  URL's scheme; `register_room` adds one.
- `heygen_core.media.livekit`: `LiveKitRoom`, on the ``livekit`` SDK (extra
  ``media``). The simulator's `LocalRoom` lives in `heygen_core.simulator.rooms`.
"""
