"""What the crises page shows: the open and closed events, the exercises running, and the
activation form's starting values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from crisis import timefmt
from crisis.exercise.control import RunState
from crisis.model import Crisis, Mode
from playbooks.model import EventKind

__all__ = ["crises_view", "crisis_row"]


def crisis_row(crisis: Crisis, tz: ZoneInfo) -> dict[str, Any]:
    """One event of the list."""
    closed = crisis.closed_at
    return {
        "id": crisis.id,
        "kind": crisis.kind.label,
        "exercise": crisis.mode == Mode.EXERCICE,
        "t0": timefmt.local(crisis.t0, tz),
        "communes": len(crisis.communes),
        "closed": f"{closed.astimezone(tz):%d/%m/%Y %H:%M}" if closed else "",
    }


def crises_view(
    crises: Sequence[Crisis],
    runs: Sequence[RunState],
    now: datetime,
    tz: ZoneInfo,
    key: str,
) -> dict[str, Any]:
    """The list (latest first), the live exercises, the form (now, flood; `key` makes the
    activation idempotent)."""
    rows = [crisis_row(c, tz) for c in reversed(crises)]
    local = now.astimezone(tz)
    return {
        "title": "Événements",
        "runs": [
            {"id": r.run_id, "title": r.title, "status": r.status.value, "speed": f"{r.speed:g}"}
            for r in runs
            if r.status.live
        ],
        "open": [r for r in rows if not r["closed"]],
        "closed": [r for r in rows if r["closed"]],
        "kinds": [(k.value, k.label) for k in EventKind],
        "form": {
            "kind": EventKind.INONDATION.value,
            "t0_date": f"{local:%Y-%m-%d}",
            "t0_time": f"{local:%H:%M}",
            "synergi": "",
            "zone": "",
            "exercise": False,
            "key": key,
        },
        "error": "",
    }
