"""The figures of the annual review: the year's events and exercises, compliance per engagement,
media pressure and CIP in exercises, training, open corrective actions."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from crisis import compliance
from crisis.journal.view import read
from crisis.model import CipActivated, EngagementStatus, JournalEntry, MediaRequestReceived, Mode
from crisis.reports.figures.compliance import ComplianceRow, compliance_of, median, summary_of
from crisis.reports.figures.rex import lessons_of
from playbooks.model import EventKind

__all__ = [
    "AnnualFigures",
    "CrisisRow",
    "EngagementTally",
    "OpenAction",
    "TrainingRow",
    "annual_figures",
]


@dataclass(frozen=True)
class TrainingRow:
    """Training status of one member of the cell or CIP agent, as computed by the caller."""

    contact_id: str
    role_label: str
    status: str  # French, e.g. « à jour », « recyclage dépassé »
    next_due: date | None = None


@dataclass(frozen=True)
class CrisisRow:
    """One event or exercise of the year."""

    crisis_id: str
    kind: EventKind
    mode: Mode
    t0: datetime
    synergi_ref: str
    closed_at: datetime | None
    statuses: tuple[tuple[str, EngagementStatus], ...]  # engagement -> verdict
    media_requests: int
    cip_activated: bool

    @property
    def exercise(self) -> bool:
        """Whether it was an exercise."""
        return self.mode == Mode.EXERCICE


@dataclass(frozen=True)
class EngagementTally:
    """How one engagement fared over the year."""

    engagement: str
    met: int
    late: int
    missed: int
    not_applicable: int
    other: int  # still pending or at risk (crises judged before their hour ended)
    median_delay: timedelta | None  # over the met and late ones
    max_delay: timedelta | None


@dataclass(frozen=True)
class OpenAction:
    """A corrective action not done yet."""

    crisis_id: str
    title: str
    owner: str
    due: date | None
    overdue: bool


@dataclass(frozen=True)
class AnnualFigures:
    """The bilan annuel: events, exercises, compliance, media pressure, CIP, training, actions."""

    year: int
    judged_at: datetime
    crises: tuple[CrisisRow, ...]
    engagements: tuple[EngagementTally, ...]
    with_media_pressure: tuple[str, ...]  # exercise ids
    with_cip: tuple[str, ...]  # exercise ids
    events_with_cip: tuple[str, ...]  # real events ids
    training: tuple[TrainingRow, ...]
    open_actions: tuple[OpenAction, ...]

    @property
    def events(self) -> tuple[CrisisRow, ...]:
        """Real events of the year."""
        return tuple(c for c in self.crises if not c.exercise)

    @property
    def exercises(self) -> tuple[CrisisRow, ...]:
        """Exercises of the year."""
        return tuple(c for c in self.crises if c.exercise)


def annual_figures(
    year: int,
    journals: Iterable[Sequence[JournalEntry]],
    training: Iterable[TrainingRow],
    now: datetime,
    *,
    tz: tzinfo = UTC,
) -> AnnualFigures:
    """The annual review of the crises whose T0 falls in `year` (in `tz`), judged as of `now`."""
    rows: list[CrisisRow] = []
    verdicts: dict[str, list[ComplianceRow]] = defaultdict(list)
    actions: list[OpenAction] = []
    for entries in journals:
        j = read(entries, now)
        if j.t0.astimezone(tz).year != year:
            continue
        judged = compliance_of(j)
        for row in judged:
            verdicts[row.engagement].append(row)
        rows.append(
            CrisisRow(
                crisis_id=j.cod.crisis_id,
                kind=j.cod.kind,
                mode=j.cod.mode,
                t0=j.t0,
                synergi_ref=j.cod.synergi_ref,
                closed_at=summary_of(j).closed_at,
                statuses=tuple((r.engagement, r.status) for r in judged),
                media_requests=len(j.facts(MediaRequestReceived)),
                cip_activated=bool(j.facts(CipActivated)),
            )
        )
        lessons = lessons_of(j)
        if lessons is not None:
            today = now.astimezone(tz).date()
            actions.extend(
                OpenAction(
                    j.cod.crisis_id, a.title, a.owner, a.due, a.due is not None and a.due < today
                )
                for a in lessons.actions
                if not a.done
            )
    rows.sort(key=lambda r: (r.t0, r.crisis_id))
    exercises = [r for r in rows if r.exercise]
    return AnnualFigures(
        year=year,
        judged_at=now,
        crises=tuple(rows),
        engagements=tuple(_tally(ref, verdicts[ref]) for ref in compliance.ENGAGEMENTS),
        with_media_pressure=tuple(r.crisis_id for r in exercises if r.media_requests),
        with_cip=tuple(r.crisis_id for r in exercises if r.cip_activated),
        events_with_cip=tuple(r.crisis_id for r in rows if not r.exercise and r.cip_activated),
        training=tuple(sorted(training, key=lambda t: (t.role_label, t.contact_id))),
        open_actions=tuple(
            sorted(actions, key=lambda a: (a.due is None, a.due or date.max, a.crisis_id))
        ),
    )


def _tally(engagement: str, rows: Sequence[ComplianceRow]) -> EngagementTally:
    statuses = Counter(r.status for r in rows)
    delays = [
        r.delay
        for r in rows
        if r.delay is not None and r.status in {EngagementStatus.MET, EngagementStatus.LATE}
    ]
    known = (
        EngagementStatus.MET,
        EngagementStatus.LATE,
        EngagementStatus.MISSED,
        EngagementStatus.NOT_APPLICABLE,
    )
    return EngagementTally(
        engagement=engagement,
        met=statuses[EngagementStatus.MET],
        late=statuses[EngagementStatus.LATE],
        missed=statuses[EngagementStatus.MISSED],
        not_applicable=statuses[EngagementStatus.NOT_APPLICABLE],
        other=sum(n for s, n in statuses.items() if s not in known),
        median_delay=median(delays),
        max_delay=max(delays) if delays else None,
    )
