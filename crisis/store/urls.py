"""What a database URL says, for code outside the store: its SQLite file, a printable form."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["database_label", "shown_url", "sqlite_file"]


def sqlite_file(url: str) -> Path | None:
    """The SQLite database file of `url` (None for PostgreSQL, in-memory or unreadable URLs)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def shown_url(url: str) -> str:
    """`url` as it can be printed: the password hidden ("***")."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(adresse de base illisible)"


def database_label(url: str) -> str:
    """The database as a person checks it: a SQLite file's full path, or the URL without its
    password ("base SQLite /srv/crise/var/crisis.db", "base postgresql+psycopg://u:***@h/db")."""
    path = sqlite_file(url)
    if path is not None:
        return f"base SQLite {path.resolve()}"
    return f"base {shown_url(url)}"
