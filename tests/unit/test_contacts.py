"""Communes, phone numbers, audience resolution and the synthetic demo directory."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from contacts.audience import resolve_audience
from contacts.demo import demo_directory, directory_for_benchmark
from contacts.geography import UnknownCommune, load_communes, loire_departement_name, resolve_codes
from contacts.model import Commune, Contact, Directory, Role
from contacts.phone import (
    InvalidPhoneNumber,
    fiction_number,
    is_fiction,
    is_mobile,
    mask,
    to_e164,
)
from playbooks.model import Audience

DATA = Path(__file__).resolve().parents[2] / "contacts" / "data"
FICTION = json.loads((DATA / "fiction-phone-numbers-fr.json").read_text(encoding="utf-8"))
FICTION_RE = re.compile(FICTION["regex_e164"])


@pytest.fixture(scope="module")
def communes() -> tuple[Commune, ...]:
    return load_communes()


@pytest.fixture(scope="module")
def demo(communes: tuple[Commune, ...]) -> Directory:
    return demo_directory(communes)


def _numbers(directory: Directory) -> list[str]:
    return [n for c in directory.contacts for n in (c.mobile, c.landline) if n is not None]


# --- geography ---------------------------------------------------------------------------


def test_bundled_loire_file_loads_320_communes_with_saint_etienne(
    communes: tuple[Commune, ...],
) -> None:
    """The bundled Loire file loads 320 communes; Saint-Étienne has its arrondissement and EPCI."""
    assert len(communes) == 320
    assert loire_departement_name() == "Loire"
    st_etienne = next(c for c in communes if c.code_insee == "42218")
    assert st_etienne.nom == "Saint-Étienne"
    assert st_etienne.arrondissement == "423"
    assert st_etienne.epci == "244200770"
    assert st_etienne.population > 100_000
    assert all(c.arrondissement and c.epci for c in communes)


def test_load_communes_reads_an_explicit_path(tmp_path: Path) -> None:
    """load_communes reads a file of the same shape given by path, keeping only the codes."""
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps(
            {
                "communes": [
                    {
                        "code_insee": "42001",
                        "nom": "Aboën",
                        "population": 481,
                        "arrondissement": {"code": "421", "nom": "Montbrison"},
                        "epci": {"code": "244200770", "nom": "Saint-Étienne Métropole"},
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    assert load_communes(path) == (
        Commune(
            code_insee="42001", nom="Aboën", population=481, arrondissement="421", epci="244200770"
        ),
    )


def test_resolve_codes_keeps_order_strips_and_dedupes(communes: tuple[Commune, ...]) -> None:
    """resolve_codes keeps the given order, strips spaces and drops duplicates."""
    assert resolve_codes([" 42218", "42187", "42 218", "42001"], communes) == (
        "42218",
        "42187",
        "42001",
    )
    assert resolve_codes([], communes) == ()


def test_resolve_codes_rejects_unknown_codes_listing_them(communes: tuple[Commune, ...]) -> None:
    """resolve_codes rejects unknown codes with a French message listing every one of them."""
    with pytest.raises(UnknownCommune) as info:
        resolve_codes(["42218", "69123", "99999", "69123"], communes)
    message = str(info.value)
    assert "inconnus" in message
    assert "69123" in message
    assert "99999" in message
    assert info.value.codes == ("69123", "99999")
    assert isinstance(info.value, ValueError)


# --- phone -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("06 39 98 12 34", "+33639981234"),
        ("06.39.98.12.34", "+33639981234"),
        ("+33 6 39 98 12 34", "+33639981234"),
        ("0033639981234", "+33639981234"),
        ("+33639980001", "+33639980001"),
        ("04 65 71 00 01", "+33465710001"),
    ],
)
def test_to_e164_accepts_each_written_form(raw: str, expected: str) -> None:
    """to_e164 normalises national, dotted, international and 00-prefixed forms to E.164."""
    assert to_e164(raw) == expected


@pytest.mark.parametrize(
    "raw", ["06 39 98 12", "06 39 98 12 34 56", "00 00 00 00 00", "pas un numéro", ""]
)
def test_to_e164_rejects_invalid_numbers_without_showing_them(raw: str) -> None:
    """Invalid numbers are rejected with a French message that contains none of their digits."""
    with pytest.raises(InvalidPhoneNumber) as info:
        to_e164(raw)
    message = str(info.value)
    assert message.startswith("numéro de téléphone invalide")
    assert not re.search(r"\d", message)
    assert isinstance(info.value, ValueError)


def test_fiction_mobile_is_accepted_and_is_mobile_tells_mobile_from_fixed() -> None:
    """The fiction mobile block is accepted and mobile; fixed lines are not mobiles."""
    fiction_mobile = to_e164(FICTION["examples"]["mobile"])
    assert is_fiction(fiction_mobile)
    assert is_mobile(fiction_mobile)
    assert is_mobile(to_e164("06 39 98 12 34"))
    assert not is_mobile(to_e164("04 65 71 12 34"))
    assert not is_mobile(FICTION["examples"]["fixed_sud_est"])
    assert not is_fiction("+3363998123")  # one digit short of the block


def test_mask_shows_only_the_last_two_digits() -> None:
    """mask hides every digit but the zone digit and the last two."""
    assert mask("+33639980001") == "+33 6 •• •• •• 01"
    assert mask("+33465710042") == "+33 4 •• •• •• 42"
    assert "7946" not in mask("+442079460958")


def test_fiction_numbers_stay_in_arcep_blocks_and_are_unique() -> None:
    """fiction_number stays inside the ARCEP fiction blocks, never repeats, stops at the end."""
    mobiles = [fiction_number(i, mobile=True) for i in range(10_000)]
    fixed = [fiction_number(i, mobile=False) for i in range(50_000)]
    assert all(FICTION_RE.match(n) for n in mobiles + fixed)
    assert all(is_mobile(n) for n in mobiles)
    assert not any(is_mobile(n) for n in fixed)
    assert len(set(mobiles + fixed)) == 60_000
    assert {n[:8] for n in fixed} == set(FICTION["e164_prefixes"]) - {"+3363998"}
    for index, mobile in ((10_000, True), (50_000, False), (-1, True), (-1, False)):
        with pytest.raises(ValueError, match="hors plage"):
            fiction_number(index, mobile=mobile)


# --- demo directory ----------------------------------------------------------------------


def test_demo_directory_is_deterministic_for_a_seed(communes: tuple[Commune, ...]) -> None:
    """The demo directory is the same for the same seed and differs for another seed."""
    assert demo_directory(communes, seed=7) == demo_directory(communes, seed=7)
    assert demo_directory(communes, seed=7) != demo_directory(communes, seed=8)


def test_demo_directory_uses_only_unique_fiction_numbers_and_reserved_domains(
    demo: Directory,
) -> None:
    """Every demo number is a unique ARCEP fiction number; every e-mail is on a reserved domain."""
    numbers = _numbers(demo)
    assert numbers
    assert all(FICTION_RE.match(n) for n in numbers)
    assert len(numbers) == len(set(numbers))
    for contact in demo.contacts:
        if contact.mobile is not None:
            assert is_mobile(contact.mobile)
        if contact.landline is not None:
            assert not is_mobile(contact.landline)
    emails = [c.email for c in demo.contacts]
    assert all(e is not None and re.fullmatch(r"[a-z0-9.]+@[a-z0-9-]+\.example", e) for e in emails)
    assert len({c.id for c in demo.contacts}) == len(demo.contacts)


def test_demo_directory_officials_per_commune(
    demo: Directory, communes: tuple[Commune, ...]
) -> None:
    """Every commune has a maire, two ranked adjoints and a secrétariat with fixed line only."""
    maires = {c.commune: c for c in demo.with_role(Role.MAIRE)}
    assert set(maires) == {c.code_insee for c in communes}
    st_etienne = maires["42218"]
    assert st_etienne.id == "maire-42218"
    assert st_etienne.mobile and st_etienne.landline and st_etienne.email
    adjoints = [c for c in demo.contacts if c.role == Role.ADJOINT and c.commune == "42218"]
    assert [(a.id, a.rank) for a in adjoints] == [("adjoint1-42218", 1), ("adjoint2-42218", 2)]
    assert all(a.mobile and a.landline is None for a in adjoints)
    secretariat = next(c for c in demo.contacts if c.id == "secretariat-42218")
    assert secretariat.role == Role.SECRETARIAT
    assert secretariat.mobile is None and secretariat.landline is not None


def test_demo_directory_cell_has_trained_and_untrained_recall_agents(demo: Directory) -> None:
    """The cell has its roles and counts; the recall list holds 4 trained and 2 untrained agents."""
    counts = {role: len(demo.with_role(role)) for role in Role}
    assert counts[Role.DIRECTION_ASTREINTE] == 2
    assert counts[Role.AGENT_ASTREINTE] == 2
    assert counts[Role.CHARGE_COMMUNICATION] == 3
    assert counts[Role.AGENT_RAPPEL] == 6
    assert counts[Role.PRESSE] == 3
    assert counts[Role.MEDIA] == 8
    assert counts[Role.AGENT_CIP] == 4
    rappel = demo.with_role(Role.AGENT_RAPPEL)
    assert sum(a.trained for a in rappel) == 4
    assert sum(not a.trained for a in rappel) == 2
    for role in (Role.DIRECTION_ASTREINTE, Role.AGENT_ASTREINTE, Role.CHARGE_COMMUNICATION):
        assert all(c.trained for c in demo.with_role(role))
    ids = {c.id for c in demo.contacts}
    assert {"cell-dircab", "cell-sousprefet", "cell-rappel-3", "presse-1", "media-4"} <= ids
    for media in demo.with_role(Role.MEDIA):
        assert "(fictif)" in media.name
        assert media.mobile is None and media.landline and media.email


def test_directory_for_benchmark_scales_and_stays_in_fiction_blocks() -> None:
    """The benchmark directory holds n maires with unique fiction numbers, and refuses > 60 000."""
    small = directory_for_benchmark(3)
    assert [c.code_insee for c in small.communes] == ["B00001", "B00002", "B00003"]
    assert all(c.mobile and is_mobile(c.mobile) for c in small.contacts)
    big = directory_for_benchmark(50_000)
    assert len(big.communes) == len(big.contacts) == 50_000
    numbers = _numbers(big)
    assert len(numbers) == len(set(numbers)) == 50_000
    assert all(FICTION_RE.match(n) for n in numbers)
    with pytest.raises(ValueError, match="hors plage"):
        directory_for_benchmark(60_001)


# --- audience ----------------------------------------------------------------------------


def _contact(cid: str, role: Role, commune: str | None = None, rank: int = 0) -> Contact:
    return Contact(id=cid, name=cid.upper(), role=role, commune=commune, rank=rank)


def test_resolve_audience_filters_officials_by_commune_in_the_given_order(
    demo: Directory,
) -> None:
    """Officials only for the given communes, in their order: maire, adjoints, secrétariat."""
    found = resolve_audience(
        [Audience.MAIRES, Audience.ADJOINTS, Audience.SECRETARIATS], demo, ["42218", "42187"]
    )
    assert [c.id for c in found] == [
        "maire-42218",
        "adjoint1-42218",
        "adjoint2-42218",
        "secretariat-42218",
        "maire-42187",
        "adjoint1-42187",
        "adjoint2-42187",
        "secretariat-42187",
    ]
    maires = resolve_audience([Audience.MAIRES], demo, ["42187", "42001", "42218", "42187"])
    assert [c.id for c in maires] == ["maire-42187", "maire-42001", "maire-42218"]
    assert resolve_audience([Audience.MAIRES], demo, []) == ()


def test_resolve_audience_keeps_cell_and_press_regardless_of_commune(demo: Directory) -> None:
    """Cell, press pool and media are resolved whatever the communes, by role then name."""
    found = resolve_audience(
        [Audience.MEDIAS, Audience.LISTE_RAPPEL, Audience.VIVIER_PRESSE], demo, []
    )
    roles = [c.role for c in found]
    assert (
        roles
        == [Role.CHARGE_COMMUNICATION] * 3
        + [Role.AGENT_RAPPEL] * 6
        + [Role.PRESSE] * 3
        + [Role.MEDIA] * 8
    )
    media_names = [c.name for c in found if c.role == Role.MEDIA]
    assert media_names == sorted(media_names)


def test_resolve_audience_public_is_empty_and_no_duplicates() -> None:
    """The public resolves to nobody; repeated audiences and contacts give no duplicates."""
    maire = _contact("maire-a", Role.MAIRE, "42218")
    adjoint2 = _contact("adjoint2-a", Role.ADJOINT, "42218", rank=2)
    adjoint1 = _contact("adjoint1-a", Role.ADJOINT, "42218", rank=1)
    stray = _contact("adjoint-x", Role.ADJOINT, None, rank=1)
    dircab = _contact("cell-dircab", Role.DIRECTION_ASTREINTE)
    directory = Directory(contacts=(dircab, adjoint2, maire, adjoint1, stray, maire))
    assert resolve_audience([Audience.PUBLIC], directory, ["42218"]) == ()
    found = resolve_audience(
        [Audience.PUBLIC, Audience.ADJOINTS, Audience.MAIRES, Audience.MAIRES,
         Audience.DIRECTION_ASTREINTE],
        directory,
        ["42218", "42218"],
    )  # fmt: skip
    assert [c.id for c in found] == ["maire-a", "adjoint1-a", "adjoint2-a", "cell-dircab"]
