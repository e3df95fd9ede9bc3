"""The unit of work's operations, one repository per area, composed into `Tx`.

Each area has its own module and class: crises (with steps, acknowledgements, the CIP and
erasure) in `crises.py`, the main courante in `journal.py`, the outbox in `outbox.py` (and
providers' receipts in bulk in `receipts.py`), the directory in `directory.py`, web accounts in
`accounts.py`. `Tx` is the one object a transaction yields, and it inherits them all.

Why mixins and not attributes (`tx.crises.crisis(...)`, `tx.journal.append(...)`): sixteen
modules outside the store call the flat names today (`tx.crisis`, `tx.journal(crisis_id)`,
`tx.enqueue`...), and `tx.journal` is already the journal's read, so a `.journal` attribute
could not sit beside it. Mixins keep every call site as it is, while each area lives, is read
and is tested on its own; the repositories share nothing but the session (and the row
conversions of `rows.py`), so no mixin calls another. The narrow views callers should depend
on are the Protocols of `crisis/store/unit.py`, which the in-memory unit of work
(`crisis/store/memory.py`) also satisfies.
"""

from __future__ import annotations

from datetime import tzinfo
from zoneinfo import ZoneInfo

from sqlmodel import Session

from crisis.store.accounts import AccountsTx
from crisis.store.changes import Changes
from crisis.store.crises import ERASED, CrisesTx, ScrubbedContact
from crisis.store.directory import DirectoryTx
from crisis.store.errors import CrisisNotFound, DuplicateKey
from crisis.store.journal import JournalTx
from crisis.store.outbox import ENQUEUE_CHUNK, OutboxTx
from crisis.store.receipts import ReceiptsTx
from crisis.store.rows import utc
from crisis.timefmt import DEFAULT_ZONE

__all__ = [
    "ENQUEUE_CHUNK",
    "ERASED",
    "CrisisNotFound",
    "DuplicateKey",
    "ScrubbedContact",
    "Tx",
    "utc",
]


class Tx(CrisesTx, JournalTx, OutboxTx, ReceiptsTx, DirectoryTx, AccountsTx):
    """Operations inside one transaction (see Store.transaction)."""

    def __init__(
        self, session: Session, *, lock_rows: bool, timezone: tzinfo | None = None
    ) -> None:
        self.session = session
        self.lock_rows = lock_rows
        # the prefecture's zone: journal sentences give local time with it (and UTC)
        self.timezone = timezone or ZoneInfo(DEFAULT_ZONE)
        self.changes = Changes()  # what a running service must look at once this commits
