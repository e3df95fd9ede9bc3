"""What the exercises pages show, computed from a run's files and its database's reads: the
scenarios offered, a run's row, its progress; and the speed typed in a form (no FastAPI here)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from crisis import timefmt
from crisis.clock import PausableClock
from crisis.exercise.control import RunState
from crisis.exercise.errors import ScenarioError
from crisis.exercise.scenario import LIBRARY, Scenario, load_scenario
from crisis.journal import shown
from crisis.queries.exercises import RunProgress

__all__ = ["JOURNAL_SHOWN", "progress", "run_row", "scenarios", "speed"]

JOURNAL_SHOWN = 15


def speed(raw: str, default: float | None = None) -> float:
    """A speed typed in a form (decimal comma accepted; empty: `default`); ValueError (French)."""
    text = raw.strip().replace(",", ".")
    if not text and default is not None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not PausableClock.MIN_SPEED <= value <= PausableClock.MAX_SPEED:
        raise ValueError(
            f"vitesse invalide : « {text[:20]} » (un nombre de {PausableClock.MIN_SPEED:g} à "
            f"{PausableClock.MAX_SPEED:g})"
        )
    return value


def scenarios(geography: Any) -> list[tuple[Path, Scenario | None, str]]:
    """The shipped scenarios, each with its model or its French error."""
    found: list[tuple[Path, Scenario | None, str]] = []
    for path in sorted(LIBRARY.glob("*.toml")):
        try:
            found.append((path, load_scenario(path, geography=geography), ""))
        except ScenarioError as exc:
            found.append((path, None, str(exc)))
    return found


def run_row(state: RunState, tz: ZoneInfo) -> dict[str, Any]:
    """A run as the pages show it."""
    minutes = state.minutes
    return {
        "id": state.run_id,
        "title": state.title,
        "by": state.started_by,
        "at": f"{state.started_at.astimezone(tz):%d/%m/%Y %H:%M}",
        "status": state.status.value,
        "live": state.status.live,
        "speed": f"{state.speed:g}",
        "clock": f"T0+{int(minutes):02d}:{int(minutes * 60) % 60:02d}"
        if minutes is not None
        else "",
        "duration": state.duration_minutes or "",
        "error": state.error,
        "reports": [
            {"name": name, "label": Path(name).suffix.lstrip(".").upper()} for name in state.reports
        ],
    }


def progress(found: RunProgress, tz: ZoneInfo) -> dict[str, Any]:
    """A run's engagements, press queue, CIP calls and latest entries, as its page shows them."""
    return {
        "verdicts": [
            {
                "engagement": v.engagement,
                "status": v.status.value,
                "label": v.status.label,
                "detail": v.detail,
            }
            for v in found.verdicts
        ],
        "press": {"received": found.press_received, "waiting": found.press_waiting},
        "calls": {"total": found.calls, "answered": found.calls_answered},
        "journal": [
            {
                "seq": e.seq,
                "at": timefmt.local(e.at, tz, date=False, seconds=True),
                "actor": e.actor.name,
                "text": shown(e, tz),
            }
            for e in reversed(found.entries[-JOURNAL_SHOWN:])
        ],
    }
