"""Where the `crisis contacts` commands find the directory (the configured source, or the
database's for writes), the prefecture's time, and their French plurals."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from contacts.model import Directory
from crisis.bootstrap import build_directory, open_store, wall_clock
from crisis.cli.common import fail
from crisis.settings import Settings
from crisis.store import Store

SLOT, SLOTS = "créneau d'astreinte", "créneaux d'astreinte"


def zone(settings: Settings) -> tzinfo:
    """The prefecture's time zone."""
    return settings.prefecture.zone


def wall_now() -> datetime:
    """Wall time."""
    return wall_clock().now()


def today(settings: Settings) -> date:
    """Today, at the prefecture."""
    return wall_now().astimezone(zone(settings)).date()


def database_store(settings: Settings, action: str) -> Store:
    """The store, when the directory's source is the database (otherwise a French error)."""
    if settings.directory.source != "database":
        raise fail(
            f"{action} : l'annuaire configuré n'est pas celui de la base de données "
            f"(source actuelle : « {settings.directory.source} »). Indiquez "
            '[directory] source = "database" dans le fichier de configuration.',
            code=2,
        )
    return open_store(settings.database.url)


def configured_directory(settings: Settings) -> Directory:
    """The configured directory; the database's is read once and its store closed."""
    if settings.directory.source != "database":
        return build_directory(settings)()
    store = open_store(settings.database.url)
    try:
        return build_directory(settings, store=store)()
    finally:
        store.close()


def plural(count: int, singular: str, plural: str | None = None) -> str:
    """ "3 contacts", "1 contact"."""
    return f"{count} {singular if count <= 1 else (plural or singular + 's')}"
