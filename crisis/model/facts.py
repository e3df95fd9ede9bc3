"""Facts of the plan and its messages: past tense, frozen, stored in the main courante."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from channels.base import ChannelName
from contacts.model import Role
from crisis.model.crisis import DraftTexts, Mode
from crisis.model.frozen import Frozen
from crisis.model.intents import SendMessage
from playbooks.model import Action, Engagement, EventKind, Section


class RecipientRef(Frozen):
    """A recipient as the journal names it: by contact id, never by number or address."""

    outbox_key: str
    contact_id: str
    role: Role | None = None
    commune: str | None = None
    attempt: int = 1  # escalation: the n-th call to this person in this step


class PlannedStepRef(Frozen):
    """A planned step as recorded at T0."""

    step_id: str
    title: str
    engagement: Engagement
    action: Action
    due_at: datetime
    channels: tuple[ChannelName, ...]
    escalates: bool = False  # calls again until reached: done only when the chain ends


class CodActivated(Frozen):
    """T0: the COD activation recorded, with everything the compliance check needs."""

    type: Literal["CodActivated"] = "CodActivated"
    crisis_id: str
    kind: EventKind
    mode: Mode
    t0: datetime
    synergi_ref: str
    communes: tuple[str, ...]
    commune_names: dict[str, str] = Field(default_factory=dict)  # code INSEE -> nom, at T0
    area: str = ""  # the area as the agent gave it (codes, arr:, epci:, dep), resolved above
    playbook_title: str
    playbook_version: int
    playbook_digest: str
    applicable_sections: tuple[Section, ...]
    quorum: dict[Role, int]
    steps: tuple[PlannedStepRef, ...]


class StepTriggered(Frozen):
    """A step started: its messages are queued (or it has nothing to send)."""

    type: Literal["StepTriggered"] = "StepTriggered"
    step_id: str
    title: str
    engagement: Engagement
    action: Action
    due_at: datetime
    late_seconds: float = 0.0  # > 0: the step ran late (e.g. after a restart); never silent
    held_seconds: float = 0.0  # time spent waiting for an approval, a dependency or a number


class MessagesQueued(Frozen):
    """Messages of a step written to the outbox for one channel."""

    type: Literal["MessagesQueued"] = "MessagesQueued"
    step_id: str
    engagement: Engagement
    channel: ChannelName
    message_version: int
    sections: tuple[Section, ...]  # content sections the message covers (48.5)
    recipients: tuple[RecipientRef, ...]
    escalation: bool = False  # the next calls of a chain, not the step's first sends


class ChainEnded(Frozen):
    """An escalation chain stopped without reaching anybody: "non joint", with every attempt."""

    type: Literal["ChainEnded"] = "ChainEnded"
    step_id: str
    engagement: Engagement
    group: str  # "commune:42218", "role:agent_astreinte", "cellule"
    commune: str | None = None
    label: str = ""  # French: "commune de Montbrison", "agent d'astreinte", "cellule"
    reason: str
    attempts: tuple[RecipientRef, ...]  # every call made, in order


class StepHeld(Frozen):
    """A step is due but waits (approval, dependency, CIAV number)."""

    type: Literal["StepHeld"] = "StepHeld"
    step_id: str
    reason: str


class StepSkipped(Frozen):
    """A step fell due when its purpose was already achieved (the reminder to propose the CIP
    once the préfet ordered it): done without acting, journaled « sans objet », never missed."""

    type: Literal["StepSkipped"] = "StepSkipped"
    step_id: str
    title: str
    engagement: Engagement
    action: Action
    due_at: datetime
    reason: str  # French: "la CIP est déjà activée sur ordre du préfet"
    since: datetime | None = None  # when the purpose was achieved (T0 CIP)


class ApprovalRequested(Frozen):
    """A message awaits a human approval (four-eyes)."""

    type: Literal["ApprovalRequested"] = "ApprovalRequested"
    step_id: str
    drafted_by: str


class MessageDrafted(Frozen):
    """Someone wrote (or rewrote) a message awaiting approval: its sources, kept so that the
    audit and the REX show what was approved. Public texts only, no personal data."""

    type: Literal["MessageDrafted"] = "MessageDrafted"
    step_id: str
    drafted_by: str
    texts: DraftTexts


class MessageApproved(Frozen):
    """A message was approved by someone other than its drafter."""

    type: Literal["MessageApproved"] = "MessageApproved"
    step_id: str
    approved_by: str


class ApprovalRefused(Frozen):
    """An approval was refused (for instance the drafter approving their own message)."""

    type: Literal["ApprovalRefused"] = "ApprovalRefused"
    step_id: str
    by: str
    reason: str


AttemptOutcome = Literal[
    "sent", "retry", "failed", "unknown", "reconciled", "expired", "cancelled", "manual"
]


class DeliveryAttempted(Frozen):
    """One attempt to send one message, and its outcome."""

    type: Literal["DeliveryAttempted"] = "DeliveryAttempted"
    outbox_key: str
    step_id: str
    engagement: Engagement
    channel: ChannelName
    contact_id: str
    commune: str | None = None
    role: Role | None = None
    attempt: int
    outcome: AttemptOutcome
    provider_id: str | None = None
    reason: str = ""

    @classmethod
    def of(
        cls,
        message: SendMessage,
        *,
        attempt: int,
        outcome: AttemptOutcome,
        provider_id: str | None = None,
        reason: str = "",
    ) -> DeliveryAttempted:
        """The attempt fact for an outbox message (recipient named by id only)."""
        return cls(
            outbox_key=message.idempotency_key,
            step_id=message.step_id,
            engagement=message.engagement,
            channel=message.channel,
            contact_id=message.contact_id,
            commune=message.commune,
            role=message.role,
            attempt=attempt,
            outcome=outcome,
            provider_id=provider_id,
            reason=reason,
        )


class DeliveryReported(Frozen):
    """A provider's receipt for a message sent earlier."""

    type: Literal["DeliveryReported"] = "DeliveryReported"
    outbox_key: str
    channel: ChannelName
    contact_id: str
    delivered: bool
    provider_id: str
    reason: str = ""


class AcknowledgementReceived(Frozen):
    """Someone confirmed reception (pressed 1, answered, clicked)."""

    type: Literal["AcknowledgementReceived"] = "AcknowledgementReceived"
    contact_id: str
    role: Role | None
    commune: str | None
    trained: bool
    channel: ChannelName | None
    outbox_key: str | None
    step_id: str | None
    eta_minutes: int | None = None


# These facts in the journal's union (`crisis.model.entry.Fact`), in the order they are declared.
PlanFact = (
    CodActivated
    | StepTriggered
    | MessagesQueued
    | ChainEnded
    | StepHeld
    | StepSkipped
    | ApprovalRequested
    | MessageDrafted
    | MessageApproved
    | ApprovalRefused
    | DeliveryAttempted
    | DeliveryReported
    | AcknowledgementReceived
)
