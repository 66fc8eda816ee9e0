"""What every group of simulated LiveAvatar handlers shares: the state and the answers."""

from __future__ import annotations

from heygen_models import liveavatar as la

from heygen_core.simulator.rest.endpoint import Call
from heygen_core.simulator.rest.replies import LiveAvatarDialect, Refusal, Reply
from heygen_core.simulator.runtime import Runtime


class LiveAvatarHandlers:
    """Base of the LiveAvatar route classes: success answers and refusals in the API's shapes."""

    def __init__(self, runtime: Runtime, dialect: LiveAvatarDialect) -> None:
        """Create the handlers over `runtime`'s state, answering errors in `dialect`."""
        self._rt = runtime
        self._state = runtime.state
        self._config = runtime.config
        self._dialect = dialect

    @staticmethod
    def _ok(call: Call, body: la.Envelope) -> Reply:
        return Reply(call.op.success_status, body)

    def _refuse(self, status: int, message: str) -> Refusal:
        return Refusal(self._dialect.error(status, message))
