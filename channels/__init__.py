"""Channels: the protocol every means of communication implements, and the shipped fakes."""

from channels.base import (
    Channel,
    DeliveryFailed,
    InboundEvent,
    InboundSink,
    OutgoingMessage,
    Receipt,
    Recipient,
)

__all__ = [
    "Channel",
    "DeliveryFailed",
    "InboundEvent",
    "InboundSink",
    "OutgoingMessage",
    "Receipt",
    "Recipient",
]
