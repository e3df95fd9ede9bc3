"""The directory source the settings name: the synthetic demo, or the database's."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, time
from functools import cache, lru_cache

from contacts.demo import demo_directory
from contacts.geography import load_communes
from contacts.model import Commune, Directory
from crisis.clock import Clock, SystemClock
from crisis.settings import Settings
from crisis.store import Store


def build_directory(
    settings: Settings, *, store: Store | None = None, clock: Clock | None = None
) -> Callable[[], Directory]:
    """The directory source named in the settings.

    `demo`: synthetic, from the seed and the local date of `clock` (rebuilt when the date
    changes, so that its rosters always cover the next days). `database`: read from `store`
    (or from a store opened on first use), re-read only when the directory's revision has
    changed (an import, an erasure: one small query per call otherwise); while the database
    holds no commune, the communes file stands in.
    """
    clock = clock or SystemClock()
    tz = settings.prefecture.zone

    @cache
    def communes() -> tuple[Commune, ...]:
        return load_communes(settings.directory.communes_file)

    if settings.directory.source == "database":
        return StoredDirectory(settings.database.url, store, communes)

    @lru_cache(maxsize=1)
    def demo_of(day: date) -> Directory:
        noon = datetime.combine(day, time(12), tzinfo=tz)
        return demo_directory(communes(), seed=settings.directory.seed, now=noon, tz=tz)

    def directory() -> Directory:
        return demo_of(clock.now().astimezone(tz).date())

    return directory


class StoredDirectory:
    """The directory of the database, cached until its revision changes."""

    def __init__(
        self, url: str, store: Store | None, communes: Callable[[], tuple[Commune, ...]]
    ) -> None:
        self._url = url
        self._store = store
        self._communes = communes
        self._lock = threading.Lock()
        self._revision = -1
        self._directory = Directory()

    def __call__(self) -> Directory:
        with self._lock:
            if self._store is None:
                self._store = Store.open(self._url)
            with self._store.transaction() as tx:
                revision = tx.directory_revision()
                if revision != self._revision:  # read before the rows: a race only re-reads
                    directory = tx.load_directory()
                    if not directory.communes:
                        directory = directory.model_copy(update={"communes": self._communes()})
                    self._directory, self._revision = directory, revision
            return self._directory
