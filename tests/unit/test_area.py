"""Area of an event: official commune importers, resolution of a selection, CLI syntax."""

from __future__ import annotations

from pathlib import Path

import pytest

from contacts.area import AreaError, AreaSpec, Geography, parse_area, resolve_area
from contacts.cog import CogError, load_etalab, load_extract, load_insee_cog
from contacts.geography import load_communes
from contacts.model import Commune

DATA = Path(__file__).resolve().parent / "data" / "area"
LYON_ARMS = tuple(f"6938{i}" for i in range(1, 10))
METROPOLE = "244200770"


@pytest.fixture(scope="module")
def loire() -> Geography:
    return Geography.from_communes(load_communes())


@pytest.fixture(scope="module")
def loire_named() -> Geography:
    return load_extract()


@pytest.fixture(scope="module")
def rhone() -> Geography:
    return load_etalab(
        (DATA / "communes.json").read_bytes(),
        (DATA / "epci.json").read_bytes(),
        departement="69",
        arrondissements_json=(DATA / "arrondissements.json").read_bytes(),
        departement_nom="Rhône",
    )


# --- Loire (bundled file) -------------------------------------------------------------------


def test_list_of_codes_resolves_in_given_order(loire: Geography) -> None:
    """Explicit INSEE codes come back as typed, spaces stripped, duplicates dropped."""
    area = resolve_area(AreaSpec(communes=("42218", " 42187", "42001", "42218")), loire)
    assert area.codes == ("42218", "42187", "42001")
    assert area.names["42218"] == "Saint-Étienne"
    assert area.by_source == {"communes désignées": ("42218", "42187", "42001")}


def test_arrondissement_of_montbrison_gives_all_its_communes(loire: Geography) -> None:
    """Arrondissement 421 selects its 132 communes, in code order."""
    area = resolve_area(AreaSpec(arrondissements=("421",)), loire)
    expected = sorted(c.code_insee for c in loire.communes if c.arrondissement == "421")
    assert len(area.codes) == 132
    assert list(area.codes) == expected
    assert "42147" in area.codes  # Montbrison


def test_epci_saint_etienne_metropole_gives_53_communes(loire: Geography) -> None:
    """EPCI 244200770 selects the 53 communes of Saint-Étienne Métropole."""
    area = resolve_area(AreaSpec(epci=(METROPOLE,)), loire)
    assert len(area.codes) == 53
    assert "42218" in area.codes
    assert list(area.by_source) == [f"EPCI {METROPOLE}"]


def test_whole_departement_gives_320_communes(loire: Geography) -> None:
    """The whole département is the 320 communes of the Loire, in code order."""
    area = resolve_area(AreaSpec(departement=True), loire)
    assert len(area.codes) == 320
    assert list(area.codes) == sorted(area.codes)


def test_union_is_deduplicated_in_order_of_first_appearance(loire: Geography) -> None:
    """Codes, then arrondissement, then EPCI: each commune once, where it first appears."""
    spec = AreaSpec(communes=("42218", "42147"), arrondissements=("421",), epci=(METROPOLE,))
    area = resolve_area(spec, loire)
    arr_421 = {c.code_insee for c in loire.communes if c.arrondissement == "421"}
    metropole = {c.code_insee for c in loire.communes if c.epci == METROPOLE}
    assert area.codes[:2] == ("42218", "42147")
    assert len(area.codes) == len(set(area.codes))
    assert set(area.codes) == {"42218"} | arr_421 | metropole
    assert len(area.by_source[f"EPCI {METROPOLE}"]) == 53  # each source keeps its full list
    first_epci_only = next(c for c in area.codes if c in metropole - arr_421 - {"42218"})
    assert area.codes.index(first_epci_only) > max(area.codes.index(c) for c in arr_421)


def test_union_with_departement_is_still_320(loire: Geography) -> None:
    """Adding the département to other parts never exceeds its 320 communes."""
    spec = AreaSpec(communes=("42218",), epci=(METROPOLE,), departement=True)
    area = resolve_area(spec, loire)
    assert len(area.codes) == 320
    assert area.codes[0] == "42218"


def test_unknown_codes_arrondissements_and_epci_are_all_listed_at_once(loire: Geography) -> None:
    """One error names every unknown code, arrondissement and EPCI."""
    spec = AreaSpec(
        communes=("42218", "99999", "42999"),
        arrondissements=("421", "429"),
        epci=(METROPOLE, "200000000"),
    )
    with pytest.raises(AreaError) as caught:
        resolve_area(spec, loire)
    error = caught.value
    assert error.communes == ("99999", "42999")
    assert error.arrondissements == ("429",)
    assert error.epci == ("200000000",)
    message = str(error)
    assert "codes INSEE inconnus : 99999, 42999" in message
    assert "arrondissement inconnu : 429" in message
    assert "EPCI inconnu : 200000000" in message


def test_empty_selection_is_an_error(loire: Geography) -> None:
    """A selection of nothing is refused in French."""
    with pytest.raises(AreaError, match="la zone ne contient aucune commune"):
        resolve_area(AreaSpec(), loire)


def test_summary_names_sources_and_first_communes(loire_named: Geography) -> None:
    """The confirmation text gives the count, the source with its name and the first five names."""
    area = resolve_area(AreaSpec(epci=(METROPOLE,)), loire_named)
    assert area.by_source.keys() == {f"EPCI {METROPOLE} Saint-Étienne Métropole"}
    summary = area.summary()
    assert summary.startswith("53 communes : EPCI 244200770 Saint-Étienne Métropole (53) — ")
    assert summary.endswith("Aboën, Andrézieux-Bouthéon, Caloire, Cellieu, Chagnon et 48 autres")


def test_summary_of_few_communes_lists_them_all(loire_named: Geography) -> None:
    """Up to five communes are all named; one commune is singular."""
    two = resolve_area(AreaSpec(communes=("42218", "42147")), loire_named)
    assert two.summary() == "2 communes : communes désignées (2) — Saint-Étienne et Montbrison"
    one = resolve_area(AreaSpec(communes=("42218",)), loire_named)
    assert one.summary() == "1 commune : communes désignées (1) — Saint-Étienne"
    dep = resolve_area(AreaSpec(departement=True, arrondissements=("421",)), loire_named)
    assert "arrondissement 421 Montbrison (132), département 42 Loire (320)" in dep.summary()
    assert dep.summary().startswith("320 communes : ")


def test_extract_has_the_same_communes_as_load_communes(loire_named: Geography) -> None:
    """`load_extract` is `load_communes` plus the names of département, arrondissements, EPCI."""
    assert loire_named.communes == load_communes()
    assert loire_named.departement == "42"
    assert loire_named.departement_nom == "Loire"
    assert loire_named.arrondissement_names == {
        "421": "Montbrison",
        "422": "Roanne",
        "423": "Saint-Étienne",
    }
    assert loire_named.epci_names[METROPOLE] == "Saint-Étienne Métropole"
    assert loire_named.parents == {}


# --- etalab and INSEE COG importers ---------------------------------------------------------


def test_etalab_keeps_communes_actuelles_and_arrondissements_municipaux(rhone: Geography) -> None:
    """Communes déléguées and associées are dropped, arrondissements municipaux kept and linked."""
    codes = [c.code_insee for c in rhone.communes]
    assert codes == ["69029", "69123", *LYON_ARMS, "69202", "69264", "69266"]
    assert "69900" not in codes and "69901" not in codes
    assert rhone.parents == dict.fromkeys(LYON_ARMS, "69123")
    assert rhone.arrondissements_municipaux("69123") == LYON_ARMS
    first = rhone.commune("69381")
    assert first is not None
    assert first.nom == "Lyon 1er Arrondissement"
    assert first.population == 29000


def test_etalab_filters_by_departement(rhone: Geography) -> None:
    """Only the communes of the requested département are kept; without filter, all."""
    assert all(c.code_insee.startswith("69") for c in rhone.communes)
    assert rhone.departement == "69"
    everything = load_etalab((DATA / "communes.json").read_bytes())
    assert everything.commune("42218") is not None
    assert len(everything.communes) == len(rhone.communes) + 1
    loire_only = load_etalab((DATA / "communes.json").read_bytes(), departement="42")
    assert [c.code_insee for c in loire_only.communes] == ["42218"]


def test_etalab_attaches_epci_and_arrondissement(rhone: Geography) -> None:
    """EPCI come from the membres of epci.json; arrondissements municipaux inherit from Lyon."""
    by_code = {c.code_insee: c for c in rhone.communes}
    assert by_code["69266"].epci == "200046977"
    assert by_code["69264"].epci == "200040590"
    assert all(by_code[arm].epci == "200046977" for arm in LYON_ARMS)
    assert all(by_code[arm].arrondissement == "691" for arm in LYON_ARMS)  # 69386..9 inherit
    assert rhone.epci_names == {
        "200046977": "Métropole de Lyon",
        "200040590": "CA Villefranche Beaujolais Saône",
    }  # the Loire EPCI has no kept member
    assert rhone.arrondissement_names == {"691": "Lyon", "692": "Villefranche-sur-Saône"}
    without_epci = load_etalab((DATA / "communes.json").read_bytes(), departement="69")
    assert all(c.epci == "" for c in without_epci.communes)


def test_insee_cog_keeps_com_and_arm(rhone: Geography) -> None:
    """The COG CSV gives the same communes and links, named from LIBELLE, without EPCI."""
    cog = load_insee_cog((DATA / "v_commune_2024.csv").read_bytes(), departement="69")
    assert [c.code_insee for c in cog.communes] == [
        "69029",
        "69123",
        "69202",
        "69264",
        "69266",
        *LYON_ARMS,
    ]
    assert {c.code_insee for c in cog.communes} == {c.code_insee for c in rhone.communes}
    assert cog.parents == rhone.parents
    by_code = {c.code_insee: c for c in cog.communes}
    assert by_code["69202"].nom == "Sainte-Foy-lès-Lyon"
    assert by_code["69264"].arrondissement == "692"
    assert all(c.epci == "" and c.population == 0 for c in cog.communes)
    everything = load_insee_cog((DATA / "v_commune_2024.csv").read_bytes())
    assert everything.commune("42218") == Commune(
        code_insee="42218", nom="Saint-Étienne", arrondissement="423"
    )


def test_insee_cog_accepts_semicolons_and_bom() -> None:
    """A COG file re-saved with a BOM and semicolons still loads."""
    text = (DATA / "v_commune_2024.csv").read_text(encoding="utf-8").replace(",", ";")
    cog = load_insee_cog(("\ufeff" + text).encode("utf-8"), departement="42")
    assert [c.nom for c in cog.communes] == ["Saint-Étienne"]


def test_lyon_expands_to_parent_and_its_arrondissements(rhone: Geography) -> None:
    """Lyon (69123) selects the mairie centrale and the nine mairies d'arrondissement."""
    area = resolve_area(AreaSpec(communes=("69123",)), rhone)
    assert area.codes == ("69123", *LYON_ARMS)
    assert area.names["69389"] == "Lyon 9e Arrondissement"


def test_an_arrondissement_municipal_alone_selects_only_itself(rhone: Geography) -> None:
    """69381 alone is the 1er arrondissement only, not Lyon nor the others."""
    area = resolve_area(AreaSpec(communes=("69381",)), rhone)
    assert area.codes == ("69381",)
    both = resolve_area(AreaSpec(communes=("69383", "69123")), rhone)
    assert both.codes == ("69383", "69123", *(c for c in LYON_ARMS if c != "69383"))


def test_epci_and_departement_include_arrondissements_municipaux(rhone: Geography) -> None:
    """An EPCI or the département containing Lyon lists its arrondissements right after it."""
    epci = resolve_area(AreaSpec(epci=("200046977",)), rhone)
    assert epci.codes == ("69029", "69123", *LYON_ARMS, "69202", "69266")
    dep = resolve_area(AreaSpec(departement=True), rhone)
    assert dep.codes == ("69029", "69123", *LYON_ARMS, "69202", "69264", "69266")
    assert list(dep.by_source) == ["département 69 Rhône"]
    arr = resolve_area(AreaSpec(arrondissements=("692",)), rhone)
    assert arr.codes == ("69264",)
    assert list(arr.by_source) == ["arrondissement 692 Villefranche-sur-Saône"]


def test_geography_without_departement_code_labels_all_communes() -> None:
    """Without a département code, the whole selection is labelled "toutes les communes"."""
    geography = load_etalab((DATA / "communes.json").read_bytes())
    area = resolve_area(AreaSpec(departement=True), geography)
    assert list(area.by_source) == ["toutes les communes"]


def test_missing_column_names_the_file_and_columns() -> None:
    """A COG CSV without LIBELLE and COMPARENT is refused, naming the file and the columns."""
    csv = b"TYPECOM,COM,REG,DEP,ARR,NCC\nCOM,69123,84,69,691,LYON\n"
    with pytest.raises(CogError) as caught:
        load_insee_cog(csv, filename="v_commune_2024.csv")
    assert str(caught.value) == ("v_commune_2024.csv : colonnes manquantes : LIBELLE, COMPARENT")


def test_bad_json_names_the_file() -> None:
    """Broken communes.json or epci.json is refused, naming the file."""
    good = (DATA / "communes.json").read_bytes()
    with pytest.raises(CogError, match=r"^communes\.json : JSON invalide"):
        load_etalab(good[:-20])
    with pytest.raises(CogError, match=r"^epci\.json : JSON invalide"):
        load_etalab(good, b'[{"code": ')
    with pytest.raises(CogError, match=r"^communes\.json : un tableau JSON"):
        load_etalab(b'{"communes": []}')
    with pytest.raises(CogError, match=r"^epci\.json : l'EPCI 1 n'a pas de liste « membres »"):
        load_etalab(good, b'[{"code": "1", "nom": "x"}]')
    with pytest.raises(CogError, match="champ « nom »"):
        load_etalab(b'[{"code": "69123", "type": "commune-actuelle"}]')


def test_unknown_departement_or_orphan_arrondissement_is_refused() -> None:
    """A filter keeping nothing, or an arrondissement municipal without its commune, is refused."""
    with pytest.raises(CogError, match="aucune commune du département 99"):
        load_etalab((DATA / "communes.json").read_bytes(), departement="99")
    orphan = (
        b'[{"code": "69381", "nom": "Lyon 1er", "type": "arrondissement-municipal",'
        b' "departement": "69", "commune": "69123"}]'
    )
    with pytest.raises(CogError, match="69381 est rattaché à 69123"):
        load_etalab(orphan)


def test_geography_rejects_duplicates_and_dangling_parents() -> None:
    """A geography with a code twice or a link to an unknown commune is invalid."""
    lyon = Commune(code_insee="69123", nom="Lyon")
    with pytest.raises(ValueError, match="en double : 69123"):
        Geography.from_communes([lyon, lyon])
    with pytest.raises(ValueError, match="69381 -> 69123"):
        Geography.from_communes([Commune(code_insee="69381", nom="Lyon 1er")], {"69381": "69123"})


# --- CLI syntax -----------------------------------------------------------------------------


def test_parse_area_reads_every_kind_of_token() -> None:
    """Codes, arr:, epci: and dep, with spaces and any case, in one comma-separated line."""
    spec = parse_area(" 42218, 42 187 ,ARR: 421, epci:244200770, 2a004, departement ,42218,")
    assert spec == AreaSpec(
        communes=("42218", "42187", "2A004"),
        arrondissements=("421",),
        epci=(METROPOLE,),
        departement=True,
    )
    assert parse_area("dep") == AreaSpec(departement=True)
    assert parse_area("Département") == AreaSpec(departement=True)
    assert parse_area(spec.as_text()) == spec


def test_parse_area_lists_every_bad_token() -> None:
    """Unreadable tokens are all named in one French error."""
    with pytest.raises(AreaError) as caught:
        parse_area("42218, 4221, arr:42, epci:123, region:84, Lyon")
    message = str(caught.value)
    assert message.startswith("éléments de zone non reconnus : « 4221 », « arr:42 », « epci:123 »")
    assert "« region:84 », « Lyon »" in message
    assert "arr:421" in message  # the expected syntax is recalled
    with pytest.raises(AreaError, match="zone vide"):
        parse_area(" , ")


def test_parsed_area_resolves_against_the_loire(loire: Geography) -> None:
    """What the operator types resolves directly."""
    area = resolve_area(parse_area("42218,42187,arr:421"), loire)
    assert area.codes[:2] == ("42218", "42187")
    assert len(area.codes) == 134
