"""Hand-made main courante entries for compliance tests (hashes are dummies, seq from 1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

from channels.base import ChannelName
from contacts.model import Role
from crisis.model import (
    SYSTEM,
    AcknowledgementReceived,
    CipActivated,
    CodActivated,
    DeliveryAttempted,
    Fact,
    JournalEntry,
    MessagesQueued,
    Mode,
    PlannedStepRef,
    RecipientRef,
    StepTriggered,
)
from playbooks.model import Action, Engagement, EventKind, Section

T0 = datetime(2025, 3, 14, 2, 10, tzinfo=UTC)

Outcome = Literal["sent", "retry", "failed", "unknown", "reconciled", "expired", "cancelled"]


def t(minutes: float = 0, seconds: float = 0, *, t0: datetime = T0) -> datetime:
    """T0 + minutes + seconds."""
    return t0 + timedelta(minutes=minutes, seconds=seconds)


def step(
    step_id: str,
    engagement: Engagement,
    minutes: float,
    channels: Sequence[ChannelName] = (ChannelName.VOICE,),
    action: Action = Action.NOTIFY_OFFICIALS,
) -> PlannedStepRef:
    """A step as planned at T0, due T0 + minutes."""
    return PlannedStepRef(
        step_id=step_id,
        title=step_id,
        engagement=engagement,
        action=action,
        due_at=t(minutes),
        channels=tuple(channels),
    )


class JournalBuilder:
    """A crisis journal written line by line: CodActivated first (seq 1), then facts."""

    def __init__(
        self,
        *,
        t0: datetime = T0,
        recorded_at: datetime | None = None,
        kind: EventKind = EventKind.INONDATION,
        communes: Sequence[str] = (),
        quorum: dict[Role, int] | None = None,
        sections: Sequence[Section] = (),
        steps: Sequence[PlannedStepRef] = (),
    ) -> None:
        self.entries: list[JournalEntry] = []
        cod = CodActivated(
            crisis_id="c1",
            kind=kind,
            mode=Mode.EXERCICE,
            t0=t0,
            synergi_ref="SYN-1",
            communes=tuple(communes),
            playbook_title="test",
            playbook_version=1,
            playbook_digest="0" * 64,
            applicable_sections=tuple(sections),
            quorum=dict(quorum or {}),
            steps=tuple(steps),
        )
        self.cod_seq = self.add(cod, recorded_at or t0)

    def add(self, fact: Fact, when: datetime) -> int:
        """Append a fact recorded at `when`; returns its seq."""
        seq = len(self.entries) + 1
        self.entries.append(
            JournalEntry(
                crisis_id="c1",
                seq=seq,
                at=when,
                actor=SYSTEM,
                fact=fact,
                text=fact.type,
                prev_hash=f"h{seq - 1}",
                hash=f"h{seq}",
            )
        )
        return seq

    def ack(
        self,
        when: datetime,
        contact_id: str,
        role: Role | None,
        *,
        commune: str | None = None,
        trained: bool = True,
    ) -> int:
        """Someone pressed 1."""
        fact = AcknowledgementReceived(
            contact_id=contact_id,
            role=role,
            commune=commune,
            trained=trained,
            channel=ChannelName.VOICE,
            outbox_key=None,
            step_id=None,
        )
        return self.add(fact, when)

    def triggered(self, when: datetime, planned: PlannedStepRef) -> int:
        """A planned step started."""
        fact = StepTriggered(
            step_id=planned.step_id,
            title=planned.title,
            engagement=planned.engagement,
            action=planned.action,
            due_at=planned.due_at,
        )
        return self.add(fact, when)

    def queued(
        self,
        when: datetime,
        step_id: str,
        engagement: Engagement,
        channel: ChannelName,
        recipients: Sequence[RecipientRef] = (),
        sections: Sequence[Section] = (),
    ) -> int:
        """A step's messages for one channel went to the outbox."""
        fact = MessagesQueued(
            step_id=step_id,
            engagement=engagement,
            channel=channel,
            message_version=1,
            sections=tuple(sections),
            recipients=tuple(recipients),
        )
        return self.add(fact, when)

    def attempt(
        self,
        when: datetime,
        step_id: str,
        engagement: Engagement,
        channel: ChannelName,
        *,
        outbox_key: str | None = None,
        contact_id: str = "public",
        commune: str | None = None,
        outcome: Outcome = "sent",
    ) -> int:
        """One delivery attempt and its outcome."""
        fact = DeliveryAttempted(
            outbox_key=outbox_key or f"{step_id}:{channel}:{contact_id}",
            step_id=step_id,
            engagement=engagement,
            channel=channel,
            contact_id=contact_id,
            commune=commune,
            attempt=1,
            outcome=outcome,
        )
        return self.add(fact, when)

    def cip(self, when: datetime) -> int:
        """The préfet ordered the CIP (T0 CIP)."""
        return self.add(CipActivated(number="+33199000001"), when)


def official(commune: str, contact_id: str, role: Role = Role.MAIRE) -> RecipientRef:
    """A 48.1 recipient, keyed by contact."""
    return RecipientRef(
        outbox_key=f"k-{contact_id}", contact_id=contact_id, role=role, commune=commune
    )
