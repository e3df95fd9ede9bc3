"""The dispatch lock: one process dispatches from a database, whoever started it (issue 13)."""

from __future__ import annotations

import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import text

from crisis.cli.demo import run_demo
from crisis.exercise.runner import run_exercise
from crisis.exercise.scenario import LIBRARY
from crisis.owned_dir import MARKER
from crisis.runtime import ServiceRefused, lock_database
from crisis.store import Store
from crisis.store.lease import DatabaseServed, lock_file

SINCE = datetime(2026, 11, 23, 1, 10, tzinfo=UTC)


def test_a_second_lock_on_one_database_names_the_holder(store: Store):
    """While one holder has the database, another is refused with its host and PID."""
    held = store.acquire_dispatch_lock(purpose="run", since=SINCE)
    try:
        with pytest.raises(DatabaseServed) as refused:
            store.acquire_dispatch_lock(purpose="run", since=SINCE)
        message = str(refused.value)
        assert f"« crisis run » sur l'hôte {socket.gethostname()} (PID {os.getpid()}" in message
        assert "Rien n'a été envoyé" in message
    finally:
        held.release()
    store.acquire_dispatch_lock(purpose="run", since=SINCE).release()  # given back


def test_a_deleted_lock_file_is_locked_again_by_its_holder(tmp_path: Path):
    """A clean-up that deletes the lock file does not let a second service in."""
    store = Store.open(f"sqlite:///{tmp_path / 'crisis.db'}")
    held = store.acquire_dispatch_lock(purpose="run", since=SINCE)
    try:
        assert held.path == lock_file((tmp_path / "crisis.db").resolve())
        held.path.unlink()
        held.check()  # the rescan, every 5 seconds
        assert held.path.exists()
        with pytest.raises(DatabaseServed, match="déjà servie"):
            store.acquire_dispatch_lock(purpose="run", since=SINCE)
    finally:
        held.release()
        store.close()


def test_a_demo_on_a_served_folder_is_refused_and_deletes_nothing(tmp_path: Path):
    """A second demo in the folder of a running one: refused, the running one's files kept."""
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / MARKER).write_text("a previous demo's\n", encoding="utf-8")
    (folder / "crisis.db").write_bytes(b"the running demo's database")
    held = lock_database(f"sqlite:///{folder / 'crisis.db'}", "demo", "Europe/Paris")
    try:
        with pytest.raises(ServiceRefused, match="« crisis demo »"):
            run_demo(speed=60, data_dir=folder, console=Console(quiet=True))
    finally:
        held.release()
    assert (folder / "crisis.db").read_bytes() == b"the running demo's database"


def test_an_exercise_on_a_served_folder_is_refused_and_deletes_nothing(tmp_path: Path):
    """`crisis exercise run` (and the dashboard's) where a run is playing: refused, kept."""
    folder = tmp_path / "exercice"
    folder.mkdir()
    (folder / MARKER).write_text("a previous run's\n", encoding="utf-8")
    (folder / "crisis.db").write_bytes(b"the playing run's database")
    held = lock_database(f"sqlite:///{folder / 'crisis.db'}", "exercise run", "Europe/Paris")
    try:
        with pytest.raises(ServiceRefused, match="« crisis exercise run »"):
            run_exercise(
                LIBRARY / "inondation_furan.toml",
                data_dir=folder,
                base=None,
                env={},
            )
    finally:
        held.release()
    assert (folder / "crisis.db").read_bytes() == b"the playing run's database"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # its advisory lock
def test_a_lock_lost_with_its_connection_is_taken_again_or_refused(database_url: str):
    """PostgreSQL: the lock's session killed, the holder takes it back, or stops if taken."""
    store = Store.open(database_url)
    held = store.acquire_dispatch_lock(purpose="run", since=SINCE)
    kill = text(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name LIKE 'crisis run %' AND datname = current_database()"
    )
    gone = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE application_name LIKE 'crisis run %' AND datname = current_database()"
    )

    def cut() -> None:  # as a server restart would, and wait until the session has ended
        with store.engine.connect() as conn:
            conn.execute(kill)
            conn.commit()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with store.engine.connect() as conn:  # a new snapshot of pg_stat_activity each time
                if not conn.execute(gone).scalar_one():
                    return
            time.sleep(0.05)
        pytest.fail("the lock's session did not end")

    try:
        cut()
        held.check()  # the holder locks again at the next rescan
        with pytest.raises(DatabaseServed, match="déjà servie"):
            store.acquire_dispatch_lock(purpose="run", since=SINCE)
        cut()
        rival = store.acquire_dispatch_lock(purpose="demo", since=SINCE)
        try:
            with pytest.raises(DatabaseServed, match="« crisis demo »"):
                held.check()  # another service took it meanwhile: this one must stop
        finally:
            rival.release()
    finally:
        held.release()
        store.close()
