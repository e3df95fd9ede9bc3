"""The kinds of événement majeur: one row per kind, with everything the code says of a kind.

A new kind is one `EventKind` member and one `KINDS` row here, plus its playbook
(`playbooks/library/<kind>.toml`) and its message templates (`playbooks/templates/`). Nothing
else switches on the kind: the label, the CAP categories, the CIAV rule and the words the
exercise simulators (journalists, CIP callers) use are read from the row. A kind without a row
is refused when the playbooks or a scenario are loaded, with a French message naming this file.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import BeforeValidator

__all__ = [
    "KINDS",
    "EventKind",
    "ExerciseFlavour",
    "KindRow",
    "KnownEventKind",
    "UnknownEventKind",
    "kind_row",
    "refuse_unknown_kind",
    "unknown_kind_reason",
]


class EventKind(StrEnum):
    """Kinds of événement majeur a playbook exists for (each has its row in `KINDS`)."""

    INONDATION = "inondation"
    ACCIDENT_INDUSTRIEL = "accident_industriel"
    NUCLEAIRE = "nucleaire"
    ATTENTAT = "attentat"
    TEMPETE = "tempete"
    SATER = "sater"  # sauvetage aéroterrestre

    @property
    def label(self) -> str:
        """French label."""
        return kind_row(self).label


@dataclass(frozen=True)
class ExerciseFlavour:
    """How simulated journalists and CIP callers speak of the event in an exercise."""

    event: str  # the event itself: "… notre couverture de {event}", "… envisagée après {event}"
    events: str  # its consequences: "Quelles mesures … face à {events} ?"
    hashtag: str  # closes a simulated mention on the social networks
    rumour: str  # what a worried caller read online (a clause: "un barrage aurait cédé")


@dataclass(frozen=True)
class KindRow:
    """One kind of event: its French label, its CAP 1.2 categories, its rules and its words."""

    label: str
    cap_categories: tuple[str, ...]  # CAP 1.2 §3.2.2 ("Met" covers floods and storms)
    flavour: ExerciseFlavour
    ciav: bool = False  # the CIAV (victims' hotline) number is relayed: attentat only


KINDS: dict[EventKind, KindRow] = {
    EventKind.INONDATION: KindRow(
        label="inondation",
        cap_categories=("Met",),
        flavour=ExerciseFlavour(
            "la crue", "les inondations", "#inondations", "un barrage aurait cédé"
        ),
    ),
    EventKind.ACCIDENT_INDUSTRIEL: KindRow(
        label="accident industriel",
        cap_categories=("Safety", "Env"),
        flavour=ExerciseFlavour(
            "l'accident industriel", "l'accident", "#accidentindustriel", "le nuage serait toxique"
        ),
    ),
    EventKind.NUCLEAIRE: KindRow(
        label="accident nucléaire",
        cap_categories=("CBRNE",),
        flavour=ExerciseFlavour(
            "l'incident nucléaire",
            "l'incident",
            "#nucleaire",
            "il faudrait évacuer tout le département",
        ),
    ),
    EventKind.ATTENTAT: KindRow(
        label="attentat",
        cap_categories=("Security",),
        flavour=ExerciseFlavour(
            "l'attaque", "les événements", "#attaque", "une seconde attaque serait en cours"
        ),
        ciav=True,
    ),
    EventKind.TEMPETE: KindRow(
        label="tempête",
        cap_categories=("Met",),
        flavour=ExerciseFlavour(
            "la tempête",
            "les intempéries",
            "#tempete",
            "le courant ne reviendrait pas avant une semaine",
        ),
    ),
    EventKind.SATER: KindRow(
        label="SATER (recherche aéroterrestre)",
        cap_categories=("Rescue",),
        flavour=ExerciseFlavour(
            "les recherches",
            "l'opération de recherche",
            "#SATER",
            "l'avion aurait été retrouvé",
        ),
    ),
}


class UnknownEventKind(ValueError):
    """A kind of event without its row in `KINDS` (French message, names the file to edit)."""


def unknown_kind_reason(value: str) -> str | None:
    """Why `value` is not a kind of event the code knows (French), or None when it is one."""
    if any(kind.value == value for kind in KINDS):
        return None
    known = ", ".join(kind.value for kind in KINDS)
    return (
        f"valeur inconnue « {value} » (attendu : {known}) ; un type d'événement "
        "a sa ligne dans playbooks/kinds.py"
    )


def refuse_unknown_kind(value: object) -> object:
    """A kind without its row here is refused at load time, in French (pydantic validator)."""
    if isinstance(value, str) and (reason := unknown_kind_reason(value)):
        raise ValueError(reason)
    return value


# An EventKind field of a loaded file (playbook, scenario), checked against this file's rows.
KnownEventKind = Annotated[EventKind, BeforeValidator(refuse_unknown_kind)]


def kind_row(kind: EventKind | str) -> KindRow:
    """The row of `kind`; UnknownEventKind (French) when it has none."""
    for known, row in KINDS.items():
        if known.value == kind:
            return row
    raise UnknownEventKind(f"type d'événement : {unknown_kind_reason(str(kind))}")
