"""Directory imports: the prefecture's contact file and the RNE mayors file (synthetic data).

Every number is in an ARCEP fiction block, every e-mail on a .example domain, every person
invented.
"""

from __future__ import annotations

import re

import pytest

from contacts.geography import load_communes
from contacts.importer import (
    ImportReport,
    UnreadableFile,
    import_contacts,
    import_rne_mayors,
    normalise,
    read_table,
)
from contacts.model import Contact, Directory, Role

HEADER = "Rôle;Nom;Code INSEE;Rang;Mobile;Fixe;Courriel;Formé"
RNE_HEADER = (
    "Code du département;Libellé du département;Code de la collectivité à statut particulier;"
    "Libellé de la collectivité à statut particulier;Code de la commune;Libellé de la commune;"
    "Nom de l'élu;Prénom de l'élu;Code sexe;Date de naissance;"
    "Code de la catégorie socio-professionnelle;Libellé de la catégorie socio-professionnelle;"
    "Date de début du mandat;Date de début de la fonction"
)


def csv_bytes(*lines: str, encoding: str = "utf-8", sep: str = ";") -> bytes:
    """CSV as French Excel writes it: CRLF line ends, `;` (or `sep`) between cells."""
    return "\r\n".join(line.replace(";", sep) for line in lines).encode(encoding) + b"\r\n"


def rne_line(
    insee: str, nom: str, prenom: str, *, dept: str = "42", naissance: str = "1961-03-14"
) -> str:
    """One line of the RNE mayors file (synthetic person)."""
    return (
        f"{dept};Loire;;;{insee};Commune;{nom};{prenom};M;{naissance};"
        "23;Cadres;2020-05-25;2020-05-25"
    )


@pytest.fixture(scope="module")
def base() -> Directory:
    return Directory(communes=load_communes())


def contact(directory: Directory, cid: str) -> Contact:
    return next(c for c in directory.contacts if c.id == cid)


def statuses(report: ImportReport) -> list[tuple[int, str]]:
    return [(line.line, line.status) for line in report.lines]


OFFICIALS = (
    HEADER,
    "Maire;Jeanne Exemple;42218;;06 39 98 12 34;04.65.71.00.01;maire@saint-etienne.example;oui",
    "Adjoint;Paul Fictif;42218;1;+33 6 39 98 12 35;;;non",
    "Secrétariat de mairie;;42218;;;04 65 71 00 02;accueil@saint-etienne.example;",
)

# --- reading the file -------------------------------------------------------------------------


def test_utf8_with_bom_file_imports_officials_in_e164(base: Directory) -> None:
    """A UTF-8 file with BOM imports maire, adjoint and secrétariat, numbers in E.164."""
    data = csv_bytes(*OFFICIALS, encoding="utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    result = import_contacts(data, base, source="annuaire.csv")
    assert result.report.ok
    assert statuses(result.report) == [(2, "imported"), (3, "imported"), (4, "imported")]
    maire = contact(result.directory, "maire-42218")
    assert maire.role == Role.MAIRE and maire.commune == "42218"
    assert (maire.mobile, maire.landline) == ("+33639981234", "+33465710001")
    assert maire.email == "maire@saint-etienne.example" and maire.trained
    adjoint = contact(result.directory, "adjoint1-42218")
    assert (adjoint.rank, adjoint.mobile, adjoint.trained) == (1, "+33639981235", False)
    secretariat = contact(result.directory, "secretariat-42218")
    assert secretariat.name == "secrétariat de mairie de Saint-Étienne"
    assert secretariat.landline == "+33465710002"


def test_semicolon_file_in_windows_1252_keeps_accents(base: Directory) -> None:
    """A `;` file in Windows-1252 decodes: accented headers, roles and names match."""
    data = csv_bytes(
        HEADER,
        "Chargé de communication;Hélène Brûlé;;;06 39 98 20 01;;;x",
        "Maire;Étienne Démo;42219;;06 39 98 20 02;;;",
        encoding="cp1252",
    )
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = import_contacts(data, base, source="cabinet.csv")
    assert result.report.ok, result.report
    charge = contact(result.directory, "charge_communication-helene-brule")
    assert charge.name == "Hélène Brûlé" and charge.role == Role.CHARGE_COMMUNICATION
    assert charge.trained
    assert contact(result.directory, "maire-42219").name == "Étienne Démo"


def test_comma_and_tab_delimiters_are_sniffed(base: Directory) -> None:
    """A `,` or tab-separated file is read as well as a `;` one."""
    for sep in (",", "\t"):
        data = csv_bytes(*OFFICIALS, sep=sep)
        result = import_contacts(data, base, source="annuaire.csv")
        assert result.report.counts["imported"] == 3, sep
    utf16 = csv_bytes(*OFFICIALS, sep="\t", encoding="utf-16")  # Excel's « Texte Unicode »
    assert import_contacts(utf16, base, source="annuaire.txt").report.counts["imported"] == 3


def test_read_table_numbers_lines_as_excel_and_skips_empty_lines() -> None:
    """Header is line 1; empty lines (`;;;` too) are skipped but still counted; cells stripped."""
    data = csv_bytes("Rôle ; Code_INSEE;E-mail", "", "maire; 42218 ;", ";;", "adjoint;42218;")
    headers, rows = read_table(data, source="x.csv")
    assert headers == ["role", "code insee", "e mail"]
    assert rows == [
        (3, {"role": "maire", "code insee": "42218", "e mail": ""}),
        (5, {"role": "adjoint", "code insee": "42218", "e mail": ""}),
    ]
    assert normalise("  Formé_le-Dimanche ") == "forme le dimanche"


def test_missing_required_column_raises_unreadable_naming_file_and_column(
    base: Directory,
) -> None:
    """A file without the « Rôle » column is refused as a whole, naming file and column."""
    data = csv_bytes("Nom;Mobile", "Jeanne Exemple;06 39 98 12 34")
    with pytest.raises(UnreadableFile, match=r"annuaire\.csv.*« Rôle »"):
        import_contacts(data, base, source="annuaire.csv")
    with pytest.raises(UnreadableFile, match="« Code de la commune »"):
        import_rne_mayors(csv_bytes("Nom de l'élu;Prénom de l'élu"), base, source="rne.csv")


def test_empty_or_undecodable_file_is_unreadable(base: Directory) -> None:
    """An empty file and bytes that are neither UTF-8 nor Windows-1252 are refused."""
    with pytest.raises(UnreadableFile, match="vide"):
        import_contacts(b"\r\n \r\n", base, source="vide.csv")
    with pytest.raises(UnreadableFile, match="encodage"):
        import_contacts(b"R\x81le;Nom\r\n", base, source="bizarre.csv")


# --- rejected lines ---------------------------------------------------------------------------


def reasons(data: bytes, base: Directory) -> dict[int, str]:
    report = import_contacts(data, base, source="t.csv").report
    return {line.line: line.reason for line in report.lines if line.status == "rejected"}


def test_bad_number_is_rejected_with_the_column_named(base: Directory) -> None:
    """A number that is too short is rejected; the reason names the column, not the number."""
    data = csv_bytes(HEADER, "Maire;Jeanne Exemple;42218;;06 39 98 12;;;")
    reason = reasons(data, base)[2]
    assert "« Mobile »" in reason and "longueur incorrecte" in reason
    assert "39 98" not in reason


def test_fixed_line_in_mobile_column_is_rejected(base: Directory) -> None:
    """A fixed line in the « Mobile » column is rejected: it cannot receive SMS."""
    data = csv_bytes(HEADER, "Maire;Jeanne Exemple;42218;;04 65 71 00 01;;;")
    assert "n'est pas un mobile" in reasons(data, base)[2]


def test_duplicate_id_rejects_the_second_line(base: Directory) -> None:
    """The same contact twice (same default id) rejects the second line: « doublon de la ligne 2 »."""
    data = csv_bytes(
        HEADER,
        "Maire;Jeanne Exemple;42218;;06 39 98 12 34;;;",
        "Maire;Jeanne Exemple;42218;;06 39 98 12 36;;;",
    )
    assert reasons(data, base) == {3: "doublon de la ligne 2"}
    explicit = csv_bytes(
        "Identifiant;" + HEADER,
        "presse-1;Vivier presse;Léa Test;;;;;presse@prefecture.example;",
        "presse-1;Média;Radio Fiction;;;;;redaction@radio.example;",
    )
    assert reasons(explicit, base) == {3: "doublon de la ligne 2"}


def test_duplicate_mobile_on_two_contacts_rejects_the_second(base: Directory) -> None:
    """The same mobile on two different contacts rejects the second line."""
    data = csv_bytes(
        HEADER,
        "Maire;Jeanne Exemple;42218;;06 39 98 12 34;;;",
        "Adjoint;Paul Fictif;42218;1;+33639981234;;;",
    )
    assert reasons(data, base) == {3: "numéro de mobile déjà donné à un autre contact (ligne 2)"}


def test_unknown_commune_code_is_rejected(base: Directory) -> None:
    """A code INSEE that is not a commune of the directory is rejected, code quoted."""
    data = csv_bytes(HEADER, "Maire;Jeanne Exemple;42999;;06 39 98 12 34;;;")
    assert reasons(data, base) == {2: "commune inconnue : 42999"}


def test_other_line_errors_are_rejected_with_french_reasons(base: Directory) -> None:
    """Unknown role, missing code, adjoint without rank, bad e-mail, unreachable, bad « Formé »."""
    data = csv_bytes(
        HEADER,
        "Garde champêtre;Jean Test;42218;;06 39 98 30 01;;;",
        "Maire;Jeanne Exemple;;;06 39 98 30 02;;;",
        "Adjoint;Paul Fictif;42218;;06 39 98 30 03;;;",
        "Vivier presse;Léa Test;;;;;pas-une-adresse;",
        "Agent d'astreinte;Marc Test;;;;;;",
        "Agent CIP;Zoé Test;;;06 39 98 30 04;;;peut-être",
        "Média;;;;;;redaction@radio.example;",
    )
    got = reasons(data, base)
    assert got[2] == "rôle inconnu : « Garde champêtre »"
    assert got[3].startswith("code INSEE manquant")
    assert got[4].startswith("rang de l'adjoint manquant")
    assert got[5] == "adresse électronique invalide (colonne « Courriel »)"
    assert got[6].startswith("aucun moyen de joindre ce contact")
    assert "« Formé »" in got[7]
    assert got[8] == "nom manquant (colonne « Nom »)"


def test_a_second_maire_for_a_commune_is_rejected(base: Directory) -> None:
    """A maire under another id than the commune's current maire is rejected, in file or directory."""
    first = import_contacts(csv_bytes(*OFFICIALS), base, source="v1.csv").directory
    data = csv_bytes(
        "Identifiant;" + HEADER,
        "jexemple;Maire;Jeanne Exemple;42218;;06 39 98 60 01;;;",
        "maire-a;Maire;Anne Test;42219;;06 39 98 60 02;;;",
        "maire-b;Maire;Bea Test;42219;;06 39 98 60 03;;;",
    )
    got = reasons(data, first)
    assert got[2] == "la commune 42218 a déjà un maire sous l'identifiant « maire-42218 »"
    assert got[4].startswith("un seul maire par commune") and "ligne 3" in got[4]


def test_no_reason_quotes_a_phone_number_or_an_email(base: Directory) -> None:
    """Reasons never carry personal data: no digits run of a number, no e-mail."""
    data = csv_bytes(
        HEADER,
        "Maire;Jeanne Exemple;42218;;06 39 98 12;;maire@saint-etienne.example;",
        "Maire;Jean Autre;42219;;04 65 71 00 01;;;",
        "Adjoint;Paul Fictif;42218;1;06 39 98 12 34;abc;;",
        "Adjoint;Paula Fictif;42218;2;06 39 98 40 01;;paula@mairie.example;",
        "Adjoint;Pia Fictif;42218;3;06 39 98 40 01;;pia@@mairie.example;",
        "Adjoint;Pio Fictif;42218;4;06 39 98 40 01;;;",
        "Maire;Rose Fictif;42999;;06 39 98 40 02;;rose@mairie.example;",
    )
    got = reasons(data, base)
    assert sorted(got) == [2, 3, 4, 6, 7, 8]
    for reason in got.values():
        assert not re.search(r"\d[\d .]{5,}", reason), reason
        assert "@" not in reason and "example" not in reason, reason


# --- all or nothing, re-import ----------------------------------------------------------------


MIXED = (
    HEADER,
    "Maire;Jeanne Exemple;42218;;06 39 98 12 34;;;",
    "Maire;Rose Fictif;42999;;06 39 98 12 37;;;",
    "Chargé de communication;Hélène Brûlé;;;06 39 98 20 01;;;",
)


def test_an_import_with_errors_changes_nothing(base: Directory) -> None:
    """One rejected line: the directory is the input one, the report still lists every line."""
    result = import_contacts(csv_bytes(*MIXED), base, source="t.csv")
    assert result.directory is base
    assert not result.report.ok
    assert statuses(result.report) == [(2, "imported"), (3, "rejected"), (4, "imported")]
    assert result.report.counts == {"imported": 2, "updated": 0, "unchanged": 0, "rejected": 1}


def test_keep_valid_applies_the_valid_lines_only(base: Directory) -> None:
    """With keep_valid, valid lines are applied and rejected ones skipped."""
    result = import_contacts(csv_bytes(*MIXED), base, source="t.csv", keep_valid=True)
    assert not result.report.ok
    ids = {c.id for c in result.directory.contacts}
    assert ids == {"maire-42218", "charge_communication-helene-brule"}
    assert result.directory.communes == base.communes


def test_reimport_reports_unchanged_then_updated(base: Directory) -> None:
    """Re-importing the same file is « unchanged »; a changed number is « updated »."""
    first = import_contacts(csv_bytes(*OFFICIALS), base, source="v1.csv").directory
    again = import_contacts(csv_bytes(*OFFICIALS), first, source="v1.csv")
    assert again.report.counts["unchanged"] == 3 and again.directory is first
    changed = list(OFFICIALS)
    changed[2] = "Adjoint;Paul Fictif;42218;1;06 39 98 12 99;;;oui"
    second = import_contacts(csv_bytes(*changed), first, source="v2.csv")
    assert statuses(second.report) == [(2, "unchanged"), (3, "updated"), (4, "unchanged")]
    adjoint = contact(second.directory, "adjoint1-42218")
    assert adjoint.mobile == "+33639981299" and adjoint.trained
    assert len(second.directory.contacts) == 3


def test_absent_column_keeps_the_directory_value(base: Directory) -> None:
    """A column missing from the file keeps what the directory has; an empty cell clears it."""
    first = import_contacts(csv_bytes(*OFFICIALS), base, source="v1.csv").directory
    no_email = csv_bytes("Rôle;Nom;Code INSEE;Mobile", "Maire;;42218;06 39 98 12 34")
    kept = import_contacts(no_email, first, source="v2.csv")
    assert kept.report.counts["unchanged"] == 1
    assert contact(kept.directory, "maire-42218").email == "maire@saint-etienne.example"
    cleared = import_contacts(
        csv_bytes("Rôle;Nom;Code INSEE;Mobile;Courriel", "Maire;;42218;06 39 98 12 34;"),
        first,
        source="v3.csv",
    )
    assert contact(cleared.directory, "maire-42218").email is None


# --- the RNE mayors file ----------------------------------------------------------------------


def test_rne_sets_names_and_creates_unreachable_maires(base: Directory) -> None:
    """The RNE names the maires: existing ones renamed, missing ones created with no number."""
    first = import_contacts(csv_bytes(*OFFICIALS), base, source="annuaire.csv").directory
    rne = csv_bytes(
        RNE_HEADER,
        rne_line("42218", "EXEMPLE", "Jeanne-Marie"),
        rne_line("42219", "FICTIF", "Luc", naissance="02/11/1958"),
    )
    result = import_rne_mayors(rne, first, source="elus-maires.csv")
    assert statuses(result.report) == [(2, "updated"), (3, "imported")]
    maire = contact(result.directory, "maire-42218")
    assert maire.name == "Jeanne-Marie EXEMPLE" and maire.mobile == "+33639981234"
    created = contact(result.directory, "maire-42219")
    assert created.name == "Luc FICTIF" and created.role == Role.MAIRE
    assert (created.mobile, created.landline, created.email) == (None, None, None)


def test_rne_ignores_other_departements_without_reporting_them(base: Directory) -> None:
    """Lines of other départements are ignored and absent from the report."""
    rne = csv_bytes(
        RNE_HEADER,
        rne_line("69123", "AILLEURS", "Anne", dept="69"),
        rne_line("42218", "EXEMPLE", "Jeanne"),
        rne_line("01001", "LOIN", "Yves", dept="01"),
    )
    result = import_rne_mayors(rne, base, source="rne.csv")
    assert statuses(result.report) == [(3, "imported")]
    assert [c.id for c in result.directory.contacts] == ["maire-42218"]


def test_rne_rejects_bad_dates_and_unknown_communes_of_the_departement(base: Directory) -> None:
    """A bad date or an unknown commune of our département rejects the line; nothing changes."""
    rne = csv_bytes(
        RNE_HEADER,
        rne_line("42218", "EXEMPLE", "Jeanne", naissance="31/02/1961"),
        rne_line("42999", "FICTIF", "Luc"),
        rne_line("42219", "FICTIF", "Lucie", naissance="1961-13-01"),
        rne_line("42219", "FICTIF", "Lucien"),
    )
    result = import_rne_mayors(rne, base, source="rne.csv")
    rejected = {line.line: line.reason for line in result.report.lines}
    assert rejected[2].startswith("date invalide dans la colonne « Date de naissance »")
    assert "31/02" not in rejected[2]
    assert rejected[3] == "commune inconnue : 42999"
    assert result.report.lines[2].status == "rejected"
    assert result.report.lines[3].status == "imported"
    assert result.directory is base
    kept = import_rne_mayors(rne, base, source="rne.csv", keep_valid=True).directory
    assert [c.name for c in kept.contacts] == ["Lucien FICTIF"]


def test_rne_never_keeps_birth_date_or_sex(base: Directory) -> None:
    """Neither the birth date nor the sex reaches the directory."""
    rne = csv_bytes(
        RNE_HEADER,
        rne_line("42218", "EXEMPLE", "Jeanne", naissance="1961-03-14"),
        rne_line("42219", "FICTIF", "Luc", naissance="02/11/1958"),
    )
    result = import_rne_mayors(rne, base, source="rne.csv")
    dumped = result.directory.model_dump_json() + result.report.model_dump_json()
    for birth in ("1961-03-14", "1961", "02/11/1958", "1958"):
        assert birth not in dumped
    assert '"M"' not in dumped and "sexe" not in dumped


def test_prefecture_file_keeps_the_rne_name_of_a_maire(base: Directory) -> None:
    """After the RNE, the prefecture's file gives the numbers but not the maire's name."""
    named = import_rne_mayors(
        csv_bytes(RNE_HEADER, rne_line("42218", "EXEMPLE", "Jeanne-Marie")), base, source="rne.csv"
    ).directory
    result = import_contacts(csv_bytes(*OFFICIALS), named, source="annuaire.csv")
    assert result.report.lines[0].status == "updated"
    assert "Répertoire national des élus" in result.report.lines[0].reason
    maire = contact(result.directory, "maire-42218")
    assert (maire.name, maire.mobile) == ("Jeanne-Marie EXEMPLE", "+33639981234")


def test_rne_and_prefecture_imports_commute(base: Directory) -> None:
    """Importing the RNE and the prefecture's file in either order gives the same directory."""
    annuaire = csv_bytes(
        *OFFICIALS,
        "Maire;;42219;;06 39 98 50 01;;;",
        "Chargé de communication;Hélène Brûlé;;;06 39 98 20 01;;;",
    )
    rne = csv_bytes(
        RNE_HEADER,
        rne_line("42218", "EXEMPLE", "Jeanne-Marie"),
        rne_line("42219", "FICTIF", "Luc"),
        rne_line("42001", "DEMO", "Anne"),
    )
    one = import_rne_mayors(
        rne, import_contacts(annuaire, base, source="a").directory, source="r"
    ).directory
    two = import_contacts(
        annuaire, import_rne_mayors(rne, base, source="r").directory, source="a"
    ).directory
    assert one == two
    assert contact(one, "maire-42219").name == "Luc FICTIF"
    assert contact(one, "maire-42001").mobile is None
    assert len(one.contacts) == 6
