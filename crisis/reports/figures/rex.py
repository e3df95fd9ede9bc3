"""The figures of a REX: everything the retour d'expérience shows, from one crisis's journal."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import get_args

from channels.base import ChannelName
from crisis.journal.view import JournalView, is_published, read
from crisis.model import (
    AcknowledgementReceived,
    CipActivated,
    CipCallEnded,
    CipCallOutcome,
    CipClosed,
    CorrectiveAction,
    DeliveryAttempted,
    DeliveryReported,
    JournalEntry,
    LessonsRecorded,
)
from crisis.reports.figures.chronology import TimelineEvent, timeline_of
from crisis.reports.figures.compliance import (
    ComplianceRow,
    ReachRow,
    Summary,
    compliance_of,
    reach_of,
    summary_of,
)
from crisis.reports.figures.media import MediaFigures, media_of

__all__ = [
    "ChannelStats",
    "CipFigures",
    "Lessons",
    "RexFigures",
    "channels_of",
    "cip_of",
    "lessons_of",
    "rex_figures",
]

FAILED = frozenset({"failed", "expired"})
CIP_OUTCOMES: tuple[CipCallOutcome, ...] = get_args(CipCallOutcome)


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


def channels_of(j: JournalView) -> tuple[ChannelStats, ...]:
    """What each channel used did, in ChannelName order."""
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


def cip_of(j: JournalView) -> CipFigures:
    """The CIP's activation and its calls."""
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


def lessons_of(j: JournalView) -> Lessons | None:
    """The lessons as last recorded, or None."""
    recorded = j.facts(LessonsRecorded)
    if not recorded:
        return None
    entry, fact = recorded[-1]
    return Lessons(fact.text, fact.actions, entry.at, entry.actor.name, entry.seq)


def rex_figures(entries: Sequence[JournalEntry], now: datetime) -> RexFigures:
    """The REX of one crisis (or exercise) as of `now`, from its main courante alone."""
    j = read(entries, now)
    return RexFigures(
        summary=summary_of(j),
        timeline=timeline_of(j),
        compliance=compliance_of(j),
        reach=reach_of(j),
        channels=channels_of(j),
        media=media_of(j),
        cip=cip_of(j),
        lessons=lessons_of(j),
        entries_count=len(j.entries),
        last_hash=j.entries[-1].hash,
    )
