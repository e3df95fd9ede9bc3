"""Engine, schema migrations (Alembic) and transactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from crisis.store.repository import Tx

MIGRATIONS = Path(__file__).parent / "migrations"


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

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_postgres = engine.dialect.name == "postgresql"

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Connect and bring the schema to the latest migration."""
        store = cls(make_engine(url))
        if migrate:
            store.migrate()
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
            tx = Tx(session, lock_rows=self.is_postgres)
            try:
                yield tx
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()
