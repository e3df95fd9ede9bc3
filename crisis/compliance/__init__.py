"""The one-hour compliance check: engagements 47, 48, 50.1 and CIAV judged from the journal alone.

Pure: no clock read, no I/O. `now` is passed in and only entries recorded at or before it count,
so a full journal can be judged "as of" any earlier time (the T0+30/45/60 checkpoints, a REX).

One row of RULES per engagement: its code, its French title, the clock its delay counts from and
its judge, one function in the module of its group (cell, reach, press, cip). A new engagement
is that function, its row here and, when playbook steps serve it, a playbooks.model.Engagement
member.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from crisis.compliance.cell import judge_47_1, judge_47_2
from crisis.compliance.cip import judge_50_1, judge_ciav
from crisis.compliance.common import (
    AT_RISK_AFTER,
    DEADLINE,
    SATISFIED,
    Clock,
    Frame,
    Rule,
    combined,
    offset,
)
from crisis.compliance.press import judge_48_2, judge_48_3, judge_48_4, judge_48_5
from crisis.compliance.reach import CommuneReach, judge_48_1, reaches
from crisis.journal.view import JournalView, current_t0, declared_t0, read
from crisis.model import JournalEntry, Verdict

__all__ = [
    "AT_RISK_AFTER",
    "DEADLINE",
    "ENGAGEMENTS",
    "RULES",
    "CommuneReach",
    "Rule",
    "clock_of",
    "commune_reach",
    "commune_reach_view",
    "current_t0",
    "declared_t0",
    "describe",
    "judge",
    "judge_view",
]

RULES: tuple[Rule, ...] = (
    Rule(
        "47",
        "Cellule de communication d'urgence activée en moins d'une heure",
        "T0",
        combined("47", judge_47_1, judge_47_2),
    ),
    Rule(
        "47.1",
        "Direction par le directeur de cabinet ou le sous-préfet, avec l'agent d'astreinte",
        "T0",
        judge_47_1,
    ),
    Rule("47.2", "Cellule composée d'agents formés (quorum)", "T0", judge_47_2),
    Rule(
        "48",
        "Information des élus, du public et des médias dans l'heure",
        "T0",
        combined("48", judge_48_1, judge_48_2, judge_48_3, judge_48_4, judge_48_5),
    ),
    Rule("48.1", "Élus locaux des communes concernées contactés", "T0", judge_48_1),
    Rule("48.2", "Vivier presse mobilisé", "T0", judge_48_2),
    Rule("48.3", "Première communication presse", "T0", judge_48_3),
    Rule("48.4", "Publication sur le site de l'État et les réseaux sociaux", "T0", judge_48_4),
    Rule("48.5", "Contenu du premier message (rubriques applicables)", "T0", judge_48_5),
    Rule(
        "50.1",
        "Numéro unique de la CIP annoncé (médias, internet, téléphone)",
        "T0 CIP",
        judge_50_1,
    ),
    Rule("CIAV", "Numéro de la CIAV relayé (attentat)", "T0", judge_ciav),
)
ENGAGEMENTS: tuple[str, ...] = tuple(rule.code for rule in RULES)
_CLOCKS: dict[str, Clock] = {rule.code: rule.clock for rule in RULES}


def judge(entries: Sequence[JournalEntry], now: datetime) -> tuple[Verdict, ...]:
    """One verdict per engagement of ENGAGEMENTS, in that order, as of `now`."""
    return judge_view(read(entries, now))


def judge_view(view: JournalView) -> tuple[Verdict, ...]:
    """judge() on a journal already read (the reports read it once for all their figures)."""
    frame = Frame.of(view)
    return tuple(frame.judged(rule.judge) for rule in RULES)


def commune_reach(entries: Sequence[JournalEntry], now: datetime) -> tuple[CommuneReach, ...]:
    """Who was reached in each commune concerned (48.1), in CodActivated.communes order."""
    return commune_reach_view(read(entries, now))


def commune_reach_view(view: JournalView) -> tuple[CommuneReach, ...]:
    """commune_reach() on a journal already read."""
    return reaches(Frame.of(view))


def clock_of(engagement: str) -> Clock:
    """The clock an engagement's delay counts from: « T0 CIP » for 50.1, « T0 » otherwise."""
    return _CLOCKS.get(engagement, "T0")


def describe(verdict: Verdict) -> str:
    """One French line for the main courante or the CLI."""
    head = f"{verdict.engagement} — {verdict.status.label}"
    if verdict.status in SATISFIED and verdict.delay_seconds is not None:
        head += f" à {offset(clock_of(verdict.engagement), verdict.delay_seconds)}"
    return f"{head} : {verdict.detail}" if verdict.detail else head
