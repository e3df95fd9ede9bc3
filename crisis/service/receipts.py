"""A batch of provider status callbacks folded into what one transaction writes: no I/O here.

The callbacks are taken in arrival order, each against its row as the previous ones of the
batch left it, so a batch writes exactly what the same callbacks would have written one
transaction each: the same callback twice is one fact (also when both copies are in the same
batch), a failure reported after the delivery never undoes it, a status of the wrong kind (an
SMS status on a call's key) is refused and marks nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from channels.base import ChannelName, DeliveryReport
from crisis.model import (
    Actor,
    DeliveryReported,
    Fact,
    Interface,
    OutboxItem,
    OutboxState,
    OutboxUpdate,
)

__all__ = ["Batch", "Outcome", "Receipt", "Verdict", "fold", "reported"]


@dataclass(frozen=True)
class Receipt:
    """A status callback as a batch takes it: the kind of send it speaks of, our outbox key
    (empty when the provider gave none), and its final word (None for an intermediate status,
    "queued" or "sent": then only its kind is checked against the key's row)."""

    channel: ChannelName
    key: str = ""
    report: DeliveryReport | None = None

    @classmethod
    def of(cls, report: DeliveryReport) -> Receipt:
        """The receipt of a provider's report."""
        return cls(channel=report.channel, key=report.idempotency_key, report=report)


class Outcome(Enum):
    """What a receipt did."""

    RECORDED = "recorded"  # its row changed state and its fact is journaled
    UNCHANGED = "unchanged"  # unknown row, intermediate status, replay, or out of order
    WRONG_KIND = "wrong_kind"  # its key names a row of another kind: refused


@dataclass(frozen=True)
class Verdict:
    """A receipt's outcome; for WRONG_KIND, the kind of send its key's row is."""

    outcome: Outcome
    row_channel: ChannelName | None = None


@dataclass(frozen=True)
class Batch:
    """What a batch writes: one verdict per receipt (in order), each changed row's last state,
    and the facts to journal, per crisis in arrival order."""

    verdicts: tuple[Verdict, ...]
    updates: tuple[OutboxUpdate, ...] = ()
    facts: dict[str, list[tuple[Fact, Actor]]] = field(default_factory=dict)


UNCHANGED = Verdict(Outcome.UNCHANGED)


def fold(receipts: Sequence[Receipt], rows: Sequence[OutboxItem | None]) -> Batch:
    """The batch's writes; `rows[i]`: the row receipt i names as read at the batch's start
    (by its key, else by the provider's id), None when there is none."""
    current: dict[int, OutboxItem] = {}  # rows as the batch's earlier receipts left them
    provider_ids: dict[int, str] = {}  # sids learnt from receipts by rows that had none
    facts: dict[str, list[tuple[Fact, Actor]]] = defaultdict(list)
    verdicts: list[Verdict] = []
    for receipt, row in zip(receipts, rows, strict=True):
        item = None if row is None else current.get(row.id, row)
        verdict = _verdict(receipt, item)
        verdicts.append(verdict)
        if verdict.outcome != Outcome.RECORDED or item is None or receipt.report is None:
            continue
        report = receipt.report
        state = OutboxState.DELIVERED if report.delivered else OutboxState.FAILED
        if not item.provider_id and report.provider_id:
            provider_ids.setdefault(item.id, report.provider_id)
        current[item.id] = item.model_copy(
            update={"state": state, "provider_id": item.provider_id or report.provider_id}
        )
        actor = Actor(name=report.channel.value, interface=Interface.PROVIDER)
        facts[item.message.crisis_id].append((reported(item, report), actor))
    updates = tuple(
        OutboxUpdate(outbox_id=i.id, state=i.state, provider_id=provider_ids.get(i.id))
        for i in current.values()
    )
    return Batch(verdicts=tuple(verdicts), updates=updates, facts=dict(facts))


def _verdict(receipt: Receipt, item: OutboxItem | None) -> Verdict:
    """What one receipt does to its row as it stands."""
    if item is None:
        return UNCHANGED  # unknown: not one of ours
    if item.message.channel != receipt.channel:
        # an SMS status on a call: refused when our key named the row, ignored otherwise
        return Verdict(Outcome.WRONG_KIND, item.message.channel) if receipt.key else UNCHANGED
    report = receipt.report
    if report is None:
        return UNCHANGED  # an intermediate status: nothing to record
    state = OutboxState.DELIVERED if report.delivered else OutboxState.FAILED
    if item.state in (state, OutboxState.DELIVERED):
        # the same callback twice is one fact; a failure after the delivery never undoes it
        return UNCHANGED
    return Verdict(Outcome.RECORDED)


def reported(item: OutboxItem, report: DeliveryReport) -> DeliveryReported:
    """The fact a receipt journals."""
    message = item.message
    return DeliveryReported(
        outbox_key=message.idempotency_key,
        channel=message.channel,
        contact_id=message.contact_id,
        delivered=report.delivered,
        provider_id=report.provider_id,
        reason=report.reason,
    )
