"""What a crisis's board and its fragments show: the header, the steps, the messages awaiting
approval, the compliance panels (crisis/web/views/compliance.py), the latest of the main
courante."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from crisis import compliance, press, timefmt
from crisis.engine import EngineConfig, draft_refusal
from crisis.journal import shown as shown_text
from crisis.model import NOT_YET, Crisis, JournalEntry, Mode, StepState, StepStatus
from crisis.web.views.compliance import (
    REACH_FILTERS,
    cell_rows,
    filter_reach,
    press_item,
    reach_rows,
    verdict_rows,
)
from crisis.web.views.drafting import approval_item
from playbooks.model import Approval

__all__ = ["FRAGMENTS", "JOURNAL_SHOWN", "STEP_LABELS", "board_view", "skipped"]

JOURNAL_SHOWN = 50
FRAGMENTS = (
    "conformite",
    "validations",
    "etapes",
    "communes",
    "cellule",
    "presse",
    "cip",
    "main-courante",
)
STEP_LABELS = {
    StepStatus.PLANNED: "prévue",
    StepStatus.HELD: "en attente",
    StepStatus.APPROVAL: "validation attendue",
    StepStatus.DONE: "faite",
}


def skipped(step: StepState) -> bool:
    """A step done without being played: its purpose was already achieved (« sans objet »)."""
    return step.status == StepStatus.DONE and step.triggered_at is None


def minutes(delta: timedelta) -> str:
    """A duration as « 12 min 05 s » (negative with a minus sign)."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    return f"{sign}{seconds // 60} min {seconds % 60:02d} s"


def step_rows(crisis: Crisis, steps: Sequence[StepState]) -> list[dict[str, Any]]:
    """The playbook's steps: due when, where they stand, who approved or drafted them."""
    planned = {p.step.id: p for p in crisis.plan.steps}
    rows = []
    for s in steps:
        p = planned.get(s.step_id)
        rows.append(
            {
                "id": s.step_id,
                "title": p.step.title if p else s.step_id,
                "engagement": p.step.engagement.value if p else "",
                "due": "dès l'ordre d'activer la CIP"
                if s.due_at == NOT_YET
                else f"T0+{int((s.due_at - crisis.t0).total_seconds() // 60)} min",
                "status": s.status.value,
                "label": "sans objet" if skipped(s) else STEP_LABELS[s.status],
                "reason": s.hold_reason if s.status != StepStatus.DONE or skipped(s) else "",
                "approved_by": s.approved_by,
                "draftable": p is not None and not draft_refusal(crisis, p.step, s),
                "drafted_by": s.drafted_by if s.step_id in crisis.drafts else "",
            }
        )
    return rows


def approval_items(
    crisis: Crisis, steps: Sequence[StepState], now: datetime, config: EngineConfig
) -> list[dict[str, Any]]:
    """The messages that wait for an approval, previewed on each of their channels."""
    planned = {p.step.id: p for p in crisis.plan.steps}
    return [
        approval_item(crisis, s, planned[s.step_id], now, config)
        for s in steps
        if s.status == StepStatus.APPROVAL
        and not s.approved_by
        and s.step_id in planned
        and planned[s.step_id].step.approval == Approval.REQUIRED
    ]


def journal_rows(entries: Sequence[JournalEntry], tz: ZoneInfo) -> list[dict[str, Any]]:
    """The latest entries of the main courante, newest first."""
    return [
        {
            "seq": e.seq,
            "at": timefmt.local(e.at, tz, seconds=True),
            "actor": e.actor.name,
            "interface": e.actor.interface.value,
            "text": shown_text(e, tz),
        }
        for e in reversed(entries[-JOURNAL_SHOWN:])
    ]


def crisis_header(
    crisis: Crisis, entries: Sequence[JournalEntry], now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    """The board's header: the crisis, its T0, the time since and the hour's countdown."""
    declared = compliance.declared_t0(entries)
    deadline = crisis.t0 + timedelta(minutes=60)
    end = crisis.closed_at or now
    closed = crisis.closed_at
    return {
        "id": crisis.id,
        "kind": crisis.kind.label,
        "exercise": crisis.mode == Mode.EXERCICE,
        "synergi": crisis.synergi_ref,
        "t0": timefmt.local(crisis.t0, tz),
        "t0_date": f"{crisis.t0.astimezone(tz):%Y-%m-%d}",
        "t0_time": f"{crisis.t0.astimezone(tz):%H:%M}",
        "t0_declared": f"{declared.astimezone(tz):%d/%m/%Y %H:%M}" if declared else "",
        "t0_iso": crisis.t0.isoformat(),
        "now_iso": now.isoformat(),
        "deadline_iso": deadline.isoformat(),
        "closed": f"{closed.astimezone(tz):%d/%m/%Y %H:%M}" if closed else "",
        "since": minutes(end - crisis.t0),
        "remaining": minutes(deadline - now) if now < deadline else "",
        "communes": len(crisis.communes),
        "cip_number": crisis.cip_number or "",
        "cip_since": f"{crisis.t0_cip.astimezone(tz):%H:%M}" if crisis.t0_cip else "",
    }


def board_view(
    crisis: Crisis,
    steps: Sequence[StepState],
    entries: Sequence[JournalEntry],
    now: datetime,
    tz: ZoneInfo,
    config: EngineConfig,
    reach_filter: str,
) -> dict[str, Any]:
    """Everything the board and its fragments show."""
    reach = reach_rows(crisis, entries, now, tz)
    reach_filter, shown = filter_reach(reach, reach_filter)
    return {
        "title": f"{crisis.kind.label.capitalize()} — {crisis.id}",
        "crisis": crisis_header(crisis, entries, now, tz),
        "exercise": crisis.mode == Mode.EXERCICE,
        "verdicts": verdict_rows(entries, now, tz),
        "steps": step_rows(crisis, steps),
        "approvals": approval_items(crisis, steps, now, config),
        "reach": shown,
        "reach_counts": {
            "total": len(reach),
            "joint": sum(r["status"] == "joint" for r in reach),
        },
        "reach_filter": reach_filter,
        "reach_filters": list(REACH_FILTERS.items()),
        "cell": cell_rows(crisis, entries, tz),
        "media": [press_item(r, tz) for r in press.queue(entries)],
        "journal": journal_rows(entries, tz),
        "fragments": FRAGMENTS,
    }
