"""Directory imports: the prefecture's contact file and the RNE mayors file (CSV, French Excel).

Pure parsing and merging: no database. Every line gets a report line (imported, updated,
unchanged, rejected with a French reason). Reasons never quote a phone number, an e-mail or a
birth date (personal data). An import with a rejected line changes nothing unless
`keep_valid=True`.

Ownership of fields, so that the two imports commute: the RNE owns the name of each maire; the
prefecture's file owns everything else and only fills a maire's name while it is empty. A
maire is keyed on its commune (one per commune). After a change, contacts are sorted (commune,
role, rank, id), so the result does not depend on the order of the imports.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime

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
from contacts.model import CELL_ROLES, OFFICIAL_ROLES, Contact, Directory, Role
from contacts.phone import InvalidPhoneNumber, is_mobile, to_e164

__all__ = [
    "FALSE_WORDS",
    "ROLES_BY_NAME",
    "TRUE_WORDS",
    "ImportLine",
    "ImportReport",
    "ImportResult",
    "RejectedLine",
    "Row",
    "Status",
    "UnreadableFile",
    "find_columns",
    "import_contacts",
    "import_rne_mayors",
    "normalise",
    "read_table",
    "slug",
]

_EMAIL = re.compile(r"^[^@\s;,<>]+@[^@\s;,<>]+\.[^@\s;,<>.]{2,}$")
_ROLE_ORDER = {role: index for index, role in enumerate(Role)}


# --- merging ------------------------------------------------------------------------------


def _sort_key(contact: Contact) -> tuple[str, int, int, str]:
    return (contact.commune or "", _ROLE_ORDER[contact.role], contact.rank, contact.id)


def _maire_of(directory: Directory, insee: str) -> Contact | None:
    return next(
        (c for c in directory.contacts if c.role == Role.MAIRE and c.commune == insee), None
    )


def _run(
    rows: list[tuple[int, dict[str, str]]],
    directory: Directory,
    parse: Callable[[Row, int], Contact | None],
    source: str,
    keep_valid: bool,
    notes: Mapping[int, str] | None = None,
) -> ImportResult:
    """Parse every row (None: row ignored, not reported), report it, then merge or not."""
    existing = {c.id: c for c in directory.contacts}
    lines: list[ImportLine] = []
    changes: dict[str, Contact] = {}
    for number, row in rows:
        try:
            contact = parse(row, number)
        except RejectedLine as exc:
            lines.append(
                ImportLine(line=number, status="rejected", contact_id=None, reason=str(exc))
            )
            continue
        if contact is None:
            continue
        old = existing.get(contact.id)
        status: Status = "imported" if old is None else "unchanged" if contact == old else "updated"
        reason = (notes or {}).get(number, "")
        lines.append(ImportLine(line=number, status=status, contact_id=contact.id, reason=reason))
        if status != "unchanged":
            changes[contact.id] = contact
    report = ImportReport(source=source, lines=tuple(lines))
    if not changes or (not report.ok and not keep_valid):
        return ImportResult(report=report, directory=directory)
    merged = sorted((existing | changes).values(), key=_sort_key)
    return ImportResult(
        report=report, directory=directory.model_copy(update={"contacts": tuple(merged)})
    )


# --- the prefecture's contact file --------------------------------------------------------

_CONTACT_COLUMNS: dict[str, str] = {  # canonical header -> other accepted headers
    "Identifiant": "id|identifiant unique",
    "Rôle": "role|fonction|qualite",
    "Nom": "nom complet|nom et prenom|prenom et nom|nom prenom",
    "Code INSEE": "insee|code commune|code de la commune|code insee commune",
    "Rang": "ordre|rang adjoint",
    "Mobile": "portable|telephone mobile|tel mobile|tel portable|telephone portable",
    "Fixe": "telephone fixe|tel fixe|telephone|tel|ligne fixe",
    "Courriel": "email|e mail|mel|mail|adresse electronique|adresse mail",
    "Formé": "forme|formee|formation",
}


def slug(text: str) -> str:
    """ASCII identifier fragment: "Chargé de com" -> "charge-de-com"."""
    return "-".join(re.findall(r"[a-z0-9]+", normalise(text)))


def _phone(row: Row, col: str | None, label: str, *, mobile: bool) -> str | None:
    raw = row.get(col, "") if col else ""
    if not raw:
        return None
    try:
        e164 = to_e164(raw)
    except InvalidPhoneNumber as exc:
        raise RejectedLine(f"colonne « {label} » : {exc}") from None
    if mobile and not is_mobile(e164):
        raise RejectedLine(
            f"le numéro de la colonne « {label} » n'est pas un mobile : "
            "il ne peut pas recevoir de SMS"
        )
    return e164


def _trained(raw: str) -> bool:
    value = normalise(raw)
    if value in TRUE_WORDS or value in FALSE_WORDS:
        return value in TRUE_WORDS
    raise RejectedLine(f"colonne « Formé » : valeur « {raw} » non reconnue (oui ou non attendu)")


class _ContactParser:
    """Turns rows of the prefecture's file into contacts.

    It remembers, for duplicates, the first line of each id, mobile and maire (even when that
    line is rejected for another reason: a duplicate stays a duplicate).
    """

    def __init__(self, directory: Directory, cols: dict[str, str]) -> None:
        self.directory = directory
        self.cols = cols
        self.known = {c.code_insee for c in directory.communes}
        self.existing = {c.id: c for c in directory.contacts}
        self.ids: dict[str, int] = {}
        self.mobiles: dict[str, int] = {}
        self.maires: dict[str, int] = {}
        self.notes: dict[int, str] = {}

    def cell(self, row: Row, name: str) -> str:
        col = self.cols.get(name)
        return row.get(col, "") if col else ""

    def role(self, row: Row) -> Role:
        raw = self.cell(row, "Rôle")
        if not raw:
            raise RejectedLine("rôle manquant (colonne « Rôle »)")
        role = ROLES_BY_NAME.get(normalise(raw))
        if role is None:
            raise RejectedLine(f"rôle inconnu : « {raw} »")
        return role

    def commune(self, row: Row, role: Role) -> str | None:
        insee = "".join(self.cell(row, "Code INSEE").split())
        if insee.isdigit() and len(insee) == 4:
            insee = insee.zfill(5)  # Excel drops the leading zero of 01xxx-09xxx
        if not insee:
            if role in OFFICIAL_ROLES:
                raise RejectedLine("code INSEE manquant : obligatoire pour un élu ou une mairie")
            return None
        if insee not in self.known:
            raise RejectedLine(f"commune inconnue : {insee}")
        return insee

    def rank(self, row: Row, role: Role) -> int:
        raw = self.cell(row, "Rang")
        if role != Role.ADJOINT:
            return 0
        if not raw.isdigit() or int(raw) < 1:
            raise RejectedLine("rang de l'adjoint manquant ou invalide (entier à partir de 1)")
        return int(raw)

    def default_id(self, role: Role, insee: str | None, rank: int, name: str) -> str:
        if role == Role.MAIRE and insee:
            current = _maire_of(self.directory, insee)
            return current.id if current else f"maire-{insee}"
        if role == Role.ADJOINT and insee:
            return f"adjoint{rank}-{insee}"
        if role == Role.SECRETARIAT and insee:
            return f"secretariat-{insee}"
        if not name:
            raise RejectedLine("nom manquant (colonne « Nom »)")
        return f"{role.value}-{slug(name)}"

    def __call__(self, row: Row, line: int) -> Contact:
        role = self.role(row)
        insee = self.commune(row, role)
        rank = self.rank(row, role)
        name = self.cell(row, "Nom")
        if not name and role not in {Role.MAIRE, Role.SECRETARIAT}:
            raise RejectedLine("nom manquant (colonne « Nom »)")
        cid = self.cell(row, "Identifiant") or self.default_id(role, insee, rank, name)
        if cid in self.ids:
            raise RejectedLine(f"doublon de la ligne {self.ids[cid]}")
        self.ids[cid] = line
        old = self.existing.get(cid)
        mobile = _phone(row, self.cols.get("Mobile"), "Mobile", mobile=True)
        landline = _phone(row, self.cols.get("Fixe"), "Fixe", mobile=False)
        email = self.cell(row, "Courriel") or None
        if email is not None and not _EMAIL.match(email):
            raise RejectedLine("adresse électronique invalide (colonne « Courriel »)")
        if mobile is not None and mobile in self.mobiles:
            raise RejectedLine(
                f"numéro de mobile déjà donné à un autre contact (ligne {self.mobiles[mobile]})"
            )
        if mobile is not None:
            self.mobiles[mobile] = line
        if role == Role.MAIRE and insee:
            self.check_single_maire(insee, cid, line)
        if old is not None:  # a column absent from the file keeps what the directory has
            mobile = mobile if "Mobile" in self.cols else old.mobile
            landline = landline if "Fixe" in self.cols else old.landline
            email = email if "Courriel" in self.cols else old.email
        formed = self.cell(row, "Formé")
        trained = _trained(formed) if "Formé" in self.cols else bool(old and old.trained)
        if role == Role.MAIRE and old is not None and old.name:
            if name and name != old.name:
                self.notes[line] = (
                    "nom du maire conservé : il vient du Répertoire national des élus"
                )
            name = old.name  # the RNE owns the names of maires
        elif role == Role.SECRETARIAT and not name:
            commune = self.directory.commune(insee or "")
            name = f"secrétariat de mairie de {commune.nom if commune else insee}"
        if (role in OFFICIAL_ROLES or role in CELL_ROLES) and not (mobile or landline or email):
            raise RejectedLine(
                "aucun moyen de joindre ce contact (ni mobile, ni fixe, ni courriel)"
            )
        return Contact(
            id=cid,
            name=name,
            role=role,
            commune=insee,
            rank=rank,
            trained=trained,
            mobile=mobile,
            landline=landline,
            email=email,
        )

    def check_single_maire(self, insee: str, cid: str, line: int) -> None:
        if insee in self.maires:
            raise RejectedLine(
                f"un seul maire par commune : déjà un maire de {insee} ligne {self.maires[insee]}"
            )
        current = _maire_of(self.directory, insee)
        if current is not None and current.id != cid:
            raise RejectedLine(
                f"la commune {insee} a déjà un maire sous l'identifiant « {current.id} »"
            )
        self.maires[insee] = line


def import_contacts(
    data: bytes, directory: Directory, *, source: str, keep_valid: bool = False
) -> ImportResult:
    """Import the prefecture's contact file (officials, cell, press, CIP) into the directory."""
    headers, rows = read_table(data, source=source)
    cols = find_columns(headers, _CONTACT_COLUMNS, ("Rôle", "Nom"), source)
    parser = _ContactParser(directory, cols)
    return _run(rows, directory, parser, source, keep_valid, parser.notes)


# --- the RNE mayors file ------------------------------------------------------------------

_RNE_DATES = ("Date de naissance", "Date de début du mandat", "Date de début de la fonction")
_RNE_COLUMNS = dict.fromkeys(
    ("Code du département", "Code de la commune", "Nom de l'élu", "Prénom de l'élu", *_RNE_DATES),
    "",
)


def _valid_date(raw: str) -> bool:
    for layout in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            parsed: date = datetime.strptime(raw, layout).date()  # noqa: DTZ007 (a date, no time)
        except ValueError:
            continue
        return parsed.year >= 1900
    return False


def _departement(insee: str) -> str:
    return insee[:3] if insee.startswith("97") else insee[:2]


def import_rne_mayors(
    data: bytes, directory: Directory, *, source: str, keep_valid: bool = False
) -> ImportResult:
    """Set the names of the maires from the RNE mayors file, joined on the commune code.

    Only lines of the directory's départements are read: lines of other départements are
    ignored and left out of the report. A line of our département whose commune is unknown, or
    with a missing name or a bad date, is rejected. The birth date and the sex are never stored
    (personal data not needed): dates are parsed only to check the line. A maire missing from
    the directory is created as "maire-<insee>" with no number (unreachable until the
    prefecture's file gives one); an existing maire of the commune keeps its id and numbers.
    """
    headers, rows = read_table(data, source=source)
    required = ("Code de la commune", "Nom de l'élu", "Prénom de l'élu")
    cols = find_columns(headers, _RNE_COLUMNS, required, source)
    ours = {_departement(c.code_insee) for c in directory.communes}
    known = {c.code_insee for c in directory.communes}
    seen: dict[str, int] = {}

    def cell(row: Row, name: str) -> str:
        return row.get(cols[name], "") if name in cols else ""

    def parse(row: Row, line: int) -> Contact | None:
        dept = cell(row, "Code du département").upper()
        dept = dept.zfill(2) if dept.isdigit() else dept
        insee = "".join(cell(row, "Code de la commune").split()).upper()
        if insee.isdigit() and len(insee) <= 3 and dept:
            insee = dept + insee.zfill(5 - len(dept))
        elif insee.isdigit() and len(insee) == 4:
            insee = insee.zfill(5)
        if (dept or _departement(insee)) not in ours:
            return None
        if insee not in known:
            raise RejectedLine(f"commune inconnue : {insee or '(code vide)'}")
        if insee in seen:
            raise RejectedLine(f"doublon de la ligne {seen[insee]} (deux maires pour {insee})")
        first, last = cell(row, "Prénom de l'élu"), cell(row, "Nom de l'élu")
        if not first or not last:
            raise RejectedLine("nom ou prénom de l'élu manquant")
        for column in _RNE_DATES:
            raw = cell(row, column)
            if raw and not _valid_date(raw):
                raise RejectedLine(
                    f"date invalide dans la colonne « {column} » (AAAA-MM-JJ ou JJ/MM/AAAA)"
                )
        seen[insee] = line
        current = _maire_of(directory, insee)
        name = f"{first} {last}"
        if current is None:
            return Contact(id=f"maire-{insee}", name=name, role=Role.MAIRE, commune=insee)
        return current.model_copy(update={"name": name})

    return _run(rows, directory, parse, source, keep_valid)
