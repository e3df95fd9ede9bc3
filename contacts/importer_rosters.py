"""Imports of training records and on-call rosters (CSV, French Excel), with line reports.

Same reading (`contacts.import_table`) and the same semantics as `contacts.importer`: every line
gets a report line (imported, updated, unchanged, rejected with a French reason and its Excel line
number), and an import with a rejected line changes nothing unless `keep_valid=True`. Contacts
are named by their identifier, or by their name when it is unique in the directory.

A training record is keyed on (contact, type, date). A roster slot is keyed on (role, start,
end) for the astreinte rosters, which hold one person at a time, and on (role, start, end,
holder) for the CIP, whose agents answer side by side; a slot that overlaps another of the file
or of the directory (same role; for the CIP, same agent) is rejected. Roster times are local
times of the prefecture (Europe/Paris by default) and become aware datetimes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping
from datetime import UTC, date, datetime, tzinfo
from typing import TypeVar
from zoneinfo import ZoneInfo

from contacts.import_table import (
    FALSE_WORDS,
    ROLES_BY_NAME,
    TRUE_WORDS,
    ImportLine,
    ImportReport,
    ImportResult,
    RejectedLine,
    Row,
    Status,
    UnreadableFile,
    find_columns,
    normalise,
    read_table,
)
from contacts.model import (
    EXCLUSIVE_ROSTER_ROLES,
    OFFICIAL_ROLES,
    ROSTER_ROLES,
    Contact,
    Directory,
    Role,
    RosterSlot,
    TrainingKind,
    TrainingRecord,
)
from contacts.roster import ROSTER_TITLES, conflicts

PARIS = ZoneInfo("Europe/Paris")
_K = TypeVar("_K", bound=Hashable)
_T = TypeVar("_T", TrainingRecord, RosterSlot)
_ROLE_ORDER = {role: index for index, role in enumerate(Role)}


# --- shared -------------------------------------------------------------------------------


class _People:
    """Finds a contact by identifier, or by a name that only one contact has."""

    def __init__(self, directory: Directory) -> None:
        self.by_id = {c.id: c for c in directory.contacts}
        self.by_name: dict[str, list[Contact]] = defaultdict(list)
        for contact in directory.contacts:
            self.by_name[normalise(contact.name)].append(contact)

    def find(self, ident: str, name: str, *, column: str) -> Contact:
        if ident:  # an identifier, or else a name
            contact = self.by_id.get(ident) or self._by_name(ident, column)
            if contact is None:
                raise RejectedLine(f"contact inconnu : « {ident} » (colonne « {column} »)")
            return contact
        if not name:
            raise RejectedLine(f"contact manquant (colonne « {column} »)")
        contact = self._by_name(name, column)
        if contact is None:
            raise RejectedLine(f"contact inconnu : « {name} » (colonne « {column} »)")
        return contact

    def _by_name(self, name: str, column: str) -> Contact | None:
        found = self.by_name.get(normalise(name), [])
        if len(found) > 1:
            ids = ", ".join(c.id for c in found)
            raise RejectedLine(
                f"plusieurs contacts s'appellent « {name} » ({ids}) : "
                f"indiquez l'identifiant (colonne « {column} »)"
            )
        return found[0] if found else None


def _merge(
    rows: list[tuple[int, dict[str, str]]],
    parse: Callable[[Row, int], tuple[_K, _T]],
    existing: Mapping[_K, _T],
    holder: Callable[[_T], str],
    source: str,
    keep_valid: bool,
) -> tuple[ImportReport, dict[_K, _T] | None]:
    """Report every row; the merged records, or None when nothing is to change."""
    lines: list[ImportLine] = []
    changes: dict[_K, _T] = {}
    for number, row in rows:
        try:
            key, item = parse(row, number)
        except RejectedLine as exc:
            lines.append(
                ImportLine(line=number, status="rejected", contact_id=None, reason=str(exc))
            )
            continue
        old = existing.get(key)
        status: Status = "imported" if old is None else "unchanged" if item == old else "updated"
        lines.append(ImportLine(line=number, status=status, contact_id=holder(item)))
        if status != "unchanged":
            changes[key] = item
    report = ImportReport(source=source, lines=tuple(lines))
    if not changes or (not report.ok and not keep_valid):
        return report, None
    return report, {**existing, **changes}


def _cell(row: Row, cols: Mapping[str, str], name: str) -> str:
    col = cols.get(name)
    return row.get(col, "") if col else ""


# --- training records ---------------------------------------------------------------------

_TRAINING_COLUMNS: dict[str, str] = {  # canonical header -> other accepted headers
    "Identifiant": "id|identifiant unique|identifiant du contact",
    "Nom": "nom complet|nom et prenom|prenom et nom|nom prenom|agent",
    "Type": "type de formation|nature|formation",
    "Date": "date de la formation|date de formation|le",
    "Durée": "duree|duree jours|duree en jours|nombre de jours|jours",
    "Avec activation CIP": "activation cip|avec activation de la cip|activation de la cip"
    "|cip activee",
    "Intitulé": "intitule|libelle|titre|objet",
}
_KINDS: dict[str, TrainingKind] = {
    **dict.fromkeys(("formation initiale", "initiale", "fi"), "formation_initiale"),
    **dict.fromkeys(("recyclage", "formation de recyclage", "remise a niveau"), "recyclage"),
    **dict.fromkeys(("exercice", "exercice departemental", "exercice cip"), "exercice"),
}
_TrainingKey = tuple[str, TrainingKind, date]
_DURATION = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(?:j|jour|jours)?$")


def _date(raw: str, column: str) -> date:
    text = raw.strip()
    for layout in ("%d/%m/%Y", "%Y-%m-%d", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"):
        try:
            parsed = datetime.strptime(text, layout).date()  # noqa: DTZ007 (a date, no time)
        except ValueError:
            continue
        if parsed.year >= 1990:
            return parsed
    what = f"« {raw} »" if raw else "vide"
    raise RejectedLine(f"date invalide dans la colonne « {column} » : {what} (JJ/MM/AAAA attendu)")


def _duration(raw: str) -> float:
    if not raw:
        return 1.0
    match = _DURATION.match("".join(raw.casefold().split()))
    value = float(match.group(1).replace(",", ".")) if match else 0.0
    if not 0 < value <= 31:
        raise RejectedLine(f"durée invalide : « {raw} » (en jours, par exemple 1 ou 0,5)")
    return value


def _yes_no(raw: str, column: str) -> bool:
    value = normalise(raw)
    if value in TRUE_WORDS or value in FALSE_WORDS:
        return value in TRUE_WORDS
    raise RejectedLine(f"colonne « {column} » : valeur « {raw} » non reconnue (oui ou non attendu)")


def import_training(
    data: bytes, directory: Directory, *, source: str, keep_valid: bool = False
) -> ImportResult:
    """Import training records (formation initiale, recyclage, exercice) of known contacts."""
    headers, rows = read_table(data, source=source)
    cols = find_columns(headers, _TRAINING_COLUMNS, ("Type", "Date"), source)
    if "Identifiant" not in cols and "Nom" not in cols:
        raise UnreadableFile(f"{source} : colonne obligatoire absente : « Identifiant » ou « Nom »")
    people = _People(directory)
    seen: dict[_TrainingKey, int] = {}

    def parse(row: Row, line: int) -> tuple[_TrainingKey, TrainingRecord]:
        contact = people.find(
            _cell(row, cols, "Identifiant"),
            _cell(row, cols, "Nom"),
            column="Identifiant" if _cell(row, cols, "Identifiant") else "Nom",
        )
        raw_kind = _cell(row, cols, "Type")
        kind = _KINDS.get(normalise(raw_kind))
        if kind is None:
            raise RejectedLine(
                f"type inconnu : « {raw_kind} » (formation initiale, recyclage ou exercice)"
            )
        on = _date(_cell(row, cols, "Date"), "Date")
        duration = _duration(_cell(row, cols, "Durée"))
        activation = _yes_no(_cell(row, cols, "Avec activation CIP"), "Avec activation CIP")
        if activation and kind != "exercice":
            raise RejectedLine("« avec activation CIP » ne concerne qu'un exercice")
        key = (contact.id, kind, on)
        if key in seen:
            raise RejectedLine(f"doublon de la ligne {seen[key]}")
        seen[key] = line
        record = TrainingRecord(
            contact_id=contact.id,
            kind=kind,
            on=on,
            duration_days=duration,
            with_cip_activation=activation,
            label=_cell(row, cols, "Intitulé"),
        )
        return key, record

    existing = {(r.contact_id, r.kind, r.on): r for r in directory.training}
    report, merged = _merge(rows, parse, existing, lambda r: r.contact_id, source, keep_valid)
    if merged is None:
        return ImportResult(report=report, directory=directory)
    records = tuple(sorted(merged.values(), key=lambda r: (r.contact_id, r.on, r.kind)))
    return ImportResult(report=report, directory=directory.model_copy(update={"training": records}))


# --- on-call rosters ----------------------------------------------------------------------

_ROSTER_COLUMNS: dict[str, str] = {
    "Rôle": "role|fonction|astreinte|type d'astreinte|tableau",
    "Début": "date de debut|du|de|debut de l'astreinte",
    "Fin": "date de fin|au|jusqu'a|fin de l'astreinte",
    "Titulaire": "agent|nom|identifiant|personne d'astreinte|titulaire de l'astreinte",
    "Suppléant": "suppleante|remplacant|remplacante|second",
}
_ROSTER_ROLE_ALIASES = {
    Role.DIRECTION_ASTREINTE: "direction|direction d'astreinte|astreinte de direction"
    "|cadre d'astreinte|directeur de cabinet|directrice de cabinet|sous prefet|sous prefete",
    Role.AGENT_ASTREINTE: "agent|astreinte agent",
    Role.AGENT_CIP: "cip|agent de la cip|numero unique",
}
_ROSTER_ROLES: dict[str, Role] = {
    **ROLES_BY_NAME,
    **{a: role for role, aliases in _ROSTER_ROLE_ALIASES.items() for a in aliases.split("|")},
}
_DATETIME_LAYOUTS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %Hh%M",
    "%d/%m/%Y %Hh",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
)


def _when(raw: str, column: str, tz: tzinfo) -> datetime:
    """A local date and time of the prefecture as an aware datetime."""
    text = " ".join(raw.split())
    for layout in _DATETIME_LAYOUTS:
        try:
            naive = datetime.strptime(text, layout)  # noqa: DTZ007 (local time, zone set below)
        except ValueError:
            continue
        if naive.year < 1990:
            break
        local = naive.replace(tzinfo=tz)
        if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
            raise RejectedLine(
                f"heure inexistante dans la colonne « {column} » : « {raw} » "
                "(passage à l'heure d'été)"
            )
        return local
    what = f"« {raw} »" if raw else "vide"
    raise RejectedLine(
        f"date et heure invalides dans la colonne « {column} » : {what} "
        "(JJ/MM/AAAA HH:MM attendu, par exemple 23/11/2026 08:00)"
    )


def _local(moment: datetime, tz: tzinfo) -> str:
    return f"{moment.astimezone(tz):%d/%m/%Y %H:%M}"


def _slot_key(slot: RosterSlot) -> tuple[Role, datetime, datetime, str]:
    holder = "" if slot.role in EXCLUSIVE_ROSTER_ROLES else slot.contact_id
    return slot.role, slot.starts, slot.ends, holder


class _RosterParser:
    """Turns rows into slots; remembers valid lines to reject overlaps within the file."""

    def __init__(self, directory: Directory, cols: dict[str, str], tz: tzinfo) -> None:
        self.cols = cols
        self.tz = tz
        self.people = _People(directory)
        self.existing = {_slot_key(s): s for s in directory.rosters}
        self.accepted: list[tuple[int, RosterSlot]] = []

    def person(self, row: Row, column: str, role: Role) -> Contact:
        contact = self.people.find(_cell(row, self.cols, column), "", column=column)
        if contact.role in OFFICIAL_ROLES or contact.role == Role.MEDIA:
            raise RejectedLine(
                f"« {contact.id} » ({contact.role.label}) ne peut pas figurer "
                f"au {ROSTER_TITLES[role]}"
            )
        return contact

    def role(self, row: Row) -> Role:
        raw = _cell(row, self.cols, "Rôle")
        if not raw:
            raise RejectedLine("rôle manquant (colonne « Rôle »)")
        role = _ROSTER_ROLES.get(normalise(raw))
        if role is None:
            raise RejectedLine(f"rôle inconnu : « {raw} »")
        if role not in ROSTER_ROLES:
            raise RejectedLine(f"pas de tableau d'astreinte pour le rôle « {role.label} »")
        return role

    def __call__(
        self, row: Row, line: int
    ) -> tuple[tuple[Role, datetime, datetime, str], RosterSlot]:
        role = self.role(row)
        starts = _when(_cell(row, self.cols, "Début"), "Début", self.tz)
        ends = _when(_cell(row, self.cols, "Fin"), "Fin", self.tz)
        if ends <= starts:
            raise RejectedLine(
                f"la fin ({_local(ends, self.tz)}) n'est pas après le début "
                f"({_local(starts, self.tz)})"
            )
        holder = self.person(row, "Titulaire", role)
        deputy = self.person(row, "Suppléant", role) if _cell(row, self.cols, "Suppléant") else None
        if deputy is not None and deputy.id == holder.id:
            raise RejectedLine("le suppléant est aussi le titulaire")
        slot = RosterSlot(
            role=role,
            starts=starts,
            ends=ends,
            contact_id=holder.id,
            deputy_id=deputy.id if deputy else None,
        )
        key = _slot_key(slot)
        for other_line, other in self.accepted:
            if conflicts(slot, other):
                raise RejectedLine(f"chevauche le créneau de la ligne {other_line} ({role.label})")
        for other_key, other in self.existing.items():
            if other_key != key and conflicts(slot, other):
                raise RejectedLine(
                    f"chevauche un créneau déjà enregistré ({role.label}, du "
                    f"{_local(other.starts, self.tz)} au {_local(other.ends, self.tz)}, "
                    f"titulaire {other.contact_id})"
                )
        self.accepted.append((line, slot))
        return key, slot


def import_rosters(
    data: bytes,
    directory: Directory,
    *,
    source: str,
    keep_valid: bool = False,
    tz: tzinfo = PARIS,
) -> ImportResult:
    """Import on-call slots (direction, agent d'astreinte, CIP) for known contacts."""
    headers, rows = read_table(data, source=source)
    cols = find_columns(headers, _ROSTER_COLUMNS, ("Rôle", "Début", "Fin", "Titulaire"), source)
    parser = _RosterParser(directory, cols, tz)
    report, merged = _merge(
        rows, parser, parser.existing, lambda s: s.contact_id, source, keep_valid
    )
    if merged is None:
        return ImportResult(report=report, directory=directory)
    slots = tuple(
        sorted(merged.values(), key=lambda s: (_ROLE_ORDER[s.role], s.starts, s.contact_id))
    )
    return ImportResult(report=report, directory=directory.model_copy(update={"rosters": slots}))
