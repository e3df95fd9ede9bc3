"""Reads of an exercise run's own database, as its follow-up page shows it: the engagements'
verdicts, the press queue, the CIP calls and the main courante at the run's clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crisis import compliance, press
from crisis.model import CipCallEnded, JournalEntry, Verdict
from crisis.queries.crises import crisis_journal
from crisis.store import Store
from crisis.store.repository import CrisisNotFound

__all__ = ["RunProgress", "run_progress"]


@dataclass(frozen=True)
class RunProgress:
    """Where a run's crisis stands: verdicts, press requests, CIP calls, its main courante."""

    entries: list[JournalEntry]
    verdicts: tuple[Verdict, ...]
    press_received: int
    press_waiting: int
    calls: int
    calls_answered: int


def run_progress(store: Store, crisis_id: str, clock: datetime | None) -> RunProgress | None:
    """The run's crisis judged at its close, else at the run's `clock`, else at its T0 (None:
    the crisis is not in the run's database)."""
    try:
        found = crisis_journal(store, crisis_id)
    except CrisisNotFound:
        return None
    crisis, entries = found.crisis, found.entries
    now = crisis.closed_at or clock or crisis.t0
    requests = press.queue(entries)
    calls = [e.fact for e in entries if isinstance(e.fact, CipCallEnded)]
    return RunProgress(
        entries=entries,
        verdicts=compliance.judge(entries, now),
        press_received=len(requests),
        press_waiting=sum(not r.answered for r in requests),
        calls=len(calls),
        calls_answered=sum(c.outcome == "repondu" for c in calls),
    )
