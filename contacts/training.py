"""Training rules (47.2, 50.2): who counts as trained, and which CIP agents must be set aside.

Pure functions of the records and a date ("as of"): records dated after that date are ignored.
The records live in `contacts.model` (`TrainingRecord`, `Directory.training`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict

from contacts.model import Contact, Directory, Role, TrainingRecord

REFRESHER_VALIDITY = timedelta(days=365)  # the annual refresher (recyclage) of CIP agents
CIP_INITIAL_DAYS = 1.0  # 50.2: one day of initial training


def _french_date(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def _days(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def records_of(
    contact_id: str, records: Iterable[TrainingRecord], on: date
) -> list[TrainingRecord]:
    """The contact's records dated on or before `on`, oldest first."""
    return sorted((r for r in records if r.contact_id == contact_id and r.on <= on), key=_order)


def _order(record: TrainingRecord) -> tuple[date, str]:
    return record.on, record.kind


def last_training(mine: Iterable[TrainingRecord]) -> date | None:
    """Date of the latest initial training or refresher among these records."""
    dates = [r.on for r in mine if r.kind in {"formation_initiale", "recyclage"}]
    return max(dates, default=None)


def refresher_expires(last: date) -> date:
    """The last day a training done on `last` still counts as the annual refresher."""
    return last + REFRESHER_VALIDITY


def _has_initial(contact: Contact, mine: list[TrainingRecord]) -> bool:
    return contact.trained or any(r.kind == "formation_initiale" for r in mine)


def _is_trained(contact: Contact, mine: list[TrainingRecord], on: date) -> bool:
    if not _has_initial(contact, mine):
        return False
    if contact.role != Role.AGENT_CIP:
        return True
    last = last_training(mine)
    return last is not None and on <= refresher_expires(last)


def is_trained(contact: Contact, records: Iterable[TrainingRecord], on: date) -> bool:
    """Trained as of `on`: initial training recorded (or the legacy `trained` flag of imports);
    for a CIP agent, also an initial training or a refresher within the last 365 days."""
    return _is_trained(contact, records_of(contact.id, records, on), on)


def cip_flags(contact: Contact, records: Iterable[TrainingRecord], on: date) -> list[str]:
    """Why this agent should not answer the numéro unique as of `on` (50.2), in French.

    Empty when the agent has the initial training (one day), a training or refresher within a
    year and at least one exercise with activation of the CIP.
    """
    mine = records_of(contact.id, records, on)
    flags: list[str] = []
    initials = [r for r in mine if r.kind == "formation_initiale"]
    if not _has_initial(contact, mine):
        flags.append("formation initiale non enregistrée")
    elif initials and max(r.duration_days for r in initials) < CIP_INITIAL_DAYS:
        longest = max(r.duration_days for r in initials)
        flags.append(f"formation initiale de moins d'une journée ({_days(longest)} j)")
    last = last_training(mine)
    if last is None:
        if _has_initial(contact, mine):
            flags.append("aucun recyclage enregistré")
    elif on > refresher_expires(last):
        flags.append(f"recyclage de plus d'un an (dernier le {_french_date(last)})")
    if not any(r.kind == "exercice" and r.with_cip_activation for r in mine):
        flags.append("jamais d'exercice avec activation de la CIP")
    return flags


def _by_contact(directory: Directory, on: date) -> dict[str, list[TrainingRecord]]:
    grouped: dict[str, list[TrainingRecord]] = defaultdict(list)
    for record in sorted(directory.training, key=_order):
        if record.on <= on:
            grouped[record.contact_id].append(record)
    return grouped


def trained_ids(directory: Directory, on: date) -> frozenset[str]:
    """Ids of the contacts trained as of `on`: the only ones a cell's quorum counts (47.2)."""
    grouped = _by_contact(directory, on)
    return frozenset(c.id for c in directory.contacts if _is_trained(c, grouped.get(c.id, []), on))


class RefresherDue(BaseModel):
    """A CIP agent whose annual refresher runs out soon."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    contact_id: str
    last: date
    expires_on: date  # last day the refresher still counts

    @property
    def message(self) -> str:
        """French, the contact named by id."""
        return (
            f"{self.contact_id} : recyclage annuel à faire au plus tard le "
            f"{_french_date(self.expires_on)} (dernier le {_french_date(self.last)})"
        )


def expiry_warnings(directory: Directory, on: date, within_days: int = 60) -> list[RefresherDue]:
    """CIP agents still in date whose refresher expires within `within_days`, soonest first."""
    grouped = _by_contact(directory, on)
    due: list[RefresherDue] = []
    for contact in directory.with_role(Role.AGENT_CIP):
        last = last_training(grouped.get(contact.id, []))
        if last is None:
            continue
        expires = refresher_expires(last)
        if on <= expires <= on + timedelta(days=within_days):
            due.append(RefresherDue(contact_id=contact.id, last=last, expires_on=expires))
    return sorted(due, key=lambda d: (d.expires_on, d.contact_id))
