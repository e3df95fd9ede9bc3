"""What every directory import shares: reading a CSV file as French Excel writes it (encoding,
delimiter, loose header matching), the line-by-line report, and the words a file may use for
yes/no and for a role."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

from contacts.model import ROLE_LABELS, Directory, Role

Status = Literal["imported", "updated", "unchanged", "rejected"]
Row = Mapping[str, str]
# yes/no cells, as normalise() gives them
TRUE_WORDS = frozenset({"oui", "o", "vrai", "1", "x", "yes", "true"})
FALSE_WORDS = frozenset({"non", "n", "faux", "0", "", "no", "false"})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ImportLine(_Frozen):
    """What happened to one line of the file (line numbers as Excel shows them)."""

    line: int
    status: Status
    contact_id: str | None
    reason: str = ""


class ImportReport(_Frozen):
    """The line-by-line report of one import."""

    source: str
    lines: tuple[ImportLine, ...]

    @property
    def counts(self) -> dict[str, int]:
        """Number of lines per status (every status present)."""
        counts = dict.fromkeys(("imported", "updated", "unchanged", "rejected"), 0)
        for line in self.lines:
            counts[line.status] += 1
        return counts

    @property
    def ok(self) -> bool:
        """Whether no line was rejected."""
        return all(line.status != "rejected" for line in self.lines)


class ImportResult(_Frozen):
    """The report and the directory after the import."""

    report: ImportReport
    directory: Directory


class UnreadableFile(ValueError):
    """The whole file cannot be used (encoding, no header, missing columns)."""


class RejectedLine(ValueError):
    """One line is rejected; the message is the French reason."""


# --- reading ------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """A header or label for loose matching: casefold, no accents, separators collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'").casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w']+|_", " ", bare).split())


def _decode(data: bytes, source: str) -> str:
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))  # Excel's "Texte Unicode"
    for encoding in ("utf-16",) if utf16 else ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(
        f"{source} : encodage illisible (enregistrez le fichier en CSV UTF-8 ou Windows-1252)"
    )


def read_table(data: bytes, *, source: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Normalised headers and the non-empty rows, each with its Excel line number."""
    text = _decode(data, source)
    first = next((line for line in text.splitlines() if line.strip()), None)
    if first is None:
        raise UnreadableFile(f"{source} : fichier vide, aucune ligne d'en-tête")
    delimiter = max((";", ",", "\t"), key=first.count)  # ties go to ';' (French Excel)
    headers: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in enumerate(
        csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 1
    ):
        stripped = [cell.strip() for cell in cells]
        if not any(stripped):
            continue
        if headers is None:
            headers = [normalise(cell) for cell in stripped]
            continue
        row: dict[str, str] = {}
        for name, cell in zip(headers, stripped, strict=False):
            if name and name not in row:
                row[name] = cell
        rows.append((number, row))
    return headers or [], rows


def find_columns(
    headers: list[str], spec: Mapping[str, str], required: tuple[str, ...], source: str
) -> dict[str, str]:
    """Canonical column name -> normalised header found in the file."""
    found: dict[str, str] = {}
    for name, aliases in spec.items():
        candidates = [normalise(name), *(a for a in aliases.split("|") if a)]
        match = next((header for header in candidates if header in headers), None)
        if match is not None:
            found[name] = match
    missing = [name for name in required if name not in found]
    if missing:
        quoted = ", ".join(f"« {name} »" for name in missing)
        noun = (
            "colonne obligatoire absente" if len(missing) == 1 else "colonnes obligatoires absentes"
        )
        raise UnreadableFile(f"{source} : {noun} : {quoted}")
    return found


# --- role names -------------------------------------------------------------------------

_ROLE_ALIASES = {  # besides the Role values and ROLE_LABELS
    Role.ADJOINT: "adjoint|adjointe|adjointe au maire|maire adjoint",
    Role.SECRETARIAT: "secretariat|secretaire de mairie|dgs|directeur general des services"
    "|directrice generale des services",
    Role.DIRECTION_ASTREINTE: "directeur de cabinet|directrice de cabinet"
    "|sous prefet d'astreinte|sous prefete d'astreinte",
    Role.CHARGE_COMMUNICATION: "chargee de communication",
    Role.AGENT_RAPPEL: "liste de rappel",
    Role.PRESSE: "presse",
    Role.AGENT_CIP: "cip",
}
ROLES_BY_NAME: dict[str, Role] = {  # a normalised role cell -> its role
    **{normalise(role.value): role for role in Role},
    **{normalise(label): role for role, label in ROLE_LABELS.items()},
    **{alias: role for role, aliases in _ROLE_ALIASES.items() for alias in aliases.split("|")},
}
