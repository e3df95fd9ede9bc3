"""The figures of a REX, a compliance report and an annual review, computed from journals alone.

Pure: no clock read, no I/O. `now` is passed in; only entries recorded at or before it count
(the CodActivated frames the crisis even when recorded later, as read by crisis.journal.view).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import get_args

from channels.base import ChannelName
from contacts.model import Role
from crisis import compliance, press
from crisis.journal.view import JournalView, is_published, read
from crisis.model import (
    AcknowledgementReceived,
    ChainEnded,
    CipActivated,
    CipCallEnded,
    CipCallOutcome,
    CipClosed,
    CodActivated,
    CorrectiveAction,
    CrisisClosed,
    DeliveryAttempted,
    DeliveryReported,
    EngagementStatus,
    InjectPlayed,
    JournalEntry,
    LessonsRecorded,
    MediaRequestKind,
    MediaRequestReceived,
    Mode,
    StepSkipped,
    StepTriggered,
    WarningRaised,
)
from playbooks.model import Engagement, EventKind

__all__ = [
    "MEDIA_KINDS",
    "QUARTER",
    "AnnualFigures",
    "CategoryName",
    "ChannelStats",
    "CipFigures",
    "ComplianceFigures",
    "ComplianceRow",
    "CrisisRow",
    "EngagementTally",
    "Evidence",
    "Lessons",
    "MediaFigures",
    "MediaRequestRow",
    "OpenAction",
    "QuarterCount",
    "ReachRow",
    "RexFigures",
    "Summary",
    "TimelineEvent",
    "TrainingRow",
    "annual_figures",
    "compliance_figures",
    "rex_figures",
]

QUARTER = timedelta(minutes=15)
FAILED = frozenset({"failed", "expired"})
MEDIA_KINDS: tuple[MediaRequestKind, ...] = get_args(MediaRequestKind)
CIP_OUTCOMES: tuple[CipCallOutcome, ...] = get_args(CipCallOutcome)
REACH_LABELS = {
    "joint": "joint",
    "non_joint": "non joint",
    "en_cours": "en cours",
    "injoignable": "injoignable (aucun élu dans l'annuaire)",
}


class CategoryName(StrEnum):
    """Lanes of the timeline (French, shown as is)."""

    T0 = "T0"
    STEP = "étape"
    PUBLICATION = "publication"
    ACK = "accusé"
    PRESS = "presse"
    CIP = "CIP"
    INJECT = "injection"
    ALERT = "alerte"


# --- REX ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """Who, what, when: the head of every report."""

    crisis_id: str
    kind: EventKind
    mode: Mode
    t0: datetime
    recorded_at: datetime  # when T0 was recorded (may be after T0)
    synergi_ref: str
    communes_count: int
    playbook_title: str
    playbook_version: int
    closed_at: datetime | None
    duration: timedelta  # T0 to closing, or to `now` while open
    judged_at: datetime  # the `now` the figures were computed for
    t0_declared: datetime | None = None  # the T0 first recorded, when it was rectified since

    @property
    def exercise(self) -> bool:
        """Whether this is an exercise (banner EXERCICE)."""
        return self.mode == Mode.EXERCICE

    @property
    def kind_label(self) -> str:
        """French event kind."""
        return self.kind.label

    @property
    def mode_label(self) -> str:
        """« réel » or « exercice »."""
        return "exercice" if self.exercise else "réel"


@dataclass(frozen=True)
class TimelineEvent:
    """One dot on the timeline."""

    seq: int
    at: datetime
    offset: timedelta  # from T0
    category: CategoryName
    label: str  # French


@dataclass(frozen=True)
class Evidence:
    """A journal entry cited as proof."""

    seq: int
    at: datetime
    text: str


@dataclass(frozen=True)
class ComplianceRow:
    """One engagement's verdict with its delay and proofs."""

    engagement: str
    status: EngagementStatus
    delay: timedelta | None  # from T0, or from T0 CIP for 50.1
    origin: str  # "T0" or "T0 CIP"
    detail: str
    evidence: tuple[Evidence, ...]

    @property
    def status_label(self) -> str:
        """French status."""
        return self.status.label


@dataclass(frozen=True)
class ReachRow:
    """Whether a commune concerned had an official reached (48.1)."""

    code_insee: str
    name: str  # "" when the journal does not name it
    status: str  # joint, non_joint, en_cours, injoignable
    contact_id: str | None
    role: Role | None
    at: datetime | None
    offset: timedelta | None
    attempts: int
    complete: bool

    @property
    def status_label(self) -> str:
        """French status."""
        return REACH_LABELS.get(self.status, self.status)

    @property
    def role_label(self) -> str:
        """French role of who acknowledged, or ""."""
        return self.role.label if self.role is not None else ""


@dataclass(frozen=True)
class ChannelStats:
    """What one channel did: messages sent, delivered, failed, acknowledged, and when."""

    channel: ChannelName
    sent: int  # distinct messages the provider took (or published by hand)
    delivered: int  # distinct messages with a delivery receipt
    failed: int  # distinct messages failed for good, expired or reported not delivered
    acknowledged: int  # acknowledgements received through this channel
    first_delivery: timedelta | None  # from T0
    last_delivery: timedelta | None

    @property
    def label(self) -> str:
        """French channel name."""
        return self.channel.label


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


@dataclass(frozen=True)
class CipFigures:
    """The CIP and its numéro unique (50): activation and calls."""

    number: str | None
    t0_cip: timedelta | None  # activation, from T0
    closed: timedelta | None
    calls: int
    answered: int
    abandoned: int
    messages: int
    overflow: int
    out_of_hours: int
    mean_wait: timedelta | None
    max_wait: timedelta | None
    per_agent: tuple[tuple[str, int], ...]  # agent contact id, calls answered; most first

    @property
    def activated(self) -> bool:
        """Whether the CIP was activated."""
        return self.t0_cip is not None


@dataclass(frozen=True)
class Lessons:
    """The REX's « enseignements et actions correctives » as last recorded."""

    text: str
    actions: tuple[CorrectiveAction, ...]
    at: datetime
    by: str
    seq: int


@dataclass(frozen=True)
class RexFigures:
    """Everything a REX shows, built from one crisis's journal."""

    summary: Summary
    timeline: tuple[TimelineEvent, ...]
    compliance: tuple[ComplianceRow, ...]
    reach: tuple[ReachRow, ...]
    channels: tuple[ChannelStats, ...]
    media: MediaFigures
    cip: CipFigures
    lessons: Lessons | None
    entries_count: int
    last_hash: str  # the hash of the last entry: seals the main courante the report cites

    @property
    def not_reached(self) -> tuple[ReachRow, ...]:
        """Communes without an official who acknowledged."""
        return tuple(r for r in self.reach if r.status != "joint")


@dataclass(frozen=True)
class ComplianceFigures:
    """The one-page compliance report: the one-hour verdict alone."""

    summary: Summary
    compliance: tuple[ComplianceRow, ...]
    reach: tuple[ReachRow, ...]
    entries_count: int
    last_hash: str


# --- extraction -----------------------------------------------------------------------------


def _summary(j: JournalView) -> Summary:
    closed = next((e.at for e, _ in j.facts(CrisisClosed)), None)
    end = closed if closed is not None else j.now
    return Summary(
        crisis_id=j.cod.crisis_id,
        kind=j.cod.kind,
        mode=j.cod.mode,
        t0=j.t0,
        recorded_at=j.cod_entry.at,
        synergi_ref=j.cod.synergi_ref,
        communes_count=len(j.cod.communes),
        playbook_title=j.cod.playbook_title,
        playbook_version=j.cod.playbook_version,
        closed_at=closed,
        duration=max(end - j.t0, timedelta(0)),
        judged_at=j.now,
        t0_declared=j.declared_t0,
    )


def _timeline(j: JournalView) -> tuple[TimelineEvent, ...]:
    events: list[TimelineEvent] = []

    def add(entry: JournalEntry, category: CategoryName, label: str, at: datetime) -> None:
        events.append(TimelineEvent(entry.seq, at, at - j.t0, category, label))

    published: set[tuple[str, ChannelName]] = set()
    for entry in j.entries:
        fact = entry.fact
        match fact:
            case CodActivated():
                add(entry, CategoryName.T0, f"Activation du COD (SYNERGI {fact.synergi_ref})", j.t0)
            case StepTriggered():
                add(entry, CategoryName.STEP, f"{fact.title} ({fact.engagement})", entry.at)
            case StepSkipped():
                label = f"{fact.title} ({fact.engagement}) : sans objet, {fact.reason}"
                add(entry, CategoryName.STEP, label, entry.at)
            case DeliveryAttempted() if is_published(fact) and _is_publication(fact):
                if (fact.step_id, fact.channel) not in published:
                    published.add((fact.step_id, fact.channel))
                    add(entry, CategoryName.PUBLICATION, _publication_label(fact), entry.at)
            case AcknowledgementReceived():
                who = f" ({fact.role.label})" if fact.role is not None else ""
                add(entry, CategoryName.ACK, f"{fact.contact_id}{who}", entry.at)
            case MediaRequestReceived():
                label = f"{fact.request_id} — {fact.outlet} ({fact.kind})"
                add(entry, CategoryName.PRESS, label, entry.at)
            case CipActivated():
                add(entry, CategoryName.CIP, f"T0 CIP : numéro unique {fact.number}", entry.at)
            case CipClosed():
                add(entry, CategoryName.CIP, "Fermeture de la CIP", entry.at)
            case InjectPlayed():
                rumour = " (rumeur)" if fact.rumour else ""
                add(entry, CategoryName.INJECT, f"{fact.inject_id}{rumour} : {fact.text}", entry.at)
            case WarningRaised():
                add(entry, CategoryName.ALERT, fact.message, entry.at)
            case ChainEnded():
                where = fact.label or fact.commune or fact.group
                add(entry, CategoryName.ALERT, f"{where} : non joint", entry.at)
            case CrisisClosed():
                add(entry, CategoryName.STEP, "Clôture de l'événement", entry.at)
            case _:
                pass
    return tuple(sorted(events, key=lambda e: (e.at, e.seq)))


def _is_publication(attempt: DeliveryAttempted) -> bool:
    """Public posts and the press release (not the calls and SMS to people)."""
    return attempt.channel.is_public or attempt.engagement == Engagement.E48_3


def _publication_label(attempt: DeliveryAttempted) -> str:
    what = "communiqué de presse" if attempt.engagement == Engagement.E48_3 else "publication"
    manual = ", à la main" if attempt.outcome == "manual" else ""
    return f"{what} : {attempt.channel.label} ({attempt.step_id}{manual})"


def _compliance(j: JournalView) -> tuple[ComplianceRow, ...]:
    by_seq = {e.seq: e for e in j.entries}
    rows = []
    for verdict in compliance.judge_view(j):
        origin = compliance.clock_of(verdict.engagement)
        delay = None if verdict.delay_seconds is None else timedelta(seconds=verdict.delay_seconds)
        evidence = tuple(
            Evidence(seq, by_seq[seq].at, by_seq[seq].text)
            for seq in verdict.evidence
            if seq in by_seq
        )
        rows.append(
            ComplianceRow(
                verdict.engagement, verdict.status, delay, origin, verdict.detail, evidence
            )
        )
    return tuple(rows)


def _commune_names(j: JournalView) -> dict[str, str]:
    """Names the journal gives: the CodActivated's if it has them, else the chains' labels."""
    names: dict[str, str] = dict(getattr(j.cod, "commune_names", None) or {})
    for _, chain in j.facts(ChainEnded):
        if chain.commune and chain.label and chain.commune not in names:
            label = chain.label
            for prefix in ("commune de ", "commune d'", "commune d’", "commune "):
                if label.startswith(prefix):
                    label = label[len(prefix) :]
                    break
            names[chain.commune] = label
    return names


def _reach(j: JournalView) -> tuple[ReachRow, ...]:
    names = _commune_names(j)
    return tuple(
        ReachRow(
            code_insee=r.code_insee,
            name=names.get(r.code_insee, ""),
            status=r.status,
            contact_id=r.contact_id,
            role=r.role,
            at=r.at,
            offset=None if r.at is None else r.at - j.t0,
            attempts=r.attempts,
            complete=r.complete,
        )
        for r in compliance.commune_reach_view(j)
    )


def _channels(j: JournalView) -> tuple[ChannelStats, ...]:
    sent: dict[ChannelName, set[str]] = defaultdict(set)
    failed: dict[ChannelName, set[str]] = defaultdict(set)
    delivered: dict[ChannelName, set[str]] = defaultdict(set)
    deliveries: dict[ChannelName, list[datetime]] = defaultdict(list)
    acknowledged: Counter[ChannelName] = Counter()
    channel_of: dict[str, ChannelName] = {}
    seen: set[ChannelName] = set()
    for _, attempt in j.facts(DeliveryAttempted):
        channel_of[attempt.outbox_key] = attempt.channel
        if attempt.outcome == "cancelled":
            continue
        seen.add(attempt.channel)
        if is_published(attempt):
            sent[attempt.channel].add(attempt.outbox_key)
        elif attempt.outcome in FAILED:
            failed[attempt.channel].add(attempt.outbox_key)
    for entry, report in j.facts(DeliveryReported):
        seen.add(report.channel)
        if report.delivered:
            delivered[report.channel].add(report.outbox_key)
            deliveries[report.channel].append(entry.at)
        else:
            failed[report.channel].add(report.outbox_key)
    for _, ack in j.facts(AcknowledgementReceived):
        channel = ack.channel or (channel_of.get(ack.outbox_key) if ack.outbox_key else None)
        if channel is not None:
            seen.add(channel)
            acknowledged[channel] += 1
    return tuple(
        ChannelStats(
            channel=c,
            sent=len(sent[c]),
            delivered=len(delivered[c]),
            failed=len(failed[c] - delivered[c]),
            acknowledged=acknowledged[c],
            first_delivery=min(deliveries[c]) - j.t0 if deliveries[c] else None,
            last_delivery=max(deliveries[c]) - j.t0 if deliveries[c] else None,
        )
        for c in ChannelName
        if c in seen
    )


def _media(j: JournalView) -> MediaFigures:
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
        median_answer=_median(waits),
        max_answer=max(waits) if waits else None,
        unanswered=tuple(r.request_id for r in rows if r.answered is None),
    )


def _quarters(offsets: Sequence[timedelta]) -> tuple[QuarterCount, ...]:
    """Counts per quarter hour since T0 (anything before T0 falls in the first quarter)."""
    if not offsets:
        return ()
    index = Counter(max(0, off // QUARTER) for off in offsets)
    return tuple(QuarterCount(QUARTER * i, index[i]) for i in range(max(index) + 1))


def _median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def _cip(j: JournalView) -> CipFigures:
    activated = j.facts(CipActivated)
    closed = j.facts(CipClosed)
    calls = [c for _, c in j.facts(CipCallEnded)]
    outcomes = Counter(c.outcome for c in calls)
    waits = [c.waited_seconds for c in calls]
    agents = Counter(c.agent_id for c in calls if c.outcome == "repondu" and c.agent_id)
    return CipFigures(
        number=activated[0][1].number if activated else None,
        t0_cip=activated[0][0].at - j.t0 if activated else None,
        closed=closed[-1][0].at - j.t0 if closed else None,
        calls=len(calls),
        answered=outcomes["repondu"],
        abandoned=outcomes["abandonne"],
        messages=outcomes["message"],
        overflow=outcomes["debordement"],
        out_of_hours=outcomes["hors_horaires"],
        mean_wait=timedelta(seconds=statistics.fmean(waits)) if waits else None,
        max_wait=timedelta(seconds=max(waits)) if waits else None,
        per_agent=tuple(sorted(agents.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def _lessons(j: JournalView) -> Lessons | None:
    recorded = j.facts(LessonsRecorded)
    if not recorded:
        return None
    entry, fact = recorded[-1]
    return Lessons(fact.text, fact.actions, entry.at, entry.actor.name, entry.seq)


# --- public API -------------------------------------------------------------------------------


def rex_figures(entries: Sequence[JournalEntry], now: datetime) -> RexFigures:
    """The REX of one crisis (or exercise) as of `now`, from its main courante alone."""
    j = read(entries, now)
    return RexFigures(
        summary=_summary(j),
        timeline=_timeline(j),
        compliance=_compliance(j),
        reach=_reach(j),
        channels=_channels(j),
        media=_media(j),
        cip=_cip(j),
        lessons=_lessons(j),
        entries_count=len(j.entries),
        last_hash=j.entries[-1].hash,
    )


def compliance_figures(entries: Sequence[JournalEntry], now: datetime) -> ComplianceFigures:
    """The one-hour verdict of one crisis, with its proofs, as of `now`."""
    j = read(entries, now)
    return ComplianceFigures(
        summary=_summary(j),
        compliance=_compliance(j),
        reach=_reach(j),
        entries_count=len(j.entries),
        last_hash=j.entries[-1].hash,
    )


# --- annual review ------------------------------------------------------------------------------


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
        judged = _compliance(j)
        for row in judged:
            verdicts[row.engagement].append(row)
        rows.append(
            CrisisRow(
                crisis_id=j.cod.crisis_id,
                kind=j.cod.kind,
                mode=j.cod.mode,
                t0=j.t0,
                synergi_ref=j.cod.synergi_ref,
                closed_at=_summary(j).closed_at,
                statuses=tuple((r.engagement, r.status) for r in judged),
                media_requests=len(j.facts(MediaRequestReceived)),
                cip_activated=bool(j.facts(CipActivated)),
            )
        )
        lessons = _lessons(j)
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
        median_delay=_median(delays),
        max_delay=max(delays) if delays else None,
    )
