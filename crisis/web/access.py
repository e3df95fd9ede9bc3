"""Who is asking the dashboard, and whether they may: sessions, CSRF, role checks, the
security headers and content security policies every page answers with, the French page
renderer, and the dashboard's stand-in when no session secret is configured."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from crisis.accounts import Action, WebUser, can
from crisis.bootstrap import App, wall_clock
from crisis.queries import sessions
from crisis.rendering import render_page
from crisis.web.session import Session, SessionCodec

STATIC_DIR = Path(__file__).resolve().parent / "static"
LOGIN_PATH = "/connexion"
WALL = wall_clock()  # exercises run on their own clock and report in wall time
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)
# the reports' HTML carries its own inline style and an inline SVG: no script, nothing fetched
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "frame-ancestors 'none'; form-action 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Denied(Exception):
    """A request refused before its action: the response to send instead."""

    def __init__(self, response: Response) -> None:
        super().__init__("refusé")
        self.response = response


@dataclass(frozen=True)
class Visitor:
    """Who is asking: their session and, when logged in, their account."""

    session: Session
    user: WebUser | None
    fresh: bool  # the session was just created: its cookie must be set


def guarded(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a Denied raised by the checks into its response."""

    @functools.wraps(handler)
    async def run(*args: Any, **kwargs: Any) -> Response:
        try:
            result: Response = await handler(*args, **kwargs)
        except Denied as denied:
            return denied.response
        return result

    return run


DISABLED_MESSAGE = (
    "Tableau de bord indisponible : renseignez « web.public_base_url » et la variable "
    "d'environnement CRISIS_WEB_SECRET (32 caractères au moins) pour signer les sessions."
)
_disabled = APIRouter(include_in_schema=False)


@_disabled.api_route("/", methods=["GET", "POST"])
@_disabled.api_route(LOGIN_PATH, methods=["GET", "POST"])
@_disabled.api_route("/crises", methods=["GET", "POST"])
@_disabled.api_route("/crises/{rest:path}", methods=["GET", "POST"])
@_disabled.api_route("/rapports", methods=["GET", "POST"])
@_disabled.api_route("/rapports/{rest:path}", methods=["GET", "POST"])
@_disabled.api_route("/annuaire", methods=["GET", "POST"])
@_disabled.api_route("/annuaire/{rest:path}", methods=["GET", "POST"])
@_disabled.api_route("/exercices", methods=["GET", "POST"])
@_disabled.api_route("/exercices/{rest:path}", methods=["GET", "POST"])
async def disabled(request: Request) -> Response:
    """Every dashboard page, while no session secret is configured: 503 in French."""
    return page_response("erreur.html", {"title": "Indisponible", "message": DISABLED_MESSAGE}, 503)


def disabled_router() -> APIRouter:
    """The dashboard's stand-in when no session secret is configured."""
    return _disabled


def page_response(name: str, context: Mapping[str, Any], status: int = 200) -> HTMLResponse:
    base: dict[str, Any] = {
        "title": "Orchestrateur de crise",
        "prefecture": "",
        "user": None,
        "csrf": "",
        "can": {},
        "exercise": False,
    }
    return HTMLResponse(
        render_page(name, {**base, **context}), status_code=status, headers=SECURITY_HEADERS
    )


class PageAccess:
    """Who is asking, and whether they may: the dashboard's rules (crisis/web/pages/)."""

    def __init__(self, app: App, codec: SessionCodec) -> None:
        self.app = app
        self.codec = codec

    def visitor(self, request: Request) -> Visitor:
        """The session (new if absent or invalid) and its account when logged in and valid:
        a reset, role change, disabled account or logout ends the session."""
        now = self.app.clock.now()
        session = self.codec.decode(request.cookies.get(self.codec.cookie_name), now)
        if session is None:
            return Visitor(Session.anonymous(now), None, fresh=True)
        if session.login is None:
            return Visitor(session, None, fresh=False)
        account = sessions.session_account(self.app.store, session.login, session.sid)
        user = account.user
        if (
            user is None
            or user.disabled
            or user.updated_at.isoformat() != session.stamp
            or account.revoked
        ):
            return Visitor(Session.anonymous(now), None, fresh=True)
        return Visitor(session, user, fresh=False)

    def with_cookie(self, response: Response, session: Session) -> Response:
        """The response, carrying this session's cookie."""
        response.set_cookie(
            self.codec.cookie_name,
            self.codec.encode(session),
            httponly=True,
            secure=self.codec.secure,
            samesite="strict",
            path="/",
        )
        return response

    def respond(self, who: Visitor, response: Response) -> Response:
        """The response, with the session's cookie when the session is new."""
        return self.with_cookie(response, who.session) if who.fresh else response

    def common(self, who: Visitor) -> dict[str, Any]:
        """What every page's base template needs."""
        user = who.user
        return {
            "user": user,
            "csrf": who.session.csrf,
            "prefecture": self.app.settings.prefecture.name,
            "can": {a.value: user is not None and can(user.role, a) for a in Action},
        }

    def page(self, who: Visitor, name: str, context: dict[str, Any], status: int = 200) -> Response:
        """A dashboard page (security headers set) for this visitor."""
        return self.respond(who, page_response(name, {**self.common(who), **context}, status))

    def error(self, who: Visitor, title: str, message: str, status: int) -> Response:
        """The French error page."""
        return self.page(who, "erreur.html", {"title": title, "message": message}, status)

    def forbidden(self, who: Visitor, message: str) -> Denied:
        """A 403 with a French page."""
        return Denied(self.error(who, "Accès refusé", message, 403))

    def reader(self, request: Request, *, fragment: bool = False) -> tuple[Visitor, WebUser]:
        """The logged-in account allowed to read, else the login page (401 for the page's
        script, `fragment`), or 403."""
        who = self.visitor(request)
        if who.user is None:
            if fragment:
                raise Denied(Response("session expirée", status_code=401))
            raise Denied(self.respond(who, RedirectResponse(LOGIN_PATH, status_code=303)))
        if not can(who.user.role, Action.READ):
            raise self.forbidden(who, f"le rôle {who.user.role.label} ne permet pas de consulter")
        return who, who.user

    async def poster(
        self, request: Request, allowed: Callable[[WebUser], bool], what: str
    ) -> tuple[Visitor, WebUser, FormData]:
        """A POST (urlencoded or multipart): logged in, CSRF token right, then `allowed`.

        `what` completes « le rôle … ne permet pas de … » in the refusal.
        """
        who = self.visitor(request)
        try:
            form = await request.form()
        except (ValueError, KeyError, AssertionError):
            form = FormData()
        if who.user is None:
            raise Denied(self.respond(who, RedirectResponse(LOGIN_PATH, status_code=303)))
        token = form.get("csrf")
        if not who.session.csrf_ok(token if isinstance(token, str) else None):
            raise self.forbidden(
                who,
                "jeton de formulaire absent ou invalide : rechargez la page puis recommencez",
            )
        if not allowed(who.user):
            raise self.forbidden(who, f"le rôle {who.user.role.label} ne permet pas de {what}")
        return who, who.user, form


async def text_form(request: Request) -> dict[str, str]:
    """The urlencoded form's text fields (files ignored)."""
    try:
        data = await request.form()
    except (ValueError, KeyError, AssertionError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)}
