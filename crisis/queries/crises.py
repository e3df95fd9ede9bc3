"""Reads of one crisis as the API and the exercises page show it: the crisis with its main
courante (and its steps), each in one unit of work; CrisisNotFound for an unknown id."""

from __future__ import annotations

from dataclasses import dataclass

from crisis.model import Crisis, JournalEntry, StepState
from crisis.store import Store

__all__ = ["CrisisJournal", "CrisisState", "by_key", "crisis_journal", "crisis_state"]


@dataclass(frozen=True)
class CrisisJournal:
    """The crisis and its main courante, read together."""

    crisis: Crisis
    entries: list[JournalEntry]


@dataclass(frozen=True)
class CrisisState:
    """The crisis, its playbook steps and its main courante, read together."""

    crisis: Crisis
    steps: list[StepState]
    entries: list[JournalEntry]


def crisis_journal(store: Store, crisis_id: str) -> CrisisJournal:
    """The crisis and its main courante (CrisisNotFound when unknown)."""
    with store.transaction() as tx:
        crisis = tx.crisis(crisis_id)
        return CrisisJournal(crisis, tx.journal(crisis_id))


def crisis_state(store: Store, crisis_id: str) -> CrisisState:
    """The crisis, its steps and its main courante (CrisisNotFound when unknown)."""
    with store.transaction() as tx:
        crisis = tx.crisis(crisis_id)
        return CrisisState(crisis, tx.steps(crisis_id), tx.journal(crisis_id))


def by_key(store: Store, idempotency_key: str) -> Crisis | None:
    """The crisis recorded under this idempotency key, if any."""
    with store.transaction() as tx:
        return tx.crisis_by_key(idempotency_key)
