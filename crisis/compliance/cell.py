"""Engagement 47: the urgent-communication cell, led (47.1) and staffed by trained members
(47.2)."""

from __future__ import annotations

from contacts.model import Role
from crisis.compliance.common import Frame, count, offset
from crisis.model import AcknowledgementReceived, JournalEntry, Verdict

__all__ = ["judge_47_1", "judge_47_2"]


def judge_47_1(j: Frame) -> Verdict:
    """47.1: the directeur de cabinet (or sous-préfet) and the agent d'astreinte confirmed."""
    firsts = {role: j.first_ack(role) for role in (Role.DIRECTION_ASTREINTE, Role.AGENT_ASTREINTE)}
    found = [e for e in firsts.values() if e is not None]
    at = max(e.at for e in found) if len(found) == len(firsts) else None
    detail = ", ".join(
        f"{role.label} : pas de confirmation"
        if e is None
        else f"{role.label} : confirmé à {offset('T0', j.window.since(e.at))}"
        for role, e in firsts.items()
    )
    return j.window.verdict("47.1", at, [j.cod_seq, *(e.seq for e in found)], detail)


def judge_47_2(j: Frame) -> Verdict:
    """47.2: the quorum of trained members per role confirmed (untrained ones not counted)."""
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
            f" ; {count(ignored, 'agent non formé non compté', 'agents non formés non comptés')}"
        )
    evidence = [j.cod_seq, *(e.seq for acks in counted.values() for e in acks.values())]
    return j.window.verdict("47.2", at, evidence, detail)
