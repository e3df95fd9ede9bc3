"""Dispatch of the outbox: rate limits, concurrency, retries, reconciliation, journaled attempts."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import timedelta

from channels.base import Channel, ChannelName, DeliveryFailed, OutgoingMessage, Receipt, Recipient
from crisis.clock import Clock, PausableClock
from crisis.model import (
    SYSTEM,
    Actor,
    CancelPending,
    Fact,
    OutboxItem,
    OutboxState,
    OutboxUpdate,
    SendMessage,
)
from crisis.outbox.outcome import Outcome, attempt_fact, manual_publication, unless_reported
from crisis.outbox.policy import ChannelLimits, RetryPolicy, TokenBucket
from crisis.store.changes import Changes, CommitHooks
from crisis.store.unit import DispatchUnit, UnitOfWorkFactory

# a worker with nothing due sleeps until woken (rows queued, a retry written, the clock changed);
# this only bounds the sleep should a wake-up ever be missed
SAFETY_WAIT_S = 60.0
MIN_WAIT_S = 0.01  # a fake clock's "due now, not yet claimable" must not spin the loop


def to_outgoing(message: SendMessage) -> OutgoingMessage:
    """The channel's view of an outbox row."""
    return OutgoingMessage(
        idempotency_key=message.idempotency_key,
        channel=message.channel,
        recipient=Recipient(
            contact_id=message.contact_id,
            address=message.address,
            display_name=message.display_name,
        ),
        subject=message.subject,
        body=message.body,
        html=message.html,
        valid_until=message.valid_until,
        ask_acknowledgement=message.ask_acknowledgement,
        crisis_id=message.crisis_id,
        step_id=message.step_id,
        exercise=message.exercise,
    )


class Dispatcher:
    """Takes due rows from the outbox and hands them to channels, within each channel's limits."""

    def __init__(
        self,
        store: UnitOfWorkFactory[DispatchUnit],
        channels: Mapping[ChannelName, Channel],
        limits: Mapping[ChannelName, ChannelLimits],
        clock: Clock,
        *,
        retry: RetryPolicy | None = None,
        flush_every: float = 0.25,
        flush_batch: int = 100,
        reconcile_every: int = 20,
        on_outcome: Callable[[Outcome], None] | None = None,
        exercise_channels: Mapping[ChannelName, Channel] | None = None,
    ) -> None:
        self.store = store
        self.channels = dict(channels)
        # an exercise's messages only ever go through these (built by bootstrap); without
        # them, an exercise message fails rather than reach a real channel
        self.exercise_channels = dict(exercise_channels or {})
        self.limits = {
            name: limits.get(name, ChannelLimits(rate_per_second=1.0)) for name in channels
        }
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.flush_every = flush_every
        self.flush_batch = flush_batch
        self.reconcile_every = reconcile_every
        self.on_outcome = on_outcome
        self._buckets = {
            n: TokenBucket(lim.rate_per_second, lim.burst, clock) for n, lim in self.limits.items()
        }
        self._wake = {n: asyncio.Event() for n in channels}
        self._results: list[Outcome] = []
        self._in_flight = 0
        self._cancelled: list[tuple[str, CancelPending]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        # rows queued by any unit of work of this process wake the workers once committed
        hooks = getattr(store, "commits", None)
        if isinstance(hooks, CommitHooks):
            hooks.add(self._committed)
        if isinstance(clock, PausableClock):  # a pause or a new speed moves every due time
            clock.on_change(self.nudge)

    # --- control ---------------------------------------------------------------------------

    def nudge(self) -> None:
        """New rows were queued: look at the outbox again (from any thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self._wake_all()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake_all()
        else:  # an alarm's tick or a web request in a worker thread
            loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        for event in self._wake.values():
            event.set()

    def _committed(self, changes: Changes) -> None:
        if changes.outbox:
            self.nudge()

    def cancelled(self, crisis_id: str, cancel: CancelPending) -> None:
        """Rows already claimed but not yet handed to the provider must not leave either."""
        self._cancelled.append((crisis_id, cancel))

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set: one worker per channel and one writer."""
        self._loop = asyncio.get_running_loop()
        await self.recover()
        tasks = [asyncio.create_task(self._worker(name, stop)) for name in self.channels]
        writer = asyncio.create_task(self._writer(stop))
        await stop.wait()
        for event in self._wake.values():
            event.set()
        await asyncio.gather(*tasks)
        await writer
        self.flush()
        self._loop = None

    async def drain(self, *, idle_for: float = 0.0) -> None:
        """Dispatch until nothing is due or in flight (tests, benchmarks)."""
        stop = asyncio.Event()
        runner = asyncio.create_task(self.run(stop))
        try:
            while True:
                await asyncio.sleep(0.05)
                if self._in_flight or self._results:
                    continue
                if not self._anything_due():
                    break
                self.nudge()  # rows written without a word (a test's own enqueue)
            if idle_for:
                await asyncio.sleep(idle_for)
        finally:
            stop.set()
            await runner

    def _anything_due(self) -> bool:
        now = self.clock.now()
        with self.store.transaction() as tx:
            for name in self.channels:
                due = tx.next_due(name)
                if due is not None and due <= now:
                    return True
            return False  # `unknown` rows wait for the provider's look-up, not for us

    # --- recovery --------------------------------------------------------------------------

    async def recover(self) -> None:
        """After a crash, `sending` rows are ambiguous: ask the provider before any resend."""
        with self.store.transaction() as tx:
            items = tx.in_states([OutboxState.SENDING, OutboxState.UNKNOWN])
        for item in items:
            await self._reconcile(item)
        self.flush()

    def _channel(self, message: SendMessage) -> Channel | None:
        chosen = self.exercise_channels if message.exercise else self.channels
        return chosen.get(message.channel)

    async def _reconcile(self, item: OutboxItem) -> None:
        channel = self._channel(item.message)
        if channel is None:
            return
        try:
            receipt = await channel.lookup(to_outgoing(item.message))
        except DeliveryFailed as exc:
            if item.state == OutboxState.SENDING:  # left by a crash: mark it for later look-ups
                self._push(Outcome(item, "unknown", OutboxState.UNKNOWN, reason=exc.public_reason))
            return  # still unknown: looked up again later, never resent blindly
        if receipt is not None:
            self._push(
                Outcome(
                    item,
                    "reconciled",
                    OutboxState.SENT,
                    provider_id=receipt.provider_id,
                    reason="le fournisseur avait bien reçu le message : pas de nouvel envoi",
                )
            )
        else:
            self._push(
                Outcome(
                    item,
                    "retry",
                    OutboxState.PENDING,
                    reason="inconnu du fournisseur après vérification : nouvel envoi",
                    retry_at=self.clock.now(),
                )
            )

    # --- workers ---------------------------------------------------------------------------

    async def _worker(self, name: ChannelName, stop: asyncio.Event) -> None:
        limits = self.limits[name]
        semaphore = asyncio.Semaphore(limits.concurrency)
        claim = max(1, min(500, math.ceil(limits.rate_per_second * 0.5)))
        tasks: set[asyncio.Task[None]] = set()
        wake = self._wake[name]
        while not stop.is_set():
            wake.clear()  # before the claim: a row queued from now on sets it again
            with self.store.transaction() as tx:
                items = tx.claim_due(name, self.clock.now(), claim)
                next_due = None if items else tx.next_due(name)
            if not items:
                timeout = (
                    SAFETY_WAIT_S
                    if next_due is None
                    else min(SAFETY_WAIT_S, self.clock.real_seconds_until(next_due))
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=max(MIN_WAIT_S, timeout))
                continue
            self._in_flight += len(items)
            for item in items:
                await self._buckets[name].acquire()
                await semaphore.acquire()
                task = asyncio.create_task(self._send(item, semaphore))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)

    async def _send(self, item: OutboxItem, semaphore: asyncio.Semaphore) -> None:
        try:
            self._push(await self._attempt(item))
        finally:
            semaphore.release()
            self._in_flight -= 1

    async def _attempt(self, item: OutboxItem) -> Outcome:
        message = item.message
        if self._is_cancelled(message):
            return Outcome(item, "cancelled", OutboxState.CANCELLED, reason="annulé avant l'envoi")
        now = self.clock.now()
        if message.valid_until is not None and now > message.valid_until:
            return Outcome(
                item, "expired", OutboxState.EXPIRED, reason="message périmé : il n'est plus exact"
            )
        channel = self._channel(message)
        if channel is None:
            return self._failure(
                item,
                DeliveryFailed(
                    "exercice : aucun canal d'exercice pour ce moyen, rien n'a été envoyé",
                    retryable=False,
                ),
            )
        try:
            receipt: Receipt = await channel.send(to_outgoing(message))
        except DeliveryFailed as exc:
            return self._failure(item, exc)
        state = OutboxState.DELIVERED if receipt.status == "delivered" else OutboxState.SENT
        return Outcome(item, "sent", state, provider_id=receipt.provider_id)

    def _failure(self, item: OutboxItem, exc: DeliveryFailed) -> Outcome:
        if exc.ambiguous:
            return Outcome(item, "unknown", OutboxState.UNKNOWN, reason=exc.public_reason)
        delay = self.retry.retry_after(exc, item.attempts)
        if delay is None:
            return Outcome(item, "failed", OutboxState.FAILED, reason=exc.public_reason)
        retry_at = self.clock.now() + timedelta(seconds=delay)
        return Outcome(
            item, "retry", OutboxState.PENDING, reason=exc.public_reason, retry_at=retry_at
        )

    def _is_cancelled(self, message: SendMessage) -> bool:
        for crisis_id, cancel in self._cancelled:
            if crisis_id != message.crisis_id:
                continue
            if cancel.commune is not None and cancel.commune != message.commune:
                continue
            if cancel.engagement is not None and cancel.engagement != message.engagement:
                continue
            if cancel.contact_id is not None and cancel.contact_id != message.contact_id:
                continue
            return True
        return False

    # --- results -----------------------------------------------------------------------------

    def _push(self, outcome: Outcome) -> None:
        self._results.append(outcome)
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    async def _writer(self, stop: asyncio.Event) -> None:
        # small batches under load keep the event loop responsive; a quiet channel costs
        # one transaction per `flush_every`, whatever its rate
        step = min(0.05, self.flush_every)
        waited = 0.0
        flushes = 0
        while not stop.is_set():
            await asyncio.sleep(step)
            waited += step
            if len(self._results) < self.flush_batch and waited < self.flush_every:
                continue
            waited = 0.0
            self.flush()
            flushes += 1
            if flushes % self.reconcile_every == 0:
                await self._reconcile_unknown()

    async def _reconcile_unknown(self) -> None:
        with self.store.transaction() as tx:
            unknown = tx.in_states([OutboxState.UNKNOWN])
        for item in unknown:
            await self._reconcile(item)

    def flush(self) -> None:
        """Write pending outcomes and their journal entries in one transaction."""
        if not self._results:
            return
        batch, self._results = self._results, []
        now = self.clock.now()
        by_crisis: dict[str, list[tuple[Fact, Actor]]] = defaultdict(list)
        with self.store.transaction() as tx:
            batch = [unless_reported(tx, r) for r in batch]
            for result in batch:
                facts = by_crisis[result.item.message.crisis_id]
                facts.append((attempt_fact(result), SYSTEM))
                if result.outcome == "failed" and result.item.message.channel.is_public:
                    facts.append((manual_publication(result), SYSTEM))
            tx.record_outcomes(
                [
                    OutboxUpdate(
                        outbox_id=r.item.id,
                        state=r.state,
                        reason=r.reason,
                        provider_id=r.provider_id,
                        retry_at=r.retry_at,
                    )
                    for r in batch
                ],
                now,
            )
            for crisis_id, items in by_crisis.items():
                tx.append(crisis_id, items, now)
        if any(r.state == OutboxState.PENDING for r in batch):
            self.nudge()
