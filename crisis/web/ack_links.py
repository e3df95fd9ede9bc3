"""The signed one-time acknowledgement links: a page to confirm reception of a message.

GET shows the page (mail scanners open links by themselves: opening confirms nothing); the
button POSTs the confirmation, with the arrival delay for members of the cell. A forged or
damaged link gets a 404 page; a message already confirmed, or a closed event, says so.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import escape

from channels.ack_link import ACK_PATH, AckLinkSigner
from channels.base import AcknowledgementReport
from contacts.model import CELL_ROLES
from crisis.service import LinkStatus, Orchestrator

log = logging.getLogger(__name__)

ETA_CHOICES = (15, 30, 45, 60, 90, 120)
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the address: never pass it on
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}


def _page(title: str, body: str, prefecture: str, status_code: int = 200) -> HTMLResponse:
    """A whole page; `body` is HTML built here, with every outside value escaped."""
    html = f"""<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} — {escape(prefecture)}</title>
<style>body{{font-family:Marianne,Arial,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;
color:#161616}}header{{border-bottom:2px solid #000091;margin-bottom:1.5rem}}
button{{background:#000091;color:#fff;border:0;padding:.75rem 1.5rem;font-size:1rem}}
select{{font-size:1rem;padding:.4rem}}</style></head>
<body><header><p><strong>RÉPUBLIQUE FRANÇAISE</strong><br>{escape(prefecture)}</p></header>
<main><h1>{escape(title)}</h1>{body}</main></body></html>"""
    return HTMLResponse(html, status_code=status_code, headers=_HEADERS)


def _eta_field(status: LinkStatus) -> str:
    if status.message.role not in CELL_ROLES:
        return ""
    options = "".join(f'<option value="{m}">dans {m} min</option>' for m in ETA_CHOICES)
    return (
        '<p><label for="eta">Si vous rejoignez la cellule, votre délai d\'arrivée :</label><br>'
        f'<select id="eta" name="eta"><option value="">non précisé</option>{options}</select></p>'
    )


_INVALID = (
    "<p>Ce lien de confirmation est invalide ou incomplet. Vérifiez qu'il a été "
    "copié en entier, ou répondez par le moyen indiqué dans le message.</p>"
)
_NOT_RECORDED = (
    "<p>La confirmation n'a pas pu être enregistrée (événement clos ou destinataire "
    "retiré). Prévenez la préfecture par téléphone.</p>"
)


def _eta(raw: str) -> int | None:
    """The arrival delay chosen in the form, when it is one of the offered choices."""
    return int(raw) if raw.isdigit() and int(raw) in ETA_CHOICES else None


class AckLinkPages:
    """The handlers of the acknowledgement links, bound to the orchestrator and the signer."""

    def __init__(self, orchestrator: Orchestrator, signer: AckLinkSigner, prefecture: str) -> None:
        self.orchestrator = orchestrator
        self.signer = signer
        self.prefecture = prefecture

    def __repr__(self) -> str:
        return f"AckLinkPages(prefecture={self.prefecture!r})"

    async def show(self, token: str) -> HTMLResponse:
        """GET: the page asking to confirm (opening it confirms nothing)."""
        status = self._open(token)
        if isinstance(status, HTMLResponse):
            return status
        subject = status.message.subject or "Message de la préfecture"
        body = (
            f"<p>Message : <strong>{escape(subject)}</strong></p>"
            f'<form method="post">{_eta_field(status)}'
            '<button type="submit">Je confirme la réception</button></form>'
        )
        return _page("Confirmer la réception", body, self.prefecture)

    async def confirm(self, token: str, request: Request) -> HTMLResponse:
        """POST: the confirmation, with the arrival delay for members of the cell."""
        status = self._open(token)
        if isinstance(status, HTMLResponse):
            return status
        form = await request.form()
        eta = _eta(str(form.get("eta") or ""))
        message = status.message
        await self.orchestrator.receive(
            AcknowledgementReport(
                channel=message.channel,
                provider_id="",
                idempotency_key=message.idempotency_key,
                eta_minutes=eta if message.role in CELL_ROLES else None,
            )
        )
        after = self.orchestrator.link_status(message.idempotency_key)
        if after is None or not after.acknowledged:
            return _page("Confirmation non enregistrée", _NOT_RECORDED, self.prefecture, 409)
        return _page(
            "Réception confirmée",
            "<p>Votre confirmation est enregistrée dans la main courante. Merci.</p>",
            self.prefecture,
        )

    def _open(self, token: str) -> LinkStatus | HTMLResponse:
        """The link's status while it can still be confirmed, else the page saying why."""
        key = self.signer.key_of(token)
        status = None if key is None else self.orchestrator.link_status(key)
        if status is None:
            log.warning("lien d'accusé de réception invalide ou altéré refusé")
            return _page("Lien invalide", _INVALID, self.prefecture, 404)
        if status.acknowledged:
            return _page(
                "Réception déjà confirmée",
                "<p>Votre confirmation est déjà enregistrée. Merci.</p>",
                self.prefecture,
            )
        if status.closed:
            return _page(
                "Événement clos",
                "<p>Cet événement est clos : aucune confirmation n'est plus attendue.</p>",
                self.prefecture,
            )
        return status


def ack_link_router(
    orchestrator: Orchestrator, signer: AckLinkSigner, prefecture: str
) -> APIRouter:
    """GET and POST {ACK_PATH}/{token}."""
    pages = AckLinkPages(orchestrator, signer, prefecture)
    router = APIRouter()
    path = ACK_PATH + "/{token}"
    router.add_api_route(path, pages.show, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route(path, pages.confirm, methods=["POST"], response_class=HTMLResponse)
    return router
