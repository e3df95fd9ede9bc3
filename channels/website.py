"""The State services' website: public alert page, homepage banner, Atom and CAP 1.2 feeds.

Two ways to publish, either or both: static files written into `output_dir` (served by the
prefecture's web server), and a signed JSON POST to the CMS's webhook. Every message becomes a
CAP alert: the first of a crisis is an Alert, later ones Updates referencing the earlier ones,
and `withdraw` publishes the Cancel (fin d'alerte).
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from channels.base import ChannelName, OutgoingMessage, Receipt, TimeSource
from channels.cap import (
    CapAlert,
    CapReference,
    MsgType,
    build_cap_alert,
    cap_datetime,
    cap_event_label,
    cap_file_name,
    cap_identifier,
    validate_cap,
)
from channels.errors import ChannelConfigError, DeliveryFailed
from channels.website_cms import BY_HAND, HMAC_SECRET_ENV, CmsWebhook
from channels.website_files import StateFile, write_public, writing_in
from channels.website_pages import (
    END_OF_ALERT,
    CrisisRecord,
    PageContext,
    PublishedItem,
    WebsiteState,
    render_alert_page,
    render_atom_feed,
    render_banner,
    render_cap_feed,
)
from channels.website_settings import WebsiteCredentials, WebsiteSettings, check_website

__all__ = [
    "HMAC_SECRET_ENV",
    "CrisisContext",
    "WebsiteChannel",
    "WebsiteCredentials",
    "WebsiteSettings",
    "check_website",
]


@dataclass(frozen=True)
class CrisisContext:
    """What the orchestrator tells the channel about a crisis: its kind and the area concerned."""

    event_kind: str = ""  # playbooks EventKind value, e.g. "inondation"
    event_label: str | None = None  # French label; default from the kind
    categories: tuple[str, ...] = ()  # CAP categories of the kind; default from the kind
    area_desc: str | None = None  # e.g. "Communes de Roanne et de Montbrison"
    insee_codes: tuple[str, ...] = ()
    title: str | None = None  # heading of the crisis on the alert page


def _aware(when: datetime | None) -> datetime | None:
    # the outbox stores aware datetimes; a naive one can only be UTC
    if when is None or when.tzinfo is not None:
        return when
    return when.replace(tzinfo=UTC)


class WebsiteChannel:
    """Publishes on the State services' website and its CAP 1.2 feed (files and/or CMS)."""

    name = ChannelName.WEBSITE

    def __init__(
        self,
        settings: WebsiteSettings,
        credentials: WebsiteCredentials,
        clock: TimeSource,
        *,
        http: httpx.AsyncClient | None = None,
        crisis_context: Callable[[str], CrisisContext | None] | None = None,
    ) -> None:
        if settings.cms_webhook_url is not None and not credentials.hmac_secret:
            raise ChannelConfigError(
                f"site internet : la variable d'environnement {HMAC_SECRET_ENV} est requise "
                "quand [website] cms_webhook_url est configuré"
            )
        self.settings = settings
        self.clock = clock
        self._cms: CmsWebhook | None = None
        if settings.cms_webhook_url is not None and credentials.hmac_secret:
            self._cms = CmsWebhook(
                settings.cms_webhook_url,
                credentials.hmac_secret,
                clock,
                timeout_s=settings.timeout_s,
                http=http,
            )
        self._crisis_context = crisis_context
        self._tz = ZoneInfo(settings.timezone)
        self._lock = asyncio.Lock()
        self._state = StateFile(settings.state_path)
        self._pages = PageContext(
            prefecture_name=settings.prefecture_name,
            public_url=settings.public_url,
            files_url=settings.files_url,
            timezone=self._tz,
            feed_entries=settings.feed_entries,
        )

    # -- the Channel protocol -------------------------------------------------------------

    async def send(self, message: OutgoingMessage) -> Receipt:
        """Publish the message (page, banner, feeds, CAP alert; CMS), once per idempotency key."""
        async with self._lock:
            state = await self._state.load(ambiguous=False)
            found = state.find(message.idempotency_key)
            if found is None:
                crisis = self._crisis_for(state, message)
                item = self._alert_item(crisis, message)
                crisis.items.append(item)
                await self._persist(state, [item])
            else:
                crisis, item = found
            if item.cms == "pending":
                await self._post_to_cms(crisis, item)
                await self._mark_cms_done(state, item)
            return Receipt(provider_id=item.identifier)

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        """Answer from state.json; ask the CMS (GET {webhook}/{key}) when only it can know."""
        async with self._lock:
            state = await self._state.load(ambiguous=True)
            found = state.find(message.idempotency_key)
            if found is not None and found[1].cms != "pending":
                return Receipt(provider_id=found[1].identifier)
            if found is None and self.settings.state_path is not None:
                # state.json is written before any CMS call: absent means never published
                return None
            assert self._cms is not None  # no state file means no output_dir, hence a CMS
            if not await self._cms.has(message.idempotency_key):
                return None
            if found is not None:
                await self._mark_cms_done(state, found[1])
            identifier = cap_identifier(self.settings.prefecture_code, message.idempotency_key)
            return Receipt(provider_id=identifier)

    # -- fin d'alerte ------------------------------------------------------------------------

    async def withdraw(self, crisis_id: str, reason: str) -> None:
        """Publish the CAP Cancel of a crisis and take it off the page and the banner.

        `reason` is public: it is shown on the alert page and in the CAP alert. Calling it again
        only finishes a CMS post that failed; a crisis never published is left alone.
        """
        async with self._lock:
            state = await self._state.load(ambiguous=False)
            crisis = state.crises.get(crisis_id)
            if crisis is None:
                return
            if crisis.open:
                if not crisis.current():
                    return
                item = self._cancel_item(crisis, reason)
                crisis.items.append(item)
                crisis.open = False
                crisis.withdrawn_at = item.sent
                crisis.withdraw_reason = reason
                await self._persist(state, [item])
            else:
                cancels = [i for i in crisis.items if i.msg_type == "Cancel"]
                if not cancels:
                    return
                item = cancels[-1]
            if item.cms == "pending":
                await self._post_to_cms(crisis, item)
                await self._mark_cms_done(state, item)

    async def aclose(self) -> None:
        """Close the HTTP client if the channel made it."""
        if self._cms is not None:
            await self._cms.aclose()

    # -- building alerts ---------------------------------------------------------------------

    def _crisis_for(self, state: WebsiteState, message: OutgoingMessage) -> CrisisRecord:
        crisis_id = message.crisis_id or "sans-identifiant"
        crisis = state.crises.get(crisis_id)
        if crisis is None:
            crisis = CrisisRecord(crisis_id=crisis_id, exercise=message.exercise)
            state.crises[crisis_id] = crisis
        elif not crisis.open:  # published again after a fin d'alerte: a new chain of alerts
            crisis.chain += 1
            crisis.open = True
            crisis.withdrawn_at = None
            crisis.withdraw_reason = None
        context = self._crisis_context(crisis_id) if self._crisis_context else None
        if context is not None:
            crisis.event_kind = context.event_kind or crisis.event_kind
            crisis.event_label = context.event_label or cap_event_label(crisis.event_kind)
            crisis.categories = list(context.categories) or crisis.categories
            crisis.area_desc = context.area_desc or crisis.area_desc
            crisis.insee_codes = list(context.insee_codes) or crisis.insee_codes
            crisis.title = context.title or crisis.title
        crisis.event_label = crisis.event_label or cap_event_label(crisis.event_kind)
        crisis.area_desc = crisis.area_desc or self.settings.area_desc
        crisis.exercise = crisis.exercise or message.exercise
        return crisis

    def _cap(self, crisis: CrisisRecord, **fields: Any) -> tuple[str, bytes]:
        s = self.settings
        alert = CapAlert(
            sender=s.cap_sender,
            sent=self.clock.now(),
            sender_name=s.prefecture_name,
            references=tuple(
                CapReference(s.cap_sender, i.identifier, i.sent) for i in crisis.current()
            ),
            incident=crisis.crisis_id,
            event_kind=crisis.event_kind,
            event=crisis.event_label,
            categories=tuple(crisis.categories),
            web=s.public_url,
            area_desc=crisis.area_desc,
            geocodes=tuple(crisis.insee_codes),
            timezone=s.timezone,
            **fields,
        )
        xml = build_cap_alert(alert)
        if validate_cap(xml):
            # a bug, not a provider failure: never publish a document other systems reject
            raise DeliveryFailed(
                "site internet : l'alerte CAP produite n'est pas conforme au schéma CAP 1.2, "
                f"rien n'a été publié ; {BY_HAND}",
                retryable=False,
            )
        return cap_datetime(alert.sent, self._tz), xml

    def _alert_item(self, crisis: CrisisRecord, message: OutgoingMessage) -> PublishedItem:
        s = self.settings
        identifier = cap_identifier(s.prefecture_code, message.idempotency_key)
        expires = _aware(message.valid_until)
        msg_type: MsgType = "Update" if crisis.current() else "Alert"
        sent, xml = self._cap(
            crisis,
            identifier=identifier,
            headline=message.subject or crisis.title or crisis.event_label,
            description=message.body,
            msg_type=msg_type,
            exercise=message.exercise,
            urgency=s.urgency,
            severity=s.severity,
            certainty=s.certainty,
            expires=expires,
        )
        return PublishedItem(
            key=message.idempotency_key,
            identifier=identifier,
            sent=sent,
            msg_type=msg_type,
            subject=message.subject,
            body=message.body,
            exercise=message.exercise,
            valid_until=None if expires is None else cap_datetime(expires, self._tz),
            chain=crisis.chain,
            cms=None if s.cms_webhook_url is None else "pending",
            cap=xml.decode("utf-8"),
        )

    def _cancel_item(self, crisis: CrisisRecord, reason: str) -> PublishedItem:
        s = self.settings
        key = f"withdraw:{crisis.crisis_id}:{crisis.chain}"
        identifier = cap_identifier(s.prefecture_code, key)
        sent, xml = self._cap(
            crisis,
            identifier=identifier,
            headline=END_OF_ALERT,
            description=reason,
            msg_type="Cancel",
            exercise=crisis.exercise,
            urgency="Past",
            severity="Minor",
            certainty="Observed",
            response_types=("AllClear",),
        )
        return PublishedItem(
            key=key,
            identifier=identifier,
            sent=sent,
            msg_type="Cancel",
            subject=END_OF_ALERT,
            body=reason,
            exercise=crisis.exercise,
            chain=crisis.chain,
            cms=None if s.cms_webhook_url is None else "pending",
            cap=xml.decode("utf-8"),
        )

    # -- state and files ---------------------------------------------------------------------

    async def _persist(self, state: WebsiteState, new_items: list[PublishedItem]) -> None:
        """Write the CAP files and pages, then state.json last: it is the commit point."""
        if self.settings.output_dir is not None:
            now = self.clock.now()
            await asyncio.to_thread(self._write_files, state, new_items, now)
        for item in new_items:
            if item.cms is None:
                item.cap = ""  # written in cap/, no CMS to re-post it to: keep state.json small
        await self._state.save(state)

    async def _mark_cms_done(self, state: WebsiteState, item: PublishedItem) -> None:
        item.cms = "done"
        item.cap = ""
        try:
            await self._state.save(state)
        except DeliveryFailed:
            # the CMS has the message; the state still says "pending", so a later lookup asks
            # the CMS again instead of believing it was never published
            return

    def _write_files(
        self, state: WebsiteState, new_items: list[PublishedItem], now: datetime
    ) -> None:
        out = self.settings.output_dir
        assert out is not None
        with writing_in(out):
            if not out.is_dir():
                raise FileNotFoundError(errno.ENOENT, "missing", str(out))
            (out / "cap").mkdir(exist_ok=True)
            for item in new_items:
                path = out / "cap" / cap_file_name(item.identifier)
                write_public(path, item.cap.encode("utf-8"))
            pages = {
                "alerte.html": render_alert_page(state, self._pages, now),
                "bandeau.html": render_banner(state, self._pages),
                "atom.xml": render_atom_feed(state, self._pages),
                "cap.xml": render_cap_feed(state, self._pages),
            }
            for name, text in pages.items():
                write_public(out / name, text.encode("utf-8"))

    # -- the CMS webhook ---------------------------------------------------------------------

    async def _post_to_cms(self, crisis: CrisisRecord, item: PublishedItem) -> None:
        assert self._cms is not None
        earlier = [i.identifier for i in crisis.items if i.chain == item.chain]
        payload = {
            "idempotency_key": item.key,
            "crisis_id": crisis.crisis_id,
            "identifier": item.identifier,
            "msg_type": item.msg_type,
            "status": "Exercise" if item.exercise else "Actual",
            "exercise": item.exercise,
            "sent": item.sent,
            "expires": item.valid_until,
            "event": crisis.event_label,
            "area": crisis.area_desc,
            "headline": item.subject,
            "body": item.body,
            "web": self.settings.public_url,
            "references": earlier[: earlier.index(item.identifier)],
            "cap": item.cap,
        }
        await self._cms.publish(payload, item.key)
