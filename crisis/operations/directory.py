"""Writes to the directory stored in the database: replace it (after an import, or with the
demo directory), erase a contact (RGPD), add training records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from contacts.model import Directory, TrainingRecord
from crisis.store import Store
from crisis.store.repository import ScrubbedContact


class DirectoryChanged(Exception):
    """The directory was changed since it was read (another import, an erasure)."""


class DirectoryPresent(Exception):
    """The database already holds a directory, and replacing it was not asked for."""

    def __init__(self, contacts: int) -> None:
        super().__init__(f"{contacts} contacts")
        self.contacts = contacts


class ContactInUse(Exception):
    """The contact is a recipient of an open event: nothing was erased."""

    def __init__(self, open_crises: Sequence[str]) -> None:
        super().__init__(", ".join(open_crises))
        self.open_crises = tuple(open_crises)


class UnknownContact(Exception):
    """No such contact in the directory nor in any event."""


@dataclass(frozen=True)
class Erasure:
    """What erasing a contact did: the directory's entry, and the closed events scrubbed."""

    found: bool
    scrubbed: ScrubbedContact


def replace_if_unchanged(store: Store, directory: Directory, revision: int) -> None:
    """Replace the directory unless it changed since `revision` (DirectoryChanged).

    The write lock is taken only now, for the replacement alone (the dispatcher may be
    writing to the same database); a change since the read means the import report is stale.
    """
    with store.transaction() as tx:
        if tx.directory_revision(lock=True) != revision:
            raise DirectoryChanged
        tx.replace_directory(directory)


def install(store: Store, directory: Directory, *, replace: bool) -> None:
    """Write `directory`; one already present is replaced only with `replace`
    (DirectoryPresent otherwise, nothing written)."""
    with store.transaction() as tx:
        present = tx.contact_count()
        if present and not replace:
            raise DirectoryPresent(present)
        tx.replace_directory(directory)


def erase_contact(store: Store, contact_id: str) -> Erasure:
    """Erase a contact and scrub it from closed events, all or nothing: ContactInUse while an
    open event may still send to it, UnknownContact when there is nothing to erase."""
    with store.transaction() as tx:
        scrubbed = tx.scrub_contact(contact_id)
        if scrubbed.open_crises:  # checked before anything is erased: all or nothing
            raise ContactInUse(scrubbed.open_crises)
        found = tx.erase_contact(contact_id)
        if not found and not scrubbed.closed_crises:
            raise UnknownContact(contact_id)
    return Erasure(found=found, scrubbed=scrubbed)


def add_training(store: Store, records: Sequence[TrainingRecord]) -> int:
    """Add training records; how many were added."""
    with store.transaction() as tx:
        return tx.add_training(records)
