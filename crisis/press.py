"""The media-request (press) queue, projected from the main courante alone (pure).

The projection of the journalists' requests that the board, the exercises page and the
reports read: each request received, to whom the press office gave it, and its first answer
(the entry's actor is who answered).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from crisis.model import (
    JournalEntry,
    MediaRequestAnswered,
    MediaRequestAssigned,
    MediaRequestKind,
    MediaRequestReceived,
)

__all__ = ["PressRequest", "find", "queue"]


@dataclass(frozen=True)
class PressRequest:
    """One journalist's request: its receipt, its assignments in order, its first answer."""

    received: JournalEntry  # holds the MediaRequestReceived
    request: MediaRequestReceived
    assignees: tuple[str, ...] = ()  # every assignment, in journal order
    answer: JournalEntry | None = None  # the first answer's entry (holds a MediaRequestAnswered)

    @property
    def request_id(self) -> str:
        """The request's reference (P-001...)."""
        return self.request.request_id

    @property
    def kind(self) -> MediaRequestKind:
        """Call, e-mail, mention, question or interview."""
        return self.request.kind

    @property
    def received_at(self) -> datetime:
        """When the request was recorded."""
        return self.received.at

    @property
    def assignee(self) -> str:
        """Who has it now: the latest assignment, or ""."""
        return self.assignees[-1] if self.assignees else ""

    @property
    def first_assignee(self) -> str:
        """Who it was first given to, or ""."""
        return self.assignees[0] if self.assignees else ""

    @property
    def answered(self) -> bool:
        """Whether it got its first answer."""
        return self.answer is not None

    @property
    def answered_at(self) -> datetime | None:
        """When the first answer was recorded."""
        return self.answer.at if self.answer is not None else None

    @property
    def answered_by(self) -> str:
        """Who gave the first answer (the entry's actor), or ""."""
        return self.answer.actor.name if self.answer is not None else ""

    @property
    def answer_text(self) -> str | None:
        """The first answer's text, None while unanswered."""
        if self.answer is None:
            return None
        fact = self.answer.fact
        return fact.answer if isinstance(fact, MediaRequestAnswered) else ""

    def time_to_answer(self) -> timedelta | None:
        """From receipt to the first answer, None while unanswered."""
        at = self.answered_at
        return None if at is None else at - self.received_at

    def waiting(self, now: datetime) -> timedelta:
        """How long it has been waiting at `now` (until its first answer, once answered)."""
        at = self.answered_at
        return (now if at is None else at) - self.received_at


def queue(entries: Iterable[JournalEntry]) -> tuple[PressRequest, ...]:
    """The press requests of a journal, in the order received (entries given in journal order).

    Assignments and answers are matched to their request by id; only the first answer counts.
    """
    received: list[tuple[JournalEntry, MediaRequestReceived]] = []
    assignees: dict[str, list[str]] = defaultdict(list)
    answers: dict[str, JournalEntry] = {}
    for entry in entries:
        fact = entry.fact
        if isinstance(fact, MediaRequestReceived):
            received.append((entry, fact))
        elif isinstance(fact, MediaRequestAssigned):
            assignees[fact.request_id].append(fact.assignee)
        elif isinstance(fact, MediaRequestAnswered):
            answers.setdefault(fact.request_id, entry)
    return tuple(
        PressRequest(
            received=entry,
            request=fact,
            assignees=tuple(assignees.get(fact.request_id, ())),
            answer=answers.get(fact.request_id),
        )
        for entry, fact in received
    )


def find(entries: Iterable[JournalEntry], request_id: str) -> PressRequest | None:
    """The request `request_id` of a journal, or None if it has none of that id."""
    return next((r for r in queue(entries) if r.request_id == request_id), None)
