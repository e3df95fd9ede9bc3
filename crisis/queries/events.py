"""Reads about recorded events (crises and exercises): the crisis, its main courante, its
steps and its outbox figures, each in one unit of work. CrisisNotFound for an unknown id."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crisis.journal import StoredEntry
from crisis.model import Crisis, JournalEntry, StepState
from crisis.store import Store

OutboxCounts = dict[tuple[str, str], int]  # (channel, state) -> messages


@dataclass(frozen=True)
class EventStatus:
    """One consistent picture of an event, for `crisis status`."""

    crisis: Crisis
    entries: list[JournalEntry]
    steps: list[StepState]
    counts: OutboxCounts


@dataclass(frozen=True)
class StoredJournal:
    """The main courante as sealed, with the crisis row's head, for verification."""

    entries: list[StoredEntry]
    head_seq: int
    head_hash: str


def crisis(store: Store, crisis_id: str) -> Crisis:
    """The event (CrisisNotFound when unknown)."""
    with store.transaction() as tx:
        return tx.crisis(crisis_id)


def crisis_ids(store: Store, *, open_only: bool = False) -> list[str]:
    """The events' ids, oldest T0 first."""
    with store.transaction() as tx:
        return tx.crisis_ids(open_only=open_only)


def crises(store: Store) -> list[Crisis]:
    """Every event, oldest T0 first."""
    with store.transaction() as tx:
        return [tx.crisis(cid) for cid in tx.crisis_ids(open_only=False)]


def journal(store: Store, crisis_id: str, types: Iterable[str] | None = None) -> list[JournalEntry]:
    """The event's main courante (only the facts of `types` when given)."""
    with store.transaction() as tx:
        tx.crisis(crisis_id)
        return tx.journal(crisis_id, types=types)


def journals(store: Store) -> list[list[JournalEntry]]:
    """The main courante of every event, oldest T0 first."""
    with store.transaction() as tx:
        return [tx.journal(cid) for cid in tx.crisis_ids(open_only=False)]


def steps(store: Store, crisis_id: str) -> list[StepState]:
    """The event's playbook steps."""
    with store.transaction() as tx:
        return tx.steps(crisis_id)


def outbox_counts(store: Store, crisis_id: str) -> OutboxCounts:
    """How many messages per channel and state."""
    with store.transaction() as tx:
        return tx.outbox_counts(crisis_id)


def status(store: Store, crisis_id: str) -> EventStatus:
    """The event, its main courante, its steps and its outbox, read together."""
    with store.transaction() as tx:
        return EventStatus(
            crisis=tx.crisis(crisis_id),
            entries=tx.journal(crisis_id),
            steps=tx.steps(crisis_id),
            counts=tx.outbox_counts(crisis_id),
        )


def stored_journal(store: Store, crisis_id: str) -> StoredJournal:
    """The sealed main courante and its head (CrisisNotFound when unknown)."""
    with store.transaction() as tx:
        stored, head_seq, head_hash = tx.stored_journal(crisis_id)
    return StoredJournal(stored, head_seq, head_hash)
