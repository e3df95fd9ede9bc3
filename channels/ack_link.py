"""Signed one-time web links to acknowledge a message ("Je confirme la réception").

The link carries the outbox key, signed with HMAC-SHA256: whoever holds the link may confirm
that one message, nothing else. Opening the link (GET) only shows the confirmation page, since
mail scanners open links on their own; the confirmation is the page's button (POST). "One-time"
is the engine's rule: a contact's first acknowledgement is the fact, later ones change nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass, field
from urllib.parse import quote

from markupsafe import escape

from channels.base import Channel, ChannelName, OutgoingMessage, Receipt

__all__ = ["ACK_PATH", "AckLinkChannel", "AckLinkSigner"]

ACK_PATH = "/accuse"
_MAC_BYTES = 16  # 128 bits: far beyond guessing, short enough for an SMS
_CONTEXT = b"crisis-ack-link:v1:"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class AckLinkSigner:
    """Makes and checks the links; `base_url` is the orchestrator's public address."""

    secret: bytes = field(repr=False)
    base_url: str

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise ValueError(
                "secret des liens d'accusé de réception trop court (16 octets minimum)"
            )

    def _mac(self, key: str) -> bytes:
        return hmac.new(self.secret, _CONTEXT + key.encode(), hashlib.sha256).digest()[:_MAC_BYTES]

    def token(self, key: str) -> str:
        """The link's token for one outbox key."""
        return f"{_b64(key.encode())}.{_b64(self._mac(key))}"

    def url(self, key: str) -> str:
        """The link itself."""
        return f"{self.base_url.rstrip('/')}{ACK_PATH}/{quote(self.token(key), safe='')}"

    def key_of(self, token: str) -> str | None:
        """The outbox key a token was made for, or None when it is forged or damaged."""
        encoded, _, mac = token.partition(".")
        try:
            key = _unb64(encoded).decode()
            given = _unb64(mac)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return key if hmac.compare_digest(given, self._mac(key)) else None


class AckLinkChannel:
    """Adds the confirmation link to messages that ask for an acknowledgement, then sends them
    through the wrapped channel."""

    def __init__(self, inner: Channel, signer: AckLinkSigner) -> None:
        self.inner = inner
        self.signer = signer
        self.name: ChannelName = inner.name

    def __repr__(self) -> str:
        return f"AckLinkChannel({self.inner!r})"

    def with_link(self, message: OutgoingMessage) -> OutgoingMessage:
        """The message as sent: unchanged unless it asks for an acknowledgement."""
        if not message.ask_acknowledgement:
            return message
        url = self.signer.url(message.idempotency_key)
        body = f"{message.body}\n\nPour confirmer la réception : {url}"
        html = message.html
        if html is not None:
            html += f'\n<p><a href="{escape(url)}">Je confirme la réception de ce message</a></p>'
        return message.model_copy(update={"body": body, "html": html})

    async def send(self, message: OutgoingMessage) -> Receipt:
        return await self.inner.send(self.with_link(message))

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        return await self.inner.lookup(self.with_link(message))
