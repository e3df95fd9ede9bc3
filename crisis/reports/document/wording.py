"""How reports word times, delays, durations and dates (French; local times in the prefecture's
time zone, passed in)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo

from crisis import timefmt
from crisis.model import EngagementStatus

__all__ = ["audit", "clock", "day", "duration", "hour", "id_list", "offset", "status_class"]


def offset(value: timedelta | None, origin: str = "T0") -> str:
    """'T0+12 min 05 s', 'T0+2 h 05 min' (seconds rounded up: never hide a late second)."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    sign = "-" if seconds < 0 else "+"
    total = math.ceil(abs(seconds))
    minutes, secs = divmod(total, 60)
    if minutes >= 120:
        hours, minutes = divmod(minutes, 60)
        return f"{origin}{sign}{hours} h {minutes:02d} min"
    return f"{origin}{sign}{minutes} min" + (f" {secs:02d} s" if secs else "")


def duration(value: timedelta | None) -> str:
    """'4 min 12 s', '1 h 02 min', '3 j 04 h'."""
    if value is None:
        return "—"
    total = math.ceil(value.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} j {hours:02d} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min" + (f" {secs:02d} s" if secs else "")
    return f"{secs} s"


def clock(at: datetime | None, tz: tzinfo, *, seconds: bool = True) -> str:
    """'23/11/2026 02:10:00' in the prefecture's time zone, for a cell under a heading naming
    the zone; the hour repeated when clocks go back carries its offset."""
    if at is None:
        return "—"
    text = at.astimezone(tz).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")
    return f"{text} ({timefmt.offset(at, tz)})" if timefmt.repeated(at, tz) else text


def audit(at: datetime | None, tz: tzinfo) -> str:
    """Local time with its zone, then UTC (crisis.timefmt.audit)."""
    return "—" if at is None else timefmt.audit(at, tz)


def hour(tz: tzinfo) -> str:
    """A column heading of local times: « Heure (heure de Paris) »."""
    return f"Heure ({timefmt.zone_label(tz)})"


def day(value: date | None) -> str:
    """'31/03/2027'."""
    return value.strftime("%d/%m/%Y") if value is not None else "—"


def status_class(status: EngagementStatus) -> str:
    """The CSS class of a verdict: « statut-not-applicable »."""
    return f"statut-{status.value.replace('_', '-')}"


def id_list(ids: Sequence[str]) -> str:
    """' (EX-1, EX-2)' after a count: the first twenty ids, or "" when there are none."""
    if not ids:
        return ""
    shown = ", ".join(ids[:20])
    return f" ({shown}{' …' if len(ids) > 20 else ''})"
