"""Intents: imperative, stored in the outbox, with the states of an outbox row."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from channels.base import ChannelName
from contacts.model import Role
from crisis.model.frozen import Frozen
from playbooks.model import Engagement


class SendMessage(Frozen):
    """Send one message to one recipient on one channel (one outbox row)."""

    idempotency_key: str
    crisis_id: str
    step_id: str
    engagement: Engagement
    channel: ChannelName
    contact_id: str
    address: str
    display_name: str = ""
    role: Role | None = None
    commune: str | None = None
    subject: str = ""
    body: str
    html: str | None = None
    valid_until: datetime | None = None
    ask_acknowledgement: bool = False
    exercise: bool = False  # framed "EXERCICE" and kept to the participants by bootstrap's channels
    message_version: int = 1


class CancelPending(Frozen):
    """Stop queued sends that no longer make sense (commune reached, contact acknowledged)."""

    reason: str
    commune: str | None = None
    engagement: Engagement | None = None
    contact_id: str | None = None


Intent = SendMessage | CancelPending


class OutboxState(StrEnum):
    """Where an outbox row stands."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNKNOWN = "unknown"  # ambiguous: reconcile with the provider before any resend
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class OutboxItem(Frozen):
    """An outbox row as the dispatcher handles it."""

    id: int
    message: SendMessage
    state: OutboxState
    attempts: int
    provider_id: str | None = None


class OutboxUpdate(Frozen):
    """The result of one attempt as written back to its outbox row."""

    outbox_id: int
    state: OutboxState
    reason: str = ""
    provider_id: str | None = None
    retry_at: datetime | None = None  # next attempt, when the row goes back to pending
