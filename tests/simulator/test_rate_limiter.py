"""The simulator's rate limiter: its limit, and memory that stays bounded over a long run."""

from __future__ import annotations

from heygen_core.simulator.limits import RateLimiter
from heygen_core.simulator.state import Clock


class ManualClock(Clock):
    """A clock the test moves by hand."""

    def __init__(self, now: float = 100.25) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now

    def unix(self) -> float:
        return 1_700_000_000.0 + self.now


def test_the_limit_holds_within_a_second_and_resets_with_the_next() -> None:
    clock = ManualClock()
    limiter = RateLimiter(2, clock)
    assert limiter.hit("key-a", "liveavatar.list_avatars") is None
    assert limiter.hit("key-a", "liveavatar.list_avatars") is None
    limited = limiter.hit("key-a", "liveavatar.list_avatars")
    assert limited is not None and limited.retry_after == 1
    # Per caller and per endpoint.
    assert limiter.hit("key-b", "liveavatar.list_avatars") is None
    assert limiter.hit("key-a", "liveavatar.list_voices") is None
    clock.now += 1
    assert limiter.hit("key-a", "liveavatar.list_avatars") is None


def test_counters_of_past_seconds_are_dropped() -> None:
    clock = ManualClock()
    limiter = RateLimiter(5, clock)
    for caller in range(10_000):
        limiter.hit(f"key-{caller}", "liveavatar.list_avatars")
    assert limiter.counters == 10_000
    clock.now += 1
    limiter.hit("key-late", "liveavatar.list_avatars")
    assert limiter.counters == 1  # the 10,000 keys of the past second are gone
    for second in range(50):
        clock.now += 1
        for caller in range(100):
            limiter.hit(f"key-{second}-{caller}", "streaming.create_token")
        assert limiter.counters == 100
