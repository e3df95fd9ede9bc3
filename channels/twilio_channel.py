"""What the Twilio SMS and voice channels share around the SDK's async client: the client built
for the channel's concurrency, a create and a one-page look-up mapped to DeliveryFailed, the ids
issued by this process, and closing the connections at shutdown."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from channels.base import Receipt, TimeSource
from channels.twilio_common import (
    ClientFactory,
    IssuedSids,
    TwilioCredentials,
    TwilioSettings,
    make_client,
)
from channels.twilio_errors import MAPPED_ERRORS, delivery_failure, lookup_failure
from channels.twilio_http import DEFAULT_CONNECTIONS

__all__ = ["TwilioChannel"]


class TwilioChannel:
    """The base of TwilioSmsChannel and TwilioVoiceChannel. `manual`: what the on-call agent
    does by hand when Twilio refuses the channel itself (in each failure's French reason).

    Every request is one coroutine on the event loop (no worker thread): as many can be in
    flight as the dispatcher allows; the connection pool holds at least `connections`.
    """

    manual: str

    def __init__(
        self,
        settings: TwilioSettings,
        credentials: TwilioCredentials,
        clock: TimeSource,
        *,
        client_factory: ClientFactory | None = None,
        connections: int = DEFAULT_CONNECTIONS,
    ) -> None:
        self.require(settings)
        self.settings = settings
        self.clock = clock
        self._base = settings.require_public_base_url()
        factory = client_factory or (
            lambda: make_client(settings, credentials, connections=connections)
        )
        self._client: Any = factory()
        self._issued = IssuedSids()

    def require(self, settings: TwilioSettings) -> None:
        """Raise ChannelConfigError (French, naming the setting) when `settings` lack what
        this channel needs; called first by the constructor."""

    async def aclose(self) -> None:
        """Close the connections to Twilio, in the event loop that used them (at shutdown);
        a later request opens new ones."""
        await self._client.http_client.close()

    async def _create(self, resource: Any, params: dict[str, Any], key: str) -> Receipt:
        """`resource.create_async(**params)` (Messages or Calls) for the message `key`."""
        try:
            created = await resource.create_async(**params)
        except MAPPED_ERRORS as exc:
            # not chained: Twilio's message quotes the phone number
            raise delivery_failure(exc, manual=self.manual) from None
        sid = str(created.sid)
        self._issued.remember(sid, key)
        return Receipt(provider_id=sid, status="sent")

    async def _first(self, page: Awaitable[Any], matches: Callable[[Any], bool]) -> Any:
        """The first record of one page (`resource.page_async(...)`) that matches, or None;
        DeliveryFailed (the message stays unknown) when Twilio cannot answer."""
        try:
            return next((record for record in await page if matches(record)), None)
        except MAPPED_ERRORS as exc:
            raise lookup_failure(exc) from None

    def _ours_since(self, record: Any, key: str, since: datetime) -> bool:
        """An outbound message or call created since `since` that this process did not issue
        for another message than `key`."""
        return (
            not self._issued.belongs_elsewhere(str(record.sid), key)
            and str(record.direction or "").startswith("outbound")
            and record.date_created is not None
            and record.date_created >= since
        )
