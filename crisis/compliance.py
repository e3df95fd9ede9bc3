"""The one-hour compliance check: engagements 47, 48, 50.1 and CIAV judged from the journal alone.

Pure: no clock read, no I/O. `now` is passed in and only entries recorded at or before it count,
so a full journal can be judged "as of" any earlier time (the T0+30/45/60 checkpoints, a REX).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from channels.base import PUBLIC_CHANNELS, SOCIAL_CHANNELS, ChannelName
from contacts.model import OFFICIAL_ROLES, Role
from crisis.journal.view import (
    JournalView,
    current_t0,
    declared_t0,
    read,
)
from crisis.model import (
    AcknowledgementReceived,
    ChainEnded,
    CipActivated,
    CodActivated,
    DeliveryAttempted,
    EngagementStatus,
    JournalEntry,
    MessagesQueued,
    StepTriggered,
    Verdict,
)
from playbooks.model import Engagement, EventKind

__all__ = [
    "AT_RISK_AFTER",
    "DEADLINE",
    "ENGAGEMENTS",
    "CommuneReach",
    "commune_reach",
    "commune_reach_view",
    "current_t0",
    "declared_t0",
    "describe",
    "judge",
    "judge_view",
]

ENGAGEMENTS: tuple[str, ...] = (
    "47",
    "47.1",
    "47.2",
    "48",
    "48.1",
    "48.2",
    "48.3",
    "48.4",
    "48.5",
    "50.1",
    "CIAV",
)
DEADLINE = timedelta(hours=1)
AT_RISK_AFTER = timedelta(minutes=30)

# An attempt is over (whatever came of it) once the provider took it, refused it for good or the
# message expired; "retry" and "unknown" still owe an outcome, "cancelled" never left.
_ATTEMPT_DONE = frozenset({"sent", "failed", "reconciled", "expired"})
_CIP_MEANS: tuple[tuple[str, frozenset[ChannelName]], ...] = (
    ("médias", frozenset({ChannelName.EMAIL})),
    (
        "internet",
        frozenset({ChannelName.WEBSITE, ChannelName.X, ChannelName.FACEBOOK, ChannelName.APP}),
    ),
    # the switchboard's message (or calls and SMS to the standard's staff)
    ("téléphone", frozenset({ChannelName.STANDARD, ChannelName.VOICE, ChannelName.SMS})),
)
_S = EngagementStatus
_SATISFIED = frozenset({_S.MET, _S.LATE})
_PRECEDENCE = (_S.MISSED, _S.AT_RISK, _S.PENDING, _S.LATE)
_F = TypeVar("_F", bound=BaseModel)


class CommuneReach(BaseModel):
    """Whether a commune concerned had an official reached (48.1), and the entries that prove it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code_insee: str
    status: Literal["joint", "non_joint", "en_cours", "injoignable"]
    contact_id: str | None = None  # the official who acknowledged
    role: Role | None = None
    at: datetime | None = None  # acknowledged, or (non joint) the last attempt made
    attempts: int = 0  # delivery attempts to the commune's officials (cancelled ones excluded)
    complete: bool = False  # every planned step ran and every queued recipient was tried
    evidence: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Window:
    """One clock (T0 or T0 CIP): its deadline, and the status of what was done (or not) by then."""

    start: datetime
    now: datetime

    @property
    def deadline(self) -> datetime:
        return self.start + DEADLINE

    def status(self, at: datetime | None) -> EngagementStatus:
        if at is not None:
            return _S.MET if at <= self.deadline else _S.LATE
        if self.now > self.deadline:
            return _S.MISSED
        if self.now >= self.start + AT_RISK_AFTER:
            return _S.AT_RISK
        return _S.PENDING

    def verdict(
        self,
        engagement: str,
        at: datetime | None,
        evidence: Iterable[int],
        detail: str,
        status: EngagementStatus | None = None,
    ) -> Verdict:
        return Verdict(
            engagement=engagement,
            status=self.status(at) if status is None else status,
            at=at,
            delay_seconds=None if at is None else (at - self.start).total_seconds(),
            evidence=tuple(sorted(set(evidence))),
            detail=detail,
        )


@dataclass(frozen=True)
class _Journal:
    """The journal as judged: the one view of it (crisis.journal.view) and the T0 clock."""

    view: JournalView
    window: _Window

    @property
    def cod(self) -> CodActivated:
        return self.view.cod

    @property
    def cod_seq(self) -> int:
        return self.view.cod_seq

    def facts(self, kind: type[_F]) -> list[tuple[JournalEntry, _F]]:
        return self.view.facts(kind)

    def first_ack(self, role: Role) -> JournalEntry | None:
        return self.view.first_ack(role)

    def published(
        self, engagement: Engagement | None = None
    ) -> list[tuple[JournalEntry, DeliveryAttempted]]:
        return self.view.published(engagement)

    def na(self, engagement: str, detail: str) -> Verdict:
        return self.window.verdict(engagement, None, [self.cod_seq], detail, _S.NOT_APPLICABLE)


def _frame(view: JournalView) -> _Journal:
    return _Journal(view, _Window(start=view.t0, now=view.now))


# --- public API ----------------------------------------------------------------------------


def judge(entries: Sequence[JournalEntry], now: datetime) -> tuple[Verdict, ...]:
    """One verdict per engagement of ENGAGEMENTS, in that order, as of `now`."""
    return judge_view(read(entries, now))


def judge_view(view: JournalView) -> tuple[Verdict, ...]:
    """judge() on a journal already read (the reports read it once for all their figures)."""
    j = _frame(view)
    parts = {
        "47.1": _judge_47_1(j),
        "47.2": _judge_47_2(j),
        "48.1": _judge_48_1(j),
        "48.2": _judge_48_2(j),
        "48.3": _judge_48_3(j),
        "48.4": _judge_48_4(j),
        "48.5": _judge_48_5(j),
        "50.1": _judge_50_1(j),
        "CIAV": _judge_ciav(j),
    }
    parts["47"] = _combine("47", j.window, [parts["47.1"], parts["47.2"]])
    parts["48"] = _combine("48", j.window, [parts[f"48.{i}"] for i in range(1, 6)])
    return tuple(parts[ref] for ref in ENGAGEMENTS)


def commune_reach(entries: Sequence[JournalEntry], now: datetime) -> tuple[CommuneReach, ...]:
    """Who was reached in each commune concerned (48.1), in CodActivated.communes order."""
    return commune_reach_view(read(entries, now))


def commune_reach_view(view: JournalView) -> tuple[CommuneReach, ...]:
    """commune_reach() on a journal already read."""
    return _reaches(_frame(view))


def describe(verdict: Verdict) -> str:
    """One French line for the main courante or the CLI."""
    head = f"{verdict.engagement} — {verdict.status.label}"
    if verdict.status in _SATISFIED and verdict.delay_seconds is not None:
        origin = "T0 CIP" if verdict.engagement == Engagement.E50_1 else "T0"
        head += f" à {_offset(origin, verdict.delay_seconds)}"
    return f"{head} : {verdict.detail}" if verdict.detail else head


# --- 47: the urgent-communication cell ------------------------------------------------------


def _judge_47_1(j: _Journal) -> Verdict:
    firsts = {role: j.first_ack(role) for role in (Role.DIRECTION_ASTREINTE, Role.AGENT_ASTREINTE)}
    found = [e for e in firsts.values() if e is not None]
    at = max(e.at for e in found) if len(found) == len(firsts) else None
    detail = ", ".join(
        f"{role.label} : pas de confirmation"
        if e is None
        else f"{role.label} : confirmé à {_offset('T0', _since(j.window, e.at))}"
        for role, e in firsts.items()
    )
    return j.window.verdict("47.1", at, [j.cod_seq, *(e.seq for e in found)], detail)


def _judge_47_2(j: _Journal) -> Verdict:
    quorum = {role: n for role, n in j.cod.quorum.items() if n > 0}
    if not quorum:
        return j.na("47.2", "aucun quorum défini pour la cellule")
    counted: dict[Role, dict[str, JournalEntry]] = {role: {} for role in quorum}
    trained: set[str] = set()
    untrained: set[str] = set()
    for entry, ack in j.facts(AcknowledgementReceived):
        role = ack.role
        if role is None or role not in quorum:
            continue
        if not ack.trained:
            untrained.add(ack.contact_id)
            continue
        trained.add(ack.contact_id)
        if len(counted[role]) < quorum[role]:
            counted[role].setdefault(ack.contact_id, entry)
    reached = all(len(counted[role]) >= n for role, n in quorum.items())
    at = max(e.at for acks in counted.values() for e in acks.values()) if reached else None
    detail = ", ".join(f"{role.label} {len(counted[role])}/{n}" for role, n in quorum.items())
    detail = f"membres formés ayant confirmé : {detail}"
    ignored = len(untrained - trained)
    if ignored:
        detail += (
            f" ; {_count(ignored, 'agent non formé non compté', 'agents non formés non comptés')}"
        )
    evidence = [j.cod_seq, *(e.seq for acks in counted.values() for e in acks.values())]
    return j.window.verdict("47.2", at, evidence, detail)


# --- 48.1: the officials of every commune concerned -------------------------------------------


_Attempts = dict[str, list[tuple[JournalEntry, DeliveryAttempted]]]  # by outbox_key


def _reaches(j: _Journal) -> tuple[CommuneReach, ...]:
    acks: dict[str, tuple[JournalEntry, AcknowledgementReceived]] = {}
    for entry, ack in j.facts(AcknowledgementReceived):
        if ack.commune is not None and ack.role in OFFICIAL_ROLES:
            acks.setdefault(ack.commune, (entry, ack))
    queued: dict[str, dict[str, int]] = defaultdict(dict)  # commune -> outbox_key -> queued seq
    for entry, msg in j.facts(MessagesQueued):
        if msg.engagement == Engagement.E48_1:
            for r in msg.recipients:
                if r.commune is not None:
                    queued[r.commune].setdefault(r.outbox_key, entry.seq)
    attempts: _Attempts = defaultdict(list)
    for entry, attempt in j.facts(DeliveryAttempted):
        if attempt.outcome != "cancelled":
            attempts[attempt.outbox_key].append((entry, attempt))
    planned = {
        s.step_id
        for s in j.cod.steps
        if s.engagement == Engagement.E48_1 and s.due_at <= j.window.deadline
    }
    triggers: dict[str, JournalEntry] = {}
    for entry, step in j.facts(StepTriggered):
        if step.step_id in planned:
            triggers.setdefault(step.step_id, entry)
    ran = tuple(triggers.values()) if planned <= triggers.keys() else None
    escalating = any(
        s.escalates and s.step_id in planned for s in j.cod.steps
    )  # then a commune is done trying only when its chain ended ("non joint")
    ended: dict[str, JournalEntry] = {}
    for entry, chain in j.facts(ChainEnded):
        if chain.engagement == Engagement.E48_1 and chain.commune is not None:
            ended.setdefault(chain.commune, entry)
    return tuple(
        _reach(
            j,
            code,
            ack=acks.get(code),
            queued=queued[code],
            attempts=attempts,
            ran=ran,
            ended=ended.get(code),
            escalating=escalating,
        )
        for code in j.cod.communes
    )


def _reach(
    j: _Journal,
    code: str,
    *,
    ack: tuple[JournalEntry, AcknowledgementReceived] | None,
    queued: dict[str, int],
    attempts: _Attempts,
    ran: tuple[JournalEntry, ...] | None,  # the 48.1 steps' triggers, None until all ran
    ended: JournalEntry | None = None,  # the commune's escalation chain ended, not reached
    escalating: bool = False,
) -> CommuneReach:
    tries = [e for key in queued for e, _ in attempts.get(key, [])]
    done = [
        next((e for e, a in attempts.get(key, []) if a.outcome in _ATTEMPT_DONE), None)
        for key in queued
    ]
    made = [e for e in done if e is not None]
    complete = (
        ran is not None and len(made) == len(queued) and (ended is not None or not escalating)
    )
    if ack is not None:
        entry, fact = ack
        return CommuneReach(
            code_insee=code,
            status="joint",
            contact_id=fact.contact_id,
            role=fact.role,
            at=entry.at,
            attempts=len(tries),
            complete=complete,
            evidence=(j.cod_seq, entry.seq),
        )
    proofs = [*made, *(ran or ()), *([ended] if ended is not None else [])]
    evidence = {j.cod_seq, *queued.values(), *(e.seq for e in [*tries, *proofs])}
    status: Literal["non_joint", "en_cours", "injoignable"]
    if not queued and ran is not None:
        status = "injoignable"
    elif complete or j.window.now > j.window.deadline:
        # After the hour, a commune still being tried is not reached, its attempts incomplete.
        status = "non_joint"
    else:
        status = "en_cours"
    return CommuneReach(
        code_insee=code,
        status=status,
        at=max(e.at for e in proofs) if complete and status == "non_joint" else None,
        attempts=len(tries),
        complete=complete,
        evidence=tuple(sorted(evidence)),
    )


def _judge_48_1(j: _Journal) -> Verdict:
    reaches = _reaches(j)
    if not reaches:
        return j.na("48.1", "aucune commune concernée")
    times = [r.at for r in reaches]
    at = max(t for t in times if t is not None) if None not in times else None
    evidence = [seq for r in reaches for seq in r.evidence]
    return j.window.verdict("48.1", at, evidence, _reach_summary(reaches))


def _reach_summary(reaches: Sequence[CommuneReach]) -> str:
    def n(status: str) -> int:
        return sum(r.status == status for r in reaches)

    parts = [_count(n("joint"), "commune jointe", "communes jointes")]
    if n("non_joint"):
        short = sum(r.status == "non_joint" and not r.complete for r in reaches)
        how = f"{short} sans toutes les tentatives" if short else "toutes les tentatives faites"
        parts.append(f"{_count(n('non_joint'), 'non jointe', 'non jointes')} ({how})")
    if n("injoignable"):
        parts.append(
            f"{_count(n('injoignable'), 'injoignable', 'injoignables')} (aucun élu dans l'annuaire)"
        )
    if n("en_cours"):
        parts.append(f"{n('en_cours')} en cours")
    return ", ".join(parts)


# --- 48.2 to 48.5: press, publications, content ---------------------------------------------


def _judge_48_2(j: _Journal) -> Verdict:
    ack = j.first_ack(Role.PRESSE)
    if ack is None:
        return j.window.verdict("48.2", None, [j.cod_seq], "aucune confirmation du vivier presse")
    return j.window.verdict("48.2", ack.at, [j.cod_seq, ack.seq], "vivier presse mobilisé")


def _judge_48_3(j: _Journal) -> Verdict:
    sent = j.published(Engagement.E48_3)
    if not sent:
        return j.window.verdict(
            "48.3", None, [j.cod_seq], "aucun communiqué ni point presse envoyé"
        )
    entry, attempt = sent[0]
    detail = f"première communication presse envoyée ({attempt.channel.label})"
    return j.window.verdict("48.3", entry.at, [j.cod_seq, entry.seq], detail)


def _judge_48_4(j: _Journal) -> Verdict:
    published = j.published(Engagement.E48_4)
    website = next((e for e, a in published if a.channel == ChannelName.WEBSITE), None)
    social = next((e for e, a in published if a.channel in SOCIAL_CHANNELS), None)
    found = [e for e in (website, social) if e is not None]
    at = max(e.at for e in found) if len(found) == 2 else None
    channels = list(dict.fromkeys(a.channel for _, a in published))
    detail = (
        "publié sur : " + ", ".join(c.label for c in channels) if channels else "aucune publication"
    )
    missing = [
        label for label, e in (("site internet", website), ("réseau social", social)) if e is None
    ]
    if missing:
        detail += f" ; manque : {', '.join(missing)}"
    return j.window.verdict("48.4", at, [j.cod_seq, *(e.seq for e in found)], detail)


def _judge_48_5(j: _Journal) -> Verdict:
    applicable = j.cod.applicable_sections
    if not applicable:
        return j.na("48.5", "aucune rubrique de contenu applicable à ce type d'événement")
    first = next(((e, a) for e, a in j.published(Engagement.E48_4) if a.channel.is_public), None)
    if first is None:
        return j.window.verdict(
            "48.5", None, [j.cod_seq], "premier message public pas encore publié"
        )
    entry, attempt = first
    queued = [
        (e, m)
        for e, m in j.facts(MessagesQueued)
        if m.step_id == attempt.step_id and m.channel == attempt.channel and e.seq < entry.seq
    ]
    evidence = [j.cod_seq, entry.seq, *(e.seq for e, _ in queued[-1:])]
    covered = set(queued[-1][1].sections) if queued else set()
    missing = [s for s in applicable if s not in covered]
    if missing:
        detail = "rubriques absentes du premier message publié : " + ", ".join(
            s.heading for s in missing
        )
        return j.window.verdict("48.5", entry.at, evidence, detail, _S.MISSED)
    detail = f"le premier message publié couvre les {len(applicable)} rubriques applicables"
    return j.window.verdict("48.5", entry.at, evidence, detail)


# --- 50.1 and CIAV: the CIP number, the victims' number --------------------------------------


def _judge_50_1(j: _Journal) -> Verdict:
    cip = next((e for e, _ in j.facts(CipActivated)), None)
    if cip is None:
        return j.na("50.1", "CIP non activée")
    window = _Window(start=cip.at, now=j.window.now)
    published = [(e, a) for e, a in j.published(Engagement.E50_1) if e.at >= cip.at]
    firsts = {
        name: next((e for e, a in published if a.channel in channels), None)
        for name, channels in _CIP_MEANS
    }
    found = [e for e in firsts.values() if e is not None]
    at = max(e.at for e in found) if len(found) == len(firsts) else None
    shown: list[str] = []
    origin = "T0 CIP"  # the first delay shown names the clock, the others are "+n min"
    for name, e in firsts.items():
        if e is None:
            shown.append(f"{name} non fait")
        else:
            shown.append(f"{name} {_offset(origin, _since(window, e.at))}")
            origin = ""
    evidence = [j.cod_seq, cip.seq, *(e.seq for e in found)]
    return window.verdict("50.1", at, evidence, ", ".join(shown))


def _judge_ciav(j: _Journal) -> Verdict:
    if j.cod.kind != EventKind.ATTENTAT:
        return j.na("CIAV", "sans objet hors attentat")
    steps = [s for s in j.cod.steps if s.engagement == Engagement.CIAV]
    wanted = [(s.step_id, c) for s in steps for c in s.channels if c in PUBLIC_CHANNELS]
    if not wanted:
        detail = "le playbook ne relaie pas le numéro CIAV"
        if steps:
            detail += " sur un canal public"
        return j.window.verdict("CIAV", None, [j.cod_seq], detail, _S.MISSED)
    published = j.published()
    firsts = {
        (step_id, channel): next(
            (e for e, a in published if a.step_id == step_id and a.channel == channel), None
        )
        for step_id, channel in wanted
    }
    found = [e for e in firsts.values() if e is not None]
    at = max(e.at for e in found) if len(found) == len(firsts) else None
    relayed = sorted({c.label for (_, c), e in firsts.items() if e is not None})
    missing = sorted({c.label for (_, c), e in firsts.items() if e is None})
    detail = "numéro CIAV relayé sur : " + (", ".join(relayed) or "aucun canal")
    if missing:
        detail += f" ; reste : {', '.join(missing)}"
    return j.window.verdict("CIAV", at, [j.cod_seq, *(e.seq for e in found)], detail)


# --- combination and wording --------------------------------------------------------------------


def _combine(engagement: str, window: _Window, parts: Sequence[Verdict]) -> Verdict:
    applicable = [p for p in parts if p.status != _S.NOT_APPLICABLE]
    evidence = [seq for p in parts for seq in p.evidence]
    detail = ", ".join(f"{p.engagement} {p.status.label}" for p in parts)
    if not applicable:
        return window.verdict(engagement, None, evidence, detail, _S.NOT_APPLICABLE)
    statuses = {p.status for p in applicable}
    status = next((s for s in _PRECEDENCE if s in statuses), _S.MET)
    times = [p.at for p in applicable if p.status in _SATISFIED and p.at is not None]
    at = max(times) if len(times) == len(applicable) else None
    return window.verdict(engagement, at, evidence, detail, status)


def _since(window: _Window, at: datetime) -> float:
    return (at - window.start).total_seconds()


def _offset(origin: str, seconds: float) -> str:
    """'T0+42 min', 'T0+60 min 01 s' (seconds rounded up: never hide a late second)."""
    sign = "-" if seconds < 0 else "+"
    minutes, secs = divmod(math.ceil(abs(seconds)), 60)
    return f"{origin}{sign}{minutes} min" + (f" {secs:02d} s" if secs else "")


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n <= 1 else plural}"
