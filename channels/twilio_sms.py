"""SMS through Twilio's Messages API, with a validity period that never outlives the message."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from channels.base import ChannelName, OutgoingMessage, Receipt
from channels.errors import ChannelConfigError, DeliveryFailed
from channels.sms_text import fold_to_gsm
from channels.twilio_channel import TwilioChannel
from channels.twilio_common import TwilioSettings, webhook_url
from channels.twilio_errors import check_recipient, stale_message
from contacts.phone import is_e164

__all__ = ["ACK_PROMPT", "TwilioSmsChannel"]

ACK_PROMPT = "Répondez 1 pour confirmer la réception."
MANUAL = "envoyer les SMS à la main ou appeler"
MAX_BODY = 1600  # characters Twilio accepts in one Message (error 21617 beyond)
MAX_VALIDITY_S = 36_000  # Twilio's ValidityPeriod range is 1..36000 seconds
LOOKUP_PAGE = 100  # most recent messages to the number examined by a look-up (one request)


def _same_text(a: str, b: str) -> bool:
    """Equal once folded to GSM-7 and whitespace-normalised (a Messaging Service's smart
    encoding may have replaced typographic characters)."""
    return " ".join(fold_to_gsm(a).split()) == " ".join(fold_to_gsm(b).split())


class TwilioSmsChannel(TwilioChannel):
    """Sends one SMS per message; asks for "1" in reply only when replies can reach us."""

    name = ChannelName.SMS
    max_body = MAX_BODY
    manual = MANUAL

    def require(self, settings: TwilioSettings) -> None:
        """A sender: an alphanumeric id or a Messaging Service."""
        if not settings.sms_sender and not settings.messaging_service_sid:
            raise ChannelConfigError(
                "twilio : sms_sender ou messaging_service_sid requis pour envoyer des SMS"
            )

    @property
    def replies_possible(self) -> bool:
        """An alphanumeric sender cannot receive replies; a Messaging Service number can."""
        return self.settings.messaging_service_sid is not None

    def body_of(self, message: OutgoingMessage) -> str:
        """The text actually sent: the body, plus the reply prompt when one is asked for."""
        body = message.body.rstrip()
        if message.ask_acknowledgement and self.replies_possible and ACK_PROMPT not in body:
            body = f"{body}\n{ACK_PROMPT}" if body else ACK_PROMPT
        return body

    def validity_period(self, valid_until: datetime | None) -> int | None:
        """Seconds the SMS may wait in Twilio's queue (None: Twilio's default); stale raises."""
        if valid_until is None:
            return None
        seconds = math.floor((valid_until - self.clock.now()).total_seconds())
        if seconds < 1:
            raise stale_message()
        return min(seconds, MAX_VALIDITY_S)

    async def send(self, message: OutgoingMessage) -> Receipt:
        """Messages.create_async; DeliveryFailed with a French reason on any refusal."""
        check_recipient(message.recipient.address, manual=MANUAL)
        body = self.body_of(message)
        if not body:
            raise DeliveryFailed("message vide : rien à envoyer", retryable=False)
        if len(body) > MAX_BODY:
            raise DeliveryFailed(
                f"SMS trop long ({len(body)} caractères, {MAX_BODY} au plus) : le raccourcir",
                retryable=False,
            )
        params: dict[str, Any] = {
            "to": message.recipient.address,
            "body": body,
            "status_callback": webhook_url(self._base, "status", message.idempotency_key),
        }
        if self.settings.messaging_service_sid:
            params["messaging_service_sid"] = self.settings.messaging_service_sid
        else:
            params["from_"] = self.settings.sms_sender
        validity = self.validity_period(message.valid_until)
        if validity is not None:
            params["validity_period"] = validity
        return await self._create(self._client.messages, params, message.idempotency_key)

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        """The SMS with this text sent to this number recently, or None if Twilio has none."""
        address = message.recipient.address
        if not is_e164(address):
            return None  # send() refuses such an address before any request
        body = self.body_of(message)
        since = self.clock.now() - timedelta(seconds=self.settings.sms_lookup_window_s)
        key = message.idempotency_key

        def matches(sms: Any) -> bool:
            return self._ours_since(sms, key, since) and _same_text(str(sms.body or ""), body)

        # One page of the newest messages to the number. No DateSent filter: a queued message
        # has no date_sent yet.
        found = await self._first(
            self._client.messages.page_async(to=address, page_size=LOOKUP_PAGE), matches
        )
        if found is None:
            return None
        status = "delivered" if found.status == "delivered" else "sent"
        return Receipt(provider_id=str(found.sid), status=status)
