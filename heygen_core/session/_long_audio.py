"""The warning for audio longer than the session can still last.

A session ends at its maximum duration (the sandbox's is about a minute),
whatever is still playing: the service closes it with
``MAX_DURATION_REACHED``. Whole audio (a buffer or a file) is measured
before it is sent, so the user hears of it first, with how to get longer
sessions.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from heygen_core.session.open_record import ApiName

if TYPE_CHECKING:
    from heygen_core.audio.format import AudioInput

logger = logging.getLogger("heygen_core.session")


class LongAudioWarning:
    """A started session's clock, and the warning for whole audio that outlasts it.

    Args:
        api: The API the session belongs to (how to get longer sessions differs).
    """

    def __init__(self, api: ApiName) -> None:
        self._api: ApiName = api
        self._started_at: float | None = None
        self._max_duration: int | None = None

    def started(self, max_duration: object) -> None:
        """The session started: its clock runs from now, for `max_duration` seconds if known."""
        self._started_at = time.monotonic()
        self._max_duration = (
            max_duration
            if isinstance(max_duration, int)
            and not isinstance(max_duration, bool)
            and max_duration > 0
            else None
        )

    def seconds_left(self) -> float | None:
        """Seconds the session may still last (its maximum duration, from start), if known."""
        if self._started_at is None or self._max_duration is None:
            return None
        return max(0.0, self._max_duration - (time.monotonic() - self._started_at))

    def check(
        self,
        audio: AudioInput,
        sample_rate: int | None,
        channels: int | None,
        session_id: str | None,
    ) -> None:
        """Warn, before sending, about whole audio longer than the session can still last."""
        left = self.seconds_left()
        if left is None:
            return
        seconds = audio_seconds(audio, sample_rate, channels)
        if seconds is None or seconds <= left:
            return
        if self._api == "liveavatar":
            how = (
                "for longer sessions use a non-sandbox session (your own avatar_id, "
                "sandbox=False) and set max_session_duration in its token request "
                "(token_request=)"
            )
        else:
            how = "the account's session_duration_limit caps it"
        logger.warning(
            "this audio lasts %.1f s but session %s can last only %.1f s more "
            "(max_session_duration %d s from its start): the service ends the session "
            "before the audio ends; %s",
            seconds,
            session_id,
            left,
            self._max_duration,
            how,
        )


def audio_seconds(audio: AudioInput, sample_rate: int | None, channels: int | None) -> float | None:
    """How long whole audio lasts, read from its size and header; None when it cannot be told.

    Never raises: audio it cannot measure is left for the pump to convert,
    or to refuse with its own error.
    """
    # Imported here, not at the top: the audio stack (numpy, soxr) is loaded by
    # the first speak, not by `from heygen_core import AvatarSession`.
    from heygen_core.audio.convert import input_duration

    try:
        return input_duration(audio, sample_rate, channels)
    except Exception:
        return None
