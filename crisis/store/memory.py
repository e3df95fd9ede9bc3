"""An in-memory unit of work for unit tests: the Protocols of crisis/store/unit.py, no database.

It keeps what the SQL repositories promise and nothing more: a unit of work commits whole or
not at all (a `with` that raises leaves nothing behind), units of work run one at a time, the
journal is hash-chained by crisis/journal/chain.py exactly as the database's, idempotency keys
and crisis ids are unique (DuplicateKey), rows come back in the order the queries of the SQL
repositories give (outbox claims by due time then id, crises by T0), times come back in UTC and
journal facts as parsed from their stored JSON. Where SQL would raise its own IntegrityError
(an outbox key twice, a second acknowledgement row, a row for an unknown crisis) this raises
DuplicateKey or CrisisNotFound: either way the unit of work fails and nothing is kept.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from crisis.journal import GENESIS, StoredEntry, chain, parse_fact
from crisis.model import (
    Actor,
    Crisis,
    Fact,
    JournalEntry,
    Mode,
    StepState,
)
from crisis.store.errors import CrisisNotFound, DuplicateKey
from crisis.store.journal import ended_chains
from crisis.store.memory_outbox import MemoryOutboxTx
from crisis.store.memory_tables import JournalRecord, MemoryTables
from crisis.store.rows import optional_utc, utc
from crisis.store.unit import DispatchUnit, UnitOfWork, UnitOfWorkFactory
from crisis.timefmt import DEFAULT_ZONE
from playbooks.model import EventKind

__all__ = ["MemoryStore", "MemoryTx"]

# what `insert_crisis` writes of a crisis: the rest starts empty, as in the crisis table
_NOT_INSERTED = {"closed_at": None, "ciav_number": None, "t0_cip": None, "cip_number": None}
_CRISIS_TIMES = ("t0", "recorded_at", "closed_at", "t0_cip")


class MemoryStore:
    """A store held in memory: `transaction()` yields a MemoryTx on a snapshot, kept on success."""

    def __init__(self, *, timezone: tzinfo | None = None) -> None:
        self.timezone = timezone or ZoneInfo(DEFAULT_ZONE)
        self._tables = MemoryTables()
        self._lock = threading.Lock()
        self._holder: int | None = None

    @contextmanager
    def transaction(self) -> Iterator[MemoryTx]:
        """One unit of work: everything inside commits together or not at all."""
        if self._holder == threading.get_ident():
            # the database would wait for itself (SQLite) or see two sessions: a bug either way
            raise RuntimeError("unit of work already open in this thread")
        with self._lock:
            self._holder = threading.get_ident()
            try:
                tx = MemoryTx(self._tables.copy(), self.timezone)
                yield tx
                self._tables = tx.tables
            finally:
                self._holder = None


def _utc_crisis(crisis: Crisis) -> Crisis:
    """The crisis with its column times in UTC, as the crisis table gives them back."""
    times = {name: optional_utc(getattr(crisis, name)) for name in _CRISIS_TIMES}
    return crisis.model_copy(update=times)


def _saved(stored: StepState, new: StepState) -> StepState:
    """A step as save_steps writes it: its progress and due time, times in UTC."""
    return new.model_copy(
        update={
            "due_at": optional_utc(new.due_at),
            "held_since": optional_utc(new.held_since),
            "triggered_at": optional_utc(new.triggered_at),
        }
    )


class MemoryTx(MemoryOutboxTx):
    """The operations of one in-memory unit of work (the Protocols of crisis/store/unit.py)."""

    def __init__(self, tables: MemoryTables, timezone: tzinfo) -> None:
        self.tables = tables
        self.timezone = timezone

    # --- crises ------------------------------------------------------------------------------

    def lock_activations(self) -> None:
        """Nothing to do: units of work already run one at a time."""

    def crisis_by_key(self, idempotency_key: str) -> Crisis | None:
        """The crisis recorded with this idempotency key, if any."""
        found = (c for c in self.tables.crises.values() if c.idempotency_key == idempotency_key)
        return next(found, None)

    def crises_like(self, mode: Mode, synergi_ref: str, kind: EventKind) -> list[Crisis]:
        """Crises of this mode with the same SYNERGI reference (case and surrounding spaces
        ignored) or the same kind; oldest T0 first."""
        reference = synergi_ref.strip().lower()
        alike = [
            c
            for c in self.tables.crises.values()
            if c.mode == mode and (c.synergi_ref.strip(" ").lower() == reference or c.kind == kind)
        ]
        return sorted(alike, key=lambda c: c.t0)

    def crisis(self, crisis_id: str, *, lock: bool = False) -> Crisis:
        """The crisis, or CrisisNotFound (`lock` changes nothing: one unit of work at a time)."""
        found = self.tables.crises.get(crisis_id)
        if found is None:
            raise CrisisNotFound(crisis_id)
        return found

    def id_taken(self, crisis_id: str) -> bool:
        """Whether a crisis already has this id."""
        return crisis_id in self.tables.crises

    def insert_crisis(self, crisis: Crisis, steps: Sequence[StepState]) -> None:
        """Store a new crisis with its steps; DuplicateKey when its id or key is known."""
        if self.id_taken(crisis.id) or self.crisis_by_key(crisis.idempotency_key) is not None:
            raise DuplicateKey(crisis.idempotency_key)
        self.tables.crises[crisis.id] = _utc_crisis(crisis.model_copy(update=_NOT_INSERTED))
        self.tables.checkpoints[crisis.id] = frozenset()
        self.tables.steps[crisis.id] = tuple(
            StepState(step_id=s.step_id, due_at=utc(s.due_at), status=s.status) for s in steps
        )

    def update_crisis(self, crisis_id: str, **values: Any) -> None:
        """Set fields of the crisis (an unknown crisis is left alone, as by an SQL UPDATE)."""
        crisis = self.tables.crises.get(crisis_id)
        if crisis is None:
            return
        if "checkpoints_done" in values:
            self.tables.checkpoints[crisis_id] = frozenset(values.pop("checkpoints_done"))
        unknown = set(values) - set(Crisis.model_fields)
        if unknown:
            raise TypeError(f"no such crisis field: {', '.join(sorted(unknown))}")
        self.tables.crises[crisis_id] = _utc_crisis(crisis.model_copy(update=values))

    def checkpoints_done(self, crisis_id: str) -> frozenset[int]:
        """Compliance checkpoints already journaled (30, 45, 60)."""
        self.crisis(crisis_id)
        return self.tables.checkpoints[crisis_id]

    def steps(self, crisis_id: str) -> list[StepState]:
        """Every step of the crisis in playbook order."""
        return list(self.tables.steps.get(crisis_id, ()))

    def save_steps(self, crisis_id: str, states: Iterable[StepState]) -> None:
        """Write the new state of the given steps (unknown steps are left alone)."""
        new = {s.step_id: s for s in states}
        self.tables.steps[crisis_id] = tuple(
            _saved(s, new[s.step_id]) if s.step_id in new else s
            for s in self.tables.steps.get(crisis_id, ())
        )

    def acknowledged(self, crisis_id: str) -> dict[str, str | None]:
        """Contacts who acknowledged, with their commune."""
        return {contact: c for (cid, contact), c in self.tables.acks.items() if cid == crisis_id}

    def record_ack(
        self, crisis_id: str, contact_id: str, commune: str | None, at: datetime
    ) -> None:
        """Remember a contact's first acknowledgement (DuplicateKey for a second one)."""
        self.crisis(crisis_id)
        if (crisis_id, contact_id) in self.tables.acks:
            raise DuplicateKey(f"{crisis_id}/{contact_id}")
        self.tables.acks[(crisis_id, contact_id)] = commune

    def open_cip(self, number: str) -> Crisis | None:
        """The open crisis whose CIP answers on this numéro unique, if any (the latest T0)."""
        found = [
            c for c in self.tables.crises.values() if c.cip_number == number and c.closed_at is None
        ]
        return max(found, key=lambda c: c.t0, default=None)

    # --- journal -----------------------------------------------------------------------------

    def append(
        self, crisis_id: str, items: Sequence[tuple[Fact, Actor]], at: datetime
    ) -> list[JournalEntry]:
        """Append facts to the crisis's main courante, chained to its head."""
        if not items:
            return []
        self.crisis(crisis_id)
        head_seq, head_hash = self.journal_head(crisis_id)
        entries = chain(crisis_id, head_seq, head_hash or GENESIS, items, at, tz=self.timezone)
        rows = tuple(_journal_row(e) for e in entries)
        self.tables.journal[crisis_id] = self.tables.journal.get(crisis_id, ()) + rows
        return entries

    def append_many(
        self, items: Mapping[str, Sequence[tuple[Fact, Actor]]], at: datetime
    ) -> list[JournalEntry]:
        """Append facts to several crises' main courantes, in crisis-id order."""
        return [e for crisis in sorted(items) for e in self.append(crisis, items[crisis], at)]

    def journal_head(self, crisis_id: str) -> tuple[int, str]:
        """The journal's head (last seq and hash; 0 and "" while empty)."""
        self.crisis(crisis_id)
        rows = self.tables.journal.get(crisis_id, ())
        return (rows[-1].entry.seq, rows[-1].entry.hash) if rows else (0, "")

    def journal(self, crisis_id: str, types: Iterable[str] | None = None) -> list[JournalEntry]:
        """The crisis's entries in order (optionally only some fact types)."""
        entries = [r.entry for r in self.tables.journal.get(crisis_id, ())]
        if types is None:
            return entries
        wanted = set(types)
        return [e for e in entries if e.fact.type in wanted]

    def stored_journal(self, crisis_id: str) -> tuple[list[StoredEntry], int, str]:
        """Raw entries and the recorded head, for the chain check."""
        head_seq, head_hash = self.journal_head(crisis_id)
        stored = [
            StoredEntry(
                seq=r.entry.seq,
                at=r.entry.at,
                actor=r.entry.actor,
                data=r.data,
                text=r.entry.text,
                prev_hash=r.entry.prev_hash,
                hash=r.entry.hash,
            )
            for r in self.tables.journal.get(crisis_id, ())
        ]
        return stored, head_seq, head_hash

    def chains_ended(self, crisis_id: str) -> frozenset[tuple[str, str]]:
        """(step id, group) of the chains already journaled "non joint"."""
        return ended_chains(self.journal(crisis_id, types=["ChainEnded"]))


def _journal_row(entry: JournalEntry) -> JournalRecord:
    """An entry as the journal table keeps it: its fact as JSON, its time in UTC."""
    data = entry.fact.model_dump(mode="json")
    stored = entry.model_copy(update={"at": utc(entry.at), "fact": parse_fact(data)})
    return JournalRecord(stored, data)


if TYPE_CHECKING:  # mypy proves the in-memory store is both kinds of unit of work
    _SERVICE: UnitOfWorkFactory[UnitOfWork] = MemoryStore()
    _DISPATCH: UnitOfWorkFactory[DispatchUnit] = MemoryStore()
