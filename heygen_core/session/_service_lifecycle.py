"""A session's life at the service: the request that creates it, its record, and its stop.

Once the create request may have reached the service, a session may exist
that only the request's answer names. From then on, every outcome ends in
one of two ways: the session is confirmed stopped, or what may be left
running is logged at ERROR (with how to find and stop it), even when the
process exits first (`ExitNotice`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from heygen_core.errors import (
    ApiError,
    CredentialsError,
    HeyGenError,
    InvalidRequestError,
    ServerError,
    SessionStateError,
    TransportError,
)
from heygen_core.session._cancellation import (
    MAX_ABSORBED_CANCELS,
    absorb_cancellation,
    wait_absorbing,
)
from heygen_core.session._exit_report import ExitNotice
from heygen_core.session.open_record import ApiName, OpenSessionEntry, OpenSessionRecord

if TYPE_CHECKING:
    # Types only: the REST clients (aiohttp, pydantic, the generated models)
    # are imported by whoever builds them, not by `import heygen_core.session`.
    from heygen_core.rest.liveavatar_client import LiveAvatarClient
    from heygen_core.rest.streaming_client import StreamingClient

logger = logging.getLogger("heygen_core.session")

# Stopping must finish even while the caller is being cancelled; this bounds it.
_STOP_TIMEOUT = 10.0
# How long the request that creates a session (token, streaming.new) may go
# on after its caller stopped waiting (cancelled, or its timeout ran out):
# once sent, it may have created a session, and only its answer names it.
_CREATE_GRACE = 10.0

R = TypeVar("R")


class ServiceLifecycle:
    """Creates a session at the service, records it while open, and stops it exactly once.

    Args:
        stop: Stops the session through REST (called only once it was created).
        api: The API the session belongs to (for the record and the hints logged).
        base_url: The API's base URL, without user info or query (for the record).
        record: Where the open session is recorded until its stop is
            confirmed (None: not recorded).
    """

    def __init__(
        self,
        *,
        stop: Callable[[], Awaitable[object]],
        api: ApiName,
        base_url: str,
        record: OpenSessionRecord | None,
    ) -> None:
        self._stop = stop
        self.api: ApiName = api
        """The API the session belongs to."""
        self._base_url = base_url
        self._record = record
        self._recorded = False
        self.session_id: str | None = None
        """The service's session id, once its create request was answered."""
        self.session_token: str | None = None
        """The session's token (LiveAvatar), once its create request was answered."""
        self.created = False
        """Whether the service named a created session (it must then be stopped)."""
        self.stopped_cleanly = False
        """Whether the REST stop call succeeded."""
        # The request that creates the session, run as its own task (see `create`).
        self._create_task: asyncio.Task[object] | None = None
        self._create_sent = False
        self._nothing_created = False
        self._stop_confirmed = False
        self._exit_notice = ExitNotice()

    @property
    def may_have_created(self) -> bool:
        """Whether a session may exist at the service that has not been seen stopped."""
        return self._create_sent and not self._nothing_created and not self._stop_confirmed

    async def create(
        self,
        client: LiveAvatarClient | StreamingClient,
        operation_id: str,
        send: Callable[[float], Awaitable[R]],
        identify: Callable[[R], tuple[str, str | None]],
    ) -> R:
        """Send the request that creates the session, as a task of its own.

        Once sent, it may have created a session that only its answer names,
        so a caller that stops waiting (cancelled, or `client.timeout` ran
        out) does not cut it short: it goes on for up to `_CREATE_GRACE`
        seconds more, and `settle_creation` waits (as long, at most) for its
        answer, so that `stop` stops that session.

        Args:
            client: The REST client (for its timeout and the operation's path).
            operation_id: The operation sent (for the error message).
            send: Sends it, given the seconds the request itself may take.
            identify: The session id and token (if any) in its answer.

        Raises:
            TransportError: No answer within `client.timeout` (the request goes on).
        """
        wait = client.timeout
        allowance = wait + _CREATE_GRACE

        async def request() -> R:
            answer = await send(allowance)
            self._adopt(*identify(answer))
            return answer

        self._create_sent = True
        self._exit_notice.set(
            "a session may have been created by this process and left running; " + self._find_hint()
        )
        task = asyncio.create_task(request(), name="heygen-create-session")
        self._create_task = task
        try:
            await asyncio.wait({task}, timeout=wait)
        except asyncio.CancelledError:
            if not task.done():
                logger.warning(
                    "cancelled while the service was creating the session: a session may "
                    "have been created; closing waits up to %g s for its answer and stops it",
                    _CREATE_GRACE,
                )
            raise
        if not task.done():
            op = client.spec.operation(operation_id)
            logger.warning(
                "no answer within %g s to %s %s: a session may have been created; "
                "closing waits up to %g s more for its answer and stops it",
                wait,
                op.method,
                op.path,
                _CREATE_GRACE,
            )
            raise TransportError(
                f"{op.method} {op.path}: no answer within {wait:g} s (raise timeout= if the "
                "service is slow); a session may have been created: closing the session "
                "waits for the answer and stops it",
                method=op.method,
                path=op.path,
                timed_out=True,
            )
        return task.result()

    def _adopt(self, session_id: str, session_token: str | None) -> None:
        """The service named the session: remember it, record it, and stop it when closing."""
        self.session_id = session_id
        self.session_token = session_token
        self.created = True
        self._exit_notice.set(
            f"session {session_id} was not stopped before the process exited; it ends at "
            f"its idle timeout: {self._stop_hint()}"
        )
        if self._record is None:
            return
        entry = OpenSessionEntry(
            api=self.api,
            session_id=session_id,
            base_url=self._base_url,
            pid=os.getpid(),
            created_at=time.time(),
        )
        try:
            self._record.add(entry)
            self._recorded = True
        except Exception as exc:
            logger.warning(
                "could not record open session %s in %s (%s); the session goes on",
                session_id,
                self._record.directory,
                exc,
            )

    async def settle_creation(self) -> None:
        """Wait (bounded) for an unanswered create request; log what may be left behind."""
        task = self._create_task
        if task is None:
            return
        if not task.done():
            await wait_absorbing(task, _CREATE_GRACE)
            if not task.done():
                task.cancel()
                self._report_unnamed(f"no answer within {_CREATE_GRACE:g} s")
                return
            if self.created:
                logger.info(
                    "the service created session %s after its caller stopped waiting; stopping it",
                    self.session_id,
                )
        if self.created:
            return
        if task.cancelled():
            self._report_unnamed("the request was cancelled before its answer")
            return
        error = task.exception()
        if error is None:
            return
        if _never_created(error):
            self._nothing_created = True
            self._exit_notice.clear()
        elif isinstance(error, ServerError):
            # It answered, with an error: most likely nothing was created.
            logger.warning(
                "the service failed while creating the session (%s); if it created one anyway, %s",
                error,
                self._find_hint(),
            )
            self._exit_notice.clear()
        else:
            self._report_unnamed(str(error))

    def _report_unnamed(self, reason: str) -> None:
        logger.error(
            "a session may have been created and not stopped (%s): %s", reason, self._find_hint()
        )
        self._exit_notice.clear()

    async def stop(self) -> None:
        """Stop the session through REST, bounded; on every other outcome, log it at ERROR."""
        if not self.created:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _STOP_TIMEOUT
        reason = f"no answer within {_STOP_TIMEOUT:g} s"
        absorbed = 0
        while (remaining := deadline - loop.time()) > 0:
            try:
                async with asyncio.timeout(remaining):
                    await self._stop()
            except asyncio.CancelledError:
                # Cancelled from outside: asyncio.run's teardown after a second
                # Ctrl-C cancels every task. Stopping is what ends the billing,
                # so start it again within the same bound (a few times at most).
                absorbed += 1
                if absorbed > MAX_ABSORBED_CANCELS:
                    self._report_not_stopped("the stop was cancelled")
                    raise
                absorb_cancellation()
                reason = "the stop was cancelled"
                continue
            except SessionStateError:
                # The service says the session is already over: nothing to stop.
                logger.info("session %s had already ended", self.session_id)
                self._confirm_stopped()
                return
            except TimeoutError:
                break
            except HeyGenError as exc:
                reason = str(exc)
                break
            except BaseException as exc:
                self._report_not_stopped(type(exc).__name__)
                raise
            self.stopped_cleanly = True
            self._confirm_stopped()
            return
        self._report_not_stopped(reason)

    def _confirm_stopped(self) -> None:
        self._stop_confirmed = True
        self._exit_notice.clear()
        if self._record is None or not self._recorded or self.session_id is None:
            return
        try:
            self._record.remove(self.api, self.session_id)
        except Exception as exc:
            logger.warning(
                "could not remove stopped session %s from %s (%s)",
                self.session_id,
                self._record.directory,
                exc,
            )

    def _report_not_stopped(self, reason: str) -> None:
        logger.error(
            "session %s was not stopped (%s); it ends at its idle timeout: %s",
            self.session_id,
            reason,
            self._stop_hint(),
        )
        self._exit_notice.clear()

    def _stop_hint(self) -> str:
        if self.api == "liveavatar":
            return f"stop it with `heygen-avatar sessions stop {self.session_id}`"
        return "stop it with StreamingClient.stop_session (its session_id)"

    def _find_hint(self) -> str:
        if self.api == "liveavatar":
            return (
                "list the open sessions with `heygen-avatar sessions list` and stop it with "
                "`heygen-avatar sessions stop ID`"
            )
        return "list the open sessions with StreamingClient.list_sessions and stop it"


def _never_created(error: BaseException) -> bool:
    """Whether a failed create request certainly created nothing."""
    if isinstance(error, ApiError):
        # The service answered and refused (a 5xx may have done anything).
        return not isinstance(error, ServerError)
    if isinstance(error, TransportError):
        # Imported here, not at the top, to keep aiohttp out of
        # `from heygen_core import AvatarSession`; a transport error means it is loaded.
        import aiohttp

        # No connection at all: the request never reached the service.
        return isinstance(error.__context__, aiohttp.ClientConnectorError)
    # Refused by the client itself, before anything was sent.
    return isinstance(error, CredentialsError | InvalidRequestError)
