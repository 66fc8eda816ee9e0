"""`SpeakResult`: the utterances one `AvatarSession.speak` call is sending."""

from __future__ import annotations

import asyncio

from heygen_core.audio.pump import EndedBy, Utterance, UtteranceStatus


class SpeakResult:
    """What `AvatarSession.speak` is sending: its utterances, awaitable for their outcome.

    With ``wait=False`` the audio is still being sent in the background;
    `finished()` waits for that and for the avatar, and raises what the
    sending raised (a bad item in a stream, a lost connection).
    """

    def __init__(self, utterances: list[Utterance], task: asyncio.Task[None]) -> None:
        self._utterances = utterances
        self._task = task

    def __repr__(self) -> str:
        return f"SpeakResult({self._utterances!r})"

    @property
    def utterances(self) -> tuple[Utterance, ...]:
        """The utterances so far (a stream with pauses adds more while it is sent)."""
        return tuple(self._utterances)

    @property
    def event_ids(self) -> tuple[str, ...]:
        """The event id of each utterance so far."""
        return tuple(u.event_id for u in self._utterances)

    @property
    def sent(self) -> bool:
        """Whether sending has finished (all audio on the wire, or stopped)."""
        return self._task.done()

    @property
    def ended_by(self) -> tuple[EndedBy | None, ...]:
        """What ended each utterance so far (`EndedBy`; None while it is unfinished).

        ``speak_ended``, ``state_idle`` and ``interrupt_ack`` were reported by
        the service; ``deadline`` means none came and the utterance was
        assumed over once its audio had time to play.
        """
        return tuple(u.ended_by for u in self._utterances)

    async def finished(self) -> tuple[UtteranceStatus, ...]:
        """Wait until the avatar is done with every utterance; return their statuses.

        If the session closes first, its unfinished utterances are ``lost``
        (``ended_by="client_closed"``): that is returned, not raised.
        Cancelling the caller still cancels this wait (not the sending).
        An exception the user's audio stream raised is raised here as is.

        Raises:
            AudioFormatError: A stream held bad audio (its utterance was interrupted).
            RealtimeConnectionError: The connection was lost while sending.
        """
        task = self._task
        if not task.done():
            # `wait`, not awaiting the task: closing the session cancels the
            # sending task, and that cancellation is not the caller's to
            # receive (it would tear down a TaskGroup nobody cancelled).
            # Only a cancellation of the caller itself is raised from here.
            await asyncio.wait([task])
        if not task.cancelled():
            task.result()  # raises what the sending raised
        return tuple([await u.finished() for u in self._utterances])
