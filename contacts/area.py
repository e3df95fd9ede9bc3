"""The area of an event: communes, arrondissements, EPCI or the whole département, resolved.

Rules (issue #4):

- the result is the union of every part of the selection, without duplicates, in the order of
  first appearance: explicit communes (as typed), then arrondissements, then EPCI, then the
  département (each of these three in code order);
- a commune divided into arrondissements municipaux (Paris 75056, Lyon 69123, Marseille 13055)
  stands for itself *and* its arrondissements municipaux, listed right after it, so that both the
  mairie centrale and the mairies d'arrondissement are targets; an arrondissement municipal given
  on its own (69381) selects only itself;
- every unknown code, arrondissement or EPCI is reported at once; an empty result is an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contacts.model import Commune


class AreaError(ValueError):
    """An area that cannot be resolved or parsed (French message)."""

    def __init__(
        self,
        message: str,
        *,
        communes: Sequence[str] = (),
        arrondissements: Sequence[str] = (),
        epci: Sequence[str] = (),
    ) -> None:
        self.communes = tuple(communes)
        self.arrondissements = tuple(arrondissements)
        self.epci = tuple(epci)
        super().__init__(message)

    @classmethod
    def unknown(
        cls, communes: Sequence[str], arrondissements: Sequence[str], epci: Sequence[str]
    ) -> AreaError:
        """The error naming every unknown commune, arrondissement and EPCI of a selection."""
        parts = []
        if communes:
            noun = "code INSEE inconnu" if len(communes) == 1 else "codes INSEE inconnus"
            parts.append(f"{noun} : {', '.join(communes)}")
        if arrondissements:
            noun = (
                "arrondissement inconnu"
                if len(arrondissements) == 1
                else "arrondissements inconnus"
            )
            parts.append(f"{noun} : {', '.join(arrondissements)}")
        if epci:
            noun = "EPCI inconnu" if len(epci) == 1 else "EPCI inconnus"
            parts.append(f"{noun} : {', '.join(epci)}")
        return cls(
            "zone non reconnue — " + " ; ".join(parts),
            communes=communes,
            arrondissements=arrondissements,
            epci=epci,
        )


class Geography(BaseModel):
    """The communes an area is chosen from, with the arrondissements municipaux and known names."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    communes: tuple[Commune, ...]
    parents: dict[str, str] = Field(default_factory=dict)  # arrondissement municipal -> commune
    departement: str = ""  # code of the département, when the geography is one département
    departement_nom: str = ""
    arrondissement_names: dict[str, str] = Field(default_factory=dict)  # "421" -> "Montbrison"
    epci_names: dict[str, str] = Field(default_factory=dict)  # SIREN -> name

    @model_validator(mode="after")
    def _consistent(self) -> Geography:
        seen: set[str] = set()
        duplicates: set[str] = set()
        for commune in self.communes:
            (duplicates if commune.code_insee in seen else seen).add(commune.code_insee)
        if duplicates:
            raise ValueError(f"codes INSEE en double : {', '.join(sorted(duplicates))}")
        dangling = sorted(
            f"{arm} -> {parent}"
            for arm, parent in self.parents.items()
            if arm not in seen or parent not in seen or parent in self.parents
        )
        if dangling:
            raise ValueError(
                f"rattachement d'arrondissement municipal invalide : {', '.join(dangling)}"
            )
        return self

    @classmethod
    def from_communes(
        cls,
        communes: Iterable[Commune],
        parents: Mapping[str, str] | None = None,
        *,
        departement: str = "",
        departement_nom: str = "",
        arrondissement_names: Mapping[str, str] | None = None,
        epci_names: Mapping[str, str] | None = None,
    ) -> Geography:
        """A geography of these communes (e.g. `contacts.geography.load_communes()`)."""
        return cls(
            communes=tuple(communes),
            parents=dict(parents or {}),
            departement=departement,
            departement_nom=departement_nom,
            arrondissement_names=dict(arrondissement_names or {}),
            epci_names=dict(epci_names or {}),
        )

    def commune(self, code_insee: str) -> Commune | None:
        """The commune (or arrondissement municipal) with this code, if known."""
        return next((c for c in self.communes if c.code_insee == code_insee), None)

    def arrondissements_municipaux(self, code_insee: str) -> tuple[str, ...]:
        """Codes of the arrondissements municipaux of a commune, in code order (often none)."""
        return tuple(sorted(arm for arm, parent in self.parents.items() if parent == code_insee))


class AreaSpec(BaseModel):
    """What the operator selected: INSEE codes, arrondissements, EPCI, the whole département."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    communes: tuple[str, ...] = ()
    arrondissements: tuple[str, ...] = ()  # codes of arrondissements départementaux ("421")
    epci: tuple[str, ...] = ()  # SIREN of EPCI
    departement: bool = False

    def as_text(self) -> str:
        """The selection in the CLI syntax read by `parse_area`."""
        tokens = [
            *self.communes,
            *(f"arr:{a}" for a in self.arrondissements),
            *(f"epci:{e}" for e in self.epci),
            *(["dep"] if self.departement else []),
        ]
        return ",".join(tokens)


class ResolvedArea(BaseModel):
    """The communes of an area, shown before T0 is confirmed and frozen with the crisis."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    codes: tuple[str, ...]
    names: dict[str, str]  # code INSEE -> name
    by_source: dict[str, tuple[str, ...]]  # "EPCI 244200770 Saint-Étienne Métropole" -> codes

    def summary(self, shown: int = 5) -> str:
        """French text for the confirmation screen: count, sources and the first names."""
        count = len(self.codes)
        noun = "commune" if count == 1 else "communes"
        sources = ", ".join(f"{label} ({len(codes)})" for label, codes in self.by_source.items())
        names = [self.names.get(code, code) for code in self.codes]
        if count <= shown:
            listed = names[0] if count == 1 else f"{', '.join(names[:-1])} et {names[-1]}"
        else:
            rest = count - shown
            autre = "autre" if rest == 1 else "autres"
            listed = f"{', '.join(names[:shown])} et {rest} {autre}"
        return f"{count} {noun} : {sources} — {listed}"


def _clean(code: str) -> str:
    return "".join(code.split()).upper()


def _label(kind: str, code: str, name: str) -> str:
    return f"{kind} {code} {name}".rstrip()


Sources = list[tuple[str, list[str]]]  # (label, member codes) in the order of the module doc


def _pick(raws: Iterable[str], members_of: Callable[[str], list[str]]) -> tuple[Sources, list[str]]:
    """(code, members) of every code that has members, and the unknown codes (once each)."""
    found: Sources = []
    unknown: list[str] = []
    for raw in raws:
        code = _clean(raw)
        members = members_of(code)
        if members:
            found.append((code, members))
        elif code not in unknown:
            unknown.append(code)
    return found, unknown


def _sources(spec: AreaSpec, geography: Geography) -> Sources:
    """The labelled parts of a selection; AreaError naming every unknown code."""
    known = {c.code_insee for c in geography.communes}
    ordered = sorted(geography.communes, key=lambda c: c.code_insee)
    explicit, unknown_communes = _pick(spec.communes, lambda code: [code] if code in known else [])
    arrondissements, unknown_arrondissements = _pick(
        spec.arrondissements,
        lambda code: [c.code_insee for c in ordered if c.arrondissement == code],
    )
    epci, unknown_epci = _pick(
        spec.epci, lambda code: [c.code_insee for c in ordered if c.epci == code]
    )
    if unknown_communes or unknown_arrondissements or unknown_epci:
        raise AreaError.unknown(unknown_communes, unknown_arrondissements, unknown_epci)
    sources: Sources = []
    if explicit:
        sources.append(("communes désignées", [code for code, _ in explicit]))
    names = geography.arrondissement_names
    sources += [(_label("arrondissement", c, names.get(c, "")), m) for c, m in arrondissements]
    sources += [(_label("EPCI", c, geography.epci_names.get(c, "")), m) for c, m in epci]
    if spec.departement:
        label = _label("département", geography.departement, geography.departement_nom)
        if label == "département":
            label = "toutes les communes"
        sources.append((label, [c.code_insee for c in ordered]))
    return sources


def resolve_area(spec: AreaSpec, geography: Geography) -> ResolvedArea:
    """The communes of a selection, in stable order and without duplicates (see module doc).

    Raises AreaError naming every unknown code, arrondissement and EPCI, or if nothing is selected.
    """
    children: dict[str, list[str]] = {}
    for arm, parent in sorted(geography.parents.items()):
        children.setdefault(parent, []).append(arm)
    by_source: dict[str, dict[str, None]] = {}  # ordered sets
    for label, members in _sources(spec, geography):
        bucket = by_source.setdefault(label, {})
        for code in members:
            bucket[code] = None
            bucket.update(dict.fromkeys(children.get(code, ())))
    codes: dict[str, None] = {}
    for bucket in by_source.values():
        codes.update(bucket)
    if not codes:
        raise AreaError("la zone ne contient aucune commune")
    by_code = {c.code_insee: c for c in geography.communes}
    return ResolvedArea(
        codes=tuple(codes),
        names={code: by_code[code].nom for code in codes},
        by_source={label: tuple(bucket) for label, bucket in by_source.items()},
    )


_COMMUNE = re.compile(r"(?:\d{5}|2[AB]\d{3})")
_ARRONDISSEMENT = re.compile(r"(?:\d{2,3}|2[AB])\d")
_EPCI = re.compile(r"\d{9}")
_DEPARTEMENT = frozenset({"DEP", "DEPARTEMENT", "DÉPARTEMENT"})
_SYNTAX = "attendu : codes INSEE (42218), arr:421, epci:244200770 ou dep"


def parse_area(text: str) -> AreaSpec:
    """An area in the CLI syntax: comma-separated "42218", "arr:421", "epci:244200770", "dep".

    Spaces are ignored; raises AreaError naming every token it does not understand.
    """
    communes: list[str] = []
    arrondissements: list[str] = []
    epci: list[str] = []
    departement = False
    bad: list[str] = []
    for raw in text.split(","):
        token = _clean(raw)
        if not token:
            continue
        kind, _, value = token.rpartition(":")
        if not kind and value in _DEPARTEMENT:
            departement = True
        elif not kind and _COMMUNE.fullmatch(value):
            communes.append(value)
        elif kind == "ARR" and _ARRONDISSEMENT.fullmatch(value):
            arrondissements.append(value)
        elif kind == "EPCI" and _EPCI.fullmatch(value):
            epci.append(value)
        else:
            bad.append(f"« {raw.strip()} »")
    if bad:
        noun = "élément de zone non reconnu" if len(bad) == 1 else "éléments de zone non reconnus"
        raise AreaError(f"{noun} : {', '.join(bad)} ({_SYNTAX})")
    if not (communes or arrondissements or epci or departement):
        raise AreaError(f"zone vide ({_SYNTAX})")
    return AreaSpec(
        communes=tuple(dict.fromkeys(communes)),
        arrondissements=tuple(dict.fromkeys(arrondissements)),
        epci=tuple(dict.fromkeys(epci)),
        departement=departement,
    )
