"""The directory in the database (source "database"): load, replace, erase one contact.

Rows keep the order of the directory (`position`), so a directory comes back equal to what was
stored. Every change bumps `directory_revision`, which readers poll to know when to re-read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlmodel import Session

from contacts.demo import gc_paused
from contacts.model import Commune, Contact, Directory, RosterSlot, TrainingRecord
from crisis.store.tables import metadata

CHUNK = 2000  # rows per INSERT statement: bounded parameter lists on SQLite and PostgreSQL

COMMUNES: Table = metadata.tables["directory_commune"]
CONTACTS: Table = metadata.tables["directory_contact"]
TRAINING: Table = metadata.tables["training_record"]
ROSTERS: Table = metadata.tables["roster_slot"]
REVISION: Table = metadata.tables["directory_revision"]


class DirectoryIntegrityError(ValueError):
    """A directory that cannot be stored: a record names a contact it does not hold."""


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _check_references(directory: Directory) -> None:
    ids = {c.id for c in directory.contacts}
    if len(ids) != len(directory.contacts):
        raise DirectoryIntegrityError("annuaire invalide : identifiant de contact en double")
    for record in directory.training:
        if record.contact_id not in ids:
            raise DirectoryIntegrityError(
                f"annuaire invalide : formation d'un contact absent ({record.contact_id})"
            )
    for slot in directory.rosters:
        for cid in (slot.contact_id, slot.deputy_id):
            if cid is not None and cid not in ids:
                raise DirectoryIntegrityError(
                    f"annuaire invalide : créneau d'astreinte d'un contact absent ({cid})"
                )


class DirectoryTx:
    """Directory operations of a unit of work (mixed into `Tx`)."""

    session: Session

    def directory_revision(self, *, lock: bool = False) -> int:
        """The directory's revision (0: never written).

        With lock, the unit of work takes the directory's write lock at once and keeps it until
        commit: a no-op update locks the row on PostgreSQL and starts the write transaction on
        SQLite, so a concurrent importer waits instead of failing or overwriting.
        """
        if lock:
            self.session.execute(
                update(REVISION).where(REVISION.c.id == 1).values(revision=REVISION.c.revision)
            )
        query = select(REVISION.c.revision).where(REVISION.c.id == 1)
        value = self.session.execute(query).scalar()
        return int(value or 0)

    def contact_count(self) -> int:
        """How many contacts the stored directory holds."""
        return int(self.session.execute(select(func.count()).select_from(CONTACTS)).scalar() or 0)

    def load_directory(self, *, lock: bool = False) -> Directory:
        """The stored directory. With lock, concurrent writers wait until this one commits
        (read, import, replace: an import never overwrites one it did not see)."""
        self.directory_revision(lock=lock)
        commune_cols = ("code_insee", "nom", "population", "arrondissement", "epci")
        contact_cols = (
            "id", "name", "role", "commune", "rank", "mobile", "landline", "email", "trained"
        )  # fmt: skip
        with gc_paused():  # tens of thousands of small objects: no collection passes meanwhile
            communes = self._rows(COMMUNES, commune_cols)
            contacts = self._rows(CONTACTS, contact_cols)
            training = [
                {
                    "contact_id": r.contact_id,
                    "kind": r.kind,
                    "on": r.held_on,
                    "duration_days": r.duration_days,
                    "with_cip_activation": r.with_cip_activation,
                    "label": r.label,
                }
                for r in self.session.execute(select(TRAINING).order_by(TRAINING.c.position))
            ]
            rosters = [
                {
                    "role": r.role,
                    "starts": r.starts,
                    "ends": r.ends,
                    "contact_id": r.contact_id,
                    "deputy_id": r.deputy_id,
                }
                for r in self.session.execute(select(ROSTERS).order_by(ROSTERS.c.position))
            ]
            return Directory.model_validate(
                {
                    "communes": communes,
                    "contacts": contacts,
                    "training": training,
                    "rosters": rosters,
                }
            )

    def _rows(self, table: Table, names: tuple[str, ...]) -> list[dict[str, Any]]:
        query = select(*(table.c[n] for n in names)).order_by(table.c.position)
        return [dict(zip(names, row, strict=True)) for row in self.session.execute(query).all()]

    def replace_directory(self, directory: Directory) -> None:
        """Store this directory in place of the stored one (all or nothing with the unit of
        work). Raises DirectoryIntegrityError when a record names a missing contact."""
        _check_references(directory)
        s = self.session
        for table in (ROSTERS, TRAINING, CONTACTS, COMMUNES):
            s.execute(delete(table))
        self._insert(COMMUNES, (_commune_row(i, c) for i, c in enumerate(directory.communes)))
        self._insert(CONTACTS, (_contact_row(i, c) for i, c in enumerate(directory.contacts)))
        self._insert(TRAINING, (_training_row(i, r) for i, r in enumerate(directory.training)))
        self._insert(ROSTERS, (_roster_row(i, r) for i, r in enumerate(directory.rosters)))
        self._bump()

    def add_training(self, records: Sequence[TrainingRecord]) -> int:
        """Append training records (an exercise's participants); the same record twice (same
        contact, kind, date and label) is stored once. Returns how many were new."""
        if not records:
            return 0
        s = self.session
        known = {
            (r.contact_id, r.kind, r.held_on, r.label)
            for r in s.execute(
                select(TRAINING.c.contact_id, TRAINING.c.kind, TRAINING.c.held_on, TRAINING.c.label)
            )
        }
        ids = {r[0] for r in s.execute(select(CONTACTS.c.id))}
        missing = sorted({r.contact_id for r in records} - ids)
        if missing:
            raise DirectoryIntegrityError(
                f"formation d'un contact absent de l'annuaire : {', '.join(missing)}"
            )
        fresh = [r for r in records if (r.contact_id, r.kind, r.on, r.label) not in known]
        fresh = list({(r.contact_id, r.kind, r.on, r.label): r for r in fresh}.values())
        position = s.execute(select(func.coalesce(func.max(TRAINING.c.position), -1))).scalar_one()
        self._insert(TRAINING, (_training_row(position + 1 + i, r) for i, r in enumerate(fresh)))
        if fresh:
            self._bump()
        return len(fresh)

    def erase_contact(self, contact_id: str) -> bool:
        """Remove a contact, its training records and the slots it holds (as deputy, the slot
        stays without deputy). False when no such contact is stored."""
        s = self.session
        found = s.execute(select(CONTACTS.c.id).where(CONTACTS.c.id == contact_id)).first()
        if found is None:
            return False
        s.execute(delete(TRAINING).where(TRAINING.c.contact_id == contact_id))
        s.execute(delete(ROSTERS).where(ROSTERS.c.contact_id == contact_id))
        s.execute(update(ROSTERS).where(ROSTERS.c.deputy_id == contact_id).values(deputy_id=None))
        s.execute(delete(CONTACTS).where(CONTACTS.c.id == contact_id))
        self._bump()
        return True

    def _insert(self, table: Table, rows: Iterable[dict[str, Any]]) -> None:
        for chunk in _chunks(list(rows)):
            self.session.execute(insert(table), chunk)

    def _bump(self) -> None:
        self.session.execute(
            update(REVISION).where(REVISION.c.id == 1).values(revision=REVISION.c.revision + 1)
        )


def _commune_row(position: int, commune: Commune) -> dict[str, Any]:
    return {**commune.model_dump(), "position": position}


def _contact_row(position: int, contact: Contact) -> dict[str, Any]:
    return {**contact.model_dump(), "role": contact.role.value, "position": position}


def _training_row(position: int, record: TrainingRecord) -> dict[str, Any]:
    return {
        "position": position,
        "contact_id": record.contact_id,
        "kind": record.kind,
        "held_on": record.on,
        "duration_days": record.duration_days,
        "with_cip_activation": record.with_cip_activation,
        "label": record.label,
    }


def _roster_row(position: int, slot: RosterSlot) -> dict[str, Any]:
    return {
        "position": position,
        "role": slot.role.value,
        "starts": slot.starts,
        "ends": slot.ends,
        "contact_id": slot.contact_id,
        "deputy_id": slot.deputy_id,
    }
