"""Watching what other processes commit (`crisis activate`, the CLI's stimuli): the running
service is told within a fraction of a second, rather than at its next periodic re-scan.

- PostgreSQL: a dedicated connection LISTENs on the channel the units of work NOTIFY
  (crisis/store/changes.py); when it drops, it is reconnected (every `retry_every` seconds)
  and everything is looked at again, since notifications may have been missed meanwhile.
- SQLite: a dedicated connection polls `PRAGMA data_version` (it changes when another
  connection commits; it costs no read of the file); on a change, two indexed reads tell
  whether rows were queued (the outbox's highest id) and which crises were recorded or
  changed (journal facts of people's decisions since the last look).

Both call `on_change` on the event loop. The periodic re-scan stays the safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import Callable
from typing import Protocol

import psycopg
from sqlalchemy import Engine

from crisis.store.changes import CHANNEL, Change, decode

__all__ = ["DECISIONS", "PostgresWatcher", "SqliteWatcher", "Watcher", "watcher_for"]

log = logging.getLogger(__name__)
APPLICATION = "crisis-notify"  # how the listening connection shows in pg_stat_activity
QUEUED = Change(outbox=True, crises=frozenset())  # rows may have been queued

# the facts by which a person (or `crisis activate`) records or changes a crisis: what is due
# and when may have moved. The service's own facts (attempts, receipts, triggered steps) are
# not among them: it never re-reads a crisis for what it did itself.
DECISIONS = (
    "CodActivated",
    "T0Rectified",
    "CrisisClosed",
    "MessageApproved",
    "MessageDrafted",
    "ApprovalRefused",
    "CipActivated",
    "CipClosed",
    "CiavNumberSet",
    "StepHeld",
    "StepSkipped",
)


class Watcher(Protocol):
    """Calls `on_change` whenever another process commits a change, until `stop` is set."""

    async def run(self, stop: asyncio.Event, on_change: Callable[[Change], None]) -> None:
        """Watch until `stop` is set."""
        ...


def watcher_for(engine: Engine, origin: str) -> Watcher | None:
    """The watcher for this database; None for an in-memory SQLite (no other process)."""
    url = engine.url
    if engine.dialect.name == "postgresql":
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresWatcher(conninfo, origin)
    if url.database and url.database != ":memory:":
        return SqliteWatcher(url.database)
    return None


class SqliteWatcher:
    """`PRAGMA data_version` polled every `every` seconds on a connection of its own."""

    def __init__(self, path: str, *, every: float = 0.1) -> None:
        self.path = path
        self.every = every
        self._outbox = 0  # the outbox's highest id at the last look
        self._journal = 0  # the journal's highest id at the last look

    async def run(self, stop: asyncio.Event, on_change: Callable[[Change], None]) -> None:
        """Poll until `stop` is set (a failing read is retried at the next poll)."""
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA busy_timeout=1000")
            version = self._version(connection)
            self._outbox, self._journal = self._heads(connection)
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.every)
                try:
                    current = self._version(connection)
                    if current != version:
                        version = current
                        change = self._look(connection)
                        if change:
                            on_change(change)
                except sqlite3.Error as exc:  # busy, or the file replaced: next poll
                    log.warning("surveillance de la base : %s", exc)
        finally:
            connection.close()

    @staticmethod
    def _version(connection: sqlite3.Connection) -> int:
        return int(connection.execute("PRAGMA data_version").fetchone()[0])

    @staticmethod
    def _heads(connection: sqlite3.Connection) -> tuple[int, int]:
        outbox = connection.execute("SELECT coalesce(max(id), 0) FROM outbox").fetchone()[0]
        journal = connection.execute("SELECT coalesce(max(id), 0) FROM journal").fetchone()[0]
        return int(outbox), int(journal)

    def _look(self, connection: sqlite3.Connection) -> Change:
        """What changed since the last look: rows queued, crises decided upon."""
        outbox, journal = self._heads(connection)
        queued = outbox > self._outbox
        rows = connection.execute(
            "SELECT DISTINCT crisis_id FROM journal WHERE id > ? AND id <= ?"
            " AND type IN (SELECT value FROM json_each(?))",
            (self._journal, journal, json.dumps(DECISIONS)),
        ).fetchall()
        self._outbox, self._journal = max(outbox, self._outbox), max(journal, self._journal)
        return Change(outbox=queued, crises=frozenset(str(r[0]) for r in rows))


class PostgresWatcher:
    """LISTEN on a connection of its own, reconnected when it drops."""

    def __init__(
        self, conninfo: str, origin: str, *, retry_every: float = 1.0, check_every: float = 10.0
    ) -> None:
        self.conninfo = conninfo
        self.origin = origin  # this process's store: its own notifications are ignored
        self.retry_every = retry_every
        self.check_every = check_every  # a silent connection is checked this often

    async def run(self, stop: asyncio.Event, on_change: Callable[[Change], None]) -> None:
        """Listen until `stop` is set. Between connections the dispatcher is woken at each
        attempt and the periodic re-scan does the rest; once listening again, everything is
        looked at (what was committed meanwhile)."""
        while not stop.is_set():
            listening = asyncio.create_task(self._listen(on_change))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({listening, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not listening.done():
                listening.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listening
                return
            if listening.exception() is not None:
                log.warning("écoute des notifications perdue : %s", listening.exception())
            on_change(QUEUED)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.retry_every)

    async def _listen(self, on_change: Callable[[Change], None]) -> None:
        connection = await psycopg.AsyncConnection.connect(
            self.conninfo, autocommit=True, connect_timeout=5, application_name=APPLICATION
        )
        async with connection:
            await connection.execute(f"LISTEN {CHANNEL}")
            on_change(Change.everything())  # what was committed before we listened
            while True:
                async for notice in connection.notifies(timeout=self.check_every):
                    change = decode(notice.payload, self.origin)
                    if change:
                        on_change(change)
                await connection.execute("SELECT 1")  # a dead connection raises here
