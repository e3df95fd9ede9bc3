"""Engine, schema migrations (Alembic) and transactions."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DataError, DBAPIError, NoSuchModuleError
from sqlmodel import Session

from crisis.store.changes import CHANNEL, Changes, CommitHooks, encode
from crisis.store.errors import StoreRefused
from crisis.store.lease import DispatchLock, acquire_dispatch_lock
from crisis.store.notify import Watcher, watcher_for
from crisis.store.repository import Tx
from crisis.store.urls import shown_url

__all__ = [  # StoreRefused lives in crisis/store/errors.py (the service needs no engine for it)
    "MIGRATIONS",
    "Store",
    "StoreRefused",
    "StoreUnavailable",
    "make_engine",
    "refused",
    "unreachable",
]

MIGRATIONS = Path(__file__).parent / "migrations"


class StoreUnavailable(Exception):
    """The database cannot be opened: bad URL, server unreachable, file impossible (French)."""


# the columns a person fills in, as the French messages name them
_FIELD_NAMES = {
    "synergi_ref": "référence SYNERGI",
    "idempotency_key": "clé d'idempotence",
    "recorded_by": "auteur (« --by »)",
    "drafted_by": "rédacteur",
    "approved_by": "valideur",
    "actor": "auteur (« --by »)",
    "contact_id": "identifiant de contact",
    "ciav_number": "numéro de la CIAV",
    "cip_number": "numéro de la CIP",
    "hold_reason": "motif de mise en attente",
    "display_name": "nom affiché",
    "name": "nom",
    "label": "libellé",
    "login": "identifiant de connexion",
}
_VARCHAR = re.compile(r"character varying\((\d+)\)")


def unreachable(url: str) -> str | None:
    """Why the PostgreSQL database of `url` cannot be reached (French), None when it answers.
    Writes nothing; SQLite is not opened (that would create the file or wait for the service's
    write lock): its folder is checked with the configuration."""
    if url.lower().startswith("sqlite"):
        return None
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 10})
    except (ArgumentError, NoSuchModuleError, ValueError):
        return f"URL de base de données inutilisable ({shown_url(url)})"
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except DBAPIError as exc:
        return f"base de données injoignable ({shown_url(url)}) : {_driver_reason(exc)}"
    finally:
        engine.dispose()
    return None


def _driver_reason(exc: BaseException) -> str:
    """The first line of what the database driver said (its own words, for the administrator)."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return lines[0] if lines else type(orig).__name__


def refused(exc: DataError) -> StoreRefused:
    """A French refusal for what the database would not store; names the field when the
    driver's message gives a length and one parameter is longer than it."""
    reason = str(getattr(exc, "orig", exc))
    limit = _VARCHAR.search(reason)
    if limit is not None:
        size = int(limit.group(1))
        params: Any = exc.params
        rows: Sequence[Mapping[str, Any]] = (
            [params]
            if isinstance(params, Mapping)
            else [p for p in params if isinstance(p, Mapping)]
            if isinstance(params, Sequence)
            else []
        )
        for row in rows:
            for key, value in row.items():
                if isinstance(value, str) and len(value) > size:
                    name = _FIELD_NAMES.get(key, f"champ « {key} »")
                    return StoreRefused(
                        f"{name} : {len(value)} caractères, {size} au plus ; "
                        "rien n'a été enregistré"
                    )
        return StoreRefused(
            f"texte trop long ({size} caractères au plus) ; rien n'a été enregistré"
        )
    if "NUL" in reason or "0x00" in reason:
        return StoreRefused("caractère nul (0x00) interdit dans un texte ; rien n'a été enregistré")
    return StoreRefused(
        f"valeur refusée par la base de données ({_driver_reason(exc)}) ; rien n'a été enregistré"
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
    dbapi_connection.isolation_level = None  # transactions opened by _sqlite_begin_immediate


def _sqlite_begin_immediate(connection: Any) -> None:
    # pysqlite opens a transaction only before the first write, so the reads a decision rests
    # on (journal head, steps) would escape it and two units of work on one crisis could read
    # the same head. We open every transaction ourselves, taking the write lock first: units
    # of work on one SQLite file run one after the other (busy_timeout covers the wait).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for SQLite (WAL, parent folder created) or PostgreSQL (psycopg 3)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Store:
    """The database: migrations and units of work."""

    def __init__(self, engine: Engine, *, timezone: tzinfo | None = None) -> None:
        self.engine = engine
        self.is_postgres = engine.dialect.name == "postgresql"
        self.timezone = timezone  # the prefecture's zone, for journal sentences (Tx.append)
        # what the units of work queue or change: in-process listeners after each commit, and
        # other processes by NOTIFY (PostgreSQL), which this process recognises by `origin`
        self.commits = CommitHooks()
        self.origin = uuid.uuid4().hex

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, timezone: tzinfo | None = None) -> Store:
        """Connect and bring the schema to the latest migration; StoreUnavailable (French,
        without the password) when the URL is unusable or the database cannot be reached.
        `timezone`: the prefecture's zone (default Europe/Paris), in which journal sentences
        give local time."""
        where = shown_url(url)
        try:
            store = cls(make_engine(url), timezone=timezone)
        except (ArgumentError, NoSuchModuleError, ValueError):
            raise StoreUnavailable(
                f"URL de base de données illisible ou non prise en charge ({where}) : "
                "attendu sqlite:///chemin/crisis.db ou postgresql+psycopg://utilisateur@hote/base"
            ) from None
        except OSError as exc:
            raise StoreUnavailable(
                f"base de données {where} : dossier impossible à créer "
                f"({exc.strerror or exc}{f' : {exc.filename}' if exc.filename else ''})"
            ) from None
        if migrate:
            try:
                store.migrate()
            except DBAPIError as exc:
                store.close()
                raise StoreUnavailable(
                    f"base de données injoignable ou inutilisable ({where}) : {_driver_reason(exc)}"
                ) from None
        return store

    def migrate(self) -> None:
        """Apply Alembic migrations up to head."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One unit of work: everything inside commits together or not at all."""
        with Session(self.engine, expire_on_commit=False) as session:
            tx = Tx(session, lock_rows=self.is_postgres, timezone=self.timezone)
            try:
                yield tx
                self._announce(session, tx.changes)
                session.commit()
            except DataError as exc:  # e.g. a value longer than its VARCHAR on PostgreSQL
                session.rollback()
                raise refused(exc) from None
            except BaseException:
                session.rollback()
                raise
        if tx.changes:
            self.commits.committed(tx.changes)

    def _announce(self, session: Session, changes: Changes) -> None:
        # NOTIFY inside the unit of work: PostgreSQL delivers it at commit, never on rollback
        if self.is_postgres and changes:
            session.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": CHANNEL, "payload": encode(self.origin, changes)},
            )

    def watcher(self) -> Watcher | None:
        """What tells a running service of other processes' commits (crisis/store/notify.py);
        None for an in-memory database."""
        return watcher_for(self.engine, self.origin)

    def acquire_dispatch_lock(self, *, purpose: str, since: datetime) -> DispatchLock:
        """The right to dispatch from this database, held until released or the process dies;
        raises DatabaseServed (French, naming the holder's host and PID) when another process
        holds it (crisis/store/lease.py)."""
        return acquire_dispatch_lock(self.engine.url, purpose=purpose, since=since)

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()
