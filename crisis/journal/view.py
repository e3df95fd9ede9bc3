"""The one read of a crisis's main courante that compliance and the reports share (pure).

`read(entries, now)` sorts the entries once, finds the CodActivated and the T0 the hour counts
from, and keeps what was recorded by `now`; the helpers below answer the questions every
reader of the journal asks (the facts of a kind, the first acknowledgement of a role, the
messages published).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel

from contacts.model import Role
from crisis.model import (
    AcknowledgementReceived,
    AttemptOutcome,
    CodActivated,
    DeliveryAttempted,
    JournalEntry,
    T0Rectified,
)
from playbooks.model import Engagement

__all__ = [
    "PUBLISHED",
    "JournalView",
    "current_t0",
    "declared_t0",
    "is_published",
    "read",
]

# The provider took it, or an agent recorded it published by hand while the channel was down.
PUBLISHED: frozenset[AttemptOutcome] = frozenset({"sent", "reconciled", "manual"})
_NO_COD = "la main courante ne contient pas l'activation du COD (temps 0)"
_F = TypeVar("_F", bound=BaseModel)


def is_published(attempt: DeliveryAttempted) -> bool:
    """Whether the attempt put the message out (sent, confirmed, or published by hand)."""
    return attempt.outcome in PUBLISHED


def current_t0(entries: Sequence[JournalEntry]) -> datetime:
    """The T0 the hour counts from: the latest rectified one, else the COD activation's.

    Like the CodActivated, a rectification frames the whole crisis even when recorded after
    the instant judged.
    """
    t0: datetime | None = None
    for entry in sorted(entries, key=lambda e: e.seq):
        fact = entry.fact
        if (isinstance(fact, CodActivated) and t0 is None) or isinstance(fact, T0Rectified):
            t0 = fact.t0
    if t0 is None:
        raise ValueError(_NO_COD)
    return t0


def declared_t0(entries: Sequence[JournalEntry]) -> datetime | None:
    """The T0 first recorded, when it was rectified since (None otherwise)."""
    current = current_t0(entries)
    cod = next(e.fact for e in entries if isinstance(e.fact, CodActivated))
    return cod.t0 if cod.t0 != current else None


@dataclass(frozen=True)
class JournalView:
    """One crisis's journal as of `now`: its CodActivated, the entries recorded by then, its T0."""

    cod: CodActivated
    cod_entry: JournalEntry
    entries: tuple[JournalEntry, ...]  # recorded by `now`, in seq order
    now: datetime
    t0: datetime  # the T0 the hour counts from: rectified, if it was

    @property
    def cod_seq(self) -> int:
        """The seq of the CodActivated, cited by every verdict."""
        return self.cod_entry.seq

    @property
    def declared_t0(self) -> datetime | None:
        """The T0 first recorded, when it was rectified since."""
        return self.cod.t0 if self.t0 != self.cod.t0 else None

    def facts(self, kind: type[_F]) -> list[tuple[JournalEntry, _F]]:
        """The entries holding a fact of `kind`, with that fact, in journal order."""
        return [(e, e.fact) for e in self.entries if isinstance(e.fact, kind)]

    def first_ack(self, role: Role) -> JournalEntry | None:
        """The first acknowledgement by someone of `role`."""
        return next((e for e, ack in self.facts(AcknowledgementReceived) if ack.role == role), None)

    def published(
        self, engagement: Engagement | None = None
    ) -> list[tuple[JournalEntry, DeliveryAttempted]]:
        """The attempts that put a message out, for one engagement or all."""
        return [
            (e, a)
            for e, a in self.facts(DeliveryAttempted)
            if is_published(a) and (engagement is None or a.engagement == engagement)
        ]


def read(entries: Sequence[JournalEntry], now: datetime) -> JournalView:
    """The view of a crisis's entries as of `now`.

    The CodActivated frames the crisis even when recorded after `now` (backdated T0).
    """
    ordered = sorted(entries, key=lambda e: e.seq)
    for entry in ordered:
        if isinstance(entry.fact, CodActivated):
            kept = tuple(e for e in ordered if e.crisis_id == entry.crisis_id and e.at <= now)
            return JournalView(entry.fact, entry, kept, now, current_t0(ordered))
    raise ValueError(_NO_COD)
