"""What the service and the outbox's dispatcher ask of a unit of work, as typing Protocols.

The database's `Store` / `Tx` (crisis/store/database.py, repository.py) and the in-memory
`MemoryStore` / `MemoryTx` (crisis/store/memory.py) both satisfy them structurally; the
service and the dispatcher are typed against these, never against the concrete classes.
Only the methods they call are listed: anything else of `Tx` (the directory, accounts,
erasure, counts) stays the database's business.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, TypeVar

from channels.base import ChannelName
from crisis.escalation import Attempt
from crisis.model import (
    Actor,
    CancelPending,
    Crisis,
    Fact,
    JournalEntry,
    Mode,
    OutboxItem,
    OutboxState,
    OutboxUpdate,
    SendMessage,
    StepState,
)
from playbooks.model import EventKind

__all__ = [
    "CrisesUnit",
    "DispatchUnit",
    "JournalAppend",
    "JournalUnit",
    "OutboxLookup",
    "OutboxUnit",
    "UnitOfWork",
    "UnitOfWorkFactory",
]

U_co = TypeVar("U_co", covariant=True)


class UnitOfWorkFactory(Protocol[U_co]):
    """Opens units of work: everything done inside one `with` commits together, or nothing
    of it is kept when the block raises (the exception goes on)."""

    def transaction(self) -> AbstractContextManager[U_co]:
        """One unit of work."""
        ...


class CrisesUnit(Protocol):
    """Crises, their steps, acknowledgements and the CIP's number."""

    def lock_activations(self) -> None:
        """Serialise activations until commit (the duplicate check and the insert)."""
        ...

    def crisis_by_key(self, idempotency_key: str) -> Crisis | None:
        """The crisis recorded with this idempotency key."""
        ...

    def crises_like(self, mode: Mode, synergi_ref: str, kind: EventKind) -> list[Crisis]:
        """Crises of this mode with the same SYNERGI reference or kind, oldest T0 first."""
        ...

    def crisis(self, crisis_id: str, *, lock: bool = False) -> Crisis:
        """The crisis, or CrisisNotFound; `lock` serialises with other units of work."""
        ...

    def id_taken(self, crisis_id: str) -> bool:
        """Whether a crisis already has this id."""
        ...

    def insert_crisis(self, crisis: Crisis, steps: Sequence[StepState]) -> None:
        """Store a new crisis and its steps; DuplicateKey for a known id or key."""
        ...

    def update_crisis(self, crisis_id: str, **values: Any) -> None:
        """Set fields of the crisis (closed_at, ciav_number, t0, t0_cip, cip_number,
        checkpoints_done, drafts)."""
        ...

    def checkpoints_done(self, crisis_id: str) -> frozenset[int]:
        """Compliance checkpoints already journaled."""
        ...

    def steps(self, crisis_id: str) -> list[StepState]:
        """The crisis's steps in playbook order."""
        ...

    def save_steps(self, crisis_id: str, states: Iterable[StepState]) -> None:
        """Write the new state of these steps."""
        ...

    def acknowledged(self, crisis_id: str) -> dict[str, str | None]:
        """Contacts who acknowledged, with their commune."""
        ...

    def record_ack(
        self, crisis_id: str, contact_id: str, commune: str | None, at: datetime
    ) -> None:
        """Remember a contact's first acknowledgement."""
        ...

    def open_cip(self, number: str) -> Crisis | None:
        """The open crisis whose CIP answers on this numéro unique (latest T0)."""
        ...


class JournalAppend(Protocol):
    """Appends to the main courante."""

    def append(
        self, crisis_id: str, items: Sequence[tuple[Fact, Actor]], at: datetime
    ) -> list[JournalEntry]:
        """Append facts chained to the crisis's head; CrisisNotFound for an unknown crisis."""
        ...

    def append_many(
        self, items: Mapping[str, Sequence[tuple[Fact, Actor]]], at: datetime
    ) -> list[JournalEntry]:
        """Append facts to several crises at once (one insert), each chained to its head."""
        ...


class JournalUnit(JournalAppend, Protocol):
    """The main courante: hash-chained appends and reads."""

    def journal(self, crisis_id: str, types: Iterable[str] | None = None) -> list[JournalEntry]:
        """The crisis's entries in seq order, optionally of some fact types only."""
        ...

    def chains_ended(self, crisis_id: str) -> frozenset[tuple[str, str]]:
        """(step id, group) of the chains journaled "non joint"."""
        ...


class OutboxLookup(Protocol):
    """An outbox row by its key."""

    def outbox_by_key(self, idempotency_key: str) -> OutboxItem | None:
        """The row with this idempotency key."""
        ...


class OutboxUnit(OutboxLookup, Protocol):
    """The outbox as the service writes and reads it."""

    def enqueue(self, messages: Sequence[SendMessage], at: datetime) -> None:
        """New pending rows, one per message (its idempotency key is unique)."""
        ...

    def cancel_pending(
        self, crisis_id: str, cancel: CancelPending, at: datetime
    ) -> list[OutboxItem]:
        """Cancel the matching pending rows; returns them as they were."""
        ...

    def set_outbox(self, outbox_id: int, at: datetime, **values: Any) -> None:
        """Update one row (state, provider_id, next_attempt_at, last_error)."""
        ...

    def find_outbox(
        self, *, channel: ChannelName, provider_id: str = "", idempotency_key: str = ""
    ) -> OutboxItem | None:
        """The row a provider callback speaks of: by our key, else by the provider's id."""
        ...

    def outbox_by_keys(self, idempotency_keys: Iterable[str]) -> dict[str, OutboxItem]:
        """The rows with these idempotency keys, by key (a group commit's receipts)."""
        ...

    def record_receipts(self, updates: Sequence[OutboxUpdate], at: datetime) -> None:
        """Write providers' receipts: each row's state, and its provider id when given."""
        ...

    def call_attempts(self, crisis_id: str, step_ids: Sequence[str]) -> list[Attempt]:
        """The calls of escalating steps so far."""
        ...

    def latest_to(
        self, channel: ChannelName, address: str, *, asking_ack: bool
    ) -> OutboxItem | None:
        """The latest row handed to the provider for this address, in an open crisis."""
        ...


class UnitOfWork(CrisesUnit, JournalUnit, OutboxUnit, Protocol):
    """What the service (crisis.service) does inside one transaction."""


class DispatchUnit(JournalAppend, OutboxLookup, Protocol):
    """What the outbox's dispatcher (crisis.outbox) does inside one transaction."""

    def claim_due(self, channel: ChannelName, now: datetime, limit: int) -> list[OutboxItem]:
        """Take due pending rows of a channel (oldest due first) and mark them `sending`."""
        ...

    def next_due(self, channel: ChannelName) -> datetime | None:
        """When the next pending row of a channel falls due."""
        ...

    def in_states(self, states: Iterable[OutboxState]) -> list[OutboxItem]:
        """Rows in the given states."""
        ...

    def record_outcomes(self, outcomes: Sequence[OutboxUpdate], at: datetime) -> None:
        """Write attempts' results to rows still `sending` or `unknown`."""
        ...
