"""Engagement 48.1: an official of every commune concerned reached, commune by commune."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from contacts.model import OFFICIAL_ROLES, Role
from crisis.compliance.common import Frame, count
from crisis.model import (
    AcknowledgementReceived,
    ChainEnded,
    DeliveryAttempted,
    JournalEntry,
    MessagesQueued,
    StepTriggered,
    Verdict,
)
from playbooks.model import Engagement

__all__ = ["CommuneReach", "judge_48_1", "reaches"]

# An attempt is over (whatever came of it) once the provider took it, refused it for good or the
# message expired; "retry" and "unknown" still owe an outcome, "cancelled" never left.
_ATTEMPT_DONE = frozenset({"sent", "failed", "reconciled", "expired"})
_Attempts = dict[str, list[tuple[JournalEntry, DeliveryAttempted]]]  # by outbox_key


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
class _Plan:
    """The 48.1 steps due within the hour: their triggers once all ran, and whether they escalate
    (then a commune is done trying only when its chain ended, "non joint")."""

    ran: tuple[JournalEntry, ...] | None  # the 48.1 steps' triggers, None until all ran
    escalating: bool


def reaches(j: Frame) -> tuple[CommuneReach, ...]:
    """Who was reached in each commune concerned, in CodActivated.communes order."""
    acks = _official_acks(j)
    queued = _queued(j)
    attempts = _attempts(j)
    plan = _plan(j)
    ended = _ended(j)
    return tuple(
        _reach(
            j,
            code,
            ack=acks.get(code),
            queued=queued[code],
            attempts=attempts,
            plan=plan,
            ended=ended.get(code),
        )
        for code in j.cod.communes
    )


def _official_acks(j: Frame) -> dict[str, tuple[JournalEntry, AcknowledgementReceived]]:
    """The first acknowledgement of an official, by commune."""
    acks: dict[str, tuple[JournalEntry, AcknowledgementReceived]] = {}
    for entry, ack in j.facts(AcknowledgementReceived):
        if ack.commune is not None and ack.role in OFFICIAL_ROLES:
            acks.setdefault(ack.commune, (entry, ack))
    return acks


def _queued(j: Frame) -> dict[str, dict[str, int]]:
    """commune -> outbox_key -> the seq it was queued at, for the 48.1 messages."""
    queued: dict[str, dict[str, int]] = defaultdict(dict)
    for entry, msg in j.facts(MessagesQueued):
        if msg.engagement == Engagement.E48_1:
            for r in msg.recipients:
                if r.commune is not None:
                    queued[r.commune].setdefault(r.outbox_key, entry.seq)
    return queued


def _attempts(j: Frame) -> _Attempts:
    attempts: _Attempts = defaultdict(list)
    for entry, attempt in j.facts(DeliveryAttempted):
        if attempt.outcome != "cancelled":
            attempts[attempt.outbox_key].append((entry, attempt))
    return attempts


def _plan(j: Frame) -> _Plan:
    planned = {
        s.step_id
        for s in j.cod.steps
        if s.engagement == Engagement.E48_1 and s.due_at <= j.window.deadline
    }
    triggers: dict[str, JournalEntry] = {}
    for entry, step in j.facts(StepTriggered):
        if step.step_id in planned:
            triggers.setdefault(step.step_id, entry)
    return _Plan(
        ran=tuple(triggers.values()) if planned <= triggers.keys() else None,
        escalating=any(s.escalates and s.step_id in planned for s in j.cod.steps),
    )


def _ended(j: Frame) -> dict[str, JournalEntry]:
    """The first end of a 48.1 escalation chain (not reached), by commune."""
    ended: dict[str, JournalEntry] = {}
    for entry, chain in j.facts(ChainEnded):
        if chain.engagement == Engagement.E48_1 and chain.commune is not None:
            ended.setdefault(chain.commune, entry)
    return ended


def _reach(
    j: Frame,
    code: str,
    *,
    ack: tuple[JournalEntry, AcknowledgementReceived] | None,
    queued: dict[str, int],
    attempts: _Attempts,
    plan: _Plan,
    ended: JournalEntry | None = None,  # the commune's escalation chain ended, not reached
) -> CommuneReach:
    tries = [e for key in queued for e, _ in attempts.get(key, [])]
    done = [
        next((e for e, a in attempts.get(key, []) if a.outcome in _ATTEMPT_DONE), None)
        for key in queued
    ]
    made = [e for e in done if e is not None]
    ran = plan.ran
    complete = (
        ran is not None and len(made) == len(queued) and (ended is not None or not plan.escalating)
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


def judge_48_1(j: Frame) -> Verdict:
    """48.1: every commune concerned has an official who acknowledged."""
    found = reaches(j)
    if not found:
        return j.na("48.1", "aucune commune concernée")
    times = [r.at for r in found]
    at = max(t for t in times if t is not None) if None not in times else None
    evidence = [seq for r in found for seq in r.evidence]
    return j.window.verdict("48.1", at, evidence, _summary(found))


def _summary(found: Sequence[CommuneReach]) -> str:
    def n(status: str) -> int:
        return sum(r.status == status for r in found)

    parts = [count(n("joint"), "commune jointe", "communes jointes")]
    if n("non_joint"):
        short = sum(r.status == "non_joint" and not r.complete for r in found)
        how = f"{short} sans toutes les tentatives" if short else "toutes les tentatives faites"
        parts.append(f"{count(n('non_joint'), 'non jointe', 'non jointes')} ({how})")
    if n("injoignable"):
        parts.append(
            f"{count(n('injoignable'), 'injoignable', 'injoignables')} (aucun élu dans l'annuaire)"
        )
    if n("en_cours"):
        parts.append(f"{n('en_cours')} en cours")
    return ", ".join(parts)
