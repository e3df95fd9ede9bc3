"""Provider callbacks: receipts, acknowledgements, replies, refused callbacks, link status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from channels.base import AcknowledgementReport, ChannelName, DeliveryReport, InboundEvent
from crisis.engine import (
    Acknowledge,
    Refused,
)
from crisis.model import (
    SYSTEM,
    Actor,
    Interface,
    SendMessage,
    WarningRaised,
)
from crisis.service.core import Core
from crisis.service.group_commit import GroupCommit
from crisis.service.receipts import Receipt, Verdict, fold
from crisis.store.errors import StoreRefused


@dataclass(frozen=True)
class LinkStatus:
    """The state of a signed acknowledgement link: its message, confirmed yet, crisis closed."""

    message: SendMessage
    acknowledged: bool
    closed: bool


class ProviderCallbacks(Core):
    """Receipts, acknowledgements and refusals coming from the providers' webhooks."""

    @cached_property
    def receipts(self) -> GroupCommit[Receipt, Verdict]:
        """The group commit of providers' status callbacks (the webhooks submit to it)."""
        return GroupCommit(self.record_receipts, split=(StoreRefused,))

    def record_receipts(self, receipts: Sequence[Receipt]) -> list[Verdict]:
        """Status callbacks in one transaction: each changed row and its fact, one journal
        append for them all; what each receipt did, in order (crisis/service/receipts.py)."""
        self.effects.before_receipt()  # the attempts' own outcomes are journaled before receipts
        now = self.clock.now()
        with self.store.transaction() as tx:
            by_key = tx.outbox_by_keys(r.key for r in receipts if r.key)
            rows = [
                by_key.get(r.key)
                if r.key
                else tx.find_outbox(channel=r.channel, provider_id=r.report.provider_id)
                if r.report is not None
                else None
                for r in receipts
            ]
            batch = fold(receipts, rows)
            tx.record_receipts(batch.updates, now)
            tx.append_many(batch.facts, now)
        return list(batch.verdicts)

    async def receive(self, event: InboundEvent) -> None:
        """A provider callback (or a simulated one): receipt or acknowledgement."""
        if isinstance(event, DeliveryReport):
            self.record_receipts([Receipt.of(event)])
            return
        self.effects.before_receipt()  # the attempt's own outcome is journaled before its receipt
        now = self.clock.now()
        with self.store.transaction() as tx:
            item = tx.find_outbox(
                channel=event.channel,
                provider_id=event.provider_id,
                idempotency_key=event.idempotency_key,
            )
            if item is None or item.message.channel != event.channel:
                return  # unknown, or of the wrong kind (an SMS status on a call): not this row's
            message = item.message
            actor = Actor(name=message.contact_id, interface=Interface.PROVIDER)
            ack = Acknowledge(
                contact_id=message.contact_id,
                actor=actor,
                channel=message.channel,
                outbox_key=message.idempotency_key,
                step_id=message.step_id,
                eta_minutes=event.eta_minutes,
            )
            try:
                self._react(tx, message.crisis_id, ack, now)
            except Refused:
                return  # a public post or a closed crisis: nobody to count, nothing to record

    def outbox_message(self, key: str) -> SendMessage | None:
        """The message an outbox key names (a call fetching what to say), if any."""
        if not key:
            return None
        with self.store.transaction() as tx:
            item = tx.outbox_by_key(key)
        return None if item is None else item.message

    def link_status(self, key: str) -> LinkStatus | None:
        """What a signed acknowledgement link's page shows: the message, and whether it can
        still be confirmed (None when the key names no message)."""
        with self.store.transaction() as tx:
            item = tx.outbox_by_key(key)
            if item is None:
                return None
            crisis = tx.crisis(item.message.crisis_id)
            done = item.message.contact_id in tx.acknowledged(crisis.id)
        return LinkStatus(
            message=item.message, acknowledged=done, closed=crisis.closed_at is not None
        )

    def warn(self, crisis_id: str, code: str, message: str) -> None:
        """Journal a warning from an edge (a provider change that failed), even after closing."""
        with self.store.transaction() as tx:
            tx.crisis(crisis_id, lock=True)
            tx.append(
                crisis_id, [(WarningRaised(code=code, message=message), SYSTEM)], self.clock.now()
            )

    def callback_refused(
        self, key: str | None, route: str, reason: str, *, why: str = "signature Twilio invalide"
    ) -> str | None:
        """Journal a refused provider callback in the crisis its key names; returns that crisis.

        The same refusal (route and reason) is one fact per crisis: forged requests repeated
        with a known key must not flood the main courante. `why`: forged signature, or a
        callback of the wrong kind for its row (an SMS status on a call's key).
        """
        if not key:
            return None
        message = f"Rappel du fournisseur refusé : {why} ({route} : {reason})"
        fact = WarningRaised(code="rappel_refuse", message=message)
        with self.store.transaction() as tx:
            item = tx.outbox_by_key(key)
            if item is None:
                return None
            crisis_id = item.message.crisis_id
            tx.crisis(crisis_id, lock=True)  # serialises the check below with other appends
            if not any(e.fact == fact for e in tx.journal(crisis_id, types=["WarningRaised"])):
                tx.append(crisis_id, [(fact, SYSTEM)], self.clock.now())
        return crisis_id

    async def acknowledge_reply(
        self, channel: ChannelName, from_address: str, *, eta_minutes: int | None = None
    ) -> bool:
        """A reply meaning "received" acknowledges the latest message that asked this address.

        The caller decides whether the text means "received" (provider-specific words).
        False when no message asking for an acknowledgement went to that address in an open
        crisis.
        """
        with self.store.transaction() as tx:
            item = tx.latest_to(channel, from_address.strip(), asking_ack=True)
        if item is None:
            return False
        await self.receive(
            AcknowledgementReport(
                channel=channel,
                provider_id=item.provider_id or "",
                idempotency_key=item.message.idempotency_key,
                eta_minutes=eta_minutes,
            )
        )
        return True
