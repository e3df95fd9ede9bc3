"""Channels: the protocol every means of communication implements, and the shipped fakes."""

from channels.base import Channel, InboundEvent, InboundSink, OutgoingMessage, Receipt, Recipient
from channels.errors import DeliveryFailed

__all__ = [
    "Channel",
    "DeliveryFailed",
    "InboundEvent",
    "InboundSink",
    "OutgoingMessage",
    "Receipt",
    "Recipient",
]
