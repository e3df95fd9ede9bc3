"""The in-memory store's tables (crisis/store/memory.py): immutable rows in plain containers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crisis.model import Crisis, JournalEntry, OutboxItem, StepState

__all__ = ["JournalRecord", "MemoryTables", "OutboxRecord"]


@dataclass(frozen=True)
class OutboxRecord:
    """An outbox row: the item and the columns only the store sees."""

    item: OutboxItem
    next_attempt_at: datetime
    created_at: datetime
    updated_at: datetime
    last_error: str = ""


@dataclass(frozen=True)
class JournalRecord:
    """A journal row: the entry and its fact's JSON as the hash covered it."""

    entry: JournalEntry
    data: dict[str, Any]


@dataclass
class MemoryTables:
    """Everything stored; values are immutable, so a copy of the containers is a snapshot."""

    crises: dict[str, Crisis] = field(default_factory=dict)
    checkpoints: dict[str, frozenset[int]] = field(default_factory=dict)
    steps: dict[str, tuple[StepState, ...]] = field(default_factory=dict)
    acks: dict[tuple[str, str], str | None] = field(default_factory=dict)
    journal: dict[str, tuple[JournalRecord, ...]] = field(default_factory=dict)
    outbox: dict[int, OutboxRecord] = field(default_factory=dict)
    outbox_keys: dict[str, int] = field(default_factory=dict)

    def copy(self) -> MemoryTables:
        """A snapshot (the containers copied, the immutable values shared)."""
        return MemoryTables(
            dict(self.crises),
            dict(self.checkpoints),
            dict(self.steps),
            dict(self.acks),
            dict(self.journal),
            dict(self.outbox),
            dict(self.outbox_keys),
        )
