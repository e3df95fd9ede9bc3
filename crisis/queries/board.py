"""Reads behind a crisis's board: the crisis with its steps and main courante, and the head of
the main courante the live board watches; each in one unit of work, CrisisNotFound for an
unknown id (except `journal_head`, which answers None)."""

from __future__ import annotations

from dataclasses import dataclass

from crisis.model import Crisis, JournalEntry, StepState
from crisis.store import Store
from crisis.store.repository import CrisisNotFound

__all__ = ["BoardState", "DraftingState", "board_state", "drafting_state", "journal_head"]


@dataclass(frozen=True)
class BoardState:
    """The crisis, its playbook steps and its main courante, read together."""

    crisis: Crisis
    steps: list[StepState]
    entries: list[JournalEntry]


@dataclass(frozen=True)
class DraftingState:
    """The crisis and its playbook steps, read together (the drafting page)."""

    crisis: Crisis
    steps: list[StepState]


def board_state(store: Store, crisis_id: str) -> BoardState:
    """What the board shows (CrisisNotFound when unknown)."""
    with store.transaction() as tx:
        return BoardState(tx.crisis(crisis_id), tx.steps(crisis_id), tx.journal(crisis_id))


def drafting_state(store: Store, crisis_id: str) -> DraftingState:
    """What the drafting page starts from (CrisisNotFound when unknown)."""
    with store.transaction() as tx:
        return DraftingState(tx.crisis(crisis_id), tx.steps(crisis_id))


def journal_head(store: Store, crisis_id: str) -> int | None:
    """The crisis's latest journal sequence number (None: no such crisis)."""
    try:
        with store.transaction() as tx:
            seq, _hash = tx.journal_head(crisis_id)  # one row read, no entry decoded
    except CrisisNotFound:
        return None
    return seq
