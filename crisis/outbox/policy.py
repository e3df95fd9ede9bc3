"""The outbox's pace and patience: retry policy, a provider's limits, the token bucket."""

from __future__ import annotations

from dataclasses import dataclass

from channels.base import DeliveryFailed
from crisis.clock import Clock


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed send is tried again: only if it cannot duplicate, with exponential backoff."""

    max_attempts: int = 5
    base_delay: float = 5.0
    factor: float = 2.0
    max_delay: float = 300.0

    def retry_after(self, error: DeliveryFailed, attempts: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        if not error.retryable or error.ambiguous or attempts >= self.max_attempts:
            return None
        backoff = min(self.max_delay, self.base_delay * self.factor ** (attempts - 1))
        # the provider's Retry-After wins over a shorter backoff: trying earlier would only be
        # refused again (X's 15-minute windows), but never more than an hour
        asked = min(error.retry_after_s or 0.0, MAX_PROVIDER_WAIT_S)
        return max(backoff, asked)


MAX_PROVIDER_WAIT_S = 3600.0


@dataclass(frozen=True)
class ChannelLimits:
    """A provider's physical limits (messages per second, burst, parallel requests)."""

    rate_per_second: float
    burst: int = 1
    concurrency: int = 10


class TokenBucket:
    """Paces sends at `rate` per clock second, allowing `burst` at once."""

    def __init__(self, rate: float, burst: int, clock: Clock) -> None:
        self.rate = rate
        self.capacity = max(1.0, float(burst))
        self.tokens = self.capacity
        self.clock = clock
        self.stamp = clock.monotonic()

    async def acquire(self) -> None:
        """Wait for a token."""
        while True:
            now = self.clock.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if (
                self.tokens >= 1.0 - 1e-9
            ):  # tolerance: float sums of refills never reach 1.0 exactly
                self.tokens = max(0.0, self.tokens - 1.0)
                return
            await self.clock.sleep(max(1e-6, (1.0 - self.tokens) / self.rate))
