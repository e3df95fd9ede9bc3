"""The head of every report and the one-hour verdict: summary, engagements with their proofs,
officials reached per commune (the one-page compliance report is these alone)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from contacts.model import Role
from crisis import compliance
from crisis.journal.view import JournalView, read
from crisis.model import ChainEnded, CrisisClosed, EngagementStatus, JournalEntry, Mode
from playbooks.model import EventKind

__all__ = [
    "REACH_LABELS",
    "ComplianceFigures",
    "ComplianceRow",
    "Evidence",
    "ReachRow",
    "Summary",
    "compliance_figures",
    "compliance_of",
    "median",
    "reach_of",
    "summary_of",
]

REACH_LABELS = {
    "joint": "joint",
    "non_joint": "non joint",
    "en_cours": "en cours",
    "injoignable": "injoignable (aucun élu dans l'annuaire)",
}


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
class ComplianceFigures:
    """The one-page compliance report: the one-hour verdict alone."""

    summary: Summary
    compliance: tuple[ComplianceRow, ...]
    reach: tuple[ReachRow, ...]
    entries_count: int
    last_hash: str


def summary_of(j: JournalView) -> Summary:
    """The head of every report, from the CodActivated and the closing."""
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


def compliance_of(j: JournalView) -> tuple[ComplianceRow, ...]:
    """Each engagement's verdict, with its delay and the entries that prove it."""
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


def reach_of(j: JournalView) -> tuple[ReachRow, ...]:
    """Per commune concerned, whether an official acknowledged (48.1)."""
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


def median(values: Sequence[timedelta]) -> timedelta | None:
    """The median of durations, or None when there are none."""
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def compliance_figures(entries: Sequence[JournalEntry], now: datetime) -> ComplianceFigures:
    """The one-hour verdict of one crisis, with its proofs, as of `now`."""
    j = read(entries, now)
    return ComplianceFigures(
        summary=summary_of(j),
        compliance=compliance_of(j),
        reach=reach_of(j),
        entries_count=len(j.entries),
        last_hash=j.entries[-1].hash,
    )
