"""The channel protocol: what the dispatcher hands a channel and what it gets back."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

# ChannelName and its sets are defined by the catalog; re-exported from their former home
from channels.catalog import CHANNEL_LABELS, PUBLIC_CHANNELS, SOCIAL_CHANNELS, ChannelName
from channels.errors import ChannelConfigError, DeliveryFailed  # re-exported

__all__ = [
    "CHANNEL_LABELS",
    "PUBLIC_CHANNELS",
    "SOCIAL_CHANNELS",
    "AcknowledgementReport",
    "Channel",
    "ChannelConfigError",
    "ChannelName",
    "DeliveryFailed",
    "DeliveryReport",
    "InboundEvent",
    "InboundSink",
    "OutgoingMessage",
    "Receipt",
    "Recipient",
    "TimeSource",
    "is_loopback_host",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Recipient(_Frozen):
    """Who a message goes to: a directory contact (by id) and the address for this channel."""

    contact_id: str
    address: str  # E.164 number, e-mail address, or the public account/page for public channels
    display_name: str = ""


class OutgoingMessage(_Frozen):
    """One message for one recipient on one channel, as stored in the outbox."""

    idempotency_key: str
    channel: ChannelName
    recipient: Recipient
    subject: str = ""
    body: str
    html: str | None = None
    valid_until: datetime | None = None  # SMS validity_period and expiry of publications
    ask_acknowledgement: bool = False  # voice: "tapez 1"; SMS: "répondez 1"
    crisis_id: str = ""
    step_id: str = ""
    exercise: bool = False


class Receipt(_Frozen):
    """What a provider answered: its own id for the message, needed by reports and callbacks."""

    provider_id: str
    status: Literal["sent", "delivered"] = "sent"


class DeliveryReport(_Frozen):
    """A provider's later word on a message (delivered, undelivered)."""

    kind: Literal["delivery"] = "delivery"
    channel: ChannelName
    provider_id: str
    idempotency_key: str = ""
    delivered: bool
    reason: str = ""


class AcknowledgementReport(_Frozen):
    """A recipient confirmed reception (pressed 1, answered the SMS, clicked the link)."""

    kind: Literal["acknowledgement"] = "acknowledgement"
    channel: ChannelName
    provider_id: str
    idempotency_key: str = ""
    eta_minutes: int | None = None  # the cell's members may say when they arrive


InboundEvent = DeliveryReport | AcknowledgementReport
InboundSink = Callable[[InboundEvent], Awaitable[None]]


class TimeSource(Protocol):
    """The part of the orchestrator's clock that channels may use (simulated delays)."""

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


@runtime_checkable
class Channel(Protocol):
    """A means of communication: sends one message, and can look one up after an ambiguous send."""

    name: ChannelName

    async def send(self, message: OutgoingMessage) -> Receipt:
        """Send the message or raise DeliveryFailed; never returns without a provider id."""
        ...

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        """Find a message the provider may have accepted (reconciliation); None if it has not."""
        ...


def is_loopback_host(host: str | None) -> bool:
    """Whether a URL's host is this machine: the only place plain http is accepted (tests,
    Prism, local fakes); every real provider is reached over https."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
