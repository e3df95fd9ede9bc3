"""The directory in the database (SQLite and PostgreSQL): round trip, all or nothing, erasure."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config

from contacts.demo import demo_directory
from contacts.geography import load_communes
from contacts.model import Directory, Role, TrainingRecord
from crisis.bootstrap import build_directory
from crisis.clock import FakeClock
from crisis.settings import DatabaseSettings, DirectorySettings, Settings
from crisis.store import Store
from crisis.store.database import MIGRATIONS
from crisis.store.directory import DirectoryIntegrityError

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
COMMUNES = [c for c in load_communes() if c.code_insee in {"42218", "42187", "42147"}]


@pytest.fixture
def demo() -> Directory:
    return demo_directory(COMMUNES, now=NOW)


def test_round_trip_keeps_every_field_and_the_order(store: Store, demo: Directory) -> None:
    """What is stored comes back equal: communes, contacts, training, rosters (aware times)."""
    with store.transaction() as tx:
        assert tx.directory_revision() == 0
        assert tx.load_directory() == Directory()
        tx.replace_directory(demo)
    with store.transaction() as tx:
        back = tx.load_directory()
        assert tx.directory_revision() == 1
        assert tx.contact_count() == len(demo.contacts)
    assert back == demo
    assert [c.id for c in back.contacts] == [c.id for c in demo.contacts]
    assert all(s.starts.tzinfo is not None for s in back.rosters)
    assert back.training and back.rosters


def test_replace_is_all_or_nothing(store: Store, demo: Directory) -> None:
    """A failure in the unit of work, or a record naming a missing contact, leaves the old directory."""
    with store.transaction() as tx:
        tx.replace_directory(demo)
    smaller = demo.model_copy(update={"contacts": demo.contacts[:4], "training": (), "rosters": ()})
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.replace_directory(smaller)
        raise RuntimeError("interrupted import")
    orphan = TrainingRecord(contact_id="nobody", kind="recyclage", on=NOW.date())
    broken = demo.model_copy(update={"training": (*demo.training, orphan)})
    with pytest.raises(DirectoryIntegrityError, match="nobody"), store.transaction() as tx:
        tx.replace_directory(broken)
    with store.transaction() as tx:
        assert tx.load_directory() == demo
        assert tx.directory_revision() == 1


def test_locked_load_makes_a_concurrent_import_wait(store: Store, demo: Directory) -> None:
    """Two imports at once: the second reads the directory only after the first has committed."""
    with store.transaction() as tx:
        tx.replace_directory(demo)
    inside = threading.Event()
    seen: list[object] = []

    def first() -> None:
        with store.transaction() as tx:
            tx.load_directory(lock=True)
            inside.set()
            time.sleep(0.3)  # the second import is waiting meanwhile
            tx.erase_contact("cip-1")
            seen.append("first committed")

    def second() -> None:
        inside.wait(5)
        with store.transaction() as tx:
            directory = tx.load_directory(lock=True)
            seen.append(("second read", directory.contact("cip-1") is None))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert seen == ["first committed", ("second read", True)]


def test_erase_removes_the_contact_its_training_and_its_slots(
    store: Store, demo: Directory
) -> None:
    """Erasure (RGPD) removes the contact, its records and held slots; as deputy, the slot stays."""
    with store.transaction() as tx:
        tx.replace_directory(demo)
    held = [s for s in demo.rosters if s.contact_id == "cell-dircab"]
    deputised = [s for s in demo.rosters if s.deputy_id == "cell-dircab"]
    assert held and deputised and any(r.contact_id == "cell-dircab" for r in demo.training)
    with store.transaction() as tx:
        assert tx.erase_contact("cell-dircab") is True
        assert tx.erase_contact("cell-dircab") is False
    with store.transaction() as tx:
        after = tx.load_directory()
    assert after.contact("cell-dircab") is None
    assert not any(r.contact_id == "cell-dircab" for r in after.training)
    assert not any("cell-dircab" in {s.contact_id, s.deputy_id} for s in after.rosters)
    assert len(after.rosters) == len(demo.rosters) - len(held)
    kept = [s for s in after.rosters if s.role == Role.DIRECTION_ASTREINTE]
    assert len(kept) == len(deputised) and all(s.deputy_id is None for s in kept)
    assert len(after.contacts) == len(demo.contacts) - 1


def test_database_source_rereads_only_after_a_change(
    store: Store, database_url: str, demo: Directory
) -> None:
    """build_directory(source "database") caches until the revision moves; empty: communes file."""
    settings = Settings(
        database=DatabaseSettings(url=database_url),
        directory=DirectorySettings(source="database"),
    )
    directory = build_directory(settings, store=store, clock=FakeClock(NOW))
    empty = directory()
    assert empty.contacts == () and len(empty.communes) == 320  # the Loire file stands in
    with store.transaction() as tx:
        tx.replace_directory(demo)
    first = directory()
    assert first == demo
    assert directory() is first  # unchanged revision: the cached snapshot
    with store.transaction() as tx:
        tx.erase_contact("cip-1")
    assert directory().contact("cip-1") is None


def test_demo_source_follows_the_clock_date(tmp_path) -> None:
    """The demo source rebuilds its rosters when the clock's local date changes."""
    clock = FakeClock(NOW)
    settings = Settings(database=DatabaseSettings(url=f"sqlite:///{tmp_path / 'x.db'}"))
    directory = build_directory(settings, clock=clock)
    today = directory()
    assert directory() is today
    clock.advance(timedelta(days=1).total_seconds())
    tomorrow = directory()
    assert min(s.starts for s in tomorrow.rosters) == min(
        s.starts for s in today.rosters
    ) + timedelta(days=1)


def test_migration_0002_goes_down_and_up_again(store: Store) -> None:
    """The directory migration downgrades to 0001 and upgrades back (both databases)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with store.transaction() as tx:
        assert tx.directory_revision() == 0
        assert tx.load_directory() == Directory()
