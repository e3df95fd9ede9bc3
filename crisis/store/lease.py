"""One dispatching service per database: the lock a service holds for its whole life.

Two services on one database would both dispatch (every alert sent twice). SQLite: an OS file
lock (`flock`) on `<database>.service.lock`, next to the database; the holder's host, PID and
start time are written inside for the refusal message. The kernel releases the lock when the
holder dies, SIGKILL included: a stale lock file never blocks the next start (its content is
only read when the lock is actually held). PostgreSQL: a session advisory lock on a dedicated
connection kept for the process lifetime, whose `application_name` carries the host and PID.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import socket
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

# pg_try_advisory_lock(int, int) keys: "cris" in ASCII, and a hash of the schema (advisory
# locks are scoped to a database; the schema tells apart two orchestrators sharing one). In
# pg_locks: classid ADVISORY_KEY, objid the hash as an unsigned 32-bit number, objsubid 2.
ADVISORY_KEY = 0x63726973
_HELD_HERE = text(
    "SELECT count(*) FROM pg_locks l WHERE l.locktype = 'advisory' "
    "AND l.classid::text::bigint = :key AND l.objsubid = 2 "
    "AND l.objid::text::bigint = (hashtext(current_schema())::bigint & 4294967295) "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.granted AND l.pid = pg_backend_pid()"
)
_HOLDER = text(
    "SELECT a.application_name, a.backend_start FROM pg_locks l "
    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
    "AND l.classid::text::bigint = :key AND l.objsubid = 2 "
    "AND l.objid::text::bigint = (hashtext(current_schema())::bigint & 4294967295) "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.granted"
)
_APP_NAME = re.compile(r"^crisis (?P<purpose>.+) (?P<host>\S+) pid (?P<pid>\d+)$")


@dataclass(frozen=True)
class Holder:
    """Who serves a database (as far as it could be read)."""

    purpose: str | None = None  # the command: "crisis run", "crisis demo"...
    host: str | None = None
    pid: int | None = None
    since: str | None = None  # already formatted for people

    def describe(self) -> str:
        """French: « crisis run » sur l'hôte h (PID 12, depuis le ...)."""
        if self.host is None or self.pid is None:
            return "un autre processus (hôte et PID illisibles)"
        who = f"« {self.purpose} »" if self.purpose else "un autre processus"
        since = f", depuis le {self.since}" if self.since else ""
        return f"{who} sur l'hôte {self.host} (PID {self.pid}{since})"


class DatabaseServed(Exception):
    """Another process already dispatches from this database (French message)."""

    def __init__(self, database: str, holder: Holder, same_host: bool) -> None:
        self.database = database
        self.holder = holder
        stop = (
            f"kill {holder.pid}, Ctrl-C dans son terminal ou systemctl stop"
            if same_host and holder.pid is not None
            else "sur l'hôte qui le fait tourner"
        )
        super().__init__(
            f"la base {database} est déjà servie par {holder.describe()} ; un seul service "
            "par base, sinon chaque alerte partirait deux fois. Rien n'a été envoyé. Si ce "
            f"service a été lancé par erreur, arrêtez-le ({stop}) ; sinon, il n'y a rien à "
            "faire. Un service arrêté brutalement (kill -9, panne) ne bloque pas le suivant : "
            "son verrou part avec lui."
        )


def _host() -> str:
    return socket.gethostname() or "inconnu"


def _since_label(since: datetime) -> str:
    return since.strftime("%d/%m/%Y à %H:%M:%S")


class DispatchLock:
    """A held lock; `release()` (idempotent) gives the database back."""

    path: Path | None = None  # the lock file (SQLite), to keep when a folder is emptied

    def check(self) -> None:
        """Raise DatabaseServed if the lock was lost (PostgreSQL: connection dropped and taken
        by another service); a no-op when nothing can take it away."""

    def release(self) -> None:
        """Give the database back."""

    def __enter__(self) -> DispatchLock:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


class _NoLock(DispatchLock):
    """An in-memory database: no other process can reach it."""


class _FileLock(DispatchLock):
    def __init__(self, path: Path, fd: int, record: bytes) -> None:
        self.path = self._path = path
        self._fd: int | None = fd
        self._record = record

    def check(self) -> None:
        """If the lock file was deleted or replaced (a folder emptied, a clean-up), lock the one
        now at its path again: a process that took it meanwhile wins, this one is refused."""
        if self._fd is None:
            return
        held = os.fstat(self._fd)
        try:
            there = os.stat(self._path)
            if (there.st_dev, there.st_ino) == (held.st_dev, held.st_ino):
                return
        except FileNotFoundError:
            pass
        fd = _open_locked(self._path)  # raises DatabaseServed when another process has it
        _write_record(fd, self._record)
        os.close(self._fd)
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # never delete the file: another process may be opening it
        os.close(fd)  # closing the last descriptor releases the flock


def lock_file(database: Path) -> Path:
    """The lock file of a SQLite database."""
    return database.with_name(database.name + ".service.lock")


def _open_locked(path: Path) -> int:
    """The lock file at `path`, created if missing, opened and locked (non-blocking)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(fd)
        os.close(fd)
        database = path.with_name(path.name.removesuffix(".service.lock"))
        raise DatabaseServed(str(database), holder, holder.host == _host()) from None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _write_record(fd: int, record: bytes) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, record, 0)


def _lock_sqlite(database: Path, purpose: str, since: datetime) -> DispatchLock:
    path = lock_file(database)
    fd = _open_locked(path)
    record = json.dumps(
        {"purpose": purpose, "host": _host(), "pid": os.getpid(), "since": _since_label(since)},
        ensure_ascii=False,
    ).encode()
    _write_record(fd, record)
    return _FileLock(path, fd, record)


def _read_holder(fd: int) -> Holder:
    try:
        raw = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
        pid = raw.get("pid")
        return Holder(
            purpose=str(raw["purpose"]) if raw.get("purpose") else None,
            host=str(raw["host"]) if raw.get("host") else None,
            pid=int(pid) if pid is not None else None,
            since=str(raw["since"]) if raw.get("since") else None,
        )
    except (OSError, ValueError, TypeError, AttributeError):
        return Holder()  # the holder is still writing it, or it is not ours


class _AdvisoryLock(DispatchLock):
    def __init__(self, url: URL, purpose: str, since: datetime) -> None:
        self._url = url
        self._purpose = purpose
        self._zone = since.tzinfo  # the holder's start (its session's) is shown in this zone
        self._engine: Engine | None = None
        self._connection: Connection | None = None

    def acquire(self) -> None:
        name = f"crisis {self._purpose} {_host()} pid {os.getpid()}"
        if len(name) > 63:  # PostgreSQL truncates application_name to 63 bytes
            name = f"crisis {self._purpose[:12]} {_host()[:30]} pid {os.getpid()}"
        engine = create_engine(
            self._url, poolclass=NullPool, connect_args={"application_name": name}
        )
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key, hashtext(current_schema()))"),
                {"key": ADVISORY_KEY},
            ).scalar_one()
            if not got:
                holder = _advisory_holder(connection, self._zone)
                raise DatabaseServed(_pg_label(self._url), holder, holder.host == _host())
        except BaseException:
            connection.close()
            engine.dispose()
            raise
        self._engine, self._connection = engine, connection

    def check(self) -> None:
        if self._connection is None:
            return
        try:
            held = self._connection.execute(
                _HELD_HERE,
                {"key": ADVISORY_KEY},
            ).scalar_one()
        except SQLAlchemyError:
            held = 0  # the connection dropped (server restarted): the lock went with it
        if held:
            return
        self.release()
        try:
            self.acquire()
        except SQLAlchemyError:
            return  # the server is still away: nobody can dispatch; try again next time

    def release(self) -> None:
        connection, engine = self._connection, self._engine
        self._connection = self._engine = None
        if connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                connection.close()  # the session ends: PostgreSQL releases the lock
        if engine is not None:
            engine.dispose()


def _advisory_holder(connection: Connection, zone: tzinfo | None) -> Holder:
    row = connection.execute(
        _HOLDER,
        {"key": ADVISORY_KEY},
    ).first()
    if row is None or not row[0]:  # another role's sessions are hidden from pg_stat_activity
        return Holder()
    match = _APP_NAME.match(str(row[0]))
    if match is None:
        return Holder()
    since = row[1].astimezone(zone) if isinstance(row[1], datetime) else None
    return Holder(
        purpose=f"crisis {match['purpose']}",
        host=match["host"],
        pid=int(match["pid"]),
        since=_since_label(since) if since else None,
    )


def _pg_label(url: URL) -> str:
    where = f" sur {url.host}" if url.host else ""
    return f"PostgreSQL « {url.database} »{where}"


def acquire_dispatch_lock(url: str | URL, *, purpose: str, since: datetime) -> DispatchLock:
    """Hold the right to dispatch from the database at `url` until `release()` (or the
    process's death); raises DatabaseServed, naming the holder, when another process has it.

    `purpose`: the command, for the holder's description ("run", "demo"...); `since`: the
    start time written for the refusal message (the caller reads the clock).
    """
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return _NoLock()
        return _lock_sqlite(Path(parsed.database).resolve(), f"crisis {purpose}", since)
    lock = _AdvisoryLock(parsed, purpose, since)  # the start shown: the session's own
    lock.acquire()
    return lock
