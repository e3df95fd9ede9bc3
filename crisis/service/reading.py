"""The service's reads: the main courante, the crisis of a CIP number, the CIP's reading sheet."""

from __future__ import annotations

from channels.base import ChannelName
from crisis.journal import is_published
from crisis.model import (
    Crisis,
    DeliveryAttempted,
    JournalEntry,
)
from crisis.service.core import Core


class Reading(Core):
    """What the service reads for its callers: the main courante, the CIP's crisis and sheet."""

    def journal(self, crisis_id: str) -> list[JournalEntry]:
        """The crisis's main courante."""
        with self.store.transaction() as tx:
            return tx.journal(crisis_id)

    def cip_crisis(self, number: str) -> Crisis | None:
        """The open crisis whose CIP answers on this numéro unique (a call coming in)."""
        with self.store.transaction() as tx:
            return tx.open_cip(number)

    def reading_sheet(self, crisis_id: str) -> str:
        """What the CIP agents read out and the line's recorded information says: the latest
        public message sent (approved, or pre-approved by the playbook), its long form when the
        website carried it. Never a draft."""
        with self.store.transaction() as tx:
            crisis = tx.crisis(crisis_id)
            sent = [
                e.fact
                for e in tx.journal(crisis_id, types=["DeliveryAttempted"])
                if isinstance(e.fact, DeliveryAttempted)
                and e.fact.channel.is_public
                and is_published(e.fact)
            ]
            site = [a for a in sent if a.channel == ChannelName.WEBSITE]
            chosen = (site or sent)[-1] if sent else None
            item = tx.outbox_by_key(chosen.outbox_key) if chosen else None
        if item is None:
            return (
                f"{crisis.kind.label.capitalize()} en cours. Les premières informations "
                "officielles seront diffusées dès que possible."
            )
        return item.message.body
