"""Media pressure (49.2): requests per quarter hour and per kind, times to first answer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import get_args

from crisis import press
from crisis.journal.view import JournalView
from crisis.model import MediaRequestKind
from crisis.reports.figures.compliance import median

__all__ = ["MEDIA_KINDS", "QUARTER", "MediaFigures", "MediaRequestRow", "QuarterCount", "media_of"]

QUARTER = timedelta(minutes=15)
MEDIA_KINDS: tuple[MediaRequestKind, ...] = get_args(MediaRequestKind)


@dataclass(frozen=True)
class QuarterCount:
    """Media requests received in one quarter hour after T0."""

    start: timedelta  # offset of the quarter's start from T0
    count: int


@dataclass(frozen=True)
class MediaRequestRow:
    """One journalist's request and its first answer."""

    request_id: str
    kind: MediaRequestKind
    outlet: str
    topic: str
    simulated: bool
    received: timedelta  # from T0
    assignee: str
    answered: timedelta | None  # from T0
    time_to_answer: timedelta | None
    answered_by: str = ""  # the actor of the first answer


@dataclass(frozen=True)
class MediaFigures:
    """Media pressure (49.2): volume per quarter hour and per kind, times to answer."""

    requests: tuple[MediaRequestRow, ...]
    per_quarter: tuple[QuarterCount, ...]  # from T0 to the last request, empty quarters included
    per_kind: tuple[tuple[MediaRequestKind, int], ...]  # kinds seen, in MediaRequestKind order
    median_answer: timedelta | None
    max_answer: timedelta | None
    unanswered: tuple[str, ...]  # request ids

    @property
    def total(self) -> int:
        """Requests received."""
        return len(self.requests)


def media_of(j: JournalView) -> MediaFigures:
    """Media pressure: the requests, per quarter hour and per kind, times to answer."""
    rows = [
        MediaRequestRow(
            request_id=r.request_id,
            kind=r.kind,
            outlet=r.request.outlet,
            topic=r.request.topic,
            simulated=r.request.simulated,
            received=r.received_at - j.t0,
            assignee=r.first_assignee,
            answered=None if r.answered_at is None else r.answered_at - j.t0,
            time_to_answer=r.time_to_answer(),
            answered_by=r.answered_by,
        )
        for r in press.queue(j.entries)
    ]
    waits = [r.time_to_answer for r in rows if r.time_to_answer is not None]
    kinds = Counter(r.kind for r in rows)
    return MediaFigures(
        requests=tuple(rows),
        per_quarter=_quarters([r.received for r in rows]),
        per_kind=tuple((k, kinds[k]) for k in MEDIA_KINDS if kinds[k]),
        median_answer=median(waits),
        max_answer=max(waits) if waits else None,
        unanswered=tuple(r.request_id for r in rows if r.answered is None),
    )


def _quarters(offsets: Sequence[timedelta]) -> tuple[QuarterCount, ...]:
    """Counts per quarter hour since T0 (anything before T0 falls in the first quarter)."""
    if not offsets:
        return ()
    index = Counter(max(0, off // QUARTER) for off in offsets)
    return tuple(QuarterCount(QUARTER * i, index[i]) for i in range(max(index) + 1))
