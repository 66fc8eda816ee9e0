"""Request bodies real clients send, exactly as captured; the simulator must accept them."""

SANDBOX_AVATAR = "dd73ea75-1218-4ef3-92ce-606d5f7fbc0a"

# The official LiveAvatar demo's LITE token request.
OFFICIAL_LITE_TOKEN_BODY = {"mode": "LITE", "avatar_id": SANDBOX_AVATAR, "is_sandbox": True}

# What Pipecat's HeyGen service sends to streaming.new: every key its
# NewSessionRequest declares (and no other: it has no `stt_settings`), null when unset.
PIPECAT_NEW_SESSION_BODY = {
    "quality": "high",
    "avatar_id": "Shawn_Therapist_public",
    "voice": {"voice_id": None, "rate": None, "emotion": None, "elevenlabs_settings": None},
    "video_encoding": "H264",
    "knowledge_id": None,
    "knowledge_base": None,
    "version": "v2",
    "disable_idle_timeout": None,
    "activity_idle_timeout": None,
}
