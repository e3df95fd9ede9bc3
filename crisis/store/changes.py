"""What a unit of work changed that a running service must look at at once: rows queued in
the outbox (the dispatcher wakes), crises recorded or changed (the service re-reads them).

Each `Tx` fills a `Changes` as it writes; once the unit of work has committed, `Store` hands
it to its in-process listeners (`CommitHooks`), and on PostgreSQL the same unit of work sends
it to other processes with NOTIFY (delivered at commit, never for a rollback). Other
processes' changes are watched by crisis/store/notify.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "CHANNEL",
    "Change",
    "Changes",
    "CommitHooks",
    "decode",
    "encode",
]

CHANNEL = "crisis_changes"  # the PostgreSQL notification channel
MAX_IDS = 100  # beyond, the payload says "every crisis" (NOTIFY payloads stop at 8,000 bytes)


@dataclass
class Changes:
    """Filled by one unit of work as it writes."""

    outbox: bool = False  # new pending rows
    crises: set[str] = field(default_factory=set)  # crises recorded or changed

    def __bool__(self) -> bool:
        return self.outbox or bool(self.crises)


@dataclass(frozen=True)
class Change:
    """What another process (or this one) committed: `crises` None means "any crisis may have
    changed" (a notification missed while disconnected, too many ids)."""

    outbox: bool
    crises: frozenset[str] | None

    @classmethod
    def everything(cls) -> Change:
        """Look at everything again (after a reconnection: notifications may have been lost)."""
        return cls(outbox=True, crises=None)

    def __bool__(self) -> bool:
        return self.outbox or self.crises is None or bool(self.crises)


def encode(origin: str, changes: Changes) -> str:
    """The NOTIFY payload: who sent it (a process ignores its own) and what changed."""
    ids = sorted(changes.crises)
    crises = ids if len(ids) <= MAX_IDS else None
    return json.dumps({"from": origin, "outbox": changes.outbox, "crises": crises})


def decode(payload: str, own: str) -> Change | None:
    """The change a payload announces; None when it comes from `own` (this process's store,
    already told in-process). An unreadable payload means "look at everything"."""
    try:
        data = json.loads(payload)
        origin = str(data["from"])
        crises = data["crises"]
        change = Change(
            outbox=bool(data["outbox"]),
            crises=None if crises is None else frozenset(str(c) for c in crises),
        )
    except (ValueError, KeyError, TypeError):
        return Change.everything()
    return None if origin == own else change


class CommitHooks:
    """The in-process listeners of a store's commits (thread-safe: units of work also commit
    in worker threads). A listener must not raise; it must not block either."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[Changes], None]] = []
        self._lock = threading.Lock()

    def add(self, listener: Callable[[Changes], None]) -> None:
        """Call `listener` after every commit that changed something."""
        with self._lock:
            self._listeners.append(listener)

    def remove(self, listener: Callable[[Changes], None]) -> None:
        """Stop calling `listener` (no effect if it was not added)."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def committed(self, changes: Changes) -> None:
        """A unit of work committed these changes."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(changes)
