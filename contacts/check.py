"""Directory checks: who could not be reached if the COD opened now (pure, French findings)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

from contacts.model import OFFICIAL_ROLES, Contact, Directory, Role
from contacts.phone import is_mobile

Severity = Literal["erreur", "avertissement"]


class Finding(BaseModel):
    """One problem in the directory; contacts named by id, never by number or address."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    severity: Severity
    code: str
    message: str
    contact_ids: tuple[str, ...] = ()
    commune: str | None = None


def _reachable_by_phone(contact: Contact) -> bool:
    return bool(contact.mobile or contact.landline)


def _communes(directory: Directory, only: Iterable[str] | None) -> list[str]:
    codes = [c.code_insee for c in directory.communes]
    if only is None:
        return codes
    wanted = set(only)
    return [c for c in codes if c in wanted]


def unreachable_communes(directory: Directory, only: Iterable[str] | None = None) -> list[Finding]:
    """Communes where no official (maire, adjoint, mairie) has a phone number."""
    officials: dict[str, list[Contact]] = defaultdict(list)
    for contact in directory.contacts:
        if contact.role in OFFICIAL_ROLES and contact.commune:
            officials[contact.commune].append(contact)
    findings = []
    for code in _communes(directory, only):
        if not any(_reachable_by_phone(c) for c in officials.get(code, [])):
            commune = directory.commune(code)
            name = commune.nom if commune else code
            findings.append(
                Finding(
                    severity="erreur",
                    code="commune_injoignable",
                    message=f"{name} ({code}) : aucun élu ni secrétariat joignable par téléphone",
                    commune=code,
                )
            )
    return findings


def duplicate_numbers(directory: Directory) -> list[Finding]:
    """The same mobile on several contacts: an acknowledgement could not be told apart."""
    holders: dict[str, list[str]] = defaultdict(list)
    for contact in directory.contacts:
        if contact.mobile:
            holders[contact.mobile].append(contact.id)
    return [
        Finding(
            severity="avertissement",
            code="doublon_mobile",
            message=f"le même mobile est enregistré pour {', '.join(ids)}",
            contact_ids=tuple(ids),
        )
        for ids in holders.values()
        if len(ids) > 1
    ]


def fixed_lines_as_mobiles(directory: Directory) -> list[Finding]:
    """Numbers in the mobile field that cannot receive SMS (fixed lines)."""
    return [
        Finding(
            severity="avertissement",
            code="mobile_fixe",
            message=f"{c.id} : le numéro enregistré comme mobile est une ligne fixe (pas de SMS)",
            contact_ids=(c.id,),
            commune=c.commune,
        )
        for c in directory.contacts
        if c.mobile and not is_mobile(c.mobile)
    ]


def missing_on_call(directory: Directory) -> list[Finding]:
    """Nobody to page at T0: the directeur de cabinet / sous-préfet or the agent d'astreinte."""
    findings = []
    for role in (Role.DIRECTION_ASTREINTE, Role.AGENT_ASTREINTE):
        people = [c for c in directory.with_role(role) if _reachable_by_phone(c)]
        if not people:
            findings.append(
                Finding(
                    severity="erreur",
                    code="astreinte_vide",
                    message=f"aucun {role.label} joignable par téléphone",
                )
            )
    return findings


def quorum_shortfall(
    directory: Directory, quorum: Mapping[Role, int], *, label: str
) -> list[Finding]:
    """Fewer trained, reachable members on the recall list than a playbook's quorum needs."""
    findings = []
    for role, needed in quorum.items():
        trained = [c for c in directory.with_role(role) if c.trained and _reachable_by_phone(c)]
        if len(trained) < needed:
            findings.append(
                Finding(
                    severity="erreur",
                    code="quorum_impossible",
                    message=f"{label} : quorum de {needed} {role.label}(s) formé(s), "
                    f"{len(trained)} dans l'annuaire",
                )
            )
    return findings


def check_directory(directory: Directory, only: Iterable[str] | None = None) -> list[Finding]:
    """Every directory check that does not depend on a playbook, errors first."""
    findings = [
        *missing_on_call(directory),
        *unreachable_communes(directory, only),
        *duplicate_numbers(directory),
        *fixed_lines_as_mobiles(directory),
    ]
    return sorted(findings, key=lambda f: f.severity != "erreur")
