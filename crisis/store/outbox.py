"""The outbox repository: one row per message, recipient and channel, and its states.

Rows are written before any provider call (enqueue), claimed by the dispatcher (pending ->
sending), and closed by the send's answer or a provider's receipt (sent, delivered, failed...).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlmodel import Session, col

from channels.base import ChannelName
from crisis.escalation import Attempt
from crisis.model import CancelPending, OutboxItem, OutboxState, OutboxUpdate, SendMessage
from crisis.store.changes import Changes
from crisis.store.rows import attempt_number, outbox_item, utc
from crisis.store.tables import OUTBOX, CrisisRow, OutboxRow, UtcDateTime

ENQUEUE_CHUNK = 2000
# rows handed to the provider: a reply ("1", "reçu") can only answer one of these
HANDED_OVER = (
    OutboxState.SENDING,
    OutboxState.SENT,
    OutboxState.DELIVERED,
    OutboxState.FAILED,  # "undelivered" receipts are sometimes wrong: a reply proves it
    OutboxState.UNKNOWN,
)


def outbox_values(message: SendMessage, at: datetime) -> dict[str, Any]:
    """The columns of a new pending row for this message."""
    return {
        **message.model_dump(exclude={"engagement", "channel", "role"}),
        "engagement": message.engagement.value,
        "channel": message.channel.value,
        "role": message.role.value if message.role else None,
        "state": OutboxState.PENDING.value,
        "attempts": 0,
        "next_attempt_at": at,
        "created_at": at,
        "updated_at": at,
    }


class OutboxTx:
    """The outbox, in one unit of work (mixed into `Tx`)."""

    session: Session
    lock_rows: bool
    changes: Changes  # queued rows wake the dispatcher once committed

    def enqueue(self, messages: Sequence[SendMessage], at: datetime) -> None:
        """Write intents to the outbox (one row per recipient and channel)."""
        if messages:
            self.changes.outbox = True
        for start in range(0, len(messages), ENQUEUE_CHUNK):  # bounded parameter lists
            self.session.execute(
                insert(OUTBOX),
                [outbox_values(m, at) for m in messages[start : start + ENQUEUE_CHUNK]],
            )

    def cancel_pending(
        self, crisis_id: str, cancel: CancelPending, at: datetime
    ) -> list[OutboxItem]:
        """Cancel queued (not yet sending) rows matching the request; returns what was cancelled."""
        query = select(OUTBOX).where(
            OUTBOX.c.crisis_id == crisis_id, OUTBOX.c.state == OutboxState.PENDING.value
        )
        if cancel.commune is not None:
            query = query.where(OUTBOX.c.commune == cancel.commune)
        if cancel.engagement is not None:
            query = query.where(OUTBOX.c.engagement == cancel.engagement.value)
        if cancel.contact_id is not None:
            query = query.where(OUTBOX.c.contact_id == cancel.contact_id)
        if self.lock_rows:
            query = query.with_for_update(skip_locked=True)
        items = [outbox_item(r) for r in self.session.execute(query).mappings()]
        if items:
            self.session.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_([i.id for i in items]))
                .values(
                    state=OutboxState.CANCELLED.value, last_error=cancel.reason[:500], updated_at=at
                )
            )
        return items

    def claim_due(self, channel: ChannelName, now: datetime, limit: int) -> list[OutboxItem]:
        """Take due pending rows of a channel and mark them `sending` (claimed)."""
        query = (
            select(OUTBOX)
            .where(
                OUTBOX.c.state == OutboxState.PENDING.value,
                OUTBOX.c.channel == channel.value,
                OUTBOX.c.next_attempt_at <= now,
            )
            .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id)
            .limit(limit)
        )
        if self.lock_rows:
            query = query.with_for_update(skip_locked=True)
        items = [outbox_item(r) for r in self.session.execute(query).mappings()]
        if not items:
            return []
        self.session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_([i.id for i in items]))
            .values(state=OutboxState.SENDING.value, attempts=OUTBOX.c.attempts + 1, updated_at=now)
        )
        return [
            i.model_copy(update={"state": OutboxState.SENDING, "attempts": i.attempts + 1})
            for i in items
        ]

    def next_due(self, channel: ChannelName) -> datetime | None:
        """When the next pending row of a channel falls due."""
        query = select(func.min(col(OutboxRow.next_attempt_at))).where(
            col(OutboxRow.state) == OutboxState.PENDING.value,
            col(OutboxRow.channel) == channel.value,
        )
        value: datetime | None = self.session.execute(query).scalar()
        return None if value is None else utc(value)

    def in_states(self, states: Iterable[OutboxState]) -> list[OutboxItem]:
        """Rows in the given states (recovery after a restart)."""
        query = select(OUTBOX).where(OUTBOX.c.state.in_([s.value for s in states]))
        return [outbox_item(r) for r in self.session.execute(query).mappings()]

    def set_outbox(self, outbox_id: int, at: datetime, **values: Any) -> None:
        """Update one row (state, provider_id, next_attempt_at, last_error)."""
        values["updated_at"] = at
        if isinstance(values.get("state"), OutboxState):
            values["state"] = values["state"].value
        self.session.execute(update(OUTBOX).where(OUTBOX.c.id == outbox_id).values(**values))

    def record_outcomes(self, outcomes: Sequence[OutboxUpdate], at: datetime) -> None:
        """Write many attempts' results in one statement (executemany)."""
        if not outcomes:
            return
        # Only rows still in the dispatcher's hands: a provider's receipt (delivered, failed)
        # recorded meanwhile by a callback is never overwritten by the send's own answer.
        statement = (
            update(OUTBOX)
            .where(
                OUTBOX.c.id == bindparam("u_id"),
                or_(  # not IN: an expanding parameter cannot go with executemany
                    OUTBOX.c.state == OutboxState.SENDING.value,
                    OUTBOX.c.state == OutboxState.UNKNOWN.value,
                ),
            )
            .values(
                state=bindparam("u_state"),
                last_error=bindparam("u_error"),
                provider_id=func.coalesce(bindparam("u_provider"), OUTBOX.c.provider_id),
                next_attempt_at=func.coalesce(
                    bindparam("u_retry_at", type_=UtcDateTime()), OUTBOX.c.next_attempt_at
                ),
                updated_at=at,
            )
        )
        self.session.execute(
            statement,
            [
                {
                    "u_id": o.outbox_id,
                    "u_state": o.state.value,
                    "u_error": o.reason[:500],
                    "u_provider": o.provider_id,
                    "u_retry_at": o.retry_at,
                }
                for o in outcomes
            ],
            execution_options={"synchronize_session": False},
        )

    def find_outbox(
        self, *, channel: ChannelName, provider_id: str = "", idempotency_key: str = ""
    ) -> OutboxItem | None:
        """The row a provider callback speaks of: by our key, else by the provider's id."""
        if idempotency_key:
            return self.outbox_by_key(idempotency_key)
        if not provider_id:
            return None
        cond = (OUTBOX.c.channel == channel.value) & (OUTBOX.c.provider_id == provider_id)
        row = self.session.execute(select(OUTBOX).where(cond)).mappings().first()
        return None if row is None else outbox_item(row)

    def outbox_by_key(self, idempotency_key: str) -> OutboxItem | None:
        """The row with this idempotency key (unique across channels)."""
        query = select(OUTBOX).where(OUTBOX.c.idempotency_key == idempotency_key)
        row = self.session.execute(query).mappings().first()
        return None if row is None else outbox_item(row)

    def call_attempts(self, crisis_id: str, step_ids: Sequence[str]) -> list[Attempt]:
        """The calls (voice rows) of escalating steps: what the chains have done so far."""
        query = select(
            OUTBOX.c.step_id,
            OUTBOX.c.contact_id,
            OUTBOX.c.idempotency_key,
            OUTBOX.c.state,
            OUTBOX.c.updated_at,
        ).where(
            OUTBOX.c.crisis_id == crisis_id,
            OUTBOX.c.channel == ChannelName.VOICE.value,
            OUTBOX.c.step_id.in_(list(step_ids)),
        )
        return [
            Attempt(
                step_id=r.step_id,
                contact_id=r.contact_id,
                attempt=attempt_number(r.idempotency_key),
                state=OutboxState(r.state),
                at=utc(r.updated_at),
            )
            for r in self.session.execute(query)
        ]

    def outbox_counts(self, crisis_id: str) -> dict[tuple[str, str], int]:
        """Rows per (channel, state), for the status screen."""
        channel, state = col(OutboxRow.channel), col(OutboxRow.state)
        query = (
            select(channel, state, func.count())
            .where(col(OutboxRow.crisis_id) == crisis_id)
            .group_by(channel, state)
        )
        counts: dict[tuple[str, str], int] = {
            (r[0], r[1]): int(r[2]) for r in self.session.execute(query)
        }
        return counts

    def latest_to(
        self, channel: ChannelName, address: str, *, asking_ack: bool
    ) -> OutboxItem | None:
        """The latest message handed to the provider for this address, in an open crisis.

        A reply ("1", "reçu") carries no key: it answers the last message that reached the
        number. Rows never handed over (pending, cancelled, expired) cannot have been answered.
        """
        open_crises = select(col(CrisisRow.id)).where(col(CrisisRow.closed_at).is_(None))
        query = select(OUTBOX).where(
            OUTBOX.c.channel == channel.value,
            OUTBOX.c.address == address,
            OUTBOX.c.state.in_([s.value for s in HANDED_OVER]),
            OUTBOX.c.crisis_id.in_(open_crises),
        )
        if asking_ack:
            query = query.where(OUTBOX.c.ask_acknowledgement.is_(True))
        query = query.order_by(OUTBOX.c.created_at.desc(), OUTBOX.c.id.desc()).limit(1)
        row = self.session.execute(query).mappings().first()
        return None if row is None else outbox_item(row)
