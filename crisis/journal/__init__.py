"""The main courante: hash-chained entries, their French wording, the chain check, and the one
read of a journal that compliance and the reports share (all pure).

- `crisis.journal.chain`: sealing entries and verifying a stored chain;
- `crisis.journal.wording`: one French sentence per fact;
- `crisis.journal.view`: `read(entries, now)`, the T0 and the published outcomes.
"""

from __future__ import annotations

from crisis.journal.chain import (
    FACT_ADAPTER,
    GENESIS,
    StoredEntry,
    canonical,
    chain,
    entry_hash,
    parse_fact,
    verify,
)
from crisis.journal.view import (
    PUBLISHED,
    JournalView,
    current_t0,
    declared_t0,
    is_published,
    read,
)
from crisis.journal.wording import OUTCOME_LABELS, as_shown, describe, shown

__all__ = [
    "FACT_ADAPTER",
    "GENESIS",
    "OUTCOME_LABELS",
    "PUBLISHED",
    "JournalView",
    "StoredEntry",
    "as_shown",
    "canonical",
    "chain",
    "current_t0",
    "declared_t0",
    "describe",
    "entry_hash",
    "is_published",
    "parse_fact",
    "read",
    "shown",
    "verify",
]
