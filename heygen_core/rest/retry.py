"""When and how long to wait before repeating a failed REST call."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Retry limits for REST calls.

    A 429 is retried for every operation, after the ``Retry-After`` the
    service sent: the request was refused before it did anything. A 5xx, a
    connection failure or a timeout is retried only for operations that are
    safe to repeat (GETs, keep-alive, stop), with capped, jittered
    exponential backoff: creating a token or a session is never repeated
    blindly, because the first attempt may have succeeded.

    Attributes:
        max_attempts: Attempts in all, the first included (1 disables retries).
        base_delay: Backoff before the second attempt, in seconds; doubles
            after each failure.
        max_delay: Cap on one backoff, in seconds.
        max_retry_after: Longest ``Retry-After`` honoured; a longer one raises
            the `RateLimitError` at once rather than stalling the caller.
    """

    max_attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError("delays must not be negative")

    def backoff(self, failures: int) -> float:
        """Seconds to wait after `failures` consecutive failures (full jitter)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (failures - 1))
        # Full jitter spreads the retries of many clients that failed together.
        return random.uniform(0, ceiling)


NO_RETRY = RetryPolicy(max_attempts=1)
"""A policy that never retries."""
