"""Providers' receipts in bulk: the rows a batch of callbacks speaks of, and their new states,
in a few statements whatever the batch's size (the group commit of crisis/service/receipts.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session

from crisis.model import OutboxItem, OutboxUpdate
from crisis.store.rows import outbox_item
from crisis.store.tables import OUTBOX

# keys per SELECT ... IN: well under SQLite's and PostgreSQL's bound-parameter limits
KEYS_PER_QUERY = 500


class ReceiptsTx:
    """Bulk reads and writes of the outbox for providers' receipts (mixed into `Tx`)."""

    session: Session

    def outbox_by_keys(self, idempotency_keys: Iterable[str]) -> dict[str, OutboxItem]:
        """The rows with these idempotency keys, by key (unknown keys are left out)."""
        keys = sorted(set(idempotency_keys))
        found: dict[str, OutboxItem] = {}
        for start in range(0, len(keys), KEYS_PER_QUERY):
            chunk = keys[start : start + KEYS_PER_QUERY]
            query = select(OUTBOX).where(OUTBOX.c.idempotency_key.in_(chunk))
            for row in self.session.execute(query).mappings():
                item = outbox_item(row)
                found[item.message.idempotency_key] = item
        return found

    def record_receipts(self, updates: Sequence[OutboxUpdate], at: datetime) -> None:
        """Write receipts in one statement (executemany), rows in id order: each row's state,
        and its provider id when the update gives one (the row's own is kept otherwise)."""
        if not updates:
            return
        statement = (
            update(OUTBOX)
            .where(OUTBOX.c.id == bindparam("r_id"))
            .values(
                state=bindparam("r_state"),
                provider_id=func.coalesce(bindparam("r_provider"), OUTBOX.c.provider_id),
                updated_at=at,
            )
        )
        self.session.execute(
            statement,
            [
                {"r_id": u.outbox_id, "r_state": u.state.value, "r_provider": u.provider_id}
                for u in sorted(updates, key=lambda u: u.outbox_id)
            ],
            execution_options={"synchronize_session": False},
        )
