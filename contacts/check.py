"""Directory checks: who could not be reached if the COD opened now (pure, French findings)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal

from pydantic import BaseModel, ConfigDict

from contacts.model import OFFICIAL_ROLES, ROSTER_ROLES, Contact, Directory, Role
from contacts.phone import is_mobile
from contacts.roster import ROSTER_TITLES, gaps, slots_between
from contacts.training import cip_flags, expiry_warnings, trained_ids

ROSTER_HORIZON = timedelta(days=7)  # on-call slots checked over the next week
REFRESHER_NOTICE_DAYS = 60  # CIP refreshers expiring within this many days are reported

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
    directory: Directory, quorum: Mapping[Role, int], *, label: str, on: date | None = None
) -> list[Finding]:
    """Fewer trained, reachable members on the recall list than a playbook's quorum needs.

    With `on`, "trained" follows the training records as of that date (contacts.training);
    without it, the `trained` flag of the contacts.
    """
    ids = trained_ids(directory, on) if on is not None else None
    findings = []
    for role, needed in quorum.items():
        trained = [
            c
            for c in directory.with_role(role)
            if (c.trained if ids is None else c.id in ids) and _reachable_by_phone(c)
        ]
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


def _local(moment: datetime, tz: tzinfo) -> str:
    return f"{moment.astimezone(tz):%d/%m/%Y %H:%M}"


def roster_gaps(
    directory: Directory, now: datetime, *, tz: tzinfo = UTC, horizon: timedelta = ROSTER_HORIZON
) -> list[Finding]:
    """Periods of the next `horizon` when an on-call roster (astreinte, CIP) has nobody."""
    findings = []
    for role in sorted(ROSTER_ROLES, key=list(Role).index):
        for start, end in gaps(directory, role, now, now + horizon):
            findings.append(
                Finding(
                    severity="avertissement",
                    code="astreinte_sans_titulaire",
                    message=f"{ROSTER_TITLES[role]} : personne d'astreinte du "
                    f"{_local(start, tz)} au {_local(end, tz)}",
                )
            )
    return findings


def cip_roster_warnings(
    directory: Directory,
    now: datetime,
    *,
    tz: tzinfo = UTC,
    horizon: timedelta = ROSTER_HORIZON,
    within_days: int = REFRESHER_NOTICE_DAYS,
) -> list[Finding]:
    """CIP agents on the roster of the next `horizon` whom the 50.2 rules set aside, and CIP
    refreshers expiring within `within_days` (as of the local date of `now`)."""
    today = now.astimezone(tz).date()
    contacts = {c.id: c for c in directory.contacts}
    findings = []
    seen: set[str] = set()
    for slot in slots_between(directory, Role.AGENT_CIP, now, now + horizon):
        for cid in (slot.contact_id, slot.deputy_id):
            contact = contacts.get(cid or "")
            if contact is None or contact.id in seen:
                continue
            seen.add(contact.id)
            flags = cip_flags(contact, directory.training, today)
            if flags:
                findings.append(
                    Finding(
                        severity="avertissement",
                        code="agent_cip_ecarte",
                        message=f"{contact.id} (tableau CIP, créneau du "
                        f"{_local(slot.starts, tz)} au {_local(slot.ends, tz)}) : "
                        f"{' ; '.join(flags)} — écarté du tableau CIP par défaut",
                        contact_ids=(contact.id,),
                    )
                )
    findings.extend(
        Finding(
            severity="avertissement",
            code="recyclage_a_prevoir",
            message=due.message,
            contact_ids=(due.contact_id,),
        )
        for due in expiry_warnings(directory, today, within_days)
    )
    return findings


def check_directory(
    directory: Directory,
    only: Iterable[str] | None = None,
    *,
    now: datetime | None = None,
    tz: tzinfo = UTC,
) -> list[Finding]:
    """Every directory check that does not depend on a playbook, errors first.

    With `now`, also the rosters of the next week (gaps, CIP agents set aside) and the CIP
    refreshers expiring soon; times shown in `tz`.
    """
    findings = [
        *missing_on_call(directory),
        *unreachable_communes(directory, only),
        *duplicate_numbers(directory),
        *fixed_lines_as_mobiles(directory),
    ]
    if now is not None:
        findings += [
            *roster_gaps(directory, now, tz=tz),
            *cip_roster_warnings(directory, now, tz=tz),
        ]
    return sorted(findings, key=lambda f: f.severity != "erreur")
