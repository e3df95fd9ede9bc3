"""What a running service is told of other processes' commits (issue 15, point 3): the
NOTIFY payloads, and the SQLite change check on a database written by another connection."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from crisis.store.changes import MAX_IDS, Change, Changes, decode, encode
from crisis.store.notify import SqliteWatcher


def test_a_payload_says_what_changed_and_a_process_ignores_its_own():
    payload = encode("process-a", Changes(outbox=True, crises={"c1", "c2"}))
    assert decode(payload, "process-b") == Change(outbox=True, crises=frozenset({"c1", "c2"}))
    assert decode(payload, "process-a") is None


def test_too_many_crises_or_an_unreadable_payload_mean_everything():
    many = encode("a", Changes(crises={f"c{i}" for i in range(MAX_IDS + 1)}))
    assert decode(many, "b") == Change(outbox=False, crises=None)
    assert decode("not json", "b") == Change.everything()
    assert not Change(outbox=False, crises=frozenset())


def _database(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("CREATE TABLE journal (id INTEGER PRIMARY KEY, crisis_id TEXT, type TEXT)")
        conn.execute("INSERT INTO journal (crisis_id, type) VALUES ('old', 'CodActivated')")


def _write(path: Path, sql: str, *params: str) -> None:
    with sqlite3.connect(path) as conn:  # another process's connection
        conn.execute(sql, params)


def test_the_sqlite_check_sees_rows_queued_and_crises_recorded_by_another_connection(
    tmp_path: Path,
):
    """Rows queued: the dispatcher wakes; a T0 recorded: that crisis is re-read; the
    service's own facts (attempts) and what was there before it started are not news."""
    db = tmp_path / "crisis.db"
    _database(db)
    watcher = SqliteWatcher(str(db), every=0.02)
    seen: list[Change] = []

    async def until(count: int) -> None:
        for _ in range(250):
            if len(seen) >= count:
                return
            await asyncio.sleep(0.02)

    async def story() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(watcher.run(stop, seen.append))
        try:
            await asyncio.sleep(0.1)
            _write(db, "INSERT INTO journal (crisis_id, type) VALUES ('c1', 'DeliveryAttempted')")
            await asyncio.sleep(0.2)
            _write(db, "INSERT INTO outbox (body) VALUES ('alerte')")
            await until(1)
            _write(db, "INSERT INTO journal (crisis_id, type) VALUES ('c2', ?)", "CodActivated")
            await until(2)
        finally:
            stop.set()
            await running

    asyncio.run(story())
    assert seen == [
        Change(outbox=True, crises=frozenset()),
        Change(outbox=False, crises=frozenset({"c2"})),
    ]
