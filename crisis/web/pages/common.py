"""What the dashboard's page families share: the checked POST, the unknown-crisis page, the
redirect back to the board with its French confirmation, the T0 typed in a form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from crisis.accounts import Action, WebUser, can
from crisis.bootstrap import App
from crisis.web.access import PageAccess, Visitor, page_response
from crisis.web.binding import bind, page_access
from crisis.web.session import SessionCodec

__all__ = [
    "DONE_MESSAGES",
    "Posted",
    "acting",
    "back",
    "local_t0",
    "not_found",
    "page_family",
    "reading",
    "timezone",
]

DONE_MESSAGES = {
    "approbation": "Message approuvé : il part dès maintenant.",
    "note": "Note ajoutée à la main courante.",
    "cloture": "Événement clos : l'alerte publique est retirée.",
    "cip": "Ordre de la préfète ou du préfet enregistré pour la CIP.",
    "presse": "Réponse à la sollicitation presse enregistrée.",
    "redaction": "Rédaction enregistrée : elle attend la validation d'une autre personne.",
    "deja": "Activation déjà enregistrée : c'est cet événement (même référence SYNERGI, même "
    "type, même temps 0, mêmes communes). Aucun doublon n'a été créé.",
    "t0": "Temps 0 rectifié : la conformité compte désormais depuis le temps 0 rectifié.",
}

Posted = tuple[PageAccess, Visitor, WebUser, dict[str, str]]


async def acting(request: Request, action: Action) -> Posted:
    """A POST: logged in (else to the login page), CSRF token right, role allowed; the
    application's checks, the visitor, the account and the form's text fields."""
    access = page_access(request)
    who, user, form = await access.poster(request, lambda u: can(u.role, action), action.label)
    return access, who, user, {k: v for k, v in form.items() if isinstance(v, str)}


def reading(request: Request) -> tuple[PageAccess, Visitor]:
    """A GET: logged in (else to the login page) and allowed to read; the application's
    checks and the visitor."""
    access = page_access(request)
    who, _user = access.reader(request)
    return access, who


def page_family(router: APIRouter) -> Callable[[App, SessionCodec], APIRouter]:
    """A page family's routes, as the function that binds them to one application."""

    def bound(app: App, codec: SessionCodec) -> APIRouter:
        return bind(router, access=PageAccess(app, codec))

    return bound


def timezone(app: App) -> ZoneInfo:
    """The prefecture's time zone, in which every page shows and reads times."""
    return app.settings.prefecture.zone


def not_found(access: PageAccess, who: Visitor, crisis_id: str) -> Response:
    """The 404 page of an unknown crisis."""
    context = {
        **access.common(who),
        "title": "Événement inconnu",
        "message": f"aucun événement « {crisis_id} »",
    }
    return page_response("erreur.html", context, 404)


def back(crisis_id: str, done: str) -> Response:
    """To the board, with the confirmation of what was `done`."""
    return RedirectResponse(f"/crises/{crisis_id}?{urlencode({'fait': done})}", status_code=303)


def local_t0(day: str, at: str, tz: ZoneInfo) -> datetime:
    """T0 from the form's local date and time (French error if unreadable)."""
    try:
        value = datetime.combine(date.fromisoformat(day.strip()), time.fromisoformat(at.strip()))
    except ValueError:
        raise ValueError(
            "date ou heure du temps 0 illisible (date JJ/MM/AAAA et heure HH:MM attendues)"
        ) from None
    return value.replace(tzinfo=tz)
