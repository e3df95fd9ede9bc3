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


def ack_link_router(
    orchestrator: Orchestrator, signer: AckLinkSigner, prefecture: str
) -> APIRouter:
    """GET and POST {ACK_PATH}/{token}."""
    router = APIRouter()

    def resolve(token: str) -> LinkStatus | HTMLResponse:
        key = signer.key_of(token)
        status = None if key is None else orchestrator.link_status(key)
        if status is None:
            log.warning("lien d'accusé de réception invalide ou altéré refusé")
            return _page(
                "Lien invalide",
                "<p>Ce lien de confirmation est invalide ou incomplet. Vérifiez qu'il a été "
                "copié en entier, ou répondez par le moyen indiqué dans le message.</p>",
                prefecture,
                404,
            )
        return status

    def settled(status: LinkStatus) -> HTMLResponse | None:
        if status.acknowledged:
            return _page(
                "Réception déjà confirmée",
                "<p>Votre confirmation est déjà enregistrée. Merci.</p>",
                prefecture,
            )
        if status.closed:
            return _page(
                "Événement clos",
                "<p>Cet événement est clos : aucune confirmation n'est plus attendue.</p>",
                prefecture,
            )
        return None

    @router.get(ACK_PATH + "/{token}", response_class=HTMLResponse)
    async def show(token: str) -> HTMLResponse:
        status = resolve(token)
        if isinstance(status, HTMLResponse):
            return status
        done = settled(status)
        if done is not None:
            return done
        subject = status.message.subject or "Message de la préfecture"
        body = (
            f"<p>Message : <strong>{escape(subject)}</strong></p>"
            f'<form method="post">{_eta_field(status)}'
            '<button type="submit">Je confirme la réception</button></form>'
        )
        return _page("Confirmer la réception", body, prefecture)

    @router.post(ACK_PATH + "/{token}", response_class=HTMLResponse)
    async def confirm(token: str, request: Request) -> HTMLResponse:
        status = resolve(token)
        if isinstance(status, HTMLResponse):
            return status
        done = settled(status)
        if done is not None:
            return done
        form = await request.form()
        raw = str(form.get("eta") or "")
        eta = int(raw) if raw.isdigit() and int(raw) in ETA_CHOICES else None
        message = status.message
        await orchestrator.receive(
            AcknowledgementReport(
                channel=message.channel,
                provider_id="",
                idempotency_key=message.idempotency_key,
                eta_minutes=eta if message.role in CELL_ROLES else None,
            )
        )
        after = orchestrator.link_status(message.idempotency_key)
        if after is None or not after.acknowledged:
            return _page(
                "Confirmation non enregistrée",
                "<p>La confirmation n'a pas pu être enregistrée (événement clos ou destinataire "
                "retiré). Prévenez la préfecture par téléphone.</p>",
                prefecture,
                409,
            )
        return _page(
            "Réception confirmée",
            "<p>Votre confirmation est enregistrée dans la main courante. Merci.</p>",
            prefecture,
        )

    return router
