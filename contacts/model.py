"""Directory records: communes, contacts and their roles."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Role(StrEnum):
    """What a contact is to the crisis communication."""

    MAIRE = "maire"
    ADJOINT = "adjoint"
    SECRETARIAT = "secretariat_mairie"  # DGS / secrétariat de mairie (fixed line)
    DIRECTION_ASTREINTE = "direction_astreinte"  # directeur de cabinet or sous-préfet on call
    AGENT_ASTREINTE = "agent_astreinte"
    CHARGE_COMMUNICATION = "charge_communication"
    AGENT_RAPPEL = "agent_rappel"  # agent of the liste de rappel
    PRESSE = "vivier_presse"  # people who organise press contacts (48.2)
    MEDIA = "media"  # journalists and outlets of the media directory
    AGENT_CIP = "agent_cip"

    @property
    def label(self) -> str:
        """French label."""
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.MAIRE: "maire",
    Role.ADJOINT: "adjoint au maire",
    Role.SECRETARIAT: "secrétariat de mairie",
    Role.DIRECTION_ASTREINTE: "directeur de cabinet / sous-préfet d'astreinte",
    Role.AGENT_ASTREINTE: "agent d'astreinte",
    Role.CHARGE_COMMUNICATION: "chargé de communication",
    Role.AGENT_RAPPEL: "agent de la liste de rappel",
    Role.PRESSE: "vivier presse",
    Role.MEDIA: "média",
    Role.AGENT_CIP: "agent CIP",
}
OFFICIAL_ROLES = frozenset({Role.MAIRE, Role.ADJOINT, Role.SECRETARIAT})
CELL_ROLES = frozenset(
    {Role.DIRECTION_ASTREINTE, Role.AGENT_ASTREINTE, Role.CHARGE_COMMUNICATION, Role.AGENT_RAPPEL}
)


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


class Directory(_Frozen):
    """A snapshot of the directory: what an audience is resolved against."""

    communes: tuple[Commune, ...] = ()
    contacts: tuple[Contact, ...] = ()

    def commune(self, code_insee: str) -> Commune | None:
        """The commune with this code, if known."""
        return next((c for c in self.communes if c.code_insee == code_insee), None)

    def with_role(self, role: Role) -> tuple[Contact, ...]:
        """Every contact with this role, adjoints in rank order."""
        return tuple(sorted((c for c in self.contacts if c.role == role), key=lambda c: c.rank))
