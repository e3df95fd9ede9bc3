"""Directory records: communes, contacts and their roles."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from contacts.labelled import LabelledEnum


class Role(LabelledEnum):
    """What a contact is to the crisis communication."""

    MAIRE = "maire", "maire"
    ADJOINT = "adjoint", "adjoint au maire"
    # DGS / secrétariat de mairie (fixed line)
    SECRETARIAT = "secretariat_mairie", "secrétariat de mairie"
    # directeur de cabinet or sous-préfet on call
    DIRECTION_ASTREINTE = "direction_astreinte", "directeur de cabinet / sous-préfet d'astreinte"
    AGENT_ASTREINTE = "agent_astreinte", "agent d'astreinte"
    CHARGE_COMMUNICATION = "charge_communication", "chargé de communication"
    AGENT_RAPPEL = "agent_rappel", "agent de la liste de rappel"  # agent of the liste de rappel
    PRESSE = "vivier_presse", "vivier presse"  # people who organise press contacts (48.2)
    MEDIA = "media", "média"  # journalists and outlets of the media directory
    AGENT_CIP = "agent_cip", "agent CIP"


ROLE_LABELS = {role: role.label for role in Role}  # for the importer's aliases
OFFICIAL_ROLES = frozenset({Role.MAIRE, Role.ADJOINT, Role.SECRETARIAT})
CELL_ROLES = frozenset(
    {Role.DIRECTION_ASTREINTE, Role.AGENT_ASTREINTE, Role.CHARGE_COMMUNICATION, Role.AGENT_RAPPEL}
)
ROSTER_ROLES = frozenset({Role.DIRECTION_ASTREINTE, Role.AGENT_ASTREINTE, Role.AGENT_CIP})
# One person at a time on these rosters (holder, then deputy); CIP agents answer side by side.
EXCLUSIVE_ROSTER_ROLES = frozenset({Role.DIRECTION_ASTREINTE, Role.AGENT_ASTREINTE})
TrainingKind = Literal["formation_initiale", "recyclage", "exercice"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Commune(_Frozen):
    """A commune (code INSEE from the COG) with what area selection needs."""

    code_insee: str
    nom: str
    population: int = 0
    arrondissement: str = ""  # code of the arrondissement départemental
    epci: str = ""  # SIREN of the EPCI


class Contact(_Frozen):
    """A person (or a mairie's fixed line) who can be reached. Numbers are E.164."""

    id: str
    name: str
    role: Role
    commune: str | None = None  # code INSEE, for officials
    rank: int = 0  # order among adjoints (1 = premier adjoint)
    mobile: str | None = None
    landline: str | None = None
    email: str | None = None
    trained: bool = False  # urgent-communication training recorded (47.2, 50.2)


class TrainingRecord(_Frozen):
    """One training session or exercise of a contact (47.2, 50.2); rules in contacts.training."""

    contact_id: str
    kind: TrainingKind
    on: date
    duration_days: float = Field(default=1.0, gt=0, le=31)  # CIP initial training: 1 day
    with_cip_activation: bool = False  # exercises only: the CIP was activated
    label: str = ""

    @model_validator(mode="after")
    def _activation_only_in_exercises(self) -> TrainingRecord:
        if self.with_cip_activation and self.kind != "exercice":
            raise ValueError("l'activation de la CIP ne concerne qu'un exercice")
        return self


class RosterSlot(_Frozen):
    """Who is on call for a role from `starts` to `ends` (aware); rules in contacts.roster."""

    role: Role
    starts: AwareDatetime
    ends: AwareDatetime
    contact_id: str  # the holder (titulaire)
    deputy_id: str | None = None  # the deputy (suppléant), paged when the holder does not answer

    @model_validator(mode="after")
    def _consistent(self) -> RosterSlot:
        if self.role not in ROSTER_ROLES:
            raise ValueError(f"pas de tableau d'astreinte pour le rôle « {self.role.label} »")
        if self.ends <= self.starts:
            raise ValueError("la fin du créneau d'astreinte doit suivre son début")
        if self.deputy_id is not None and self.deputy_id == self.contact_id:
            raise ValueError("le suppléant ne peut pas être le titulaire")
        return self

    def covers(self, at: datetime) -> bool:
        """Whether the slot runs at this instant (start included, end excluded)."""
        return self.starts <= at < self.ends


class Directory(_Frozen):
    """A snapshot of the directory: what an audience is resolved against."""

    communes: tuple[Commune, ...] = ()
    contacts: tuple[Contact, ...] = ()
    training: tuple[TrainingRecord, ...] = ()
    rosters: tuple[RosterSlot, ...] = ()

    def commune(self, code_insee: str) -> Commune | None:
        """The commune with this code, if known."""
        return next((c for c in self.communes if c.code_insee == code_insee), None)

    def contact(self, contact_id: str) -> Contact | None:
        """The contact with this id, if known."""
        return next((c for c in self.contacts if c.id == contact_id), None)

    def with_role(self, role: Role) -> tuple[Contact, ...]:
        """Every contact with this role, adjoints in rank order."""
        return tuple(sorted((c for c in self.contacts if c.role == role), key=lambda c: c.rank))
