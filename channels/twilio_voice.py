"""Voice calls through Twilio's Calls API: Twilio fetches what to say from our webhook, detects
answering machines (message left after the beep) and reports the call's outcome."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from channels.base import ChannelName, OutgoingMessage, Receipt
from channels.errors import ChannelConfigError
from channels.twilio_channel import TwilioChannel
from channels.twilio_common import TwilioSettings, webhook_url
from channels.twilio_errors import check_recipient, stale_message
from contacts.phone import is_e164

__all__ = ["TwilioVoiceChannel"]

MANUAL = "appeler à la main"
LOOKUP_PAGE = 50  # most recent calls to the number examined by a look-up (one request)
# Wait for the end of a voicemail greeting (the beep) before fetching the TwiML, so that a
# message left on an answering machine is heard from its beginning.
MACHINE_DETECTION = "DetectMessageEnd"


class TwilioVoiceChannel(TwilioChannel):
    """Places one call per message; the message is spoken by the /webhooks/twilio/voice TwiML."""

    name = ChannelName.VOICE
    manual = MANUAL

    def require(self, settings: TwilioSettings) -> None:
        """The caller id: the prefecture's number."""
        if not settings.voice_from:
            raise ChannelConfigError(
                "twilio.voice_from manquant : numéro de la préfecture présenté lors des appels"
            )
        self.voice_from: str = settings.voice_from

    def call_params(self, message: OutgoingMessage) -> dict[str, Any]:
        """The Calls.create arguments for one message (SDK names)."""
        key = message.idempotency_key
        return {
            "to": message.recipient.address,
            "from_": self.voice_from,
            "url": webhook_url(self._base, "voice", key),
            "method": "POST",
            # StatusCallbackEvent left out: Twilio then reports exactly `completed` (the final
            # status, busy/no-answer/failed included), and Prism cannot read a one-item array
            "status_callback": webhook_url(self._base, "status", key),
            "status_callback_method": "POST",
            "machine_detection": MACHINE_DETECTION,
            "timeout": self.settings.ring_timeout_s,
        }

    async def send(self, message: OutgoingMessage) -> Receipt:
        """Calls.create_async; DeliveryFailed with a French reason on any refusal."""
        check_recipient(message.recipient.address, manual=MANUAL)
        if message.valid_until is not None and message.valid_until <= self.clock.now():
            raise stale_message()
        params = self.call_params(message)
        return await self._create(self._client.calls, params, message.idempotency_key)

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        """A call placed to this number from our number within the voice look-up window.

        Twilio keeps nothing of our key on a call, so any recent outbound call to the number
        that this process did not issue for another message counts as this message's call.
        """
        address = message.recipient.address
        if not is_e164(address):
            return None  # send() refuses such an address before any request
        since = self.clock.now() - timedelta(seconds=self.settings.voice_lookup_window_s)
        key = message.idempotency_key
        # One page of the newest calls to the number from ours. No StartTime filter: a queued
        # call (1 call/s per account) has no start time yet.
        found = await self._first(
            self._client.calls.page_async(to=address, from_=self.voice_from, page_size=LOOKUP_PAGE),
            lambda call: self._ours_since(call, key, since),
        )
        return None if found is None else Receipt(provider_id=str(found.sid), status="sent")
