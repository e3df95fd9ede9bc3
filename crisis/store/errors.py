"""What a unit of work refuses, the same for the database and the in-memory store."""

from __future__ import annotations


class DuplicateKey(Exception):
    """A row with the same unique key exists (for instance a concurrent identical activation)."""


class CrisisNotFound(LookupError):
    """No crisis with that id."""

    def __init__(self, crisis_id: str) -> None:
        super().__init__(f"aucun événement « {crisis_id} » dans la base")
        self.crisis_id = crisis_id


class StoreRefused(Exception):
    """The database refused a value (too long for its column...): nothing of the unit of work
    was written (French message naming the field when it can be found)."""
