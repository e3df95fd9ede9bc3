"""Who a playbook step addresses (Audience) and its resolution against the directory, for the
communes concerned."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from contacts.model import OFFICIAL_ROLES, Contact, Directory, Role


class Audience(StrEnum):
    """Who a step addresses, resolved against the directory at T0."""

    DIRECTION_ASTREINTE = "direction_astreinte"
    AGENT_ASTREINTE = "agent_astreinte"
    LISTE_RAPPEL = "liste_rappel"  # chargés de communication + agents de la liste de rappel
    MAIRES = "maires"
    ADJOINTS = "adjoints"
    SECRETARIATS = "secretariats_mairie"
    VIVIER_PRESSE = "vivier_presse"
    MEDIAS = "medias"
    PUBLIC = "public"

    @property
    def roles(self) -> frozenset[Role]:
        """Directory roles this audience is made of (empty for the public)."""
        return AUDIENCE_ROLES[self]


AUDIENCE_ROLES: dict[Audience, frozenset[Role]] = {
    Audience.DIRECTION_ASTREINTE: frozenset({Role.DIRECTION_ASTREINTE}),
    Audience.AGENT_ASTREINTE: frozenset({Role.AGENT_ASTREINTE}),
    Audience.LISTE_RAPPEL: frozenset({Role.CHARGE_COMMUNICATION, Role.AGENT_RAPPEL}),
    Audience.MAIRES: frozenset({Role.MAIRE}),
    Audience.ADJOINTS: frozenset({Role.ADJOINT}),
    Audience.SECRETARIATS: frozenset({Role.SECRETARIAT}),
    Audience.VIVIER_PRESSE: frozenset({Role.PRESSE}),
    Audience.MEDIAS: frozenset({Role.MEDIA}),
    Audience.PUBLIC: frozenset(),
}


_OFFICIAL_ORDER = {Role.MAIRE: 0, Role.ADJOINT: 1, Role.SECRETARIAT: 2}
_ROLE_ORDER = {role: i for i, role in enumerate(Role)}


def resolve_audience(
    audiences: Iterable[Audience], directory: Directory, communes: Iterable[str]
) -> tuple[Contact, ...]:
    """The contacts the audiences designate, without duplicates.

    Officials (maire, adjoint, secrétariat de mairie) only for the communes given; the other
    roles whatever their commune; the public resolves to nobody (public channels are addressed
    separately). Order: officials by the communes' order, then maire, adjoints by rank,
    secrétariat; then the others by role, rank (on-call holder before deputies), then name.
    """
    roles: set[Role] = set()
    for audience in audiences:
        roles |= audience.roles
    commune_order: dict[str, int] = {}
    for code in communes:
        commune_order.setdefault(code, len(commune_order))

    officials: list[Contact] = []
    others: list[Contact] = []
    seen: set[str] = set()
    for contact in directory.contacts:
        if contact.role not in roles or contact.id in seen:
            continue
        if contact.role in OFFICIAL_ROLES:
            if contact.commune is None or contact.commune not in commune_order:
                continue
            officials.append(contact)
        else:
            others.append(contact)
        seen.add(contact.id)

    officials.sort(
        key=lambda c: (
            commune_order[c.commune or ""],
            _OFFICIAL_ORDER[c.role],
            c.rank,
            c.name,
            c.id,
        )
    )
    others.sort(key=lambda c: (_ROLE_ORDER[c.role], c.rank, c.name, c.id))  # rank: on-call order
    return (*officials, *others)
