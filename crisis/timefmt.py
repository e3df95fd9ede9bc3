"""Times as people read them (pure): local time with its zone, and UTC where an auditor needs it.

Every text a person reads (journal sentences, proofs, reports, CLI, dashboard) words an instant
through this module, so that the same instant always reads the same way:

- `local(at, tz)`: « 02/12/2026 07:45 (heure de Paris) », for people;
- `audit(at, tz)`: « 02/12/2026 07:45:00 (heure de Paris) — 06:45:00 UTC », for the journal,
  proofs and reports an auditor checks;
- `clock(at, tz)`: « 07:45 », for table cells under a heading that names the zone (`zone_label`);
- `local_label(at, tz)`: « lundi 23/11/2026 02:10 », the weekday form a T0 is confirmed with,
  and `elapsed_label(delta)`: « 1 h 25 min » since T0.

The local hour that happens twice when clocks go back (Paris: 02:00-03:00 on the last Sunday of
October) always carries its offset (« 02:30 (heure de Paris, UTC+02:00) »), even in a table cell,
so the two instants never read the same.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

DEFAULT_ZONE = "Europe/Paris"  # the default of `[prefecture] timezone`

# French names of the zones of metropolitan France and the outre-mer prefectures.
_ZONE_LABELS = {
    "Europe/Paris": "heure de Paris",
    "America/Cayenne": "heure de Guyane",
    "America/Martinique": "heure de Martinique",
    "America/Guadeloupe": "heure de Guadeloupe",
    "America/Miquelon": "heure de Saint-Pierre-et-Miquelon",
    "America/St_Barthelemy": "heure de Saint-Barthélemy",
    "America/Marigot": "heure de Saint-Martin",
    "Indian/Reunion": "heure de La Réunion",
    "Indian/Mayotte": "heure de Mayotte",
    "Pacific/Noumea": "heure de Nouvelle-Calédonie",
    "Pacific/Tahiti": "heure de Tahiti",
    "Pacific/Marquesas": "heure des Marquises",
    "Pacific/Gambier": "heure des Gambier",
    "Pacific/Wallis": "heure de Wallis-et-Futuna",
}
_UTC_NAMES = {"UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Universal", "Zulu"}
_MINUS = "\u2212"  # typographic minus sign, as in « UTC−03:00 »


def _aware(at: datetime) -> datetime:
    """A naive datetime is UTC, as the store reads them back."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _key(tz: tzinfo) -> str:
    return str(getattr(tz, "key", "") or tz)


def is_utc(tz: tzinfo) -> bool:
    """Whether the zone is UTC itself (then local time and UTC are one wording)."""
    return tz is UTC or _key(tz) in _UTC_NAMES


def offset(at: datetime, tz: tzinfo) -> str:
    """The zone's offset from UTC at that instant: « UTC+01:00 », « UTC−03:00 »."""
    delta = _aware(at).astimezone(tz).utcoffset() or timedelta(0)
    sign = "+" if delta >= timedelta(0) else _MINUS
    minutes = abs(int(delta.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def zone_label(tz: tzinfo, at: datetime | None = None) -> str:
    """The zone as people name it: « heure de Paris », « heure de La Réunion »; another zone:
    « heure locale, UTC+05:30 » (its offset at `at`; without `at`, its offset in January)."""
    if is_utc(tz):
        return "UTC"
    known = _ZONE_LABELS.get(_key(tz))
    if known:
        return known
    when = at if at is not None else datetime(2026, 1, 15, 12, tzinfo=UTC)
    return f"heure locale, {offset(when, tz)}"


def repeated(at: datetime, tz: tzinfo) -> bool:
    """Whether this local wall time happens twice (the hour repeated when clocks go back)."""
    local = _aware(at).astimezone(tz)
    wall = local.replace(tzinfo=None)
    other = wall.replace(tzinfo=tz, fold=1 - local.fold)
    return other.utcoffset() != local.utcoffset()


def _wall(at: datetime, tz: tzinfo, *, date: bool, seconds: bool) -> str:
    local = _aware(at).astimezone(tz)
    fmt = ("%d/%m/%Y " if date else "") + ("%H:%M:%S" if seconds else "%H:%M")
    return local.strftime(fmt)


def clock(at: datetime, tz: tzinfo, *, date: bool = False, seconds: bool = False) -> str:
    """« 07:45 » (« 02/12 07:45 » with `date`), for a cell under a heading naming the zone; the
    repeated hour of the change to winter time carries its offset."""
    local = _aware(at).astimezone(tz)
    fmt = ("%d/%m " if date else "") + ("%H:%M:%S" if seconds else "%H:%M")
    text = local.strftime(fmt)
    return f"{text} ({offset(at, tz)})" if repeated(at, tz) else text


def zone_of(at: datetime, tz: tzinfo) -> str:
    """The zone of a local time as written next to it: « heure de Paris », and in the repeated
    hour of the change to winter time « heure de Paris, UTC+02:00 »."""
    label = zone_label(tz, at)
    return f"{label}, {offset(at, tz)}" if label != "UTC" and repeated(at, tz) else label


def local(at: datetime, tz: tzinfo, *, date: bool = True, seconds: bool = False) -> str:
    """« 02/12/2026 07:45 (heure de Paris) »; in the repeated hour of the change to winter time
    « 25/10/2026 02:30 (heure de Paris, UTC+02:00) »."""
    text = _wall(at, tz, date=date, seconds=seconds)
    label = zone_of(at, tz)
    return f"{text} UTC" if label == "UTC" else f"{text} ({label})"


def audit(at: datetime, tz: tzinfo, *, date: bool = True, seconds: bool = True) -> str:
    """Local time with its zone, then UTC: « 02/12/2026 07:45:00 (heure de Paris) — 06:45:00
    UTC ». The UTC part repeats the date when it is another day than the local one."""
    people = local(at, tz, date=date, seconds=seconds)
    if is_utc(tz):
        return people
    in_utc = _aware(at).astimezone(UTC)
    other_day = in_utc.date() != in_utc.astimezone(tz).date()
    return f"{people} — {_wall(in_utc, UTC, date=date and other_day, seconds=seconds)} UTC"


def local_label(at: datetime, tz: tzinfo) -> str:
    """« lundi 23/11/2026 02:10 » in the prefecture's zone (for refusals and confirmations)."""
    local = at.astimezone(tz)
    return f"{_WEEKDAYS[local.weekday()]} {local:%d/%m/%Y %H:%M}"


def elapsed_label(delta: timedelta) -> str:
    """« 1 h 25 min », « 12 min »: the time since T0, for people."""
    minutes = max(0, int(delta.total_seconds() // 60))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
