"""Communes of the département (code INSEE / COG) and validation of area selections."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from contacts.model import Commune

_BUNDLED = "communes-42-loire.json"


class UnknownCommune(ValueError):
    """Some INSEE codes of a selection name no known commune."""

    def __init__(self, codes: Sequence[str]) -> None:
        self.codes = tuple(codes)
        noun = "code INSEE inconnu" if len(self.codes) == 1 else "codes INSEE inconnus"
        super().__init__(f"{noun} : {', '.join(self.codes)}")


def _read_bundled() -> str:
    return resources.files("contacts").joinpath("data", _BUNDLED).read_text(encoding="utf-8")


def _code(value: Any) -> str:
    """An `{code, nom, ...}` object (or a bare code, or nothing) as its code."""
    if isinstance(value, dict):
        return str(value.get("code") or "")
    return "" if value is None else str(value)


def load_communes(path: Path | None = None) -> tuple[Commune, ...]:
    """Communes of a file in the shape of `contacts/data/communes-42-loire.json`.

    Without a path, the bundled Loire (42) file (Licence Ouverte / Etalab 2.0).
    `arrondissement` and `epci` keep the codes only.
    """
    text = _read_bundled() if path is None else path.read_text(encoding="utf-8")
    data = json.loads(text)
    return tuple(
        Commune(
            code_insee=str(item["code_insee"]),
            nom=str(item["nom"]),
            population=int(item.get("population") or 0),
            arrondissement=_code(item.get("arrondissement")),
            epci=_code(item.get("epci")),
        )
        for item in data["communes"]
    )


def loire_departement_name() -> str:
    """Name of the département of the bundled file."""
    return "Loire"


def resolve_codes(codes: Iterable[str], communes: Sequence[Commune]) -> tuple[str, ...]:
    """INSEE codes checked against the communes: spaces stripped, order kept, duplicates dropped.

    Raises UnknownCommune naming every unknown code.
    """
    known = {c.code_insee for c in communes}
    result: list[str] = []
    unknown: list[str] = []
    for raw in codes:
        code = "".join(raw.split())
        if code in known:
            if code not in result:
                result.append(code)
        elif code not in unknown:
            unknown.append(code)
    if unknown:
        raise UnknownCommune(unknown)
    return tuple(result)
