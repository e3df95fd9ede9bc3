"""A line of the main courante: any fact, when, by whom, chained to the previous line."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from crisis.model.cell_facts import (
    ActivationConfirmed,
    CiavNumberSet,
    CipActivated,
    CipCallEnded,
    CipClosed,
    ComplianceCheckpoint,
    CrisisClosed,
    InjectPlayed,
    LessonsRecorded,
    MediaRequestAnswered,
    MediaRequestAssigned,
    MediaRequestReceived,
    NoteAdded,
    T0Rectified,
    WarningRaised,
)
from crisis.model.crisis import Actor
from crisis.model.facts import (
    AcknowledgementReceived,
    ApprovalRefused,
    ApprovalRequested,
    ChainEnded,
    CodActivated,
    DeliveryAttempted,
    DeliveryReported,
    MessageApproved,
    MessageDrafted,
    MessagesQueued,
    StepHeld,
    StepSkipped,
    StepTriggered,
)
from crisis.model.frozen import Frozen

Fact = Annotated[
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
    | CiavNumberSet
    | CipActivated
    | CipClosed
    | CipCallEnded
    | InjectPlayed
    | MediaRequestReceived
    | MediaRequestAssigned
    | MediaRequestAnswered
    | LessonsRecorded
    | WarningRaised
    | ComplianceCheckpoint
    | NoteAdded
    | ActivationConfirmed
    | T0Rectified
    | CrisisClosed,
    Field(discriminator="type"),
]


class JournalEntry(Frozen):
    """One line of the main courante: a fact, when, by whom, chained to the previous line."""

    crisis_id: str
    seq: int
    at: datetime
    actor: Actor
    fact: Fact
    text: str  # French, for people; never a phone number or an e-mail address
    prev_hash: str
    hash: str
