"""The retry policy: exponential backoff, but never sooner than the provider's own Retry-After."""

from __future__ import annotations

from channels.base import DeliveryFailed
from channels.x import RateLimited
from crisis.outbox import MAX_PROVIDER_WAIT_S, RetryPolicy

POLICY = RetryPolicy(max_attempts=5, base_delay=5.0, factor=2.0, max_delay=300.0)


def test_backoff_grows_then_caps():
    error = DeliveryFailed("connexion refusée", retryable=True)
    assert [POLICY.retry_after(error, n) for n in (1, 2, 3)] == [5.0, 10.0, 20.0]
    assert RetryPolicy(max_attempts=20, max_delay=300.0).retry_after(error, 12) == 300.0
    assert POLICY.retry_after(error, 5) is None  # attempts exhausted


def test_provider_retry_after_wins_over_a_shorter_backoff():
    """X says its window reopens in 14 minutes: retrying in 5 s would be refused again."""
    assert POLICY.retry_after(RateLimited("X : trop de requêtes", retry_after_s=840), 1) == 840
    assert POLICY.retry_after(RateLimited("X", retry_after_s=2), 3) == 20.0  # backoff longer
    assert POLICY.retry_after(RateLimited("X", retry_after_s=None), 1) == 5.0
    assert POLICY.retry_after(RateLimited("X", retry_after_s=10**6), 1) == MAX_PROVIDER_WAIT_S


def test_not_retryable_or_ambiguous_is_never_retried():
    assert POLICY.retry_after(DeliveryFailed("jeton expiré", retryable=False), 1) is None
    ambiguous = DeliveryFailed("délai dépassé", retryable=True, ambiguous=True)
    assert POLICY.retry_after(ambiguous, 1) is None
