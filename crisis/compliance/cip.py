"""Engagements 50.1 and CIAV: the CIP's numéro unique announced, the victims' number relayed."""

from __future__ import annotations

from typing import get_args

from channels.base import PUBLIC_CHANNELS, ChannelName
from channels.catalog import Means, channels_for_means
from crisis.compliance.common import Frame, Window, offset
from crisis.model import CipActivated, EngagementStatus, Verdict
from playbooks.model import Engagement, EventKind

__all__ = ["judge_50_1", "judge_ciav"]

# The means the CIP number must be announced by, each the set of channels the catalog says
# count for it (téléphone: the switchboard's message, or calls and SMS to the standard's staff).
_MEANS: tuple[tuple[Means, frozenset[ChannelName]], ...] = tuple(
    (means, channels_for_means(means)) for means in get_args(Means)
)


def judge_50_1(j: Frame) -> Verdict:
    """50.1: the CIP's numéro unique announced to the media, online and by phone, from T0 CIP."""
    cip = next((e for e, _ in j.facts(CipActivated)), None)
    if cip is None:
        return j.na("50.1", "CIP non activée")
    window = Window(start=cip.at, now=j.window.now)
    published = [(e, a) for e, a in j.published(Engagement.E50_1) if e.at >= cip.at]
    firsts = {
        name: next((e for e, a in published if a.channel in channels), None)
        for name, channels in _MEANS
    }
    found = [e for e in firsts.values() if e is not None]
    at = max(e.at for e in found) if len(found) == len(firsts) else None
    shown: list[str] = []
    origin = "T0 CIP"  # the first delay shown names the clock, the others are "+n min"
    for name, e in firsts.items():
        if e is None:
            shown.append(f"{name} non fait")
        else:
            shown.append(f"{name} {offset(origin, window.since(e.at))}")
            origin = ""
    evidence = [j.cod_seq, cip.seq, *(e.seq for e in found)]
    return window.verdict("50.1", at, evidence, ", ".join(shown))


def judge_ciav(j: Frame) -> Verdict:
    """CIAV (attentat): the CIAV number relayed on every public channel the playbook plans."""
    if j.cod.kind != EventKind.ATTENTAT:
        return j.na("CIAV", "sans objet hors attentat")
    steps = [s for s in j.cod.steps if s.engagement == Engagement.CIAV]
    wanted = [(s.step_id, c) for s in steps for c in s.channels if c in PUBLIC_CHANNELS]
    if not wanted:
        detail = "le playbook ne relaie pas le numéro CIAV"
        if steps:
            detail += " sur un canal public"
        return j.window.verdict("CIAV", None, [j.cod_seq], detail, EngagementStatus.MISSED)
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
