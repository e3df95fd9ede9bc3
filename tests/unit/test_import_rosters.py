"""Imports of training records and on-call rosters (French Excel CSV, synthetic people)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from contacts.importer import ImportReport, UnreadableFile
from contacts.importer_rosters import import_rosters, import_training
from contacts.model import Contact, Directory, Role, RosterSlot, TrainingRecord

PARIS = ZoneInfo("Europe/Paris")
TRAINING_HEADER = "Identifiant;Nom;Type;Date;Durée;Avec activation CIP"
ROSTER_HEADER = "Rôle;Début;Fin;Titulaire;Suppléant"


def csv_bytes(*lines: str, encoding: str = "utf-8", sep: str = ";") -> bytes:
    """CSV as French Excel writes it: CRLF line ends, `;` (or `sep`) between cells."""
    return "\r\n".join(line.replace(";", sep) for line in lines).encode(encoding) + b"\r\n"


def person(cid: str, name: str, role: Role, n: int) -> Contact:
    return Contact(id=cid, name=name, role=role, mobile=f"+3363998{n:04d}", trained=True)


@pytest.fixture
def base() -> Directory:
    return Directory(
        contacts=(
            person("cell-dircab", "Hélène Lefèvre", Role.DIRECTION_ASTREINTE, 1),
            person("cell-sousprefet", "Jérôme Guérin", Role.DIRECTION_ASTREINTE, 2),
            person("cell-astreinte-1", "Élodie Noël", Role.AGENT_ASTREINTE, 3),
            person("cell-astreinte-2", "Karima Mercier", Role.AGENT_ASTREINTE, 4),
            person("cip-1", "Nadia Faure", Role.AGENT_CIP, 5),
            person("cip-2", "Julie Martin", Role.AGENT_CIP, 6),
            person("cip-3", "Julie Martin", Role.AGENT_CIP, 7),  # a namesake
            person("maire-42218", "Pierre Roux", Role.MAIRE, 8),
        )
    )


def statuses(report: ImportReport) -> list[tuple[int, str]]:
    return [(line.line, line.status) for line in report.lines]


def reasons(report: ImportReport) -> dict[int, str]:
    return {line.line: line.reason for line in report.lines if line.status == "rejected"}


# --- training records -----------------------------------------------------------------------


def test_good_training_file_imports_records_by_id_or_unique_name(base: Directory) -> None:
    """Lines name a contact by id or by a unique name; dates, durations and activation are read."""
    data = csv_bytes(
        TRAINING_HEADER,
        "cip-1;;Formation initiale;12/03/2025;1;non",
        ";Hélène Lefèvre;formation initiale;2024-01-15;1 j;",
        "cip-1;;Recyclage;12/03/2026;0,5;non",
        "cip-1;;Exercice;05/06/2026;;oui",
    )
    result = import_training(data, base, source="formations.csv")
    assert statuses(result.report) == [
        (2, "imported"),
        (3, "imported"),
        (4, "imported"),
        (5, "imported"),
    ]
    records = {(r.contact_id, r.kind): r for r in result.directory.training}
    assert records["cell-dircab", "formation_initiale"].on == date(2024, 1, 15)
    assert records["cip-1", "recyclage"].duration_days == 0.5
    assert records["cip-1", "exercice"].with_cip_activation is True
    assert records["cip-1", "exercice"].duration_days == 1.0  # default: one day
    assert result.directory.contacts == base.contacts


def test_reimport_reports_unchanged_then_updated(base: Directory) -> None:
    """The same file again changes nothing; a new duration for the same session is an update."""
    first = import_training(
        csv_bytes(TRAINING_HEADER, "cip-1;;recyclage;12/03/2026;1;non"), base, source="f.csv"
    ).directory
    again = import_training(
        csv_bytes(TRAINING_HEADER, "cip-1;;recyclage;12/03/2026;1;non"), first, source="f.csv"
    )
    assert statuses(again.report) == [(2, "unchanged")]
    assert again.directory is first
    changed = import_training(
        csv_bytes(TRAINING_HEADER, "cip-1;;recyclage;12/03/2026;0,5;non"), first, source="f.csv"
    )
    assert statuses(changed.report) == [(2, "updated")]
    assert [r.duration_days for r in changed.directory.training] == [0.5]


def test_training_file_with_bom_imports(base: Directory) -> None:
    """A "CSV UTF-8" file from Excel starts with a BOM: the first header is still recognised."""
    data = b"\xef\xbb\xbf" + csv_bytes(TRAINING_HEADER, "cip-2;;exercice;01/02/2026;1;oui")
    result = import_training(data, base, source="f.csv")
    assert statuses(result.report) == [(2, "imported")]


def test_training_rejections_bad_date_unknown_contact_ambiguous_name(base: Directory) -> None:
    """Bad date, unknown contact, namesakes, unknown type, activation outside an exercise."""
    data = csv_bytes(
        TRAINING_HEADER,
        "cip-1;;recyclage;31/02/2026;1;non",
        "cip-9;;recyclage;01/02/2026;1;non",
        ";Julie Martin;recyclage;01/02/2026;1;non",
        "cip-1;;stage;01/02/2026;1;non",
        "cip-1;;recyclage;01/02/2026;1;oui",
        "cip-1;;recyclage;01/02/2026;trois;non",
        "cip-1;;exercice;01/02/2026;1;peut-être",
        "cip-1;;recyclage;02/02/2026;1;non",
        "cip-1;;recyclage;02/02/2026;1;non",
    )
    result = import_training(data, base, source="f.csv")
    why = reasons(result.report)
    assert "date invalide" in why[2] and "« 31/02/2026 »" in why[2]
    assert "contact inconnu : « cip-9 »" in why[3]
    assert "plusieurs contacts" in why[4] and "cip-2, cip-3" in why[4]
    assert "type inconnu" in why[5]
    assert "qu'un exercice" in why[6]
    assert "durée invalide" in why[7]
    assert "oui ou non" in why[8]
    assert (9, "imported") in statuses(result.report)
    assert "doublon de la ligne 9" in why[10]
    assert result.directory is base  # all or nothing


def test_training_keep_valid_applies_the_valid_lines_only(base: Directory) -> None:
    """With keep_valid, valid lines go in and rejected ones are left out."""
    data = csv_bytes(
        TRAINING_HEADER, "cip-9;;recyclage;01/02/2026;1;non", "cip-1;;recyclage;01/02/2026;1;non"
    )
    result = import_training(data, base, source="f.csv", keep_valid=True)
    assert [r.contact_id for r in result.directory.training] == ["cip-1"]


def test_training_file_without_a_contact_column_is_unreadable(base: Directory) -> None:
    """Neither Identifiant nor Nom: the whole file is refused, naming the columns."""
    with pytest.raises(UnreadableFile, match="« Identifiant » ou « Nom »"):
        import_training(csv_bytes("Type;Date", "recyclage;01/02/2026"), base, source="f.csv")


# --- rosters ----------------------------------------------------------------------------


def test_good_roster_file_gives_aware_paris_times(base: Directory) -> None:
    """Local times of the prefecture become aware datetimes (08:00 in Paris is 07:00 UTC in winter)."""
    data = csv_bytes(
        ROSTER_HEADER,
        "directeur de cabinet / sous-préfet d'astreinte;23/11/2026 08:00;24/11/2026 08:00;"
        "cell-dircab;cell-sousprefet",
        "agent d'astreinte;23/11/2026 08:00;30/11/2026 08:00;Élodie Noël;",
        "CIP;23/11/2026 08:00;23/11/2026 20:00;cip-1;",
        "CIP;23/11/2026 08:00;23/11/2026 20:00;cip-2;",  # CIP agents answer side by side
    )
    result = import_rosters(data, base, source="astreintes.csv")
    assert [s for _, s in statuses(result.report)] == ["imported"] * 4
    first = result.directory.rosters[0]
    assert first.role == Role.DIRECTION_ASTREINTE
    assert first.starts == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    assert first.starts.utcoffset() is not None
    assert (first.contact_id, first.deputy_id) == ("cell-dircab", "cell-sousprefet")
    assert result.directory.rosters[1].contact_id == "cell-astreinte-1"  # found by name


def test_semicolon_roster_file_in_windows_1252_keeps_accents(base: Directory) -> None:
    """ "CSV (séparateur : point-virgule)" from French Excel is Windows-1252: accents survive."""
    data = csv_bytes(
        ROSTER_HEADER,
        "Agent d'astreinte;01/12/2026 08:00;02/12/2026 08:00;Élodie Noël;Karima Mercier",
        encoding="cp1252",
    )
    result = import_rosters(data, base, source="astreintes.csv")
    assert statuses(result.report) == [(2, "imported")]
    assert result.directory.rosters[0].deputy_id == "cell-astreinte-2"


def test_roster_rejections(base: Directory) -> None:
    """Bad date, unknown contact, end before start, overlap within the file, official, DST gap."""
    data = csv_bytes(
        ROSTER_HEADER,
        "agent d'astreinte;32/11/2026 08:00;24/11/2026 08:00;cell-astreinte-1;",
        "agent d'astreinte;23/11/2026 08:00;24/11/2026 08:00;cell-astreinte-9;",
        "agent d'astreinte;24/11/2026 08:00;23/11/2026 08:00;cell-astreinte-1;",
        "agent d'astreinte;23/11/2026 08:00;24/11/2026 08:00;cell-astreinte-1;",
        "agent d'astreinte;23/11/2026 20:00;24/11/2026 20:00;cell-astreinte-2;",
        "agent d'astreinte;25/11/2026 08:00;26/11/2026 08:00;maire-42218;",
        "maire;25/11/2026 08:00;26/11/2026 08:00;cell-astreinte-1;",
        "CIP;29/03/2026 02:30;29/03/2026 08:00;cip-1;",
        "CIP;23/11/2026;24/11/2026;cip-1;",
    )
    result = import_rosters(data, base, source="a.csv")
    why = reasons(result.report)
    assert "date et heure invalides" in why[2] and "« 32/11/2026 08:00 »" in why[2]
    assert "contact inconnu : « cell-astreinte-9 »" in why[3]
    assert "la fin (23/11/2026 08:00) n'est pas après le début (24/11/2026 08:00)" in why[4]
    assert (5, "imported") in statuses(result.report)
    assert "chevauche le créneau de la ligne 5" in why[6]
    assert "maire-42218" in why[7] and "ne peut pas figurer" in why[7]
    assert "pas de tableau d'astreinte pour le rôle « maire »" in why[8]
    assert "heure inexistante" in why[9]
    assert "JJ/MM/AAAA HH:MM" in why[10]
    assert result.directory is base
    assert "+33" not in " ".join(why.values())


def test_slot_overlapping_a_stored_slot_is_rejected_and_same_slot_is_updated(
    base: Directory,
) -> None:
    """Against the directory: the same slot with a new holder is an update, a shifted one overlaps."""

    def stored_slot(day: int) -> RosterSlot:
        return RosterSlot(
            role=Role.AGENT_ASTREINTE,
            starts=datetime(2026, 11, day, 8, tzinfo=PARIS),
            ends=datetime(2026, 11, day + 1, 8, tzinfo=PARIS),
            contact_id="cell-astreinte-1",
        )

    stored = base.model_copy(update={"rosters": (stored_slot(23), stored_slot(25))})
    data = csv_bytes(
        ROSTER_HEADER,
        "agent d'astreinte;23/11/2026 08:00;24/11/2026 08:00;cell-astreinte-2;cell-astreinte-1",
        "agent d'astreinte;25/11/2026 18:00;26/11/2026 18:00;cell-astreinte-2;",
    )
    result = import_rosters(data, stored, source="a.csv", keep_valid=True)
    assert statuses(result.report) == [(2, "updated"), (3, "rejected")]
    assert "chevauche un créneau déjà enregistré" in reasons(result.report)[3]
    assert "du 25/11/2026 08:00 au 26/11/2026 08:00" in reasons(result.report)[3]
    assert [(s.contact_id, s.deputy_id) for s in result.directory.rosters] == [
        ("cell-astreinte-2", "cell-astreinte-1"),
        ("cell-astreinte-1", None),
    ]


def test_roster_file_missing_a_column_is_unreadable(base: Directory) -> None:
    """A roster without a Fin column cannot be read; the file and column are named."""
    with pytest.raises(UnreadableFile, match="« Fin »"):
        import_rosters(
            csv_bytes("Rôle;Début;Titulaire", "CIP;23/11/2026 08:00;cip-1"), base, source="a.csv"
        )


def test_training_records_keep_other_fields_of_the_directory(base: Directory) -> None:
    """A training import leaves rosters alone, and a roster import leaves training alone."""
    record = TrainingRecord(contact_id="cip-1", kind="formation_initiale", on=date(2025, 1, 1))
    with_training = base.model_copy(update={"training": (record,)})
    result = import_rosters(
        csv_bytes(ROSTER_HEADER, "CIP;23/11/2026 08:00;23/11/2026 20:00;cip-1;"),
        with_training,
        source="a.csv",
    )
    assert result.directory.training == (record,)
    assert len(result.directory.rosters) == 1
