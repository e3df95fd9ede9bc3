"""Reads of the directory stored in the database (the import's starting point, its size)."""

from __future__ import annotations

from dataclasses import dataclass

from contacts.model import Directory
from crisis.store import Store


@dataclass(frozen=True)
class StoredDirectory:
    """The directory as stored, with the revision it was read at (to detect a race)."""

    directory: Directory
    revision: int


def stored_directory(store: Store) -> StoredDirectory:
    """The stored directory and its revision, read before anything is computed from it."""
    with store.transaction() as tx:
        revision = tx.directory_revision()  # before the rows: a race is caught on writing
        return StoredDirectory(tx.load_directory(), revision)


def contact_count(store: Store) -> int:
    """How many contacts the database's directory holds."""
    with store.transaction() as tx:
        return tx.contact_count()
