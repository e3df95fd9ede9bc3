"""On-call rosters (astreinte, CIP) by date and time (47.1, 50.2): pure rules.

The slots live in `contacts.model` (`RosterSlot`, `Directory.rosters`). A slot runs from
`starts` (included) to `ends` (excluded). A slot whose holder and deputy are both unknown to
the directory (erased, say) covers nobody.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from contacts.model import (
    EXCLUSIVE_ROSTER_ROLES,
    OFFICIAL_ROLES,
    Contact,
    Directory,
    Role,
    RosterSlot,
)
from contacts.training import cip_flags, trained_ids

ROSTER_TITLES = {  # French names of the rosters
    Role.DIRECTION_ASTREINTE: "tableau d'astreinte de direction",
    Role.AGENT_ASTREINTE: "tableau des agents d'astreinte",
    Role.AGENT_CIP: "tableau des agents de la CIP",
}


def slots_between(
    directory: Directory, role: Role, start: datetime, end: datetime
) -> list[RosterSlot]:
    """Slots of the role that run at some time in [start, end), in start order."""
    found = [s for s in directory.rosters if s.role == role and s.starts < end and start < s.ends]
    return sorted(found, key=lambda s: (s.starts, s.contact_id))


def has_roster(directory: Directory, role: Role) -> bool:
    """Whether any slot exists for the role (a directory without rosters pages by role)."""
    return any(s.role == role for s in directory.rosters)


def on_call(directory: Directory, role: Role, at: datetime) -> list[Contact]:
    """Who is on call for the role at this instant: each running slot's holder, then deputy.

    Empty when no slot runs (see `gaps`); ids unknown to the directory are skipped.
    """
    running = sorted(
        (s for s in directory.rosters if s.role == role and s.covers(at)),
        key=lambda s: (s.starts, s.contact_id),
    )
    wanted = [s.contact_id for s in running] + [s.deputy_id for s in running if s.deputy_id]
    if not wanted:
        return []
    contacts = {c.id: c for c in directory.contacts if c.id in wanted}
    return [contacts[cid] for cid in dict.fromkeys(wanted) if cid in contacts]


def gaps(
    directory: Directory, role: Role, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Periods within [start, end) when no slot of the role has anybody (merged, in order)."""
    known = {c.id for c in directory.contacts}
    covered = sorted(
        (max(s.starts, start), min(s.ends, end))
        for s in slots_between(directory, role, start, end)
        if s.contact_id in known or (s.deputy_id is not None and s.deputy_id in known)
    )
    holes: list[tuple[datetime, datetime]] = []
    cursor = start
    for begin, finish in covered:
        if begin > cursor:
            holes.append((cursor, begin))
        cursor = max(cursor, finish)
    if cursor < end:
        holes.append((cursor, end))
    return holes


def cip_roster(
    directory: Directory, at: datetime, on_date: date, *, include_flagged: bool = False
) -> list[Contact]:
    """CIP agents on duty at `at`; agents flagged by the 50.2 rules as of `on_date` are left out
    unless `include_flagged`."""
    agents = on_call(directory, Role.AGENT_CIP, at)
    if include_flagged:
        return agents
    return [a for a in agents if not cip_flags(a, directory.training, on_date)]


def conflicts(a: RosterSlot, b: RosterSlot) -> bool:
    """Whether two slots cannot both stand: same role, overlapping times, and either a role
    held by one person at a time (astreinte) or the same agent twice (CIP)."""
    if a.role != b.role or not (a.starts < b.ends and b.starts < a.ends):
        return False
    people_a = {a.contact_id, a.deputy_id} - {None}
    people_b = {b.contact_id, b.deputy_id} - {None}
    return a.role in EXCLUSIVE_ROSTER_ROLES or bool(people_a & people_b)


def frozen_roster(
    directory: Directory, communes: Iterable[str], at: datetime, on: date
) -> tuple[Contact, ...]:
    """Who a crisis starting at `at` may reach, frozen with it.

    The officials of the communes concerned and every non-official contact; for the on-call
    roles that have a roster, only who is on call at `at`, holder first then deputies (their
    `rank`), or everyone with the role when the roster has a gap; each contact's `trained` as
    of `on` (only trained members count in the cell's quorum).
    """
    codes = set(communes)
    trained = trained_ids(directory, on)
    paged: dict[str, int] = {}
    covered: set[Role] = set()
    for role in EXCLUSIVE_ROSTER_ROLES:
        if not has_roster(directory, role):
            continue
        holders = on_call(directory, role, at)
        if holders:
            covered.add(role)
            for rank, contact in enumerate(holders):
                paged.setdefault(contact.id, rank)
    roster: list[Contact] = []
    for contact in directory.contacts:
        if contact.role in OFFICIAL_ROLES and contact.commune not in codes:
            continue
        if contact.role in covered and contact.id not in paged:
            continue  # not on call now
        update: dict[str, object] = {"trained": contact.id in trained}
        if contact.id in paged:
            update["rank"] = paged[contact.id]
        roster.append(contact.model_copy(update=update))
    return tuple(roster)
