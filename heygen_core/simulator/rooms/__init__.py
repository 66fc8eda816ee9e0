"""The simulator's rooms, standing in for LiveKit offline.

`hub` holds each session's room and its participants; `wire` and `control`
are the typed loopback transport between the hub and `local_room.LocalRoom`
(the client side, registered for ``heygen-sim://`` URLs); `full_agent` answers
FULL-mode commands; `avatar_media` makes the avatar's voice and video;
`tokens` signs and checks the room tokens.
"""
