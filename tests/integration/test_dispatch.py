"""Outbox dispatch: retries, ambiguous sends reconciled, rate limits, cancellation, expiry."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

import pytest

from channels.base import ChannelName, DeliveryFailed, OutgoingMessage, Receipt
from crisis.clock import FakeClock
from crisis.model import OutboxState, SendMessage
from crisis.outbox import ChannelLimits, Dispatcher, RetryPolicy, TokenBucket
from crisis.store import Store
from playbooks.model import Engagement
from tests.integration.helpers import activate, journal, of_type


class ScriptedChannel:
    """A provider whose answers tests script per attempt: a receipt, or an exception."""

    def __init__(self, name: ChannelName, script: list[object] | None = None) -> None:
        self.name = name
        self.script = list(script or [])
        self.accepted: dict[str, str] = {}  # idempotency key -> provider id (the provider's memory)
        self.calls: list[str] = []

    async def send(self, message: OutgoingMessage) -> Receipt:
        if message.step_id == "test":
            self.calls.append(message.idempotency_key)
        scripted = message.step_id == "test" and self.script  # the playbook's own sends just pass
        action = self.script.pop(0) if scripted else "ok"
        if action == "ambiguous-accepted":  # the provider got it, the answer was lost
            self.accepted[message.idempotency_key] = f"P{len(self.calls)}"
            raise DeliveryFailed("délai dépassé", retryable=False, ambiguous=True)
        if isinstance(action, DeliveryFailed):
            raise action
        self.accepted[message.idempotency_key] = f"P{len(self.calls)}"
        return Receipt(provider_id=f"P{len(self.calls)}")

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        pid = self.accepted.get(message.idempotency_key)
        return None if pid is None else Receipt(provider_id=pid)


def _queue(
    store: Store, crisis_id: str, clock: FakeClock, n: int, **extra: object
) -> list[SendMessage]:
    messages = [
        SendMessage(
            idempotency_key=f"{crisis_id}:test:c{i}:email:v1",
            crisis_id=crisis_id,
            step_id="test",
            engagement=Engagement.E48_1,
            channel=ChannelName.EMAIL,
            contact_id=f"c{i}",
            address=f"c{i}@example.org",
            commune="42218",
            body="Alerte inondation",
            **extra,  # type: ignore[arg-type]
        )
        for i in range(n)
    ]
    with store.transaction() as tx:
        tx.enqueue(messages, clock.now())
    return messages


def _dispatcher(
    app, channel, *, rate: float = 100.0, retry: RetryPolicy | None = None
) -> Dispatcher:
    return Dispatcher(
        app.store,
        {channel.name: channel},
        {channel.name: ChannelLimits(rate_per_second=rate, burst=1, concurrency=4)},
        app.clock,
        retry=retry or RetryPolicy(max_attempts=3, base_delay=1.0),
        flush_every=0.01,
        reconcile_every=1,
    )


async def _run(dispatcher: Dispatcher, clock: FakeClock, rounds: int = 6) -> None:
    """Dispatch, letting fake time pass between rounds so that retries fall due."""
    for _ in range(rounds):
        await dispatcher.drain()
        clock.advance(60)


def _states(app, crisis_id: str) -> Counter[str]:
    with app.store.transaction() as tx:
        counts = tx.outbox_counts(crisis_id)
    return Counter({state: n for (channel, state), n in counts.items() if channel == "email"})


def _attempts(app, crisis_id: str) -> list:
    return [
        e.fact
        for e in of_type(journal(app, crisis_id), "DeliveryAttempted")
        if e.fact.step_id == "test"
    ]


async def test_retryable_failure_is_retried_then_sent(app, clock):
    """A 429 or refused connection is retried after the policy's backoff, and journaled each time."""
    crisis = activate(app, clock.now()).crisis
    _queue(app.store, crisis.id, clock, 1)
    channel = ScriptedChannel(
        ChannelName.EMAIL, [DeliveryFailed("trop de requêtes (429)", retryable=True)]
    )
    await _run(_dispatcher(app, channel), clock)
    attempts = _attempts(app, crisis.id)
    assert [a.outcome for a in attempts] == ["retry", "sent"]
    assert [a.attempt for a in attempts] == [1, 2]
    assert _states(app, crisis.id)["sent"] == 1


async def test_permanent_failure_stops_and_keeps_the_french_reason(app, clock):
    """A refused number is not retried; the on-call agent reads why."""
    crisis = activate(app, clock.now()).crisis
    _queue(app.store, crisis.id, clock, 1)
    channel = ScriptedChannel(
        ChannelName.EMAIL, [DeliveryFailed("numéro non attribué", retryable=False)]
    )
    await _run(_dispatcher(app, channel), clock)
    attempts = _attempts(app, crisis.id)
    assert [a.outcome for a in attempts] == ["failed"]
    assert attempts[0].reason == "numéro non attribué"
    assert len(channel.calls) == 1


async def test_retries_stop_at_the_policy_limit(app, clock):
    """After max_attempts retryable failures the row fails for good."""
    crisis = activate(app, clock.now()).crisis
    _queue(app.store, crisis.id, clock, 1)
    busy = DeliveryFailed("opérateur saturé", retryable=True)
    channel = ScriptedChannel(ChannelName.EMAIL, [busy, busy, busy, busy])
    await _run(_dispatcher(app, channel), clock)
    assert [a.outcome for a in _attempts(app, crisis.id)] == ["retry", "retry", "failed"]
    assert len(channel.calls) == 3


async def test_ambiguous_send_accepted_by_provider_is_not_sent_twice(app, clock):
    """A timeout after the request left is looked up: found at the provider, it is not resent."""
    crisis = activate(app, clock.now()).crisis
    _queue(app.store, crisis.id, clock, 1)
    channel = ScriptedChannel(ChannelName.EMAIL, ["ambiguous-accepted"])
    await _run(_dispatcher(app, channel), clock)
    assert [a.outcome for a in _attempts(app, crisis.id)] == ["unknown", "reconciled"]
    assert len(channel.calls) == 1
    assert _states(app, crisis.id)["sent"] == 1


async def test_ambiguous_send_unknown_to_provider_is_sent_again(app, clock):
    """A timeout where the provider has no trace of the message leads to one new send."""
    crisis = activate(app, clock.now()).crisis
    _queue(app.store, crisis.id, clock, 1)
    channel = ScriptedChannel(
        ChannelName.EMAIL, [DeliveryFailed("délai dépassé", retryable=False, ambiguous=True)]
    )
    await _run(_dispatcher(app, channel), clock)
    assert [a.outcome for a in _attempts(app, crisis.id)] == ["unknown", "retry", "sent"]
    assert len(channel.calls) == 2


async def test_stale_message_is_not_sent(app, clock):
    """A message past its validity is dropped and journaled as expired: a stale alert is worse than none."""
    crisis = activate(app, clock.now()).crisis
    _queue(app.store, crisis.id, clock, 1, valid_until=clock.now() - timedelta(seconds=1))
    channel = ScriptedChannel(ChannelName.EMAIL)
    await _run(_dispatcher(app, channel), clock)
    assert [a.outcome for a in _attempts(app, crisis.id)] == ["expired"]
    assert channel.calls == []


async def test_sends_are_paced_at_the_channel_rate(app, clock):
    """Ten messages at 2 per second take 4.5 s of clock time after the first."""
    crisis = activate(app, clock.now()).crisis
    _queue(app.store, crisis.id, clock, 10)
    stamps: list[float] = []
    channel = ScriptedChannel(ChannelName.EMAIL)
    original = channel.send

    async def timed(message: OutgoingMessage) -> Receipt:
        if message.step_id == "test":
            stamps.append(clock.monotonic())
        return await original(message)

    channel.send = timed  # type: ignore[method-assign]
    start = clock.monotonic()
    await _run(_dispatcher(app, channel, rate=2.0), clock)
    assert len(stamps) == 10, stamps
    # tokens are taken at 0, 0.5, ... 4.5 s of clock time: nine intervals of 1/rate
    assert stamps[-1] - start == pytest.approx(4.5, abs=0.01)
    assert all(b >= a for a, b in itertools.pairwise(stamps))


async def test_token_bucket_allows_a_burst_then_the_rate():
    """A bucket of 3 lets three through at once, then one every 1/rate seconds."""
    clock = FakeClock(__import__("tests.conftest", fromlist=["T0"]).T0)
    bucket = TokenBucket(rate=10.0, burst=3, clock=clock)
    times = []
    for _ in range(5):
        await bucket.acquire()
        times.append(clock.monotonic())
    assert times[:3] == [0.0, 0.0, 0.0]
    assert times[3] == pytest.approx(0.1) and times[4] == pytest.approx(0.2)


async def test_acknowledgement_cancels_the_communes_queued_calls(app, clock):
    """Once an official of a commune confirms, nothing more leaves for that commune's 48.1 alerts."""
    crisis = activate(app, clock.now()).crisis
    _queue(app.store, crisis.id, clock, 3)
    app.orchestrator.acknowledge(crisis.id, "maire-42218", crisis.recorded_by)
    channel = ScriptedChannel(ChannelName.EMAIL)
    await _run(_dispatcher(app, channel), clock)
    assert channel.calls == []
    assert _states(app, crisis.id)["cancelled"] == 3
    assert {a.outcome for a in _attempts(app, crisis.id)} == {"cancelled"}


async def test_every_outbox_row_has_a_unique_idempotency_key(app, clock):
    """Queuing the same intent twice is refused by the outbox, never sent twice."""
    crisis = activate(app, clock.now()).crisis
    _queue(app.store, crisis.id, clock, 1)
    with pytest.raises(Exception):  # noqa: B017 - the database's unique constraint
        _queue(app.store, crisis.id, clock, 1)
    assert sum(_states(app, crisis.id).values()) == 1
    assert OutboxState.PENDING.value in _states(app, crisis.id)


class UnreachableProvider(ScriptedChannel):
    """A provider whose look-up API is down."""

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        raise DeliveryFailed("API du fournisseur injoignable", retryable=True)


async def test_crash_leftover_that_cannot_be_looked_up_is_kept_unknown_not_resent(app, clock):
    """A row left `sending` by a crash, with the provider's look-up down, is never sent blindly."""
    crisis = activate(app, clock.now()).crisis
    _queue(app.store, crisis.id, clock, 1)
    with app.store.transaction() as tx:
        claimed = tx.claim_due(ChannelName.EMAIL, clock.now(), 10)  # then the process "died"
    assert len(claimed) == 1
    channel = UnreachableProvider(ChannelName.EMAIL)
    await _run(_dispatcher(app, channel), clock, rounds=2)
    assert channel.calls == []
    assert _states(app, crisis.id)["unknown"] == 1
    assert [a.outcome for a in _attempts(app, crisis.id)] == ["unknown"]
