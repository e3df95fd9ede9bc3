"""Engagements 48.2 to 48.5: the press pool, the first press release, the publications and the
content of the first public message."""

from __future__ import annotations

from channels.base import SOCIAL_CHANNELS, ChannelName
from contacts.model import Role
from crisis.compliance.common import Frame
from crisis.model import EngagementStatus, MessagesQueued, Verdict
from playbooks.model import Engagement

__all__ = ["judge_48_2", "judge_48_3", "judge_48_4", "judge_48_5"]


def judge_48_2(j: Frame) -> Verdict:
    """48.2: the press pool mobilised (a member of the vivier presse acknowledged)."""
    ack = j.first_ack(Role.PRESSE)
    if ack is None:
        return j.window.verdict("48.2", None, [j.cod_seq], "aucune confirmation du vivier presse")
    return j.window.verdict("48.2", ack.at, [j.cod_seq, ack.seq], "vivier presse mobilisé")


def judge_48_3(j: Frame) -> Verdict:
    """48.3: the first press release or press briefing sent."""
    sent = j.published(Engagement.E48_3)
    if not sent:
        return j.window.verdict(
            "48.3", None, [j.cod_seq], "aucun communiqué ni point presse envoyé"
        )
    entry, attempt = sent[0]
    detail = f"première communication presse envoyée ({attempt.channel.label})"
    return j.window.verdict("48.3", entry.at, [j.cod_seq, entry.seq], detail)


def judge_48_4(j: Frame) -> Verdict:
    """48.4: published on the State's website and on a social network."""
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


def judge_48_5(j: Frame) -> Verdict:
    """48.5: the first public message covers every applicable content section."""
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
        return j.window.verdict("48.5", entry.at, evidence, detail, EngagementStatus.MISSED)
    detail = f"le premier message publié couvre les {len(applicable)} rubriques applicables"
    return j.window.verdict("48.5", entry.at, evidence, detail)
