"""What the board's compliance, reach, cell and press panels show: the engagements' verdicts
with their evidence, the communes reached, the crisis cell's members coming, the press queue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from contacts.model import CELL_ROLES, Contact
from crisis import compliance, press, timefmt
from crisis.journal import shown as shown_text
from crisis.model import AcknowledgementReceived, Crisis, JournalEntry

__all__ = [
    "REACH_FILTERS",
    "REACH_LABELS",
    "cell_rows",
    "filter_reach",
    "press_item",
    "reach_rows",
    "verdict_rows",
]

REACH_LABELS = {
    "joint": "jointe",
    "en_cours": "en cours",
    "non_joint": "non jointe",
    "injoignable": "injoignable",
}
REACH_FILTERS = {
    "": "toutes",
    "joint": "jointes",
    "en_cours": "en cours",
    "non_joint": "non jointes",
}


def verdict_rows(
    entries: Sequence[JournalEntry], now: datetime, tz: ZoneInfo
) -> list[dict[str, Any]]:
    """Each engagement's verdict, with the main courante's entries that prove it."""
    by_seq = {e.seq: e for e in entries}
    return [
        {
            "engagement": v.engagement,
            "status": v.status.value,
            "label": v.status.label,
            "detail": v.detail,
            "evidence": [
                f"n° {n} — {timefmt.local(by_seq[n].at, tz, date=False, seconds=True)} — "
                f"{shown_text(by_seq[n], tz)}"
                for n in v.evidence
                if n in by_seq
            ],
        }
        for v in compliance.judge(entries, now)
    ]


def reach_rows(
    crisis: Crisis, entries: Sequence[JournalEntry], now: datetime, tz: ZoneInfo
) -> list[dict[str, Any]]:
    """Each commune: reached or not, by whom, when, after how many attempts."""
    roster = {c.id: c for c in crisis.roster}
    return [
        {
            "code": r.code_insee,
            "name": crisis.commune_names.get(r.code_insee, r.code_insee),
            "status": r.status,
            "label": REACH_LABELS.get(r.status, r.status),
            "who": _reached_by(roster, r) if r.status == "joint" else "",
            "at": f"{r.at.astimezone(tz):%H:%M}" if r.at else "",
            "attempts": r.attempts,
        }
        for r in compliance.commune_reach(entries, now)
    ]


def _reached_by(roster: Mapping[str, Contact], reach: compliance.CommuneReach) -> str:
    """Who answered for the commune: name and role when in the roster, else the id."""
    contact = roster.get(reach.contact_id) if reach.contact_id else None
    if contact is not None:
        role = reach.role.label if reach.role else ""
        return f"{contact.name} ({role})"
    return reach.contact_id or ""


def filter_reach(rows: list[dict[str, Any]], reach_filter: str) -> tuple[str, list[dict[str, Any]]]:
    """The filter actually applied (an unknown one shows every commune) and the rows shown."""
    if reach_filter == "non_joint":
        return reach_filter, [r for r in rows if r["status"] in {"non_joint", "injoignable"}]
    if reach_filter in REACH_FILTERS and reach_filter:
        return reach_filter, [r for r in rows if r["status"] == reach_filter]
    return "", rows


def cell_rows(
    crisis: Crisis, entries: Sequence[JournalEntry], tz: ZoneInfo
) -> list[dict[str, Any]]:
    """The crisis cell's members who acknowledged, with when they expect to arrive."""
    roster = {c.id: c for c in crisis.roster}
    cell = []
    for e in entries:
        fact = e.fact
        if not (isinstance(fact, AcknowledgementReceived) and fact.role in CELL_ROLES):
            continue
        contact = roster.get(fact.contact_id)
        eta = ""
        if fact.eta_minutes:
            eta = (
                f"vers {(e.at + timedelta(minutes=fact.eta_minutes)).astimezone(tz):%H:%M} "
                f"(dans {fact.eta_minutes} min)"
            )
        cell.append(
            {
                "name": contact.name if contact else fact.contact_id,
                "role": fact.role.label if fact.role else "",
                "trained": fact.trained,
                "at": f"{e.at.astimezone(tz):%H:%M}",
                "eta": eta or "non précisée",
            }
        )
    return cell


def press_item(request: press.PressRequest, tz: ZoneInfo) -> dict[str, Any]:
    """A press request as the board's press list shows it."""
    answer = request.answer
    return {
        "id": request.request_id,
        "outlet": request.request.outlet,
        "journalist": request.request.journalist,
        "question": request.request.question,
        "topic": request.request.topic,
        "at": f"{request.received_at.astimezone(tz):%H:%M}",
        "assignee": request.assignee,
        "answer": request.answer_text,
        "answered_by": (
            f"{answer.actor.name} à {answer.at.astimezone(tz):%H:%M}" if answer is not None else ""
        ),
    }
