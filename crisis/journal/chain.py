"""The hash chain of the main courante: sealing new entries and checking a stored chain (pure)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from pydantic import TypeAdapter

from crisis.journal.wording import describe
from crisis.model import Actor, Fact, JournalEntry

__all__ = [
    "FACT_ADAPTER",
    "GENESIS",
    "StoredEntry",
    "canonical",
    "chain",
    "entry_hash",
    "parse_fact",
    "verify",
]

GENESIS = "0" * 64
FACT_ADAPTER: TypeAdapter[Fact] = TypeAdapter(Fact)


def canonical(crisis_id: str, seq: int, at: datetime, actor: Actor, data: Any, text: str) -> bytes:
    """The bytes an entry's hash covers."""
    doc = {
        "crisis_id": crisis_id,
        "seq": seq,
        "at": at.isoformat(),
        "actor": actor.name,
        "interface": actor.interface.value,
        "fact": data,
        "text": text,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(prev_hash: str, payload: bytes) -> str:
    """sha256 over the previous hash and this entry's canonical bytes."""
    return hashlib.sha256(prev_hash.encode() + payload).hexdigest()


def chain(
    crisis_id: str,
    head_seq: int,
    head_hash: str,
    items: Iterable[tuple[Fact, Actor]],
    at: datetime,
    *,
    tz: tzinfo,
) -> list[JournalEntry]:
    """New entries following the head of a crisis's chain; times worded in `tz`."""
    entries: list[JournalEntry] = []
    seq, prev = head_seq, head_hash
    for fact, actor in items:
        seq += 1
        text = describe(fact, tz)
        data = fact.model_dump(mode="json")
        digest = entry_hash(prev, canonical(crisis_id, seq, at, actor, data, text))
        entries.append(
            JournalEntry(
                crisis_id=crisis_id,
                seq=seq,
                at=at,
                actor=actor,
                fact=fact,
                text=text,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    return entries


@dataclass(frozen=True)
class StoredEntry:
    """An entry as read back from storage, before any trust is put in it."""

    seq: int
    at: datetime
    actor: Actor
    data: dict[str, Any]
    text: str
    prev_hash: str
    hash: str


def verify(
    crisis_id: str, stored: Sequence[StoredEntry], head_seq: int, head_hash: str
) -> list[str]:
    """Problems in a crisis's chain (French), empty when intact: edits, removals, reordering."""
    problems: list[str] = []
    prev = GENESIS
    for expected_seq, entry in enumerate(stored, start=1):
        if entry.seq != expected_seq:
            problems.append(f"entrée n° {expected_seq} manquante (trouvé n° {entry.seq})")
            break
        if entry.prev_hash != prev:
            problems.append(f"entrée n° {entry.seq} : chaînage rompu avec l'entrée précédente")
        recomputed = entry_hash(
            entry.prev_hash,
            canonical(crisis_id, entry.seq, entry.at, entry.actor, entry.data, entry.text),
        )
        if recomputed != entry.hash:
            problems.append(f"entrée n° {entry.seq} : contenu modifié après enregistrement")
        prev = entry.hash
    if not problems:
        last_seq = stored[-1].seq if stored else 0
        if last_seq != head_seq or prev != (head_hash or GENESIS):
            problems.append(
                f"fin de la main courante altérée : {head_seq} entrées attendues, "
                f"{last_seq} trouvées"
            )
    return problems


def parse_fact(data: dict[str, Any]) -> Fact:
    """A fact from its stored JSON."""
    return FACT_ADAPTER.validate_python(data)
