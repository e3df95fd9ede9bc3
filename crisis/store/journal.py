"""The journal repository: the main courante's hash-chained entries and the chain's head."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from crisis.journal import GENESIS, StoredEntry, chain
from crisis.model import Actor, ChainEnded, Fact, Interface, JournalEntry
from crisis.store.crises import locked_crisis_row
from crisis.store.errors import CrisisNotFound
from crisis.store.rows import entry_of, stored_actor, utc
from crisis.store.tables import CrisisRow, JournalRow


class JournalTx:
    """The main courante of each crisis, in one unit of work (mixed into `Tx`)."""

    session: Session
    lock_rows: bool
    timezone: tzinfo  # the prefecture's zone: journal sentences give local time with it (and UTC)

    def append(
        self, crisis_id: str, items: Sequence[tuple[Fact, Actor]], at: datetime
    ) -> list[JournalEntry]:
        """Append facts to the crisis's main courante, chained to its head, in this transaction."""
        return self.append_many({crisis_id: items}, at)

    def append_many(
        self, items: Mapping[str, Sequence[tuple[Fact, Actor]]], at: datetime
    ) -> list[JournalEntry]:
        """Append facts to several crises' main courantes in one insert (a group commit's
        receipts), each chained to its crisis's head; heads are locked in crisis-id order."""
        entries: list[JournalEntry] = []
        heads: list[JournalEntry] = []
        for crisis_id in sorted(c for c, facts in items.items() if facts):
            head_seq, head_hash = self._head(crisis_id)
            chained = chain(
                crisis_id, head_seq, head_hash or GENESIS, items[crisis_id], at, tz=self.timezone
            )
            entries.extend(chained)
            heads.append(chained[-1])
        if not entries:
            return []
        self.session.execute(insert(JournalRow), [_journal_row(e) for e in entries])
        for head in heads:
            self.session.execute(
                update(CrisisRow)
                .where(col(CrisisRow.id) == head.crisis_id)
                .values(journal_seq=head.seq, journal_head=head.hash)
            )
        return entries

    def journal_head(self, crisis_id: str) -> tuple[int, str]:
        """The journal's head (last seq and hash), one row read: what live pages watch."""
        return self._head(crisis_id)

    def _head(self, crisis_id: str) -> tuple[int, str]:
        """The chain's head, its row locked until commit on PostgreSQL (serialises appends)."""
        query = select(col(CrisisRow.journal_seq), col(CrisisRow.journal_head)).where(
            col(CrisisRow.id) == crisis_id
        )
        if self.lock_rows:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        if row is None:
            raise CrisisNotFound(crisis_id)
        return int(row[0]), str(row[1])

    def journal(self, crisis_id: str, types: Iterable[str] | None = None) -> list[JournalEntry]:
        """The crisis's entries in order (optionally only some fact types)."""
        query = select(JournalRow).where(col(JournalRow.crisis_id) == crisis_id)
        if types is not None:
            query = query.where(col(JournalRow.type).in_(list(types)))
        query = query.order_by(col(JournalRow.seq))
        rows: list[JournalRow] = list(self.session.execute(query).scalars())
        return [entry_of(r) for r in rows]

    def stored_journal(self, crisis_id: str) -> tuple[list[StoredEntry], int, str]:
        """Raw entries and the recorded head, for the chain check."""
        row = locked_crisis_row(self.session, crisis_id, lock=False)
        query = (
            select(JournalRow)
            .where(col(JournalRow.crisis_id) == crisis_id)
            .order_by(col(JournalRow.seq))
        )
        rows: list[JournalRow] = list(self.session.execute(query).scalars())
        stored = [
            StoredEntry(
                seq=r.seq,
                at=utc(r.at),
                actor=stored_actor(r.actor, Interface(r.interface)),
                data=r.data,
                text=r.text,
                prev_hash=r.prev_hash,
                hash=r.hash,
            )
            for r in rows
        ]
        return stored, row.journal_seq, row.journal_head

    def chains_ended(self, crisis_id: str) -> frozenset[tuple[str, str]]:
        """(step id, group) of the chains already journaled "non joint"."""
        return ended_chains(self.journal(crisis_id, types=["ChainEnded"]))


def _journal_row(entry: JournalEntry) -> dict[str, Any]:
    """An entry as the journal table's row."""
    return {
        "crisis_id": entry.crisis_id,
        "seq": entry.seq,
        "at": entry.at,
        "actor": entry.actor.name,
        "interface": entry.actor.interface.value,
        "type": entry.fact.type,
        "data": entry.fact.model_dump(mode="json"),
        "text": entry.text,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def ended_chains(entries: Iterable[JournalEntry]) -> frozenset[tuple[str, str]]:
    """(step id, group) of the ChainEnded facts among these entries."""
    ended: set[tuple[str, str]] = set()
    for entry in entries:
        fact = entry.fact
        if isinstance(fact, ChainEnded):
            ended.add((fact.step_id, fact.group))
    return frozenset(ended)
