"""Signed acknowledgement links: tokens that cannot be forged, links added only where asked."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote

import pytest

from channels.ack_link import ACK_PATH, AckLinkChannel, AckLinkSigner
from channels.base import ChannelName, OutgoingMessage, Receipt, Recipient

SECRET = b"0123456789abcdef0123456789abcdef"
BASE = "https://crise.example.fr"


def _message(ask: bool, html: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key="EV-1|vivier|p-1|email|1",
        channel=ChannelName.EMAIL,
        recipient=Recipient(contact_id="p-1", address="presse@example.fr", display_name="P"),
        subject="Crue",
        body="Message de la préfecture.",
        html=html,
        valid_until=datetime(2026, 11, 23, 5, tzinfo=UTC),
        ask_acknowledgement=ask,
        crisis_id="EV-1",
        step_id="vivier",
    )


class _Recorder:
    name = ChannelName.EMAIL

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    async def send(self, message: OutgoingMessage) -> Receipt:
        self.sent.append(message)
        return Receipt(provider_id="r-1")

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        return None


def test_token_round_trip():
    """A link's token gives back the outbox key it was made for."""
    signer = AckLinkSigner(secret=SECRET, base_url=BASE)
    key = "EV-1|rappel|a-7|sms|1"
    assert signer.key_of(signer.token(key)) == key
    assert signer.url(key).startswith(f"{BASE}{ACK_PATH}/")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # another signature
        lambda t: "RVYtMnxyYXBwZWx8YS03fHNtc3wx" + t[t.index(".") :],  # another key, same mac
        lambda t: t.split(".")[0],  # no signature
        lambda t: "%%%." + t.split(".")[1],  # not base64
        lambda t: "",
    ],
)
def test_forged_tokens_are_refused(tamper):
    """A damaged or forged token names no message."""
    signer = AckLinkSigner(secret=SECRET, base_url=BASE)
    assert signer.key_of(tamper(signer.token("EV-1|rappel|a-7|sms|1"))) is None


def test_another_secret_does_not_verify():
    """A token signed by another installation is refused."""
    mine = AckLinkSigner(secret=SECRET, base_url=BASE)
    theirs = AckLinkSigner(secret=b"another-secret-of-32-bytes-long!", base_url=BASE)
    assert mine.key_of(theirs.token("k")) is None


def test_short_secret_is_refused():
    """A secret too short to sign anything safely is a configuration error."""
    with pytest.raises(ValueError, match="16 octets"):
        AckLinkSigner(secret=b"court", base_url=BASE)


async def test_link_added_only_when_an_acknowledgement_is_asked():
    """Messages asking for an acknowledgement carry the link, in text and HTML; others do not."""
    inner = _Recorder()
    signer = AckLinkSigner(secret=SECRET, base_url=BASE)
    channel = AckLinkChannel(inner, signer)
    await channel.send(_message(ask=True, html="<p>Message</p>"))
    await channel.send(_message(ask=False, html="<p>Message</p>"))
    asked, plain = inner.sent
    url = signer.url(asked.idempotency_key)
    assert asked.body.endswith(f"Pour confirmer la réception : {url}")
    assert asked.html is not None and f'href="{url}"' in asked.html
    token = unquote(url.rsplit("/", 1)[1])
    assert signer.key_of(token) == asked.idempotency_key
    assert plain.body == "Message de la préfecture." and plain.html == "<p>Message</p>"
    assert channel.name == ChannelName.EMAIL
