"""The outbox of the in-memory unit of work (mixed into crisis.store.memory.MemoryTx), with the
semantics of crisis/store/outbox.py: claims by due time then id, receipts never overwritten."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from channels.base import ChannelName
from crisis.escalation import Attempt
from crisis.model import CancelPending, OutboxItem, OutboxState, OutboxUpdate, SendMessage
from crisis.store.errors import CrisisNotFound, DuplicateKey
from crisis.store.memory_tables import MemoryTables, OutboxRecord
from crisis.store.outbox import HANDED_OVER
from crisis.store.rows import attempt_number, optional_utc, utc

__all__ = ["MemoryOutboxTx"]

_T = TypeVar("_T")
_OUTBOX_FIELDS = {"state", "provider_id", "next_attempt_at", "last_error", "attempts"}


class MemoryOutboxTx:
    """The outbox, in one in-memory unit of work."""

    tables: MemoryTables

    def enqueue(self, messages: Sequence[SendMessage], at: datetime) -> None:
        """Write intents to the outbox (one row per recipient and channel)."""
        next_id = max(self.tables.outbox, default=0) + 1
        for offset, message in enumerate(messages):
            if message.crisis_id not in self.tables.crises:
                raise CrisisNotFound(message.crisis_id)
            if message.idempotency_key in self.tables.outbox_keys:
                raise DuplicateKey(message.idempotency_key)
            row_id = next_id + offset
            stored = message.model_copy(update={"valid_until": optional_utc(message.valid_until)})
            item = OutboxItem(id=row_id, message=stored, state=OutboxState.PENDING, attempts=0)
            self.tables.outbox[row_id] = OutboxRecord(item, utc(at), utc(at), utc(at))
            self.tables.outbox_keys[message.idempotency_key] = row_id

    def cancel_pending(
        self, crisis_id: str, cancel: CancelPending, at: datetime
    ) -> list[OutboxItem]:
        """Cancel queued (not yet sending) rows matching the request; returns what was cancelled."""
        items = [
            r.item
            for r in self._rows()
            if r.item.message.crisis_id == crisis_id
            and r.item.state == OutboxState.PENDING
            and _matches(r.item.message, cancel)
        ]
        for item in items:
            self._update(item.id, at, state=OutboxState.CANCELLED, last_error=cancel.reason[:500])
        return items

    def claim_due(self, channel: ChannelName, now: datetime, limit: int) -> list[OutboxItem]:
        """Take due pending rows of a channel and mark them `sending` (claimed)."""
        due = sorted(
            (
                r
                for r in self._rows()
                if r.item.state == OutboxState.PENDING
                and r.item.message.channel == channel
                and r.next_attempt_at <= now
            ),
            key=lambda r: (r.next_attempt_at, r.item.id),
        )[:limit]
        for row in due:
            self._update(
                row.item.id, now, state=OutboxState.SENDING, attempts=row.item.attempts + 1
            )
        return [self.tables.outbox[r.item.id].item for r in due]

    def next_due(self, channel: ChannelName) -> datetime | None:
        """When the next pending row of a channel falls due."""
        return min(
            (
                r.next_attempt_at
                for r in self._rows()
                if r.item.state == OutboxState.PENDING and r.item.message.channel == channel
            ),
            default=None,
        )

    def in_states(self, states: Iterable[OutboxState]) -> list[OutboxItem]:
        """Rows in the given states (recovery after a restart)."""
        wanted = set(states)
        return [r.item for r in self._rows() if r.item.state in wanted]

    def set_outbox(self, outbox_id: int, at: datetime, **values: Any) -> None:
        """Update one row (state, provider_id, next_attempt_at, last_error)."""
        unknown = set(values) - _OUTBOX_FIELDS
        if unknown:
            raise TypeError(f"no such outbox column: {', '.join(sorted(unknown))}")
        self._update(outbox_id, at, **values)

    def record_outcomes(self, outcomes: Sequence[OutboxUpdate], at: datetime) -> None:
        """Write attempts' results to the rows still in the dispatcher's hands."""
        for outcome in outcomes:
            row = self.tables.outbox.get(outcome.outbox_id)
            if row is None or row.item.state not in (OutboxState.SENDING, OutboxState.UNKNOWN):
                continue  # a provider's receipt recorded meanwhile is never overwritten
            self._update(
                outcome.outbox_id,
                at,
                state=outcome.state,
                last_error=outcome.reason[:500],
                provider_id=_coalesce(outcome.provider_id, row.item.provider_id),
                next_attempt_at=_coalesce(outcome.retry_at, row.next_attempt_at),
            )

    def find_outbox(
        self, *, channel: ChannelName, provider_id: str = "", idempotency_key: str = ""
    ) -> OutboxItem | None:
        """The row a provider callback speaks of: by our key, else by the provider's id."""
        if idempotency_key:
            return self.outbox_by_key(idempotency_key)
        if not provider_id:
            return None
        found = (
            r.item
            for r in self._rows()
            if r.item.message.channel == channel and r.item.provider_id == provider_id
        )
        return next(found, None)

    def outbox_by_key(self, idempotency_key: str) -> OutboxItem | None:
        """The row with this idempotency key (unique across channels)."""
        row_id = self.tables.outbox_keys.get(idempotency_key)
        return None if row_id is None else self.tables.outbox[row_id].item

    def call_attempts(self, crisis_id: str, step_ids: Sequence[str]) -> list[Attempt]:
        """The calls (voice rows) of escalating steps: what the chains have done so far."""
        return [
            Attempt(
                step_id=r.item.message.step_id,
                contact_id=r.item.message.contact_id,
                attempt=attempt_number(r.item.message.idempotency_key),
                state=r.item.state,
                at=r.updated_at,
            )
            for r in self._rows()
            if r.item.message.crisis_id == crisis_id
            and r.item.message.channel == ChannelName.VOICE
            and r.item.message.step_id in step_ids
        ]

    def latest_to(
        self, channel: ChannelName, address: str, *, asking_ack: bool
    ) -> OutboxItem | None:
        """The latest message handed to the provider for this address, in an open crisis."""
        found = [
            r
            for r in self._rows()
            if r.item.message.channel == channel
            and r.item.message.address == address
            and r.item.state in HANDED_OVER
            and self.tables.crises[r.item.message.crisis_id].closed_at is None
            and (r.item.message.ask_acknowledgement or not asking_ack)
        ]
        latest = max(found, key=lambda r: (r.created_at, r.item.id), default=None)
        return None if latest is None else latest.item

    def outbox_by_keys(self, idempotency_keys: Iterable[str]) -> dict[str, OutboxItem]:
        """The rows with these idempotency keys, by key (unknown keys are left out)."""
        found = (self.outbox_by_key(key) for key in set(idempotency_keys))
        return {i.message.idempotency_key: i for i in found if i is not None}

    def record_receipts(self, updates: Sequence[OutboxUpdate], at: datetime) -> None:
        """Write receipts: each row's state, and its provider id when the update gives one."""
        for u in updates:
            known = {} if u.provider_id is None else {"provider_id": u.provider_id}
            self._update(u.outbox_id, at, state=u.state, **known)

    def _rows(self) -> list[OutboxRecord]:
        """Outbox rows in id order."""
        return [self.tables.outbox[i] for i in sorted(self.tables.outbox)]

    def _update(self, outbox_id: int, at: datetime, **values: Any) -> None:
        row = self.tables.outbox.get(outbox_id)
        if row is None:
            return  # an SQL UPDATE of no row
        changes: dict[str, Any] = {k: values[k] for k in ("provider_id", "attempts") if k in values}
        if "state" in values:
            changes["state"] = OutboxState(values["state"])
        self.tables.outbox[outbox_id] = replace(
            row,
            item=row.item.model_copy(update=changes),
            next_attempt_at=utc(values.get("next_attempt_at", row.next_attempt_at)),
            last_error=values.get("last_error", row.last_error),
            updated_at=utc(at),
        )


def _coalesce(value: _T | None, stored: _T) -> _T:
    """SQL's COALESCE: the new value unless it is NULL."""
    return stored if value is None else value


def _matches(message: SendMessage, cancel: CancelPending) -> bool:
    """Whether a cancellation's filters (commune, engagement, contact) all take this row."""
    return (
        (cancel.commune is None or message.commune == cancel.commune)
        and (cancel.engagement is None or message.engagement == cancel.engagement)
        and (cancel.contact_id is None or message.contact_id == cancel.contact_id)
    )
