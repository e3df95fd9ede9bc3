"""Twilio webhooks: what a call says, call and SMS statuses, "tapez 1", SMS replies; all signed.

Every route checks X-Twilio-Signature against the URL Twilio was given (the public base URL,
not the address this process listens on: a reverse proxy sits in between). Form bodies carry
phone numbers: they are never logged, and neither are the outbox keys of the query strings.

The handlers call the Orchestrator directly on the event loop rather than in a thread pool:
`receive` flushes the dispatcher's in-memory results and wakes its asyncio events, which are
not thread-safe, and the dispatcher calls the same methods from this loop. Each handler runs
one or two short transactions (milliseconds), well within Twilio's 15 s timeout. Status
callbacks, the storm of a large alert, go through the orchestrator's group commit: those that
arrive together are written in one transaction, and each is answered once it is durable (a
5xx when its batch could not be written: Twilio sends it again, nothing of it was kept).
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Request, Response

from channels.base import ChannelName
from channels.twilio_callbacks import (
    DEFAULT_VOICE,
    LANGUAGE,
    gather_event,
    gather_twiml,
    reply_acknowledgement,
    signature_valid,
    sms_reply_twiml,
    status_channel,
    status_event,
    voice_twiml,
)
from contacts.model import CELL_ROLES
from crisis.service import Orchestrator
from crisis.service.receipts import Outcome, Receipt

log = logging.getLogger(__name__)

VOICE_PATH = "/webhooks/twilio/voice"
GATHER_PATH = "/webhooks/twilio/gather"
STATUS_PATH = "/webhooks/twilio/status"
SMS_PATH = "/webhooks/twilio/sms"

MAX_BODY = 64 * 1024  # Twilio's callbacks are a few kB; anything larger is not from Twilio
XML = "application/xml"
UNAVAILABLE_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    f'<Say language="{LANGUAGE}" voice="{DEFAULT_VOICE}">Message indisponible. Au revoir.</Say>'
    "<Hangup /></Response>"
)
NOT_RECORDED = "Rappel non enregistré pour l'instant : renvoyez-le."


_CALLBACK_OF = {ChannelName.VOICE: "d'appel", ChannelName.SMS: "de SMS"}
_ROW_OF = {ChannelName.VOICE: "un appel", ChannelName.SMS: "un SMS"}


class _BodyTooLarge(Exception):
    """The request body exceeds MAX_BODY."""


async def _form(request: Request) -> dict[str, str]:
    """The url-encoded form Twilio posts, read with a size limit (last value of a repeated key)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return {}
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY:
            raise _BodyTooLarge
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def webhook_router(
    orchestrator: Orchestrator, *, auth_token: str | None, public_base_url: str
) -> APIRouter:
    """The Twilio routes, bound to the orchestrator, the account's auth token and public URL."""
    hooks = TwilioWebhooks(orchestrator, auth_token=auth_token, public_base_url=public_base_url)
    router = APIRouter(include_in_schema=False)
    router.add_api_route(VOICE_PATH, hooks.voice, methods=["POST"])
    router.add_api_route(GATHER_PATH, hooks.gather, methods=["POST"])
    router.add_api_route(STATUS_PATH, hooks.status, methods=["POST"])
    router.add_api_route(SMS_PATH, hooks.sms, methods=["POST"])
    return router


class TwilioWebhooks:
    """The handlers of Twilio's callbacks (the auth token is kept out of any repr)."""

    def __init__(
        self, orchestrator: Orchestrator, *, auth_token: str | None, public_base_url: str
    ) -> None:
        self.orchestrator = orchestrator
        self._auth_token = auth_token
        self.base = public_base_url.rstrip("/")

    def __repr__(self) -> str:
        return f"TwilioWebhooks(public_base_url={self.base!r})"

    async def voice(self, request: Request, k: str = "") -> Response:
        """What the call says: the message, then "tapez 1" for a human when asked."""
        params = await self._checked(request, k)
        if isinstance(params, Response):
            return params
        message = self.orchestrator.outbox_message(k)
        if message is None or message.channel != ChannelName.VOICE:
            log.warning("appel vocal : clé d'envoi inconnue, message d'indisponibilité joué")
            return Response(UNAVAILABLE_TWIML, media_type=XML)
        twiml = voice_twiml(
            message.body,
            answered_by=params.get("AnsweredBy"),
            gather_url=f"{self.base}{GATHER_PATH}?k={quote(k, safe='')}",
            ask_acknowledgement=message.ask_acknowledgement,
            ask_eta=message.role in CELL_ROLES,
        )
        return Response(twiml, media_type=XML)

    async def gather(self, request: Request, k: str = "") -> Response:
        """The keys pressed after the message: "1" acknowledges."""
        params = await self._checked(request, k)
        if isinstance(params, Response):
            return params
        event = gather_event(k, params)
        refused = await self._wrong_kind(request, k, ChannelName.VOICE)
        if refused is not None:
            return refused
        acknowledged = event is not None and self.orchestrator.outbox_message(k) is not None
        if event is not None and acknowledged:
            await self.orchestrator.receive(event)
        return Response(gather_twiml(acknowledged), media_type=XML)

    async def status(self, request: Request, k: str = "") -> Response:
        """A call's or an SMS's status: delivered, failed, no answer... Answered once its
        receipt is written (in a group commit with the others arriving meanwhile)."""
        params = await self._checked(request, k)
        if isinstance(params, Response):
            return params
        channel = status_channel(params)
        if channel is None:
            return Response(status_code=204)
        receipt = Receipt(channel=channel, key=k, report=status_event(channel, k, params))
        if not k and receipt.report is None:
            return Response(status_code=204)  # no row named, no final word: nothing to do
        try:
            verdict = await self.orchestrator.receipts.submit(receipt)
        except Exception:  # nothing of its batch was kept: Twilio sends it again on a 5xx
            log.exception("rappel de statut Twilio non enregistré (Twilio le renverra)")
            return Response(NOT_RECORDED, status_code=503, media_type="text/plain")
        if verdict.outcome == Outcome.WRONG_KIND and verdict.row_channel is not None:
            return self._refused_kind(request, k, channel, verdict.row_channel)
        return Response(status_code=204)

    async def sms(self, request: Request) -> Response:
        """An SMS received: "1", "OK", "reçu" acknowledge the latest message sent to that number."""
        params = await self._checked(request, None)
        if isinstance(params, Response):
            return params
        sender = params.get("From", "")
        acknowledged = False
        reply = reply_acknowledgement(params.get("Body", ""))
        if sender and reply is not None:
            acknowledged = await self.orchestrator.acknowledge_reply(
                ChannelName.SMS, sender, eta_minutes=reply.eta_minutes
            )
            if not acknowledged:
                log.info("SMS reçu : aucun message en attente de confirmation pour ce numéro")
        return Response(sms_reply_twiml(acknowledged), media_type=XML)

    async def _wrong_kind(
        self, request: Request, key: str, channel: ChannelName
    ) -> Response | None:
        """400, journaled, when a signed callback speaks of another kind of send than its key's
        row (an SMS status on a call): it must never mark that row delivered."""
        message = self.orchestrator.outbox_message(key) if key else None
        if message is None or message.channel == channel:
            return None
        return self._refused_kind(request, key, channel, message.channel)

    def _refused_kind(
        self, request: Request, key: str, channel: ChannelName, row_channel: ChannelName
    ) -> Response:
        """The refusal of a callback of `channel` on a row of `row_channel`, journaled."""
        path = request.url.path
        reason = f"rappel {_CALLBACK_OF[channel]} pour {_ROW_OF.get(row_channel, 'un envoi')}"
        self.orchestrator.callback_refused(key, path, reason, why="rappel d'un autre type d'envoi")
        log.warning("rappel Twilio refusé sur %s : %s", path, reason)
        return Response(
            "Rappel refusé : il ne correspond pas au type d'envoi.",
            status_code=400,
            media_type="text/plain",
        )

    async def _checked(self, request: Request, key: str | None) -> dict[str, str] | Response:
        """The form if the signature holds, else the refusal (journaled in the key's crisis)."""
        path = request.url.path
        try:
            params = await _form(request)
        except _BodyTooLarge:
            log.warning("rappel Twilio refusé sur %s : corps trop volumineux", path)
            return Response("Requête trop volumineuse.", status_code=413, media_type="text/plain")
        signature = request.headers.get("x-twilio-signature", "")
        query = request.url.query
        url = f"{self.base}{path}" + (f"?{query}" if query else "")  # the URL Twilio signed
        if self._auth_token is None:
            reason = "jeton d'authentification Twilio non configuré"
        elif not signature:
            reason = "signature absente"
        elif not signature_valid(self._auth_token, url, params, signature):
            reason = "signature incorrecte"
        else:
            return params
        crisis_id = self.orchestrator.callback_refused(key, path, reason)
        log.warning(
            "rappel Twilio refusé sur %s : %s (événement : %s)", path, reason, crisis_id or "aucun"
        )
        return Response("Signature Twilio invalide.", status_code=403, media_type="text/plain")
