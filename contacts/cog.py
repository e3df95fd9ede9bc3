"""Importers of the official communes: `@etalab/decoupage-administratif` JSON and INSEE's COG CSV.

Every loader returns a `contacts.area.Geography`: the communes (communes actuelles and
arrondissements municipaux, as `Commune` entries) and the link of each arrondissement municipal
to its commune (69381 -> 69123). An arrondissement municipal without its own arrondissement
départemental, département or EPCI takes its commune's.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from contacts.area import Geography
from contacts.geography import load_communes
from contacts.model import Commune

_ETALAB_TYPES = frozenset({"commune-actuelle", "arrondissement-municipal"})
_ARM_ETALAB = "arrondissement-municipal"
_COG_TYPES = frozenset({"COM", "ARM"})
_COG_COLUMNS = ("TYPECOM", "COM", "DEP", "ARR", "LIBELLE", "COMPARENT")


class CogError(ValueError):
    """A file of communes that cannot be read (French message naming the file)."""

    def __init__(self, filename: str, problem: str) -> None:
        self.filename = filename
        self.problem = problem
        super().__init__(f"{filename} : {problem}")


def _text(data: bytes, filename: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CogError(filename, f"encodage non UTF-8 (octet {exc.start})") from exc


def _json_array(data: bytes, filename: str) -> list[dict[str, Any]]:
    try:
        parsed = json.loads(_text(data, filename))
    except json.JSONDecodeError as exc:
        raise CogError(
            filename, f"JSON invalide (ligne {exc.lineno}, colonne {exc.colno})"
        ) from exc
    if not isinstance(parsed, list):
        raise CogError(filename, "un tableau JSON d'objets est attendu")
    for index, item in enumerate(parsed, start=1):
        if not isinstance(item, dict):
            raise CogError(filename, f"l'élément n° {index} n'est pas un objet")
    return parsed


def _field(item: dict[str, Any], key: str, filename: str, index: int) -> str:
    value = item.get(key)
    if value is None or value == "":
        raise CogError(filename, f"l'élément n° {index} n'a pas de champ « {key} »")
    return str(value)


def _population(item: dict[str, Any], filename: str, index: int) -> int:
    value = item.get("population") or 0
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise CogError(filename, f"l'élément n° {index} a une population invalide") from exc


def _epci_members(epci_json: bytes, filename: str) -> tuple[dict[str, str], dict[str, str]]:
    """Commune code -> EPCI SIREN, and EPCI SIREN -> name."""
    membership: dict[str, str] = {}
    names: dict[str, str] = {}
    for index, item in enumerate(_json_array(epci_json, filename), start=1):
        code = _field(item, "code", filename, index)
        names[code] = str(item.get("nom") or "")
        members = item.get("membres")
        if not isinstance(members, list):
            raise CogError(filename, f"l'EPCI {code} n'a pas de liste « membres »")
        for member in members:
            if not isinstance(member, dict) or not member.get("code"):
                raise CogError(filename, f"l'EPCI {code} a un membre sans « code »")
            commune = str(member["code"])
            if membership.setdefault(commune, code) != code:
                raise CogError(
                    filename, f"la commune {commune} est membre de {membership[commune]} et {code}"
                )
    return membership, names


def _names(data: bytes, filename: str) -> dict[str, str]:
    """Code -> name of a JSON array of `{code, nom}` objects."""
    return {
        _field(item, "code", filename, index): str(item.get("nom") or "")
        for index, item in enumerate(_json_array(data, filename), start=1)
    }


def _geography(
    rows: Sequence[tuple[Commune, str, str]],
    filename: str,
    departement: str | None,
    *,
    departement_nom: str = "",
    arrondissement_names: dict[str, str] | None = None,
    epci_names: dict[str, str] | None = None,
) -> Geography:
    """Geography of (commune, département, parent code or "") rows; ARMs inherit from the parent."""
    by_code: dict[str, tuple[Commune, str]] = {}
    for commune, dep, parent in rows:
        if parent:
            continue
        if commune.code_insee in by_code:
            raise CogError(filename, f"code INSEE en double : {commune.code_insee}")
        by_code[commune.code_insee] = (commune, dep)
    kept: list[Commune] = []
    parents: dict[str, str] = {}
    for commune, own_dep, parent in rows:
        own, dep = commune, own_dep
        if parent:
            if parent not in by_code:
                raise CogError(
                    filename,
                    f"l'arrondissement municipal {commune.code_insee} est rattaché à {parent}, "
                    "commune absente du fichier",
                )
            parent_commune, parent_dep = by_code[parent]
            dep = own_dep or parent_dep
            own = commune.model_copy(
                update={
                    "arrondissement": commune.arrondissement or parent_commune.arrondissement,
                    "epci": commune.epci or parent_commune.epci,
                }
            )
            if own.code_insee in parents or own.code_insee in by_code:
                raise CogError(filename, f"code INSEE en double : {own.code_insee}")
        if departement is not None and dep != departement:
            continue
        if parent:
            parents[own.code_insee] = parent
        kept.append(own)
    if not kept:
        where = f"du département {departement} " if departement is not None else ""
        raise CogError(filename, f"aucune commune {where}dans le fichier")
    used_arr = {c.arrondissement for c in kept}
    used_epci = {c.epci for c in kept}
    return Geography.from_communes(
        kept,
        parents,
        departement=departement or "",
        departement_nom=departement_nom,
        arrondissement_names={
            k: v for k, v in (arrondissement_names or {}).items() if k in used_arr
        },
        epci_names={k: v for k, v in (epci_names or {}).items() if k in used_epci},
    )


def load_etalab(
    communes_json: bytes,
    epci_json: bytes | None = None,
    *,
    departement: str | None = None,
    arrondissements_json: bytes | None = None,
    departement_nom: str = "",
    filenames: tuple[str, str, str] = ("communes.json", "epci.json", "arrondissements.json"),
) -> Geography:
    """Communes of `@etalab/decoupage-administratif` (`data/communes.json`, `data/epci.json`).

    Keeps the communes actuelles and arrondissements municipaux, of one département if given;
    EPCI from the `membres` of epci.json; arrondissement names from arrondissements.json if given.
    """
    communes_name, epci_name, arr_name = filenames
    membership, epci_names = (
        _epci_members(epci_json, epci_name) if epci_json is not None else ({}, {})
    )
    rows: list[tuple[Commune, str, str]] = []
    for index, item in enumerate(_json_array(communes_json, communes_name), start=1):
        kind = _field(item, "type", communes_name, index)
        if kind not in _ETALAB_TYPES:
            continue
        code = _field(item, "code", communes_name, index)
        parent = _field(item, "commune", communes_name, index) if kind == _ARM_ETALAB else ""
        commune = Commune(
            code_insee=code,
            nom=_field(item, "nom", communes_name, index),
            population=_population(item, communes_name, index),
            arrondissement=str(item.get("arrondissement") or ""),
            epci=membership.get(code, ""),
        )
        rows.append((commune, str(item.get("departement") or ""), parent))
    arrondissement_names = (
        _names(arrondissements_json, arr_name) if arrondissements_json is not None else {}
    )
    return _geography(
        rows,
        communes_name,
        departement,
        departement_nom=departement_nom,
        arrondissement_names=arrondissement_names,
        epci_names=epci_names,
    )


def load_insee_cog(
    csv_bytes: bytes,
    *,
    departement: str | None = None,
    departement_nom: str = "",
    filename: str = "v_commune_2024.csv",
) -> Geography:
    """Communes of INSEE's COG CSV (`v_commune_AAAA.csv`): COM and ARM rows, no EPCI, no population.

    The name is LIBELLE, the arrondissement départemental ARR, the parent of an ARM COMPARENT.
    """
    text = _text(csv_bytes, filename)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip() for name in reader.fieldnames or ()]
    missing = [column for column in _COG_COLUMNS if column not in header]
    if missing:
        noun = "colonne manquante" if len(missing) == 1 else "colonnes manquantes"
        raise CogError(filename, f"{noun} : {', '.join(missing)}")
    reader.fieldnames = header
    rows: list[tuple[Commune, str, str]] = []
    for line, row in enumerate(reader, start=2):
        kind = (row.get("TYPECOM") or "").strip()
        if kind not in _COG_TYPES:
            continue
        code = (row.get("COM") or "").strip()
        nom = (row.get("LIBELLE") or "").strip()
        parent = (row.get("COMPARENT") or "").strip() if kind == "ARM" else ""
        if not code or not nom or (kind == "ARM" and not parent):
            raise CogError(filename, f"ligne {line} incomplète (COM, LIBELLE ou COMPARENT vide)")
        commune = Commune(code_insee=code, nom=nom, arrondissement=(row.get("ARR") or "").strip())
        rows.append((commune, (row.get("DEP") or "").strip(), parent))
    return _geography(rows, filename, departement, departement_nom=departement_nom)


def load_extract(path: Path | None = None) -> Geography:
    """Geography of a file shaped like `contacts/data/communes-42-loire.json` (bundled if no path).

    Same communes as `contacts.geography.load_communes`, plus the names of the département,
    arrondissements and EPCI.
    """
    if path is None:
        source = resources.files("contacts").joinpath("data", "communes-42-loire.json")
        filename = "communes-42-loire.json"
        text = source.read_text(encoding="utf-8")
    else:
        filename = path.name
        text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
        communes = load_communes(path)
        items: list[dict[str, Any]] = data["communes"]
        dep: dict[str, Any] = data.get("departement") or {}
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CogError(filename, f"fichier de communes illisible ({exc})") from exc
    arrondissement_names: dict[str, str] = {}
    epci_names: dict[str, str] = {}
    for item in items:
        for key, names in (("arrondissement", arrondissement_names), ("epci", epci_names)):
            value = item.get(key)
            if isinstance(value, dict) and value.get("code"):
                names[str(value["code"])] = str(value.get("nom") or "")
    return Geography.from_communes(
        communes,
        departement=str(dep.get("code") or ""),
        departement_nom=str(dep.get("nom") or ""),
        arrondissement_names=arrondissement_names,
        epci_names=epci_names,
    )
